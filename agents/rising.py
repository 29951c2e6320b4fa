"""Rested rising bandits: R-ed-UCB (Metelli et al. 2022) and the horizon-aware CURE-UCB (Song et al. 2026).

Both treat each strategy as an arm whose expected reward ``μ_i(n)`` is non-decreasing in its own pull count
``n`` (rested) and assume it is concave (increments ``γ_i(n) = μ_i(n+1) − μ_i(n)`` non-increasing), so a
slope measured over past pulls, extrapolated forward, can only overestimate the future (optimism).
Our curves are sigmoidal — convex, then concave (docs/science/baselines.md): before an arm's midpoint the past slope
*underestimates* its future, so both are pessimistic about a strategy that has not started to rise yet
(a "late bloomer" whose reward is still flat), and exact only once every arm is past its inflection.

Both agents estimate from the same per-arm sliding window: with ``N`` pulls of arm ``i`` and
``h = ⌊ε·N⌋`` (the window grows with ``N``), the last ``h`` rewards ``X_{N−h+1} … X_N`` and the ``h`` before
them. Pulls are 1-based; rounds ``t`` are 1-based (``t − 1`` trials played so far). An arm with ``h = 0``
(fewer than ``1/ε`` pulls) has an infinite index, so every arm is pulled ``⌈1/ε⌉`` times first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tradeoff_gym.agents.base import BaseAgent, EpisodeBatch, argmax_random_tie, check_reward
from tradeoff_gym.learners.checks import check_number


class _WindowedRisingAgent(BaseAgent):
    """Per-arm reward history as prefix sums, so a window's sums cost O(1) per arm and decision."""

    def __init__(self, *, epsilon: float, sigma: float, alpha: float) -> None:
        self.epsilon = check_number(epsilon, "epsilon", 0.0, 0.5, low_open=True)
        self.sigma = check_number(sigma, "sigma", 0.0)
        self.alpha = check_number(alpha, "alpha", 0.0, low_open=True)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        # prefix[i, n] = Σ_{l ≤ n} X_l of arm i; weighted[i, n] = Σ_{l ≤ n} l·X_l (1-based pulls, index 0 = empty)
        self.prefix = np.zeros((self.n_actions, self.horizon + 1))
        self.weighted = np.zeros((self.n_actions, self.horizon + 1))
        self.counts = np.zeros(self.n_actions, dtype=np.int64)
        self.round = 1  # t: the round about to be played (1-based)

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        reward = check_reward(reward)
        n = self.counts[action] + 1  # this pull's 1-based index
        self.prefix[action, n] = self.prefix[action, n - 1] + reward
        self.weighted[action, n] = self.weighted[action, n - 1] + n * reward
        self.counts[action] = n
        self.round += 1

    def window_sums(self, arm: int) -> tuple[int, int, float, float, float, float]:
        """``(N, h, A, B, LA, LB)`` of ``arm``: A = Σ X_l and LA = Σ l·X_l over l = N−h+1…N; B and LB over
        the same window shifted back by h (Σ X_{l−h}, Σ l·X_{l−h} over l = N−h+1…N)."""
        n = int(self.counts[arm])
        h = int(np.floor(self.epsilon * n))
        p, q = self.prefix[arm], self.weighted[arm]
        a = p[n] - p[n - h]
        b = p[n - h] - p[n - 2 * h]
        la = q[n] - q[n - h]
        lb = q[n - h] - q[n - 2 * h] + h * b  # Σ_m (m + h)·X_m over m = N−2h+1…N−h
        return n, h, a, b, la, lb

    def bonus_scale(self, h: int) -> float:
        """``σ·sqrt(10·log(1/δ_t) / h³)`` with ``δ_t = t^−α``: Metelli et al.'s rested bonus per unit of
        projection distance."""
        return self.sigma * np.sqrt(10.0 * self.alpha * np.log(max(self.round, 2)) / h**3)

    def index(self, arm: int) -> float:
        raise NotImplementedError

    def indices(self) -> np.ndarray:
        """``(n_actions,)`` every arm's index (``inf`` for an arm with an empty window)."""
        return np.array([self.index(arm) for arm in range(self.n_actions)])

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        return argmax_random_tie(self.indices(), self.rng)


