"""Frozen feature-partition masks: which of a layer's units each task may use.

See docs/science/allocation-and-partitions.md.

``overlap = o`` on a layer of ``n`` units: ``round(o·n)`` units are shared by every task; the remaining
units are split evenly into one exclusive block per task (leftovers, if ``n − shared`` does not divide, are
used by no task). So any two tasks share exactly the ``round(o·n)`` common units: 0 % = disjoint,
50 % = half shared + an exclusive eighth each (four tasks), 100 % = everything shared.

Any masks ``M`` ``(c, n_tasks)`` are summarised by ``P = MᵀM / c`` (:func:`overlap_matrix`): each task's share of
the units on the diagonal, each pair's shared share off it. The way back (that paper's appendix A.1): a search
proposes raw values in [0, 1] (:func:`refine_overlap` maps them to a ``P`` that respects ``P_ij ≤ min(P_ii, P_jj)``
and ``P_ij ≥ P_ii + P_jj − 1``) and :func:`masks_from_overlap` finds masks whose ``P`` is closest to it.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from scipy.optimize import lsq_linear

from tradeoff_gym.learners.checks import check_number

#: Explicit masks as a setting (``NetworkConfig.masks``): per masked layer, ``(units, n_tasks)`` 0/1 entries.
Masks = tuple[tuple[tuple[int, ...], ...], ...]


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
    """``P = MᵀM / c``: ``(n_tasks, n_tasks)``; diagonal = each task's share of the ``c`` units,
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


def check_masks(masks: object, field: str = "masks") -> Masks | None:
    """Validate explicit masks: ``None``, or per masked layer a non-empty ``(units, n_tasks)`` matrix of 0/1 (nested
    sequences, a tensor or an array), every layer with the same ``n_tasks``. Returns nested tuples of ints."""
    if masks is None:
        return None
    allowed = f"{field} must be None or, per masked layer, a (units, n_tasks) matrix of 0/1 entries"
    try:
        layers = [np.asarray(m.detach().cpu() if isinstance(m, torch.Tensor) else m, dtype=np.float64) for m in masks]
    except (TypeError, ValueError):
        raise ValueError(f"{allowed}, got {masks!r}") from None
    if isinstance(masks, (str, bytes)) or not layers:
        raise ValueError(f"{allowed}, got {masks!r}")
    for i, layer in enumerate(layers):
        if layer.ndim != 2 or layer.size == 0 or not np.isin(layer, (0.0, 1.0)).all():
            raise ValueError(f"{allowed}; layer {i} is not one (shape {layer.shape})")
    if len({layer.shape[1] for layer in layers}) != 1:
        raise ValueError(f"{allowed}, with the same n_tasks on every layer; got shapes {[m.shape for m in layers]}")
    return tuple(tuple(tuple(int(v) for v in row) for row in layer) for layer in layers)


def refine_overlap(raw: np.ndarray, min_share: float = 0.0) -> np.ndarray:
    """A raw search point ``(n, n)`` in [0, 1] → an overlap matrix masks can meet (partitioning paper, app. A.1).

    The diagonal (each task's share of the units) is kept, clipped to [``min_share``, 1]; an off-diagonal value
    ``r`` becomes ``P_min + r·(P_max − P_min)`` with ``P_max = min(P_ii, P_jj)`` (two tasks share at most what the
    smaller uses) and ``P_min = max(0, P_ii + P_jj − 1)`` (they must share what does not fit side by side). The
    upper triangle is read; the result is symmetric.
    """
    raw = np.clip(np.asarray(raw, dtype=np.float64), 0.0, 1.0)
    if raw.ndim != 2 or raw.shape[0] != raw.shape[1]:
        raise ValueError(f"raw overlap must be a square (n_tasks, n_tasks) matrix, got shape {raw.shape}")
    upper = np.triu(raw, 1)
    raw = np.diag(np.diag(raw)) + upper + upper.T
    d = np.clip(np.diag(raw), min_share, 1.0)[:, None]  # n 1
    p_min = np.maximum(0.0, d + d.T - 1.0)
    p_max = np.minimum(d, d.T)
    refined = p_min + raw * (p_max - p_min)
    np.fill_diagonal(refined, d[:, 0])
    return refined


def raw_overlap(p: np.ndarray) -> np.ndarray:
    """The inverse of :func:`refine_overlap` (``min_share = 0``): the raw point whose refinement is ``p``.

    Off-diagonal entries are placed between their ``P_min`` and ``P_max`` (0.5 where the two coincide).
    """
    p = np.asarray(p, dtype=np.float64)
    d = np.diag(p)[:, None]
    p_min = np.maximum(0.0, d + d.T - 1.0)
    span = np.minimum(d, d.T) - p_min
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(span > 1e-12, (p - p_min) / span, 0.5)
    np.fill_diagonal(raw, d[:, 0])
    return np.clip(raw, 0.0, 1.0)


def masks_from_overlap(p: np.ndarray, n_units: int) -> torch.Tensor:
    """Masks ``(n_units, n_tasks)`` whose ``P = MᵀM / c`` is as close as whole units allow to ``p`` ``(n, n)``.

    The paper solves a mixed-integer programme; with few tasks a smaller problem does: every unit belongs to
    one *region* (the subset of tasks that use it, ∅ included), so ``c·P_ij`` is the sum of the sizes of the
    regions holding both ``i`` and ``j``. Non-negative region sizes summing to ``c`` are fitted by bounded least
    squares (scipy's ``lsq_linear``) and rounded to whole units by largest remainders; each region then takes a
    contiguous block of units. Deterministic. ``2ⁿ`` regions: meant for a handful of tasks.
    """
    p = np.asarray(p, dtype=np.float64)
    n = p.shape[0]
    if p.shape != (n, n) or n > 10:
        raise ValueError(f"p must be a square (n_tasks, n_tasks) matrix with at most 10 tasks, got shape {p.shape}")
    regions = [s for k in range(n + 1) for s in itertools.combinations(range(n), k)]  # ∅ first
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    a = np.array([[float(i in s and j in s) for s in regions] for i, j in pairs])  # pairs × regions
    a = np.vstack([a, 10.0 * np.ones(len(regions))])  # every unit in exactly one region (weighted: near-exact)
    b = np.concatenate([[p[i, j] * n_units for i, j in pairs], [10.0 * n_units]])
    sizes = lsq_linear(a, b, bounds=(0.0, n_units), method="bvls").x
    sizes = sizes * n_units / max(sizes.sum(), 1e-12)
    whole = np.floor(sizes).astype(int)
    order = np.argsort(-(sizes - whole), kind="stable")  # largest remainders first
    whole[order[: n_units - whole.sum()]] += 1
    masks = torch.zeros(n_units, n)
    start = 0
    for region, size in zip(regions, whole):
        masks[start : start + size, list(region)] = 1.0
        start += size
    return masks
