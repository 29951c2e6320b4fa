"""Steps per second of ``tradeoff/CoupledCurves-v0`` (one env, bare ``env.step``; target ≥ 50k, docs/findings/speed.md).

Plays ``--episodes`` episodes of ``--horizon`` trials with a random action per trial (drawn before the clock starts)
on the unwrapped env with the default calibration, and prints the best of ``--repeats`` runs in steps per second.

    python -m tradeoff_gym.benchmarks.scripts.bench_coupled_speed
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import tradeoff_gym  # noqa: F401  (registers the ids)


def steps_per_second(horizon: int, episodes: int, noise: bool = True) -> float:
    """Bare ``step`` throughput of one unwrapped env over ``episodes`` episodes (resets excluded from the clock)."""
    env = gym.make("tradeoff/CoupledCurves-v0", horizon=horizon, cost=0.3, noise=noise).unwrapped
    actions = np.random.default_rng(0).integers(0, 2, size=(episodes, horizon)).tolist()
    elapsed = 0.0
    for e in range(episodes):
        env.reset(seed=e)
        step = env.step
        start = time.perf_counter()
        for a in actions[e]:
            step(a)
        elapsed += time.perf_counter() - start
    return episodes * horizon / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    best = max(steps_per_second(args.horizon, args.episodes) for _ in range(args.repeats))
    print(f"CoupledCurves-v0: {best:,.0f} steps/s (one env, τ = {args.horizon}, {args.episodes} episodes, "
          f"best of {args.repeats})")


if __name__ == "__main__":
    main()
