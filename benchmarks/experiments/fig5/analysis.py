"""fig5's analysis: Fig 5A/C figures and table, and its score (normalised return across costs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import CostSweepAnalysis
from tradeoff_gym.benchmarks.experiment import ReportItem
from tradeoff_gym.benchmarks.stats import RunScores

#: The reference for regret and the score: agents whose choices ignore rewards and that play one strategy
#: throughout (registry names). No "oracle" here: the neural env's curves are unknown, so the reference is
#: the best of these, chosen post hoc per cost.
FIXED_AGENTS: tuple[str, ...] = ("serial", "parallel")
#: The shared cost-sweep analysis, as fig5 applies it.
ANALYSIS = CostSweepAnalysis(name="fig5", title="SerialParallel", fixed=FIXED_AGENTS)
#: What :func:`score` means.
SCORE = ANALYSIS.score_text


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 5A (reward rate vs cost) and 5C (serial share vs cost), with the table."""
    return ANALYSIS.analyze(frame, out_dir)


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
    return ANALYSIS.score(frame)


def score_runs(frame: pd.DataFrame) -> RunScores | None:
    """The per-run scores behind :func:`score` (agent → (seeds, conditions)), for the aggregate statistics."""
    return ANALYSIS.score_runs(frame)
