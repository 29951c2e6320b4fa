"""seq_tasks' analysis: the sequential-task paper's Fig 2 (a–f), power-law slopes, facilitation/interference, GEM;
and its score."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tradeoff_gym.benchmarks.analysis import markdown_table, save_figure, score_table  # noqa: E402
from tradeoff_gym.benchmarks.experiment import ReportItem  # noqa: E402
from tradeoff_gym.benchmarks.sequential_metrics import (  # noqa: E402
    accuracy_after_budget,
    accuracy_long,
    backward_interference,
    forward_facilitation,
    gem_matrix,
    gem_metrics,
    power_law_slopes,
    stream_keys,
    trials_to_criterion,
)

#: What :func:`score` means.
SCORE = (
    "Score per regimen: examples to criterion of each newly introduced task (the paper's learning effort, Fig 2d "
    "thick line), mean over a stream's episodes, then mean over streams with a 95 % bootstrap CI. LOWER is "
    "better (fewer examples to learn a new task); the table is sorted best (lowest) first. A new task that "
    "never reached criterion (its episode hit the trial cap) counts with the examples it had when the episode "
    "ended — a lower bound. The condition column names the regimen."
)


def new_task_effort(frame: pd.DataFrame, criterion: float) -> pd.DataFrame:
    """Per (stream, episode): ``examples`` the newly introduced task needed to reach ``criterion``; ``reached``.

    Where it never did within the episode, ``examples`` is its training examples when the episode ended.
    """
    keys = stream_keys(frame)
    ttc = trials_to_criterion(frame, criterion)
    new = ttc[ttc["times_trained"] == 1]
    long = accuracy_long(frame, evaluated_only=False)
    at_end = long[long["times_trained"] == 1].groupby([*keys, "episode"])["examples"].max().rename("at_end")
    new = new.join(at_end, on=[*keys, "episode"])
    new = new.assign(examples=new["examples"].fillna(new["at_end"]))
    return new[[*keys, "episode", "examples", "reached"]].reset_index(drop=True)


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per regimen (``label``), best (fewest examples) first: :data:`SCORE`."""
    criterion = float(frame["criterion"].iloc[0]) if "criterion" in frame.columns else 0.95
    regimen = frame["regimen"] if "regimen" in frame.columns else pd.Series("mix", index=frame.index)
    streams = frame.assign(label=regimen).groupby("run_id", sort=False)[["agent", "label"]].first()
    effort = new_task_effort(frame, criterion)
    per_stream = effort.groupby("run_id")["examples"].mean().rename("examples").to_frame().join(streams)
    return score_table(per_stream.reset_index(), "examples", by=["agent", "label"], higher_is_better=False)


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Fig 2 (a–f) per regimen, the power-law slopes, facilitation/interference per episode and GEM metrics."""
    items: list[ReportItem] = []
    criterion = float(frame["criterion"].iloc[0]) if "criterion" in frame.columns else 0.95
    budget = int(frame["budget"].iloc[0]) if "budget" in frame.columns else 1000
    regimens = frame["regimen"].unique() if "regimen" in frame.columns else ["mix"]
    for regimen in regimens:
        part = frame[frame["regimen"] == regimen] if "regimen" in frame.columns else frame
        label = f"regimen {regimen}, {part['run_id'].nunique()} streams"
        ttc = trials_to_criterion(part, criterion)
        budget_acc = accuracy_after_budget(part, budget, unit="examples")
        path = figure_2(part, ttc, budget_acc, out_dir / f"seq_tasks_fig2_{regimen}.png", label, budget, criterion)
        items.append(ReportItem(f"Fig 2 (a–f), {label}", text=FIG2_TEXT.format(budget=budget), figures=(path,)))
        items.append(ReportItem(f"Power-law slopes ({regimen})", text=SLOPES_TEXT + markdown_table(slope_table(ttc))))
        items.append(ReportItem(f"Facilitation and interference per episode ({regimen})",
                                text=EPISODE_TEXT + markdown_table(episode_table(part, ttc, criterion))))
        items.append(ReportItem(f"GEM metrics ({regimen})", text=GEM_TEXT + markdown_table(gem_table(part))))
    return items


FIG2_TEXT = (
    "(a) hold-out accuracy of the newly introduced task vs its training examples, by ordinal position "
    "(cyan = episode 1 … magenta = last); (b) the first task's accuracy each time it is retrained (black = "
    "1st … copper = last); (c) examples to criterion vs times trained, by position; (d) the same vs episode, by "
    "times trained (thick black: the new task); (e, f) accuracy after {budget} examples of the task (or when the "
    "episode ended, if sooner). Means over streams, shaded ±1 SE; (c–d) geometric means.\n"
)
SLOPES_TEXT = (
    "Log-log least-squares slopes of examples to criterion (all streams' points pooled; 95 % t-interval). "
    "Fig 2c: one fit per ordinal position against times trained; Fig 2d: one fit per times trained against "
    "episode (times trained = 1 is forward facilitation of new tasks).\n\n"
)
EPISODE_TEXT = (
    "Per episode, means over streams: the new task's examples to criterion and facilitation "
    "1 − trials(new task)/trials(task 1) in env trials; the old tasks' forgetting (accuracy at the end of the "
    "previous episode − lowest during this one) and trials until they are back at criterion; episodes that hit "
    "the trial cap (their unreached tasks are left out of the effort means and of Fig 2c–d, which biases those "
    "downward).\n\n"
)
GEM_TEXT = (
    "Lopez-Paz & Ranzato (2017), R[i, j] = accuracy on task j at the end of episode i+1; FWT against the "
    "untrained model's balanced accuracy 0.5. Mean ± SE over streams.\n\n"
)


def slope_table(ttc: pd.DataFrame) -> pd.DataFrame:
    """Fitted power-law slopes of examples to criterion: per position vs times trained, per times trained vs episode."""
    c = power_law_slopes(ttc, x="times_trained", by="position", y="examples").rename(columns={"position": "curve"})
    c.insert(0, "fit", "2c: vs times trained, position")
    d = power_law_slopes(ttc, x="episode", by="times_trained", y="examples").rename(columns={"times_trained": "curve"})
    d.insert(0, "fit", "2d: vs episode, times trained")
    # The paper sees facilitation "starting at the third episode": the new-task fit without episode 1.
    later = ttc[(ttc["times_trained"] == 1) & (ttc["episode"] >= 2)]
    d2 = power_law_slopes(later, x="episode", by="times_trained", y="examples")
    d2 = d2.rename(columns={"times_trained": "curve"})
    d2.insert(0, "fit", "2d: new task, episodes >= 2")
    table = pd.concat([c, d, d2], ignore_index=True)
    return table[np.isfinite(table["slope_low"])].drop(columns="intercept").reset_index(drop=True)


def episode_table(frame: pd.DataFrame, ttc: pd.DataFrame, criterion: float) -> pd.DataFrame:
    """Per-episode means over streams of new-task effort, facilitation, forgetting, retraining and capping."""
    ff = forward_facilitation(ttc)
    new_examples = ttc[ttc["times_trained"] == 1][["run_id", "episode", "examples"]]
    bi = backward_interference(frame, criterion)
    ends = frame.groupby(["run_id", "episode"], as_index=False).tail(1)
    capped = ends.assign(capped=ends["criterion_met"] == 0)[["run_id", "episode", "capped"]]
    merged = (
        ff.merge(new_examples, on=["run_id", "episode"], how="left")
        .merge(bi, on=["run_id", "episode"], how="left", suffixes=("", "_bi"))
        .merge(capped, on=["run_id", "episode"], how="left")
    )
    return (
        merged.groupby("episode")
        .agg(
            new_examples=("examples", "mean"),
            new_trials=("new_trials", "mean"),
            facilitation=("facilitation", "mean"),
            forgetting=("forgetting", "mean"),
            retrain_trials=("retrain_trials", "mean"),
            capped=("capped", "sum"),
            streams=("run_id", "nunique"),
        )
        .reset_index()
    )


def gem_table(frame: pd.DataFrame) -> pd.DataFrame:
    """ACC, BWT and FWT per stream, summarised as mean and SE."""
    values = pd.DataFrame([gem_metrics(gem_matrix(stream)) for _, stream in frame.groupby("run_id")])
    n = len(values)
    rows = [
        {"metric": m, "mean": values[m].mean(), "se": values[m].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
         "streams": n}
        for m in ("ACC", "BWT", "FWT")
    ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------- figures
def _mean_se(values: pd.DataFrame, by: list[str], y: str, log: bool = False) -> pd.DataFrame:
    """Mean and standard error of ``y`` per ``by`` group (of log10 y, returned as 10**, when ``log``)."""
    data = values.assign(_y=np.log10(values[y]) if log else values[y]).dropna(subset=["_y"])
    out = data.groupby(by)["_y"].agg(["mean", "std", "count"]).reset_index()
    out["se"] = (out["std"] / np.sqrt(out["count"])).fillna(0.0)
    if log:
        out["low"], out["high"] = 10 ** (out["mean"] - out["se"]), 10 ** (out["mean"] + out["se"])
        out["mean"] = 10 ** out["mean"]
    else:
        out["low"], out["high"] = out["mean"] - out["se"], out["mean"] + out["se"]
    return out


def _curves(
    ax: plt.Axes, table: pd.DataFrame, x: str, hue: str, cmap: str, n: int, highlight: int | None = None
) -> None:
    """One line (with a ±SE band) per ``hue`` level, coloured along ``cmap``."""
    colours = plt.get_cmap(cmap)(np.linspace(0, 1, max(n, 2)))
    for level, part in table.groupby(hue):
        colour = "black" if level == highlight else colours[int(level) - 1]
        width = 3 if level == highlight else 1.5
        ax.plot(part[x], part["mean"], "o-", color=colour, lw=width, ms=3, label=f"{level}")
        ax.fill_between(part[x], part["low"], part["high"], color=colour, alpha=0.2, lw=0)


def _accuracy_curves(long: pd.DataFrame, step: float) -> pd.DataFrame:
    """Per (stream, curve), accuracy on a common grid of examples, holding each episode's last value after it ends."""
    grid_max = long["examples"].max()
    grid = np.arange(step, grid_max + step, step)
    rows = []
    for key, part in long.groupby(["run_id", "curve"]):
        part = part.sort_values("examples")
        at = np.searchsorted(part["examples"].to_numpy(), grid, side="right") - 1
        acc = np.where(at >= 0, part["accuracy"].to_numpy()[np.maximum(at, 0)], np.nan)
        rows.append(pd.DataFrame({"run_id": key[0], "curve": key[1], "examples": grid, "accuracy": acc}))
    return pd.concat(rows, ignore_index=True)


