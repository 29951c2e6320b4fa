"""A fast synthetic environment whose learning curves are known: ground truth for developing agents."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from scipy.special import expit

from tradeoff_gym.envs.common import (
    SERIAL_PARALLEL,
    CostMode,
    CostSpec,
    HorizonSpec,
    RewardRule,
    Strategy,
    SummaryObservation,
    check_action,
    check_choice,
    check_cost,
    check_number,
    check_positive_int,
    check_strategies,
    draw_cost,
    given_config,
    reset_info,
    step_info,
)
from tradeoff_gym.learners.memory import check_memory

#: A learning curve: accuracy in [0, 1] as a function of a strategy's own pick count (vectorized).
Curve = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LogisticCurve:
    """``sigmoid(rate · (n − midpoint))``: accuracy after ``n`` picks of the strategy (Sagiv et al. 2018).

    ``rate`` ≥ 0 per pick (a learning curve never falls), ``midpoint`` in picks (any finite number).
    """

    rate: float
    midpoint: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", check_number(self.rate, "rate", 0.0))
        object.__setattr__(self, "midpoint", check_number(self.midpoint, "midpoint", -np.inf))

    def __call__(self, n: np.ndarray) -> np.ndarray:
        return expit(self.rate * (np.asarray(n, dtype=np.float64) - self.midpoint))


@dataclass(frozen=True)
class LearningCurvesConfig:
    """Settings of :class:`LearningCurvesEnv`; validated at construction.

    ``curves[a]`` is strategy ``a``'s curve, one :data:`Curve` for all tasks or a sequence of ``n_tasks``
    curves (one per task). The curve of a strategy advances only when that strategy is picked.
    ``batch_size`` examples per task per trial give a binomial accuracy (``None``: the expected value).
    ``cost`` is fixed, or a ``(low, high)`` range drawn uniformly per episode; the agent never sees it.
    ``task_count_probs[k-1]`` is the probability that a trial has ``k`` tasks (the first ``k``);
    ``None`` means every task every trial. ``reward_aggregate`` combines per-task rewards (``mean`` in the
    paper's environment, ``sum`` in Sagiv et al.'s: V = 1 per correct task).
    """

    strategies: tuple[Strategy, ...] = SERIAL_PARALLEL
    curves: tuple[Curve | tuple[Curve, ...], ...] = (
        LogisticCurve(rate=0.02, midpoint=100.0),
        LogisticCurve(rate=0.02, midpoint=400.0),
    )
    n_tasks: int = 4
    horizon: int = 1000
    batch_size: int | None = 64
    cost: CostSpec = 0.5
    cost_mode: CostMode = "divide"
    task_count_probs: tuple[float, ...] | None = None
    reward_aggregate: Literal["mean", "sum"] = "mean"
    reward_rule: RewardRule = field(init=False, repr=False, compare=False)
    _table: np.ndarray = field(init=False, repr=False, compare=False)
    #: The world family and world index this config was built from (``make_config(family=, world=)``), else None.
    family: str | None = field(default=None, init=False, compare=False)
    world: int | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: normalise fields in place once
        set_(self, "strategies", check_strategies(self.strategies))
        set_(self, "n_tasks", check_positive_int(self.n_tasks, "n_tasks"))
        set_(self, "horizon", check_positive_int(self.horizon, "horizon"))
        if self.batch_size is not None:
            set_(self, "batch_size", check_positive_int(self.batch_size, "batch_size"))
        set_(self, "cost", check_cost(self.cost))
        set_(self, "reward_rule", RewardRule(self.strategies, self.cost_mode, self.reward_aggregate))
        if self.task_count_probs is not None:
            try:
                probs = np.asarray([check_number(p, "task_count_probs", 0.0, 1.0) for p in self.task_count_probs])
            except (TypeError, ValueError):
                probs = np.full(1, np.nan)  # refused just below
            if (
                probs.shape != (self.n_tasks,)
                or not np.all(np.isfinite(probs))
                or np.any(probs < 0)
                or not np.isclose(probs.sum(), 1.0)
            ):
                raise ValueError(
                    f"task_count_probs must be {self.n_tasks} non-negative probabilities summing to 1 "
                    f"(P(1 task) … P({self.n_tasks} tasks)), got {self.task_count_probs!r}"
                )
            set_(self, "task_count_probs", tuple(float(p) for p in probs))
        check_memory(
            self.footprint_bytes(),
            f"LearningCurves with horizon={self.horizon}, {len(self.strategies)} strategies and {self.n_tasks} tasks",
            "use a shorter horizon",
        )
        set_(self, "_table", self._tabulate_curves())

    def footprint_bytes(self) -> int:
        """Estimated peak bytes of the curve table and one episode's decks (drawn at reset), before allocating.

        6.5 float64 cells per (strategy, task, trial) — the table, the drawn accuracies, per-task rewards,
        rewards and accuracies by task count, and the temporaries that make them — plus 24 bytes per trial (the
        trials' task counts). Measured against the peak resident memory of make + reset at τ = 10⁶ (4 tasks,
        with and without ``batch_size`` or ``task_count_probs``; 1 task): within 10 % of it.
        """
        return int(6.5 * 8 * len(self.strategies) * self.n_tasks * self.horizon + 24 * self.horizon)

    def _tabulate_curves(self) -> np.ndarray:
        """Evaluate every curve once: ``(n_strategies, n_tasks, horizon)`` accuracies at counts 0…τ−1."""
        if len(self.curves) != len(self.strategies):
            raise ValueError(
                f"curves must give one curve (or {self.n_tasks} per-task curves) for each of the "
                f"{len(self.strategies)} strategies, got {len(self.curves)}"
            )
        counts = np.arange(self.horizon, dtype=np.float64)
        table = np.empty((len(self.strategies), self.n_tasks, self.horizon))
        for a, spec in enumerate(self.curves):
            per_task = tuple(spec) if isinstance(spec, (tuple, list)) else (spec,) * self.n_tasks
            if len(per_task) != self.n_tasks:
                raise ValueError(
                    f"curves[{a}] must be one curve or {self.n_tasks} per-task curves, got {len(per_task)}"
                )
            for i, curve in enumerate(per_task):
                if not callable(curve):
                    raise ValueError(f"curves[{a}] must be callable (pick count -> accuracy), got {curve!r}")
                try:
                    values = np.asarray(curve(counts), dtype=np.float64)
                except Exception as error:
                    raise ValueError(f"curves[{a}] failed on pick counts 0..{self.horizon - 1}: {error}") from error
                if values.shape != counts.shape or not np.all(np.isfinite(values)):
                    raise ValueError(
                        f"curves[{a}] must map an array of {self.horizon} pick counts to as many finite "
                        f"accuracies, got shape {values.shape}"
                    )
                if np.any(values < 0) or np.any(values > 1):
                    raise ValueError(
                        f"curves[{a}] must return accuracies in [0, 1], got {values.min():.3g}…{values.max():.3g}"
                    )
                table[a, i] = values
        return table

    @property
    def curve_table(self) -> np.ndarray:
        """``(n_strategies, n_tasks, horizon)``: accuracy of task ``i`` under strategy ``a`` after ``n`` picks."""
        return self._table

    def expected_trial_rewards(self, cost: float) -> np.ndarray:
        """``(n_strategies, horizon)``: expected reward of a trial played with ``a`` after ``n`` picks of it."""
        probs = (
            np.eye(self.n_tasks)[-1] if self.task_count_probs is None else np.asarray(self.task_count_probs)
        )
        expected = np.zeros((len(self.strategies), self.horizon))
        rule = self.reward_rule
        for a in range(len(self.strategies)):
            slot_rewards = self._table[a] * rule.task_payoffs(a, cost, self.n_tasks)[:, None]  # (n_tasks, horizon)
            cumulative = np.cumsum(slot_rewards, axis=0)  # row k-1: sum over the first k tasks
            for k in range(1, self.n_tasks + 1):
                if probs[k - 1] > 0:
                    expected[a] += probs[k - 1] * rule.aggregate_weights(k) * cumulative[k - 1]
        return expected

    def expected_fixed_returns(self, cost: float) -> np.ndarray:
        """``(n_strategies,)``: expected episode return of always playing each strategy."""
        return self.expected_trial_rewards(cost).sum(axis=1)


def default_config(**settings: Any) -> LearningCurvesConfig:
    """The default instance: serial learns fast (midpoint 100), parallel slowly (400), τ = 1000, c = 0.5."""
    return LearningCurvesConfig(**settings)


def sagiv2018_config(
    *,
    parallel_midpoint: float = 400.0,
    serial_midpoint: float = 200.0,
    rate: float = 0.01,
    prop_mt: float = 0.3,
    **settings: Any,
) -> LearningCurvesConfig:
    """Sagiv, Musslick, Niv & Cohen (2018)'s synthetic world (docs/science/baselines.md).

    Per trial ``k`` tasks with P(k = 1) = 1 − prop_mt and P(k) = prop_mt / 3 for k = 2…4; success
    probability ``sigmoid(rate · (t − m))`` in the strategy's own pick count; V = 1 per correct task
    (Bernoulli, ``batch_size=1``, summed); serial i-th task (0-based) pays ``1 − i·P`` with P = ``cost``
    (additive); τ = 1000 trials. Their sweeps use P ∈ [0.05, 0.30] and parallel midpoints 200…600.
    """
    check_number(prop_mt, "prop_mt", 0, 1)
    base = {
        "curves": (LogisticCurve(rate, serial_midpoint), LogisticCurve(rate, parallel_midpoint)),
        "n_tasks": 4,
        "horizon": 1000,
        "batch_size": 1,
        "cost": 0.1,
        "cost_mode": "additive",
        "task_count_probs": (1.0 - prop_mt, prop_mt / 3, prop_mt / 3, prop_mt / 3),
        "reward_aggregate": "sum",
    }
    return LearningCurvesConfig(**{**base, **settings})


PRESETS: dict[str, Callable[..., LearningCurvesConfig]] = {
    "default": default_config,
    "sagiv2018": sagiv2018_config,
}


def make_config(
    preset: str = "default",
    *,
    config: LearningCurvesConfig | None = None,
    family: str | None = None,
    world: int | None = None,
    **settings: Any,
) -> LearningCurvesConfig:
    """The config of ``tradeoff/LearningCurves-v0``: a named preset plus overrides, or a ready ``config``.

    The env's constructor and :func:`tradeoff_gym.envs.check_settings` both build through here. Unknown presets or
    fields,
    a ``config`` of another type, or ``config`` together with settings raise a ValueError naming the field.
    ``family`` and ``world`` (together, instead of a preset or a config) build world ``world`` of a world family
    (:mod:`tradeoff_gym.envs.families`): its curves, horizon and cost (and strategies, if it draws them); other
    settings (``batch_size``, ``n_tasks``, …) may be given beside them, those the world sets may not — the
    LearningCurves families define the cost per world, so ``cost`` is refused. The config records them.
    """
    if family is not None or world is not None:
        from tradeoff_gym.envs.families import LC_ID, resolve  # families imports this module

        if config is not None or preset != "default":
            which = "config" if config is not None else f"preset={preset!r}"
            raise ValueError(f"give either family/world or {which}, not both")
        cfg = make_config(**resolve(LC_ID, family, world, settings))
        object.__setattr__(cfg, "family", family)  # frozen: recorded once, here
        object.__setattr__(cfg, "world", int(world))  # type: ignore[arg-type]
        return cfg
    if config is not None:
        return given_config(config, LearningCurvesConfig, preset, "default", settings)
    check_choice(preset, tuple(PRESETS), "preset")
    allowed = {f.name for f in dataclasses.fields(LearningCurvesConfig) if f.init}
    if preset == "sagiv2018":
        allowed |= {"parallel_midpoint", "serial_midpoint", "rate", "prop_mt"}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise ValueError(f"unknown LearningCurves setting(s) {unknown}; allowed: {sorted(allowed)}")
    return PRESETS[preset](**settings)


class LearningCurvesEnv(HorizonSpec, gym.Env):
    """Strategies as arms whose accuracy follows a known learning curve in their own pick count.

    ## Action Space
    ``Discrete(n_strategies)``: the strategy for this trial (default 0 = serial, 1 = parallel).

    ## Observation Space
    ``Box(-1, 1, (1 + 2·n_strategies,), float32)``: :class:`tradeoff_gym.envs.common.SummaryObservation` — fraction of
    the episode elapsed, each strategy's pick fraction, each strategy's recent (EMA) reward.

    ## Rewards
    Task ``i`` played with strategy ``a`` after ``n`` earlier picks of ``a`` has accuracy
    ``f_{a,i}(n)``, observed as ``Binomial(B, f) / B`` (``B = batch_size``; exact if ``None``). Serial
    strategies' per-task rewards are discounted by the hidden cost (``divide``: ÷ (1 + c); ``additive``:
    i-th task × (1 − i·c)). The reward is the mean (or sum) over the trial's tasks.

    ## Episode End
    Truncated after ``horizon`` trials (τ; ``env.spec.max_episode_steps``); never terminated. A step after the
    end, or before the first ``reset``, raises a RuntimeError.

    ## Arguments
    ``preset`` (``"default"`` or ``"sagiv2018"``), ``config`` (a :class:`LearningCurvesConfig`, instead of
    a preset), or any config field / preset parameter as a keyword (see :func:`make_config`), e.g.
    ``gym.make("tradeoff/LearningCurves-v0", preset="sagiv2018", parallel_midpoint=600, cost=0.2)``.
    ``family`` and ``world``: world ``world`` of a world family (``gym.make(id, family="lc-balanced", world=3)``;
    :mod:`tradeoff_gym.envs.families`, docs/environments/families.md); reset info then adds ``family`` and ``world``.

    ``info`` (see :func:`tradeoff_gym.envs.common.step_info`): ``task_rewards``, ``task_accuracy``, ``raw_accuracy``,
    ``strategy``,
    ``trial``, ``pick_counts``.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.5, horizon=3, batch_size=None)
        >>> obs, info = env.reset(seed=0)
        >>> info["strategies"], info["serial"], info["horizon"], info["n_tasks"]
        (('serial', 'parallel'), (True, False), 3, 4)
        >>> env.observation_space.shape, env.action_space
        ((5,), Discrete(2))
        >>> obs, reward, terminated, truncated, info = env.step(0)  # serial: sigmoid(0.02 · (0 − 100)) / (1 + 0.5)
        >>> round(reward, 4), info["strategy"], info["pick_counts"].tolist()
        (0.0795, 'serial', [1, 0])
        >>> for _ in range(2):
        ...     obs, reward, terminated, truncated, info = env.step(1)
        >>> terminated, truncated, info["trial"]
        (False, True, 3)
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        config: LearningCurvesConfig | None = None,
        *,
        preset: str = "default",
        render_mode: str | None = None,
        **settings: Any,
    ):
        # Nothing to draw; the mode is kept because wrappers (SB3's make_vec_env) always pass one, and
        # gym.make already warns that it is not among metadata["render_modes"].
        self.render_mode = render_mode
        self.config = cfg = make_config(preset, config=config, **settings)
        self.action_space = gym.spaces.Discrete(len(cfg.strategies))
        self._summary = SummaryObservation(len(cfg.strategies), cfg.horizon)
        self.observation_space = self._summary.space
        self._n_actions = len(cfg.strategies)
        self._task_counts = None if cfg.task_count_probs is None else np.arange(1, cfg.n_tasks + 1)
        self.cost = draw_cost(cfg.cost, np.random.default_rng(0))  # replaced at every reset
        self._picks: np.ndarray | None = None  # set by reset; step refuses to run before it

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        cfg = self.config
        rng = self.np_random
        self.cost = draw_cost(cfg.cost, rng)
        # The n-th pick of a strategy has the same outcome distribution whenever it happens, so every
        # pick's accuracies are drawn here in one vectorized call (a deck of outcomes per strategy), and
        # every trial's task count too. step() is then pure indexing.
        table = cfg.curve_table  # (S, n_tasks, τ)
        if cfg.batch_size is None:
            accuracy = table.transpose(0, 2, 1).copy()
        else:
            accuracy = rng.binomial(cfg.batch_size, table.transpose(0, 2, 1)) / cfg.batch_size
        self._accuracy = accuracy  # (S, τ, n_tasks): accuracy of each task at each pick count
        rule = cfg.reward_rule
        payoffs = np.stack([rule.task_payoffs(a, self.cost, cfg.n_tasks) for a in range(len(cfg.strategies))])
        self._task_rewards = accuracy * payoffs[:, None, :]  # (S, τ, n_tasks); payoffs (S, n_tasks)
        slots = np.arange(1, cfg.n_tasks + 1)  # a trial with k tasks performs the first k
        # The rule's reward of a k-task trial, for every k at once: offset + aggregate of the first k tasks.
        self._reward_by_count = rule.offset + np.cumsum(self._task_rewards, axis=2) * rule.aggregate_weights(slots)
        self._accuracy_by_count = np.cumsum(accuracy, axis=2) / slots  # (S, τ, k-1)
        if self._task_counts is None:
            self._trial_task_count = [cfg.n_tasks] * cfg.horizon
        else:
            self._trial_task_count = rng.choice(self._task_counts, size=cfg.horizon, p=cfg.task_count_probs).tolist()
        self._picks = np.zeros(len(cfg.strategies), dtype=np.int64)
        obs = self._summary.reset()
        info = reset_info(cfg.strategies, cfg.horizon, cfg.n_tasks)
        if cfg.family is not None:  # a world of a family (tradeoff_gym.envs.families)
            info["family"], info["world"] = cfg.family, cfg.world
        return obs, info

    def step(self, action):
        a = action if type(action) is int and 0 <= action < self._n_actions else check_action(action, self._n_actions)
        cfg = self.config
        trial = self._summary.trial
        if trial >= cfg.horizon or self._picks is None:
            if self._picks is None:
                raise RuntimeError("call reset() before step()")
            raise RuntimeError(f"episode is over after horizon={cfg.horizon} trials; call reset()")
        n = self._picks[a]
        k = self._trial_task_count[trial]
        task_accuracy = self._accuracy[a, n].copy()  # (n_tasks,)
        task_rewards = self._task_rewards[a, n].copy()
        if k < cfg.n_tasks:
            task_accuracy[k:] = np.nan
            task_rewards[k:] = np.nan
        reward = float(self._reward_by_count[a, n, k - 1])
        self._picks[a] += 1
        obs = self._summary.update(a, reward)
        info = step_info(
            cfg.strategies[a], task_rewards, task_accuracy, trial + 1, self._picks,
            raw_accuracy=float(self._accuracy_by_count[a, n, k - 1]),
        )
        return obs, reward, False, trial + 1 >= cfg.horizon, info

    @property
    def reward_rule(self) -> RewardRule:
        """The :class:`~tradeoff_gym.envs.interface.RewardRule` (accuracies → rewards): the cost is not part of it."""
        return self.config.reward_rule

    def expected_fixed_returns(self) -> np.ndarray:
        """Expected return of each fixed strategy under this episode's (hidden) cost. For oracles only."""
        return self.config.expected_fixed_returns(self.cost)
