"""The Sagiv et al. (2018) baseline: ε-greedy on logistic learning curves, with the serialization cost known.

Sagiv, Musslick, Niv & Cohen (2018), "Efficiency of learning vs. processing: Towards a normative
theory of multitasking", CogSci (SPEC §5); public code ``yotamSagiv/thesis``,
``logistic_regression_agent.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from scipy.special import expit

from agents.base import BaseAgent
from envs.common import COST_MODES, CostMode, check_choice, check_number, serial_discount

REWARD_AGGREGATES: tuple[str, ...] = ("mean", "sum")


def fit_logistic_map(
    x: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray,
    beta: np.ndarray,
    prior_std: float,
    *,
    max_iter: int = 25,
    tol: float = 1e-8,
) -> np.ndarray:
    """MAP ``(b0, b1)`` of ``P(success) = σ(b0 + b1·x)`` under a N(0, prior_std²) prior; batched Newton.

    ``x`` ``(M,)`` inputs, ``successes`` and ``trials`` ``(S, M)`` (fractional successes allowed),
    ``beta`` ``(S, 2)`` the warm start. Returns ``(S, 2)``. The objective is strictly concave, so Newton
    converges; each step is capped at norm 10 to stay safe from a far start.
    """
    assert successes.shape == trials.shape == (beta.shape[0], x.shape[0]), (successes.shape, beta.shape, x.shape)
    design = np.stack((np.ones_like(x), x), axis=-1)  # (M, 2)
    precision = np.eye(2) / prior_std**2  # (2, 2)
    beta = beta.copy()
    for _ in range(max_iter):
        p = expit(beta @ design.T)  # (S, M)
        grad = (successes - trials * p) @ design - beta @ precision  # (S, 2)
        weight = trials * p * (1.0 - p)  # (S, M)
        hessian = np.einsum("sm,mi,mj->sij", weight, design, design) + precision  # (S, 2, 2): −∇²
        step = np.linalg.solve(hessian, grad[..., None])[..., 0]  # (S, 2)
        norm = np.linalg.norm(step, axis=-1, keepdims=True)
        step *= np.minimum(1.0, 10.0 / np.maximum(norm, 1e-300))
        beta += step
        if np.max(np.abs(step)) < tol:
            break
    return beta


class SagivAgent(BaseAgent):
    """ε-greedy on the discounted future reward of each strategy, from logistic learning curves.

    Per strategy ``A`` the success probability of a task after ``n`` picks of ``A`` is
    ``p_A(n) = σ(b0 + b1·n/τ)``, a MAP (Bayesian) logistic regression on the per-task successes of
    ``A``'s trials (``info["task_accuracy"]``: fractional accuracies count as fractional successes),
    refit every trial, with the original's two anchoring pseudo-observations per strategy (a failure
    at pick 0, a success at pick τ−1). The value of committing to ``A`` from trial ``t0`` is

        V_A = Σ_{j=0}^{τ−t0−1} γ^{0.025·j} · p_A(n_A + j) · E_k[payoff_A(k)],

    i.e. ``Σ_{t=t0}^{T}`` with ``T = τ − (the other strategies' picks)`` in ``A``'s own pick count, where
    ``payoff_A(k)`` is the reward of ``k`` correct tasks (serial slot ``i`` paying ``1 − i·c`` when
    ``cost_mode`` is additive, ``1/(1+c)`` when divide; summed or averaged per ``reward_aggregate``)
    and the task-count distribution is the Dirichlet(1) posterior mean of the observed counts. With
    probability ``epsilon`` it explores uniformly, otherwise plays the argmax (random tie-break).

    This baseline by definition KNOWS the cost: ``cost`` is a number, or a callable called at every
    ``reset`` (for environments that draw the cost per episode; :func:`sagiv_from_env` passes one that
    reads ``env.unwrapped.cost``, which the run loop has drawn before it resets the agent).
    Hyperparameters: ``epsilon`` (0.1, as the original), ``gamma`` (1.0: undiscounted finite horizon,
    like the meta-learner's default; the original takes it as an argument), ``discount_scale`` (0.025),
    ``prior_std`` of (b0, b1) with n rescaled by τ (30: weak), ``pseudo_observations`` (True).
    """

    name = "sagiv"

    def __init__(
        self,
        cost: float | Callable[[], float],
        *,
        cost_mode: CostMode = "divide",
        reward_aggregate: Literal["mean", "sum"] = "mean",
        epsilon: float = 0.1,
        gamma: float = 1.0,
        discount_scale: float = 0.025,
        prior_std: float = 30.0,
        pseudo_observations: bool = True,
    ) -> None:
        if callable(cost):
            self._cost_source: Callable[[], float] = cost
        else:
            fixed = check_number(cost, "cost", 0.0, 1.0, low_open=False)
            self._cost_source = lambda: fixed
        self.cost_mode: CostMode = check_choice(cost_mode, COST_MODES, "cost_mode")  # type: ignore[assignment]
        self.reward_aggregate = check_choice(reward_aggregate, REWARD_AGGREGATES, "reward_aggregate")
        self.epsilon = check_number(epsilon, "epsilon", 0.0, 1.0, low_open=False)
        self.gamma = check_number(gamma, "gamma", 0.0, 1.0, low_open=True)
        self.discount_scale = check_number(discount_scale, "discount_scale", 0.0, None, low_open=False)
        self.prior_std = check_number(prior_std, "prior_std", 0.0, None, low_open=True)
        if not isinstance(pseudo_observations, bool):
            raise ValueError(f"pseudo_observations must be a bool, got {pseudo_observations!r}")
        self.pseudo_observations = pseudo_observations

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: read the (known) cost, clear the data, fit the anchoring pseudo-observations."""
        super().reset(info, rng)
        self.cost = check_number(self._cost_source(), "cost", 0.0, 1.0, low_open=False)
        serial = tuple(info.get("serial", (False,) * self.n_actions))
        ones = np.ones(self.n_tasks)
        slots = np.stack([serial_discount(ones, self.cost, self.cost_mode) if s else ones for s in serial])
        totals = np.cumsum(slots, axis=1)  # (S, T): reward of the first k tasks all correct, k = 1…T
        if self.reward_aggregate == "mean":
            totals = totals / np.arange(1, self.n_tasks + 1)
        self._payoff_per_count = totals  # (S, T)
        self.task_count_counts = np.zeros(self.n_tasks)  # trials seen with k = 1…T tasks
        self.successes = np.zeros((self.n_actions, self.horizon))  # (S, τ) by own pick count
        self.trials = np.zeros((self.n_actions, self.horizon))
        if self.pseudo_observations:
            self.trials[:, 0] += 1.0
            self.trials[:, -1] += 1.0
            self.successes[:, -1] += 1.0
        self._x = np.arange(self.horizon) / self.horizon  # (τ,)
        self.beta = np.zeros((self.n_actions, 2))  # (S, 2): (b0, b1)
        self.picks = np.zeros(self.n_actions, dtype=np.int64)
        self.trial = 0
        self._fit()

    def _fit(self) -> None:
        """Refit every strategy's logistic curve (warm start from the last fit)."""
        self.beta = fit_logistic_map(self._x, self.successes, self.trials, self.beta, self.prior_std)

    def values(self, trial: int) -> np.ndarray:
        """``V_A`` for every strategy at ``trial``: ``(n_strategies,)``."""
        remaining = max(self.horizon - trial, 1)
        steps = np.arange(remaining)
        discount = self.gamma ** (self.discount_scale * steps)  # (L,)
        x = (self.picks[:, None] + steps) / self.horizon  # (S, L)
        p = expit(self.beta[:, :1] + self.beta[:, 1:] * x)  # (S, L)
        task_dist = (self.task_count_counts + 1.0) / (self.task_count_counts.sum() + self.n_tasks)  # (T,)
        payoff = self._payoff_per_count @ task_dist  # (S,): expected reward of a trial of correct tasks
        return payoff * (p @ discount)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """ε-greedy on :meth:`values`, random tie-break."""
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions))
        values = self.values(int(info.get("trial", self.trial)))
        best = np.flatnonzero(values == values.max())
        return int(best[0] if best.size == 1 else self.rng.choice(best))

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Add the trial's per-task successes (accuracies) to the strategy's curve and refit."""
        if "task_accuracy" not in info:
            raise ValueError("SagivAgent needs info['task_accuracy'] (per-task accuracy, NaN = not performed)")
        accuracy = np.asarray(info["task_accuracy"], dtype=np.float64)
        performed = ~np.isnan(accuracy)
        k = int(performed.sum())
        if k:
            n = min(int(self.picks[action]), self.horizon - 1)
            self.successes[action, n] += accuracy[performed].sum()
            self.trials[action, n] += k
            self.task_count_counts[k - 1] += 1
        self.picks[action] += 1
        self.trial += 1
        self._fit()


def sagiv_from_env(env: gym.Env, **kwargs: Any) -> SagivAgent:
    """A :class:`SagivAgent` given the environment's hidden cost (read at each reset) and cost semantics.

    It reads ``env.unwrapped.cost`` when the agent is reset (the run loop resets the env first, so the
    episode's cost is drawn), and takes ``cost_mode`` / ``reward_aggregate`` from ``env.unwrapped.config``
    when present (defaults ``"divide"`` / ``"mean"``); ``kwargs`` override them and set hyperparameters.
    """
    unwrapped = env.unwrapped
    if not hasattr(unwrapped, "cost"):
        raise ValueError(f"SagivAgent needs an environment exposing its cost; {type(unwrapped).__name__} has none")
    config = getattr(unwrapped, "config", None)
    settings: dict[str, Any] = {
        "cost_mode": getattr(config, "cost_mode", "divide"),
        "reward_aggregate": getattr(config, "reward_aggregate", "mean"),
        **kwargs,
    }
    return SagivAgent(lambda: float(unwrapped.cost), **settings)
