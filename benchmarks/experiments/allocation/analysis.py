"""allocation's analysis: the Gumbel-Matrix relatedness check (transfer and sharing by ρ) and the drone world's
trade-off map."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from tradeoff_gym.benchmarks.analysis import (
    bootstrap_ci,
    final_probe,
    learning_curve_figure,
    markdown_table,
    probe_figure,
    save_figure,
    score_table,
    trials_to_criterion,
)
from tradeoff_gym.benchmarks.experiment import ReportItem

#: What :func:`score` means.
SCORE = (
    "Score per drone-world condition (gating · training strategy, label): area under the learning curve = the "
    "run's mean raw accuracy over the whole episode (0–1) at c = 0, mean over seeds with a 95 % bootstrap CI; "
    "higher = learned sooner. Its price, the parallel-execution error, is in the trade-off table and figure below. "
    "(Without drone runs: the synthetic tasks' mean R² per relatedness condition.)"
)
#: The last share of a relatedness run whose squared error counts as its final error.
FINAL_SHARE = 0.2


# ------------------------------------------------------------------------------------------------ relatedness
def relatedness_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per relatedness run: tags, ``final_mse`` (mean over its last 20 % of steps), ``r2_area`` (mean
    R², the area under its curve), ``overlap`` (the last logged share of components the related pair shares)."""
    rows = []
    for run_id, run in frame.groupby("run_id", sort=False):
        last = run[run.trial >= run.trial.max() * (1 - FINAL_SHARE)]
        logged = run.overlap_related.dropna() if "overlap_related" in run else pd.Series(dtype=float)
        rows.append({"run_id": run_id, "seed": run.seed.iloc[0], "heads": bool(run.heads.iloc[0]),
                     "rho": float(run.rho.iloc[0]), "pattern": run.pattern.iloc[0], "final_mse": last.mse.mean(),
                     "r2_area": run.raw_accuracy.mean(),
                     "overlap": logged.iloc[-1] if len(logged) else np.nan})
    return pd.DataFrame(rows)


def transfer_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (heads, ρ): final error of each pattern, the transfer gain of sharing (separate − shared, paired by seed:
    positive = the shared bottom helps), the learned allocation's gain over no sharing, and its shared share."""
    rows = []
    for (heads, rho), group in runs.groupby(["heads", "rho"], sort=True):
        wide = group.pivot_table(index="seed", columns="pattern", values="final_mse")
        row = {"heads": heads, "ρ": rho}
        for pattern in ("shared", "separate", "learned"):
            if pattern in wide:
                row[f"final MSE {pattern}"] = wide[pattern].mean()
        if {"shared", "separate"} <= set(wide):
            gain = (wide.separate - wide.shared).dropna().to_numpy()
            low, high = bootstrap_ci(gain)
            row.update({"sharing gain (separate − shared)": gain.mean(), "gain CI low": low, "gain CI high": high})
        if {"learned", "separate"} <= set(wide):
            row["learned gain (separate − learned)"] = (wide.separate - wide.learned).mean()
        learned = group[group.pattern == "learned"].overlap
        if learned.notna().any():
            row["learned: share of components the pair shares"] = learned.mean()
        rows.append(row)
    return pd.DataFrame(rows)


