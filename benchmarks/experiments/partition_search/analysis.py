"""partition_search's analysis: search progress, the P found, and held-out reward rates beside the references."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from tradeoff_gym.benchmarks.analysis import bootstrap_ci, markdown_table, save_figure, score_table
from tradeoff_gym.benchmarks.experiment import ReportItem

#: What :func:`score` means.
SCORE = (
    "Score per partition (label) at the search's cost c: the held-out reward rate (the SerialParallel env's reward "
    "at c, mean over the final evaluation's trials and seeds) of the better training strategy (agent column: "
    "serial or parallel, the one with the higher mean), mean over search runs with a 95 % bootstrap CI; higher is "
    "better. 'found by <method>' is the search's incumbent; the hand-set overlaps and learned task gates are "
    "trained on the same held-out seeds (one set per run seed, shared by the methods)."
)
FINAL = re.compile(r"^final_(?P<condition>.+)_(?P<strategy>serial|parallel)$")


def final_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Long format, one row per (run, condition, strategy): the held-out reward rate of the last generation."""
    columns = [c for c in frame.columns if FINAL.match(c)]
    last = frame.dropna(subset=columns[:1]).loc[lambda d: d.groupby("run_id").trial.idxmax()]
    long = last.melt(id_vars=["run_id", "seed", "method", "objective_cost"], value_vars=columns,
                     var_name="column", value_name="reward_rate")
    long = long.dropna(subset=["reward_rate"])  # the references are in one run of a seed only
    parts = long.column.str.extract(FINAL)
    condition = parts.condition.str.replace("_", " ")
    found = condition == "found"
    long["condition"] = np.where(found, "found by " + long.method, condition)
    long["strategy"] = parts.strategy
    return long.drop(columns="column")


def final_table(rates: pd.DataFrame) -> pd.DataFrame:
    """Per (cost, condition): mean held-out reward rate trained serially, in parallel, and the better of the two."""
    wide = rates.pivot_table(index=["objective_cost", "condition"], columns="strategy", values="reward_rate",
                             aggfunc="mean")
    wide["better"] = wide[["serial", "parallel"]].max(axis=1)
    wide["seeds"] = rates.groupby(["objective_cost", "condition"]).seed.nunique()
    return wide.reset_index().sort_values(["objective_cost", "better"], ascending=[True, False]).rename(
        columns={"objective_cost": "cost c", "serial": "serial training", "parallel": "parallel training"})


def paired_gain(rates: pd.DataFrame) -> pd.DataFrame:
    """Per (cost, method): found − best reference (each the better strategy), paired by seed (the same held-out
    seeds), with its CI; empty without reference runs."""
    best = rates.groupby(["objective_cost", "seed", "condition"]).reward_rate.max().reset_index()
    rows = []
    for cost, group in best.groupby("objective_cost"):
        wide = group.pivot(index="seed", columns="condition", values="reward_rate")
        references = wide[[c for c in wide if not c.startswith("found")]]
        if references.empty:
            continue
        for found in (c for c in wide if c.startswith("found")):
            gain = (wide[found] - references.max(axis=1)).dropna().to_numpy()
            low, high = bootstrap_ci(gain)
            rows.append({"cost c": cost, "partition": found, "found − best reference": gain.mean(), "CI low": low,
                         "CI high": high, "best reference (most often)": references.idxmax(axis=1).mode().iloc[0],
                         "seeds": len(gain)})
    return pd.DataFrame(rows)


def found_partitions(frame: pd.DataFrame) -> pd.DataFrame:
    """Per run, the last incumbent's P summary: capacity (mean diag P), overlap (mean off-diagonal), objective."""
    last = frame.loc[frame.groupby("run_id").trial.idxmax()]
    columns = ["run_id", "method", "objective_cost", "seed", "capacity", "overlap", "objective",
               "reward_rate_serial", "reward_rate_parallel", "evaluations"]
    return last[columns + sorted(c for c in frame.columns if c.startswith("p_"))].reset_index(drop=True)


