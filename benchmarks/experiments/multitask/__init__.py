"""The paper's future work: which tasks to execute together. Agents choose among the schedules of the 3 × 3
Multitask world (all serial, full parallel, the partial schedules between) across hidden costs.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.multitask.analysis import SCORE, analyze, score, score_runs
from tradeoff_gym.benchmarks.experiments.multitask.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score", "score_runs"]

DESCRIPTION = "Which schedule at which cost: fixed schedules and agents on the 3×3 Multitask world, cost sweep"
#: Learning agents; the sweep adds one fixed run per schedule of the table (the reference for regret and scores).
AGENTS = ["meta-learner", "navigator", "sagiv", "ucb1", "gaussian-ts", "epsilon-greedy", "sw-ucb", "r-ed-ucb",
          "cure-ucb"]

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "costs": [0.0, 1.0], "horizon": 20,
              "agents": ["meta-learner", "navigator", "sagiv", "ucb1", "cure-ucb"]},
    # One core, ≤ 15 minutes: 7 fixed schedules × 2 seeds (played once, re-discounted for every cost) and three
    # learning agents × 3 costs × 2 seeds, in two batches on the vector env. The fixed schedules' rates are known
    # at every cost from their accuracies (the report draws them on a fine grid), so agents play at few costs:
    # below, near and far above the crossover. τ = 1500 rather than 1000, where serial has only just overtaken
    # parallel and parallel wins almost everywhere (docs/findings/multitask.md).
    "quick": {"seeds": 2, "costs": [0.0, 0.05, 0.2, 1.0], "agent_costs": [0.05, 0.2, 1.0],
              "horizon": 1500, "agents": ["meta-learner", "sagiv", "ucb1"]},
    "paper": {"seeds": 15, "costs": [round(0.1 * i, 1) for i in range(11)], "horizon": 5000, "agents": AGENTS},
}