class RisingUCBAgent(_WindowedRisingAgent):
    """R-ed-UCB (Metelli, Trovò, Pirola, Restelli, "Stochastic Rising Bandits", ICML 2022), rested arms.

    Index of arm ``i`` at round ``t`` with ``N`` pulls and window ``h = ⌊ε·N⌋``:

        μ̂_i(t) = (1/h) Σ_{l=N−h+1}^{N} [ X_l + (t − l)·(X_l − X_{l−h}) / h ]
        β_i(t) = σ·(t − N + h − 1)·sqrt(10·log(1/δ_t) / h³),   δ_t = t^−α
        B_i(t) = μ̂_i(t) + β_i(t)

    ``μ̂`` projects each recent reward forward to pull ``t`` (the count the arm would have had it been pulled
    every round, the rested oracle's comparison point) with the slope measured over ``h`` pulls; for concave
    curves its expectation is ≥ ``μ_i(t)`` (optimism), and for a linear curve it equals ``μ_i(t)`` exactly.

    Hyperparameters: ``epsilon`` the window fraction in (0, 1/2] (default 1/8); ``sigma`` the rewards'
    sub-Gaussian scale (default 0.05: our rewards are batch accuracies with sd ≈ 0.03; the worst case for
    [0, 1] rewards, 0.5, makes the bonus swamp the estimate over a 1000-trial horizon); ``alpha`` > 0 in
    ``δ_t = t^−α`` (default 1).

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.rising import RisingUCBAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, RisingUCBAgent(), seed=0)
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 188, 'parallel': 112}
    """

    name = "r-ed-ucb"

    def __init__(self, *, epsilon: float = 0.125, sigma: float = 0.05, alpha: float = 1.0) -> None:
        super().__init__(epsilon=epsilon, sigma=sigma, alpha=alpha)

    @classmethod
    def batched(cls, agents: list[RisingUCBAgent]) -> RisingBatch:
        """K episodes in one :class:`RisingBatch`."""
        return RisingBatch(agents)

    def estimate(self, arm: int) -> float:
        """``μ̂_i(t)`` (NaN for an arm with an empty window)."""
        n, h, a, b, la, lb = self.window_sums(arm)
        if h == 0:
            return float("nan")
        t = self.round
        # Σ (t − l)(X_l − X_{l−h}) = t·(A − B) − (LA − LB)
        return a / h + (t * (a - b) - (la - lb)) / h**2

    def index(self, arm: int) -> float:
        n, h = int(self.counts[arm]), int(np.floor(self.epsilon * self.counts[arm]))
        if h == 0:
            return float("inf")
        return self.estimate(arm) + (self.round - n + h - 1) * self.bonus_scale(h)


