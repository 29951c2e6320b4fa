"""Steps per second of a LearningCurves episode: the bare env, and the run loop with each agent.

Usage: python -m tradeoff_gym.benchmarks.scripts.bench_learning_curves [--trials 5000] [--repeats 5]
Prints the best of ``repeats`` timings (least disturbed by other load). Target: ≥ 50,000 env steps/s.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode

AGENTS = ("serial", "random", "ucb1", "epsilon-greedy", "sw-ucb", "gaussian-ts", "oracle")


def bare_env_steps_per_second(trials: int, repeats: int) -> float:
    """Steps/s of ``env.step`` alone (through gym.make's wrappers) with a fixed action."""
    env = gym.make("tradeoff/LearningCurves-v0", horizon=trials)
    best = float("inf")
    for repeat in range(repeats):
        env.reset(seed=repeat)
        start = time.perf_counter()
        for _ in range(trials):
            env.step(0)
        best = min(best, time.perf_counter() - start)
    return trials / best


def run_loop_steps_per_second(agent: str, trials: int, repeats: int) -> float:
    """Steps/s of a whole ``run_episode`` (reset, agent, logging, DataFrame) with ``agent``."""
    env = gym.make("tradeoff/LearningCurves-v0", horizon=trials)
    best = float("inf")
    for repeat in range(repeats):
        start = time.perf_counter()
        run_episode(env, make_agent(agent, env), seed=repeat)
        best = min(best, time.perf_counter() - start)
    return trials / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"LearningCurves-v0, {args.trials}-trial episodes, best of {args.repeats}")
    bare = bare_env_steps_per_second(args.trials, args.repeats)
    print(f"{'env.step alone (fixed action)':<34} {bare:>10,.0f} steps/s")
    for agent in AGENTS:
        rate = run_loop_steps_per_second(agent, args.trials, args.repeats)
        print(f"{'run_episode + ' + agent:<34} {rate:>10,.0f} steps/s")


if __name__ == "__main__":
    main()
