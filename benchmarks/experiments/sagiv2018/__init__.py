"""Sagiv et al. (2018)'s synthetic world: LearningCurves' sagiv2018 preset over cost P and parallel midpoint.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.sagiv2018.analysis import FIXED_AGENTS, SCORE, analyze, score, score_runs
from tradeoff_gym.benchmarks.experiments.sagiv2018.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "FIXED_AGENTS", "SCORE", "runs", "analyze", "score", "score_runs"]

DESCRIPTION = "Sagiv et al. 2018 world (LearningCurves preset): agents across additive cost P × parallel midpoint"
AGENTS = ["serial", "parallel", "oracle", "sagiv", "meta-learner", "ucb1", "gaussian-ts", "random"]

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "costs": [0.1], "parallel_midpoints": [200, 600], "agents": AGENTS},
    "quick": {"seeds": 3, "costs": [0.05, 0.15, 0.3], "parallel_midpoints": [200, 400, 600], "agents": AGENTS},
    "paper": {
        "seeds": 15,
        "costs": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
        "parallel_midpoints": [200, 300, 400, 500, 600],
        "agents": AGENTS,
    },
}
