"""Frozen feature-partition masks (SPEC §2, 003 §3): a chosen share of each layer's units used by all tasks.

``overlap = o`` on a layer of ``n`` units: ``round(o·n)`` units are shared by every task; the remaining
units are split evenly into one exclusive block per task (leftovers, if ``n − shared`` does not divide, are
used by no task). So any two tasks share exactly the ``round(o·n)`` common units: 0 % = disjoint,
50 % = half shared + an exclusive eighth each (four tasks), 100 % = everything shared.
"""

from __future__ import annotations

import torch

from learners.checks import check_number


def check_overlap(overlap: float | None, field: str = "overlap") -> float | None:
    """Validate an overlap fraction: ``None`` (learned task weights) or a number in [0, 1]."""
    if overlap is None:
        return None
    try:
        return check_number(overlap, field, 0.0, 1.0)
    except ValueError:
        raise ValueError(f"{field} must be None (learned task weights) or lie in [0, 1], got {overlap!r}") from None


def partition_masks(n_units: int, n_tasks: int, overlap: float) -> torch.Tensor:
    """Binary channel masks ``M`` of shape ``(n_units, n_tasks)``: ``M[u, t] = 1`` if task ``t`` uses unit ``u``."""
    overlap = check_overlap(overlap)
    if overlap is None:
        raise ValueError("overlap must be a number in [0, 1] to build partition masks, got None")
    if n_units < n_tasks:
        raise ValueError(f"n_units must be >= n_tasks={n_tasks} to give every task a unit, got {n_units}")
    shared = round(overlap * n_units)
    exclusive = (n_units - shared) // n_tasks
    if shared == 0 and exclusive == 0:
        raise ValueError(f"overlap {overlap} leaves no unit for any task on a layer of {n_units} units")
    masks = torch.zeros(n_units, n_tasks)
    masks[:shared] = 1.0
    for t in range(n_tasks):
        start = shared + t * exclusive
        masks[start : start + exclusive, t] = 1.0
    return masks


def overlap_matrix(masks: torch.Tensor) -> torch.Tensor:
    """``P = MᵀM / c`` (003 §3): ``(n_tasks, n_tasks)``; diagonal = each task's share of the ``c`` units,
    off-diagonal = the share of units two tasks both use."""
    if masks.dim() != 2:
        raise ValueError(f"masks must be (n_units, n_tasks), got shape {tuple(masks.shape)}")
    masks = masks.float()
    return masks.T @ masks / masks.shape[0]


def mask_task_weights(masks: torch.Tensor, beta: float) -> torch.Tensor:
    """Frozen task weights ``W_t`` ``(n_tasks, n_units)`` realising ``masks`` through the gate.

    ``W = 2β`` where a task uses a unit and 0 elsewhere, so the gate ``sigmoid(W_t·x_t − β)`` is
    ``sigmoid(β)`` (on) or ``sigmoid(−β)`` (off) for one task, and stays on for a pair if either task uses
    the unit.
    """
    return (masks.T * (2.0 * beta)).contiguous()
