"""The one run loop: every agent, experiment, CLI command and test plays episodes through it.

:func:`run_episode` plays one Gymnasium episode; :func:`run_episodes` plays one episode per sub-env of a
vector env in lockstep (the same frames as K run_episode calls; batched learners train all K in one
tensor program); :func:`run_stream` plays a SequentialTasks stream (one episode per task, the network
persisting) as a chain of run_episode calls. Both loops share one per-episode record (:class:`_Episode`):
the same refusal of non-finite rewards, the same agent calls, the same frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from tradeoff_gym.agents.base import Agent, BatchAgent, batch_agent
from tradeoff_gym.envs.interface import METRICS, RAW_ACCURACY, SERIAL_FLAGS, STRATEGIES, TASK_REWARDS, task_values
from tradeoff_gym.learners.checks import check_int

#: Columns every result frame starts with, in order; ``task_reward_<i>`` and env metrics follow.
BASE_COLUMNS = (
    "run_id", "env_id", "agent", "seed", "trial", "action", "strategy", "serial", "reward", "raw_accuracy",
)


def split_seed(seed: int) -> tuple[int, np.random.Generator]:
    """Split one root seed into the environment's seed and the agent's random stream (SeedSequence)."""
    env_seq, agent_seq = np.random.SeedSequence(check_int(seed, "seed", 0)).spawn(2)
    return int(env_seq.generate_state(1, dtype=np.uint32)[0]), np.random.default_rng(agent_seq)


class _Episode:
    """One episode's agent and log: the rows of its frame, filled trial by trial (shared by both loops)."""

    def __init__(self, agent: Agent, seed: int, env_id: str, run_id: str | None, agent_name: str | None) -> None:
        self.agent, self.seed, self.env_id = agent, seed, env_id
        self.agent_name = agent_name or agent.name
        self.run_id = run_id or f"{env_id}/{self.agent_name}/{seed}"
        self.actions: list[int] = []
        self.rewards: list[float] = []
        self.raw: list[float] = []
        self.task_rewards: list[np.ndarray] = []
        self.metrics: dict[str, list[Any]] = {}

    def start(self, info: dict, agent_rng: np.random.Generator | None) -> None:
        """Reset the agent with the env's reset info (unless ``agent_rng`` is None: a batch resets it); remember
        the strategy table."""
        if agent_rng is not None:
            self.agent.reset(info, agent_rng)
        self.strategies = info[STRATEGIES]
        self.serial_flags = np.asarray(info.get(SERIAL_FLAGS, (False,) * len(self.strategies)), dtype=bool)

    def act(self, obs: np.ndarray, info: dict) -> int:
        """The agent's next action: exactly an integer (Python or numpy, not bool), else a ValueError.

        No cast: ``int(0.7)`` would silently play another strategy than the agent meant.
        """
        return self.check_action(self.agent.act(obs, info))

    def check_action(self, action: Any) -> int:
        """``action`` as an int if it is exactly an integer (Python or numpy, not bool), else a ValueError."""
        if type(action) is int or (isinstance(action, (int, np.integer)) and not isinstance(action, bool)):
            return int(action)
        raise ValueError(
            f"agent {self.agent_name!r} returned action {action!r} ({type(action).__name__}) at trial "
            f"{len(self.actions)} of run {self.run_id!r}; an action must be an integer strategy index "
            "(a Python int or a numpy integer, not bool)"
        )

    def record(self, action: int, reward: float, obs: np.ndarray, info: dict, observe: bool = True) -> None:
        """Refuse a non-finite reward, log the trial, then let the agent observe it (unless ``observe`` is False:
        a batch observes the step for all its episodes).

        Logged before the agent sees ``info``, and the per-task rewards copied, so an agent that edits ``info``
        in place cannot change what the log says the env returned.
        """
        if not np.isfinite(reward):
            raise ValueError(
                f"{self.env_id} returned a non-finite reward {reward!r} at trial {len(self.actions)} "
                f"(action {action}); rewards must be finite numbers"
            )
        self.actions.append(action)
        self.rewards.append(float(reward))
        self.raw.append(float(info[RAW_ACCURACY]))
        self.task_rewards.append(np.array(task_values(info, TASK_REWARDS), dtype=np.float64))  # a copy
        n = len(self.actions)
        for key, value in info.get(METRICS, {}).items():
            self.metrics.setdefault(key, [np.nan] * (n - 1)).append(value)
        for column in self.metrics.values():  # a metric missing on this trial is NaN, not a shifted column
            if len(column) < n:
                column.append(np.nan)
        if observe:
            self.agent.observe(action, float(reward), obs, info)

    def frame(self) -> pd.DataFrame:
        """The episode's rows (see :func:`run_episode`)."""
        n = len(self.actions)
        action_arr = np.asarray(self.actions, dtype=np.int64)
        frame = {
            "run_id": [self.run_id] * n,
            "env_id": [self.env_id] * n,
            "agent": [self.agent_name] * n,
            "seed": np.full(n, self.seed, dtype=np.int64),
            "trial": np.arange(n, dtype=np.int64),
            "action": action_arr,
            "strategy": np.asarray(self.strategies, dtype=object)[action_arr],
            "serial": self.serial_flags[action_arr],
            "reward": np.asarray(self.rewards, dtype=np.float64),
            "raw_accuracy": np.asarray(self.raw, dtype=np.float64),
        }
        per_task = np.asarray(self.task_rewards, dtype=np.float64).reshape(n, -1)  # (trials, n_tasks)
        for i in range(per_task.shape[1]):
            frame[f"task_reward_{i}"] = per_task[:, i]
        frame.update(self.metrics)
        return pd.DataFrame(frame)


