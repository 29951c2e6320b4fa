"""Fit the coupled-learner surrogate (``tradeoff/CoupledCurves-v0``) to schedules played on a neural world; report
its fidelity on held-out seeds and held-out schedules.

Reads what ``coupled_data`` wrote (per-trial ``accuracy``; or a block file that ``--save-blocks`` wrote), fits
:class:`tradeoff_gym.envs.coupled_curves.CoupledParams` by ``scipy.optimize.least_squares`` on the per-block
(``--fit-block`` trials) mean accuracy of the fit schedules, averaged over the fit seeds, and estimates the per-trial
noise from the spread of trials inside blocks. Then it reports, on the test seeds (and for held-out schedules also
on the fit seeds):

* per schedule, the R² of the surrogate's expected per-block (``--report-block``, 250) accuracy against the neural
  mean over seeds;
* c* = S̄ / P̄ − 1 of the surrogate against the neural world's (always-serial vs always-parallel, ÷ (1 + c));
* the Spearman rank correlation of a set of one-look rules' returns (look at T, switch to serial if the look's
  reward ÷ the mean of the ``recent`` trials before it is ≥ threshold; replayed over a cost grid exactly as
  ``look_frontier`` does; the surrogate's looks are drawn with its own per-trial noise).

Writes the calibration (``--out``, JSON: ``params`` plus the data, scale, fit and fidelity it came from); a
calibration copied to ``envs/data/coupled/NAME.json`` ships as ``preset=NAME``. See
docs/environments/coupled-curves.md and docs/findings/coupled-curves.md.

    python -m tradeoff_gym.benchmarks.scripts.fit_coupled --data results/coupled/default_h5000.npz \\
        --out results/coupled/default.json --test-seeds 2 --test-schedules sp@500,sp@2000,ps@900,ps@2500
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

from tradeoff_gym.benchmarks.scripts.look_frontier import COSTS, replay
from tradeoff_gym.envs.coupled_curves import PARALLEL_ACTION, SERIAL_ACTION, CoupledParams, simulate
from tradeoff_gym.envs.interface import RewardRule

#: Parameters the fitter leaves alone (noise is estimated separately; the start of the trace is kept at its default).
NOT_FITTED = ("noise_examples",)


def schedule_actions(name: str, horizon: int) -> np.ndarray:
    """``(τ,)`` int8 actions of a schedule name (``serial``, ``parallel``, ``sp@T``, ``ps@T``, ``stay@T``)."""
    kind, _, at = name.partition("@")
    actions = np.full(horizon, PARALLEL_ACTION, dtype=np.int8)
    if kind == "serial":
        actions[:] = SERIAL_ACTION
    elif kind == "sp":
        actions[: int(at)] = SERIAL_ACTION
    elif kind == "ps":
        actions[int(at):] = SERIAL_ACTION
    elif kind == "stay":
        actions[int(at)] = SERIAL_ACTION
    elif kind != "parallel":
        raise ValueError(f"schedule must be serial, parallel, sp@T, ps@T or stay@T, got {name!r}")
    return actions


def block_means(values: np.ndarray, block: int) -> np.ndarray:
    """``(..., τ)`` → ``(..., τ // block)`` means over consecutive blocks (a partial last block is dropped)."""
    n = values.shape[-1] // block
    return values[..., : n * block].reshape(*values.shape[:-1], n, block).mean(axis=-1)


class Data:
    """Schedules played on a neural world: ``blocks`` ``(seeds, schedules, τ // block)`` mean accuracy per block of
    ``block`` trials, ``spread`` the same shape's within-block variance of per-trial accuracy, ``trials``
    ``(seeds, schedules, τ)`` per-trial accuracy when the file has it (else None); ``names``, ``seeds``,
    ``horizon``, ``settings`` (the env settings, JSON text)."""

    def __init__(self, path: str | Path) -> None:
        with np.load(path) as data:
            self.names = [str(n) for n in data["schedules"]]
            self.seeds = [int(s) for s in data["seeds"]]
            self.horizon = int(data["horizon"])
            self.settings = str(data["settings"])
            if "accuracy" in data.files:
                self.trials: np.ndarray | None = data["accuracy"].astype(np.float64)
                self.block = 1
                self.blocks = self.trials
                self.spread = np.zeros_like(self.trials)
                if "action" in data.files:  # the names must say what was played
                    for r, name in enumerate(self.names):
                        if not np.array_equal(data["action"][0, r], schedule_actions(name, self.horizon)):
                            raise ValueError(f"{path}: schedule {name!r} does not play what its name says")
            else:
                self.trials = None
                self.block = int(data["block"])
                self.blocks = data["block_accuracy"].astype(np.float64)
                self.spread = data["block_spread"].astype(np.float64)

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
    recent: int, costs: Sequence[float] = COSTS,
) -> dict[tuple[int, float], float]:
    """Each one-look rule's mean over ``costs`` of its reward rate ÷ the best fixed strategy's (look_frontier's
    replay); ``accuracy`` schedule name → ``(episodes, τ)`` raw accuracy per trial."""
    horizon = next(iter(accuracy.values())).shape[1]
    trajectories = {name: (acc[..., None], schedule_actions(name.replace("switch", "ps"), horizon)[None].repeat(
        len(acc), 0)) for name, acc in accuracy.items()}
    return {(at, t): float(np.mean(replay(rule, trajectories, at, t, costs, recent)))
            for at in looks for t in thresholds}


