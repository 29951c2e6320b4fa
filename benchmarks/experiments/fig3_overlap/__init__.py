"""The paper's Fig 3: frozen representational overlap (0/50/100 %) under serial training.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.fig3_overlap.analysis import SCORE, analyze, score
from tradeoff_gym.benchmarks.experiments.fig3_overlap.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score"]

DESCRIPTION = "Fig 3: frozen task overlap vs learning speed, parallel-execution error, layer correlations"

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "overlaps": [0.0, 1.0], "horizon": 30, "probe_every": 15},
    "quick": {"seeds": 2, "overlaps": [0.0, 0.5, 1.0], "horizon": 1000, "probe_every": 100},
    "paper": {"seeds": 15, "overlaps": [0.0, 0.25, 0.5, 0.75, 1.0], "horizon": 5000, "probe_every": 250},
}
