"""Fit the coupled-learner surrogate (``tradeoff/CoupledCurves-v0``) to schedules played on a neural world; report
its fidelity on held-out seeds and held-out schedules.

Reads what ``coupled_data`` wrote (per-trial ``accuracy``; or a block file that ``--save-blocks`` wrote), or, with
``--trajectories DIR/<world>_h<τ>_s<first>-<last>``, the per-schedule files ``look_frontier`` and ``sp_frontier``
keep for one world, seed range and horizon (:func:`trajectory_arrays`: each trial's mean accuracy over tasks, as
``coupled_data`` stores it; schedule names as theirs, ``switch@T`` = ``ps@T``, ``stay@T+L``). It fits
:class:`tradeoff_gym.envs.coupled_curves.CoupledParams` by ``scipy.optimize.least_squares`` on the per-block
(``--fit-block`` trials) mean accuracy of the fit schedules, averaged over the fit seeds, and estimates the per-trial
noise from the spread of trials inside blocks. Then it reports, on the test seeds (and for held-out schedules also
on the fit seeds):

* per schedule, the R² of the surrogate's expected per-block (``--report-block``, 250) accuracy against the neural
  mean over seeds;
* c* = S̄ / P̄ − 1 of the surrogate against the neural world's (always-serial vs always-parallel, ÷ (1 + c));
* the Spearman rank correlation of a set of look rules' returns (look at T, probe L serial trials (``--lengths``;
  L = 1 the one-look rule), switch to serial if the probe's mean reward ÷ the mean of the ``recent`` trials before
  T is ≥ threshold; replayed over a cost grid exactly as ``look_frontier`` does, from ``switch@T`` and
  ``stay@T+L``; the surrogate's episodes are drawn with its own per-trial noise).

Writes the calibration (``--out``, JSON: ``params``, ``env`` — the settings the world fixes: ``n_tasks`` and a
family world's ``batch_size`` — plus the data, scale, fit and fidelity it came from); a calibration copied to
``envs/data/coupled/NAME.json`` ships as ``preset=NAME``. See
docs/environments/coupled-curves.md and docs/findings/coupled-curves.md.

    python -m tradeoff_gym.benchmarks.scripts.fit_coupled --data results/coupled/default_h5000.npz \\
        --out results/coupled/default.json --test-seeds 2 --test-schedules sp@500,sp@2000,ps@900,ps@2500
    python -m tradeoff_gym.benchmarks.scripts.fit_coupled --trajectories results/sp_frontier/sp-mixed_w3_h5000_s0-1 \
        --out results/coupled/sp-mixed/sp-mixed-w3.json --start default,balanced --escape-starts "" \
        --test-seeds 1 --test-schedules switch@1000,stay@1000 --looks 250,1000 --lengths 1,20
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

from tradeoff_gym.benchmarks.scripts.look_frontier import COSTS, parse_schedule, replay, schedule_name
from tradeoff_gym.envs.coupled_curves import PARALLEL_ACTION, SERIAL_ACTION, CoupledParams, simulate
from tradeoff_gym.envs.interface import RewardRule

#: Parameters the fitter leaves alone (noise is estimated separately; the start of the trace is kept at its default).
NOT_FITTED = ("noise_examples",)


#: The schedule kinds this script reads: look_frontier's, plus ``sp@T`` and ``ps@T`` (coupled_data's names).
SCHEDULE_KINDS = ("serial", "parallel", "sp", "ps", "switch", "stay")


def schedule_actions(name: str, horizon: int) -> np.ndarray:
    """``(τ,)`` int8 actions of a schedule name: ``serial``, ``parallel``, ``sp@T`` (serial for T trials, then
    parallel), ``ps@T`` or ``switch@T`` (parallel, then serial from trial T: look_frontier's name), ``stay@T``
    (parallel, one serial trial at T) or ``stay@T+L`` (serial for trials T … T+L−1); trials are 0-based."""
    try:
        kind, start, span = parse_schedule(name, SCHEDULE_KINDS)
        if start >= horizon:
            raise ValueError(name)
    except ValueError:
        raise ValueError(f"schedule must be serial, parallel, sp@T, ps@T, switch@T, stay@T or stay@T+L "
                         f"(0 <= T < horizon={horizon}, L >= 1), got {name!r}") from None
    actions = np.full(horizon, PARALLEL_ACTION, dtype=np.int8)
    if kind == "serial":
        actions[:] = SERIAL_ACTION
    elif kind == "sp":
        actions[:start] = SERIAL_ACTION
    elif kind in ("ps", "switch"):
        actions[start:] = SERIAL_ACTION
    elif kind == "stay":
        actions[start:start + span] = SERIAL_ACTION
    return actions


def look_trial(name: str) -> int | None:
    """The first serial trial after parallel ones (the look) of ``ps@T``, ``switch@T``, ``stay@T(+L)``; ``sp@T``'s
    switch trial T; else None."""
    kind, _, where = name.partition("@")
    return int(where.partition("+")[0]) if kind in ("sp", "ps", "switch", "stay") else None


#: The name of a look_frontier / sp_frontier trajectory file: ``<world>_h<τ>_s<first>-<last>_<schedule>.npz``.
TRAJECTORY_FILE = re.compile(r"^(?P<stem>(?P<world>.+)_h(?P<horizon>\d+)_s(?P<first>\d+)-(?P<last>\d+))_"
                             r"(?P<schedule>[a-z]+(@\d+(\+\d+)?)?)\.npz$")


def trajectory_arrays(prefix: str | Path) -> dict[str, np.ndarray]:
    """The schedules ``look_frontier``/``sp_frontier`` kept for one (world, seeds, horizon), as ``coupled_data``'s
    arrays.

    ``prefix`` is ``DIR/<world>_h<τ>_s<first>-<last>`` (``<world>`` a SerialParallel preset, or
    ``<family>_w<i>`` for a family world); every ``PREFIX_<schedule>.npz`` is read (``accuracy`` ``(seeds, τ,
    n_tasks)`` per-task accuracies at c = 0, ``action`` ``(seeds, τ)``). Returns ``accuracy`` ``(seeds,
    schedules, τ)`` float32, each trial's mean over tasks (SerialParallel's ``raw_accuracy``: every task is
    performed; at c = 0 a task's reward is its accuracy), ``action`` ``(seeds, schedules, τ)`` int8,
    ``schedules`` (names as in the files: ``switch@T``, ``stay@T+L``), ``seeds``, ``horizon``, ``n_tasks`` and
    ``settings`` (JSON: ``{"family": …, "world": i}`` or ``{"preset": …}``).
    """
    prefix = Path(prefix)
    match = TRAJECTORY_FILE.match(prefix.name + "_x.npz")
    if match is None:
        raise ValueError(f"trajectories must be DIR/<world>_h<horizon>_s<first>-<last>, got {str(prefix)!r}")
    found = sorted(prefix.parent.glob(f"{glob.escape(prefix.name)}_*.npz"))
    files = {m["schedule"]: path for path in found
             if (m := TRAJECTORY_FILE.match(path.name)) and m["stem"] == prefix.name}
    if not files:
        raise ValueError(f"no trajectory files {str(prefix)}_<schedule>.npz")
    order = {"serial": 0, "parallel": 1}
    names = sorted(files, key=lambda n: (order.get(n, 2), look_trial(n) or 0, n))
    horizon = int(match["horizon"])
    accuracy, action, seeds = [], [], None
    for name in names:
        with np.load(files[name]) as data:
            if seeds is None:
                seeds = data["seeds"].astype(np.int64)
            elif not np.array_equal(seeds, data["seeds"]):
                raise ValueError(f"{files[name]}: seeds {data['seeds'].tolist()} differ from the other schedules' "
                                 f"{seeds.tolist()}")
            tasks = data["accuracy"]
            if tasks.ndim != 3 or tasks.shape[:2] != (len(seeds), horizon):
                raise ValueError(f"{files[name]}: accuracy must be (seeds={len(seeds)}, horizon={horizon}, "
                                 f"n_tasks), got {tasks.shape}")
            accuracy.append(tasks.mean(axis=2))
            action.append(data["action"])
    world = match["world"]
    family = re.fullmatch(r"(?P<family>.+)_w(?P<index>\d+)", world)
    settings = {"family": family["family"], "world": int(family["index"])} if family else {"preset": world}
    return {"accuracy": np.stack(accuracy, axis=1).astype(np.float32),
            "action": np.stack(action, axis=1).astype(np.int8), "schedules": np.asarray(names),
            "seeds": seeds, "horizon": np.asarray(horizon), "n_tasks": np.asarray(tasks.shape[2]),
            "settings": np.asarray(json.dumps(settings))}


def block_means(values: np.ndarray, block: int) -> np.ndarray:
    """``(..., τ)`` → ``(..., τ // block)`` means over consecutive blocks (a partial last block is dropped)."""
    n = values.shape[-1] // block
    return values[..., : n * block].reshape(*values.shape[:-1], n, block).mean(axis=-1)


class Data:
    """Schedules played on a neural world: ``blocks`` ``(seeds, schedules, τ // block)`` mean accuracy per block of
    ``block`` trials, ``spread`` the same shape's within-block variance of per-trial accuracy, ``trials``
    ``(seeds, schedules, τ)`` per-trial accuracy when the source has it (else None); ``names``, ``seeds``,
    ``horizon``, ``settings`` (the env settings, JSON text), ``n_tasks`` (tasks per trial, None when the source
    does not say). ``source``: a ``coupled_data`` or ``--save-blocks`` file, or the same arrays by name
    (:func:`trajectory_arrays`)."""

    def __init__(self, source: str | Path | Mapping[str, np.ndarray]) -> None:
        if isinstance(source, Mapping):
            data, path = source, "the arrays"
        else:
            with np.load(source) as npz:
                data, path = {key: npz[key] for key in npz.files}, str(source)
        self.names = [str(n) for n in data["schedules"]]
        self.seeds = [int(s) for s in data["seeds"]]
        self.horizon = int(data["horizon"])
        self.settings = str(data["settings"])
        self.n_tasks: int | None = int(data["n_tasks"]) if "n_tasks" in data else (
            int(data["task_accuracy"].shape[-1]) if "task_accuracy" in data else None)
        if "accuracy" in data:
            self.trials: np.ndarray | None = np.asarray(data["accuracy"], dtype=np.float64)
            self.block = 1
            self.blocks = self.trials
            self.spread = np.zeros_like(self.trials)
            if "action" in data:  # the names must say what was played
                for r, name in enumerate(self.names):
                    if not np.array_equal(data["action"][0, r], schedule_actions(name, self.horizon)):
                        raise ValueError(f"{path}: schedule {name!r} does not play what its name says")
        else:
            self.trials = None
            self.block = int(data["block"])
            self.blocks = np.asarray(data["block_accuracy"], dtype=np.float64)
            self.spread = np.asarray(data["block_spread"], dtype=np.float64)

    def at_block(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """(means, within-block variances) ``(seeds, schedules, τ // block)`` at ``block`` trials (a multiple of the
        file's block)."""
        if block % self.block:
            raise ValueError(f"block {block} must be a multiple of the data's block {self.block}")
        factor = block // self.block
        means = block_means(self.blocks, factor)
        # total variance within a block = mean within-sub-block variance + variance of the sub-block means
        spread = block_means(self.spread, factor) + block_means(self.blocks**2, factor) - means**2
        return means, spread

    def save_blocks(self, path: str | Path, block: int) -> None:
        """The compact file (block means and within-block variances as float32) the fitter reads like the full one."""
        means, spread = self.at_block(block)
        np.savez_compressed(path, block_accuracy=means.astype(np.float32), block_spread=spread.astype(np.float32),
                            block=np.asarray(block), schedules=np.asarray(self.names), seeds=np.asarray(self.seeds),
                            horizon=np.asarray(self.horizon), settings=np.asarray(self.settings))


def played(params: CoupledParams, actions: np.ndarray) -> np.ndarray:
    """``(R, τ)`` the surrogate's expected accuracy of the strategy each schedule plays, trial by trial."""
    return simulate(params, actions, both=False)


def noise_examples(data: Data, n_tasks: int, block: int) -> float:
    """Effective examples per task of the per-trial noise: mean p(1 − p) ÷ (n_tasks · mean within-block variance)."""
    means, spread = data.at_block(block)
    keep = (means > 0.05) & (means < 0.95)  # where a block's trend is slow next to its noise
    return float(np.mean(means[keep] * (1 - means[keep])) / (n_tasks * np.mean(spread[keep])))


def fit(
    target: np.ndarray, actions: np.ndarray, block: int, start: CoupledParams, *, max_nfev: int = 400,
    free: Sequence[str] | None = None, points: Sequence[tuple[int, int, float]] = (), point_weight: float = 1.0,
) -> tuple[CoupledParams, Any]:
    """Least-squares fit of the free parameters to ``target`` ``(R, τ // block)`` block means of schedules
    ``actions`` ``(R, τ)``; returns (params, scipy's result). ``free`` names the fitted parameters (default: all but
    :data:`NOT_FITTED`), bounded by :attr:`CoupledParams.BOUNDS` (progress bounds scaled to the horizon).
    ``points`` ``(row, trial, accuracy)`` are single trials fitted too, each residual times ``point_weight`` (the
    first trial of a switch — the look — is one trial, invisible in block means, and what look rules read)."""
    names = list(free) if free is not None else [n for n in CoupledParams.names() if n not in NOT_FITTED]
    horizon = actions.shape[1]
    bounds = dict(CoupledParams.BOUNDS)
    bounds.update(escape_at=(0.0, 4.0 * horizon), escape_width=(1.0, horizon), setback=(0.0, 4.0 * horizon),
                  setback_decay=(1.0, 4.0 * horizon), floor=(-4.0 * horizon, 0.0))
    low = np.array([max(bounds[n][0], CoupledParams.BOUNDS[n][0]) for n in names])
    high = np.array([min(bounds[n][1], CoupledParams.BOUNDS[n][1]) for n in names])
    x0 = np.clip(np.array([getattr(start, n) for n in names]), low, high)

    rows = np.array([r for r, _, _ in points], dtype=np.intp)
    trials = np.array([t for _, t, _ in points], dtype=np.intp)
    values = np.array([v for _, _, v in points])

    def residuals(x: np.ndarray) -> np.ndarray:
        params = start.replace(**dict(zip(names, x)))
        curves = played(params, actions)
        blocks = (block_means(curves, block) - target).ravel()
        return np.concatenate([blocks, point_weight * (curves[rows, trials] - values)])

    result = least_squares(residuals, x0, bounds=(low, high), x_scale="jac", max_nfev=max_nfev)
    return start.replace(**dict(zip(names, result.x))), result


def r_squared(observed: np.ndarray, predicted: np.ndarray) -> float:
    """1 − Σ(y − ŷ)² / Σ(y − ȳ)² over the last axis (one schedule's blocks)."""
    return float(1.0 - np.sum((observed - predicted) ** 2) / np.sum((observed - observed.mean()) ** 2))


def crossover(serial: float, parallel: float) -> float:
    """c* = S̄ / P̄ − 1 (÷ (1 + c) discount)."""
    return serial / parallel - 1.0


def look_scores(
    rule: RewardRule, accuracy: dict[str, np.ndarray], looks: Sequence[int], thresholds: Sequence[float],
    recent: int, costs: Sequence[float] = COSTS, lengths: Sequence[int] = (1,),
) -> dict[tuple[int, int, float], float]:
    """Each probe-then-commit rule's (look T, probe length L, threshold t) mean over ``costs`` of its reward rate ÷
    the best fixed strategy's (look_frontier's replay; L = 1 is the one-look rule); ``accuracy`` look_frontier
    schedule name (``serial``, ``parallel``, ``switch@T``, ``stay@T``, ``stay@T+L``) → ``(episodes, τ)`` raw
    accuracy per trial."""
    horizon = next(iter(accuracy.values())).shape[1]
    trajectories = {name: (acc[..., None], schedule_actions(name, horizon)[None].repeat(len(acc), 0))
                    for name, acc in accuracy.items()}
    return {(at, length, t): float(np.mean(replay(rule, trajectories, at, t, costs, recent, length)))
            for at in looks for length in lengths for t in thresholds}


def surrogate_trials(params: CoupledParams, names: Sequence[str], horizon: int, episodes: int, n_tasks: int,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``episodes`` noisy surrogate episodes per schedule: name → ``(episodes, τ)`` raw accuracy (the mean of
    ``n_tasks`` tasks' noisy accuracies, Gaussian with the env's variance)."""
    actions = np.stack([schedule_actions(n, horizon) for n in names])
    expected = played(params, actions)  # (R, τ)
    spread = np.sqrt(np.clip(expected * (1 - expected), 0, None) / (params.noise_examples * n_tasks))
    noisy = expected[:, None] + spread[:, None] * rng.standard_normal((len(names), episodes, horizon))
    return {n: np.clip(noisy[r], 0.0, 1.0) for r, n in enumerate(names)}


def environment(settings: dict[str, Any], n_tasks: int) -> dict[str, Any]:
    """The surrogate's env settings that mirror the neural world (a calibration's ``env``, the defaults its preset
    builds with): ``n_tasks``, and a family world's ``batch_size`` (examples per task)."""
    env: dict[str, Any] = {"n_tasks": int(n_tasks)}
    if "family" in settings and "world" in settings:
        from tradeoff_gym.envs.families import world_settings

        drawn = world_settings(settings["family"], int(settings["world"]))
        if "batch_size" in drawn:
            env["batch_size"] = int(drawn["batch_size"])
    return env


def parse_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    """Fit, report, write the calibration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="coupled_data's .npz (or a --save-blocks file)")
    source.add_argument("--trajectories", help="instead: look_frontier/sp_frontier files DIR/<world>_h<τ>_s<a>-<b> "
                        "(every DIR/<world>_h<τ>_s<a>-<b>_<schedule>.npz is read)")
    parser.add_argument("--out", required=True, help="the calibration JSON")
    parser.add_argument("--test-seeds", default="", help="held-out seeds (default: the file's last seed)")
    parser.add_argument("--test-schedules", default="", help="held-out schedules (default: none)")
    parser.add_argument("--fit-block", type=int, default=25, help="trials per block of the least-squares fit")
    parser.add_argument("--report-block", type=int, default=250, help="trials per block of the R² report")
    parser.add_argument("--looks", default="500,900,1500,2500", help="look trials of the look rules")
    parser.add_argument("--lengths", default="1", help="probe lengths L of the look rules (stay@T+L schedules)")
    parser.add_argument("--costs", default=",".join(f"{c:g}" for c in COSTS), help="costs the rules are scored on")
    parser.add_argument("--thresholds", default="0.8,0.85,0.9,0.95,1.0,1.05")
    parser.add_argument("--recent", type=int, default=50)
    parser.add_argument("--n-tasks", type=int, default=None,
                        help="tasks per trial of the world (default: the data's, else 4)")
    parser.add_argument("--start", default=None, help="calibrations (shipped names or JSON files, comma-separated) "
                        "to start the fit from: one fit per start × escape start, the best kept")
    parser.add_argument("--max-nfev", type=int, default=400)
    parser.add_argument("--look-weight", type=float, default=5.0,
                        help="weight of each switch's first trial (mean over fit seeds) beside the block means")
    parser.add_argument("--escape-starts", default="0.3,0.5,0.7",
                        help="starting escape_at values (fractions of τ): one fit from each, the best kept")
    parser.add_argument("--save-blocks", default=None, help="also write the compact block file here")
    parser.add_argument("--save-block", type=int, default=25, help="its block size (trials)")
    args = parser.parse_args(argv)
    from tradeoff_gym.envs.coupled_curves import load_calibration

    data = Data(args.data if args.data else trajectory_arrays(args.trajectories))
    n_tasks = args.n_tasks or data.n_tasks or 4
    if args.save_blocks:
        data.save_blocks(args.save_blocks, args.save_block)
    test_seeds = [int(s) for s in parse_list(args.test_seeds)] or data.seeds[-1:]
    fit_seeds = [s for s in data.seeds if s not in test_seeds]
    if not fit_seeds or any(s not in data.seeds for s in test_seeds):
        raise SystemExit(f"--test-seeds must be some of the data's seeds {data.seeds}, leaving some to fit on")
    test_names = parse_list(args.test_schedules)
    if any(n not in data.names for n in test_names):
        raise SystemExit(f"--test-schedules must be among {data.names}")
    fit_names = [n for n in data.names if n not in test_names]
    fit_rows = [data.names.index(n) for n in fit_names]
    fit_index = [data.seeds.index(s) for s in fit_seeds]
    test_index = [data.seeds.index(s) for s in test_seeds]
    horizon = data.horizon
    means, _ = data.at_block(args.fit_block)
    target = means[fit_index][:, fit_rows].mean(axis=0)
    actions = np.stack([schedule_actions(n, horizon) for n in fit_names])
    starts = {name: load_calibration(name)[0] for name in parse_list(args.start or "")} or {"built-in": CoupledParams()}
    points = []  # each switch's first trial (the look), mean over the fit seeds, when the data has single trials
    if data.block == 1:
        for r, name in enumerate(fit_names):
            at = look_trial(name)
            if at is not None:
                row = data.names.index(name)
                points.append((r, at, float(data.trials[fit_index, row, at].mean())))
    clock = time.perf_counter()
    params, result = None, None
    chosen = ""
    for label, start in starts.items():
        for fraction in [float(x) for x in parse_list(args.escape_starts)] or [None]:
            begin = start if fraction is None else start.replace(escape_at=fraction * horizon)
            candidate, outcome = fit(target, actions, args.fit_block, begin, max_nfev=args.max_nfev, points=points,
                                     point_weight=args.look_weight)
            print(f"  start {label}, escape_at {begin.escape_at:.0f}: cost {outcome.cost:.5f} after {outcome.nfev} "
                  f"evaluations", flush=True)
            if result is None or outcome.cost < result.cost:
                params, result, chosen = candidate, outcome, label
    noise = noise_examples(data, n_tasks, args.fit_block) if data.trials is not None or data.block > 1 else 32.0
    params = params.replace(noise_examples=min(max(noise, 1.0), 1e6))
    seconds = time.perf_counter() - clock
    rmse = float(np.sqrt(np.mean(result.fun**2)))
    print(f"fitted {len(result.x)} parameters on {len(fit_names)} schedules × seeds {fit_seeds} "
          f"({args.fit_block}-trial blocks, τ = {horizon}) in {seconds:.0f} s: RMSE {rmse:.4f}, "
          f"noise_examples {params.noise_examples:.1f}")
    print(json.dumps(params.to_json(), indent=1))

    # fidelity: per-block R² per schedule
    report, _ = data.at_block(args.report_block)
    all_actions = np.stack([schedule_actions(n, horizon) for n in data.names])
    predicted = block_means(played(params, all_actions), args.report_block)  # (R, blocks)
    rows = []
    for r, name in enumerate(data.names):
        role = "held-out schedule" if name in test_names else "fit schedule"
        row = {"schedule": name, "role": role,
               "r2_test_seeds": r_squared(report[test_index, r].mean(axis=0), predicted[r]),
               "r2_fit_seeds": r_squared(report[fit_index, r].mean(axis=0), predicted[r])}
        rows.append(row)
        print(f"  {name:>10} ({role}): R² test seeds {row['r2_test_seeds']:.3f}, fit seeds {row['r2_fit_seeds']:.3f}")
    # c*
    full, _ = data.at_block(data.block)
    mean_acc = full.mean(axis=2)  # (seeds, schedules)
    s, p = data.names.index("serial"), data.names.index("parallel")
    neural_test = crossover(mean_acc[test_index, s].mean(), mean_acc[test_index, p].mean())
    neural_all = crossover(mean_acc[:, s].mean(), mean_acc[:, p].mean())
    model_cstar = crossover(predicted[s].mean(), predicted[p].mean())
    print(f"c*: surrogate {model_cstar:.3f}, neural test seeds {neural_test:.3f}, all seeds {neural_all:.3f}")
    # look rules: (look T, probe length L, threshold) replayed from switch@T (or ps@T) and stay@T+L
    lengths = [int(x) for x in parse_list(args.lengths)]
    costs = [float(x) for x in parse_list(args.costs)]

    def played_as(at: int) -> str | None:
        return next((n for n in (f"switch@{at}", f"ps@{at}") if n in data.names), None)

    looks = [int(t) for t in parse_list(args.looks)
             if played_as(int(t)) and all(schedule_name("stay", int(t), n) in data.names for n in lengths)]
    thresholds = [float(t) for t in parse_list(args.thresholds)]
    spearman: dict[str, float] = {}
    if not looks or data.trials is None:
        print(f"look rules: none (needs per-trial data with switch@T and stay@T+L for L in {lengths}, T in --looks)")
    else:
        rule = RewardRule()
        need = {"serial": "serial", "parallel": "parallel", **{f"switch@{t}": played_as(t) for t in looks},
                **{schedule_name("stay", t, n): schedule_name("stay", t, n) for t in looks for n in lengths}}
        surrogate = surrogate_trials(params, list(need), horizon, 200, n_tasks, np.random.default_rng(0))
        model_scores = look_scores(rule, surrogate, looks, thresholds, args.recent, costs, lengths)
        for label, index in (("all seeds", list(range(len(data.seeds)))), ("test seeds", test_index)):
            neural = {k: data.trials[index, data.names.index(v)] for k, v in need.items()}
            scores = look_scores(rule, neural, looks, thresholds, args.recent, costs, lengths)
            keys = sorted(scores)
            rho = float(spearmanr([scores[k] for k in keys], [model_scores[k] for k in keys]).statistic)
            spearman[label] = rho
            print(f"look rules ({len(keys)}: looks {looks} × lengths {lengths} × thresholds {thresholds}), Spearman "
                  f"vs neural {label}: {rho:.3f}")
            for k in keys:
                print(f"    look {k[0]:>5} length {k[1]:>3} threshold {k[2]:.2f}: neural {scores[k]:.4f}  "
                      f"surrogate {model_scores[k]:.4f}")
    document = {
        "params": params.to_json(),
        "env": environment(json.loads(data.settings), n_tasks),
        "data": str(args.data or args.trajectories), "settings": json.loads(data.settings), "horizon": horizon,
        "fit": {"seeds": fit_seeds, "schedules": fit_names, "block": args.fit_block, "rmse": rmse,
                "evaluations": int(result.nfev), "seconds": round(seconds, 1),
                "start": chosen, "max_nfev": args.max_nfev},
        "fidelity": {"test_seeds": test_seeds, "report_block": args.report_block, "r2": rows,
                     "c_star": {"surrogate": model_cstar, "neural_test_seeds": neural_test, "neural_all": neural_all},
                     "look_rules": {"looks": looks, "lengths": lengths, "thresholds": thresholds, "costs": costs,
                                    "recent": args.recent},
                     "look_rules_spearman": spearman},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