def _env_id(env: gym.Env | gym.vector.VectorEnv, env_id: str | None) -> str:
    if env_id:
        return env_id
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else type(getattr(env, "unwrapped", env)).__name__


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
    episode = _Episode(agent, seed, _env_id(env, env_id), run_id, agent_name)
    obs, info = env.reset(seed=env_seed if reset_seed else None)
    episode.start(info, agent_rng)
    done = False
    while not done:
        action = episode.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        episode.record(action, reward, obs, info)
        done = terminated or truncated
    return episode.frame()


def unbatch_info(info: dict, k: int) -> dict:
    """Sub-env ``k``'s info from a vector env's info (Gymnasium's ``_key`` masks: absent keys stay absent)."""
    single = {}
    for key, value in info.items():
        mask = info.get(f"_{key}")
        if key.startswith("_") or (mask is not None and not mask[k]):
            continue
        single[key] = unbatch_info(value, k) if isinstance(value, dict) else value[k]
    return single


def run_episodes(
    envs: gym.vector.VectorEnv,
    agents: Sequence[Agent],
    seeds: Sequence[int],
    *,
    run_ids: Sequence[str] | None = None,
    env_id: str | None = None,
    agent_names: Sequence[str] | None = None,
    on_step: Callable[[int], None] | None = None,
    batched: bool = True,
) -> list[pd.DataFrame]:
    """Play one episode per sub-env of ``envs`` in lockstep: agent ``k`` on sub-env ``k`` from root ``seeds[k]``.

    The K frames are those of K :func:`run_episode` calls with the same env settings, agents and seeds
    (sub-env ``k`` is reset with ``seed[k]``'s env seed, agent ``k`` gets its own stream). Sub-envs may end at
    different trials: a finished one is no longer recorded (its action is ignored by the vector env's
    autoreset). One agent object per episode; they must not be shared. ``on_step(trials)``, if given, is
    called after every step with the trials recorded so far over all K episodes (progress of long batches).

    When every agent is of one built-in class with a batch version (:func:`tradeoff_gym.agents.base.batch_agent`),
    the K episodes' agent work runs as one :class:`tradeoff_gym.agents.base.BatchAgent` (same actions, less time;
    docs/agents/index.md#batched-agents); ``batched=False`` steps the agents one by one regardless. The agent
    objects then serve as the batch's settings (and may hold its per-episode state).
    """
    k_envs = envs.num_envs
    if not (len(agents) == len(seeds) == k_envs) or len({id(a) for a in agents}) != k_envs:
        raise ValueError(f"run_episodes needs {k_envs} distinct agents and {k_envs} seeds (one per sub-env), "
                         f"got {len(agents)} agents ({len({id(a) for a in agents})} distinct) and {len(seeds)} seeds")
    names = list(agent_names) if agent_names is not None else [None] * k_envs
    ids = list(run_ids) if run_ids is not None else [None] * k_envs
    env_name = _env_id(envs, env_id)
    episodes = [_Episode(agents[k], seeds[k], env_name, ids[k], names[k]) for k in range(k_envs)]
    batch = batch_agent(agents) if batched else None
    splits = [split_seed(seed) for seed in seeds]
    obs, info = envs.reset(seed=[env_seed for env_seed, _ in splits])
    infos = [unbatch_info(info, k) for k in range(k_envs)]
    for k, episode in enumerate(episodes):
        episode.start(infos[k], splits[k][1] if batch is None else None)
    if batch is not None:
        batch.reset_batch(infos, [rng for _, rng in splits])
    active = np.ones(k_envs, dtype=bool)
    while active.any():
        if batch is None:
            actions = np.array([e.act(obs[k], infos[k]) if active[k] else 0 for k, e in enumerate(episodes)])
        else:
            actions = _batch_actions(batch, episodes, obs, infos, active)
        obs, rewards, terminated, truncated, info = envs.step(actions)
        for k in np.flatnonzero(active):
            infos[k] = unbatch_info(info, k)
            episodes[k].record(int(actions[k]), float(rewards[k]), obs[k], infos[k], observe=batch is None)
        if batch is not None:
            batch.observe_batch(actions, np.asarray(rewards, dtype=np.float64), obs, infos, active.copy())
        active &= ~(terminated | truncated)
        if on_step is not None:
            on_step(sum(len(episode.actions) for episode in episodes))
    return [episode.frame() for episode in episodes]


def _batch_actions(
    batch: BatchAgent, episodes: list[_Episode], obs: np.ndarray, infos: list[dict], active: np.ndarray
) -> np.ndarray:
    """The batch's ``(K,)`` actions, each active one checked as :meth:`_Episode.act` checks an agent's (0 elsewhere)."""
    raw = batch.act_batch(obs, infos, active.copy())
    if not isinstance(raw, np.ndarray) or raw.shape != (len(episodes),):
        raise ValueError(f"batch agent {type(batch).__name__} must return a ({len(episodes)},) numpy array of "
                         f"actions, got {raw!r}")
    return np.array([episodes[k].check_action(raw[k]) if active[k] else 0 for k in range(len(episodes))])


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
