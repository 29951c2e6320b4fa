"""generalization's analysis: the scoreboard of agents on held-out worlds, per family and overall, and their
normalised return against each world's crossover cost c*.

Definitions (docs/benchmarks/experiments.md, "generalization"):

* **normalised return** of a run: its reward rate ÷ the best fixed strategy's on the same seed, the best fixed
  strategy of a (family, world, cost) being the fixed agent (any strategy of the world's table,
  :data:`FIXED_AGENTS`) with the highest mean reward rate over seeds there — :func:`normalised_returns` with the
  conditions :data:`CONDITIONS`. A LearningCurves world's horizon is the same for every run, so reward-rate and
  return ratios agree;
* a **cell** is a (family, world, cost): its mean normalised return over seeds; a **world mean** the mean of its
  cells (over costs and seeds);
* per family and agent: **mean** = the mean of the world means, 95 % bootstrap CI over worlds; **worst decile** =
  the 10th percentile (inverted CDF: a value that occurs) of the cells; **≥ best fixed** = the share of worlds
  whose world mean is ≥ 1; **share of frontier** = the agent's mean ÷ the frontier rule's over the (world, cost,
  seed) runs both have;
* overall: every family counts the same — the mean of the family means (CI: bootstrap over worlds within each
  family, stratified), the 10th percentile of all cells weighted 1 / (the family's cells), the mean of the family
  shares, and the agents' summed family means ÷ the frontier's over the families that have a frontier.

Why per family first: families differ in size (200 worlds against 16–32) and in what is hard, and the scores of
different families are never pooled into one cell (:func:`check_not_pooled` on :data:`CONDITIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from tradeoff_gym.benchmarks import stats as run_stats
from tradeoff_gym.benchmarks.analysis import (
    agent_styles,
    bootstrap_ci,
    check_not_pooled,
    markdown_table,
    normalised_returns,
    normalised_score_runs,
    run_summary,
    save_figure,
)
from tradeoff_gym.benchmarks.experiment import ReportItem

__all__ = ["FIXED_AGENTS", "SCHEDULES", "FRONTIER", "CONDITIONS", "SCORE", "analyze", "score", "score_runs",
           "normalised_runs", "scoreboard", "world_cstar", "cstar_table"]

#: The tags one cell of the scoreboard is: runs are paired and normalised within one (family, world, cost).
CONDITIONS = ("family", "world", "cost")
#: Every strategy name a world family's table uses (lc-wide's 3–7 strategies: serial, mixed-1 … mixed-5, parallel):
#: the fixed agents whose best per cell is the reference. Ordered as figures colour them (serial blue, parallel orange).
FIXED_AGENTS: tuple[str, ...] = ("serial", "parallel", *(f"mixed-{j}" for j in range(1, 6)))
#: The fixed strategies that only some worlds have (lc-wide's intermediate schedules; ``mixed-j`` differs between
#: tables of different sizes): listed in the tables, left out of :func:`score`.
SCHEDULES: tuple[str, ...] = tuple(a for a in FIXED_AGENTS if a not in ("serial", "parallel"))
#: The label of each family's frontier rule's runs (the rule itself: the tag ``frontier_rule``).
FRONTIER = "frontier"
#: The quantile the worst decile reports.
DECILE = 0.1
#: A world mean counts as at least the best fixed strategy when it is ≥ 1 − this (rounding only).
TOLERANCE = 1e-9
#: The horizon of the measured c* of SerialParallel families (the data file's rows at τ = 5000).
CSTAR_HORIZON = 5000
#: Bootstrap resamples and seed of the overall CI.
REPS, SEED = 2000, 0

#: What :func:`score` means.
SCORE = (
    "Score = normalised return on held-out worlds and seeds: per run, the reward rate ÷ the best fixed strategy's "
    "on the same seed (the best of every strategy of the world's table at that world and cost, by mean over seeds); "
    "mean over costs and seeds per world, then over a family's test worlds, then over families (each family "
    "counts the same); 95 % CI: bootstrap over worlds within each family. n = worlds. 1 = as good as the best fixed "
    "strategy of every world; higher is better. serial, parallel and the frontier rule are listed too (lc-wide's "
    "intermediate schedules, references of some worlds only, in the report's tables)."
)


# ------------------------------------------------------------------------------------------------- the numbers
def normalised_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run (:func:`run_summary` by :data:`CONDITIONS`) with ``normalised`` (:func:`normalised_returns`)."""
    check_not_pooled(frame, CONDITIONS)
    return normalised_returns(run_summary(frame, CONDITIONS), CONDITIONS, FIXED_AGENTS)


