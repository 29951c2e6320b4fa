"""The fig4_parallel_fraction sweep: one MixedAgent run per (parallel share p, seed), c = 0."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list

ENV_ID = "tradeoff/SerialParallel-v0"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One MixedAgent run per (share, seed); c = 0 (only learning is measured); run ids ``fig4/p<share>/<seed>``."""
    return [
        RunSpec(
            run_id=f"fig4/p{share:g}/{seed}",
            env_id=ENV_ID,
            agent="mixed",
            seed=seed,
            env_kwargs={"cost": 0.0, "horizon": int(settings["horizon"]), "probe_every": int(settings["probe_every"])},
            agent_kwargs={"p_parallel": float(share)},
            tags={"parallel_share": float(share)},
        )
        for share in settings["shares"]
        for seed in seed_list(settings)
    ]