def relatedness_items(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """The Gumbel-Matrix check (its section II and appendix A3): loss curves by pattern and ρ, the transfer table,
    learned sharing over training."""
    runs = relatedness_runs(frame)
    table = transfer_table(runs)
    data = frame.assign(mse_smooth=frame.groupby("run_id", sort=False).mse.transform(
        lambda s: s.rolling(50, min_periods=1).mean()))
    step = max(int(data.trial.max()) // 150, 1)
    data = data[data.trial % step == 0].assign(heads=lambda d: d.heads.map({True: "task heads", False: "no heads"}))
    grid = sns.relplot(data=data, x="trial", y="mse_smooth", hue="pattern", col="rho", row="heads", kind="line",
                       hue_order=[p for p in ("shared", "separate", "learned") if p in set(data.pattern)],
                       errorbar="se", height=3, aspect=1.3, facet_kws={"sharey": "row"})  # (bootstraps: slow)
    grid.set_axis_labels("training step", "squared error (50-step mean)")
    grid.figure.suptitle("Gumbel-Matrix check: shared bottom vs no sharing vs learned allocation, by ρ", y=1.03)
    curves = save_figure(grid.figure, out_dir / "relatedness_loss.png")
    figures = [curves]
    learned = frame[(frame.pattern == "learned")]
    if "overlap_related" in learned and learned.overlap_related.notna().any():
        figures.append(probe_figure(
            learned.assign(rho=learned.rho.map(lambda r: f"ρ = {r:g}"),
                           setting=lambda d: d.rho + d.heads.map({True: ", task heads", False: ", no heads"})),
            "overlap_related", "setting", out_dir / "relatedness_sharing.png",
            "Learned allocation: components the two tasks share", "share of components both tasks use"))
    summary = runs.groupby(["heads", "rho", "pattern"]).agg(
        final_mse=("final_mse", "mean"), r2_area=("r2_area", "mean"), runs=("run_id", "size")).reset_index()
    return [ReportItem(
        "The Gumbel-Matrix synthetic check: related tasks share, unrelated ones separate",
        "Two regression tasks of relatedness ρ (the paper's appendix A1) on four parallel components (appendix A3: "
        "without task heads a task's function is fixed by the components it uses; with heads, the paper's section II "
        "network). Final MSE = "
        "mean squared error over the last 20 % of steps. The seed's sign: the sharing gain (separate − shared, > 0 "
        "= a shared bottom helps) is positive for related tasks (ρ = 1) and negative for unrelated ones (ρ = 0); "
        "learned allocation shares more components between related tasks than between unrelated ones. (Curves: "
        "mean over seeds ± its standard error.)\n\n"
        + markdown_table(table) + "\n\nPer condition (mean over seeds; `r2_area` = mean R² over training):\n\n"
        + markdown_table(summary), tuple(figures))]


# ------------------------------------------------------------------------------------------------ drone world
def drone_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per drone run: tags, ``auc`` (mean raw accuracy), ``trials_to_90``, last probe's errors."""
    tags = frame.groupby("run_id", sort=False)[["gating", "training", "condition", "seed"]].first()
    out = tags.assign(auc=frame.groupby("run_id", sort=False).raw_accuracy.mean(),
                      trials_to_90=trials_to_criterion(frame))
    probes = final_probe(frame, "parallel_error")
    for metric in ("parallel_error", "parallel_error_no_null"):
        values = probes[probes.metric == metric].set_index("run_id").value
        out[metric] = values.reindex(out.index)
    serial = final_probe(frame, "serial_error_")
    out["serial_error"] = serial.groupby("run_id").value.mean().reindex(out.index)
    return out.reset_index()


def tradeoff_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (gating, training): learning speed beside the errors at the end, means over seeds (AUC with its CI)."""
    rows = []
    for (gating, training), group in runs.groupby(["gating", "training"], sort=True):
        low, high = bootstrap_ci(group.auc.to_numpy())
        rows.append({"gating": gating, "training": training, "AUC": group.auc.mean(), "AUC CI low": low,
                     "AUC CI high": high, "trials to 90 %": group.trials_to_90.mean(),
                     "final serial error": group.serial_error.mean(),
                     "final parallel error": group.parallel_error.mean(),
                     "final parallel error, no null": group.parallel_error_no_null.mean(), "runs": len(group)})
    return pd.DataFrame(rows).sort_values(["training", "AUC"], ascending=[True, False])


def tradeoff_figure(runs: pd.DataFrame, path: Path) -> Path:
    """Learning speed (x) against parallel-execution error (y), one point per run, means as large markers."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharex=True)
    means = runs.groupby(["gating", "training"]).mean(numeric_only=True).reset_index()
    for axis, metric, what in ((axes[0], "parallel_error", "as scored"),
                               (axes[1], "parallel_error_no_null", "heads' null class left out")):
        sns.scatterplot(data=runs, x="auc", y=metric, hue="gating", style="training", alpha=0.35, s=30, ax=axis,
                        legend=False)
        sns.scatterplot(data=means, x="auc", y=metric, hue="gating", style="training", s=160, ax=axis,
                        legend=axis is axes[1], edgecolor="black")
        axis.set(xlabel="learning speed: area under the accuracy curve", ylabel=f"parallel-execution error ({what})",
                 title=f"Efficacy vs efficiency, {what}")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.suptitle("Where learned allocation lands: faster learning → right, safer parallel execution → down", y=1.02)
    return save_figure(fig, path)


def drone_items(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """The trade-off map and table, learning curves and parallel error over training, by condition."""
    runs = drone_runs(frame)
    figures = [tradeoff_figure(runs, out_dir / "tradeoff.png")]
    for training, part in frame.groupby("training", sort=True):  # one panel per strategy: six gatings each
        figures.append(learning_curve_figure(part, "gating", out_dir / f"drone_learning_{training}.png",
                                             f"Drone world, {training} training: learning by gating"))
        figures.append(probe_figure(part, "parallel_error", "gating", out_dir / f"drone_parallel_error_{training}.png",
                                    f"Drone world, {training} training: error when tasks execute in parallel",
                                    "parallel-execution error"))
    return [ReportItem(
        "Learned allocation on the efficacy/efficiency trade-off (drone world, c = 0)",
        "Per gating (the paper's learned task gates; frozen overlaps; learned allocation, `gating=\"allocation\"`, "
        "p_init 0.5, 4 components per layer, at two learning rates of its logits) and training strategy: area under "
        "the learning curve (mean raw accuracy over the episode), trials until the 50-trial mean reaches 90 % (runs "
        "that never do are left out), and the last probe's serial and parallel-execution errors (as scored, and "
        "with the heads' null class left out).\n\n" + markdown_table(tradeoff_table(runs)), tuple(figures))]


# ------------------------------------------------------------------------------------------------ the report
def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """The relatedness check (if its runs are there), then the drone world's trade-off (if its runs are there)."""
    items: list[ReportItem] = []
    if "part" not in frame:
        return items
    related = frame[frame.part == "relatedness"]
    if len(related):
        items += relatedness_items(related, out_dir)
    drone = frame[frame.part == "drone"]
    if len(drone):
        items += drone_items(drone, out_dir)
    return items


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per condition (``label``), best first: :data:`SCORE` (agent, score, ci_low, ci_high, n, label)."""
    drone = frame[frame.part == "drone"] if "part" in frame else frame.iloc[:0]
    if len(drone):
        per_run = drone.groupby(["run_id", "agent", "gating"], sort=False).raw_accuracy.mean().reset_index()
        per_run["label"] = per_run.gating
    else:
        related = frame[frame.part == "relatedness"] if "part" in frame else frame
        per_run = related.groupby(["run_id", "agent", "rho", "pattern"], sort=False).raw_accuracy.mean().reset_index()
        per_run["label"] = [f"ρ {r:g} {p}" for r, p in zip(per_run.rho, per_run.pattern)]
        per_run["agent"] = per_run.pattern
    return score_table(per_run, "raw_accuracy", by=["agent", "label"])
