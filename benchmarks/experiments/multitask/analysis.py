"""multitask's analysis: which schedule is best at which cost, the agents' reward rates, regret and schedule shares.

The fixed schedules' runs (agent :data:`tradeoff_gym.benchmarks.experiments.multitask.sweep.FIXED`) are labelled by
their
schedule (``parallel``, ``4-pass``, …, ``serial``); they are the reference ("best fixed schedule") of regret and of
the score. Because a fixed schedule's learning never depends on the cost, and its reward is linear in the
per-task accuracies (every task is performed every trial), its reward rate at any cost c is the env's
:class:`tradeoff_gym.envs.interface.RewardRule` applied to its mean per-task accuracies at c; the analysis uses
this to draw the best schedule on a fine grid of costs, between the swept ones (``divide``: mean accuracy
÷ (1 + d·c); ``additive`` as well, with the sweep's ``cost_mode``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from tradeoff_gym.benchmarks.analysis import (
    NORMALISED_SCORE,
    cost_sweep_report,
    markdown_table,
    normalised_score,
    normalised_score_runs,
    save_figure,
)
from tradeoff_gym.benchmarks.experiment import ReportItem
from tradeoff_gym.benchmarks.experiments.multitask.sweep import FIXED
from tradeoff_gym.benchmarks.stats import RunScores
from tradeoff_gym.envs.interface import CostMode, RewardRule, Strategy

#: What :func:`score` means.
SCORE = NORMALISED_SCORE.format(fixed="every fixed schedule of the table: parallel, 4-pass, …, serial")
#: Costs of the fine grid on which the best fixed schedule is drawn.
GRID = np.linspace(0.0, 1.0, 201)


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each fixed-schedule run's ``agent`` set to its schedule's name (the strategy it played)."""
    fixed = frame.agent == FIXED
    if not fixed.any():
        return frame
    return frame.assign(agent=np.where(fixed, frame.strategy.astype(str), frame.agent))


def schedule_order(frame: pd.DataFrame) -> list[str]:
    """The fixed schedules' names, fewest passes first (by the action index, which orders the table)."""
    fixed = frame[frame.agent == FIXED]
    return list(fixed.groupby("strategy").action.first().sort_values().index)


def cost_mode(frame: pd.DataFrame) -> CostMode:
    """The sweep's cost mode: its runs' ``cost_mode`` tag (``divide`` for results written before the tag)."""
    return str(frame.cost_mode.iloc[0]) if "cost_mode" in frame and len(frame) else "divide"  # type: ignore[return-value]


def paid_delay(mode: CostMode, accuracy: np.ndarray, cost: float, rate: float) -> float:
    """The cost share d in [0, 1] at which a ``mode`` reward rule pays ``rate`` per trial at ``cost`` for per-task
    accuracies ``accuracy`` ``(n_tasks,)``, every task performed: the rule inverted by bisection (it pays less as
    d·c grows, and depends on d and c only through d·c)."""
    unit = RewardRule((Strategy("paid", serial=True, delay=1.0),), mode, "mean")

    def paid(d: float) -> float:
        return float(unit.reward(unit.task_rewards(0, accuracy, d * cost)))

    if paid(0.0) <= rate or np.isclose(paid(0.0), rate, rtol=1e-12, atol=0.0):  # pays nothing (up to rounding)
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if paid(middle) > rate else (low, middle)
    return 0.5 * (low + high)


def fixed_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per fixed schedule: ``accuracy`` (mean raw accuracy over the episode and seeds), its seeds' values,
    ``task_accuracy`` (its mean accuracy per task at c = 0, an ``(n_tasks,)`` array; NaN without c = 0) and the
    cost share ``delay`` d measured from the rewards through the sweep's reward rule (:func:`paid_delay` at each
    swept c > 0, averaged; NaN without c = 0 and a c > 0)."""
    fixed = frame[frame.agent == FIXED]
    columns = sorted((c for c in frame.columns if c.startswith("task_reward_")), key=lambda c: int(c.rsplit("_", 1)[1]))
    mode = cost_mode(frame)
    rows = []
    for name in schedule_order(frame):
        runs = fixed[fixed.strategy == name]
        per_seed = runs[runs.cost == runs.cost.min()].groupby("seed").raw_accuracy.mean()
        free, paid = runs[runs.cost == 0], runs[runs.cost > 0]
        accuracy = free[columns].to_numpy(dtype=np.float64).mean(0) if len(free) else np.full(len(columns), np.nan)
        delay = np.nan
        if len(free) and len(paid):
            rates = paid.groupby("cost").reward.mean()
            delay = float(np.mean([paid_delay(mode, accuracy, c, r) for c, r in rates.items()]))
        rows.append({"schedule": name, "accuracy": float(per_seed.mean()), "delay": delay,
                     "seeds": int(per_seed.size), "task_accuracy": accuracy})
    return pd.DataFrame(rows)


def schedule_rule(summary: pd.DataFrame, mode: CostMode) -> RewardRule:
    """The reward rule of the summary's schedules with a known delay (rows in order: action ``i`` = row ``i``)."""
    known = summary.dropna(subset=["delay"])
    strategies = tuple(Strategy(r.schedule, serial=r.delay > 0, delay=min(r.delay, 1.0)) for r in known.itertuples())
    return RewardRule(strategies, mode, "mean")


