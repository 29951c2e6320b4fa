"""The agent protocol: anything with ``name``, ``reset``, ``act`` and ``observe`` plugs into the run loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tradeoff_gym.envs.interface import HORIZON, N_TASKS, STRATEGIES


@runtime_checkable
class Agent(Protocol):
    """A strategy-choosing agent, driven by :func:`tradeoff_gym.benchmarks.run_loop.run_episode`.

    ``reset`` starts an episode: ``info`` is the environment's reset info (``strategies``, ``serial``,
    ``horizon``, ``n_tasks`` — never the cost) and ``rng`` the agent's own random stream.
    ``act`` returns the strategy index for the next trial; ``observe`` receives that trial's outcome.

    Optional class attribute ``reward_independent`` (default False): True when the agent's choices never
    depend on rewards (fixed strategies, uniform random). A sweep then plays such an agent once per seed
    at cost 0 and re-discounts the frame for every cost (exact, see :mod:`tradeoff_gym.benchmarks.runner`).
    """

    name: str

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None: ...

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int: ...

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None: ...


def argmax_random_tie(values: np.ndarray, rng: np.random.Generator) -> int:
    """Index of the largest of ``values`` ``(n,)``, ties broken uniformly with ``rng``; refuses NaN."""
    values = np.asarray(values)
    if values.size == 0 or np.isnan(values).any():
        raise ValueError(f"cannot choose an action from values {values!r}: need a non-empty array without NaN")
    best = np.flatnonzero(values == values.max())
    return int(best[0] if best.size == 1 else rng.choice(best))


def check_reward(reward: float) -> float:
    """The reward as a float; a ValueError if it is not finite (no agent turns NaN or inf into a decision)."""
    value = float(reward)
    if not np.isfinite(value):
        raise ValueError(f"reward must be a finite number, got {reward!r}")
    return value


class BaseAgent:
    """Convenience base: stores the strategy table and rng; subclasses override ``act``/``observe``."""

    name = "base"
    reward_independent = False

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Remember the episode's strategy table, horizon and random stream."""
        self.rng = rng
        self.strategies: tuple[str, ...] = tuple(info[STRATEGIES])
        self.n_actions = len(self.strategies)
        self.horizon: int = int(info[HORIZON])
        self.n_tasks: int = int(info[N_TASKS])

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        raise NotImplementedError

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Default: learn nothing."""


@runtime_checkable
class BatchAgent(Protocol):
    """K episodes of one agent played in lockstep with arrays: the optional batch protocol (docs/agents/index.md).

    Built by a per-episode agent class's ``batched(agents)`` classmethod from K agents of that class (their
    settings; the batch may keep and step them as its per-episode state). The run loop uses it when every agent
    of a vector batch is of one class that has ``batched`` and ``batched`` returns an object (it returns None
    when the agents cannot share one, e.g. different settings); otherwise it steps the agents one by one.
    Contract: the batch plays exactly the actions the K agents would play on their own with the same random
    streams — batching is speed only. ``active`` ``(K,)`` bool marks the episodes still running: an inactive
    episode's entries are ignored and its state and random stream must not move.
    """

    def reset_batch(self, infos: Sequence[dict[str, Any]], rngs: Sequence[np.random.Generator]) -> None:
        """Start K episodes: ``infos[k]`` episode ``k``'s reset info, ``rngs[k]`` its agent's random stream."""
        ...

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """``(K,)`` integer actions for observations ``obs`` ``(K, ...)`` and latest infos (one dict per episode)."""
        ...

    def observe_batch(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        obs: np.ndarray,
        infos: Sequence[dict[str, Any]],
        active: np.ndarray,
    ) -> None:
        """Learn from the step: ``actions`` ``(K,)`` int, ``rewards`` ``(K,)`` float, ``infos`` one dict per episode."""
        ...


class EpisodeBatch:
    """A :class:`BatchAgent` that steps its K per-episode agents one by one: the base of the built-in batches.

    Subclasses replace the costly parts by array code over the K episodes and keep the rest per episode, so the
    actions stay those of the agents played alone. ``agents`` must be K distinct agents of one class.
    """

    def __init__(self, agents: Sequence[Agent]) -> None:
        self.agents = list(agents)
        if len({id(a) for a in self.agents}) != len(self.agents):
            raise ValueError("a batch needs distinct agent objects, one per episode")

    def reset_batch(self, infos: Sequence[dict[str, Any]], rngs: Sequence[np.random.Generator]) -> None:
        """Reset every agent with its episode's info and stream."""
        for agent, info, rng in zip(self.agents, infos, rngs, strict=True):
            agent.reset(info, rng)

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """Each active agent's ``act``; 0 for inactive episodes."""
        return np.array(
            [agent.act(obs[k], infos[k]) if active[k] else 0 for k, agent in enumerate(self.agents)], dtype=np.int64
        )

    def observe_batch(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        obs: np.ndarray,
        infos: Sequence[dict[str, Any]],
        active: np.ndarray,
    ) -> None:
        """Each active agent's ``observe``."""
        for k in np.flatnonzero(active):
            self.agents[k].observe(int(actions[k]), float(rewards[k]), obs[k], infos[k])


def batch_agent(agents: Sequence[Agent]) -> BatchAgent | None:
    """One :class:`BatchAgent` for ``agents`` (one per episode), or None: they then play one by one.

    A batch exists when every agent is of exactly one class (not a subclass: it may change what the batch
    vectorises) that defines ``batched(agents)``, and that returns an object rather than None.
    """
    if not agents:
        return None
    cls = type(agents[0])
    if any(type(agent) is not cls for agent in agents):
        return None
    make = cls.__dict__.get("batched")
    if make is None:
        return None
    return cls.batched(list(agents))
