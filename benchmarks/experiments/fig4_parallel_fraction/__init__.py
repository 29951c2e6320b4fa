"""The paper's Fig 4: train a share p of trials in parallel; learning speed, parallel error, layer correlations.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.fig4_parallel_fraction.analysis import SCORE, analyze, score
from tradeoff_gym.benchmarks.experiments.fig4_parallel_fraction.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score"]

DESCRIPTION = "Fig 4: parallel-training share p vs learning speed, parallel-execution error, layer correlations"

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "shares": [0.0, 0.9], "horizon": 30, "probe_every": 15},
    "quick": {"seeds": 2, "shares": [0.0, 0.3, 0.6, 0.9], "horizon": 1000, "probe_every": 100},
    "paper": {"seeds": 15, "shares": [round(0.1 * i, 1) for i in range(10)], "horizon": 5000, "probe_every": 250},
}
