"""The partition_search sweep: one search episode per (cost, method, seed)."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list
from tradeoff_gym.benchmarks.experiments.partition_search.search_env import ENV_ID, SEARCH

#: The one-action env's agent: a fixed agent playing its only strategy.
FIXED = "tradeoff_gym.agents.baselines:FixedAgent"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One search per (cost, method, seed); run ids ``partition_search/c<cost>/<method>/<seed>``.

    The cost enters the objective (``objective_cost``), not a discount of the search's own rewards, so the runner
    never re-discounts one search for another cost. Searches from one seed are tested on the same held-out seeds;
    the first method's run also trains the references (hand-set overlaps, learned gates) on them.
    """
    return [
        RunSpec(
            run_id=f"partition_search/c{cost:g}/{method}/{seed}",
            env_id=ENV_ID,
            agent=FIXED,
            seed=seed,
            env_kwargs={"method": method, "objective_cost": float(cost),
                        **{key: settings[key] for key in ("generations", "population", "trials", "final_trials",
                                                          "final_seeds", "capacity_weight")},
                        "seeds": int(settings["search_seeds"]), "references": method == settings["methods"][0]},
            agent_kwargs={"strategy": SEARCH.name},
            tags={"objective_cost": float(cost), "method": method},
        )
        for cost in settings["costs"]
        for method in settings["methods"]
        for seed in seed_list(settings)
    ]
