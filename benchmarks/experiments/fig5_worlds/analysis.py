"""fig5_worlds' analysis: fig5's report per world, then agents ranked across worlds.

The scoreboard's question is the one a cost sweep asks, asked of several crossovers at once: how close does
each agent come to the best fixed strategy, at every cost of every world? So beside the normalised return
(mean over costs and worlds) the report shows each agent's *worst* cost per world — the navigator's target is
≥ 0.97 of the best fixed strategy at every cost, on every preset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import (
    NORMALISED_SCORE,
    SCHEDULE_AGENTS,
    check_not_pooled,
    cost_sweep_report,
    markdown_table,
    normalised_returns,
    normalised_score,
    normalised_score_runs,
    run_summary,
)
from tradeoff_gym.benchmarks.experiment import ReportItem
from tradeoff_gym.benchmarks.experiments.fig5.analysis import FIXED_AGENTS
from tradeoff_gym.benchmarks.stats import RunScores
from tradeoff_gym.envs.serial_parallel import PRESETS

__all__ = ["FIXED_AGENTS", "SCORE", "analyze", "score", "score_runs"]

#: What :func:`score` means.
SCORE = NORMALISED_SCORE.format(fixed=", ".join(FIXED_AGENTS)) + " The mean runs over every world's costs."
#: The navigator's design target — ≥ 0.97 of the best fixed strategy at every cost — checked per world.
TARGET = 0.97


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """The ranking across worlds; then, per world in preset order, fig5's items (titles prefixed with the world)."""
    check_not_pooled(frame, ["world", "cost"])  # runs of other env settings: split them first
    items = [ranking_item(frame)]
    for world in worlds_of(frame):
        runs = frame[frame.world == world]
        for item in cost_sweep_report(runs, out_dir, name=f"fig5_worlds_{world}", title=f"SerialParallel, {world}",
                                      fixed=FIXED_AGENTS):
            items.append(ReportItem(f"{world}: {item.title}", item.text, item.figures))
    return items


def worlds_of(frame: pd.DataFrame) -> list[str]:
    """The frame's worlds in :data:`tradeoff_gym.envs.serial_parallel.PRESETS` order."""
    order = {name: i for i, name in enumerate(PRESETS)}
    return sorted(frame.world.unique(), key=lambda world: (order.get(world, len(order)), world))


def world_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Per agent and world: the mean normalised return over costs and its worst cost's mean (over seeds).

    Columns ``agent``, ``world``, ``mean`` (mean over costs of the mean over seeds of reward ÷ best fixed),
    ``worst`` (the lowest cost's mean), ``worst_cost``.
    """
    frame = frame[~frame.agent.isin(SCHEDULE_AGENTS)]
    runs = normalised_returns(run_summary(frame, ["world", "cost"]), ["world", "cost"], FIXED_AGENTS)
    by_cost = runs.groupby(["agent", "world", "cost"]).normalised.mean().reset_index()
    rows = []
    for (agent, world), group in by_cost.groupby(["agent", "world"], sort=True):
        worst = group.loc[group.normalised.idxmin()]
        rows.append({"agent": agent, "world": world, "mean": group.normalised.mean(), "worst": worst.normalised,
                     "worst_cost": worst.cost})
    return pd.DataFrame(rows)


def ranking_item(frame: pd.DataFrame) -> ReportItem:
    """Agents ranked by their normalised return averaged over worlds, with each world's mean and worst cost."""
    ratios = world_ratios(frame)
    worlds = worlds_of(frame)
    table = pd.DataFrame({"agent": sorted(ratios.agent.unique())})
    for world in worlds:
        mine = ratios[ratios.world == world].set_index("agent")
        table[f"{world} mean"] = table.agent.map(mine["mean"])
        table[f"{world} worst"] = [f"{mine.at[a, 'worst']:.3f} (c={mine.at[a, 'worst_cost']:g})"
                                   if a in mine.index else "—" for a in table.agent]
    table["mean over worlds"] = table[[f"{w} mean" for w in worlds]].mean(axis=1)
    table[f"worst ≥ {TARGET} in"] = [
        f"{int((ratios[ratios.agent == a].worst >= TARGET).sum())}/{len(worlds)}" for a in table.agent]
    table = table.sort_values("mean over worlds", ascending=False, kind="stable")
    return ReportItem(
        "Agents ranked across worlds",
        "Per world: the agent's reward rate ÷ the best fixed strategy's (paired by seed), mean over seeds, then "
        f"the mean over costs and the worst cost; ranked by the mean over worlds. The last column counts the "
        f"worlds in which the agent reaches ≥ {TARGET} of the best fixed strategy at every cost.\n\n"
        + markdown_table(table.reset_index(drop=True)),
    )


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
    check_not_pooled(frame, ["world", "cost"])
    return normalised_score(frame, ["world", "cost"], FIXED_AGENTS)


def score_runs(frame: pd.DataFrame) -> RunScores | None:
    """The per-run scores behind :func:`score` (agent → (seeds, conditions)), for the aggregate statistics."""
    return normalised_score_runs(frame, ["world", "cost"], FIXED_AGENTS)