def surrogate_trials(params: CoupledParams, names: Sequence[str], horizon: int, episodes: int, n_tasks: int,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``episodes`` noisy surrogate episodes per schedule: name → ``(episodes, τ)`` raw accuracy (the mean of
    ``n_tasks`` tasks' noisy accuracies, Gaussian with the env's variance)."""
    actions = np.stack([schedule_actions(n, horizon) for n in names])
    expected = played(params, actions)  # (R, τ)
    spread = np.sqrt(np.clip(expected * (1 - expected), 0, None) / (params.noise_examples * n_tasks))
    noisy = expected[:, None] + spread[:, None] * rng.standard_normal((len(names), episodes, horizon))
    return {n: np.clip(noisy[r], 0.0, 1.0) for r, n in enumerate(names)}


def parse_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    """Fit, report, write the calibration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="coupled_data's .npz (or a --save-blocks file)")
    parser.add_argument("--out", required=True, help="the calibration JSON")
    parser.add_argument("--test-seeds", default="", help="held-out seeds (default: the file's last seed)")
    parser.add_argument("--test-schedules", default="", help="held-out schedules (default: none)")
    parser.add_argument("--fit-block", type=int, default=25, help="trials per block of the least-squares fit")
    parser.add_argument("--report-block", type=int, default=250, help="trials per block of the R² report")
    parser.add_argument("--looks", default="500,900,1500,2500", help="look trials of the look rules")
    parser.add_argument("--thresholds", default="0.8,0.85,0.9,0.95,1.0,1.05")
    parser.add_argument("--recent", type=int, default=50)
    parser.add_argument("--n-tasks", type=int, default=4, help="tasks per trial of the world")
    parser.add_argument("--start", default=None, help="a calibration JSON to start the fit from")
    parser.add_argument("--max-nfev", type=int, default=400)
    parser.add_argument("--look-weight", type=float, default=5.0,
                        help="weight of each switch's first trial (mean over fit seeds) beside the block means")
    parser.add_argument("--escape-starts", default="0.3,0.5,0.7",
                        help="starting escape_at values (fractions of τ): one fit from each, the best kept")
    parser.add_argument("--save-blocks", default=None, help="also write the compact block file here")
    parser.add_argument("--save-block", type=int, default=25, help="its block size (trials)")
    args = parser.parse_args(argv)
    from tradeoff_gym.envs.coupled_curves import load_calibration

    data = Data(args.data)
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
    start = load_calibration(args.start)[0] if args.start else CoupledParams()
    points = []  # each switch's first trial (the look), mean over the fit seeds, when the data has single trials
    if data.block == 1:
        for r, name in enumerate(fit_names):
            kind, _, at = name.partition("@")
            if kind in ("ps", "sp", "stay"):
                row = data.names.index(name)
                points.append((r, int(at), float(data.trials[fit_index, row, int(at)].mean())))
    clock = time.perf_counter()
    params, result = None, None
    for fraction in [float(x) for x in parse_list(args.escape_starts)] or [None]:
        begin = start if fraction is None else start.replace(escape_at=fraction * horizon)
        candidate, outcome = fit(target, actions, args.fit_block, begin, max_nfev=args.max_nfev, points=points,
                                 point_weight=args.look_weight)
        print(f"  start escape_at {begin.escape_at:.0f}: cost {outcome.cost:.5f} after {outcome.nfev} evaluations",
              flush=True)
        if result is None or outcome.cost < result.cost:
            params, result = candidate, outcome
    noise = noise_examples(data, args.n_tasks, args.fit_block) if data.trials is not None or data.block > 1 else 32.0
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
    # look rules
    looks = [int(t) for t in parse_list(args.looks) if f"stay@{t}" in data.names and f"ps@{t}" in data.names]
    thresholds = [float(t) for t in parse_list(args.thresholds)]
    spearman: dict[str, float] = {}
    if looks and data.trials is not None:
        rule = RewardRule()
        need = ["serial", "parallel", *(f"{k}@{t}" for t in looks for k in ("stay", "ps"))]
        surrogate = surrogate_trials(params, need, horizon, 200, args.n_tasks, np.random.default_rng(0))
        model_scores = look_scores(rule, {n.replace("ps@", "switch@"): a for n, a in surrogate.items()}, looks,
                                   thresholds, args.recent)
        for label, index in (("all seeds", list(range(len(data.seeds)))), ("test seeds", test_index)):
            neural = {n.replace("ps@", "switch@"): data.trials[index, data.names.index(n)] for n in need}
            scores = look_scores(rule, neural, looks, thresholds, args.recent)
            keys = sorted(scores)
            rho = float(spearmanr([scores[k] for k in keys], [model_scores[k] for k in keys]).statistic)
            spearman[label] = rho
            print(f"look rules ({len(keys)}: looks {looks} × thresholds {thresholds}), Spearman vs neural {label}: "
                  f"{rho:.3f}")
            for k in keys:
                print(f"    look {k[0]:>5} threshold {k[1]:.2f}: neural {scores[k]:.4f}  "
                      f"surrogate {model_scores[k]:.4f}")
    document = {
        "params": params.to_json(),
        "data": str(args.data), "settings": json.loads(data.settings), "horizon": horizon,
        "fit": {"seeds": fit_seeds, "schedules": fit_names, "block": args.fit_block, "rmse": rmse,
                "evaluations": int(result.nfev), "seconds": round(seconds, 1)},
        "fidelity": {"test_seeds": test_seeds, "report_block": args.report_block, "r2": rows,
                     "c_star": {"surrogate": model_cstar, "neural_test_seeds": neural_test, "neural_all": neural_all},
                     "look_rules_spearman": spearman},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
