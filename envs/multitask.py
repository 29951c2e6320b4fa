"""``tradeoff/Multitask-v0``: which tasks to execute together — a strategy table of schedules (the paper's future work).

The paper offers two strategies, every task alone or the two valid pairs. A world with N inputs and K outputs
has many *schedules*: partitions of its tasks into passes whose tasks use different inputs and different
outputs. This id is the SerialParallel environment (same learner, same trial, same reward rule) on a larger
world — by default 3 × 3: inputs GPS, image, sonar; outputs location, object, depth (9 tasks;
:class:`tradeoff_gym.learners.drone.DroneWorldConfig` with ``depth=True, sonar_size=24``) — with its strategy table
generated from the world's task set by :func:`schedule_table`.

The cost generalises the paper's ÷ (1 + c): a schedule with ``p`` passes pays the share
``d = (p − p_min) / (p_max − p_min)`` of the hidden cost (``Strategy.delay``), where ``p_min`` is the fewest
passes any schedule needs (full parallel) and ``p_max = n_tasks`` (all serial); per task, reward = accuracy
÷ (1 + d·c). So each pass beyond the fewest costs the same, all-serial pays ÷ (1 + c) and full parallel
nothing: on the drone world (p_min = 2, p_max = 4) the table {serial, parallel} is exactly SerialParallel's.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from tradeoff_gym.envs.common import Strategy, check_choice, given_config
from tradeoff_gym.envs.serial_parallel import SerialParallelConfig, SerialParallelEnv
from tradeoff_gym.envs.serial_parallel import make_config as make_serial_parallel_config
from tradeoff_gym.envs.serial_parallel_vector import SerialParallelVectorEnv
from tradeoff_gym.learners.drone import DroneWorldConfig
from tradeoff_gym.learners.tasks import (
    Schedule,
    TaskSet,
    all_schedules,
    canonical,
    min_passes,
    parallel_schedule,
    refinement_chain,
    schedule_label,
)
from tradeoff_gym.learners.trial import LearnerConfig

TableRule = Literal["chain", "all"]
TABLE_RULES: tuple[str, ...] = ("chain", "all")

#: The 3 × 3 world's settings beside the drone world's defaults: a depth output (3 sprite sizes, made more
#: distinct than the drone world's 0.75–1 range), a 24-sample sonar input.
WORLD_SETTINGS: dict[str, Any] = {"depth": True, "sonar_size": 24, "scales": (0.5, 1.0)}


def schedule_delay(schedule: Schedule, task_set: TaskSet) -> float:
    """The share of the hidden cost a schedule pays: ``(passes − p_min) / (n_tasks − p_min)``, in [0, 1]."""
    low, high = min_passes(task_set), task_set.n_tasks
    return (len(schedule) - low) / (high - low)


def schedule_table(task_set: TaskSet, rule: TableRule = "chain") -> tuple[tuple[Strategy, ...], tuple[Schedule, ...]]:
    """The strategy table of a world: strategies (names, cost shares) and their schedules, fewest passes first.

    ``rule``:

    * ``"chain"`` (default) — :func:`tradeoff_gym.learners.tasks.refinement_chain`: one schedule per pass count from
    full
      parallel to serial, each splitting one task off a pass of the one before. Every cost share
      ``d ∈ {0, 1/(p_max − p_min), …, 1}`` is on the table, and the schedules are nested (the partial ones
      multitask subsets of the full-parallel pairings), so the table asks "how much to multitask" with one
      schedule per amount — 7 strategies for 3 × 3, 3 for the drone world — a number of arms an agent can
      still try within an episode;
    * ``"all"`` — every partition into valid passes (:func:`tradeoff_gym.learners.tasks.all_schedules`): 4 for the drone
      world, 18 for 2 × 3, 588 for 3 × 3 (too many arms to explore in thousands of trials; for small worlds).

    Names: ``"serial"`` (one task per pass), ``"parallel"`` (the canonical full-parallel schedule), and
    ``"<p>-pass"`` for a chain's partial schedules, or the passes (:func:`tradeoff_gym.learners.tasks.schedule_label`,
    e.g. ``"0+3|1|2"``) for ``"all"``. Strategy ``delay`` = :func:`schedule_delay`; ``serial`` = delay > 0.
    """
    check_choice(rule, TABLE_RULES, "table")
    low = min_passes(task_set)
    if low == task_set.n_tasks:
        raise ValueError(
            f"the world's tasks cannot run together (inputs {task_set.inputs}, outputs {task_set.outputs}): "
            "a schedule table needs at least two inputs and two outputs"
        )
    schedules = refinement_chain(task_set) if rule == "chain" else all_schedules(task_set)
    serial, parallel = canonical(task_set.serial_schedule), parallel_schedule(task_set)
    strategies = []
    for schedule in schedules:
        if schedule == serial:
            name = "serial"
        elif schedule == parallel:
            name = "parallel"
        else:
            name = f"{len(schedule)}-pass" if rule == "chain" else schedule_label(schedule)
        delay = schedule_delay(schedule, task_set)
        strategies.append(Strategy(name, serial=delay > 0, delay=delay))
    return tuple(strategies), tuple(schedules)


PRESETS: tuple[str, ...] = ("default",)


def make_config(
    preset: str = "default",
    *,
    config: SerialParallelConfig | None = None,
    table: TableRule = "chain",
    **settings: Any,
) -> SerialParallelConfig:
    """The config of ``tradeoff/Multitask-v0``: the 3 × 3 world, its strategy table by ``table``, overrides by name.

    ``settings`` are SerialParallel's (:func:`tradeoff_gym.envs.serial_parallel.make_config`: ``horizon``, ``cost``, any
    learner, world or network field, e.g. ``sonar_size=16``, ``depth=False`` for a 3 × 2 world); the table is
    generated from the resulting world (``strategies``/``schedules`` cannot be given). A ready ``config`` is
    taken as it is.
    """
    if config is not None:
        if table != "chain":
            raise ValueError(f"pass either config or table, not both; got config and table={table!r}")
        return given_config(config, SerialParallelConfig, preset, "default", settings)
    check_choice(preset, PRESETS, "preset")
    check_choice(table, TABLE_RULES, "table")
    given = sorted({"strategies", "schedules"} & set(settings))
    if given:
        raise ValueError(f"Multitask generates its strategy table from the world (setting table={TABLE_RULES}); "
                         f"got {given}")
    learner = settings.pop("learner", LearnerConfig())
    if not isinstance(learner, LearnerConfig):
        raise ValueError(f"learner must be a LearnerConfig (or set its fields by name), got {learner!r}")
    world_fields = {f.name for f in dataclasses.fields(DroneWorldConfig)}
    defaults = {k: v for k, v in WORLD_SETTINGS.items() if k not in settings}
    learner = learner.replace(**defaults) if learner.world == DroneWorldConfig() else learner
    world_settings = {k: settings.pop(k) for k in list(settings) if k in world_fields}
    if world_settings:
        learner = learner.replace(**world_settings)
    strategies, schedules = schedule_table(learner.world.task_set, table)
    return make_serial_parallel_config(learner=learner, strategies=strategies, schedules=schedules, **settings)


def make_multitask(*, render_mode: str | None = None, **settings: Any) -> SerialParallelEnv:
    """``tradeoff/Multitask-v0``: the SerialParallel env on the 3 × 3 world with its generated strategy table.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> env = gym.make("tradeoff/Multitask-v0", cost=0.3, horizon=2)
        >>> obs, info = env.reset(seed=0)
        >>> info["strategies"]  # the refinement chain: one schedule per pass count
        ('parallel', '4-pass', '5-pass', '6-pass', '7-pass', '8-pass', 'serial')
        >>> [round(s.delay, 3) for s in env.unwrapped.reward_rule.strategies]  # each one's share of the cost
        [0.0, 0.167, 0.333, 0.5, 0.667, 0.833, 1.0]
        >>> obs, reward, terminated, truncated, info = env.step(0)  # full parallel: three passes of three tasks
        >>> info["task_accuracy"].shape, int(info["task_performed"].sum())
        ((9,), 9)
    """
    return SerialParallelEnv(make_config(**settings), render_mode=render_mode)


def make_multitask_vector(num_envs: int = 1, **settings: Any) -> SerialParallelVectorEnv:
    """``vector_entry_point`` of ``tradeoff/Multitask-v0``: K episodes trained as one batched computation."""
    return SerialParallelVectorEnv(num_envs, builder=make_config, **settings)
