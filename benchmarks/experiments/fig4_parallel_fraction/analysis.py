"""fig4_parallel_fraction's analysis: Fig 4A–C by parallel share, and a score per share (area under the curve)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import condition_score, training_report
from tradeoff_gym.benchmarks.experiment import ReportItem

#: What :func:`score` means.
SCORE = (
    "Score per parallel-training share p (one fixed agent, mixed): area under the learning curve = the run's "
    "mean raw accuracy over the whole episode (0–1), mean over seeds with a 95 % bootstrap CI; higher = learned "
    "sooner (at c = 0, so this is learning speed, not reward rate). The condition column names the share."
)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 4A learning speed, 4B parallel-execution error, 4C layer correlations, by parallel share."""
    return training_report(frame, out_dir, hue="parallel_share", figure="fig4", label="parallel share")


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per parallel share (``label``), best first: :data:`SCORE` (agent, score, ci_low, ci_high, n, label)."""
    return condition_score(frame, "parallel_share", "parallel share")
