"""fig5_noisy's analysis: Fig 5B figures and table, and fig5's score (normalised return across costs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import cost_sweep_report, normalised_score
from tradeoff_gym.benchmarks.experiment import ReportItem
from tradeoff_gym.benchmarks.experiments.fig5.analysis import FIXED_AGENTS, SCORE

__all__ = ["FIXED_AGENTS", "SCORE", "analyze", "score"]


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 5B: reward rate and serial share vs cost, with the table."""
    return cost_sweep_report(frame, out_dir, name="fig5_noisy", title="SerialParallel, noisy inputs",
                             fixed=FIXED_AGENTS)


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
    return normalised_score(frame, ["cost"], FIXED_AGENTS)
