"""Feature-partition search (docs/science/allocation-and-partitions.md):
the search space of overlap matrices, the two searches, and
the batched short training runs that score candidates.

* Search space: a point ``θ`` in [0, 1]^(n(n+1)/2), the upper triangle of a raw matrix (diagonal: each task's
  share of a layer's units; off the diagonal: where a pair's overlap lies between the least and the most its
  shares allow), refined into an overlap matrix ``P`` (:func:`tradeoff_gym.learners.partition.refine_overlap`, the
  feature-partitioning paper's appendix A.1) and realised as masks on every masked layer
  (:func:`tradeoff_gym.learners.partition.masks_from_overlap`).
* Random sampling (as in the feature-partitioning paper): points uniform in the cube.
* Evolution strategies (as in that paper: Mania, Guy & Recht 2018, "basic random search" with their reward scaling):
  ``N`` Gaussian directions ``δ_k``, the candidates ``θ ± ν δ_k``, and the step
  ``θ ← θ + α / (b σ_R) Σ_{k ∈ top b} (r_k⁺ − r_k⁻) δ_k`` (``σ_R`` the std of the 2b rewards used), kept in the cube.
* Scoring: :func:`train_candidates` trains many learners at once on
:class:`tradeoff_gym.learners.batched.BatchedLearner`, each
  with its own masks and schedule, and returns their per-trial accuracies; what a reward is (the env's rule and
  cost) is the caller's business, as is the capacity penalty on ``diag(P)``.

Randomness comes from the caller's ``numpy.random.Generator``; nothing here touches a global RNG.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tradeoff_gym.learners.batched import BatchedLearner
from tradeoff_gym.learners.checks import check_int, check_number
from tradeoff_gym.learners.gated_network import NetworkConfig
from tradeoff_gym.learners.partition import Masks, check_masks, masks_from_overlap, raw_overlap, refine_overlap
from tradeoff_gym.learners.tasks import Schedule
from tradeoff_gym.learners.trial import LearnerConfig


# ------------------------------------------------------------------------------------------------ search space
def theta_size(n_tasks: int) -> int:
    """Dimension of the search space for ``n_tasks`` tasks: the upper triangle with the diagonal, ``n(n+1)/2``."""
    return n_tasks * (n_tasks + 1) // 2


def overlap_from_theta(theta: np.ndarray, n_tasks: int, min_share: float = 0.0) -> np.ndarray:
    """The overlap matrix ``P`` ``(n, n)`` of a search point ``θ`` ``(n(n+1)/2,)`` (upper triangle, row-major)."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (theta_size(n_tasks),):
        raise ValueError(f"theta must have {theta_size(n_tasks)} entries for {n_tasks} tasks, got shape {theta.shape}")
    raw = np.zeros((n_tasks, n_tasks))
    raw[np.triu_indices(n_tasks)] = theta
    return refine_overlap(raw, min_share)


def theta_from_overlap(p: np.ndarray) -> np.ndarray:
    """The search point whose overlap matrix is ``p`` (``min_share = 0``): e.g. a hand-set overlap's, to start from."""
    p = np.asarray(p, dtype=np.float64)
    return raw_overlap(p)[np.triu_indices(p.shape[0])]


def masks_setting(p: np.ndarray, widths: Sequence[int]) -> Masks:
    """``NetworkConfig.masks`` realising ``p`` on the masked layers (every other of the gated layers' ``widths``)."""
    masks = check_masks([masks_from_overlap(p, w) for w in list(widths)[::2]])
    assert masks is not None
    return masks


def random_points(rng: np.random.Generator, count: int, n_tasks: int) -> np.ndarray:
    """``(count, n(n+1)/2)`` points uniform in the search space (the feature-partitioning paper's random sampling)."""
    return rng.uniform(0.0, 1.0, size=(check_int(count, "count", 1), theta_size(n_tasks)))


