"""000 Fig 3: frozen representational overlap (0/50/100 %) under serial training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.analysis import training_report
from benchmarks.experiment import ReportItem, RunSpec

DESCRIPTION = "Fig 3: frozen task overlap vs learning speed, parallel-execution error, layer correlations"
ENV_ID = "tradeoff/SerialParallel-v0"

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "overlaps": [0.0, 1.0], "horizon": 30, "probe_every": 15},
    "quick": {"seeds": 2, "overlaps": [0.0, 0.5, 1.0], "horizon": 1000, "probe_every": 100},
    "paper": {"seeds": 15, "overlaps": [0.0, 0.25, 0.5, 0.75, 1.0], "horizon": 5000, "probe_every": 250},
}


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One serially trained run per (overlap, seed); c = 0."""
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
        for seed in range(settings["seeds"])
    ]


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 3A learning speed, 3B parallel-execution error, 3C layer correlations, by task overlap."""
    return training_report(frame, out_dir, hue="overlap", figure="fig3", label="task overlap")
