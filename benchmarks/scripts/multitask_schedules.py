"""Which Multitask schedule is best at which cost, by horizon: every fixed schedule on the same seeds, exact envelope.

Plays every schedule of ``tradeoff/Multitask-v0``'s table on ``--seeds`` seeds in one batch on the native vector env
(sub-env (seed s, schedule a) is seeded s, so schedules are compared on the same world, data and initial network),
at c = 0. A fixed schedule's learning never depends on the cost, and its reward is linear in its per-task accuracies,
so its reward rate over the first τ trials at any cost c is the env's reward rule applied to its mean per-task
accuracies at c (``divide``: mean accuracy ÷ (1 + d·c); ``--cost-mode additive`` the other rule); the script prints,
for each horizon τ in ``--horizons``, each schedule's mean accuracy and the bands of c (grid of 1001 costs) where
each schedule is best. One torch thread.

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
from tradeoff_gym.envs.interface import COST_MODES, RewardRule


def best_bands(rule: RewardRule, accuracy: np.ndarray, grid: np.ndarray) -> list[tuple[str, float]]:
    """``[(schedule, from cost), …]``: where each schedule pays the highest reward rate on ``grid``.

    ``accuracy`` ``(n_strategies, n_tasks)``: row ``a`` the mean per-task accuracies of strategy ``a`` of ``rule``
    (every task performed); its rate at cost c is ``rule`` applied to them.
    """
    actions = np.arange(len(accuracy))[:, None]  # (n, 1) against grid (1, n_grid)
    rates = np.asarray(rule.reward(rule.task_rewards(actions, accuracy[:, None, :], grid[None, :])))  # (n, n_grid)
    best = rates.reshape(len(accuracy), grid.size).argmax(0)  # (n_grid,)
    names = [s.name for s in rule.strategies]
    return [(names[best[i]], float(grid[i])) for i in range(grid.size) if i == 0 or best[i] != best[i - 1]]


def main(argv: list[str] | None = None) -> None:
    """Play the schedules, print per horizon the mean accuracies and the best schedule's cost bands."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1500, help="trials played (the longest horizon)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per schedule")
    parser.add_argument("--horizons", type=str, default="", help="comma-separated τ ≤ trials (default: trials)")
    parser.add_argument("--cost-mode", default="divide", choices=COST_MODES, help="the env's reward rule")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    env_id = "tradeoff/Multitask-v0"
    rule = envs.check_settings(env_id, cost_mode=args.cost_mode).reward_rule
    n = len(rule.strategies)
    vec = gym.make_vec(env_id, num_envs=n * args.seeds, vectorization_mode="vector_entry_point",
                       horizon=args.trials, cost=0.0, cost_mode=args.cost_mode)
    vec.reset(seed=[s for s in range(args.seeds) for _ in range(n)])
    actions = np.tile(np.arange(n), args.seeds)
    n_tasks = vec.unwrapped.config.task_set.n_tasks
    accuracy = np.zeros((args.trials, n * args.seeds, n_tasks))  # trial × (seed, schedule) × task
    start = time.perf_counter()
    for t in range(args.trials):
        accuracy[t] = vec.step(actions)[4]["task_accuracy"]  # every task performed: no NaN to mask
    print(f"{args.trials} trials × {n * args.seeds} episodes in {time.perf_counter() - start:.0f} s")
    names = [s.name for s in rule.strategies]
    horizons = [int(h) for h in args.horizons.split(",") if h] or [args.trials]
    for tau in horizons:
        if not 1 <= tau <= args.trials:
            raise SystemExit(f"--horizons must lie in [1, {args.trials}], got {tau}")
        per_task = accuracy[:tau].reshape(tau, args.seeds, n, n_tasks).mean(axis=(0, 1))  # (n, n_tasks)
        shown = " ".join(f"{name}={a:.3f}" for name, a in zip(names, per_task.mean(axis=1)))
        bands = ", ".join(f"{name} from c={c:.3f}" for name, c in best_bands(rule, per_task, np.linspace(0, 1, 1001)))
        print(f"τ={tau}: {shown} | best: {bands}")


if __name__ == "__main__":
    main()
