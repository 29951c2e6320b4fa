"""Analysis shared by experiments: per-run summaries, bootstrap CIs, cost-sweep tables and figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on CI machines

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy import stats  # noqa: E402

from benchmarks.experiment import ReportItem  # noqa: E402

#: Columns that identify a run rather than a trial.
RUN_KEYS = ("run_id", "env_id", "agent", "seed")
FIXED_AGENTS = ("always-serial", "always-parallel")


def run_summary(frame: pd.DataFrame, tag_columns: Sequence[str] = ()) -> pd.DataFrame:
    """One row per run: ``reward_rate`` (mean reward per trial), ``total_reward``, ``serial_share``, ``trials``."""
    keys = [*RUN_KEYS, *tag_columns]
    grouped = frame.assign(is_serial=frame.strategy.eq("serial")).groupby(keys, sort=False, dropna=False)
    return grouped.agg(
        reward_rate=("reward", "mean"),
        total_reward=("reward", "sum"),
        serial_share=("is_serial", "mean"),
        trials=("trial", "size"),
    ).reset_index()


def bootstrap_ci(values: np.ndarray, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Bootstrap CI of the mean (scipy, BCa; percentile if BCa degenerates); NaN for < 2 values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or np.all(values == values[0]):
        return (float(values.mean()), float(values.mean())) if values.size else (np.nan, np.nan)
    rng = np.random.default_rng(seed)
    for method in ("BCa", "percentile"):
        result = stats.bootstrap((values,), np.mean, confidence_level=confidence, method=method, rng=rng,
                                 n_resamples=2000)
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return np.nan, np.nan


def agent_table(summary: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean reward rate per agent and ``by`` group with a 95 % bootstrap CI over seeds, and regret.

    Regret: the best fixed strategy's mean reward rate in the group minus the agent's (positive = worse).
    """
    rows = []
    for keys, group in summary.groupby([*by, "agent"], sort=True):
        low, high = bootstrap_ci(group.reward_rate.to_numpy())
        rows.append({**dict(zip([*by, "agent"], keys)), "reward_rate": group.reward_rate.mean(),
                     "ci_low": low, "ci_high": high, "serial_share": group.serial_share.mean(),
                     "seeds": len(group)})
    table = pd.DataFrame(rows)
    fixed = table[table.agent.isin(FIXED_AGENTS)]
    if by and not fixed.empty:
        best = fixed.groupby(list(by)).reward_rate.max().rename("best_fixed")
        table = table.join(best, on=list(by))
        table["regret"] = table.best_fixed - table.reward_rate
    return table


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A frame as a GitHub markdown table (no extra dependency)."""
    def cell(value: object) -> str:
        return f"{value:.{digits}f}" if isinstance(value, (float, np.floating)) else str(value)

    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def save_figure(figure: plt.Figure, path: Path) -> Path:
    """Save as PNG (150 dpi) and close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


def cost_sweep_report(
    frame: pd.DataFrame, out_dir: Path, *, name: str, title: str, facet: str | None = None
) -> list[ReportItem]:
    """Fig 5-style analysis of a sweep over the ``cost`` tag: reward rate and serial share vs cost per agent.

    ``facet`` (a tag column, e.g. ``parallel_midpoint``) draws one panel per value.
    """
    tags = ["cost", *([facet] if facet else [])]
    summary = run_summary(frame, tags)
    table = agent_table(summary, by=tags)
    sns.set_theme(style="whitegrid", context="notebook")
    order = sorted(summary.agent.unique(), key=lambda a: (a not in FIXED_AGENTS, a))
    items = []
    for measure, label, suffix in (("reward_rate", "reward rate (mean reward per trial)", "reward"),
                                   ("serial_share", "share of serial trials", "serial_share")):
        grid = sns.relplot(data=summary, x="cost", y=measure, hue="agent", hue_order=order, col=facet,
                           kind="line", marker="o", errorbar=("ci", 95), seed=0, height=3.6, aspect=1.25,
                           facet_kws={"sharey": True})
        grid.set_axis_labels("serialization cost c", label)
        grid.figure.suptitle(f"{title}: {label} vs cost (95 % CI over seeds)", y=1.03)
        path = save_figure(grid.figure, out_dir / f"{name}_{suffix}_vs_cost.png")
        items.append(ReportItem(f"{label.capitalize()} vs cost", figures=(path,)))
    shown = table.drop(columns=[c for c in ("best_fixed",) if c in table])
    items.append(ReportItem(
        "Reward rate per agent and cost",
        "Mean reward per trial over seeds, 95 % bootstrap CI (scipy BCa), share of serial trials, and regret "
        "= best fixed strategy's reward rate − the agent's.\n\n" + markdown_table(shown),
    ))
    return items