def best_schedule_bands(
    summary: pd.DataFrame, grid: np.ndarray = GRID, mode: CostMode = "divide"
) -> tuple[np.ndarray, pd.DataFrame]:
    """The best fixed schedule at every cost of ``grid`` (reward rate: the ``mode`` reward rule, each schedule's
    delay, applied to its per-task accuracies) and the cost bands where each one is best: ``(rates (n_schedules,
    n_grid), bands with schedule, from, to)``."""
    known = summary.dropna(subset=["delay"]).reset_index(drop=True)
    rule = schedule_rule(known, mode)
    accuracy = np.stack(known.task_accuracy.to_list()) if len(known) else np.zeros((0, 1))  # (n_schedules, n_tasks)
    actions = np.arange(len(known))[:, None]  # (n_schedules, 1) against grid (1, n_grid)
    rates = np.asarray(rule.reward(rule.task_rewards(actions, accuracy[:, None, :], grid[None, :])), dtype=np.float64)
    rates = rates.reshape(len(known), grid.size)
    best = rates.argmax(0)
    bands = []
    start = 0
    for i in range(1, grid.size + 1):
        if i == grid.size or best[i] != best[start]:
            bands.append({"schedule": known.schedule[best[start]], "from": grid[start], "to": grid[i - 1]})
            start = i
    return rates, pd.DataFrame(bands)


def partial_verdict(bands: pd.DataFrame) -> str:
    """One sentence: does a partial schedule (neither serial nor parallel) win anywhere in the cost range?"""
    partial = bands[~bands.schedule.isin(["serial", "parallel"])]
    if bands.empty:
        return "No cost > 0 was swept, so the schedules' cost shares are unknown here."
    if partial.empty:
        return "**No partial schedule wins at any cost**: the best schedule is always serial or full parallel."
    spans = "; ".join(f"{r.schedule} for c ∈ [{r['from']:.3f}, {r.to:.3f}]" for _, r in partial.iterrows())
    return f"**A partial schedule wins** in part of the cost range: {spans}."


def best_schedule_figure(summary: pd.DataFrame, rates: np.ndarray, path: Path) -> Path:
    """Each fixed schedule's reward rate vs cost (fine grid), the best one's envelope drawn thick."""
    known = summary.dropna(subset=["delay"]).reset_index(drop=True)
    sns.set_theme(style="whitegrid", context="notebook")
    colors = sns.color_palette("viridis", len(known))
    fig, axis = plt.subplots(figsize=(7.2, 4.2))
    for i, row in known.iterrows():
        axis.plot(GRID, rates[i], color=colors[i], lw=1.2, label=f"{row.schedule} (d = {row.delay:.2f})")
    axis.plot(GRID, rates.max(0), color="black", lw=3, alpha=0.35, label="best schedule")
    axis.set(xlabel="serialization cost c", ylabel="reward rate (the reward rule at cost c)",
             title="Fixed schedules: reward rate vs cost (mean over seeds)")
    axis.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return save_figure(fig, path)


