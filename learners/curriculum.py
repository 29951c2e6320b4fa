"""Curricula of sequential task episodes: training regimens, slot allocation and task orders.

See docs/science/sequential.md.

Pure numpy helpers, Gymnasium-free; :class:`tradeoff_gym.envs.sequential.SequentialTasksEnv` plays them as actions.

* A *regimen* says how a trial's examples are split over the tasks seen so far (:func:`regimen_weights`);
  :func:`allocate_slots` turns those shares into whole example slots, exact in the long run.
* A *task order* is the sequence of features a stream introduces: random, or a row of a Latin square so that
  over replications every feature holds every ordinal position equally often (:func:`latin_order`).
"""

from __future__ import annotations

import numpy as np

from tradeoff_gym.learners.checks import check_choice, check_positive_int
from tradeoff_gym.learners.shapes import N_FEATURES, check_dimension

#: The training regimens. ``mix`` is the paper's (after Nguyen et al. 2018): half of each trial's examples from
#: the newest task, the other half split equally over the earlier ones; ``new-only`` trains the newest task
#: alone (no rehearsal); ``uniform`` splits every trial equally over all tasks seen so far.
REGIMENS: tuple[str, ...] = ("mix", "new-only", "uniform")
#: Task orders of a stream: a permutation per stream, or rows of a Latin square over replications.
TASK_ORDERS: tuple[str, ...] = ("random", "latin")
#: Phase step of :func:`allocate_slots` from one trial to the next (the golden ratio's fractional part: a
#: low-discrepancy rotation, so every task's long-run share of slots is exact).
PHASE_STEP = (np.sqrt(5.0) - 1.0) / 2.0


def regimen_weights(regimen: str, n_seen: int, new_fraction: float = 0.5) -> np.ndarray:
    """``(n_seen,)`` share of a trial's examples per task (ordinal order, the newest last); sums to 1."""
    check_choice(regimen, REGIMENS, "regimen")
    n_seen = check_positive_int(n_seen, "n_seen")
    weights = np.zeros(n_seen)
    if n_seen == 1 or regimen == "new-only":
        weights[-1] = 1.0
    elif regimen == "mix":
        weights[:-1] = (1.0 - new_fraction) / (n_seen - 1)
        weights[-1] = new_fraction
    else:  # uniform
        weights[:] = 1.0 / n_seen
    return weights


def slot_phase(trial: int) -> float:
    """The :func:`allocate_slots` phase of trial ``trial`` (0-based): ``trial · PHASE_STEP mod 1``."""
    return (trial * PHASE_STEP) % 1.0


def allocate_slots(weights: np.ndarray, batch_size: int, phase: float) -> np.ndarray:
    """``(batch_size,)`` task of each slot: systematic sampling of ``weights`` at offset ``phase`` ∈ [0, 1).

    Task ``k`` gets ⌊w_k·B⌋ or ⌈w_k·B⌉ slots; rotating ``phase`` across trials (:func:`slot_phase`) makes the
    long-run shares exact.
    """
    edges = np.cumsum(weights)  # (K,)
    edges[-1] = 1.0  # guard against rounding
    points = (np.arange(batch_size) + phase) / batch_size  # (B,) in [0, 1)
    return np.searchsorted(edges, points, side="right").astype(np.int64)


def latin_square(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``(n, n)`` Latin square, ``L[r, c] = σ((ρ(r) + κ(c)) mod n)``: each symbol once per row and column."""
    rows, cols, symbols = rng.permutation(n), rng.permutation(n), rng.permutation(n)
    return symbols[(rows[:, None] + cols[None, :]) % n]


def latin_order(replication: int, n_tasks: int, dimension: str, order_seed: int = 0) -> np.ndarray:
    """Task order (feature indices) of ``replication``: a row of a Latin square over the 10 features.

    Replications ``10·b … 10·b + 9`` are the rows of block ``b``'s square (seeded by ``order_seed``, ``b`` and the
    dimension), so within a block every feature holds every ordinal position exactly once.
    """
    block, row = divmod(int(replication), N_FEATURES)
    seq = np.random.SeedSequence([int(order_seed), block, check_dimension(dimension)])
    return latin_square(N_FEATURES, np.random.default_rng(seq))[row, :n_tasks].astype(np.int64)


def random_order(n_tasks: int, rng: np.random.Generator) -> np.ndarray:
    """A random task order: the first ``n_tasks`` of a permutation of the 10 features."""
    return rng.permutation(N_FEATURES)[:n_tasks]
