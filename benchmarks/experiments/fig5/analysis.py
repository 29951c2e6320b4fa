"""fig5's analysis: Fig 5A/C figures and table, and its score (normalised return across costs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import (
    NORMALISED_SCORE,
    check_not_pooled,
    cost_sweep_report,
    normalised_score,
    normalised_score_runs,
)
from tradeoff_gym.benchmarks.experiment import ReportItem
from tradeoff_gym.benchmarks.stats import RunScores

#: The reference for regret and the score: agents whose choices ignore rewards and that play one strategy
#: throughout (registry names). No "oracle" here: the neural env's curves are unknown, so the reference is
#: the best of these, chosen post hoc per cost.
FIXED_AGENTS: tuple[str, ...] = ("serial", "parallel")
#: What :func:`score` means.
SCORE = NORMALISED_SCORE.format(fixed=", ".join(FIXED_AGENTS))


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 5A (reward rate vs cost) and 5C (serial share vs cost), with the table."""
    check_not_pooled(frame, ["cost"])  # runs of other env settings: split them first
    return cost_sweep_report(frame, out_dir, name="fig5", title="SerialParallel", fixed=FIXED_AGENTS)


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
    check_not_pooled(frame, ["cost"])
    return normalised_score(frame, ["cost"], FIXED_AGENTS)


def score_runs(frame: pd.DataFrame) -> RunScores | None:
    """The per-run scores behind :func:`score` (agent → (seeds, conditions)), for the aggregate statistics."""
    return normalised_score_runs(frame, ["cost"], FIXED_AGENTS)