class EvolutionStrategy:
    """Mania et al.'s basic random search with reward scaling over a box ``[0, 1]^d`` (the partitioning paper's ES).

    ``theta`` the current point; each generation :meth:`propose` draws ``directions`` Gaussian directions and
    returns the ``2·directions`` candidates ``θ + ν δ_k`` then ``θ − ν δ_k`` (``ν`` = ``noise``); :meth:`update`
    takes their scores (higher is better) in that order and steps ``θ`` by ``step_size`` along the finite-difference
    estimate of the top ``top`` directions (all when ``None``), divided by the std of the scores used.
    """

    def __init__(
        self, theta: np.ndarray, *, directions: int = 8, noise: float = 0.1, step_size: float = 0.1,
        top: int | None = None,
    ) -> None:
        self.theta = np.clip(np.asarray(theta, dtype=np.float64), 0.0, 1.0)
        self.directions = check_int(directions, "directions", 1)
        self.noise = check_number(noise, "noise", 0.0, low_open=True)
        self.step_size = check_number(step_size, "step_size", 0.0, low_open=True)
        self.top = self.directions if top is None else min(check_int(top, "top", 1), self.directions)
        self._deltas: np.ndarray | None = None

    def propose(self, rng: np.random.Generator) -> np.ndarray:
        """``(2·directions, d)`` candidates: ``θ + ν δ`` for every direction, then ``θ − ν δ`` (not clipped: the
        search space clips where it reads them)."""
        self._deltas = rng.standard_normal((self.directions, self.theta.size))
        return np.concatenate([self.theta + self.noise * self._deltas, self.theta - self.noise * self._deltas])

    def update(self, scores: np.ndarray) -> np.ndarray:
        """Step ``θ`` from the scores ``(2·directions,)`` of the last :meth:`propose`'s candidates; returns ``θ``."""
        if self._deltas is None:
            raise ValueError("update() needs the scores of a propose() call's candidates; call propose() first")
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (2 * self.directions,) or not np.isfinite(scores).all():
            raise ValueError(f"scores must be {2 * self.directions} finite numbers (+ then − candidates), got {scores}")
        plus, minus = scores[: self.directions], scores[self.directions :]
        keep = np.argsort(-np.maximum(plus, minus), kind="stable")[: self.top]  # the most promising directions
        spread = np.concatenate([plus[keep], minus[keep]]).std()
        step = ((plus[keep] - minus[keep])[:, None] * self._deltas[keep]).sum(0) / (self.top * max(spread, 1e-8))
        self.theta = np.clip(self.theta + self.step_size * step, 0.0, 1.0)
        self._deltas = None
        return self.theta


# ------------------------------------------------------------------------------------------------ scoring
def train_candidates(
    config: LearnerConfig,
    networks: Sequence[NetworkConfig],
    seeds: Sequence[int],
    schedules: Sequence[Schedule],
    trials: int,
    max_batch: int = 32,
) -> np.ndarray:
    """Train one fresh learner per entry (``networks[k]``, ``seeds[k]``, playing ``schedules[k]`` every trial) for
    ``trials`` trials; ``(K, trials, n_tasks)`` accuracies (NaN where a schedule does not execute a task).

    Learners train ``max_batch`` at a time on a :class:`BatchedLearner` (networks that differ only in their masks
    share it), in the order given, so the same call replays bit for bit.
    """
    k = len(networks)
    if not (k == len(seeds) == len(schedules)) or k == 0:
        raise ValueError(f"networks, seeds and schedules must have one entry per learner, got {k}, {len(seeds)}, "
                         f"{len(schedules)}")
    check_int(trials, "trials", 1)
    out = []
    for start in range(0, k, check_int(max_batch, "max_batch", 1)):
        part = slice(start, start + max_batch)
        learner = BatchedLearner(config, list(seeds[part]), list(networks[part]))
        played = list(schedules[part])
        out.append(np.stack([learner.trial(played) for _ in range(trials)], axis=1))  # part trials n_tasks
    return np.concatenate(out)


def gated_layer_widths(config: LearnerConfig) -> list[int]:
    """The widths of ``config``'s gated layers in its world, in depth order (masks go on every other one)."""
    return config.network.layer_widths(config.world.input_shapes)


def capacity(p: np.ndarray) -> float:
    """Mean share of the units a task uses: the mean of ``diag(P)`` (the partitioning paper's resource use)."""
    return float(np.mean(np.diag(np.asarray(p, dtype=np.float64))))