class CumulativeRisingUCBAgent(_WindowedRisingAgent):
    """CURE-UCB (Song, Gan, Yoon, Wang, Chen, Ok, "Rising Multi-Armed Bandits with Known Horizons", 2026).

    The paper's index ranks an arm by the cumulative reward it can still yield over the remaining budget —
    recent level + projected future gain + exploration bonus — so a late bloomer beats an early peaker when
    the horizon is long enough, and "linear-then-flat" arms stop being extrapolated past their ceiling.
    Its exact estimator was not available to us; this is that index built from R-ed-UCB's window estimates
    (what we implement, exactly):

    * level at the last pull: ``ℓ̂ = A/h + ĝ·(h − 1)/2`` (the window mean sits at the window's centre), slope
      ``ĝ = max(0, (A − B)/h²)`` (rising arms; ``A``, ``B`` the sums of the last and previous ``h`` rewards);
    * optimistic reward at the ``j``-th future pull, ``j = 1 … R`` with ``R = τ − t + 1`` the trials left
      (this one included): ``min(r_max, ℓ̂ + ĝ·j + β_j)`` with R-ed-UCB's bonus at projection distance ``j``,
      ``β_j = σ·(j + h − 1)·sqrt(10·log(1/δ_t)/h³)``, ``δ_t = t^−α``; ``r_max`` the rewards' known bound
      (concavity makes the linear projection optimistic, the bound keeps it finite over a long horizon);
    * index = that sum over the remaining trials ÷ ``R``: the predicted mean reward if we committed to the
      arm until the end (dividing by ``R``, the same for every arm, does not change the argmax).

    Hyperparameters as :class:`RisingUCBAgent`, plus ``reward_max`` (default 1.0: accuracies, mean over tasks;
    ``None`` = unbounded).

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.rising import CumulativeRisingUCBAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, CumulativeRisingUCBAgent(), seed=0)
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 260, 'parallel': 40}
    """

    name = "cure-ucb"

    def __init__(
        self, *, epsilon: float = 0.125, sigma: float = 0.05, alpha: float = 1.0, reward_max: float | None = 1.0
    ) -> None:
        super().__init__(epsilon=epsilon, sigma=sigma, alpha=alpha)
        self.reward_max = None if reward_max is None else check_number(reward_max, "reward_max", -np.inf)

    @classmethod
    def batched(cls, agents: list[CumulativeRisingUCBAgent]) -> RisingBatch:
        """K episodes in one :class:`RisingBatch`."""
        return RisingBatch(agents)

    def level_and_slope(self, arm: int) -> tuple[float, float]:
        """``(ℓ̂, ĝ)`` of ``arm``: estimated reward at its last pull and per-pull slope (NaN if no window)."""
        n, h, a, b, _, _ = self.window_sums(arm)
        if h == 0:
            return float("nan"), float("nan")
        slope = max(0.0, (a - b) / h**2)
        return a / h + slope * (h - 1) / 2.0, slope

    def index(self, arm: int) -> float:
        h = int(np.floor(self.epsilon * self.counts[arm]))
        if h == 0:
            return float("inf")
        level, slope = self.level_and_slope(arm)
        scale = self.bonus_scale(h)
        remaining = max(self.horizon - self.round + 1, 1)
        # optimistic value at future pull j: first + step·(j − 1), j = 1…R, capped at reward_max
        first = level + slope + scale * h
        step = slope + scale
        return _capped_linear_sum(first, step, remaining, self.reward_max) / remaining


def _capped_linear_sum(first: float, step: float, count: int, cap: float | None) -> float:
    """``Σ_{j=0}^{count−1} min(cap, first + step·j)`` for ``step ≥ 0`` in closed form (no cap: ``None``)."""
    if cap is None or first + step * (count - 1) <= cap:
        return count * first + step * count * (count - 1) / 2.0
    if first >= cap:
        return count * cap
    below = int(np.floor((cap - first) / step)) + 1  # terms j = 0 … below−1 lie under the cap
    return below * first + step * below * (below - 1) / 2.0 + (count - below) * cap


