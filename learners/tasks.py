"""Task sets (docs/science/model.md): which input each task reads, which output it writes, which tasks may run together.

A :class:`TaskSet` names a world's input and output dimensions and its tasks (by default every input × output,
input-major). A *schedule* is how one trial executes all tasks: a tuple of *passes*, each a tuple of task
indices run together in one forward pass; tasks in one pass must use different inputs and different outputs.
Serial = one task per pass; full parallel = the fewest passes (a decomposition into maximal matchings).

:data:`DRONE` is the drone world's 2 × 2 set (T1 GPS→location, T2 GPS→object, T3 image→location, T4
image→object); the module-level names (:data:`TASKS`, :data:`SERIAL_SCHEDULE`, :func:`check_schedule`, …) are
its values, kept for the two-strategy code. :func:`all_schedules` and :func:`refinement_chain` generate the
schedules of any task set (the strategy tables of ``tradeoff/Multitask-v0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

Pass = tuple[int, ...]
Schedule = tuple[Pass, ...]


@dataclass(frozen=True)
class Task:
    """One input→output mapping."""

    name: str
    input: str
    output: str


def _names(value: Sequence[str], field_name: str) -> tuple[str, ...]:
    """A non-empty tuple of distinct non-empty names, or a ValueError naming ``field_name``."""
    names = tuple(value) if isinstance(value, (tuple, list)) else ()
    if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise ValueError(f"{field_name} must be a non-empty tuple of distinct names, got {value!r}")
    return names


@dataclass(frozen=True)
class TaskSet:
    """A world's input dimensions, output dimensions and tasks; validated at construction.

    ``tasks`` ``None`` means every input × output, input-major (``"<input>-<output>"``): for inputs (gps, image)
    and outputs (location, object) that is the drone world's T1…T4 in the paper's order.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    tasks: tuple[Task, ...] | None = None
    _output_of: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _input_of: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "inputs", _names(self.inputs, "inputs"))
        set_(self, "outputs", _names(self.outputs, "outputs"))
        if self.tasks is None:
            set_(self, "tasks", tuple(Task(f"{i}-{o}", i, o) for i in self.inputs for o in self.outputs))
        tasks = tuple(self.tasks) if isinstance(self.tasks, (tuple, list)) else ()
        known = all(isinstance(t, Task) and t.input in self.inputs and t.output in self.outputs for t in tasks)
        if not tasks or not known:
            raise ValueError(
                f"tasks must be a non-empty tuple of Task over inputs {self.inputs} and outputs {self.outputs}, "
                f"got {self.tasks!r}"
            )
        if len({t.name for t in tasks}) != len(tasks) or len({(t.input, t.output) for t in tasks}) != len(tasks):
            raise ValueError(f"tasks must have distinct names and distinct (input, output) pairs, got {tasks}")
        set_(self, "tasks", tasks)
        set_(self, "_output_of", tuple(self.outputs.index(t.output) for t in tasks))
        set_(self, "_input_of", tuple(self.inputs.index(t.input) for t in tasks))

    @property
    def n_tasks(self) -> int:
        """The number of tasks."""
        return len(self.tasks)  # type: ignore[arg-type]

    def output_index(self, task: int) -> int:
        """Index (into :attr:`outputs`) of the output dimension task ``task`` writes."""
        return self._output_of[task]

    def input_index(self, task: int) -> int:
        """Index (into :attr:`inputs`) of the input dimension task ``task`` reads."""
        return self._input_of[task]

    @property
    def serial_schedule(self) -> Schedule:
        """Every task in its own pass, in task order."""
        return tuple((t,) for t in range(self.n_tasks))

    def is_valid_pass(self, tasks: Sequence[int]) -> bool:
        """True if the tasks can run in one forward pass: distinct, known, no shared input or output."""
        tasks = tuple(tasks)
        if not tasks or len(set(tasks)) != len(tasks) or not all(0 <= t < self.n_tasks for t in tasks):
            return False
        inputs = {self._input_of[t] for t in tasks}
        outputs = {self._output_of[t] for t in tasks}
        return len(inputs) == len(tasks) and len(outputs) == len(tasks)

    def check_schedule(self, schedule: Sequence[Sequence[int]], field: str = "schedule") -> Schedule:
        """Validate a trial schedule: valid passes that together execute every task exactly once."""
        try:
            normalised = tuple(tuple(int(t) for t in p) for p in schedule)
        except (TypeError, ValueError):
            raise ValueError(
                f"{field} must be a sequence of passes (tuples of task indices), got {schedule!r}"
            ) from None
        last = self.n_tasks - 1
        for p in normalised:
            if not self.is_valid_pass(p):
                raise ValueError(
                    f"{field} pass {p} is not a valid multitask set: tasks in 0…{last}, distinct, with different "
                    f"inputs and different outputs (inputs {self.inputs}, outputs {self.outputs})"
                )
        executed = sorted(t for p in normalised for t in p)
        if executed != list(range(self.n_tasks)):
            raise ValueError(f"{field} must execute every task 0…{last} exactly once per trial, got {normalised}")
        return normalised

    def task_vector(self, tasks: Sequence[int], device: torch.device | str = "cpu") -> torch.Tensor:
        """The task input x_t: the sum of the one-hot vectors of ``tasks``. Shape ``(n_tasks,)``, float32."""
        x = torch.zeros(self.n_tasks, device=device)
        x[list(tasks)] = 1.0
        return x


