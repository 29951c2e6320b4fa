"""The paper's Fig 5: agents on the SerialParallel env across serialization costs (c hidden from the agents);
Fig 5A/C on the default world, Fig 5B on the noisy one (``--set preset=noisy``).

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.fig5.analysis import ANALYSIS, FIXED_AGENTS, SCORE, analyze, score, score_runs
from tradeoff_gym.benchmarks.experiments.fig5.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "FIXED_AGENTS", "SCORE", "ANALYSIS", "runs", "analyze", "score", "score_runs"]

DESCRIPTION = "Fig 5: reward rate and serial share vs hidden cost on SerialParallel (any preset), per agent"
AGENTS = [
    "serial", "parallel", "navigator", "meta-learner", "sagiv", "ucb1", "r-ed-ucb", "cure-ucb", "gaussian-ts", "sw-ucb",
    "epsilon-greedy",
]

# ``preset``: the SerialParallel world (tradeoff_gym.envs.serial_parallel.PRESETS; ``--set preset=balanced``).
# ``two_phase``: switch points (fractions of the horizon) of the two-phase schedules serial→parallel and
# parallel→serial, the reference stronger than the best fixed strategy (see benchmarks/analysis.two_phase_item).
SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "costs": [0.0, 1.0], "horizon": 30, "agents": AGENTS, "two_phase": [0.5],
              "preset": "default"},
    # The quick scale samples costs densely around our world's crossover c* (≈ 0.1 at τ = 1500–5000; at τ = 1000
    # parallel leads throughout), with the agents the paper compares, the navigator and the rising bandits. τ = 1500
    # ends before parallel escapes its plateau, so it understates what interleaving costs
    # (docs/findings/fig5-and-worlds.md).
    "quick": {"seeds": 2, "costs": [0.0, 0.05, 0.1, 0.2, 0.5, 1.0], "horizon": 1500,
              "agents": ["serial", "parallel", "navigator", "meta-learner", "sagiv", "ucb1", "cure-ucb", "r-ed-ucb"],
              "two_phase": [0.2, 0.5],
              "preset": "default"},
    # The paper's grid 0, 0.1, …, 1, plus 0.05 and 0.15 around our world's c* ≈ 0.1 (τ = 5000).
    "paper": {"seeds": 15, "costs": [0.0, 0.05, 0.1, 0.15, *(round(0.1 * i, 1) for i in range(2, 11))],
              "horizon": 5000, "agents": AGENTS, "two_phase": [0.1, 0.2, 0.3, 0.5, 0.7], "preset": "default"},
}
