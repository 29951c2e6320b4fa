"""000 Fig 5B: as fig5, on the noisy-input variant where sharing is worth more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.analysis import cost_sweep_report
from benchmarks.experiment import ReportItem, RunSpec
from benchmarks.experiments.fig5 import SCALES as FIG5_SCALES
from benchmarks.experiments.fig5 import cost_runs

DESCRIPTION = "Fig 5B: reward rate and serial share vs hidden cost on SerialParallelNoisy, per agent"
ENV_ID = "tradeoff/SerialParallelNoisy-v0"
SCALES: dict[str, dict[str, Any]] = {scale: dict(settings) for scale, settings in FIG5_SCALES.items()}


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """The fig5_noisy sweep."""
    return cost_runs("fig5_noisy", ENV_ID, settings)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 5B: reward rate and serial share vs cost, with the table."""
    return cost_sweep_report(frame, out_dir, name="fig5_noisy", title="SerialParallel, noisy inputs")
