"""The Sagiv et al. (2018) baseline: ε-greedy on logistic learning curves, with the serialization cost known.

Sagiv, Musslick, Niv & Cohen (2018), "Efficiency of learning vs. processing: Towards a normative
theory of multitasking", CogSci (docs/science/baselines.md); public code ``yotamSagiv/thesis``,
``logistic_regression_agent.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.linalg._umath_linalg import solve as _solve  # np.linalg.solve's kernel (LAPACK gesv)
from scipy.special import expit

from tradeoff_gym.agents.base import BaseAgent, EpisodeBatch, argmax_random_tie, check_reward
from tradeoff_gym.envs.interface import TASK_ACCURACY, TRIAL, RewardRule, task_values
from tradeoff_gym.learners.checks import check_bool, check_number


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
    design_t = design.T
    precision = np.eye(2) / prior_std**2  # (2, 2)
    beta = beta.copy()
    # The same operations as np.linalg.solve and np.linalg.norm, without their per-call checks (a fit runs every
    # trial): the hessian is positive definite (the prior's precision), so the solve never meets a singular matrix.
    for _ in range(max_iter):
        p = expit(beta @ design_t)  # (S, M)
        grad = (successes - trials * p) @ design - beta @ precision  # (S, 2)
        weight = trials * p * (1.0 - p)  # (S, M)
        hessian = np.einsum("sm,mi,mj->sij", weight, design, design) + precision  # (S, 2, 2): −∇²
        step = _solve(hessian, grad[..., None], signature="dd->d")[..., 0]  # (S, 2)
        norm = np.sqrt(np.add.reduce(step * step, axis=-1, keepdims=True))
        step *= np.minimum(1.0, 10.0 / np.maximum(norm, 1e-300))
        beta += step
        if np.abs(step).max() < tol:
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
    ``payoff_A(k)`` is the reward of ``k`` correct tasks under the env's :class:`tradeoff_gym.envs.interface.RewardRule`
    ``rule`` (serial slot ``i`` paying ``1 − i·c`` when additive, ``1/(1+c)`` when divide; summed or averaged)
    and the task-count distribution is the Dirichlet(1) posterior mean of the observed counts. With
    probability ``epsilon`` it explores uniformly, otherwise plays the argmax (random tie-break).

    This baseline by definition KNOWS the cost: ``cost`` is a number, or a callable called at every
    ``reset`` (for environments that draw the cost per episode; the registry's ``sagiv`` factory passes one
    that reads the env's drawn cost, which the run loop has drawn before it resets the agent).
    ``rule`` is the env's reward rule (default: the paper's, serial ÷ (1 + c), mean over tasks).
    Hyperparameters: ``epsilon`` (0.1, as the original), ``gamma`` (1.0: undiscounted finite horizon,
    like the meta-learner's default; the original takes it as an argument), ``discount_scale`` (0.025),
    ``prior_std`` of (b0, b1) with n rescaled by τ (30: weak), ``pseudo_observations`` (True).

    Examples:
        Given a high cost, it learns that parallel pays more here (the registry's ``make_agent("sagiv", env)``
        passes the env's drawn cost and reward rule the same way):

        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.sagiv import SagivAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.9, horizon=1000, batch_size=None)
        >>> agent = SagivAgent(0.9, rule=env.unwrapped.reward_rule)
        >>> frame = run_episode(env, agent, seed=0)
        >>> frame.strategy.iloc[-200:].value_counts().idxmax()  # mostly parallel (ε = 0.1 still explores)
        'parallel'
    """

    name = "sagiv"

    def __init__(
        self,
        cost: float | Callable[[], float],
        *,
        rule: RewardRule | None = None,
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
        if rule is not None and not isinstance(rule, RewardRule):
            raise ValueError(f"rule must be an tradeoff_gym.envs.interface.RewardRule, got {rule!r}")
        self.rule = rule if rule is not None else RewardRule()
        self.epsilon = check_number(epsilon, "epsilon", 0.0, 1.0, low_open=False)
        self.gamma = check_number(gamma, "gamma", 0.0, 1.0, low_open=True)
        self.discount_scale = check_number(discount_scale, "discount_scale", 0.0, None, low_open=False)
        self.prior_std = check_number(prior_std, "prior_std", 0.0, None, low_open=True)
        self.pseudo_observations = check_bool(pseudo_observations, "pseudo_observations")

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: read the (known) cost, clear the data, fit the anchoring pseudo-observations."""
        super().reset(info, rng)
        self.cost = check_number(self._cost_source(), "cost", 0.0, 1.0, low_open=False)
        if len(self.rule.strategies) != self.n_actions:
            raise ValueError(f"rule has {len(self.rule.strategies)} strategies; the env has {self.n_actions}")
        slots = np.stack([self.rule.task_payoffs(a, self.cost, self.n_tasks) for a in range(self.n_actions)])
        totals = np.cumsum(slots, axis=1)  # (S, T): reward of the first k tasks all correct, k = 1…T
        # (S, T): the rule's reward of a k-task trial with every task correct
        self._payoff_per_count = self.rule.offset + totals * self.rule.aggregate_weights(np.arange(1, self.n_tasks + 1))
        self.task_count_counts = np.zeros(self.n_tasks)  # trials seen with k = 1…T tasks
        self.successes = np.zeros((self.n_actions, self.horizon))  # (S, τ) by own pick count
        self.trials = np.zeros((self.n_actions, self.horizon))
        if self.pseudo_observations:
            self.trials[:, 0] += 1.0
            self.trials[:, -1] += 1.0
            self.successes[:, -1] += 1.0
        self._x = np.arange(self.horizon) / self.horizon  # (τ,)
        self._used = np.arange(self.horizon + 1)  # pick counts 0, 1, … (the last one used is replaced by τ − 1)
        self.beta = np.zeros((self.n_actions, 2))  # (S, 2): (b0, b1)
        self.picks = np.zeros(self.n_actions, dtype=np.int64)
        self.trial = 0
        self._fit()

    def _fit(self, action: int | None = None) -> None:
        """Refit ``action``'s logistic curve (every strategy's when None), warm-started from the last fit.

        Only a strategy whose data changed is refit, on the pick counts that hold data (0 … its picks, and the
        anchoring pseudo-observation at τ − 1): empty pick counts add exactly zero to the likelihood, so this is
        the full fit at a fraction of its cost (a fit over all τ counts every trial dominated a sweep's agent time).
        """
        for a in range(self.n_actions) if action is None else (action,):
            used = self._used[: min(int(self.picks[a]), self.horizon - 2) + 2].copy()  # counts with data
            used[-1] = self.horizon - 1
            self.beta[a] = fit_logistic_map(
                self._x[used], self.successes[a, used][None], self.trials[a, used][None], self.beta[a][None],
                self.prior_std,
            )[0]

    def values(self, trial: int) -> np.ndarray:
        """``V_A`` for every strategy at ``trial``: ``(n_strategies,)``."""
        steps, discount = self._steps(trial)
        x = (self.picks[:, None] + steps) / self.horizon  # (S, L)
        p = expit(self.beta[:, :1] + self.beta[:, 1:] * x)  # (S, L)
        return self._values_from(p, discount)

    def _steps(self, trial: int) -> tuple[np.ndarray, np.ndarray]:
        """Future steps ``j`` ``(L,)`` from ``trial`` to the horizon and their discounts ``(L,)``."""
        remaining = max(self.horizon - trial, 1)
        steps = np.arange(remaining)
        return steps, self.gamma ** (self.discount_scale * steps)

    def _values_from(self, p: np.ndarray, discount: np.ndarray) -> np.ndarray:
        """``(S,)`` values from success probabilities ``(S, L)`` at the future steps and their discounts ``(L,)``."""
        task_dist = (self.task_count_counts + 1.0) / (self.task_count_counts.sum() + self.n_tasks)  # (T,)
        payoff = self._payoff_per_count @ task_dist  # (S,): expected reward of a trial of correct tasks
        return payoff * (p @ discount)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """ε-greedy on :meth:`values`, random tie-break."""
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions))
        return argmax_random_tie(self.values(int(info.get(TRIAL, self.trial))), self.rng)

    @classmethod
    def batched(cls, agents: list[SagivAgent]) -> SagivBatch | None:
        """K episodes in one :class:`SagivBatch` (any settings: each episode keeps its agent's)."""
        return SagivBatch(agents)

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Add the trial's per-task successes (accuracies) to the strategy's curve and refit."""
        check_reward(reward)
        if TASK_ACCURACY not in info:
            raise ValueError("SagivAgent needs info['task_accuracy'] (per-task accuracy, NaN = not performed)")
        accuracy = task_values(info, TASK_ACCURACY)  # NaN = not performed
        if np.isinf(accuracy).any():
            raise ValueError(f"info['task_accuracy'] must be finite or NaN (task not performed), got {accuracy}")
        performed = ~np.isnan(accuracy)
        k = int(performed.sum())
        if k:
            n = min(int(self.picks[action]), self.horizon - 1)
            self.successes[action, n] += accuracy[performed].sum()
            self.trials[action, n] += k
            self.task_count_counts[k - 1] += 1
        self.picks[action] += 1
        self.trial += 1
        self._fit(action)


class SagivBatch(EpisodeBatch):
    """K Sagiv episodes in lockstep: the same actions as K :class:`SagivAgent`, their values as one array program.

    Each agent keeps its own state, random stream and curve fits (a fit's Newton steps sum over that episode's own
    pick counts, so fits are not stacked: another length would sum in another order); the K value sums over the
    remaining trials, the bulk of ``act``, are evaluated together. Figures: docs/findings/speed.md#agents.
    """

    agents: list[SagivAgent]

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """Each active episode's ε-greedy action (see :meth:`SagivAgent.act`)."""
        actions = np.zeros(len(self.agents), dtype=np.int64)
        greedy = []
        for k in np.flatnonzero(active):
            agent = self.agents[k]
            if agent.rng.random() < agent.epsilon:
                actions[k] = int(agent.rng.integers(agent.n_actions))
            else:
                greedy.append(k)
        trials = [int(infos[k].get(TRIAL, self.agents[k].trial)) for k in greedy]
        shared = {  # what the stacked evaluation shares
            (trial, self.agents[k].n_actions, self.agents[k].horizon, self.agents[k].gamma,
             self.agents[k].discount_scale)
            for trial, k in zip(trials, greedy)
        }
        if len(shared) > 1:  # episodes that cannot share it: one by one
            for k in greedy:
                agent = self.agents[k]
                actions[k] = argmax_random_tie(agent.values(int(infos[k].get(TRIAL, agent.trial))), agent.rng)
            return actions
        if greedy:
            agents = [self.agents[k] for k in greedy]
            steps, discount = agents[0]._steps(trials[0])
            picks = np.stack([agent.picks for agent in agents])  # (K', S)
            beta = np.stack([agent.beta for agent in agents])  # (K', S, 2)
            x = (picks[:, :, None] + steps) / agents[0].horizon  # (K', S, L)
            p = expit(beta[:, :, :1] + beta[:, :, 1:] * x)  # (K', S, L)
            for i, (k, agent) in enumerate(zip(greedy, agents)):
                actions[k] = argmax_random_tie(agent._values_from(p[i], discount), agent.rng)
        return actions
