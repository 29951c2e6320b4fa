"""fig3_overlap's analysis: Fig 3A–C by task overlap, and a score per overlap (area under the learning curve)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import condition_score, training_report
from tradeoff_gym.benchmarks.experiment import ReportItem

#: What :func:`score` means.
SCORE = (
    "Score per task overlap (one fixed agent, serial training): area under the learning curve = the run's mean "
    "raw accuracy over the whole episode (0–1), mean over seeds with a 95 % bootstrap CI; higher = learned "
    "sooner. The condition column names the overlap."
)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 3A learning speed, 3B parallel-execution error, 3C layer correlations, by task overlap."""
    return training_report(frame, out_dir, hue="overlap", figure="fig3", label="task overlap")


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per overlap (``label``), best first: :data:`SCORE` (agent, score, ci_low, ci_high, n, label)."""
    return condition_score(frame, "overlap", "overlap")
