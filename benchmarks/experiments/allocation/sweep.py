"""The allocation sweep: Gumbel-Matrix relatedness runs and drone-world training runs per gating × strategy."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list
from tradeoff_gym.benchmarks.experiments.allocation.relatedness_env import ENV_ID as RELATEDNESS_ENV
from tradeoff_gym.benchmarks.experiments.allocation.relatedness_env import TRAIN

DRONE_ENV = "tradeoff/SerialParallel-v0"
PATTERNS: tuple[str, ...] = ("shared", "separate", "learned")
TRAINING: tuple[str, ...] = ("serial", "parallel")
#: The one-action env's agent: a fixed agent playing its only strategy.
FIXED = "tradeoff_gym.agents.baselines:FixedAgent"


def gatings(settings: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, network settings) of every drone-world condition: learned gates, fixed overlaps, learned allocation."""
    out: list[tuple[str, dict[str, Any]]] = [("learned gates", {})]
    out += [(f"overlap {o:g}", {"overlap": float(o)}) for o in settings["overlaps"]]
    out += [(f"allocation lr {lr:g}", {"gating": "allocation", "allocation_lr": float(lr)})
            for lr in settings["allocation_lrs"]]
    return out


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """Relatedness runs per (heads, ρ, pattern, seed), then drone runs per (gating, training, seed) at c = 0.

    Run ids ``allocation/related/h<0|1>/rho<ρ>/<pattern>/<seed>`` and ``allocation/drone/<gating>/<training>/<seed>``;
    the ``part`` tag tells them apart.
    """
    specs = [
        RunSpec(
            run_id=f"allocation/related/h{int(heads)}/rho{rho:g}/{pattern}/{seed}",
            env_id=RELATEDNESS_ENV,
            agent=FIXED,
            seed=seed,
            env_kwargs={**settings["relatedness"], "horizon": int(settings["relatedness_steps"]),
                        "probe_every": max(int(settings["relatedness_steps"]) // 10, 1), "rho": float(rho),
                        "pattern": pattern, "heads": bool(heads)},
            agent_kwargs={"strategy": TRAIN.name},
            tags={"part": "relatedness", "heads": bool(heads), "rho": float(rho), "pattern": pattern},
        )
        for heads in settings["heads"]
        for rho in settings["rhos"]
        for pattern in PATTERNS
        for seed in range(settings["relatedness_seeds"])
    ]
    specs += [
        RunSpec(
            run_id=f"allocation/drone/{label.replace(' ', '-')}/{training}/{seed}",
            env_id=DRONE_ENV,
            agent=training,
            seed=seed,
            env_kwargs={"cost": 0.0, "horizon": int(settings["horizon"]), "probe_every": int(settings["probe_every"]),
                        **network},
            tags={"part": "drone", "gating": label, "training": training, "condition": f"{label} · {training}"},
        )
        for label, network in gatings(settings)
        for training in TRAINING
        for seed in seed_list(settings)
    ]
    return specs
