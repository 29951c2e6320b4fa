"""The agent protocol: anything with ``name``, ``reset``, ``act`` and ``observe`` plugs into the run loop."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Agent(Protocol):
    """A strategy-choosing agent, driven by :func:`benchmarks.run_loop.run_episode`.

    ``reset`` starts an episode: ``info`` is the environment's reset info (``strategies``, ``serial``,
    ``horizon``, ``n_tasks`` — never the cost) and ``rng`` the agent's own random stream.
    ``act`` returns the strategy index for the next trial; ``observe`` receives that trial's outcome.
    """

    name: str

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None: ...

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int: ...

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None: ...


class BaseAgent:
    """Convenience base: stores the strategy table and rng; subclasses override ``act``/``observe``."""

    name = "base"

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Remember the episode's strategy table, horizon and random stream."""
        self.rng = rng
        self.strategies: tuple[str, ...] = tuple(info["strategies"])
        self.n_actions = len(self.strategies)
        self.horizon: int = int(info["horizon"])
        self.n_tasks: int = int(info["n_tasks"])

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        raise NotImplementedError

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Default: learn nothing."""
