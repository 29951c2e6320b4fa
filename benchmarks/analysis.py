"""Analysis shared by experiments: per-run summaries, bootstrap CIs, cost-sweep tables and figures, scores.

Every experiment's ``score(frame)`` returns a :data:`SCORE_COLUMNS` frame, one row per agent (or per condition,
named in ``label``), best first; :func:`normalised_score` (cost sweeps) and :func:`condition_score` (one agent
under several conditions) build it, :func:`scoreboard_lines` renders it at the top of a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import matplotlib

matplotlib.use("Agg")  # files only; no display on CI machines

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy import stats  # noqa: E402

from tradeoff_gym.benchmarks import stats as run_stats  # noqa: E402
from tradeoff_gym.benchmarks.experiment import ReportItem  # noqa: E402

#: Columns that identify a run rather than a trial.
RUN_KEYS = ("run_id", "env_id", "agent", "seed")
#: The default reference for regret and normalised scores: registry names of agents whose choices ignore
#: rewards and that play one strategy throughout. The best of them at a cost (by mean reward rate over seeds)
#: is "the best fixed strategy". Experiments name their own list (``FIXED_AGENTS`` in their analysis module).
FIXED_AGENTS: tuple[str, ...] = ("serial", "parallel")
#: Registry names of agents that are references fixed in advance with settings, not competitors: their runs
#: (told apart by tags) are left out of agent tables and scores and summarised as a reference of their own.
SCHEDULE_AGENTS: tuple[str, ...] = ("two-phase",)
#: The columns of every experiment's ``score(frame)``, in order (``label`` only where rows are conditions).
SCORE_COLUMNS = ("agent", "score", "ci_low", "ci_high", "n")


def run_summary(frame: pd.DataFrame, tag_columns: Sequence[str] = ()) -> pd.DataFrame:
    """One row per run: ``reward_rate`` (mean reward per trial), ``total_reward``, ``serial_share``, ``trials``.

    ``serial_share`` is the share of trials whose strategy pays the serialization cost — the run loop's boolean
    ``serial`` column (from the env's strategy table), never a strategy's name.
    """
    if "serial" not in frame.columns:
        raise ValueError(
            "the results lack the boolean 'serial' column the run loop logs per trial; they were written by an "
            "older version — rerun the sweep into a fresh directory"
        )
    keys = [*RUN_KEYS, *tag_columns]
    grouped = frame.assign(is_serial=frame["serial"].astype(bool)).groupby(keys, sort=False, dropna=False)
    return grouped.agg(
        reward_rate=("reward", "mean"),
        total_reward=("reward", "sum"),
        serial_share=("is_serial", "mean"),
        trials=("trial", "size"),
    ).reset_index()


def bootstrap_ci(values: np.ndarray, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Bootstrap CI of the mean (scipy, BCa; percentile if BCa degenerates).

    One value, or all values equal: the interval is that value; no values: NaN.
    """
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


def agent_table(summary: pd.DataFrame, by: Sequence[str], fixed: Sequence[str] = FIXED_AGENTS) -> pd.DataFrame:
    """Mean reward rate and serial share per agent and ``by`` group, 95 % bootstrap CIs over seeds, regret.

    Regret: the best fixed strategy's mean reward rate in the group minus the agent's (positive = worse); the
    fixed strategies are the runs of the agents named in ``fixed``. Rows that share agent and ``by`` group are
    pooled: split runs of other settings first (:func:`setting_groups`, :func:`check_not_pooled`).
    """
    rows = []
    for keys, group in summary.groupby([*by, "agent"], sort=True):
        row = dict(zip([*by, "agent"], keys))
        for measure in ("reward_rate", "serial_share"):
            values = group[measure].to_numpy()
            low, high = bootstrap_ci(values)
            row.update({measure: values.mean(), f"{measure}_low": low, f"{measure}_high": high})
        rows.append({**row, "seeds": len(group)})
    table = pd.DataFrame(rows)
    reference = table[table.agent.isin(fixed)]
    if by and not reference.empty:
        best = reference.groupby(list(by)).reward_rate.max().rename("best_fixed")
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


#: Colours of :func:`agent_styles`: tab10's ten, then tab20's ten lighter shades (20 distinct colours).
AGENT_COLORS: tuple[tuple[float, float, float], ...] = (
    *sns.color_palette("tab10", 10), *sns.color_palette("tab20", 20)[1::2])
#: Line styles (matplotlib, with their seaborn dash patterns) of learning agents; a reference agent is dashed.
AGENT_LINESTYLES: dict[str, tuple[float, ...] | str] = {"-": "", ":": (1, 1.5), "-.": (4, 1.5, 1, 1.5)}
REFERENCE_LINESTYLE: tuple[str, tuple[float, ...]] = ("--", (4, 2))
#: Markers of :func:`agent_styles`, cycled over agents.
AGENT_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


@dataclass(frozen=True)
class AgentStyle:
    """How one agent is drawn: ``color`` (RGB in [0, 1]), ``linestyle`` (matplotlib), ``dashes`` (seaborn), marker."""

    color: tuple[float, float, float]
    linestyle: str
    dashes: tuple[float, ...] | str
    marker: str


def agent_styles(agents: Sequence[str], fixed: Sequence[str] = FIXED_AGENTS) -> dict[str, AgentStyle]:
    """A distinct (colour, line style, marker) per agent, for every figure that tells agents apart.

    A reference agent (in ``fixed``) is dashed, coloured by its place in ``fixed`` (``serial`` blue, ``parallel``
    orange with the default references), whatever else the figure shows. The other agents, sorted by name (so every
    figure of a report draws an agent alike, whatever order it lists them in), take the remaining colours of
    :data:`AGENT_COLORS` with a solid line, then again dotted, then dash-dotted (54 agents before a (colour, line
    style) pair repeats), and cycle through :data:`AGENT_MARKERS`.
    """
    styles: dict[str, AgentStyle] = {}
    references = [a for a in fixed if a in set(agents)]
    for agent in references:
        i = list(fixed).index(agent)
        styles[agent] = AgentStyle(AGENT_COLORS[i % len(AGENT_COLORS)], REFERENCE_LINESTYLE[0],
                                   REFERENCE_LINESTYLE[1], AGENT_MARKERS[i % len(AGENT_MARKERS)])
    taken = {styles[a].color for a in references}
    colors = [c for c in AGENT_COLORS if c not in taken] or list(AGENT_COLORS)
    lines = list(AGENT_LINESTYLES.items())
    for i, agent in enumerate(sorted(a for a in set(agents) if a not in styles)):
        linestyle, dashes = lines[(i // len(colors)) % len(lines)]
        styles[agent] = AgentStyle(colors[i % len(colors)], linestyle, dashes, AGENT_MARKERS[i % len(AGENT_MARKERS)])
    return styles


def check_not_pooled(summary: pd.DataFrame, by: Sequence[str]) -> None:
    """ValueError when ``summary`` (runs or trials) has two runs of one agent and seed in one ``by`` group: they
    differ in a setting the analysis does not split by (e.g. an env grid's ``input_noise``), and a table over them
    would pool them. Split the frame first (:func:`setting_groups`) or name the setting in ``by``."""
    keys = [c for c in [*by, "agent", "seed"] if c in summary.columns]
    if "seed" not in keys or "run_id" not in summary.columns or summary.empty:
        return
    if "trial" in summary.columns:  # a frame of trials: one row per run
        summary = summary.groupby("run_id", sort=False)[keys].first().reset_index()
    summary = summary[~summary.run_id.duplicated(keep=False)]  # a run labelled per trial (parts of it) is one run
    summary = summary[~summary.agent.isin(SCHEDULE_AGENTS)]  # told apart by their own tags
    if summary.empty:
        return
    counts = summary.groupby(keys, sort=False, dropna=False).run_id.nunique()
    if counts.max() > 1:
        where = dict(zip(keys, counts.idxmax() if len(keys) > 1 else (counts.idxmax(),)))
        raise ValueError(
            f"{counts.max()} runs share {where} (e.g. runs of different env settings): an analysis would pool them "
            "into one row; split the results by the setting that tells them apart "
            "(tradeoff_gym.benchmarks.analysis.setting_groups) or analyse each part alone"
        )


def setting_groups(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[dict[str, object], pd.DataFrame]]:
    """``frame`` split by the swept-setting ``columns`` (an env grid's tags): ``(setting -> value, rows)`` per
    combination, sorted; ``[({}, frame)]`` without columns. Analyses run once per part, so runs of different settings
    are never pooled into one row."""
    columns = [c for c in columns if c in frame.columns]
    if not columns:
        return [({}, frame)]
    return [(dict(zip(columns, keys if isinstance(keys, tuple) else (keys,))), part)
            for keys, part in frame.groupby(columns, sort=True, dropna=False)]


def setting_heading(setting: dict[str, object]) -> str:
    """A combination of settings as a report shows it: ``input_noise = 0.2, lr = 0.001``."""
    return ", ".join(f"{key} = {value:g}" if isinstance(value, float) else f"{key} = {value}"
                     for key, value in setting.items())


def setting_slug(setting: dict[str, object]) -> str:
    """A combination of settings as a folder name: ``input_noise-0.2_lr-0.001`` (letters, digits, ``.-_`` only)."""
    text = "_".join(f"{key}-{value:g}" if isinstance(value, float) else f"{key}-{value}"
                    for key, value in setting.items())
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in text)


def setting_scores(experiment: ModuleType, frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``experiment.score`` per combination of the swept-setting ``columns``, one column per setting in front."""
    parts = [experiment.score(part).assign(**setting) for setting, part in setting_groups(frame, columns)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    first = [c for c in columns if c in table.columns]
    return table[[*first, *[c for c in table.columns if c not in first]]]


def save_figure(figure: plt.Figure, path: Path) -> Path:
    """Save as PNG (150 dpi) and close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


def cost_sweep_report(
    frame: pd.DataFrame, out_dir: Path, *, name: str, title: str, facet: str | None = None,
    fixed: Sequence[str] = FIXED_AGENTS,
) -> list[ReportItem]:
    """Fig 5-style analysis of a sweep over the ``cost`` tag: reward rate and serial share vs cost per agent.

    ``facet`` (a tag column, e.g. ``parallel_midpoint``) draws one panel per value. Bands are the table's
    95 % bootstrap CIs over seeds, so figure and table agree. ``fixed``: the reference agents (regret).
    """
    tags = ["cost", *([facet] if facet else [])]
    schedules = frame[frame.agent.isin(SCHEDULE_AGENTS)]
    frame = frame[~frame.agent.isin(SCHEDULE_AGENTS)]
    summary = run_summary(frame, tags)  # one pass over the trials, shared by every item below
    table = agent_table(summary, by=tags, fixed=fixed)
    items = []
    for measure, label, suffix in (("reward_rate", "reward rate (mean reward per trial)", "reward"),
                                   ("serial_share", "share of serial trials", "serial_share")):
        path = cost_figure(table, measure, label, out_dir / f"{name}_{suffix}_vs_cost.png",
                           f"{title}: {label} vs cost", facet, fixed)
        items.append(ReportItem(f"{label[0].upper()}{label[1:]} vs cost", figures=(path,)))
    shown = table[[*tags, "agent", "reward_rate", "reward_rate_low", "reward_rate_high", "serial_share", "seeds",
                   *(["regret"] if "regret" in table else [])]]
    items.append(ReportItem(
        "Reward rate per agent and cost",
        "Mean reward per trial over seeds with its 95 % bootstrap CI (scipy BCa), share of serial trials, and "
        "regret = the best fixed strategy's reward rate − the agent's.\n\n" + markdown_table(shown),
    ))
    if facet is None:
        crossover = crossover_cost(summary, pair=(fixed[0], fixed[1])) if len(fixed) == 2 else None
        if crossover is not None:
            items.append(ReportItem("Crossover cost c*", crossover_text(*crossover)))
        if len(schedules):
            items.append(two_phase_item(summary, schedules, fixed))
        path = episode_figure(frame, out_dir / f"{name}_reward_over_episode.png", f"{title}: reward over the episode",
                              fixed=fixed)
        items.append(ReportItem(
            "Reward over the episode",
            "Reward per trial in blocks of trials (mean over the block, then over seeds; band: 95 % bootstrap CI "
            "over seeds), one panel per cost: when each agent chooses what, and what its choices let the shared "
            "network learn later.", (path,),
        ))
    return items


def two_phase_item(summary: pd.DataFrame, schedules: pd.DataFrame, fixed: Sequence[str]) -> ReportItem:
    """The best two-phase schedule in hindsight per cost (tags ``phase_order``, ``phase_switch``), against the
    best fixed strategy, and every agent's regret against both references (mean reward rates over seeds).

    ``summary`` is the agents' :func:`run_summary` by cost; ``schedules`` the two-phase runs' trials."""
    per_run = run_summary(schedules, ["cost", "phase_order", "phase_switch"])
    means = per_run.groupby(["cost", "phase_order", "phase_switch"]).reward_rate.mean().reset_index()
    best = means.loc[means.groupby("cost").reward_rate.idxmax()].set_index("cost")
    agents = summary.groupby(["cost", "agent"]).reward_rate.mean().unstack("agent")
    rows = []
    for cost, row in best.iterrows():
        fixed_rates = agents.loc[cost, [a for a in fixed if a in agents.columns]] if cost in agents.index else None
        best_fixed = float(fixed_rates.max()) if fixed_rates is not None and len(fixed_rates) else np.nan
        entry = {"cost": cost, "best two-phase": f"{row.phase_order} at {row.phase_switch:g}τ",
                 "its rate": row.reward_rate, "best fixed rate": best_fixed,
                 "two-phase gain": row.reward_rate - best_fixed}
        for agent in agents.columns:
            if agent not in fixed:
                entry[f"{agent} regret"] = row.reward_rate - agents.loc[cost, agent]
        rows.append(entry)
    grid = ", ".join(f"{x:g}" for x in sorted(means.phase_switch.unique()))
    return ReportItem(
        "Two-phase schedules: could adapting when to switch pay at all?",
        "A two-phase schedule plays one strategy until a switch point (a fraction of the horizon: "
        f"{grid}), then the other to the end (both orders). Per cost, the best of them in hindsight (by mean reward "
        "rate over seeds), its gain over the best fixed strategy (> 0: switching once beats never switching), and "
        "each adaptive agent's regret against it (> 0: the agent falls short of the best schedule).\n\n"
        + markdown_table(pd.DataFrame(rows)),
    )


def crossover_cost(
    summary: pd.DataFrame, pair: tuple[str, str] = ("serial", "parallel"), seed: int = 0, resamples: int = 2000
) -> tuple[float, float, float, int, tuple[float, float]] | None:
    """The cost c* at which the two fixed strategies of ``pair`` pay the same, with a 95 % CI over seeds.

    ``summary`` is :func:`run_summary` with a ``cost`` column. The difference of the two agents' mean reward rates
    (over the seeds both have at every swept cost) is interpolated linearly between swept costs; c* is its first
    sign change. The CI resamples seeds (bootstrap, ``resamples`` draws from ``seed``); a resample whose
    difference never changes sign counts as below the smallest or above the largest swept cost, so the interval
    may be open at the ends of the grid. Returns ``(c*, low, high, seeds, (min cost, max cost))``, c* = ±inf when
    one strategy pays more at every swept cost, or None when the sweep lacks either agent or has < 2 costs.
    """
    runs = summary[summary.agent.isin(pair)]
    rates = runs.pivot_table(index=["seed", "cost"], columns="agent", values="reward_rate", aggfunc="mean")
    if set(pair) - set(rates.columns):
        return None
    diff = (rates[pair[0]] - rates[pair[1]]).unstack("cost").dropna()  # seeds × costs
    costs = diff.columns.to_numpy(dtype=np.float64)
    if costs.size < 2 or diff.empty:
        return None
    values = diff.to_numpy(dtype=np.float64)

    def first_crossing(curve: np.ndarray) -> float:
        if np.all(curve > 0):
            return np.inf  # the first pays more everywhere: c* above the grid
        if np.all(curve < 0):
            return -np.inf
        i = int(np.flatnonzero(np.sign(curve[1:]) != np.sign(curve[:-1]))[0]) if curve[0] != 0 else -1
        if i < 0:
            return float(costs[0])
        return float(costs[i] + (costs[i + 1] - costs[i]) * curve[i] / (curve[i] - curve[i + 1]))

    estimate = first_crossing(values.mean(axis=0))
    rng = np.random.default_rng(seed)
    draws = np.array([first_crossing(values[rng.integers(len(values), size=len(values))].mean(axis=0))
                      for _ in range(resamples)])
    low, high = np.quantile(draws, [0.025, 0.975], method="inverted_cdf")  # no interpolation across ±inf
    return estimate, float(low), float(high), len(values), (float(costs[0]), float(costs[-1]))


def crossover_text(estimate: float, low: float, high: float, seeds: int, grid: tuple[float, float]) -> str:
    """A report paragraph for :func:`crossover_cost`'s result (names the first agent of the pair "serial")."""
    def show(value: float) -> str:
        return f"below {grid[0]:g}" if value == -np.inf else f"above {grid[1]:g}" if value == np.inf else f"{value:.3f}"

    ci = f"95 % bootstrap CI over {seeds} seeds: {show(low)} … {show(high)}"
    if np.isinf(estimate):
        winner = "always-serial" if estimate > 0 else "always-parallel"
        return (f"{winner} pays more at every swept cost ({grid[0]:g}–{grid[1]:g}): the crossover cost c\\* lies "
                f"{show(estimate)} ({ci}).")
    return (f"The cost at which always-serial and always-parallel pay the same: **c\\* = {show(estimate)}** "
            f"({ci}; linear interpolation between swept costs). Below c\\* serial training pays more, above it "
            "parallel.")


def episode_figure(frame: pd.DataFrame, path: Path, title: str, blocks: int = 20, panels: int = 4,
                   fixed: Sequence[str] = FIXED_AGENTS) -> Path:
    """Reward per block of trials vs trial, one line per agent (95 % CI over seeds), a panel per cost.

    At most ``panels`` costs are shown, spread evenly over the swept ones (the smallest and largest always).
    """
    costs = np.sort(frame["cost"].unique())
    shown = costs[np.unique(np.linspace(0, costs.size - 1, min(panels, costs.size)).round().astype(int))]
    size = max(int(frame.trial.max() + 1) // blocks, 1)
    data = frame[frame["cost"].isin(shown)].assign(block=lambda d: (d.trial // size) * size + size / 2)
    per_run = data.groupby(["cost", "agent", "seed", "block"], sort=False).reward.mean().reset_index()
    agents = sorted(per_run.agent.unique(), key=lambda a: (a not in fixed, a))
    styles = agent_styles(agents, fixed)
    sns.set_theme(style="whitegrid", context="notebook")
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown) + 1.6, 3.6), sharey=True, squeeze=False)
    for axis, cost in zip(axes[0], shown):
        sns.lineplot(data=per_run[per_run["cost"] == cost], x="block", y="reward", hue="agent", hue_order=agents,
                     errorbar=("ci", 95), seed=0, ax=axis, legend=axis is axes[0][-1],
                     palette={a: s.color for a, s in styles.items()}, style="agent", style_order=agents,
                     dashes={a: s.dashes for a, s in styles.items()}, markers={a: s.marker for a, s in styles.items()},
                     markersize=4)
        axis.set(xlabel="trial", title=f"c = {cost:g}")
    axes[0][0].set_ylabel(f"reward (mean over blocks of {size} trials)")
    axes[0][-1].legend(title="agent", loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.suptitle(f"{title} (mean over seeds, 95 % CI)", y=1.02)
    return save_figure(fig, path)


#: Most panels in a row of :func:`cost_figure`; more wrap into further rows.
PANEL_COLUMNS = 4


def cost_figure(
    table: pd.DataFrame, measure: str, label: str, path: Path, title: str, facet: str | None,
    fixed: Sequence[str] = FIXED_AGENTS,
) -> Path:
    """``measure`` vs cost, one line per agent with its CI band (``fixed`` agents dashed); a panel per ``facet``."""
    sns.set_theme(style="whitegrid", context="notebook")
    panels = sorted(table[facet].unique()) if facet else [None]
    agents = sorted(table.agent.unique(), key=lambda a: (a not in fixed, a))
    styles = agent_styles(agents, fixed)
    columns = min(len(panels), PANEL_COLUMNS)  # many panels (e.g. a family's worlds) wrap into rows
    rows_ = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows_, columns, figsize=(4.6 * columns + 1.6, 3.8 * rows_), sharey=True, squeeze=False,
                             gridspec_kw={"hspace": 0.45})
    for axis in axes.flat[len(panels):]:
        axis.set_visible(False)
    for axis, panel in zip(axes.flat, panels):
        data = table if panel is None else table[table[facet] == panel]
        for agent in agents:
            rows = data[data.agent == agent].sort_values("cost")
            style = styles[agent]
            axis.plot(rows.cost, rows[measure], linestyle=style.linestyle, marker=style.marker, ms=4,
                      color=style.color, label=agent)
            axis.fill_between(rows.cost, rows[f"{measure}_low"], rows[f"{measure}_high"], color=style.color,
                              alpha=0.15, linewidth=0)
        axis.set(xlabel="serialization cost c", title="" if panel is None else f"{facet} = {panel}")
    for row in axes:
        row[0].set_ylabel(label)
    axes[0][columns - 1].legend(title="agent", loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.suptitle(f"{title} (mean over seeds, 95 % CI)", y=1.02)
    return save_figure(fig, path)


def smoothed_accuracy(frame: pd.DataFrame, window: int = 50) -> pd.Series:
    """Per run, the rolling mean of ``raw_accuracy`` over ``window`` trials (aligned with ``frame``)."""
    return frame.groupby("run_id", sort=False).raw_accuracy.transform(
        lambda s: s.rolling(window, min_periods=1).mean()
    )


def trials_to_criterion(frame: pd.DataFrame, criterion: float = 0.9, window: int = 50) -> pd.Series:
    """Per run, the first trial whose ``window``-trial mean raw accuracy reaches ``criterion`` (NaN: never)."""
    reached = frame.assign(smooth=smoothed_accuracy(frame, window))
    reached = reached[reached.smooth >= criterion]
    first = reached.groupby("run_id", sort=False).trial.min()
    return first.reindex(frame.run_id.unique()).astype(float)


def learning_curve_figure(
    frame: pd.DataFrame, hue: str, path: Path, title: str, window: int = 50, points: int = 200
) -> Path:
    """Raw accuracy (rolling mean) vs trial, one line per ``hue`` value, 95 % CI over seeds."""
    step = max(int(frame.trial.max()) // points, 1)
    data = frame.assign(accuracy=smoothed_accuracy(frame, window))
    data = data[data.trial % step == 0]
    figure, axis = plt.subplots(figsize=(6.4, 4))
    sns.lineplot(data=data, x="trial", y="accuracy", hue=hue, errorbar=("ci", 95), seed=0, ax=axis,
                 palette="viridis" if pd.api.types.is_numeric_dtype(data[hue]) else None)
    axis.set(xlabel="trial", ylabel=f"raw accuracy ({window}-trial mean)", title=title, ylim=(0, 1.02))
    return save_figure(figure, path)


def probe_figure(frame: pd.DataFrame, metric: str, hue: str, path: Path, title: str, ylabel: str) -> Path:
    """A probe metric (logged every k trials) vs trial, one line per ``hue`` value, 95 % CI over seeds."""
    data = frame.dropna(subset=[metric])
    figure, axis = plt.subplots(figsize=(6.4, 4))
    sns.lineplot(data=data, x="trial", y=metric, hue=hue, errorbar=("ci", 95), seed=0, ax=axis, marker="o",
                 palette="viridis" if pd.api.types.is_numeric_dtype(data[hue]) else None)
    axis.set(xlabel="trial", ylabel=ylabel, title=title)
    return save_figure(figure, path)


def final_probe(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Per run, the last probe's values of every metric column starting with ``prefix``, long format."""
    columns = [c for c in frame.columns if c.startswith(prefix)]
    probed = frame.dropna(subset=columns[:1])
    last = probed.loc[probed.groupby("run_id", sort=False).trial.idxmax()]
    return last.melt(id_vars=[c for c in last.columns if c not in columns], value_vars=columns,
                     var_name="metric", value_name="value")


def training_report(frame: pd.DataFrame, out_dir: Path, *, hue: str, figure: str, label: str) -> list[ReportItem]:
    """Fig 3/4-style analysis of probed training runs that differ in the ``hue`` tag.

    A: learning curves, the area under them (mean raw accuracy: every run has one) and trials to 90 % raw
    accuracy; B: parallel-execution error over training, as scored (heads may answer "null") and with the heads'
    null class left out (what is left is the representations' error); C: per-layer correlation of task
    representations at the last probe, the mean over task pairs and the T3–T4 pair (image→location,
    image→object) that the paper's Figs 3C/4C show.
    """
    title = f"Fig {figure.removeprefix('fig')}"  # "fig3" -> "Fig 3"
    curve = learning_curve_figure(frame, hue, out_dir / f"{figure}a_learning.png", f"{title}A: learning by {label}")
    error = probe_figure(frame, "parallel_error", hue, out_dir / f"{figure}b_parallel_error.png",
                         f"{title}B: error when tasks execute in parallel", "parallel-execution error")
    items_b = [error]
    if "parallel_error_no_null" in frame.columns and frame["parallel_error_no_null"].notna().any():
        items_b.append(probe_figure(
            frame, "parallel_error_no_null", hue, out_dir / f"{figure}b_parallel_error_no_null.png",
            f"{title}B: parallel execution, heads' null class left out", "parallel-execution error (no null)"))
    corr = final_probe(frame, "corr_")
    pair = corr.metric.str.extract(r"^corr_(?P<layer>.+?)(?:_t(?P<i>\d+)t(?P<j>\d+))?$")
    corr = corr.assign(layer=pair.layer, pair=(pair.i + "–" + pair.j).where(pair.i.notna()))
    mean_corr, t3t4 = corr[corr.pair.isna()], corr[corr.pair == "3–4"]
    paths = []
    for data, what, suffix in ((mean_corr, "mean over task pairs", "c_layer_correlation"),
                               (t3t4, "T3–T4 (image→location, image→object)", "c_layer_correlation_t3t4")):
        if data.empty:
            continue
        fig, axis = plt.subplots(figsize=(6.4, 4))
        sns.pointplot(data=data, x="layer", y="value", hue=hue, errorbar=("ci", 95), seed=0, ax=axis,
                      palette="viridis", dodge=0.3)
        axis.set(ylabel=f"correlation of task representations\n({what})",
                 title=f"{title}C: representation sharing at the end, {what}")
        paths.append(save_figure(fig, out_dir / f"{figure}{suffix}.png"))

    tags = frame.groupby("run_id", sort=False)[hue].first()
    speed = trials_to_criterion(frame).rename("trials_to_90").to_frame().join(tags)
    area = frame.groupby("run_id", sort=False).raw_accuracy.mean().rename("area").to_frame().join(tags)
    probes = final_probe(frame, "parallel_error")
    table = speed.groupby(hue).trials_to_90.agg(["mean", "count"])
    table.columns = ["trials to 90 % (mean)", "runs reaching 90 %"]
    table.insert(0, "area under the curve", area.groupby(hue).area.mean())
    table["runs"] = tags.value_counts()
    for metric, column in (("parallel_error", "final parallel error"),
                           ("parallel_error_no_null", "final parallel error, no null")):
        values = probes[probes.metric == metric]
        if len(values) and values.value.notna().any():
            table[column] = values.groupby(hue).value.mean()
    table = table.join(mean_corr.groupby([hue, "layer"]).value.mean().unstack("layer").add_prefix("corr "))
    if not t3t4.empty:
        table = table.join(t3t4.groupby([hue, "layer"]).value.mean().unstack("layer").add_prefix("T3–T4 "))
    table = table.reset_index()
    return [
        ReportItem(f"{title}A: learning speed",
                   "Area under the learning curve (the run's mean raw accuracy: every run has one), trials until "
                   "the 50-trial mean raw accuracy first reaches 90 % (runs that never do are left out of the "
                   "mean), the last probe's parallel-execution error — as scored, and with the heads' null class "
                   "left out — and layer correlations (mean over task pairs; the T3–T4 pair).\n\n"
                   + markdown_table(table), (curve,)),
        ReportItem(f"{title}B: parallel-execution error",
                   "As scored, and with each head's null class left out (its best real class counts as its "
                   "answer): the gap between the two is the error of heads that decline to answer when another "
                   "task's units are active, the rest the representations' own.", tuple(items_b)),
        ReportItem(f"{title}C: layer correlations at the end of training", figures=tuple(paths)),
    ]


# ------------------------------------------------------------------------------------------------- scores
#: The meaning of :func:`normalised_score`, for the ``SCORE`` string of cost-sweep experiments.
NORMALISED_SCORE = (
    "Score = normalised return: per seed, the mean over costs (and the other swept settings) of the agent's "
    "reward rate ÷ the best fixed strategy's reward rate at the same cost and settings and the same seed; "
    "mean over seeds, 95 % bootstrap CI over seeds. The best fixed strategy at a cost is the reference agent "
    "({fixed}) with the highest mean reward rate there. 1 = as good as the best fixed strategy at every cost; "
    "higher is better."
)


def normalised_returns(
    summary: pd.DataFrame, by: Sequence[str], fixed: Sequence[str] = FIXED_AGENTS
) -> pd.DataFrame:
    """``summary`` (:func:`run_summary`) plus ``normalised`` = the run's reward rate ÷ the best fixed strategy's.

    The best fixed strategy of a ``by`` group (e.g. one cost) is the agent among ``fixed`` with the highest mean
    reward rate over seeds in that group; the divisor is its run with the same seed where there is one (same
    seed = same data and initial network, so the ratio is paired), else its mean over seeds. NaN where the group
    has no fixed run or the reference rate is not positive.
    """
    by = list(by) or ["_group"]
    summary = summary.assign(_group=0) if by == ["_group"] else summary
    reference = summary[summary.agent.isin(fixed)]
    if reference.empty:
        return summary.assign(normalised=np.nan).drop(columns="_group", errors="ignore")
    means = reference.groupby([*by, "agent"]).reward_rate.mean().reset_index()
    best = means.loc[means.groupby(by).reward_rate.idxmax()]  # one row per group: the best fixed agent
    best_runs = reference.merge(best[[*by, "agent"]], on=[*by, "agent"])
    per_seed = best_runs.groupby([*by, "seed"]).reward_rate.mean().rename("_ref_seed")
    per_group = best.set_index(by).reward_rate.rename("_ref_mean")
    out = summary.join(per_seed, on=[*by, "seed"]).join(per_group, on=by)
    ref = out["_ref_seed"].fillna(out["_ref_mean"]).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["normalised"] = np.where(ref > 0, out.reward_rate.to_numpy(dtype=np.float64) / ref, np.nan)
    return out.drop(columns=["_ref_seed", "_ref_mean", "_group"], errors="ignore")


def score_table(
    values: pd.DataFrame, column: str, *, by: Sequence[str] = ("agent",), higher_is_better: bool = True
) -> pd.DataFrame:
    """One score row per ``by`` group: the mean of ``column`` (one value per seed or run), its 95 % CI, ``n``.

    The CI is :func:`bootstrap_ci` over the group's values (NaN with fewer than 2); ``n`` counts the finite
    values. Returns :data:`SCORE_COLUMNS` (+ ``label`` when ``by`` has it), best first (by ``higher_is_better``),
    ties by name.
    """
    by = list(by)
    columns = [*SCORE_COLUMNS, *(["label"] if "label" in by else [])]
    rows = []
    for keys, group in values.groupby(by, sort=True):
        data = group[column].to_numpy(dtype=np.float64)
        data = data[np.isfinite(data)]
        low, high = bootstrap_ci(data) if data.size >= 2 else (np.nan, np.nan)
        mean = float(data.mean()) if data.size else np.nan
        rows.append({**dict(zip(by, keys)), "score": mean, "ci_low": low, "ci_high": high, "n": int(data.size)})
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["score", *by], ascending=[not higher_is_better, *([True] * len(by))],
                              na_position="last", kind="stable")
    return table.reset_index(drop=True)


def normalised_score(frame: pd.DataFrame, by: Sequence[str], fixed: Sequence[str] = FIXED_AGENTS) -> pd.DataFrame:
    """Cost-sweep score per agent (:data:`NORMALISED_SCORE`): mean over ``by`` groups of the normalised return.

    Per (agent, seed), the mean over the ``by`` groups (costs × other tags) of :func:`normalised_returns`; then
    :func:`score_table` over seeds. Empty (with the score columns) when the frame has no ``fixed`` runs.
    """
    frame = frame[~frame.agent.isin(SCHEDULE_AGENTS)]  # references with settings, not competitors
    runs = normalised_returns(run_summary(frame, by), by, fixed)
    per_seed = runs.groupby(["agent", "seed"]).normalised.mean().reset_index()
    if per_seed.normalised.isna().all():
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    return score_table(per_seed, "normalised")


def condition_score(frame: pd.DataFrame, condition: str, name: str) -> pd.DataFrame:
    """Score per condition (the ``condition`` tag) of a training experiment: area under the learning curve.

    Per run, the mean raw accuracy over the whole episode (the area under its accuracy curve ÷ its length; every
    run yields it, unlike trials to criterion); mean over the condition's seeds with its 95 % bootstrap CI.
    ``label`` is ``"<name> <value>"``; higher is better.
    """
    per_run = frame.groupby(["run_id", "agent", condition], sort=False).raw_accuracy.mean().reset_index()
    per_run["label"] = [f"{name} {value:g}" for value in per_run[condition]]
    table = score_table(per_run, "raw_accuracy", by=["agent", "label"])
    return table


def scoreboard_lines(experiment: ModuleType, frame: pd.DataFrame) -> list[str]:
    """Markdown lines of a report's "Scoreboard": the score's meaning (``SCORE``) and agent | score | CI | n.

    Nothing when the experiment has no ``score`` or the frame is empty; a note when no run can be scored.
    """
    score = getattr(experiment, "score", None)
    if score is None or not len(frame):
        return []
    lines = ["", "## Scoreboard", ""]
    meaning = getattr(experiment, "SCORE", "")
    if meaning:
        lines += [meaning, ""]
    table = score(frame)
    if table.empty:
        return [*lines, "No score: the completed runs lack what the score needs (e.g. the reference agents' runs)."]

    def number(value: float) -> str:
        return "—" if not np.isfinite(value) else f"{value:.3f}"

    labelled = "label" in table.columns
    header = ["condition"] * labelled + ["agent", "score", "95 % CI", "n"]
    lines += ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in table.itertuples(index=False):
        ci = "—" if not (np.isfinite(row.ci_low) and np.isfinite(row.ci_high)) else \
            f"[{row.ci_low:.3f}, {row.ci_high:.3f}]"
        cells = [str(row.label)] if labelled else []
        cells += [str(row.agent), number(row.score), ci, str(row.n)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# ------------------------------------------------------------------------------------------------- aggregate statistics
#: Bootstrap resamples and seed of the report's aggregate statistics (:mod:`tradeoff_gym.benchmarks.stats`).
STATS_REPS, STATS_SEED = 2000, 0
#: Fewer seeds than this: the report says the intervals say little.
FEW_SEEDS = 5
#: Most agents whose P(row > column) is shown as a full matrix; more: each agent against the best-IQM agent.
MATRIX_AGENTS = 6
#: The report's names of :data:`tradeoff_gym.benchmarks.stats.AGGREGATES`.
AGGREGATE_NAMES = {"mean": "mean", "median": "median", "iqm": "IQM", "optimality_gap": "optimality gap"}


def normalised_score_runs(
    frame: pd.DataFrame, by: Sequence[str], fixed: Sequence[str] = FIXED_AGENTS, agents: Sequence[str] | None = None
) -> run_stats.RunScores | None:
    """The per-run normalised returns of :func:`normalised_score` in rliable's score_dict layout.

    Per agent an array ``(n_seeds, n_conditions)``: a condition is one combination of the ``by`` tags (e.g. one
    cost), named ``"cost=0.3"``; its value the run's reward rate ÷ the best fixed strategy's
    (:func:`normalised_returns`). Only conditions every agent has are kept; a seed missing a kept condition's score
    (NaN: no reference there, or the reference rate ≤ 0) is left out and counted in ``dropped``. ``agents``: the
    agents scored (default every agent; the references are read from all of ``frame`` either way), e.g. without
    references that exist in some conditions only. None when nothing can be scored.
    """
    frame = frame[~frame.agent.isin(SCHEDULE_AGENTS)]
    by = list(by)
    runs = normalised_returns(run_summary(frame, by), by, fixed)
    if agents is not None:
        runs = runs[runs.agent.isin(list(agents))]
    means = runs.groupby(["agent", "seed", *by], dropna=False).normalised.mean()
    table = means.unstack(by)  # (agent, seed) × conditions
    if table.empty:
        return None
    present = table.notna().groupby(level="agent").any().all(axis=0)  # per condition: every agent has a score
    kept = list(table.columns[present.to_numpy()])
    if not kept:
        return None
    table = table[kept]
    names = [", ".join(f"{tag}={value:g}" if isinstance(value, (int, float, np.number)) else f"{tag}={value}"
                       for tag, value in zip(by, column if isinstance(column, tuple) else (column,)))
             for column in kept]
    scores, seeds, dropped = {}, {}, {}
    for agent, rows in table.groupby(level="agent", sort=True):
        complete = rows.dropna()
        dropped[str(agent)] = len(rows) - len(complete)
        if len(complete):
            scores[str(agent)] = complete.to_numpy(dtype=np.float64)
            seeds[str(agent)] = [int(seed) for seed in complete.index.get_level_values("seed")]
    if not scores:
        return None
    return run_stats.RunScores(scores, names, seeds, {a: n for a, n in dropped.items() if n})


def experiment_run_scores(experiment: ModuleType, frame: pd.DataFrame) -> run_stats.RunScores | None:
    """The experiment's per-run scores (its optional ``score_runs(frame)``); None without one or without runs."""
    score_runs = getattr(experiment, "score_runs", None)
    if score_runs is None or not len(frame):
        return None
    return score_runs(frame)


def statistics_lines(run_scores: run_stats.RunScores | None, figures: Path) -> list[str]:
    """Markdown lines of a report's "Aggregate statistics" (:mod:`tradeoff_gym.benchmarks.stats`), figure drawn.

    Per agent mean, median, IQM and optimality gap (γ = 1) of the per-run normalised scores with 95 % stratified
    bootstrap CIs (runs = seeds, tasks = conditions; :data:`STATS_REPS` resamples from seed :data:`STATS_SEED`),
    P(row agent > column agent) with CIs, and the performance profile figure (``performance_profile.png``).
    """
    if run_scores is None or not run_scores.scores:
        return []
    scores = run_scores.scores
    estimates = run_stats.aggregate_estimates(scores, reps=STATS_REPS, seed=STATS_SEED)
    agents = sorted(scores, key=lambda a: (-estimates[a]["iqm"].value, a))  # best IQM first

    def shown(estimate: run_stats.Estimate, digits: int = 3) -> str:
        return f"{estimate.value:.{digits}f} [{estimate.low:.{digits}f}, {estimate.high:.{digits}f}]"

    seeds = sorted({matrix.shape[0] for matrix in scores.values()})
    n_text = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"
    lines = ["", "## Aggregate statistics", "",
             f"The per-run normalised scores (runs = seeds, tasks = the {len(run_scores.conditions)} conditions: "
             f"{'; '.join(run_scores.conditions[:8])}{'; …' if len(run_scores.conditions) > 8 else ''}) "
             "aggregated as in Agarwal et al. 2021 (rliable): mean and median of the per-condition means, IQM "
             "(the mean of the middle 50 % of all run × condition scores), optimality gap (the mean shortfall "
             "below 1, the best fixed strategy; lower is better). Brackets: 95 % stratified bootstrap CIs "
             f"(seeds resampled within each condition, {STATS_REPS} resamples, percentile, seed {STATS_SEED}). "
             "Per-run scores: `scores.npz`, columns in `scores_columns.json`.", ""]
    if seeds[0] < FEW_SEEDS:
        lines += [f"**n = {n_text} seed{'s' * (seeds[-1] > 1)}: these intervals say little.**", ""]
    if run_scores.dropped:
        lines += ["Seeds left out for a missing score: "
                  + ", ".join(f"{agent} {n}" for agent, n in sorted(run_scores.dropped.items())) + ".", ""]
    header = ["agent", "seeds", *(f"{name} [95 % CI]" for name in AGGREGATE_NAMES.values())]
    lines += ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for agent in agents:
        cells = [agent, str(scores[agent].shape[0]), *(shown(estimates[agent][key]) for key in AGGREGATE_NAMES)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(agents) > 1:
        lines += ["", "### Probability of improvement", ""]
        if len(agents) <= MATRIX_AGENTS:
            pairs = run_stats.improvement_estimates(scores, reps=STATS_REPS, seed=STATS_SEED)
            lines += ["P(row agent > column agent): per condition, the chance that a random run of the row agent "
                      "scores above one of the column agent (ties count ½), averaged over conditions; 0.5 = "
                      "neither is better. 95 % stratified bootstrap CIs.", ""]
            header = ["P(row > column)", *agents]
            lines += ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
            for x in agents:
                cells = [x, *("—" if x == y else shown(pairs[(x, y)], 2) for y in agents)]
                lines.append("| " + " | ".join(cells) + " |")
        else:
            best = agents[0]
            pairs = run_stats.improvement_estimates(scores, [(best, a) for a in agents[1:]], reps=STATS_REPS,
                                                    seed=STATS_SEED)
            lines += [f"P({best} > agent), {best} being the agent with the highest IQM: per condition, the chance "
                      f"that a random run of {best} scores above one of the agent (ties count ½), averaged over "
                      "conditions; 0.5 = neither is better. 95 % stratified bootstrap CIs.", "",
                      f"| agent | P({best} > agent) [95 % CI] |", "| --- | --- |"]
            lines += [f"| {a} | {shown(pairs[(best, a)], 2)} |" for a in agents[1:]]
    path = performance_profile_figure(scores, agents, figures / "performance_profile.png")
    lines += ["", "### Performance profiles", "",
              "The fraction of all run × condition scores above τ, per agent, with pointwise 95 % stratified "
              "bootstrap bands; τ = 1 is the best fixed strategy. A curve above another everywhere dominates it.",
              "", f"![Performance profiles](figures/{path.name})"]
    return lines


def performance_profile_figure(scores: run_stats.ScoreDict, agents: Sequence[str], path: Path) -> Path:
    """Run-score distributions (fraction of scores > τ) vs τ per agent, 95 % stratified bootstrap bands."""
    values = np.concatenate([np.ravel(matrix) for matrix in scores.values()])
    low, high = float(values.min()), float(values.max())
    pad = 0.05 * max(high - low, 1e-3)
    taus = np.linspace(min(low, 1.0) - pad, max(high, 1.0) + pad, 121)
    profiles = run_stats.performance_profiles(scores, taus, reps=STATS_REPS, seed=STATS_SEED)
    sns.set_theme(style="whitegrid", context="notebook")
    styles = agent_styles(agents)  # the same colour and line per agent as in the report's other figures
    figure, axis = plt.subplots(figsize=(6.8, 4.2))
    for agent in agents:
        profile, style = profiles[agent], styles[agent]
        axis.plot(taus, profile.value, color=style.color, linestyle=style.linestyle, label=agent)
        axis.fill_between(taus, profile.low, profile.high, color=style.color, alpha=0.15, linewidth=0)
    axis.axvline(1.0, color="grey", lw=1, ls=":")
    axis.set(xlabel="normalised score τ", ylabel="fraction of runs with score > τ", ylim=(-0.02, 1.02),
             title="Performance profiles (95 % stratified bootstrap bands)")
    axis.legend(title="agent", loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return save_figure(figure, path)


@dataclass(frozen=True)
class CostSweepAnalysis:
    """The analysis of a sweep over the ``cost`` tag (and ``tags`` besides): report items, score and per-run scores.

    One definition for every cost sweep — fig5's, sagiv2018's and a sweep file's generic ``cost-sweep`` analysis
    (:mod:`tradeoff_gym.benchmarks.sweep_file`) — so they agree by construction. Each method first refuses frames
    that would pool runs of one agent and seed in one ``tags`` group (:func:`check_not_pooled`).

    Attributes:
        name: prefix of the figure files (``<name>_reward_vs_cost.png``).
        title: what the figures' titles call the world.
        fixed: the reference agents' labels (agents that play one strategy throughout): the best of them per
            group is the best fixed strategy of regret and the normalised score.
        tags: the swept tags a score's reference is matched on (``cost`` first).
        facet: a tag drawn as one panel per value (e.g. ``parallel_midpoint``), or None.
    """

    name: str
    title: str
    fixed: tuple[str, ...] = FIXED_AGENTS
    tags: tuple[str, ...] = ("cost",)
    facet: str | None = None

    @property
    def score_text(self) -> str:
        """What :meth:`score` means (an experiment's ``SCORE``)."""
        return NORMALISED_SCORE.format(fixed=", ".join(self.fixed))

    def analyze(self, frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
        """Reward rate and serial share vs cost per agent, the table, c* and the episode figure
        (:func:`cost_sweep_report`)."""
        check_not_pooled(frame, self.tags)  # runs of other env settings: split them first
        return cost_sweep_report(frame, out_dir, name=self.name, title=self.title, facet=self.facet, fixed=self.fixed)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per agent, best first: the normalised return (:func:`normalised_score`)."""
        check_not_pooled(frame, self.tags)
        return normalised_score(frame, self.tags, self.fixed)

    def score_runs(self, frame: pd.DataFrame) -> run_stats.RunScores | None:
        """The per-run scores behind :meth:`score` (agent → (seeds, conditions)), for the aggregate statistics."""
        check_not_pooled(frame, self.tags)
        return normalised_score_runs(frame, self.tags, self.fixed)
