"""The paper's meta-learner: Thompson sampling over SVGD posteriors of each strategy's learning curves.

Anonymous (2021), "Navigating the Trade-Off between Learning Efficacy and Processing Efficiency in
Deep Neural Networks", section 3.1 (docs/science/meta-learner.md); SVGD from Liu & Wang (2016), Thompson sampling
from Thompson
(1933) / Chapelle & Li (2011).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tradeoff_gym.agents.base import BaseAgent, EpisodeBatch, argmax_random_tie, check_reward
from tradeoff_gym.agents.curve_model import FAMILIES, PAPER_PRIOR, CurveModel, CurvePrior, curve_values
from tradeoff_gym.agents.svgd import OPTIMIZERS, SVGD, Optimizer
from tradeoff_gym.envs.interface import TASK_REWARDS, TRIAL, task_values
from tradeoff_gym.learners.checks import check_bool, check_int, check_number
from tradeoff_gym.learners.threads import torch_threads

#: Settings for a best strategy that starts learning late (``MetaLearnerAgent(**LATE_ONSET)``): shared and
#: committed Thompson draws, and a prior with ceilings near 1. Opt-in: it helps when the best strategy's learning
#: starts late and costs return where it does not (docs/findings/agents-on-learning-curves.md).
#: Ceiling prior σ(3 ± 1.5) ≈ 0.95: tasks are learnable (the serial ceiling then drops to 1/(1+c) as its data
#: arrive); midpoint prior 0.3 τ ×/÷ 2.
LATE_ONSET: dict[str, Any] = {
    "shared_draw": True,
    "redraw_every": 10,
    "commit": True,
    "prior": CurvePrior(mean=(math.log(15.0), math.log(0.3), -3.0, 3.0), std=(0.8, 0.7, 1.5, 1.5)),
}


class MetaLearnerAgent(BaseAgent):
    """Thompson sampling on the future reward of each strategy, from SVGD learning-curve posteriors.

    Per strategy ``A`` and task ``i`` a curve ``f_{A,i}(n)`` in ``A``'s own pick count ``n``, a
    logistic in ``n/τ`` between a floor and a ceiling (:mod:`tradeoff_gym.agents.curve_model`, our variant of the
    paper's sigmoid of a sigmoid), is fit to the observed per-task rewards (``info["task_rewards"]``, NaN = not
    performed; the hidden cost is absorbed into the serial curves' ceilings). At trial ``t0`` it reads
    one posterior particle per (A, i) and plays the argmax of

        R^{(A)}_{≥t0} = Σ_{t=t0}^{τ−1} μ(t − t0) Σ_i π_i f_{A,i}(n_A(t0) + t − t0),

    with ``μ(Δ) = discount^Δ`` (1: the finite-horizon sum of the paper's default) and ``π_i`` the
    observed fraction of trials in which task ``i`` is performed (1 when every trial has every task,
    as in the paper's world). ``n_A`` advances only while ``A`` is played, for every strategy alike (the value of
    a strategy not played so far starts from its own count). The posterior is refit with
    ``svgd_steps`` warm-started SVGD steps every ``refit_every`` trials. Any number of strategies;
    never reads the cost or raw accuracies.

    Which particles are read (the Thompson draw) is configurable; the defaults redraw one particle per
    (A, i) every trial, as in the paper. For a best strategy whose learning starts late (its first
    picks pay ~0), :data:`LATE_ONSET` sets three changes that measurably help (see its notes):
    ``shared_draw`` (one index per strategy, shared by its tasks, whose particles start from the same
    prior draws — so a draw is one joint hypothesis and its optimism is not averaged away over
    independent per-task draws), ``commit`` (keep the played strategy's draw until the argmax leaves
    it; the others are redrawn every ``redraw_every`` trials — so a late-rising hypothesis is tested by
    a run of picks instead of being abandoned after a few zero rewards), and a prior on ceilings near 1.

    Known limit (measured in docs/findings/agents-on-learning-curves.md; ``bench_meta_learner`` prints it): a
    strategy whose rewards stay at ~0 for hundreds of picks cannot be told from a flat one until then, and a
    serial curve's ceiling (hence the cost) is identified only after its inflection. On a shared network the
    model is wrong as well: both strategies train one network (docs/science/crossover.md).

    Hyperparameters (keyword-only): ``n_particles`` per curve (32); ``refit_every`` trials between
    refits (10, the paper refits "periodically"); ``svgd_steps`` per refit (15: warm starts move
    little; 1.5 SVGD steps per trial keeps the overhead near 1 ms/trial); ``lr`` and
    ``optimizer`` of SVGD (0.05, Adam); ``discount`` γ of μ (1.0); ``noise_std`` the likelihood's prior
    noise scale (0.05, shrunk towards each curve's residuals with weight ``noise_prior_weight`` = 10
    rewards); ``max_bins`` pick-count bins of the sufficient statistics (50); ``max_points`` curve
    evaluations per strategy and task in the future-reward sum (200); ``prior`` on θ (:class:`CurvePrior`);
    ``shared_draw`` (False), ``redraw_every`` (1 trial), ``commit`` (False): the draw, as above;
    ``curve_family`` ``"shape"`` (default) or ``"paper"`` — the paper's exact σ(w2 σ(w1 n/τ + b1) + b2) with
    :data:`tradeoff_gym.agents.curve_model.PAPER_PRIOR`, for reproducing the paper's model.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.meta_learner import MetaLearnerAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=300, batch_size=None)
        >>> frame = run_episode(env, MetaLearnerAgent(), seed=0)
        >>> frame.strategy.iloc[-100:].value_counts().idxmax()  # what it settled on
        'serial'
    """

    name = "meta-learner"

    def __init__(
        self,
        *,
        n_particles: int = 32,
        refit_every: int = 10,
        svgd_steps: int = 15,
        lr: float = 0.05,
        optimizer: Optimizer = "adam",
        discount: float = 1.0,
        noise_std: float = 0.05,
        noise_prior_weight: float = 10.0,
        max_bins: int = 50,
        max_points: int = 200,
        prior: CurvePrior | None = None,
        shared_draw: bool = False,
        redraw_every: int = 1,
        commit: bool = False,
        curve_family: str = "shape",
    ) -> None:
        if curve_family not in FAMILIES:
            raise ValueError(f"curve_family must be one of {list(FAMILIES)}, got {curve_family!r}")
        self.curve_family = curve_family
        self.n_particles = check_int(n_particles, "n_particles", 2)
        self.refit_every = check_int(refit_every, "refit_every", 1)
        self.svgd_steps = check_int(svgd_steps, "svgd_steps", 1)
        self.lr = check_number(lr, "lr", 0.0, low_open=True)
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
        self.optimizer: Optimizer = optimizer
        self.discount = check_number(discount, "discount", 0.0, 1.0, low_open=True)
        self.noise_std = check_number(noise_std, "noise_std", 0.0, low_open=True)
        self.noise_prior_weight = check_number(noise_prior_weight, "noise_prior_weight", 0.0, low_open=True)
        self.max_bins = check_int(max_bins, "max_bins", 1)
        self.max_points = check_int(max_points, "max_points", 1)
        if prior is not None and not isinstance(prior, CurvePrior):
            raise ValueError(f"prior must be a CurvePrior or None, got {prior!r}")
        default_prior = PAPER_PRIOR if curve_family == "paper" else CurvePrior()
        self.prior = prior if prior is not None else default_prior
        self.shared_draw = check_bool(shared_draw, "shared_draw")
        self.redraw_every = check_int(redraw_every, "redraw_every", 1)
        self.commit = check_bool(commit, "commit")

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: prior particles for every (strategy, task) curve, no data."""
        super().reset(info, rng)
        generator = torch.Generator().manual_seed(int(rng.integers(2**63)))
        self.model = CurveModel(
            self.n_actions * self.n_tasks,
            self.horizon,
            n_particles=self.n_particles,
            prior=self.prior,
            noise_std=self.noise_std,
            noise_prior_weight=self.noise_prior_weight,
            max_bins=self.max_bins,
            svgd=SVGD(steps=self.svgd_steps, lr=self.lr, optimizer=self.optimizer),
            groups=np.repeat(np.arange(self.n_actions), self.n_tasks) if self.shared_draw else None,
            family=self.curve_family,
            generator=generator,
        )
        self._draw = self._new_draw()  # (S, T): the particle index read for each (A, i)
        self._redraw_at = self.redraw_every
        self._follow: int | None = None  # the strategy whose draw is held (the last one played)
        self._particles = self.model.particles.double().numpy()  # (C, N, 4), C = S·T, c = a·T + i
        self.picks = np.zeros(self.n_actions, dtype=np.int64)
        self.performed = np.zeros(self.n_tasks)  # trials in which each task was performed
        self.trial = 0
        self._last_fit = 0
        self.n_fits = 0

    def future_values(self, trial: int) -> np.ndarray:
        """One Thompson draw of ``R^{(A)}_{≥trial}`` for every strategy: ``(n_strategies,)``.

        The sum over the remaining ``L`` trials is exact for ``L <= max_points``; beyond, the trials are
        cut into ``max_points`` equal blocks, each curve is read at its block's middle and weighted by
        the block's total μ (the curves vary little over a block of ``L / max_points`` trials).
        """
        theta = self._thompson_draw(trial)  # (S, T, 4)
        offsets, weights = self._schedule(trial)
        counts = self.picks[:, None] + offsets  # (S, P): n_A(t0) + t − t0
        rewards = curve_values(theta, (counts / self.horizon)[:, None, :], self.curve_family)  # (S, T, P)
        return self._sum_values(rewards, weights)

    def _thompson_draw(self, trial: int) -> np.ndarray:
        """The particles read at ``trial``, ``(S, T, 4)``; redraws the indices when due (from ``rng``)."""
        if trial >= self._redraw_at:
            self._redraw_at = trial + self.redraw_every
            fresh = self._new_draw()
            if self.commit and self._follow is not None:
                fresh[self._follow] = self._draw[self._follow]  # keep testing the plan being followed
            self._draw = fresh
        s, n_tasks = self.n_actions, self.n_tasks
        return self._particles[np.arange(s * n_tasks), self._draw.reshape(-1)].reshape(s, n_tasks, 4)  # (S, T, 4)

    def _schedule(self, trial: int) -> tuple[np.ndarray, np.ndarray]:
        """Offsets ``(P,)`` from the current pick counts where the curves are read, and their μ weights ``(P,)``."""
        remaining = max(self.horizon - trial, 1)
        mu = self.discount ** np.arange(remaining)  # (L,): μ(t − t0)
        if remaining <= self.max_points:
            return np.arange(remaining, dtype=np.float64), mu
        edges = np.linspace(0, remaining, self.max_points + 1).round().astype(np.int64)  # (P + 1,)
        offsets = 0.5 * (edges[:-1] + edges[1:] - 1)  # (P,): block middles
        return offsets, np.add.reduceat(mu, edges[:-1])  # (P,): μ summed over each block

    def _sum_values(self, rewards: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``(S,)`` future values from curve values ``(S, T, P)`` and weights ``(P,)``."""
        presence = (self.performed + 1.0) / (self.trial + 1.0)  # (T,): π_i over observed trials, 1 before any
        values = np.einsum("stp,t,p->s", rewards, presence, weights)
        assert values.shape == (self.n_actions,)
        return values

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """The strategy with the highest sampled future reward (random tie-break)."""
        values = self.future_values(int(info.get(TRIAL, self.trial)))
        action = argmax_random_tie(values, self.rng)
        self._follow = action
        return action

    def _new_draw(self) -> np.ndarray:
        """Fresh particle indices ``(S, T)``: one per strategy shared by its tasks, or one per (A, i)."""
        size = (self.n_actions, 1) if self.shared_draw else (self.n_actions, self.n_tasks)
        return np.broadcast_to(self.rng.integers(self.n_particles, size=size), (self.n_actions, self.n_tasks)).copy()

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Add the trial's per-task rewards to the strategy's curves; refit every ``refit_every`` trials."""
        self._record(action, reward, info)
        if self.refit_due:
            self.refit()

    def _record(self, action: int, reward: float, info: dict[str, Any]) -> None:
        """Add the trial's per-task rewards to the strategy's curves (no refit)."""
        check_reward(reward)
        if TASK_REWARDS not in info:
            raise ValueError("MetaLearnerAgent needs info['task_rewards'] (per-task rewards, NaN = not performed)")
        task_rewards = task_values(info, TASK_REWARDS)  # NaN = not performed
        if task_rewards.shape != (self.n_tasks,):
            raise ValueError(f"info['task_rewards'] must have shape ({self.n_tasks},), got {task_rewards.shape}")
        if np.isinf(task_rewards).any():
            raise ValueError(f"info['task_rewards'] must be finite or NaN (task not performed), got {task_rewards}")
        n = min(int(self.picks[action]), self.horizon - 1)
        self.model.observe(action * self.n_tasks + np.arange(self.n_tasks), n, task_rewards)
        self.performed += ~np.isnan(task_rewards)
        self.picks[action] += 1
        self.trial += 1

    @property
    def refit_due(self) -> bool:
        """Whether the posterior is refit after the trial just observed (every ``refit_every`` trials)."""
        return self.trial - self._last_fit >= self.refit_every

    def refit(self) -> None:
        """Run SVGD on every curve's posterior from the current particles (one batched program).

        Under one torch thread, as the learners train: a multi-threaded reduction sums in another order, and
        the agent's choices must replay bit for bit whatever the caller's thread count.
        """
        with torch_threads(1):
            self.model.fit()
        self._fitted()

    def _fitted(self) -> None:
        """After a fit: read the new particles, restart the refit clock."""
        self._particles = self.model.particles.double().numpy()
        self._last_fit = self.trial
        self.n_fits += 1

    def settings(self) -> tuple:
        """The hyperparameters, as one comparable value (episodes batch together only when theirs are equal)."""
        return (
            self.n_particles, self.refit_every, self.svgd_steps, self.lr, self.optimizer, self.discount,
            self.noise_std, self.noise_prior_weight, self.max_bins, self.max_points, self.prior, self.shared_draw,
            self.redraw_every, self.commit, self.curve_family,
        )

    @classmethod
    def batched(cls, agents: list[MetaLearnerAgent]) -> MetaLearnerBatch | None:
        """K episodes in one :class:`MetaLearnerBatch` (None unless every agent has the same hyperparameters)."""
        return MetaLearnerBatch(agents) if len({agent.settings() for agent in agents}) == 1 else None


class MetaLearnerBatch(EpisodeBatch):
    """K meta-learner episodes in lockstep: the same actions as K :class:`MetaLearnerAgent`, a fraction of the time.

    The K agents keep their own state and random streams (Thompson draws, ties, the fits' rejuvenation); the
    batch evaluates the K future-reward sums as one array program and runs the K episodes' SVGD refits as one
    stacked tensor program (:meth:`tradeoff_gym.agents.curve_model.CurveModel.fit_together`). Agent cost before
    and after: docs/findings/speed.md#agents.
    """

    agents: list[MetaLearnerAgent]

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """Each active episode's Thompson-sampling action (see :meth:`MetaLearnerAgent.act`)."""
        actions = np.zeros(len(self.agents), dtype=np.int64)
        live = np.flatnonzero(active)
        trials = {int(infos[k].get(TRIAL, self.agents[k].trial)) for k in live}
        if len(trials) != 1 or len({(self.agents[k].picks.shape, self.agents[k].horizon) for k in live}) != 1:
            return super().act_batch(obs, infos, active)  # episodes at different trials or horizons: one by one
        trial = trials.pop()
        agents = [self.agents[k] for k in live]
        theta = np.stack([agent._thompson_draw(trial) for agent in agents])  # (K', S, T, 4)
        offsets, weights = agents[0]._schedule(trial)  # (P,) each, the same for every episode
        counts = np.stack([agent.picks for agent in agents])[:, :, None] + offsets  # (K', S, P)
        rewards = curve_values(theta, (counts / agents[0].horizon)[:, :, None, :], agents[0].curve_family)
        for i, (k, agent) in enumerate(zip(live, agents)):  # (S, T, P) each
            action = argmax_random_tie(agent._sum_values(rewards[i], weights), agent.rng)
            agent._follow = action
            actions[k] = action
        return actions

    def observe_batch(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        obs: np.ndarray,
        infos: Sequence[dict[str, Any]],
        active: np.ndarray,
    ) -> None:
        """Each active episode records its trial; the episodes due for a refit are refit together."""
        due = []
        for k in np.flatnonzero(active):
            agent = self.agents[k]
            agent._record(int(actions[k]), float(rewards[k]), infos[k])
            if agent.refit_due:
                due.append(agent)
        if due:
            with torch_threads(1):
                CurveModel.fit_together([agent.model for agent in due])
            for agent in due:
                agent._fitted()
