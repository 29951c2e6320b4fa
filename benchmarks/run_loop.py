"""The one run loop: every agent, experiment, CLI command and test plays episodes through it.

:func:`run_episode` plays one Gymnasium episode; :func:`run_stream` plays a SequentialTasks stream (one
episode per task, the network persisting) as a chain of run_episode calls.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from agents.base import Agent
from envs.interface import METRICS, RAW_ACCURACY, SERIAL_FLAGS, STRATEGIES, TASK_REWARDS, task_values
from learners.checks import check_int

#: Columns every result frame starts with, in order; ``task_reward_<i>`` and env metrics follow.
BASE_COLUMNS = (
    "run_id", "env_id", "agent", "seed", "trial", "action", "strategy", "serial", "reward", "raw_accuracy",
)


def split_seed(seed: int) -> tuple[int, np.random.Generator]:
    """Split one root seed into the environment's seed and the agent's random stream (SeedSequence)."""
    env_seq, agent_seq = np.random.SeedSequence(check_int(seed, "seed", 0)).spawn(2)
    return int(env_seq.generate_state(1, dtype=np.uint32)[0]), np.random.default_rng(agent_seq)


def run_episode(
    env: gym.Env,
    agent: Agent,
    seed: int,
    *,
    run_id: str | None = None,
    env_id: str | None = None,
    agent_name: str | None = None,
    reset_seed: bool = True,
) -> pd.DataFrame:
    """Play one episode of ``env`` with ``agent`` from root ``seed``; one row per trial.

    Columns: :data:`BASE_COLUMNS`, then ``task_reward_0 … task_reward_{n-1}`` (per-task rewards after the
    cost discount, NaN for tasks not performed), then any scalar metrics the env reports in
    ``info["metrics"]``. ``trial`` is 0-based; ``serial`` tells whether the trial's strategy pays the
    serialization cost (from the env's strategy table, ``info["serial"]``). ``agent`` is ``agent_name``
    (sweeps pass the registry name) or ``agent.name``. Same seed ⇒ identical frame.
    ``reset_seed=False`` resets the env without a seed (continuing a stream, see :func:`run_stream`); the
    agent's stream still comes from ``seed``. A non-finite reward raises a ValueError naming the env and trial.
    """
    env_seed, agent_rng = split_seed(seed)
    env_id = env_id or (env.spec.id if env.spec is not None else type(env.unwrapped).__name__)
    agent_name = agent_name or agent.name
    run_id = run_id or f"{env_id}/{agent_name}/{seed}"
    obs, info = env.reset(seed=env_seed if reset_seed else None)
    agent.reset(info, agent_rng)
    strategies = info[STRATEGIES]
    serial_flags = np.asarray(info.get(SERIAL_FLAGS, (False,) * len(strategies)), dtype=bool)

    actions: list[int] = []
    rewards: list[float] = []
    raw: list[float] = []
    task_rewards: list[np.ndarray] = []
    metrics: dict[str, list[Any]] = {}
    done = False
    while not done:
        action = int(agent.act(obs, info))
        obs, reward, terminated, truncated, info = env.step(action)
        if not np.isfinite(reward):
            raise ValueError(
                f"{env_id} returned a non-finite reward {reward!r} at trial {len(actions)} (action {action}); "
                "rewards must be finite numbers"
            )
        agent.observe(action, float(reward), obs, info)
        actions.append(action)
        rewards.append(float(reward))
        raw.append(info[RAW_ACCURACY])
        task_rewards.append(task_values(info, TASK_REWARDS))
        for key, value in info.get(METRICS, {}).items():
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
        "agent": [agent_name] * n,
        "seed": np.full(n, seed, dtype=np.int64),
        "trial": np.arange(n, dtype=np.int64),
        "action": action_arr,
        "strategy": np.asarray(strategies, dtype=object)[action_arr],
        "serial": serial_flags[action_arr],
        "reward": np.asarray(rewards, dtype=np.float64),
        "raw_accuracy": np.asarray(raw, dtype=np.float64),
    }
    per_task = np.asarray(task_rewards, dtype=np.float64).reshape(n, -1)  # (trials, n_tasks)
    for i in range(per_task.shape[1]):
        frame[f"task_reward_{i}"] = per_task[:, i]
    for key, column in metrics.items():
        frame[key] = column
    return pd.DataFrame(frame)


def run_stream(
    env: gym.Env, agent: Agent, seed: int, *, run_id: str | None = None, env_id: str | None = None,
    agent_name: str | None = None,
) -> pd.DataFrame:
    """Play one whole SequentialTasks stream (every task episode) through :func:`run_episode`; frames concatenated.

    With ``episode_scope="task"`` this is one run_episode call per task, the first seeded from ``seed`` and
    the rest continuing the stream (reset without a seed); with ``"stream"`` it is a single call. Adds
    ``stream_trial`` (0-based trial index over the whole stream); ``episode`` comes from the env's metrics.
    """
    config = getattr(env.unwrapped, "config", None)
    scope = getattr(config, "episode_scope", None)
    if scope not in ("task", "stream"):
        raise ValueError(f"run_stream needs a SequentialTasks env (episode_scope task/stream), got {env.unwrapped!r}")
    n_calls = 1 if scope == "stream" else config.n_tasks
    frames = [
        run_episode(env, agent, seed, run_id=run_id, env_id=env_id, agent_name=agent_name, reset_seed=i == 0)
        for i in range(n_calls)
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame["stream_trial"] = np.arange(len(frame), dtype=np.int64)
    return frame
