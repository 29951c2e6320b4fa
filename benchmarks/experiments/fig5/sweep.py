"""The fig5 sweep: every (cost, agent, seed) run on SerialParallel; :func:`cost_runs` is shared with fig5_noisy."""

from __future__ import annotations

from typing import Any

from benchmarks.experiment import RunSpec

ENV_ID = "tradeoff/SerialParallel-v0"


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