def _weighted_decile(values: np.ndarray, weights: np.ndarray) -> float:
    """The :data:`DECILE` quantile of ``values`` (inverted CDF, so a value that occurs) under ``weights``."""
    keep = np.isfinite(values)
    if not keep.any():
        return np.nan
    return float(np.quantile(values[keep], DECILE, method="inverted_cdf", weights=weights[keep]))


def scoreboard(runs: pd.DataFrame) -> pd.DataFrame:
    """Per family (``family`` = its name) and overall (``family`` = ``"all"``), one row per agent.

    ``runs``: :func:`normalised_runs`. Columns ``family``, ``agent``, ``mean``, ``ci_low``, ``ci_high``,
    ``worst_decile``, ``at_least_best`` (share of worlds), ``worlds_at_least_best``, ``worlds``, ``frontier_share``
    (NaN without a frontier), ``families`` (families the agent was played in). Definitions: the module docstring.
    """
    runs = runs[np.isfinite(runs.normalised.to_numpy(dtype=np.float64))]
    cells = runs.groupby(["agent", *CONDITIONS], sort=True).normalised.mean().reset_index()
    rows = []
    per_family: dict[tuple[str, str], dict] = {}
    frontier = runs[runs.agent == FRONTIER]
    for (family, agent), mine in cells.groupby(["family", "agent"], sort=True):
        world_means = mine.groupby("world").normalised.mean()
        low, high = bootstrap_ci(world_means.to_numpy())
        ok = int((world_means >= 1 - TOLERANCE).sum())
        share, agent_common, frontier_common = np.nan, np.nan, np.nan
        theirs = frontier[frontier.family == family]
        if len(theirs):
            keys = ["world", "cost", "seed"]
            both = runs[(runs.agent == agent) & (runs.family == family)][[*keys, "normalised"]].merge(
                theirs[[*keys, "normalised"]], on=keys, suffixes=("", "_frontier"))
            if len(both):
                agent_common, frontier_common = both.normalised.mean(), both.normalised_frontier.mean()
                share = agent_common / frontier_common
        row = {"family": family, "agent": agent, "mean": world_means.mean(), "ci_low": low, "ci_high": high,
               "worst_decile": _weighted_decile(mine.normalised.to_numpy(), np.ones(len(mine))),
               "at_least_best": ok / len(world_means), "worlds_at_least_best": ok, "worlds": len(world_means),
               "frontier_share": share, "families": 1}
        rows.append(row)
        per_family[(family, agent)] = {**row, "world_means": world_means.to_numpy(),
                                       "cells": mine.normalised.to_numpy(), "agent_common": agent_common,
                                       "frontier_common": frontier_common}
    for agent in sorted({agent for _, agent in per_family}):
        mine = [entry for (_, a), entry in per_family.items() if a == agent]
        low, high = _stratified_ci([entry["world_means"] for entry in mine], agent)
        cells_all = np.concatenate([entry["cells"] for entry in mine])
        weights = np.concatenate([np.full(len(entry["cells"]), 1.0 / len(entry["cells"])) for entry in mine])
        fronted = [entry for entry in mine if np.isfinite(entry["frontier_common"])]
        share = (sum(e["agent_common"] for e in fronted) / sum(e["frontier_common"] for e in fronted)
                 if fronted else np.nan)
        rows.append({"family": "all", "agent": agent, "mean": float(np.mean([e["mean"] for e in mine])),
                     "ci_low": low, "ci_high": high, "worst_decile": _weighted_decile(cells_all, weights),
                     "at_least_best": float(np.mean([e["at_least_best"] for e in mine])),
                     "worlds_at_least_best": sum(e["worlds_at_least_best"] for e in mine),
                     "worlds": sum(e["worlds"] for e in mine), "frontier_share": share, "families": len(mine)})
    table = pd.DataFrame(rows, columns=["family", "agent", "mean", "ci_low", "ci_high", "worst_decile",
                                        "at_least_best", "worlds_at_least_best", "worlds", "frontier_share",
                                        "families"])
    # Overall, the intermediate schedules (played in some lc-wide worlds only) come after the agents played everywhere.
    table["_partial"] = (table.family == "all") & table.agent.isin(SCHEDULES)
    return table.sort_values(["family", "_partial", "mean", "agent"], ascending=[True, True, False, True],
                             kind="stable").drop(columns="_partial").reset_index(drop=True)


