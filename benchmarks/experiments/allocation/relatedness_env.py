"""The Gumbel-Matrix paper's synthetic relatedness check as a Gymnasium env, so its runs go through the one
run loop: ``tradeoff-bench/Relatedness-v0``, registered when this module is imported (use :data:`ENV_ID`, whose module
prefix makes a fresh worker import it).

It lives with the experiment that uses it, in a namespace of its own (``tradeoff-bench/``), because ``envs/``
registers only the project's main environments (the ``tradeoff/`` ids); the
learner is :class:`tradeoff_gym.learners.relatedness.RelatednessLearner`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry

from tradeoff_gym.envs.common import (
    HorizonSpec,
    Strategy,
    SummaryObservation,
    check_action,
    check_positive_int,
    reset_info,
    step_info,
)
from tradeoff_gym.envs.interface import RewardRule
from tradeoff_gym.learners.relatedness import RelatednessConfig, RelatednessLearner

NAME = "tradeoff-bench/Relatedness-v0"
#: The id to give ``gym.make`` (and RunSpecs): the module prefix imports this module, which registers the env.
ENV_ID = f"{__name__}:{NAME}"
#: The env's one strategy: train every task once on its own batch (no serialization cost: there is none here).
TRAIN = Strategy("train", serial=False)


@dataclass(frozen=True)
class RelatednessEnvConfig:
    """Settings: ``horizon`` training steps per episode; ``probe_every`` log the allocation every k steps (``None``:
    never); ``learner`` the task family, network and allocation (:class:`RelatednessConfig`, settable by name)."""

    horizon: int = 3000
    probe_every: int | None = None
    learner: RelatednessConfig = field(default_factory=RelatednessConfig)

    def __post_init__(self) -> None:
        check_positive_int(self.horizon, "horizon")
        if self.probe_every is not None:
            check_positive_int(self.probe_every, "probe_every")
        if not isinstance(self.learner, RelatednessConfig):
            raise ValueError(f"learner must be a RelatednessConfig (or set its fields by name), got {self.learner!r}")


def make_config(**settings: Any) -> RelatednessEnvConfig:
    """The config from settings by name: fields of :class:`RelatednessEnvConfig` or of :class:`RelatednessConfig`."""
    own = {f.name for f in dataclasses.fields(RelatednessEnvConfig)}
    inner = {f.name for f in dataclasses.fields(RelatednessConfig)}
    unknown = sorted(set(settings) - own - inner)
    if unknown:
        raise ValueError(f"unknown Relatedness setting(s) {unknown}; allowed: {sorted(own | inner)}")
    learner = settings.get("learner", RelatednessConfig())
    if not isinstance(learner, RelatednessConfig):
        raise ValueError(f"learner must be a RelatednessConfig (or set its fields by name), got {learner!r}")
    learner = dataclasses.replace(learner, **{k: v for k, v in settings.items() if k in inner})
    return RelatednessEnvConfig(**{**{k: v for k, v in settings.items() if k in own}, "learner": learner})


class RelatednessEnv(HorizonSpec, gym.Env):
    """Train a modular network on regression tasks of relatedness ρ, one step per ``step`` (the Gumbel-Matrix check).

    ## Action Space
    ``Discrete(1)``: the one strategy ``train`` (every task once, on a fresh batch of its own).

    ## Observation Space
    :class:`tradeoff_gym.envs.common.SummaryObservation` (``Box(-1, 1, (3,))``): fraction elapsed, pick fraction,
    recent reward.

    ## Rewards
    The mean over tasks of each task's R² (``1 − MSE / Var(y)``, clipped to [0, 1]) on its batch before the update;
    ``task_accuracy`` holds the per-task values. No cost.

    ## Episode End
    Truncated after ``horizon`` steps; never terminated.

    ## Info metrics
    Every step ``mse`` (mean over tasks) and ``mse_<t>``; every ``probe_every`` steps the maximum-likelihood
    allocation's ``overlap_related`` (mean over pairs of tasks in one group of the share of components both
    use), ``overlap_unrelated`` (pairs across groups, with more than one group), ``allocation_share`` (mean
    share of components a task uses) and ``use_probability`` (mean allocation probability).

    ## Arguments
    Any field of :class:`RelatednessEnvConfig` or :class:`tradeoff_gym.learners.relatedness.RelatednessConfig` by name,
    e.g.
    ``gym.make(ENV_ID, rho=0.0, pattern="learned", horizon=500)``; ``render_mode`` accepted and ignored.
    """

    metadata = {"render_modes": []}

    def __init__(self, *, render_mode: str | None = None, **settings: Any) -> None:
        self.render_mode = render_mode
        self.config = cfg = make_config(**settings)
        self.rule = RewardRule((TRAIN,), "divide", "mean")
        self.action_space = gym.spaces.Discrete(1)
        self._summary = SummaryObservation(1, cfg.horizon)
        self.observation_space = self._summary.space
        self.learner: RelatednessLearner | None = None

    @property
    def reward_rule(self) -> RewardRule:
        """The mean of the tasks' scores (one strategy, no cost)."""
        return self.rule

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.learner = RelatednessLearner(self.config.learner, int(self.np_random.integers(2**63 - 1)))
        self._picks = np.zeros(1, dtype=np.int64)
        return self._summary.reset(), reset_info((TRAIN,), self.config.horizon, self.config.learner.n_tasks)

    def step(self, action):
        if self.learner is None:
            raise RuntimeError("call reset() before step()")
        if self._summary.trial >= self.config.horizon:
            raise RuntimeError(f"episode is over after horizon={self.config.horizon} steps; call reset()")
        a = check_action(action, 1)
        r2, mse = self.learner.step()
        task_rewards, reward = self.rule.apply(a, np.clip(r2, 0.0, 1.0), 0.0)
        self._picks[a] += 1
        obs = self._summary.update(a, reward)
        trial = self._summary.trial
        metrics: dict[str, float] = {"mse": float(mse.mean()), **{f"mse_{t}": float(v) for t, v in enumerate(mse)}}
        every = self.config.probe_every
        if every is not None and trial % every == 0:
            metrics.update(self.allocation_metrics())
        info = step_info(TRAIN, task_rewards, np.clip(r2, 0.0, 1.0), trial, self._picks, **metrics)
        return obs, reward, False, trial >= self.config.horizon, info

    def allocation_metrics(self) -> dict[str, float]:
        """Sharing of the current allocation: overlaps of related and unrelated task pairs, use share, probability."""
        assert self.learner is not None
        overlaps = self.learner.overlaps().numpy()
        group = self.config.learner.group_of()
        upper = np.triu(np.ones_like(overlaps, dtype=bool), 1)
        same = upper & (group[:, None] == group[None, :])
        metrics = {
            "allocation_share": float(np.diag(overlaps).mean()),
            "use_probability": float(self.learner.probabilities().mean()),
        }
        if same.any():
            metrics["overlap_related"] = float(overlaps[same].mean())
        if (upper & ~same).any():
            metrics["overlap_unrelated"] = float(overlaps[upper & ~same].mean())
        return metrics


if NAME not in registry:
    register(id=NAME, entry_point=f"{__name__}:RelatednessEnv")
