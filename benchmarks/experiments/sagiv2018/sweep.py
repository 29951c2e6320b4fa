"""The sagiv2018 sweep: every (parallel midpoint, cost P, agent, seed) run on LearningCurves' sagiv2018 preset."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list

ENV_ID = "tradeoff/LearningCurves-v0"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """Every (midpoint, cost, agent, seed) run; run ids ``sagiv2018/m<midpoint>/c<cost>/<agent>/<seed>``."""
    return [
        RunSpec(
            run_id=f"sagiv2018/m{midpoint}/c{cost:g}/{agent}/{seed}",
            env_id=ENV_ID,
            agent=agent,
            seed=seed,
            env_kwargs={"preset": "sagiv2018", "parallel_midpoint": float(midpoint), "cost": float(cost)},
            tags={"cost": float(cost), "parallel_midpoint": int(midpoint)},
        )
        for midpoint in settings["parallel_midpoints"]
        for cost in settings["costs"]
        for agent in settings["agents"]
        for seed in seed_list(settings)
    ]