def learning_figure(frame: pd.DataFrame, path: Path, blocks: int = 20) -> Path:
    """Raw accuracy per block of trials for each fixed schedule (mean over seeds, 95 % CI): how fast each learns."""
    fixed = frame[(frame.agent == FIXED)]
    fixed = fixed[fixed.cost == fixed.cost.min()]
    size = max(int(fixed.trial.max() + 1) // blocks, 1)
    data = fixed.assign(block=(fixed.trial // size) * size + size / 2)
    per_run = data.groupby(["strategy", "seed", "block"]).raw_accuracy.mean().reset_index()
    order = schedule_order(frame)
    sns.set_theme(style="whitegrid", context="notebook")
    fig, axis = plt.subplots(figsize=(7.2, 4.2))
    sns.lineplot(data=per_run, x="block", y="raw_accuracy", hue="strategy", hue_order=order, errorbar=("ci", 95),
                 seed=0, ax=axis, palette=dict(zip(order, sns.color_palette("viridis", len(order)))))
    axis.set(xlabel="trial", ylabel=f"raw accuracy (blocks of {size} trials)",
             title="Fixed schedules: learning curves (mean over seeds, 95 % CI)")
    axis.legend(title="schedule", loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return save_figure(fig, path)


def share_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per learning agent and cost: the share of trials played with each schedule (mean over seeds)."""
    agents = frame[frame.agent != FIXED]
    order = schedule_order(frame) or sorted(agents.strategy.unique())
    counts = agents.groupby(["agent", "cost", "seed"]).strategy.value_counts(normalize=True).rename("share")
    shares = counts.reset_index().pivot_table(index=["agent", "cost"], columns="strategy", values="share",
                                              aggfunc="mean", fill_value=0.0)
    shares = shares.reindex(columns=[c for c in order if c in shares.columns] +
                            [c for c in shares.columns if c not in order], fill_value=0.0)
    return shares.reset_index()


def share_figure(shares: pd.DataFrame, order: list[str], path: Path) -> Path:
    """One panel per agent: stacked share of trials per schedule at each cost."""
    agents = list(shares.agent.unique())
    sns.set_theme(style="whitegrid", context="notebook")
    colors = dict(zip(order, sns.color_palette("viridis", len(order))))
    fig, axes = plt.subplots(1, len(agents), figsize=(3.6 * len(agents) + 1.8, 3.6), sharey=True, squeeze=False)
    for axis, agent in zip(axes[0], agents):
        rows = shares[shares.agent == agent].sort_values("cost")
        labels = [f"{c:g}" for c in rows.cost]
        bottom = np.zeros(len(rows))
        for name in [c for c in shares.columns if c not in ("agent", "cost")]:
            axis.bar(labels, rows[name], bottom=bottom, color=colors.get(name, "grey"), label=name)
            bottom += rows[name].to_numpy()
        axis.set(xlabel="serialization cost c", title=agent, ylim=(0, 1))
    axes[0][0].set_ylabel("share of trials")
    handles, names = axes[0][-1].get_legend_handles_labels()
    axes[0][-1].legend(handles, names, title="schedule", loc="center left", bbox_to_anchor=(1.02, 0.5),
                       frameon=False)
    fig.suptitle("Share of trials per schedule (mean over seeds)", y=1.02)
    return save_figure(fig, path)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Best schedule per cost (swept and on a fine grid), fixed schedules' learning, agents' rates, regret, shares."""
    names = schedule_order(frame)
    summary = fixed_summary(frame)
    items: list[ReportItem] = []
    if not summary.empty:
        mode = cost_mode(frame)
        rates, bands = best_schedule_bands(summary, mode=mode)
        items.append(ReportItem(
            "Which schedule is best at which cost",
            "Fixed schedules, fewest passes first: mean raw accuracy over the episode (mean over seeds) and the cost "
            "share d = (passes − fewest) / (serial's passes − fewest) measured from the rewards. A schedule's reward "
            f"rate at cost c is the reward rule ({mode}) at c applied to its per-task accuracies; the best schedule "
            "by cost band (grid of 201 costs):\n\n"
            + markdown_table(summary.drop(columns="task_accuracy")) + "\n\n" + markdown_table(bands) + "\n\n"
            + partial_verdict(bands),
            (best_schedule_figure(summary, rates, out_dir / "multitask_best_schedule_vs_cost.png"),
             learning_figure(frame, out_dir / "multitask_schedule_learning.png")),
        ))
    items += cost_sweep_report(labelled(frame), out_dir, name="multitask", title="Multitask 3×3", fixed=names)
    shares = share_table(frame)
    if not shares.empty:
        items.append(ReportItem(
            "Share of trials per schedule",
            "Per learning agent and cost, the share of its trials played with each schedule (mean over seeds).\n\n"
            + markdown_table(shares),
            (share_figure(shares, names, out_dir / "multitask_schedule_shares.png"),),
        ))
    return items


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
    return normalised_score(labelled(frame), ["cost"], schedule_order(frame))


def score_runs(frame: pd.DataFrame) -> RunScores | None:
    """The per-run scores behind :func:`score` (agent → (seeds, conditions)), for the aggregate statistics."""
    return normalised_score_runs(labelled(frame), ["cost"], schedule_order(frame))
