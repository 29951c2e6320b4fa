"""The multitask sweep: one fixed run per schedule of the world's table, and every learning agent, per (cost, seed)."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list
from tradeoff_gym.envs.multitask import make_config

ENV_ID = "tradeoff/Multitask-v0"
#: The agent that plays one schedule throughout (``strategy=`` its name); reward-independent, so the runner plays
#: it once per seed at c = 0 and re-discounts it for every cost. Its runs are labelled by their schedule.
FIXED = "tradeoff_gym.agents.baselines:FixedAgent"
#: Env settings a scale may carry besides cost and horizon (the world, the network, the table rule, the cost mode).
ENV_SETTINGS = ("table", "depth", "sonar_size", "image_size", "grid", "batch_size", "conv_channels", "hidden_units",
                "gps_units", "sonar_units", "lr", "cost_mode")


def env_kwargs(settings: dict[str, Any]) -> dict[str, Any]:
    """The env's settings of a scale (without the cost)."""
    return {"horizon": int(settings["horizon"]), **{k: settings[k] for k in ENV_SETTINGS if k in settings}}


def schedule_names(settings: dict[str, Any]) -> tuple[str, ...]:
    """The strategy table's names for a scale's world, fewest passes first."""
    return tuple(s.name for s in make_config(**env_kwargs(settings)).strategies)


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """Fixed schedules at every cost of ``costs``; learning agents at ``agent_costs`` (default: ``costs``).

    Run ids ``multitask/c<cost>/<agent or schedule>/<seed>``; every run is tagged with its cost and, when it is not
    the default ``divide``, the reward rule's ``cost_mode`` (what the analysis re-applies between the swept costs;
    untagged, so sweeps written before it resume with the same runs).
    """
    kwargs = env_kwargs(settings)
    mode = make_config(**kwargs).cost_mode
    rule_tags = {} if mode == "divide" else {"cost_mode": mode}
    specs = []
    for cost in settings["costs"]:
        for name in schedule_names(settings):
            for seed in seed_list(settings):
                specs.append(RunSpec(
                    run_id=f"multitask/c{cost:g}/{name}/{seed}", env_id=ENV_ID, agent=FIXED, seed=seed,
                    env_kwargs={"cost": float(cost), **kwargs}, agent_kwargs={"strategy": name},
                    tags={"cost": float(cost), **rule_tags},
                ))
    for cost in settings.get("agent_costs", settings["costs"]):
        for agent in settings["agents"]:
            for seed in seed_list(settings):
                specs.append(RunSpec(
                    run_id=f"multitask/c{cost:g}/{agent}/{seed}", env_id=ENV_ID, agent=agent, seed=seed,
                    env_kwargs={"cost": float(cost), **kwargs}, tags={"cost": float(cost), **rule_tags},
                ))
    return specs
