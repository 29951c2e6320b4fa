"""The fig3_overlap sweep: one serially trained run per (frozen task overlap, seed), c = 0."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list

ENV_ID = "tradeoff/SerialParallel-v0"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One serially trained run per (overlap, seed); c = 0; run ids ``fig3/o<overlap>/<seed>``."""
    return [
        RunSpec(
            run_id=f"fig3/o{overlap:g}/{seed}",
            env_id=ENV_ID,
            agent="serial",
            seed=seed,
            env_kwargs={"cost": 0.0, "horizon": int(settings["horizon"]), "overlap": float(overlap),
                        "probe_every": int(settings["probe_every"])},
            tags={"overlap": float(overlap)},
        )
        for overlap in settings["overlaps"]
        for seed in seed_list(settings)
    ]
