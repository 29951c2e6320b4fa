"""Classic stationary bandits: they treat each strategy as an arm with a fixed mean reward.

They ignore that a strategy's reward grows with its own pick count, which is exactly what the
learning-curve agents model; on the trade-off they are the baselines that must be beaten.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from tradeoff_gym.agents.base import BaseAgent, EpisodeBatch, argmax_random_tie, check_reward
from tradeoff_gym.learners.checks import check_int, check_number


class _SampleMeanAgent(BaseAgent):
    """Keeps per-arm pick counts and running mean rewards."""

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self.counts = np.zeros(self.n_actions, dtype=np.int64)
        self.means = np.zeros(self.n_actions)

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        reward = check_reward(reward)
        self.counts[action] += 1
        self.means[action] += (reward - self.means[action]) / self.counts[action]


class UCB1Agent(_SampleMeanAgent):
    """UCB1 (Auer et al. 2002): mean + ``exploration · sqrt(2 ln t / n)``; each arm once first.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.bandits import UCB1Agent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, UCB1Agent(), seed=0)  # one row per trial
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 269, 'parallel': 31}
    """

    name = "ucb1"

    def __init__(self, exploration: float = 1.0) -> None:
        self.exploration = check_number(exploration, "exploration", 0.0)

    @classmethod
    def batched(cls, agents: list[UCB1Agent]) -> SampleMeanBatch:
        """K episodes in one :class:`SampleMeanBatch`."""
        return SampleMeanBatch(agents)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        untried = np.flatnonzero(self.counts == 0)
        if untried.size:
            return int(untried[0])
        t = self.counts.sum()
        bonus = self.exploration * np.sqrt(2.0 * np.log(t) / self.counts)
        return argmax_random_tie(self.means + bonus, self.rng)


class EpsilonGreedyAgent(_SampleMeanAgent):
    """ε-greedy on sample means: explore uniformly with probability ε, else the best mean so far.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.bandits import EpsilonGreedyAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, EpsilonGreedyAgent(), seed=0)
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 286, 'parallel': 14}
    """

    name = "epsilon-greedy"

    def __init__(self, epsilon: float = 0.1) -> None:
        self.epsilon = check_number(epsilon, "epsilon", 0.0, 1.0)

    @classmethod
    def batched(cls, agents: list[EpsilonGreedyAgent]) -> SampleMeanBatch:
        """K episodes in one :class:`SampleMeanBatch`."""
        return SampleMeanBatch(agents)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        untried = np.flatnonzero(self.counts == 0)
        if untried.size:
            return int(untried[0])
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions))
        return argmax_random_tie(self.means, self.rng)


class SlidingWindowUCBAgent(BaseAgent):
    """Sliding-window UCB (Garivier & Moulines 2011): UCB on the last ``window`` trials only.

    Tracks non-stationary means, so it can follow a strategy that improves — but only the rewards it
    sees now, not where the curve is heading.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.bandits import SlidingWindowUCBAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, SlidingWindowUCBAgent(), seed=0)
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 257, 'parallel': 43}
    """

    name = "sw-ucb"

    def __init__(self, window: int = 200, exploration: float = 1.0) -> None:
        self.window = check_int(window, "window", 1)
        self.exploration = check_number(exploration, "exploration", 0.0)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self.history: deque[tuple[int, float]] = deque()
        self.counts = np.zeros(self.n_actions, dtype=np.int64)
        self.sums = np.zeros(self.n_actions)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        untried = np.flatnonzero(self.counts == 0)
        if untried.size:
            return int(untried[0])
        means = self.sums / self.counts
        bonus = self.exploration * np.sqrt(2.0 * np.log(min(len(self.history), self.window)) / self.counts)
        return argmax_random_tie(means + bonus, self.rng)

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        reward = check_reward(reward)
        self.history.append((action, reward))
        self.counts[action] += 1
        self.sums[action] += reward
        if len(self.history) > self.window:
            old_action, old_reward = self.history.popleft()
            self.counts[old_action] -= 1
            self.sums[old_action] -= old_reward


class GaussianThompsonAgent(_SampleMeanAgent):
    """Gaussian Thompson sampling: posterior ``N(mean, noise² / (n + 1))`` per arm, play the best draw.

    Conjugate normal model with a ``N(prior_mean, noise²)`` prior on each arm's (stationary) mean.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.bandits import GaussianThompsonAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, GaussianThompsonAgent(), seed=0)
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 295, 'parallel': 5}
    """

    name = "gaussian-ts"

    def __init__(self, noise: float = 0.1, prior_mean: float = 0.5) -> None:
        self.noise = check_number(noise, "noise", 0.0, low_open=True)
        self.prior_mean = check_number(prior_mean, "prior_mean", -np.inf)

    @classmethod
    def batched(cls, agents: list[GaussianThompsonAgent]) -> SampleMeanBatch:
        """K episodes in one :class:`SampleMeanBatch`."""
        return SampleMeanBatch(agents)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        n = self.counts
        posterior_mean = (self.prior_mean + n * self.means) / (n + 1)
        draws = self.rng.normal(posterior_mean, self.noise / np.sqrt(n + 1))
        return argmax_random_tie(draws, self.rng)


class SampleMeanBatch(EpisodeBatch):
    """K sample-mean bandit episodes in lockstep (UCB1, ε-greedy, Gaussian TS): the same actions, array updates.

    The K agents' pick counts and means live in shared ``(K, S)`` arrays (each agent holds views of its row, so
    its own methods still read them); a step's updates (and UCB1's indices) run on all K rows at once, and every
    random draw (exploration, ties, Thompson draws) stays in its episode's stream.
    """

    agents: list[_SampleMeanAgent]

    def reset_batch(self, infos: Sequence[dict[str, Any]], rngs: Sequence[np.random.Generator]) -> None:
        """Reset every agent, then share their statistics' rows (agents with one number of strategies)."""
        super().reset_batch(infos, rngs)
        self.shared = len({agent.n_actions for agent in self.agents}) == 1
        if self.shared:
            self.counts = np.stack([agent.counts for agent in self.agents])  # (K, S) int64
            self.means = np.stack([agent.means for agent in self.agents])  # (K, S)
            for i, agent in enumerate(self.agents):
                agent.counts, agent.means = self.counts[i], self.means[i]

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """Each active episode's action: UCB1's indices computed for all rows at once, the others' ``act``."""
        if not self.shared or type(self.agents[0]) is not UCB1Agent:
            return super().act_batch(obs, infos, active)  # their act reads the shared rows
        actions = np.zeros(len(self.agents), dtype=np.int64)
        untried = self.counts == 0  # (K, S)
        rows = []
        for k in np.flatnonzero(active):
            if untried[k].any():
                actions[k] = int(np.flatnonzero(untried[k])[0])
            else:
                rows.append(k)
        if rows:
            index = np.array(rows)
            t = self.counts[index].sum(axis=1)  # (K',)
            exploration = np.array([self.agents[k].exploration for k in rows])[:, None]  # (K', 1)
            values = self.means[index] + exploration * np.sqrt(2.0 * np.log(t)[:, None] / self.counts[index])
            for i, k in enumerate(rows):
                actions[k] = argmax_random_tie(values[i], self.agents[k].rng)
        return actions

    def observe_batch(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        obs: np.ndarray,
        infos: Sequence[dict[str, Any]],
        active: np.ndarray,
    ) -> None:
        """Each active episode's count and running mean of the strategy it played, updated together."""
        if not self.shared:
            return super().observe_batch(actions, rewards, obs, infos, active)
        rows = np.flatnonzero(active)
        reward = np.array([check_reward(rewards[k]) for k in rows])  # (K',)
        index = (rows, np.asarray(actions)[rows])
        self.counts[index] += 1
        self.means[index] += (reward - self.means[index]) / self.counts[index]
        return None
