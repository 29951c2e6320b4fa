"""The fig5 sweep: every (cost, agent, seed) run on SerialParallel (any world: ``preset``); :func:`cost_runs` is shared
with fig5_worlds."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list
from tradeoff_gym.learners.checks import check_number

ENV_ID = "tradeoff/SerialParallel-v0"


def cost_runs(name: str, env_id: str, settings: dict[str, Any]) -> list[RunSpec]:
    """Every (cost, agent, seed) run of a cost sweep; run ids ``<name>/c<cost>/<agent>/<seed>``.

    ``settings["preset"]`` (when given and not ``"default"``) is the env's world preset, passed to every run.

    With ``settings["two_phase"]`` (switch points as fractions of the horizon) also the two-phase schedules
    serial→parallel and parallel→serial switching there (agent ``two-phase``, tags ``phase_order`` and
    ``phase_switch``; run ids ``<name>/c<cost>/two-phase-<first>-<then>@<switch>/<seed>``): the stronger reference.
    """
    env_kwargs = {"horizon": int(settings["horizon"])}
    preset = settings.get("preset", "default")
    if preset != "default":  # the default world's runs keep the env settings they had before presets existed
        env_kwargs["preset"] = preset
    switches = [check_number(x, "every two_phase switch (a fraction of the horizon)", 0.0, 1.0)
                for x in settings.get("two_phase", ())]
    specs = [
        RunSpec(
            run_id=f"{name}/c{cost:g}/{agent}/{seed}",
            env_id=env_id,
            agent=agent,
            seed=seed,
            env_kwargs={"cost": float(cost), **env_kwargs},
            tags={"cost": float(cost)},
        )
        for cost in settings["costs"]
        for agent in settings["agents"]
        for seed in seed_list(settings)
    ]
    specs += [
        RunSpec(
            run_id=f"{name}/c{cost:g}/two-phase-{first}-{then}@{switch:g}/{seed}",
            env_id=env_id,
            agent="two-phase",
            seed=seed,
            env_kwargs={"cost": float(cost), **env_kwargs},
            agent_kwargs={"first": first, "then": then, "switch": float(switch)},
            tags={"cost": float(cost), "phase_order": f"{first}→{then}", "phase_switch": float(switch)},
        )
        for cost in settings["costs"]
        for first, then in (("serial", "parallel"), ("parallel", "serial"))
        for switch in switches
        for seed in seed_list(settings)
    ]
    return specs


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """The fig5 sweep."""
    return cost_runs("fig5", ENV_ID, settings)
