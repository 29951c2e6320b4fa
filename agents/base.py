"""The agent protocol: anything with ``name``, ``reset``, ``act`` and ``observe`` plugs into the run loop."""

from __future__ import annotations

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
