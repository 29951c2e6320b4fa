"""The environment interface agents program against: the strategy table, the reward rule, the info keys.

Gymnasium-free and small on purpose: agents (and the runner's exact cost reuse) import this module, never
an environment class or its attributes.

* An action is an index into a table of :class:`Strategy`; ``reset`` info gives its names and ``serial`` flags.
* A trial's reward is computed from its per-task accuracies by the env's :class:`RewardRule`
  (``env.unwrapped.reward_rule``): serial strategies' tasks are discounted by the hidden cost, then the
  performed tasks are aggregated (mean, or sum).
* ``info`` keys are named by the constants below (see :func:`tradeoff_gym.envs.common.step_info` for their meaning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tradeoff_gym.learners.checks import check_bool, check_choice, check_number

CostMode = Literal["divide", "additive"]
COST_MODES: tuple[str, ...] = ("divide", "additive")
Aggregate = Literal["mean", "sum"]
REWARD_AGGREGATES: tuple[str, ...] = ("mean", "sum")
CostSpec = float | tuple[float, float]

# Keys of ``reset`` info (what an agent may plan with; never the cost).
STRATEGIES, SERIAL_FLAGS, HORIZON, N_TASKS, TRIAL, PICK_COUNTS = (
    "strategies", "serial", "horizon", "n_tasks", "trial", "pick_counts",
)
# Keys of ``step`` info, besides TRIAL and PICK_COUNTS.
TASK_REWARDS, TASK_ACCURACY, TASK_PERFORMED, RAW_ACCURACY, STRATEGY, METRICS = (
    "task_rewards", "task_accuracy", "task_performed", "raw_accuracy", "strategy", "metrics",
)


def task_values(info: dict, key: str) -> np.ndarray:
    """``info[key]`` ``(n_tasks,)`` as floats with NaN for the tasks not performed (``info["task_performed"]``).

    Info itself holds no NaN (Gymnasium's checkers compare infos exactly, and NaN != NaN): a task not
    performed is 0 there and False in ``task_performed``. An env without that key is read as it is.
    """
    values = np.asarray(info[key], dtype=np.float64)
    performed = info.get(TASK_PERFORMED)
    return values if performed is None else np.where(performed, values, np.nan)


@dataclass(frozen=True)
class Strategy:
    """One way to train/execute a trial; an action of the environment.

    ``serial`` strategies execute tasks one after the other and pay the serialization cost. ``delay`` is the
    share of the cost a strategy pays, in [0, 1]: 1 for the paper's serial strategy (÷ (1 + c)), 0 for a
    strategy that runs in the fewest passes (no cost); strategies in between (schedules that need some extra
    passes) pay ÷ (1 + delay·c). Default: 1 if ``serial`` else 0; ``serial`` must equal ``delay > 0``.
    """

    name: str
    serial: bool
    delay: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"strategy name must be a non-empty string, got {self.name!r}")
        check_bool(self.serial, "serial")
        delay = (1.0 if self.serial else 0.0) if self.delay is None else check_number(self.delay, "delay", 0.0, 1.0)
        if (delay > 0) != self.serial:
            wanted = "> 0" if self.serial else "0"
            raise ValueError(f"strategy {self.name!r}: serial={self.serial} needs delay {wanted}, got delay={delay}")
        object.__setattr__(self, "delay", float(delay))


SERIAL = Strategy("serial", serial=True)
PARALLEL = Strategy("parallel", serial=False)
SERIAL_PARALLEL: tuple[Strategy, ...] = (SERIAL, PARALLEL)


def check_strategies(strategies: Sequence[Strategy], field: str = "strategies") -> tuple[Strategy, ...]:
    """Validate a strategy table: at least one, unique names. Returns it as a tuple."""
    if isinstance(strategies, (str, bytes)) or not isinstance(strategies, Sequence):
        raise ValueError(f"{field} must be a non-empty sequence of Strategy, got {strategies!r}")
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
            raise ValueError(f"{field} range must be (low, high) inside [0, 1], got {cost!r}")
        low, high = (check_number(c, f"{field} range bounds", 0.0, 1.0) for c in cost)
        if low > high:
            raise ValueError(f"{field} range must have low <= high, got {cost!r}")
        return (low, high)
    if not isinstance(cost, (int, float, np.integer, np.floating)) or isinstance(cost, bool):
        raise ValueError(f"{field} must be a number in [0, 1] or a (low, high) range, got {cost!r}")
    return check_number(cost, field, 0.0, 1.0)


@dataclass(frozen=True)
class RewardRule:
    """How a trial's per-task accuracies become its reward — the one place this is written (docs/science/reward.md).

    Per task performed, reward = accuracy × payoff, where a strategy with cost share ``d`` (its
    :attr:`Strategy.delay`; serial 1, parallel 0) pays

    * ``divide`` (the paper): ``1 / (1 + d·c)`` for every task (c = 1 halves a serial trial);
    * ``additive`` (Sagiv et al. 2018): ``1 − i·d·c`` for the ``i``-th task performed (0-based,
      in task order), so the first task is free and each later one waits longer.

    The trial's reward is ``offset`` + the ``mean`` (the paper) or ``sum`` (Sagiv: V = 1 per correct task)
    of the performed tasks' rewards. NaN marks a task not performed: it stays NaN and takes no slot.
    Any number of strategies; the cost itself is the env's (hidden) and is passed in.
    """

    strategies: tuple[Strategy, ...] = SERIAL_PARALLEL
    cost_mode: CostMode = "divide"
    aggregate: Aggregate = "mean"
    offset: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", check_strategies(self.strategies))
        check_choice(self.cost_mode, COST_MODES, "cost_mode")
        check_choice(self.aggregate, REWARD_AGGREGATES, "reward_aggregate")
        object.__setattr__(self, "offset", check_number(self.offset, "offset", -np.inf))

    @property
    def delays(self) -> np.ndarray:
        """``(n_strategies,)`` each strategy's share of the cost."""
        return np.array([s.delay for s in self.strategies])

    def _delay(self, action: int | np.ndarray) -> np.ndarray:
        return self.delays[np.asarray(action, dtype=np.int64)]

    def task_rewards(
        self, action: int | np.ndarray, task_accuracy: np.ndarray, cost: float | np.ndarray
    ) -> np.ndarray:
        """Per-task rewards of trials played with ``action``: shape of ``task_accuracy`` ``(..., n_tasks)``.

        ``action`` and ``cost`` are one value for all trials or one per trial ``(...)``; NaN accuracies stay NaN.
        """
        accuracy = np.asarray(task_accuracy, dtype=np.float64)
        scaled_cost = (self._delay(action) * np.asarray(cost, dtype=np.float64))[..., None]  # (..., 1)
        if self.cost_mode == "divide":
            return accuracy / (1.0 + scaled_cost)
        performed = ~np.isnan(accuracy)
        position = np.cumsum(performed, axis=-1) - 1  # 0-based order among the performed tasks
        return np.where(performed, accuracy * (1.0 - position * scaled_cost), np.nan)

    def task_payoffs(self, action: int, cost: float, n_tasks: int) -> np.ndarray:
        """``(n_tasks,)`` reward per unit accuracy of each task slot when every task is performed."""
        return self.task_rewards(action, np.ones(n_tasks), cost)

    def aggregate_weights(self, n_performed: np.ndarray | int) -> np.ndarray:
        """Weight of each performed task's reward in a trial with ``n_performed`` tasks (1/k for mean, 1 for sum)."""
        k = np.asarray(n_performed, dtype=np.float64)
        return 1.0 / k if self.aggregate == "mean" else np.ones_like(k)

    def reward(self, task_rewards: np.ndarray) -> np.ndarray | float:
        """The trial reward(s) from per-task rewards ``(..., n_tasks)`` (NaN = not performed)."""
        rewards = np.asarray(task_rewards, dtype=np.float64)
        performed = ~np.isnan(rewards)
        total = np.where(performed, rewards, 0.0).sum(axis=-1)
        value = self.offset + total * self.aggregate_weights(np.maximum(performed.sum(axis=-1), 1))
        return float(value) if np.ndim(value) == 0 else value

    def apply(
        self, action: int | np.ndarray, task_accuracy: np.ndarray, cost: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | float]:
        """(per-task rewards, reward) of trial(s) played with ``action`` — what the env's ``step`` returns."""
        task_rewards = self.task_rewards(action, task_accuracy, cost)
        return task_rewards, self.reward(task_rewards)
