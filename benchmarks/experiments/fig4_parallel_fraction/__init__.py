"""000 Fig 4: train a share p of trials in parallel; learning speed, parallel error, layer correlations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.analysis import training_report
from benchmarks.experiment import ReportItem, RunSpec

DESCRIPTION = "Fig 4: parallel-training share p vs learning speed, parallel-execution error, layer correlations"
ENV_ID = "tradeoff/SerialParallel-v0"

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "shares": [0.0, 0.9], "horizon": 30, "probe_every": 15},
    "quick": {"seeds": 2, "shares": [0.0, 0.3, 0.6, 0.9], "horizon": 1000, "probe_every": 100},
    "paper": {"seeds": 15, "shares": [round(0.1 * i, 1) for i in range(10)], "horizon": 5000, "probe_every": 250},
}


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One MixedAgent run per (share, seed); c = 0 (only learning is measured)."""
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
        for seed in range(settings["seeds"])
    ]


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 4A learning speed, 4B parallel-execution error, 4C layer correlations, by parallel share."""
    return training_report(frame, out_dir, hue="parallel_share", figure="fig4", label="parallel share")
