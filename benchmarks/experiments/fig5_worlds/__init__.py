"""Fig 5 over worlds: agents across serialization costs on several SerialParallel presets at once.

One world's cost sweep can only test an agent near that world's crossover cost c*; the presets put c* at
different places on the cost axis (``tradeoff_gym.envs.serial_parallel.PRESETS``), so agents are compared on several
crossovers in one sweep and ranked across worlds.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.fig5 import AGENTS
from tradeoff_gym.benchmarks.experiments.fig5_worlds.analysis import FIXED_AGENTS, SCORE, analyze, score, score_runs
from tradeoff_gym.benchmarks.experiments.fig5_worlds.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "FIXED_AGENTS", "SCORE", "runs", "analyze", "score", "score_runs"]

DESCRIPTION = "Fig 5 over worlds: reward rate vs hidden cost on every SerialParallel preset, agents ranked"

#: ``presets``: the worlds (SerialParallel presets), each swept over every cost; ``two_phase``: switch points of the
#: two-phase reference schedules, as in fig5.
SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "presets": ["default", "balanced", "sharing"], "costs": [0.0, 1.0], "horizon": 30,
              "agents": ["serial", "parallel", "navigator", "ucb1"], "two_phase": [0.5]},
    "quick": {"seeds": 2, "presets": ["default", "balanced", "sharing"], "costs": [0.0, 0.1, 0.3, 0.5, 0.7, 1.0],
              "horizon": 1500, "agents": ["serial", "parallel", "navigator", "meta-learner", "sagiv", "ucb1"],
              "two_phase": [0.3]},
    "paper": {"seeds": 15, "presets": ["default", "balanced", "sharing"],
              "costs": [round(0.1 * i, 1) for i in range(11)], "horizon": 5000, "agents": AGENTS,
              "two_phase": [0.1, 0.3, 0.5]},
}
