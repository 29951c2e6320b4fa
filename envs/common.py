"""Pieces every tradeoff-gym environment shares: strategies, the hidden cost, the observation summary.

All environments speak the same language to agents:

* the action is an index into a table of :class:`Strategy` (``serial`` pays the serialization cost);
* the reward is a mean (or sum) of per-task rewards, serial ones discounted by a cost the agent never sees;
* the observation is the fixed-size :class:`SummaryObservation`;
* ``info`` carries the keys of :func:`step_info` (and :func:`reset_info` after ``reset``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

# The interface agents see (strategies, reward rule, info keys) and the validators, re-exported for envs.
from tradeoff_gym.envs.interface import (  # noqa: F401
    COST_MODES,
    HORIZON,
    METRICS,
    N_TASKS,
    PARALLEL,
    PICK_COUNTS,
    RAW_ACCURACY,
    REWARD_AGGREGATES,
    SERIAL,
    SERIAL_FLAGS,
    SERIAL_PARALLEL,
    STRATEGIES,
    STRATEGY,
    TASK_ACCURACY,
    TASK_PERFORMED,
    TASK_REWARDS,
    TRIAL,
    CostMode,
    CostSpec,
    RewardRule,
    Strategy,
    check_cost,
    check_strategies,
)
from tradeoff_gym.learners.checks import check_bool, check_choice, check_int, check_number, check_positive_int  # noqa: F401

ConfigT = TypeVar("ConfigT")


def given_config(config: Any, kind: type[ConfigT], preset: str, default_preset: str, settings: dict) -> ConfigT:
    """Validate a ready-made ``config=`` argument: a ``kind`` instance, with no preset or settings beside it."""
    if not isinstance(config, kind):
        raise ValueError(f"config must be a {kind.__name__} (or pass settings by name instead), got {config!r}")
    if settings:
        raise ValueError(
            f"pass either config or individual settings, not both; got config and {sorted(settings)} (an id registered "
            "with settings, such as tradeoff/SerialParallelNoisy-v0, passes them itself: give a config to its plain id)"
        )
    if preset != default_preset:
        raise ValueError(f"pass either config or preset, not both; got config and preset={preset!r}")
    return config


class HorizonSpec:
    """Mixin: ``env.spec.max_episode_steps`` is the env's own episode length, ``config.horizon``.

    ``gym.make`` sets ``env.unwrapped.spec`` to a spec without ``max_episode_steps`` (the ids register none, so
    ``gym.make`` never adds a ``TimeLimit`` that would cut a longer horizon short); this setter keeps it with
    ``max_episode_steps`` = the horizon the env was built with, so wrappers that read the spec (e.g.
    ``gymnasium.wrappers.TimeAwareObservation``) see the true length. The env truncates there itself.
    """

    _spec: EnvSpec | None = None

    @property
    def spec(self) -> EnvSpec | None:
        """The spec ``gym.make`` gave this env, with ``max_episode_steps = config.horizon``."""
        return self._spec

    @spec.setter
    def spec(self, spec: EnvSpec | None) -> None:
        horizon = self.config.horizon  # type: ignore[attr-defined]
        self._spec = None if spec is None else dataclasses.replace(spec, max_episode_steps=horizon)


def draw_cost(cost: CostSpec, rng: np.random.Generator) -> float:
    """The episode's cost: the fixed value, or a uniform draw from the (low, high) range."""
    if isinstance(cost, tuple):
        return float(rng.uniform(cost[0], cost[1]))
    return float(cost)