def _stratified_ci(groups: list[np.ndarray], agent: str) -> tuple[float, float]:
    """95 % percentile CI of the mean over groups of each group's mean, resampling within each group (worlds within
    families); :data:`REPS` resamples from :func:`~tradeoff_gym.benchmarks.stats.rng_for` ``(SEED, agent)``."""
    if all(len(g) < 2 or np.all(g == g[0]) for g in groups):
        value = float(np.mean([np.mean(g) for g in groups]))
        return value, value
    rng = run_stats.rng_for(SEED, agent)
    draws = np.mean([g[rng.integers(0, len(g), size=(REPS, len(g)))].mean(axis=1) for g in groups], axis=0)
    low, high = run_stats.percentile_interval(draws)
    return float(low), float(high)


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per agent, best first: :data:`SCORE` (columns agent, score, ci_low, ci_high, n = worlds); lc-wide's
    intermediate schedules (:data:`SCHEDULES`, references of some worlds only) are in the report's tables only."""
    table = scoreboard(normalised_runs(frame))
    overall = table[(table.family == "all") & ~table.agent.isin(SCHEDULES)]
    out = pd.DataFrame({"agent": overall.agent, "score": overall["mean"], "ci_low": overall.ci_low,
                        "ci_high": overall.ci_high, "n": overall.worlds})
    return out.sort_values(["score", "agent"], ascending=[False, True], kind="stable").reset_index(drop=True)


def score_runs(frame: pd.DataFrame) -> run_stats.RunScores | None:
    """The per-run normalised returns behind :func:`score` in rliable's layout: rows = the i-th held-out seed of each
    family (its index in the family's ``test_seeds``), columns = every (family, world, cost), for the agents played
    in every one of them (learning agents, serial, parallel; lc-wide's intermediate schedules and a frontier that
    some family lacks are references of some cells only, and are left out)."""
    from tradeoff_gym.envs.families import get_family

    check_not_pooled(frame, CONDITIONS)
    if frame.empty:
        return None
    runs = frame.groupby("run_id", sort=False)[["agent", *CONDITIONS]].first()
    cells = runs.drop_duplicates(list(CONDITIONS)).shape[0]
    everywhere = runs.drop_duplicates(["agent", *CONDITIONS]).groupby("agent").size()
    agents = sorted(everywhere[everywhere == cells].index)
    seeds = {family: get_family(family).test_seeds for family in frame.family.unique()}
    index = [seeds[f].index(s) if s in seeds[f] else -1 for f, s in zip(frame.family, frame.seed)]
    if min(index, default=0) < 0:
        raise ValueError("generalization results hold a seed that is not one of its family's test seeds")
    return normalised_score_runs(frame.assign(seed=index), CONDITIONS, FIXED_AGENTS, agents)


# ------------------------------------------------------------------------------------------------- crossover costs
def world_cstar(family: str, world: int) -> float:
    """The crossover cost c* of world ``world`` of ``family`` (NaN where unknown).

    Worlds that draw their own cost (LearningCurves families): computed from the world's config — under the
    ÷ (1 + d·c) rule a serial-type strategy j (cost share d_j) pays R_j(0) ÷ (1 + d_j·c), so it meets the best
    cost-free strategy's return R_p at c_j = (R_j(0) ÷ R_p − 1) ÷ d_j, and c* = max_j c_j: the cost at which the best
    serial-type and the best parallel fixed returns are equal (negative where parallel pays more even at c = 0).
    Worlds that leave the cost open (sp-mixed): the measured value in the family's data file
    (``envs/data/<family>_cstar.csv``), the row with the most seeds at τ = :data:`CSTAR_HORIZON`.
    """
    from tradeoff_gym.envs.families import get_family

    fam = get_family(family)
    if "cost" in fam.settings(world):
        return _computed_cstar(family, int(world))
    return _measured_cstar(family).get(int(world), np.nan)


