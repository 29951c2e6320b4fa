"""Write your own agent and play it on plain Gymnasium, then through the library's run loop.

What it shows:

* the agent protocol (``name``, ``reset``, ``act``, ``observe``; see ``tradeoff_gym/agents/base.py``) in a class
  that imports nothing from this package;
* one episode of ``tradeoff/LearningCurves-v0`` with a plain ``reset``/``step`` loop;
* the same agent through ``tradeoff_gym.benchmarks.run_loop.run_episode`` (one row per trial, as sweeps store),
  compared with built-in agents made by name (``make_agent("ucb1", env)``).

Run it::

    python examples/own_agent.py            # τ = 1000 trials, 5 seeds (a few seconds)
    python examples/own_agent.py --tiny     # τ = 100, one seed (CI); or TRADEOFF_EXAMPLES_TINY=1
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import tradeoff_gym  # noqa: F401  (registers the tradeoff/… environment ids)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode


class ExploreThenCommit:
    """Round-robin over the strategies for ``explore`` of the episode, then commit to the best recent mean.

    A deliberately simple agent: it never sees the serialization cost, only rewards (already discounted).
    """

    name = "explore-then-commit"
    reward_independent = False  # its choices depend on rewards (no exact cost reuse in sweeps)

    def __init__(self, explore: float = 0.2, window: int = 20) -> None:
        self.explore, self.window = explore, window

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """A new episode: ``info`` is the env's reset info (strategy table, horizon; never the cost)."""
        self.n_actions = len(info["strategies"])
        self.explore_trials = max(self.n_actions, round(self.explore * info["horizon"]))
        self.recent: list[list[float]] = [[] for _ in range(self.n_actions)]
        self.trial, self.choice = 0, None
        self.rng = rng  # the agent's own random stream (ties, exploration): never the global RNG

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """The strategy index for the next trial."""
        if self.trial < self.explore_trials:
            return self.trial % self.n_actions
        if self.choice is None:
            means = np.array([np.mean(r[-self.window:]) for r in self.recent])
            best = np.flatnonzero(means == means.max())
            self.choice = int(self.rng.choice(best))
        return self.choice

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """The outcome of the trial just played."""
        self.recent[action].append(reward)
        self.trial += 1


def plain_loop(horizon: int, cost: float, seed: int) -> float:
    """One episode with Gymnasium's reset/step; returns the mean reward per trial."""
    env = gym.make("tradeoff/LearningCurves-v0", cost=cost, horizon=horizon)
    agent = ExploreThenCommit()
    obs, info = env.reset(seed=seed)
    print(f"strategies {info['strategies']}, serial flags {info['serial']}, horizon {info['horizon']}")
    agent.reset(info, np.random.default_rng(seed))
    total, done = 0.0, False
    while not done:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        agent.observe(action, reward, obs, info)
        total += reward
        done = terminated or truncated
    env.close()
    print(f"plain loop: {info['trial']} trials, picks per strategy {info['pick_counts'].tolist()}, "
          f"mean reward {total / horizon:.3f}")
    return total / horizon


def compare(horizon: int, cost: float, seeds: list[int]) -> pd.DataFrame:
    """Mean reward and serial share of our agent and built-in ones, through the library's run loop."""
    frames = []
    for seed in seeds:
        for name in ("mine", "ucb1", "serial", "parallel"):
            env = gym.make("tradeoff/LearningCurves-v0", cost=cost, horizon=horizon)
            agent = ExploreThenCommit() if name == "mine" else make_agent(name, env)
            frames.append(run_episode(env, agent, seed))  # one row per trial: action, reward, serial, …
            env.close()
    frame = pd.concat(frames, ignore_index=True)
    print(f"\nrun_episode frame columns: {list(frame.columns)}")
    table = frame.groupby("agent").agg(mean_reward=("reward", "mean"), serial_share=("serial", "mean"))
    return table.sort_values("mean_reward", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a seconds-long run (CI)")
    parser.add_argument("--cost", type=float, default=0.3, help="the hidden serialization cost c in [0, 1]")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("TRADEOFF_EXAMPLES_TINY") == "1"
    horizon, seeds = (100, [0]) if tiny else (1000, list(range(5)))
    plain_loop(horizon, args.cost, seed=0)
    table = compare(horizon, args.cost, seeds)
    print(f"\nc = {args.cost}, τ = {horizon}, seeds {seeds}:\n{table.round(3).to_string()}")


if __name__ == "__main__":
    main()