def p_heatmaps(found: pd.DataFrame, path: Path) -> Path:
    """The found P (mean over runs) per (method, cost): shares on the diagonal, pairs' overlaps off it."""
    groups = list(found.groupby(["method", "objective_cost"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(3.6 * len(groups), 3.4), squeeze=False)
    for axis, ((method, cost), group) in zip(axes[0], groups):
        entries = group[[c for c in group.columns if c.startswith("p_")]].mean()
        n = int(round((np.sqrt(8 * len(entries) + 1) - 1) / 2))
        p = np.zeros((n, n))
        for name, value in entries.items():
            i, j = int(name[2]), int(name[3])
            p[i, j] = p[j, i] = value
        sns.heatmap(p, vmin=0, vmax=1, annot=True, fmt=".2f", cmap="viridis", square=True, cbar=False, ax=axis,
                    xticklabels=[f"T{t + 1}" for t in range(n)], yticklabels=[f"T{t + 1}" for t in range(n)])
        axis.set_title(f"{method}, c = {cost:g}")
    fig.suptitle("Found overlap matrix P = MᵀM / c (mean over runs and masked layers)", y=1.04)
    return save_figure(fig, path)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Search progress, held-out comparison (table + figure), the P found."""
    progress_data = frame.assign(generation=frame.trial + 1)
    fig, axis = plt.subplots(figsize=(6.4, 4))
    sns.lineplot(data=progress_data, x="evaluations", y="reward", hue="method", style="objective_cost",
                 errorbar=("ci", 95), seed=0, marker="o", ax=axis)
    axis.set(xlabel="candidates scored", ylabel="incumbent's objective (short runs)",
             title="Partition search: the incumbent's objective")
    progress = save_figure(fig, out_dir / "search_progress.png")

    rates = final_rates(frame)
    fig, axis = plt.subplots(figsize=(8, 4))
    order = final_table(rates).condition.drop_duplicates().tolist()
    sns.barplot(data=rates, x="condition", y="reward_rate", hue="strategy", order=order, errorbar=("ci", 95), seed=0,
                ax=axis)
    axis.set(xlabel="", ylabel="held-out reward rate at c", title="Found partitions vs hand-set overlaps and gates")
    axis.tick_params(axis="x", rotation=30)
    comparison = save_figure(fig, out_dir / "final_reward_rates.png")

    found = found_partitions(frame)
    heatmaps = p_heatmaps(found, out_dir / "found_p.png")
    summary = found.drop(columns=[c for c in found.columns if c.startswith("p_")])
    return [
        ReportItem(
            "Found partitions beside hand-set overlaps and the two training strategies",
            "Held-out reward rate (the SerialParallel env's reward at the search's cost c, mean over the final "
            "evaluation's trials and seeds) of the search's final incumbent and of the references (hand-set "
            "overlaps on every other gated layer, learned task gates), each trained serially and in parallel on the "
            "same held-out seeds (one set per run seed); `better` = the better of the two means.\n\n"
            + markdown_table(final_table(rates)) + "\n\nPaired by seed: the found partition's better strategy "
            "minus the best reference's (> 0: the search beat every hand-set choice):\n\n"
            + markdown_table(paired_gain(rates)), (comparison,)),
        ReportItem(
            "Search progress and the P found",
            "Per run, the last incumbent: capacity = mean diag(P) (each task's share of a masked layer), overlap = "
            "mean off-diagonal P, its objective on the short search runs (better strategy's reward rate − "
            "capacity_weight · mean diag(P)²) and those runs' reward rates.\n\n" + markdown_table(summary),
            (progress, heatmaps)),
    ]


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per partition (``label``), best first: :data:`SCORE` (agent, score, ci_low, ci_high, n, label)."""
    rates = final_rates(frame)
    means = rates.groupby(["condition", "strategy"]).reward_rate.mean()
    better = means.unstack("strategy").idxmax(axis=1)  # condition → its better strategy
    chosen = rates[rates.strategy == rates.condition.map(better)]
    per_run = chosen.rename(columns={"strategy": "agent", "condition": "label"})
    return score_table(per_run, "reward_rate", by=["agent", "label"])