def figure_2(
    frame: pd.DataFrame, ttc: pd.DataFrame, budget_acc: pd.DataFrame, path: Path, label: str, budget: int,
    criterion: float,
) -> Path:
    """The paper's Figure 2 (a–f) from one regimen's streams."""
    n = int(frame["episode"].max())
    long = accuracy_long(frame)
    step = float(max(long["examples"].max() / 60, 1))
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    (a, c, e), (b, d, f) = axes[0], axes[1]

    new = long[long["times_trained"] == 1].assign(curve=lambda t: t["task"] + 1)
    _curves(a, _mean_se(_accuracy_curves(new, step), ["curve", "examples"], "accuracy"), "examples", "curve", "cool", n)
    a.set(xscale="log", xlabel="training examples of the new task (log)", ylabel="hold-out accuracy",
          title="(a) newly introduced task, by ordinal position")
    first = long[long["task"] == 0].assign(curve=lambda t: t["times_trained"])
    first_curves = _mean_se(_accuracy_curves(first, step), ["curve", "examples"], "accuracy")
    _curves(b, first_curves, "examples", "curve", "copper", n)
    b.set(xscale="log", xlabel="training examples in the episode (log)", ylabel="hold-out accuracy",
          title="(b) task 1, by times trained")
    for ax in (a, b):
        ax.axhline(criterion, ls="--", color="grey", lw=1)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(title="position" if ax is a else "times trained", fontsize=7, ncol=2)

    positioned = ttc.assign(position=ttc["task"] + 1)
    reached = positioned[positioned["reached"] & (positioned["examples"] > 0)]
    by_position = _mean_se(reached, ["position", "times_trained"], "examples", log=True)
    _curves(c, by_position, "times_trained", "position", "cool", n)
    c.set(xscale="log", yscale="log", xlabel="times trained (log)", ylabel="examples to criterion (log)",
          title="(c) effort to criterion vs times trained")
    _curves(d, _mean_se(reached, ["times_trained", "episode"], "examples", log=True), "episode", "times_trained",
            "copper", n, highlight=1)
    d.set(xscale="log", yscale="log", xlabel="episode (log)", ylabel="examples to criterion (log)",
          title="(d) effort to criterion vs episode")

    acc = budget_acc.assign(position=budget_acc["task"] + 1)
    _curves(e, _mean_se(acc, ["position", "times_trained"], "accuracy"), "times_trained", "position", "cool", n)
    e.set(xscale="log", xlabel="times trained (log)", ylabel=f"accuracy after {budget} examples",
          title="(e) accuracy after a fixed budget vs times trained")
    _curves(f, _mean_se(acc, ["times_trained", "episode"], "accuracy"), "episode", "times_trained", "copper", n,
            highlight=1)
    f.set(xscale="log", xlabel="episode (log)", ylabel=f"accuracy after {budget} examples",
          title="(f) accuracy after a fixed budget vs episode")
    for ax in axes.flat:
        ax.grid(alpha=0.3, which="both")
        if ax not in (a, b) and ax.get_legend_handles_labels()[0]:
            ax.legend(title="position" if ax in (c, e) else "times trained", fontsize=7, ncol=2)
    fig.suptitle(f"Sequential task streams (sequential multitask, Fig 2) — {label}")
    fig.tight_layout()
    return save_figure(fig, path)
