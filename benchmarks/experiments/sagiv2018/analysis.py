"""sagiv2018's analysis: reward rate and serial share vs P per parallel midpoint, and the normalised-return score."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import CostSweepAnalysis
from tradeoff_gym.benchmarks.experiment import ReportItem
from tradeoff_gym.benchmarks.stats import RunScores

#: The reference for regret and the score: agents whose choices ignore rewards and that play one strategy
#: throughout (registry names). The "oracle" (best fixed arm from the known curves and cost) is scored like
#: any other agent, so its score shows how close the post-hoc best fixed strategy is to the planned one.
FIXED_AGENTS: tuple[str, ...] = ("serial", "parallel")
#: The swept settings a score's reference is matched on.
TAGS: tuple[str, ...] = ("cost", "parallel_midpoint")
#: The shared cost-sweep analysis, as sagiv2018 applies it (one panel per parallel midpoint).
ANALYSIS = CostSweepAnalysis(name="sagiv2018", title="Sagiv 2018 world", fixed=FIXED_AGENTS, tags=TAGS,
                             facet="parallel_midpoint")
#: What :func:`score` means.
SCORE = ANALYSIS.score_text + " The swept settings are P × parallel midpoint."


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Reward rate and serial share vs P, one panel per parallel midpoint."""
    return ANALYSIS.analyze(frame, out_dir)


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
    return ANALYSIS.score(frame)


def score_runs(frame: pd.DataFrame) -> RunScores | None:
    """The per-run scores behind :func:`score` (agent → (seeds, conditions)), for the aggregate statistics."""
    return ANALYSIS.score_runs(frame)
