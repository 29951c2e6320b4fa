"""Pieces every tradeoff-gym environment shares: strategies, the hidden cost, the observation summary.

All environments speak the same language to agents:

* the action is an index into a table of :class:`Strategy` (``serial`` pays the serialization cost);
* the reward is a mean (or sum) of per-task rewards, serial ones discounted by a cost the agent never sees;
* the observation is the fixed-size :class:`SummaryObservation`;
* ``info`` carries the keys of :func:`step_info` (and :func:`reset_info` after ``reset``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import gymnasium as gym
import numpy as np

# The validators live with the Gymnasium-free learners; re-exported here for envs and agents.
from learners.checks import check_choice, check_int, check_number, check_positive_int  # noqa: F401

CostMode = Literal["divide", "additive"]
COST_MODES: tuple[str, ...] = ("divide", "additive")
CostSpec = float | tuple[float, float]


@dataclass(frozen=True)
class Strategy:
    """One way to train/execute a trial; an action of the environment.

    ``serial`` strategies execute tasks one after the other and pay the serialization cost.
    """

    name: str
    serial: bool


SERIAL = Strategy("serial", serial=True)
PARALLEL = Strategy("parallel", serial=False)
SERIAL_PARALLEL: tuple[Strategy, ...] = (SERIAL, PARALLEL)


def check_strategies(strategies: Sequence[Strategy], field: str = "strategies") -> tuple[Strategy, ...]:
    """Validate a strategy table: at least one, unique names. Returns it as a tuple."""
    strategies = tuple(strategies)
    if not strategies or not all(isinstance(s, Strategy) for s in strategies):
        raise ValueError(f"{field} must be a non-empty sequence of Strategy, got {strategies!r}")
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ValueError(f"{field} must have unique names, got {names}")
    return strategies


def check_cost(cost: CostSpec, field: str = "cost") -> CostSpec:
    """Validate a serialization cost: a number in [0, 1], or a range (low, high) inside [0, 1]."""
    if isinstance(cost, (tuple, list)):
        if len(cost) != 2:
            raise ValueError(f"{field} range must be (low, high), got {cost!r}")
        low, high = (float(c) for c in cost)
        for value in (low, high):
            if not (np.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{field} range bounds must lie in [0, 1], got {cost!r}")
        if low > high:
            raise ValueError(f"{field} range must have low <= high, got {cost!r}")
        return (low, high)
    try:
        value = float(cost)
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a number in [0, 1] or a (low, high) range, got {cost!r}") from None
    if not (np.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{field} must lie in [0, 1], got {cost!r}")
    return value


def draw_cost(cost: CostSpec, rng: np.random.Generator) -> float:
    """The episode's cost: the fixed value, or a uniform draw from the (low, high) range."""
    if isinstance(cost, tuple):
        return float(rng.uniform(cost[0], cost[1]))
    return float(cost)


def serial_discount(
    task_rewards: np.ndarray, cost: float, mode: CostMode = "divide"
) -> np.ndarray:
    """Discount the per-task rewards of a SERIAL trial by the serialization cost.

    ``divide`` (SPEC §3): every task's reward is divided by ``1 + cost`` (c = 1 halves it).
    ``additive`` (Sagiv et al. 2018, SPEC §5): the i-th task executed (0-based, in order) pays
    ``1 - i * cost`` per unit of accuracy, so the first task is free and each later one waits longer.
    Shape: ``(..., n_tasks)`` in, same out; NaN entries (tasks not performed) stay NaN and take no slot.
    """
    if mode == "divide":
        return task_rewards / (1.0 + cost)
    performed = ~np.isnan(task_rewards)
    position = np.cumsum(performed, axis=-1) - 1  # 0-based order among the performed tasks
    return np.where(performed, task_rewards * (1.0 - position * cost), np.nan)


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


def reward_settings(env: gym.Env) -> tuple[tuple[str, ...], CostMode, str]:
    """How ``env`` turns accuracies into rewards: (serial strategy names, cost mode, aggregate).

    Read from ``env.unwrapped.config`` (``strategies``, ``cost_mode``, ``reward_aggregate``); an env
    without those fields is taken to use the paper's protocol: serial ÷ (1 + c), mean over tasks.
    """
    config = getattr(env.unwrapped, "config", None)
    strategies = getattr(config, "strategies", SERIAL_PARALLEL)
    serial = tuple(s.name for s in strategies if s.serial)
    return serial, getattr(config, "cost_mode", "divide"), getattr(config, "reward_aggregate", "mean")


def reset_info(strategies: Sequence[Strategy], horizon: int, n_tasks: int) -> dict:
    """``info`` returned by ``reset``: what an agent needs to plan (never the cost).

    Keys: ``strategies`` (names, index = action), ``serial`` (bool per strategy), ``horizon`` (τ, trials),
    ``n_tasks``, ``trial`` (0), ``pick_counts`` (zeros, int per strategy).
    """
    return {
        "strategies": tuple(s.name for s in strategies),
        "serial": tuple(s.serial for s in strategies),
        "horizon": horizon,
        "n_tasks": n_tasks,
        "trial": 0,
        "pick_counts": np.zeros(len(strategies), dtype=np.int64),
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

    ``task_rewards`` (n_tasks,) the per-task rewards after the cost discount, NaN for tasks not performed;
    ``task_accuracy`` (n_tasks,) the undiscounted accuracies, NaN for tasks not performed (baselines that
    know the cost by definition, and exact re-discounting, use it; cost-blind agents must learn from
    rewards only); ``raw_accuracy`` their mean over the performed tasks; ``strategy`` the name played;
    ``trial`` trials completed (1-based after the first step); ``pick_counts`` per strategy, after this trial.
    ``raw_accuracy`` may be passed when the env already has it (saves a NaN-aware mean).
    ``extra`` scalar metrics an environment adds; the run loop logs them as columns too (``metrics``).
    """
    info = {
        "strategy": strategy.name,
        "task_rewards": task_rewards,
        "task_accuracy": task_accuracy,
        "raw_accuracy": float(
            raw_accuracy if raw_accuracy is not None else task_accuracy[~np.isnan(task_accuracy)].mean()
        ),
        "trial": trial,
        "pick_counts": pick_counts.copy(),
    }
    if extra:
        info["metrics"] = extra
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
