"""The paper's Fig 5B: as fig5, on the noisy-input variant (the paper expects sharing to be worth more there).

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.fig5 import SCALES as FIG5_SCALES
from tradeoff_gym.benchmarks.experiments.fig5_noisy.analysis import FIXED_AGENTS, SCORE, analyze, score
from tradeoff_gym.benchmarks.experiments.fig5_noisy.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "FIXED_AGENTS", "SCORE", "runs", "analyze", "score"]

DESCRIPTION = "Fig 5B: reward rate and serial share vs hidden cost on SerialParallelNoisy, per agent"
SCALES: dict[str, dict[str, Any]] = {scale: dict(settings) for scale, settings in FIG5_SCALES.items()}