class SummaryObservation:
    """The fixed-size observation every environment returns, adequate for a memoryless policy.

    Layout (float32, length ``1 + 2 * n_strategies``), every entry in [-1, 1]:

    * ``[0]`` fraction of the episode elapsed, ``trial / horizon``;
    * ``[1 : 1 + S]`` each strategy's pick fraction so far, ``picks[a] / max(trial, 1)``;
    * ``[1 + S : 1 + 2S]`` each strategy's recent reward: an exponential moving average (rate
      ``ema_rate``) of the rewards earned when it was picked, 0 before its first pick; clipped to [-1, 1].
    """

    def __init__(self, n_strategies: int, horizon: int, ema_rate: float = 0.1) -> None:
        self.n_strategies = n_strategies
        self.horizon = horizon
        self.ema_rate = ema_rate
        self.space = gym.spaces.Box(-1.0, 1.0, shape=(1 + 2 * n_strategies,), dtype=np.float32)
        self.reset()

    def reset(self) -> np.ndarray:
        """Start an episode; returns the first observation."""
        self.trial = 0
        self.picks = np.zeros(self.n_strategies, dtype=np.int64)
        self.recent_reward = np.zeros(self.n_strategies, dtype=np.float64)
        return self.observation()

    def update(self, action: int, reward: float) -> np.ndarray:
        """Record one trial's action and reward; returns the next observation."""
        self.trial += 1
        self.picks[action] += 1
        rate = 1.0 if self.picks[action] == 1 else self.ema_rate
        self.recent_reward[action] += rate * (reward - self.recent_reward[action])
        return self.observation()

    def observation(self) -> np.ndarray:
        """The current summary vector (a fresh array)."""
        obs = np.empty(1 + 2 * self.n_strategies, dtype=np.float32)
        obs[0] = min(self.trial / self.horizon, 1.0)
        obs[1 : 1 + self.n_strategies] = self.picks / max(self.trial, 1)
        obs[1 + self.n_strategies :] = np.clip(self.recent_reward, -1.0, 1.0)
        return obs


def reset_info(strategies: Sequence[Strategy], horizon: int, n_tasks: int) -> dict:
    """``info`` returned by ``reset``: what an agent needs to plan (never the cost).

    Keys: ``strategies`` (names, index = action), ``serial`` (bool per strategy), ``horizon`` (τ, trials),
    ``n_tasks``, ``trial`` (0), ``pick_counts`` (zeros, int per strategy).
    """
    return {
        STRATEGIES: tuple(s.name for s in strategies),
        SERIAL_FLAGS: tuple(s.serial for s in strategies),
        HORIZON: horizon,
        N_TASKS: n_tasks,
        TRIAL: 0,
        PICK_COUNTS: np.zeros(len(strategies), dtype=np.int64),
    }


def step_info(
    strategy: Strategy,
    task_rewards: np.ndarray,
    task_accuracy: np.ndarray,
    trial: int,
    pick_counts: np.ndarray,
    *,
    raw_accuracy: float | None = None,
    **extra: object,
) -> dict:
    """``info`` returned by ``step``; the run loop logs these keys.

    Arguments ``task_rewards`` and ``task_accuracy`` ``(n_tasks,)`` use NaN for tasks not performed. In the
    info they become NaN-free (Gymnasium's checkers compare infos exactly): ``task_performed`` (n_tasks,) bool,
    ``task_rewards`` the per-task rewards after the cost discount and ``task_accuracy`` the undiscounted
    accuracies, both 0 where not performed (read them with :func:`tradeoff_gym.envs.interface.task_values` to get the
    NaN
    back). ``task_accuracy`` is for baselines that know the cost by definition and exact re-discounting;
    cost-blind agents must learn from rewards only. ``raw_accuracy`` the mean accuracy over the performed
    tasks (may be passed when the env already has it); ``strategy`` the name played; ``trial`` trials
    completed (1-based after the first step); ``pick_counts`` per strategy, after this trial.
    ``extra`` scalar metrics an environment adds; the run loop logs them as columns too (``metrics``).
    """
    performed = ~np.isnan(task_accuracy)
    info = {
        STRATEGY: strategy.name,
        TASK_REWARDS: np.where(performed, task_rewards, 0.0),
        TASK_ACCURACY: np.where(performed, task_accuracy, 0.0),
        TASK_PERFORMED: performed,
        RAW_ACCURACY: float(
            raw_accuracy if raw_accuracy is not None else task_accuracy[performed].mean()
        ),
        TRIAL: trial,
        PICK_COUNTS: pick_counts.copy(),
    }
    if extra:
        info[METRICS] = extra
    return info


def check_action(action: object, n_actions: int) -> int:
    """Validate an action; returns it as an int, or raises a ValueError listing the allowed ones."""
    try:
        index = int(np.asarray(action).item())
        valid = index == np.asarray(action).item()
    except (TypeError, ValueError):
        valid = False
    if not valid or not 0 <= index < n_actions:
        raise ValueError(f"action must be an integer in [0, {n_actions - 1}], got {action!r}")
    return index