def _computed_cstar(family: str, world: int) -> float:
    from tradeoff_gym.envs import check_settings
    from tradeoff_gym.envs.families import get_family

    config = check_settings(get_family(family).env_id, family=family, world=world)
    if config.cost_mode != "divide":
        raise ValueError(f"c* is computed for the ÷ (1 + d·c) rule; world {world} of {family!r} has cost_mode "
                         f"{config.cost_mode!r}")
    returns = config.expected_fixed_returns(0.0)
    delays = np.array([s.delay for s in config.strategies])
    free = returns[delays == 0].max()
    crossings = (returns[delays > 0] / free - 1.0) / delays[delays > 0]
    return float(crossings.max())


@cache
def _measured_cstar_at(family: str, stamp: float) -> dict[int, float]:
    from tradeoff_gym.envs.families import DATA_DIR

    table = pd.read_csv(DATA_DIR / f"{family}_cstar.csv")
    table = table[table.horizon == CSTAR_HORIZON].sort_values(["world", "seeds"])
    return {int(w): float(rows.c_star.iloc[-1]) for w, rows in table.groupby("world")}


def _measured_cstar(family: str) -> dict[int, float]:
    """World → measured c* from the family's data file ({} without one); re-read when the file changes."""
    from tradeoff_gym.envs.families import DATA_DIR

    path = DATA_DIR / f"{family}_cstar.csv"
    return _measured_cstar_at(family, path.stat().st_mtime) if path.exists() else {}


def cstar_table(cells: Iterable[tuple[str, int]]) -> pd.DataFrame:
    """``family``, ``world``, ``c_star`` for each distinct (family, world) of ``cells``."""
    pairs = sorted({(str(f), int(w)) for f, w in cells})
    return pd.DataFrame([{"family": f, "world": w, "c_star": world_cstar(f, w)} for f, w in pairs],
                        columns=["family", "world", "c_star"])


# ------------------------------------------------------------------------------------------------- the report
def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """The scoreboard overall and per family, the frontier rules played, and the ratio-vs-c* figures."""
    runs = normalised_runs(frame)
    table = scoreboard(runs)
    families = [f for f in _family_order(runs.family.unique())]
    items = [ReportItem("Scoreboard in full: every family", _definitions(frame) + "\n\n" + _shown(table, "all"))]
    items += [ReportItem(f"{family}", _family_text(frame, family) + "\n\n" + _shown(table, family))
              for family in families]
    cells = runs[runs.agent.isin(_figure_agents(runs))].groupby(["agent", *CONDITIONS]).normalised.mean() \
        .reset_index()
    cstar = cstar_table(zip(cells.family, cells.world))
    cells = cells.merge(cstar, on=["family", "world"], how="left")
    cells["c_minus_cstar"] = cells.cost - cells.c_star
    missing = cstar[cstar.c_star.isna()]
    note = ("" if missing.empty else " No c* yet for " + "; ".join(
        f"{f} worlds {', '.join(str(w) for w in rows.world)}" for f, rows in missing.groupby("family"))
        + " (left out of the figures).")
    figures = (ratio_figure(cells, "c_star", "crossover cost c* of the world", out_dir / "generalization_vs_cstar.png",
                            families),
               ratio_figure(cells, "c_minus_cstar", "cost − c* (> 0: parallel is the better fixed strategy)",
                            out_dir / "generalization_vs_c_minus_cstar.png", families))
    items.append(ReportItem(
        "Normalised return against the world's crossover cost",
        "Each point: one agent's normalised return in one (world, cost), mean over seeds; lines: the agent's "
        "mean in each sixth of the points by x (against c*: of the world means over costs), one panel per family. "
        "c* of a LearningCurves world is computed from its curves (the cost at which the best serial-type and the "
        "best parallel fixed returns are equal); of an sp-mixed world it is the measured value at τ = 5000 "
        "(envs/data/sp-mixed_cstar.csv)" + _horizon_note(frame) + "." + note + " The second figure puts the cost "
        "the world was played at beside it: left of 0 a serial-type strategy (serial, or one of lc-wide's schedules) "
        "is the best fixed strategy, right of 0 parallel."
        "\n\n" + _cstar_text(cstar),
        figures))
    return items


