"""000 Fig 5A/C: agents on the SerialParallel env across serialization costs (c hidden from the agents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.analysis import cost_sweep_report
from benchmarks.experiment import ReportItem, RunSpec

DESCRIPTION = "Fig 5A/C: reward rate and serial share vs hidden cost on SerialParallel, per agent"
ENV_ID = "tradeoff/SerialParallel-v0"
AGENTS = ["serial", "parallel", "meta-learner", "sagiv", "ucb1", "gaussian-ts", "sw-ucb", "epsilon-greedy"]
# No "oracle" agent here: the neural env's curves are unknown, so the reference is the best fixed
# strategy chosen post hoc from the serial/parallel runs (the "regret" column of the report).

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "costs": [0.0, 1.0], "horizon": 30, "agents": AGENTS},
    # Our world's crossover c* is ≈ 0.10 at τ = 1500–5000 (≈ 0 at τ = 1000, where parallel leads throughout),
    # so the quick scale samples costs densely around it and keeps the agents the paper compares.
    "quick": {"seeds": 2, "costs": [0.0, 0.05, 0.1, 0.2, 0.5, 1.0], "horizon": 1500,
              "agents": ["serial", "parallel", "meta-learner", "sagiv", "ucb1"]},
    "paper": {"seeds": 15, "costs": [round(0.1 * i, 1) for i in range(11)], "horizon": 5000, "agents": AGENTS},
}


def cost_runs(name: str, env_id: str, settings: dict[str, Any]) -> list[RunSpec]:
    """Every (cost, agent, seed) run of a cost sweep; run ids ``<name>/c<cost>/<agent>/<seed>``."""
    return [
        RunSpec(
            run_id=f"{name}/c{cost:g}/{agent}/{seed}",
            env_id=env_id,
            agent=agent,
            seed=seed,
            env_kwargs={"cost": float(cost), "horizon": int(settings["horizon"])},
            tags={"cost": float(cost)},
        )
        for cost in settings["costs"]
        for agent in settings["agents"]
        for seed in range(settings["seeds"])
    ]


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """The fig5 sweep."""
    return cost_runs("fig5", ENV_ID, settings)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 5A (reward rate vs cost) and 5C (serial share vs cost), with the table."""
    return cost_sweep_report(frame, out_dir, name="fig5", title="SerialParallel")
