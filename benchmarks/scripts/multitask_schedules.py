"""Which Multitask schedule is best at which cost, by horizon: every fixed schedule on the same seeds, exact envelope.

Plays every schedule of ``tradeoff/Multitask-v0``'s table on ``--seeds`` seeds in one batch on the native vector env
(sub-env (seed s, schedule a) is seeded s, so schedules are compared on the same world, data and initial network),
at c = 0. A fixed schedule's learning never depends on the cost, so its reward rate over the first τ trials at any
cost c is its mean accuracy ÷ (1 + d·c); the script prints, for each horizon τ in ``--horizons``, each schedule's mean
accuracy and the bands of c (grid of 1001 costs) where each schedule is best. One torch thread.

    python -m tradeoff_gym.benchmarks.scripts.multitask_schedules --trials 5000 --seeds 2 --horizons 1000,1500,3000,5000

What it finds (partial schedules win the middle of the cost range once the horizon is long): docs/findings/multitask.md.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids)


def best_bands(accuracy: np.ndarray, delays: np.ndarray, names: list[str], grid: np.ndarray) -> list[tuple[str, float]]:
    """``[(schedule, from cost), …]``: where each schedule has the highest accuracy ÷ (1 + d·c) on ``grid``."""
    best = (accuracy[:, None] / (1.0 + delays[:, None] * grid[None, :])).argmax(0)  # (n_grid,)
    return [(names[best[i]], float(grid[i])) for i in range(grid.size) if i == 0 or best[i] != best[i - 1]]


def main(argv: list[str] | None = None) -> None:
    """Play the schedules, print per horizon the mean accuracies and the best schedule's cost bands."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1500, help="trials played (the longest horizon)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per schedule")
    parser.add_argument("--horizons", type=str, default="", help="comma-separated τ ≤ trials (default: trials)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    env_id = "tradeoff/Multitask-v0"
    strategies = envs.check_settings(env_id).strategies
    n = len(strategies)
    vec = gym.make_vec(env_id, num_envs=n * args.seeds, vectorization_mode="vector_entry_point",
                       horizon=args.trials, cost=0.0)
    vec.reset(seed=[s for s in range(args.seeds) for _ in range(n)])
    actions = np.tile(np.arange(n), args.seeds)
    accuracy = np.zeros((args.trials, n * args.seeds))  # trial × (seed, schedule)
    start = time.perf_counter()
    for t in range(args.trials):
        accuracy[t] = vec.step(actions)[4]["raw_accuracy"]
    print(f"{args.trials} trials × {n * args.seeds} episodes in {time.perf_counter() - start:.0f} s")
    names = [s.name for s in strategies]
    delays = np.array([s.delay for s in strategies])
    horizons = [int(h) for h in args.horizons.split(",") if h] or [args.trials]
    for tau in horizons:
        if not 1 <= tau <= args.trials:
            raise SystemExit(f"--horizons must lie in [1, {args.trials}], got {tau}")
        mean = accuracy[:tau].reshape(tau, args.seeds, n).mean(axis=(0, 1))  # (n,) per schedule
        shown = " ".join(f"{name}={a:.3f}" for name, a in zip(names, mean))
        bands = ", ".join(f"{name} from c={c:.3f}" for name, c in best_bands(mean, delays, names,
                                                                              np.linspace(0, 1, 1001)))
        print(f"τ={tau}: {shown} | best: {bands}")


if __name__ == "__main__":
    main()
