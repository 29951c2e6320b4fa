"""The drone world's four tasks (SPEC §1): which input each reads, which output each writes, valid pairs.

A *schedule* is how one trial executes all tasks: a tuple of *passes*, each a tuple of task indices run
together in one forward pass. Serial = one task per pass; parallel = the two valid pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

INPUTS: tuple[str, ...] = ("gps", "image")
OUTPUTS: tuple[str, ...] = ("location", "object")


@dataclass(frozen=True)
class Task:
    """One input→output mapping of the drone world."""

    name: str
    input: str
    output: str


#: T1 GPS→location, T2 GPS→object, T3 image→location, T4 image→object (0-based indices 0…3).
TASKS: tuple[Task, ...] = (
    Task("gps-location", "gps", "location"),
    Task("gps-object", "gps", "object"),
    Task("image-location", "image", "location"),
    Task("image-object", "image", "object"),
)
N_TASKS = len(TASKS)

Pass = tuple[int, ...]
Schedule = tuple[Pass, ...]

SERIAL_SCHEDULE: Schedule = ((0,), (1,), (2,), (3,))
PARALLEL_SCHEDULE: Schedule = ((0, 3), (1, 2))
#: The valid multitasking pairs {T1+T4, T2+T3}: different inputs AND different outputs.
VALID_PAIRS: tuple[Pass, ...] = PARALLEL_SCHEDULE


def is_valid_pass(tasks: Sequence[int]) -> bool:
    """True if the tasks can run in one forward pass: distinct, known, no shared input or output."""
    tasks = tuple(tasks)
    if not tasks or len(set(tasks)) != len(tasks) or not all(0 <= t < N_TASKS for t in tasks):
        return False
    inputs = [TASKS[t].input for t in tasks]
    outputs = [TASKS[t].output for t in tasks]
    return len(set(inputs)) == len(inputs) and len(set(outputs)) == len(outputs)


def check_schedule(schedule: Sequence[Sequence[int]], field: str = "schedule") -> Schedule:
    """Validate a trial schedule: valid passes that together execute every task exactly once."""
    try:
        normalised = tuple(tuple(int(t) for t in p) for p in schedule)
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a sequence of passes (tuples of task indices), got {schedule!r}") from None
    for p in normalised:
        if not is_valid_pass(p):
            raise ValueError(
                f"{field} pass {p} is not a valid multitask set: tasks in 0…{N_TASKS - 1}, distinct, with "
                f"different inputs and different outputs (valid pairs: {VALID_PAIRS})"
            )
    executed = sorted(t for p in normalised for t in p)
    if executed != list(range(N_TASKS)):
        raise ValueError(f"{field} must execute every task 0…{N_TASKS - 1} exactly once per trial, got {normalised}")
    return normalised


def task_vector(tasks: Sequence[int], device: torch.device | str = "cpu") -> torch.Tensor:
    """The task input x_t: the sum of the one-hot vectors of ``tasks``. Shape ``(N_TASKS,)``, float32."""
    x = torch.zeros(N_TASKS, device=device)
    x[list(tasks)] = 1.0
    return x