class RisingBatch(EpisodeBatch):
    """K rising-bandit episodes in lockstep (R-ed-UCB, CURE-UCB): the same actions, indices as array programs.

    The K agents' reward prefix sums and pull counts live in shared ``(K, S, τ + 1)`` and ``(K, S)`` arrays (each
    agent holds views of its rows, so its own methods still read them); a step's updates and every arm's index
    are computed for all episodes at once with the agents' own operations in their order, and ties are broken
    with each episode's own stream.
    """

    agents: list[_WindowedRisingAgent]

    def reset_batch(self, infos: Sequence[dict[str, Any]], rngs: Sequence[np.random.Generator]) -> None:
        """Reset every agent, then share their rows (agents of one shape and settings; else one by one)."""
        super().reset_batch(infos, rngs)
        first = self.agents[0]
        self.shared = len({
            (a.n_actions, a.horizon, a.epsilon, a.sigma, a.alpha, getattr(a, "reward_max", None)) for a in self.agents
        }) == 1
        if self.shared:
            self.prefix = np.stack([agent.prefix for agent in self.agents])  # (K, S, τ + 1)
            self.weighted = np.stack([agent.weighted for agent in self.agents])
            self.counts = np.stack([agent.counts for agent in self.agents])  # (K, S) int64
            for i, agent in enumerate(self.agents):
                agent.prefix, agent.weighted, agent.counts = self.prefix[i], self.weighted[i], self.counts[i]
        self.first = first

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """Each active episode's argmax of its arms' indices (see the agents' ``index``)."""
        rows = np.flatnonzero(active)
        if not self.shared or len({self.agents[k].round for k in rows}) > 1:
            return super().act_batch(obs, infos, active)
        actions = np.zeros(len(self.agents), dtype=np.int64)
        if rows.size:
            values = self.indices(rows)  # (K', S)
            for i, k in enumerate(rows):
                actions[k] = argmax_random_tie(values[i], self.agents[k].rng)
        return actions

    def indices(self, rows: np.ndarray) -> np.ndarray:
        """``(K', S)`` every arm's index in episodes ``rows`` (all at one round), as the agents compute them."""
        agent = self.first
        n = self.counts[rows]  # (K', S) int64
        h = np.floor(agent.epsilon * n).astype(np.int64)  # (K', S)
        empty = h == 0
        safe = np.where(empty, 1, h)  # a window of one pull where there is none: computed, then replaced by inf
        p = self.prefix[rows]  # (K', S, τ + 1)
        q = self.weighted[rows]

        def at(table: np.ndarray, index: np.ndarray) -> np.ndarray:  # table[k, s, index[k, s]]
            return np.take_along_axis(table, index[:, :, None], axis=2)[:, :, 0]

        lo, mid = np.maximum(n - 2 * safe, 0), np.maximum(n - safe, 0)
        a = at(p, n) - at(p, mid)
        b = at(p, mid) - at(p, lo)
        t = agent.round
        scale = agent.sigma * np.sqrt(10.0 * agent.alpha * np.log(max(t, 2)) / safe**3)  # bonus_scale(h)
        if isinstance(agent, RisingUCBAgent):
            la = at(q, n) - at(q, mid)
            lb = at(q, mid) - at(q, lo) + safe * b
            estimate = a / safe + (t * (a - b) - (la - lb)) / safe**2
            index = estimate + (t - n + safe - 1) * scale
        else:
            slope = np.maximum(0.0, (a - b) / safe**2)
            level = a / safe + slope * (safe - 1) / 2.0
            remaining = max(agent.horizon - t + 1, 1)
            first, step = level + slope + scale * safe, slope + scale
            index = _capped_linear_sums(first, step, remaining, agent.reward_max) / remaining
        return np.where(empty, np.inf, index)

    def observe_batch(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        obs: np.ndarray,
        infos: Sequence[dict[str, Any]],
        active: np.ndarray,
    ) -> None:
        """Each active episode's prefix sums of the arm it pulled, updated together."""
        if not self.shared:
            return super().observe_batch(actions, rewards, obs, infos, active)
        rows = np.flatnonzero(active)
        reward = np.array([check_reward(rewards[k]) for k in rows])  # (K',)
        arms = np.asarray(actions)[rows]
        n = self.counts[rows, arms] + 1  # (K',) this pull's 1-based index
        self.prefix[rows, arms, n] = self.prefix[rows, arms, n - 1] + reward
        self.weighted[rows, arms, n] = self.weighted[rows, arms, n - 1] + n * reward
        self.counts[rows, arms] = n
        for k in rows:
            self.agents[k].round += 1
        return None


def _capped_linear_sums(first: np.ndarray, step: np.ndarray, count: int, cap: float | None) -> np.ndarray:
    """:func:`_capped_linear_sum` elementwise over arrays ``first`` and ``step`` (same operations per branch)."""
    uncapped = count * first + step * count * (count - 1) / 2.0
    if cap is None:
        return uncapped
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.floor((cap - first) / step) + 1  # terms under the cap (used only where the cap binds)
    below = np.where(np.isfinite(below), below, 0).astype(np.int64)
    partial = below * first + step * below * (below - 1) / 2.0 + (count - below) * cap
    return np.where(first + step * (count - 1) <= cap, uncapped, np.where(first >= cap, count * cap, partial))
