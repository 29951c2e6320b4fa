"""Generalization: agents on held-out worlds of every world family, across costs, from held-out seeds.

Agents (and the frontier rule) are designed on the train worlds and seeds of the world families
(:mod:`tradeoff_gym.envs.families`); this experiment plays them on the **test** worlds with the families' **test
seeds** — the neural family ``sp-mixed`` at every cost of its grid, the five LearningCurves families each world at its
own drawn cost — beside every strategy of each world's table played as a fixed agent, and scores each agent by its
normalised return (÷ the best fixed strategy, per world, cost and seed): mean, worst decile, share of worlds at least
as good as the best fixed strategy, share of the frontier rule's score, and against each world's crossover cost c*.

Settings (every scale has each key; ``--set KEY=VALUE``, ``--seeds``, ``--costs``, ``--agents``, ``--worlds``):

* ``families``: family names (default all six);
* ``worlds``: a world spec applied to each family (``"test"``, a range ``"24-26"``, a list ``"0,3"``); test worlds
  only — a train world is refused (``--worlds`` sets it); ``max_worlds``: the first n of them (an int for every
  family, a dict family → n, or null for all);
* ``seeds``: a count n → the first n of each family's ``test_seeds`` (lc-uniform and lc-balanced: 0…, the others
  1000…), the run's ``seed`` being that held-out seed; or a list of seeds, each a test seed of every family played;
* ``costs``: the costs played where a family's worlds leave the cost open (sp-mixed; default its grid
  ``FAMILIES["sp-mixed"].costs``); LearningCurves worlds play their own cost (tagged ``cost``);
* ``horizon``: trials per SerialParallel episode (LearningCurves worlds keep their own τ);
* ``agents``: learning agents (names or names with JSON settings);
* ``frontier``: whether to add each family's cost-blind frontier rule
  (:func:`tradeoff_gym.agents.frontier.frontier_agent`), labelled ``frontier``.

Scales: ``smoke`` (seconds) the first test world of each family, τ = 30 on sp-mixed; ``quick`` (minutes on two cores)
the first 3 test worlds of sp-mixed (one per stratum) at τ = 5000 and 3 costs, the first 8 test worlds of each
LearningCurves family, 2 seeds, 3 agents; ``paper`` every test world of every family (16 + 200 + 200 + 32 + 32 + 32),
τ = 5000, sp-mixed's 7 costs, 5 held-out seeds, fig5's learning agents and the frontier. Run counts and run times:
docs/benchmarks/experiments.md.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.fig5 import AGENTS as FIG5_AGENTS
from tradeoff_gym.benchmarks.experiments.generalization.analysis import (
    FIXED_AGENTS,
    FRONTIER,
    SCORE,
    analyze,
    score,
    score_runs,
)
from tradeoff_gym.benchmarks.experiments.generalization.sweep import runs
from tradeoff_gym.envs.families import FAMILIES

__all__ = ["DESCRIPTION", "SCALES", "FIXED_AGENTS", "FRONTIER", "SCORE", "LEARNING_AGENTS", "runs", "analyze",
           "score", "score_runs"]

DESCRIPTION = ("Generalization: agents on the held-out test worlds of every world family (sp-mixed × costs, "
               "LearningCurves at their own cost) from held-out seeds, ÷ each world's best fixed strategy")
#: fig5's learning agents (its list without the fixed strategies), which the paper scale plays.
LEARNING_AGENTS: list[str] = [agent for agent in FIG5_AGENTS if agent not in FIXED_AGENTS]
#: Every family, in the registry's order.
ALL_FAMILIES: list[str] = list(FAMILIES)
#: sp-mixed's cost grid (its worlds leave the cost open).
SP_COSTS: list[float] = list(FAMILIES["sp-mixed"].costs)

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"families": ALL_FAMILIES, "worlds": "test", "max_worlds": 1, "seeds": 1, "costs": [0.0, 1.0],
              "horizon": 30, "agents": ["navigator", "ucb1"], "frontier": True},
    # Quick: sp-mixed's first three test worlds (24, 25, 26: one per stratum, so c* low, middle and high) at the
    # paper's τ = 5000 and three of its costs, and the first 8 test worlds of each LearningCurves family.
    "quick": {"families": ALL_FAMILIES, "worlds": "test",
              "max_worlds": {"sp-mixed": 3, **{f: 8 for f in ALL_FAMILIES if f != "sp-mixed"}}, "seeds": 2,
              "costs": [0.0, 0.3, 0.7], "horizon": 5000, "agents": ["navigator", "ucb1", "cure-ucb"],
              "frontier": True},
    "paper": {"families": ALL_FAMILIES, "worlds": "test", "max_worlds": None, "seeds": 5, "costs": SP_COSTS,
              "horizon": 5000, "agents": LEARNING_AGENTS, "frontier": True},
}
