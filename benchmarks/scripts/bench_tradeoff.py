"""Evidence that the serial/parallel trade-off exists in tradeoff/SerialParallel-v0.

Runs always-serial and always-parallel through the run loop over several seeds and prints, per seed and
as mean ± sd: trials to 90 % raw accuracy (50-trial moving average) under each strategy; the
parallel-execution error (mean over tasks, on the held-out probe set) after serial and after parallel
training; and the crossover cost c* at which the fixed strategies' total rewards over τ are equal —
the learning never depends on c, so one cost-free run per strategy gives every cost:
``R_S(c) = R_S(0) / (1 + c)`` ⇒ ``c* = R_S(0) / R_P − 1``.

    python -m tradeoff_gym.benchmarks.scripts.bench_tradeoff --trials 5000 --seeds 5
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from joblib import Parallel, delayed

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents import FixedAgent
from tradeoff_gym.benchmarks.run_loop import run_episode

WINDOW = 50


def trials_to(accuracy: np.ndarray, level: float = 0.9, window: int = WINDOW) -> float:
    """First trial (1-based, end of the window) where the ``window``-trial moving average reaches ``level``."""
    smooth = np.convolve(accuracy, np.ones(window) / window, mode="valid")
    hit = np.flatnonzero(smooth >= level)
    return float(hit[0] + window) if hit.size else float("nan")


def run(env_id: str, trials: int, seed: int, strategy: str, settings: dict, threads: int = 1) -> dict:
    """One fixed-strategy episode at c = 0: its accuracy curve and the final probe."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    env = gym.make(env_id, horizon=trials, cost=0.0, **settings)
    frame = run_episode(env, FixedAgent(strategy), seed=seed)
    probe = env.unwrapped.probe()
    return {
        "seconds": time.perf_counter() - start,
        "accuracy": frame.raw_accuracy.to_numpy(),
        "parallel_error": probe.parallel_error,
        "serial_error": probe.serial_error,
        "corr_t3t4": probe.correlations[:, 2, 3],
        "layers": probe.layers,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5000, help="τ, trials per episode (paper: 5000)")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0 … n−1)")
    parser.add_argument("--noisy", action="store_true", help="use tradeoff/SerialParallelNoisy-v0")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: shared machine)")
    parser.add_argument("--jobs", type=int, default=1, help="episodes run at once (processes, joblib)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="env settings (Python literals)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import ast

    settings = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    env_id = "tradeoff/SerialParallelNoisy-v0" if args.noisy else "tradeoff/SerialParallel-v0"
    print(f"{env_id}  τ = {args.trials} trials  seeds 0…{args.seeds - 1}  settings {settings or 'default'}")
    print(
        f"{'seed':>4} {'t90 S':>6} {'t90 P':>6} {'par.err S-trained':>18} {'par.err P-trained':>18} "
        f"{'R_S(0)':>8} {'R_P':>8} {'c*':>6} {'cpu s':>5}"
    )
    start = time.perf_counter()
    jobs = [(seed, strategy) for seed in range(args.seeds) for strategy in ("serial", "parallel")]
    task = delayed(run)
    outs = Parallel(n_jobs=args.jobs)(task(env_id, args.trials, sd, st, settings, args.threads) for sd, st in jobs)
    episodes = dict(zip(jobs, outs))
    rows = []
    for seed in range(args.seeds):
        s, p = episodes[seed, "serial"], episodes[seed, "parallel"]
        total_s, total_p = s["accuracy"].sum(), p["accuracy"].sum()
        row = {
            "t90_s": trials_to(s["accuracy"]),
            "t90_p": trials_to(p["accuracy"]),
            "perr_s": float(np.mean(s["parallel_error"])),
            "perr_p": float(np.mean(p["parallel_error"])),
            "total_s": total_s,
            "total_p": total_p,
            "c_star": total_s / total_p - 1.0,
        }
        rows.append(row)
        print(
            f"{seed:>4} {row['t90_s']:>6.0f} {row['t90_p']:>6.0f} {row['perr_s']:>18.3f} {row['perr_p']:>18.3f} "
            f"{total_s:>8.1f} {total_p:>8.1f} {row['c_star']:>6.3f} {s['seconds'] + p['seconds']:>5.0f}",
            flush=True,
        )
        print(
            f"     parallel error per task  S-trained {np.round(s['parallel_error'], 3)}  "
            f"P-trained {np.round(p['parallel_error'], 3)};  serial error S-trained {np.round(s['serial_error'], 3)}"
        )
        print(
            f"     corr T3–T4 per layer {list(s['layers'])}: S-trained {np.round(s['corr_t3t4'], 2)}  "
            f"P-trained {np.round(p['corr_t3t4'], 2)}"
        )
    table = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    print("mean ± sd over seeds:")
    print(f"wall time {time.perf_counter() - start:.0f} s ({args.jobs} job(s))")
    for key, label in (
        ("t90_s", "trials to 90 % raw accuracy, serial"),
        ("t90_p", "trials to 90 % raw accuracy, parallel"),
        ("perr_s", "parallel-execution error after serial training"),
        ("perr_p", "parallel-execution error after parallel training"),
        ("c_star", "crossover cost c*"),
    ):
        values = table[key]
        print(f"  {label:<50} {np.nanmean(values):8.3f} ± {np.nanstd(values):.3f}  (n = {np.isfinite(values).sum()})")
    t90_p = np.nan_to_num(table["t90_p"], nan=np.inf)  # never reaching 90 % counts as slowest
    checks = {
        "serial reaches 90 % first in every seed": bool(np.all(t90_p > table["t90_s"])),
        "serial-trained parallel error higher in every seed": bool(np.all(table["perr_s"] > table["perr_p"])),
        "c* strictly inside (0, 1) in every seed": bool(np.all((table["c_star"] > 0) & (table["c_star"] < 1))),
    }
    for name, ok in checks.items():
        print(f"  [{'x' if ok else ' '}] {name}")


if __name__ == "__main__":
    main()
