"""Agent cost per episode-trial at K episodes in lockstep: agents stepped one by one vs their batch, vs the learner.

Each agent plays K LearningCurves episodes (τ = ``--horizon``, per-episode costs and curves) through the run loop
twice — ``run_episodes(..., batched=False)`` (each agent's ``act``/``observe``) and ``batched=True`` (its
:class:`tradeoff_gym.agents.base.BatchAgent`, when it has one) — timing only the agents' calls (CPU time), and
checks the two runs' frames are identical. The learner's cost is one ``tradeoff/SerialParallel-v0`` vector-env
step at the same K (random actions, default network) ÷ K. One torch thread. Figures: docs/findings/speed.md#agents.

    python -m tradeoff_gym.benchmarks.scripts.bench_agent_cost --k 16 --horizon 1500
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.base import batch_agent
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episodes
from tradeoff_gym.envs.learning_curves import LogisticCurve

AGENTS = ("meta-learner", "sagiv", "navigator", "ucb1", "epsilon-greedy", "sw-ucb", "gaussian-ts", "r-ed-ucb",
          "cure-ucb")


class Clock:
    """CPU seconds spent in agent calls."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def call(self, method: Any, *args: Any) -> Any:
        start = time.process_time()  # CPU time: less sensitive than wall time to other processes on the cores
        try:
            return method(*args)
        finally:
            self.seconds += time.process_time() - start


class TimedAgent:
    """An agent whose calls are timed; its batch (when the agent has one) is timed too."""

    def __init__(self, agent: Any, clock: Clock) -> None:
        self.agent, self.clock, self.name = agent, clock, agent.name

    def reset(self, info: dict, rng: np.random.Generator) -> None:
        self.clock.call(self.agent.reset, info, rng)

    def act(self, obs: np.ndarray, info: dict) -> int:
        return self.clock.call(self.agent.act, obs, info)

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict) -> None:
        self.clock.call(self.agent.observe, action, reward, obs, info)

    @classmethod
    def batched(cls, agents: Sequence[TimedAgent]) -> TimedBatch | None:
        inner = batch_agent([agent.agent for agent in agents])
        return None if inner is None else TimedBatch(inner, agents[0].clock)


class TimedBatch:
    """A batch whose calls are timed."""

    def __init__(self, batch: Any, clock: Clock) -> None:
        self.batch, self.clock = batch, clock

    def reset_batch(self, *args: Any) -> None:
        self.clock.call(self.batch.reset_batch, *args)

    def act_batch(self, *args: Any) -> np.ndarray:
        return self.clock.call(self.batch.act_batch, *args)

    def observe_batch(self, *args: Any) -> None:
        self.clock.call(self.batch.observe_batch, *args)


def lockstep_env(k: int, horizon: int) -> gym.vector.SyncVectorEnv:
    """K LearningCurves episodes, each with its own cost and curves (so the agents' choices differ)."""
    def make(i: int) -> gym.Env:
        rate = 8.0 / horizon
        curves = (LogisticCurve(rate, (0.05 + 0.02 * i) * horizon), LogisticCurve(rate, 0.3 * horizon))
        return gym.make("tradeoff/LearningCurves-v0", horizon=horizon, cost=0.05 * (i % 10), curves=curves)

    return gym.vector.SyncVectorEnv([lambda i=i: make(i) for i in range(k)])


def agent_ms(name: str, k: int, horizon: int, batched: bool) -> tuple[float, list[pd.DataFrame]]:
    """ms of agent calls per episode-trial, and the frames."""
    envs_ = lockstep_env(k, horizon)
    clock = Clock()
    agents = [TimedAgent(make_agent(name, envs_.envs[i]), clock) for i in range(k)]
    frames = run_episodes(envs_, agents, list(range(k)), batched=batched)
    return clock.seconds / (k * horizon) * 1e3, frames


def learner_ms(k: int, steps: int) -> float:
    """Median CPU ms per episode-trial of a SerialParallel vector-env step at K (random actions)."""
    vec = gym.make_vec("tradeoff/SerialParallel-v0", num_envs=k, vectorization_mode="vector_entry_point",
                       horizon=steps + 10)
    vec.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        vec.step(rng.integers(2, size=k))
    times = []
    for _ in range(steps):
        actions = rng.integers(2, size=k)
        start = time.process_time()
        vec.step(actions)
        times.append(time.process_time() - start)
    vec.close()
    return statistics.median(times) / k * 1e3


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=16, help="episodes in lockstep")
    parser.add_argument("--horizon", type=int, default=1500, help="trials per episode")
    parser.add_argument("--agents", nargs="+", default=list(AGENTS))
    parser.add_argument("--learner-steps", type=int, default=20, help="timed vector-env steps for the learner")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"K = {args.k}, τ = {args.horizon}, one torch thread, load average {load:.2f} on {os.cpu_count()} cores")
    learner = learner_ms(args.k, args.learner_steps)
    print(f"learner (SerialParallel vector env): {learner:.3f} ms per episode-trial")
    print(f"{'agent':15s} {'one by one':>11s} {'batched':>8s} {'speedup':>8s} {'÷ learner':>10s} {'batched ÷':>10s}")
    for name in args.agents:
        alone, frames = agent_ms(name, args.k, args.horizon, batched=False)
        together, batch_frames = agent_ms(name, args.k, args.horizon, batched=True)
        for one, other in zip(frames, batch_frames):
            pd.testing.assert_frame_equal(one, other)  # batching is speed only
        print(f"{name:15s} {alone:11.3f} {together:8.3f} {alone / together:7.1f}x {alone / learner:9.1%} "
              f"{together / learner:9.1%}")
    print("(CPU ms of agent calls per episode-trial; ÷ learner: share of the learner's CPU time per episode-trial)")


if __name__ == "__main__":
    main()
