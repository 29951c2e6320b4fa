"""The one run loop: every agent, experiment, CLI command and test plays episodes through it."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from agents.base import Agent

#: Columns every result frame starts with, in order; ``task_reward_<i>`` and env metrics follow.
BASE_COLUMNS = ("run_id", "env_id", "agent", "seed", "trial", "action", "strategy", "reward", "raw_accuracy")


def split_seed(seed: int) -> tuple[int, np.random.Generator]:
    """Split one root seed into the environment's seed and the agent's random stream (SeedSequence)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    env_seq, agent_seq = np.random.SeedSequence(int(seed)).spawn(2)
    return int(env_seq.generate_state(1, dtype=np.uint32)[0]), np.random.default_rng(agent_seq)


def run_episode(
    env: gym.Env,
    agent: Agent,
    seed: int,
    *,
    run_id: str | None = None,
    env_id: str | None = None,
) -> pd.DataFrame:
    """Play one episode of ``env`` with ``agent`` from root ``seed``; one row per trial.

    Columns: :data:`BASE_COLUMNS`, then ``task_reward_0 … task_reward_{n-1}`` (per-task rewards after the
    cost discount, NaN for tasks not performed), then any scalar metrics the env reports in
    ``info["metrics"]``. ``trial`` is 0-based. Same seed ⇒ identical frame.
    """
    env_seed, agent_rng = split_seed(seed)
    env_id = env_id or (env.spec.id if env.spec is not None else type(env.unwrapped).__name__)
    run_id = run_id or f"{env_id}/{agent.name}/{seed}"
    obs, info = env.reset(seed=env_seed)
    agent.reset(info, agent_rng)
    strategies = info["strategies"]

    actions: list[int] = []
    rewards: list[float] = []
    raw: list[float] = []
    task_rewards: list[np.ndarray] = []
    metrics: dict[str, list[Any]] = {}
    done = False
    while not done:
        action = int(agent.act(obs, info))
        obs, reward, terminated, truncated, info = env.step(action)
        agent.observe(action, float(reward), obs, info)
        actions.append(action)
        rewards.append(float(reward))
        raw.append(info["raw_accuracy"])
        task_rewards.append(info["task_rewards"])
        for key, value in info.get("metrics", {}).items():
            metrics.setdefault(key, [np.nan] * (len(actions) - 1)).append(value)
        for column in metrics.values():  # a metric missing on this trial is NaN, not a shifted column
            if len(column) < len(actions):
                column.append(np.nan)
        done = terminated or truncated

    n = len(actions)
    action_arr = np.asarray(actions, dtype=np.int64)
    frame = {
        "run_id": [run_id] * n,
        "env_id": [env_id] * n,
        "agent": [agent.name] * n,
        "seed": np.full(n, seed, dtype=np.int64),
        "trial": np.arange(n, dtype=np.int64),
        "action": action_arr,
        "strategy": np.asarray(strategies, dtype=object)[action_arr],
        "reward": np.asarray(rewards, dtype=np.float64),
        "raw_accuracy": np.asarray(raw, dtype=np.float64),
    }
    per_task = np.asarray(task_rewards, dtype=np.float64).reshape(n, -1)  # (trials, n_tasks)
    for i in range(per_task.shape[1]):
        frame[f"task_reward_{i}"] = per_task[:, i]
    for key, column in metrics.items():
        frame[key] = column
    return pd.DataFrame(frame)