def canonical(schedule: Schedule) -> Schedule:
    """The schedule with each pass sorted and the passes ordered by their first task (one name per partition)."""
    return tuple(sorted(tuple(sorted(p)) for p in schedule))


def all_schedules(task_set: TaskSet) -> tuple[Schedule, ...]:
    """Every partition of the tasks into valid passes (canonical, sorted by pass count then passes).

    Grows fast: 4 for the 2 × 2 drone world, 18 for 2 × 3, 588 for 3 × 3.
    """
    found: list[Schedule] = []

    def extend(remaining: tuple[int, ...], passes: tuple[Pass, ...]) -> None:
        if not remaining:
            found.append(passes)
            return
        first, rest = remaining[0], remaining[1:]  # the lowest task left opens the next pass: no duplicates

        def grow(current: Pass, candidates: tuple[int, ...]) -> None:
            extend(tuple(t for t in rest if t not in current), (*passes, current))
            for i, t in enumerate(candidates):
                if task_set.is_valid_pass((*current, t)):
                    grow((*current, t), candidates[i + 1 :])

        grow((first,), rest)

    extend(tuple(range(task_set.n_tasks)), ())
    return tuple(sorted((canonical(s) for s in found), key=lambda s: (len(s), s)))


def min_passes(task_set: TaskSet) -> int:
    """The fewest passes any schedule needs (the full-parallel schedules' pass count)."""
    return _greedy_parallel(task_set)[1]


def _greedy_parallel(task_set: TaskSet) -> tuple[Schedule, int]:
    """A full-parallel schedule for a complete input × output set: the cyclic Latin-square decomposition.

    With every input × output task present the fewest passes is max(n_inputs, n_outputs) (König: the edges of
    a complete bipartite graph split into that many matchings), and pass ``j`` takes the tasks (i, o) with
    ``(o − i) mod m = j``, ``m`` = that maximum. For other task sets, the fewest passes over all schedules.
    """
    n_in, n_out = len(task_set.inputs), len(task_set.outputs)
    if task_set.n_tasks != n_in * n_out:
        best = min(all_schedules(task_set), key=lambda s: (len(s), s))
        return best, len(best)
    m = max(n_in, n_out)
    passes: list[list[int]] = [[] for _ in range(m)]
    for t in range(task_set.n_tasks):
        i, o = task_set.input_index(t), task_set.output_index(t)
        passes[(o - i) % m].append(t)
    schedule = canonical(tuple(tuple(p) for p in passes if p))
    return schedule, len(schedule)


def parallel_schedule(task_set: TaskSet) -> Schedule:
    """The canonical full-parallel schedule: the fewest passes, the cyclic decomposition for a complete set."""
    return _greedy_parallel(task_set)[0]


def refinement_chain(task_set: TaskSet) -> tuple[Schedule, ...]:
    """One schedule per pass count, from full parallel to serial, each splitting one task off its predecessor.

    Start at :func:`parallel_schedule`; at each step take the largest pass (the first of equal ones, in
    canonical order) and move its last task into a pass of its own, until every pass holds one task. So the
    chain has ``n_tasks − min_passes + 1`` schedules, pass counts ``min_passes … n_tasks``, and every schedule
    multitasks a subset of the pairings of the one before (nested: what changes along the chain is only how
    much is multitasked, never which tasks share a pass).
    """
    schedule = parallel_schedule(task_set)
    chain = [schedule]
    while any(len(p) > 1 for p in schedule):
        largest = max(range(len(schedule)), key=lambda i: (len(schedule[i]), -i))
        split = schedule[largest]
        schedule = canonical((*schedule[:largest], split[:-1], (split[-1],), *schedule[largest + 1 :]))
        chain.append(schedule)
    return tuple(chain)


def schedule_label(schedule: Schedule) -> str:
    """A compact name of a schedule's passes, e.g. ``"0+4+8|1+5+6|2+3+7"`` (tasks 0-based, passes by ``|``)."""
    return "|".join("+".join(str(t) for t in p) for p in schedule)


#: The drone world: T1 GPS→location, T2 GPS→object, T3 image→location, T4 image→object (0…3).
DRONE = TaskSet(inputs=("gps", "image"), outputs=("location", "object"))
INPUTS: tuple[str, ...] = DRONE.inputs
OUTPUTS: tuple[str, ...] = DRONE.outputs
TASKS: tuple[Task, ...] = DRONE.tasks  # type: ignore[assignment]
N_TASKS = DRONE.n_tasks

SERIAL_SCHEDULE: Schedule = ((0,), (1,), (2,), (3,))
PARALLEL_SCHEDULE: Schedule = ((0, 3), (1, 2))
#: The valid multitasking pairs {T1+T4, T2+T3}: different inputs AND different outputs.
VALID_PAIRS: tuple[Pass, ...] = PARALLEL_SCHEDULE


def is_valid_pass(tasks: Sequence[int]) -> bool:
    """The drone world's :meth:`TaskSet.is_valid_pass`."""
    return DRONE.is_valid_pass(tasks)


def check_schedule(schedule: Sequence[Sequence[int]], field: str = "schedule") -> Schedule:
    """The drone world's :meth:`TaskSet.check_schedule`."""
    return DRONE.check_schedule(schedule, field)


def task_vector(tasks: Sequence[int], device: torch.device | str = "cpu") -> torch.Tensor:
    """The drone world's :meth:`TaskSet.task_vector`: shape ``(4,)``, float32."""
    return DRONE.task_vector(tasks, device)
