"""Metrics of sequential task streams (docs/science/sequential.md) as pure functions of logged frames.

Input: frames logged by :func:`tradeoff_gym.benchmarks.run_loop.run_episode` on ``tradeoff/SequentialTasks-v0`` (one
row per
trial; ``episode`` 1-based, ``task_trial`` 1-based within the episode, ``task_reward_<k>`` the balanced hold-out
accuracy of the task introduced in episode ``k+1`` — NaN before it — ``evaluated`` 1 where accuracy was
measured, ``examples_<k>``, ``next_accuracy``). Streams are told apart by :data:`STREAM_KEYS` columns present.
Task ``k`` (0-based ordinal) in episode ``e`` has been trained ``times_trained = e − k`` times (1 = the episode
that introduced it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: Columns that identify one stream, where present (``stream`` counts fresh streams within one env).
STREAM_KEYS: tuple[str, ...] = ("run_id", "stream")


def stream_keys(frame: pd.DataFrame) -> list[str]:
    """The :data:`STREAM_KEYS` columns ``frame`` has."""
    return [k for k in STREAM_KEYS if k in frame.columns]


def task_columns(frame: pd.DataFrame, prefix: str = "task_reward_") -> list[str]:
    """``<prefix>0 … <prefix>{n-1}`` columns of ``frame``, in task order."""
    cols = [c for c in frame.columns if c.startswith(prefix) and c[len(prefix) :].isdigit()]
    return sorted(cols, key=lambda c: int(c[len(prefix) :]))


def accuracy_long(frame: pd.DataFrame, evaluated_only: bool = True) -> pd.DataFrame:
    """Per (stream, episode, trial, task) hold-out accuracy in long format.

    Columns: stream keys, ``episode``, ``task_trial``, ``task`` (0-based ordinal), ``times_trained``,
    ``examples`` (training examples of the task so far in the episode), ``accuracy``. Tasks not yet introduced
    are dropped; with ``evaluated_only`` only rows where accuracy was measured are kept.
    """
    keys = stream_keys(frame)
    rows = frame[frame["evaluated"] == 1] if evaluated_only and "evaluated" in frame.columns else frame
    acc_cols, ex_cols = task_columns(rows), task_columns(rows, "examples_")
    n_rows, n_tasks = len(rows), len(acc_cols)
    accuracy = rows[acc_cols].to_numpy(dtype=np.float64)  # (rows, T)
    examples = rows[ex_cols].to_numpy(dtype=np.float64) if ex_cols else np.full((n_rows, n_tasks), np.nan)
    out = {k: np.repeat(rows[k].to_numpy(), n_tasks) for k in (*keys, "episode", "task_trial")}
    out["task"] = np.tile(np.arange(n_tasks), n_rows)
    out["accuracy"] = accuracy.reshape(-1)
    out["examples"] = examples.reshape(-1)
    long = pd.DataFrame(out)
    long = long[long["task"] < long["episode"]].dropna(subset=["accuracy"])
    long.insert(len(keys) + 2, "times_trained", long["episode"] - long["task"])
    return long.reset_index(drop=True)


def trials_to_criterion(frame: pd.DataFrame, criterion: float = 0.95) -> pd.DataFrame:
    """Trials (and examples) until each task first measures ≥ ``criterion`` in each episode.

    One row per (stream, episode, task introduced so far): ``times_trained``, ``trials`` (the episode's trial
    count at the first measurement at criterion — resolution ``eval_every``; NaN if never within the episode),
    ``examples`` (the task's training examples by then), ``reached`` (bool).
    """
    if not 0.0 < criterion <= 1.0:
        raise ValueError(f"criterion must lie in (0, 1], got {criterion!r}")
    keys = stream_keys(frame)
    long = accuracy_long(frame)
    group = [*keys, "episode", "task", "times_trained"]
    hits = long[long["accuracy"] >= criterion].groupby(group, as_index=False)[["task_trial", "examples"]].first()
    every = long.groupby(group, as_index=False).size()[group]  # every (stream, episode, task) measured
    out = every.merge(hits, on=group, how="left").rename(columns={"task_trial": "trials"})
    out["reached"] = out["trials"].notna()
    out["trials"] = out["trials"].astype(np.float64)
    return out.sort_values(group).reset_index(drop=True)


def accuracy_after_budget(frame: pd.DataFrame, budget: int, unit: str = "trials") -> pd.DataFrame:
    """Hold-out accuracy of each (stream, episode, task) after ``budget`` trials (or examples of that task).

    The first measurement at or past the budget; if the episode ended sooner (criterion reached), its last
    measurement — the accuracy the task was left at. Columns: keys, ``episode``, ``task``, ``times_trained``,
    ``accuracy``, ``at_budget`` (False where the episode ended before the budget).
    """
    if unit not in ("trials", "examples"):
        raise ValueError(f"unit must be 'trials' or 'examples', got {unit!r}")
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget!r}")
    keys = stream_keys(frame)
    long = accuracy_long(frame)
    x = long["task_trial"] if unit == "trials" else long["examples"]
    long = long.assign(at_budget=x >= budget)
    group = [*keys, "episode", "task", "times_trained"]
    past = long[long["at_budget"]].groupby(group, as_index=False).first()
    last = long.groupby(group, as_index=False).last()
    merged = last.merge(past[[*group, "accuracy"]], on=group, how="left", suffixes=("_last", ""))
    merged["at_budget"] = merged["accuracy"].notna()
    merged["accuracy"] = merged["accuracy"].fillna(merged["accuracy_last"])
    return merged[[*group, "accuracy", "at_budget"]].sort_values(group).reset_index(drop=True)


def forward_facilitation(ttc: pd.DataFrame) -> pd.DataFrame:
    """Per (stream, episode): the new task's trials to criterion and its facilitation ``1 − trials_e / trials_1``.

    ``ttc`` from :func:`trials_to_criterion`. Facilitation > 0: the new task was learned in fewer trials than
    the stream's first task (learned de novo); < 0: more. NaN where the new task never reached criterion.
    """
    keys = [k for k in STREAM_KEYS if k in ttc.columns]
    new = ttc[ttc["times_trained"] == 1][[*keys, "episode", "trials"]].rename(columns={"trials": "new_trials"})
    first = new[new["episode"] == 1][[*keys, "new_trials"]].rename(columns={"new_trials": "first_trials"})
    out = new.merge(first, on=keys, how="left")
    out["facilitation"] = 1.0 - out["new_trials"] / out["first_trials"]
    return out.drop(columns="first_trials").sort_values([*keys, "episode"]).reset_index(drop=True)


def backward_interference(frame: pd.DataFrame, criterion: float = 0.95) -> pd.DataFrame:
    """Per (stream, episode ≥ 2): how much introducing the new task disturbs the old ones.

    ``forgetting``: mean over old tasks of (accuracy at the end of the previous episode − the lowest accuracy
    measured during this one), ≥ 0 when old tasks dip; ``retrain_trials``: mean trials until the old tasks are
    back at ``criterion`` (:func:`trials_to_criterion`); ``n_old``.
    """
    keys = stream_keys(frame)
    long = accuracy_long(frame, evaluated_only=False)
    group = [*keys, "episode", "task"]
    end = long.groupby(group, as_index=False)["accuracy"].last()  # accuracy when each episode ended
    end = end.assign(episode=end["episode"] + 1).rename(columns={"accuracy": "before"})
    # Every row, so the measurement taken when the episode began (carried by its first rows) counts too.
    low = long.groupby(group, as_index=False)["accuracy"].min().rename(columns={"accuracy": "lowest"})
    old = low.merge(end, on=group, how="inner")  # tasks that existed in the previous episode
    old["drop"] = old["before"] - old["lowest"]
    ttc = trials_to_criterion(frame, criterion)
    ttc_old = ttc[ttc["times_trained"] > 1]
    old = old.merge(ttc_old[[*group, "trials"]], on=group, how="left")
    out = old.groupby([*keys, "episode"], as_index=False).agg(
        forgetting=("drop", "mean"), retrain_trials=("trials", "mean"), n_old=("task", "size")
    )
    return out.sort_values([*keys, "episode"]).reset_index(drop=True)


def power_law_fit(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Least-squares line through ``(log10 x, log10 y)``: ``y ≈ 10^intercept · x^slope``.

    Returns ``slope``, ``intercept``, ``slope_low``/``slope_high`` (the two-sided ``confidence`` t-interval of the
    slope; NaN with fewer than 3 points or no spread in x), ``r2``, ``n``. Non-positive or NaN pairs are dropped.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log10(x[keep]), np.log10(y[keep])
    n = int(keep.sum())
    nan = float("nan")
    if n < 2 or np.ptp(lx) == 0:
        return {"slope": nan, "intercept": nan, "slope_low": nan, "slope_high": nan, "r2": nan, "n": n}
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + intercept)
    ss_tot = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    if n >= 3:
        se = np.sqrt(np.sum(resid**2) / (n - 2) / np.sum((lx - lx.mean()) ** 2))
        half = stats.t.ppf(0.5 + confidence / 2, n - 2) * se
    else:
        half = nan
    return {
        "slope": float(slope),
        "intercept": float(intercept),
        "slope_low": float(slope - half),
        "slope_high": float(slope + half),
        "r2": r2,
        "n": n,
    }


def power_law_slopes(ttc: pd.DataFrame, x: str, by: str, y: str = "trials") -> pd.DataFrame:
    """One :func:`power_law_fit` of ``y`` against ``x`` per level of ``by`` (all streams' points pooled).

    The paper's Fig 2c is ``x="times_trained", by="position"`` and Fig 2d ``x="episode", by="times_trained"``;
    ``position`` (the episode that introduced the task, ``task + 1``) is added when missing.
    """
    data = ttc.assign(position=ttc["task"] + 1) if "position" not in ttc.columns else ttc
    rows = []
    for level, part in data.groupby(by):
        rows.append({by: level, **power_law_fit(part[x].to_numpy(), part[y].to_numpy())})
    return pd.DataFrame(rows)


def gem_matrix(frame: pd.DataFrame) -> np.ndarray:
    """GEM's accuracy matrix of one stream: ``R[i, j]`` = accuracy on task ``j`` at the end of episode ``i+1``.

    ``(T, T)``; entries for tasks introduced later than ``i+1`` are NaN except ``R[i, i+1]`` (the next task, from
    ``next_accuracy``) which forward transfer needs. Episodes the stream did not reach are NaN rows.
    """
    if len(frame.groupby(stream_keys(frame))) > 1:
        raise ValueError("gem_matrix takes the rows of one stream; group the frame by its stream keys first")
    acc_cols = task_columns(frame)
    n = len(acc_cols)
    ends = frame.groupby("episode").tail(1).set_index("episode")
    R = np.full((n, n), np.nan)  # (T, T)
    for episode, row in ends.iterrows():
        i = int(episode) - 1
        R[i, : i + 1] = row[acc_cols].to_numpy(dtype=np.float64)[: i + 1]
        if i + 1 < n and "next_accuracy" in row.index:
            R[i, i + 1] = row["next_accuracy"]
    return R


def gem_metrics(R: np.ndarray, baseline: np.ndarray | float = 0.5) -> dict[str, float]:
    """ACC, BWT and FWT of Lopez-Paz & Ranzato (2017) from a ``(T, T)`` accuracy matrix.

    ``ACC = mean_j R[T−1, j]``; ``BWT = mean_{j<T−1} (R[T−1, j] − R[j, j])``; ``FWT = mean_{j≥1} (R[j−1, j] − b_j)``
    with ``b`` the accuracy of an untrained model (``baseline``, scalar or ``(T,)``; 0.5 = chance of balanced
    accuracy). BWT and FWT are NaN for ``T = 1``.
    """
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
        raise ValueError(f"R must be a square (T, T) matrix, got shape {R.shape}")
    t = R.shape[0]
    b = np.broadcast_to(np.asarray(baseline, dtype=np.float64), (t,))
    acc = float(np.mean(R[-1]))
    if t == 1:
        return {"ACC": acc, "BWT": float("nan"), "FWT": float("nan")}
    j = np.arange(t - 1)
    bwt = float(np.mean(R[-1, j] - R[j, j]))
    fwt = float(np.mean(R[j, j + 1] - b[j + 1]))
    return {"ACC": acc, "BWT": bwt, "FWT": fwt}
