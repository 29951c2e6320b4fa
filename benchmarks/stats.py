"""Aggregate statistics over runs and tasks with stratified bootstrap confidence intervals (rliable's definitions).

The statistics of Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS
2021; the rliable library): mean, median, interquartile mean (IQM), optimality gap, performance profiles and the
probability of improvement, each with a percentile interval from a **stratified** bootstrap over runs — every
resample draws runs with replacement independently within each task, so tasks are never mixed.

Scores come as rliable's ``score_dict``: agent name → array ``(n_runs, n_tasks)`` of normalised scores (unitless;
here a run is a seed and a task a condition such as a cost). Every agent's array must have the same ``n_tasks``
(the same tasks, in the same order); the number of runs may differ between agents. Randomness comes from an
explicit integer ``seed`` (a :class:`numpy.random.Generator` per agent or pair, derived from the seed and the
agent's name), never from the global numpy state: the same scores and seed give the same intervals, whatever
other agents are in the dict. User guide: ``docs/benchmarks/index.md`` (Statistics). Uses numpy and scipy only.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import stats

#: rliable's score_dict: agent name → normalised scores ``(n_runs, n_tasks)``.
ScoreDict = Mapping[str, np.ndarray]
#: A statistic of a batch of score matrices: ``(batch, n_runs, n_tasks)`` → ``(batch,)``.
BatchStatistic = Callable[[np.ndarray], np.ndarray]

#: The aggregates of :func:`aggregate_estimates`, in the order reports show them.
AGGREGATES = ("mean", "median", "iqm", "optimality_gap")
#: Bootstrap resamples per estimate unless told otherwise (rliable's default for performance profiles).
REPS = 2000
#: Most bootstrap resamples held in memory at once, in score cells (bounds memory for large matrices).
_CHUNK_CELLS = 2_000_000


class Estimate(NamedTuple):
    """A point estimate with its bootstrap confidence interval ``[low, high]`` (the score's unit)."""

    value: float
    low: float
    high: float


class Profile(NamedTuple):
    """A performance profile on a τ grid: ``value``, ``low``, ``high`` each ``(n_taus,)`` — fractions in [0, 1]."""

    taus: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


# ------------------------------------------------------------------------------------------------- point estimates
def check_scores(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    """``scores`` as a float64 ``(n_runs, n_tasks)`` array; ValueError unless 2-D, non-empty and finite."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty (n_runs, n_tasks) array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (drop runs with missing scores first)")
    return array


def aggregate_mean(scores: np.ndarray) -> float:
    """Mean over tasks of the per-task mean over runs (rliable's ``aggregate_mean``)."""
    return float(_mean(check_scores(scores)[None])[0])


def aggregate_median(scores: np.ndarray) -> float:
    """Median over tasks of the per-task mean over runs (rliable's ``aggregate_median``)."""
    return float(_median(check_scores(scores)[None])[0])


def aggregate_iqm(scores: np.ndarray) -> float:
    """Interquartile mean: the 25 %-trimmed mean of all ``n_runs × n_tasks`` scores (rliable's ``aggregate_iqm``)."""
    return float(_iqm(check_scores(scores)[None])[0])


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> float:
    """Mean over all scores of ``max(gamma - x, 0)``: how far below ``gamma`` the scores fall (lower is better)."""
    return float(_gap(check_scores(scores)[None], gamma)[0])


def score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Run-score distribution: for each τ of ``taus`` ``(n_taus,)``, the fraction of all run × task scores > τ."""
    return _profile(check_scores(scores)[None], np.asarray(taus, dtype=np.float64))[0]


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y): per task, the Mann–Whitney U of X's runs against Y's ÷ (n_x · n_y) (a tie counts ½), mean over tasks.

    ``x`` ``(n_x, n_tasks)`` and ``y`` ``(n_y, n_tasks)``; 0.5 means neither is better (rliable's definition).
    """
    x, y = check_scores(x, "x"), check_scores(y, "y")
    _same_tasks(x, y)
    return float(_improvement(x[None], y[None])[0])


# ------------------------------------------------------------------------------------------------- the bootstrap
def rng_for(seed: int, key: str) -> np.random.Generator:
    """The Generator of one estimate: seeded from ``seed`` and ``key`` (an agent's name, or ``"x > y"``)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(key.encode())]))


def stratified_indices(n_runs: int, n_tasks: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Run indices ``(reps, n_runs, n_tasks)`` of stratified resamples: column t draws task t's runs with replacement.

    A resample's score matrix is ``scores[indices, np.arange(n_tasks)]``: task t's column holds only task t's scores.
    """
    return rng.integers(0, n_runs, size=(reps, n_runs, n_tasks))


def resample(scores: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Resampled score matrices ``(reps, n_runs, n_tasks)`` from ``scores`` and :func:`stratified_indices`."""
    return scores[indices, np.arange(scores.shape[1])]


def bootstrap_distribution(
    scores: np.ndarray, statistic: BatchStatistic, *, reps: int = REPS, rng: np.random.Generator
) -> np.ndarray:
    """The statistic on ``reps`` stratified resamples of ``scores`` ``(n_runs, n_tasks)``: an array ``(reps, ...)``."""
    scores = check_scores(scores)
    n_runs, n_tasks = scores.shape
    chunk = max(1, _CHUNK_CELLS // scores.size)
    parts = []
    for start in range(0, reps, chunk):
        indices = stratified_indices(n_runs, n_tasks, min(chunk, reps - start), rng)
        parts.append(statistic(resample(scores, indices)))
    return np.concatenate(parts, axis=0)


def percentile_interval(distribution: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of a bootstrap ``distribution`` ``(reps, ...)``: ``(low, high)``, each ``(...)``."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tail = 50 * (1 - confidence)
    low, high = np.percentile(distribution, [tail, 100 - tail], axis=0)
    return low, high


def interval_estimate(
    scores: np.ndarray, statistic: BatchStatistic, *, reps: int = REPS, confidence: float = 0.95,
    rng: np.random.Generator,
) -> Estimate:
    """``statistic`` on ``scores`` with its percentile CI over ``reps`` stratified bootstrap resamples."""
    scores = check_scores(scores)
    _check_reps(reps)
    value = float(statistic(scores[None])[0])
    low, high = percentile_interval(bootstrap_distribution(scores, statistic, reps=reps, rng=rng), confidence)
    return Estimate(value, float(low), float(high))


def aggregate_estimates(
    scores: ScoreDict, *, gamma: float = 1.0, reps: int = REPS, confidence: float = 0.95, seed: int = 0
) -> dict[str, dict[str, Estimate]]:
    """Per agent, :data:`AGGREGATES` (mean, median, IQM, optimality gap at ``gamma``), each with its 95 % CI.

    Stratified bootstrap over runs (``reps`` resamples, percentile intervals at ``confidence``); one resample set
    per agent, shared by its four aggregates, drawn from :func:`rng_for` ``(seed, agent)``.
    """
    _check_reps(reps)
    checked = _check_dict(scores)
    out: dict[str, dict[str, Estimate]] = {}
    for agent, matrix in checked.items():
        def every(batch: np.ndarray) -> np.ndarray:  # (reps, n_runs, n_tasks) -> (reps, 4)
            return np.stack([_mean(batch), _median(batch), _iqm(batch), _gap(batch, gamma)], axis=1)

        values = every(matrix[None])[0]
        low, high = percentile_interval(bootstrap_distribution(matrix, every, reps=reps, rng=rng_for(seed, agent)),
                                        confidence)
        out[agent] = {name: Estimate(float(values[i]), float(low[i]), float(high[i]))
                      for i, name in enumerate(AGGREGATES)}
    return out


def performance_profiles(
    scores: ScoreDict, taus: np.ndarray, *, reps: int = REPS, confidence: float = 0.95, seed: int = 0
) -> dict[str, Profile]:
    """Per agent, the run-score distribution (:func:`score_distribution`) on ``taus`` with pointwise CIs."""
    _check_reps(reps)
    taus = np.asarray(taus, dtype=np.float64)
    out = {}
    for agent, matrix in _check_dict(scores).items():
        def profile(batch: np.ndarray) -> np.ndarray:
            return _profile(batch, taus)

        low, high = percentile_interval(
            bootstrap_distribution(matrix, profile, reps=reps, rng=rng_for(seed, agent)), confidence)
        out[agent] = Profile(taus, profile(matrix[None])[0], low, high)
    return out


def improvement_estimates(
    scores: ScoreDict, pairs: list[tuple[str, str]] | None = None, *, reps: int = REPS, confidence: float = 0.95,
    seed: int = 0,
) -> dict[tuple[str, str], Estimate]:
    """P(X > Y) (:func:`probability_of_improvement`) with its CI for each ``(x, y)`` of ``pairs`` (default: every
    ordered pair of distinct agents).

    X's and Y's runs are resampled independently, each stratified by task (rliable's
    ``StratifiedIndependentBootstrap``); the pair's resamples come from :func:`rng_for` ``(seed, "x > y")``. With
    the default pairs each unordered pair is resampled once, ``x`` before ``y`` in the dict's order, and P(Y > X) is
    1 − P(X > Y) on the same resamples (so its interval is ``[1 − high, 1 − low]``).
    """
    _check_reps(reps)
    checked = _check_dict(scores)
    mirror = pairs is None  # every ordered pair: P(Y > X) = 1 − P(X > Y) on the same resamples, so draw once per pair
    if pairs is None:
        names = list(checked)
        pairs = [(x, y) for i, x in enumerate(names) for y in names[i + 1:]]
    out = {}
    for x_name, y_name in pairs:
        x, y = checked[x_name], checked[y_name]
        rng = rng_for(seed, f"{x_name} > {y_name}")
        (n, tasks), m = x.shape, y.shape[0]
        wins = ((np.sign(x[:, None, :] - y[None, :, :]) + 1) / 2).transpose(2, 0, 1)  # T N M: 1, ½ (tie) or 0
        chunk = max(1, _CHUNK_CELLS // (max(n, m) * tasks))
        draws = []
        for start in range(0, reps, chunk):
            size = min(chunk, reps - start)
            x_counts = _counts(stratified_indices(n, tasks, size, rng), n)  # T B N: times each run was drawn
            y_counts = _counts(stratified_indices(m, tasks, size, rng), m)  # T B M
            per_task = ((x_counts @ wins) * y_counts).sum(axis=2) / (n * m)  # T B: P(X > Y) of each resample
            draws.append(per_task.mean(axis=0))
        low, high = percentile_interval(np.concatenate(draws), confidence)
        out[(x_name, y_name)] = estimate = Estimate(float(_improvement(x[None], y[None])[0]), float(low), float(high))
        if mirror:
            out[(y_name, x_name)] = Estimate(1 - estimate.value, 1 - estimate.high, 1 - estimate.low)
    return out


# ------------------------------------------------------------------------------------------------- score files
@dataclass(frozen=True)
class RunScores:
    """Per-run scores in rliable's score_dict layout, and what their rows and columns are.

    ``scores``: agent → ``(n_seeds, n_conditions)`` normalised scores (runs = seeds, tasks = conditions);
    ``conditions``: the columns' names (e.g. ``"cost=0.3"``), the same for every agent; ``seeds``: agent → the
    seed of each row; ``dropped``: agent → seeds left out because a condition's score was missing (NaN).
    """

    scores: dict[str, np.ndarray]
    conditions: list[str]
    seeds: dict[str, list[int]]
    dropped: dict[str, int] = field(default_factory=dict)

    def npz_bytes(self) -> bytes:
        """``scores.npz``: one float64 array ``(n_seeds, n_conditions)`` per agent, named after the agent."""
        buffer = io.BytesIO()
        np.savez(buffer, **{agent: np.asarray(matrix, dtype=np.float64) for agent, matrix in self.scores.items()})
        return buffer.getvalue()

    def columns_json(self, meaning: str = "") -> bytes:
        """``scores_columns.json``: the conditions (columns), each agent's seeds (rows) and what a score means."""
        payload = {"layout": "agent -> (n_seeds, n_conditions), rliable's score_dict", "conditions": self.conditions,
                   "seeds": self.seeds, "dropped_seeds": self.dropped, "score": meaning}
        return (json.dumps(payload, indent=2) + "\n").encode()


def join_conditions(parts: list[tuple[str, RunScores | None]]) -> RunScores | None:
    """Per-run scores of several parts (e.g. one per env-grid setting) side by side: one score_dict whose
    conditions are every part's, named ``"<part>, <condition>"``.

    An agent is kept when every part scores it; its rows are the seeds every part has for it (``dropped`` counts the
    seeds some part lacks, plus those every part dropped). None when no part has scores or no agent is in all of
    them. Why: a grid's settings are tasks of their own in rliable's layout (runs × tasks), never pooled into one
    condition.
    """
    scored = [(name, part) for name, part in parts if part is not None and part.scores]
    if not scored:
        return None
    agents = sorted(set.intersection(*(set(part.scores) for _, part in scored)))
    scores, seeds, dropped = {}, {}, {}
    for agent in agents:
        common = set.intersection(*(set(part.seeds[agent]) for _, part in scored))
        seen = set.union(*(set(part.seeds[agent]) for _, part in scored))  # seeds some part lacks are left out,
        dropped[agent] = len(seen - common) + min(part.dropped.get(agent, 0) for _, part in scored)  # + all lack
        if not common:
            continue
        rows = sorted(common)
        scores[agent] = np.hstack([part.scores[agent][[part.seeds[agent].index(seed) for seed in rows]]
                                   for _, part in scored])
        seeds[agent] = rows
    if not scores:
        return None
    conditions = [f"{name}, {condition}" if name else condition
                  for name, part in scored for condition in part.conditions]
    return RunScores(scores, conditions, seeds, {agent: n for agent, n in dropped.items() if n})


# ------------------------------------------------------------------------------------------------- batched statistics
def _mean(batch: np.ndarray) -> np.ndarray:  # (B, R, T) -> (B,)
    return batch.mean(axis=1).mean(axis=1)


def _median(batch: np.ndarray) -> np.ndarray:  # (B, R, T) -> (B,)
    return np.median(batch.mean(axis=1), axis=1)


def _iqm(batch: np.ndarray) -> np.ndarray:  # (B, R, T) -> (B,)
    return stats.trim_mean(batch.reshape(batch.shape[0], -1), proportiontocut=0.25, axis=1)


def _gap(batch: np.ndarray, gamma: float) -> np.ndarray:  # (B, R, T) -> (B,)
    return np.maximum(gamma - batch, 0.0).reshape(batch.shape[0], -1).mean(axis=1)


def _profile(batch: np.ndarray, taus: np.ndarray) -> np.ndarray:  # (B, R, T), (K,) -> (B, K)
    flat = np.sort(batch.reshape(batch.shape[0], -1), axis=1)  # B N
    above = np.stack([flat.shape[1] - np.searchsorted(row, taus, side="right") for row in flat])
    return above / flat.shape[1]


def _improvement(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:  # (B, N, T), (B, M, T) -> (B,)
    # Every pair of runs per task: 1 when x > y, ½ when tied, 0 when x < y (finite scores: x − y has x's sign
    # against y); the mean over the N·M pairs is the Mann–Whitney U ÷ (N·M).
    wins = (np.sign(xs[:, :, None, :] - ys[:, None, :, :]) + 1) / 2  # B N M T
    return wins.mean(axis=(1, 2)).mean(axis=1)


def _counts(indices: np.ndarray, runs: int) -> np.ndarray:  # (B, R, T) run indices -> (T, B, runs) counts
    reps, _, tasks = indices.shape
    flat = ((np.arange(reps)[:, None, None] * runs + indices) * tasks + np.arange(tasks)).ravel()
    return np.bincount(flat, minlength=reps * runs * tasks).reshape(reps, runs, tasks).transpose(2, 0, 1).astype(float)


def _same_tasks(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"scores must have the same number of tasks, got {x.shape[1]} and {y.shape[1]}")


def _check_dict(scores: ScoreDict) -> dict[str, np.ndarray]:
    checked = {str(agent): check_scores(matrix, f"scores[{agent!r}]") for agent, matrix in scores.items()}
    tasks = {matrix.shape[1] for matrix in checked.values()}
    if len(tasks) > 1:
        raise ValueError(f"every agent's scores must have the same number of tasks, got {sorted(tasks)}")
    return checked


def _check_reps(reps: int) -> None:
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