def _horizon_note(frame: pd.DataFrame) -> str:
    """Where the sp-mixed runs' horizon is not the one its c* was measured at: a clause saying so."""
    sp = frame[frame.family == "sp-mixed"]
    horizon = int(sp.trial.max()) + 1 if len(sp) else CSTAR_HORIZON
    return "" if horizon == CSTAR_HORIZON else f", whatever the sweep's horizon (here sp-mixed plays τ = {horizon})"


def _family_order(families: Iterable[str]) -> list[str]:
    from tradeoff_gym.envs.families import FAMILIES

    order = {name: i for i, name in enumerate(FAMILIES)}
    return sorted(families, key=lambda f: (order.get(f, len(order)), f))


def _definitions(frame: pd.DataFrame) -> str:
    return (
        "Held-out worlds and seeds only. **mean**: the normalised return (reward ÷ the best fixed strategy's on the "
        "same seed; the best of every strategy of the world's table per world and cost) averaged over costs and "
        "seeds per world, then over the family's worlds, then over families (each family counts the same); 95 % CI "
        "by bootstrap over worlds within families. **worst decile**: the 10th percentile of the (world, cost) means "
        "(cells weighted so that each family counts the same). **≥ best fixed**: the share of worlds whose mean is "
        "at least 1 (mean over families; in brackets the worlds, summed). **share of frontier**: the agent's mean ÷ "
        "the frontier rule's over the runs both have (families with a frontier). Fixed strategies (serial, "
        "parallel, lc-wide's mixed-j) and the frontier are listed too; each row says in how many families it was "
        "played (the mixed-j schedules, in some lc-wide worlds only, last; the score leaves them out). Per-family "
        "tables follow."
    )


def _family_text(frame: pd.DataFrame, family: str) -> str:
    from tradeoff_gym.envs.families import get_family

    rows = frame[frame.family == family]
    worlds = sorted(rows.world.unique())
    seeds = sorted(rows.seed.unique())
    costs = sorted(rows.cost.unique())
    fam = get_family(family)
    drawn = "cost" in fam.settings(int(worlds[0]))
    text = (f"{len(worlds)} test world{'s' * (len(worlds) > 1)} ({ranges(worlds)}), held-out seeds "
            f"{ranges(seeds)}, " + (f"each world at its own drawn cost ({min(costs):.3g}–{max(costs):.3g})"
                                     if drawn else f"costs {', '.join(f'{c:g}' for c in costs)}")
            + f", τ = {ranges(sorted(rows.groupby('run_id').trial.max().add(1).unique()))} trials.")
    if "frontier_rule" in rows.columns and rows.frontier_rule.notna().any():
        rules = sorted(rows.frontier_rule.dropna().unique())
        text += f" Frontier rule (chosen on the train split): {', '.join(rules)}."
    else:
        text += " No frontier rule played."
    return text


def ranges(values: Sequence[int]) -> str:
    """Integers as runs of consecutive values: ``[24, 25, 26, 30]`` → ``24–26, 30``; for the report and messages."""
    values = [int(v) for v in values]
    parts, start = [], None
    for i, v in enumerate(values):
        start = v if start is None else start
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(f"{start}" if start == v else f"{start}–{v}")
            start = None
    return ", ".join(parts)


def _shown(table: pd.DataFrame, family: str) -> str:
    rows = table[table.family == family]

    def number(value: float) -> str:
        return "—" if not np.isfinite(value) else f"{value:.3f}"

    shown = pd.DataFrame({
        "agent": rows.agent,
        "mean [95 % CI]": [f"{number(m)} [{number(lo)}, {number(hi)}]"
                           for m, lo, hi in zip(rows["mean"], rows.ci_low, rows.ci_high)],
        "worst decile": [number(v) for v in rows.worst_decile],
        "≥ best fixed": [f"{s:.2f} ({k}/{n})" for s, k, n in zip(rows.at_least_best, rows.worlds_at_least_best,
                                                                  rows.worlds)],
        "share of frontier": [number(v) for v in rows.frontier_share],
    })
    if family == "all":
        shown["families"] = rows.families.to_numpy()
    return markdown_table(shown.reset_index(drop=True))


