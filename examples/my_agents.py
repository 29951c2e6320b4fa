"""A user's agent module for ``examples/agent_in_sweep.py``: the CLI loads it as ``my_agents:GreedyEMA``.

``tradeoff-bench`` puts the current directory first on the import path (as ``python -m`` does), so
``--agents my_agents:GreedyEMA`` finds this file when the sweep runs from the folder that holds it. A sweep
builds the agent as ``GreedyEMA()`` (plus any ``agent_kwargs`` of the run) in every worker process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradeoff_gym.agents.base import BaseAgent, argmax_random_tie


class GreedyEMA(BaseAgent):
    """ε-greedy on each strategy's exponential moving average of rewards; ε decays as 1 / (1 + trial / 50).

    :class:`tradeoff_gym.agents.base.BaseAgent` stores the strategy table, horizon and random stream at
    ``reset``; an agent only has to say how it acts and what it learns from a trial. Its ``name`` is its label
    in results when the sweep names the class without settings (``my_agents:GreedyEMA`` → ``greedy-ema``).
    """

    name = "greedy-ema"

    def __init__(self, step_size: float = 0.1) -> None:
        self.step_size = step_size

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)  # self.rng, self.strategies, self.n_actions, self.horizon, self.n_tasks
        self.values = np.zeros(self.n_actions)  # (n_actions,) EMA reward per strategy
        self.picks = np.zeros(self.n_actions, dtype=int)
        self.trial = 0

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        untried = np.flatnonzero(self.picks == 0)
        if untried.size:
            return int(untried[0])
        if self.rng.random() < 1.0 / (1.0 + self.trial / 50):
            return int(self.rng.integers(self.n_actions))
        return argmax_random_tie(self.values, self.rng)

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.values[action] += self.step_size * (reward - self.values[action])
        self.picks[action] += 1
        self.trial += 1