def _cstar_text(cstar: pd.DataFrame) -> str:
    parts = []
    for family, rows in cstar.groupby("family", sort=False):
        known = rows.c_star.dropna()
        if len(known):
            parts.append(f"{family}: c* {known.min():.3f} … {known.max():.3f} (median {known.median():.3f}, "
                         f"{len(known)} of {len(rows)} worlds)")
    return "c* of the worlds played: " + "; ".join(parts) + "." if parts else ""


def _figure_agents(runs: pd.DataFrame) -> list[str]:
    """The agents the figures draw: the learning agents, the frontier, serial and parallel (not lc-wide's
    intermediate schedules, which exist in some worlds only)."""
    return [a for a in runs.agent.unique() if a not in FIXED_AGENTS or a in ("serial", "parallel")]


#: Most panels in a row of :func:`ratio_figure`.
PANEL_COLUMNS = 3
#: Bins of the x range (by rank) whose means the figure's lines join.
BINS = 6


def ratio_figure(cells: pd.DataFrame, x: str, label: str, path: Path, families: list[str]) -> Path:
    """Normalised return (mean over seeds) per (world, cost) against ``x``, one panel per family: a point per cell
    and a line through each agent's mean per bin of x (:data:`BINS` bins by rank; against ``c_star``, of the world
    means, so a world's costs never split); 1 = the best fixed strategy."""
    sns.set_theme(style="whitegrid", context="notebook")
    agents = sorted(cells.agent.unique(), key=lambda a: (a in FIXED_AGENTS, a != FRONTIER, a))
    styles = agent_styles(agents, FIXED_AGENTS)
    columns = min(len(families), PANEL_COLUMNS)
    rows_ = -(-len(families) // columns)
    fig, axes = plt.subplots(rows_, columns, figsize=(4.8 * columns + 1.6, 3.9 * rows_), squeeze=False,
                             gridspec_kw={"hspace": 0.5, "wspace": 0.25})
    for axis in axes.flat[len(families):]:
        axis.set_visible(False)
    for axis, family in zip(axes.flat, families):
        data = cells[(cells.family == family) & cells[x].notna()]
        if data.empty:
            axis.text(0.5, 0.5, "no c* for these worlds yet", ha="center", va="center", transform=axis.transAxes)
        for agent in agents:
            mine = data[data.agent == agent].sort_values(x)
            if mine.empty:
                continue
            style = styles[agent]
            axis.scatter(mine[x], mine.normalised, s=9, color=style.color, alpha=0.3, marker=style.marker,
                         linewidths=0)
            points = mine.groupby("world")[[x, "normalised"]].mean().sort_values(x) if x == "c_star" else mine
            bins = np.minimum((np.arange(len(points)) * BINS) // len(points), BINS - 1)
            binned = points.assign(bin=bins).groupby("bin")[[x, "normalised"]].mean()
            axis.plot(binned[x], binned.normalised, color=style.color, linestyle=style.linestyle,
                      marker=style.marker, ms=4, lw=1.4, label=agent)
        axis.axhline(1.0, color="grey", lw=1, ls=":")
        if x == "c_minus_cstar":
            axis.axvline(0.0, color="grey", lw=1, ls=":")
        axis.set(title=family)
    fig.supxlabel(label, y=0.02 if rows_ > 1 else -0.04)
    for row in axes:
        row[0].set_ylabel("normalised return\n(÷ best fixed strategy)")
    drawn: dict[str, object] = {}
    for axis in axes.flat:
        for handle, name in zip(*axis.get_legend_handles_labels()):
            drawn.setdefault(name, handle)
    names = [agent for agent in agents if agent in drawn]  # the frontier first, then agents, then references
    handles = [drawn[name] for name in names]
    fig.legend(handles, names, title="agent", loc="center left", bbox_to_anchor=(0.91, 0.5), frameon=False)
    fig.suptitle("Held-out worlds: normalised return per (world, cost), mean over seeds", y=1.0)
    return save_figure(fig, path)
