"""Stein variational gradient descent (Liu & Wang, 2016) as pure batched torch code.

SVGD moves a set of particles ``x_1 … x_N`` towards a target density ``p`` along

    φ(x_i) = (1/N) Σ_j [ k(x_j, x_i) ∇_{x_j} log p(x_j) + ∇_{x_j} k(x_j, x_i) ],

the first term pulling particles to high density, the second (the kernel's "repulsion") keeping them
apart so that they represent the whole posterior. Everything here works on a particle tensor of shape
``(..., N, D)``: the leading dimensions index independent problems (e.g. one posterior per learning
curve) that are updated together in one tensor program. Usable on its own::

    particles = svgd(lambda x: -0.5 * (x**2).sum(-1), torch.randn(64, 2), steps=500)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch

from tradeoff_gym.learners.checks import check_int, check_number

#: ``(..., N, D) -> (...,  N)``: log density (up to a constant) of each particle.
LogProb = Callable[[torch.Tensor], torch.Tensor]
#: ``(..., N, D) -> (..., N, D)``: ∇ log density at each particle.
GradLogProb = Callable[[torch.Tensor], torch.Tensor]
Optimizer = Literal["adam", "adagrad"]
OPTIMIZERS: tuple[str, ...] = ("adam", "adagrad")


class SteinKernel(Protocol):
    """A kernel for SVGD: one method giving the kernel matrix and the repulsive term."""

    def kernel_and_repulsion(self, particles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(..., N, D)`` → ``K`` ``(..., N, N)`` with ``K[..., j, i] = k(x_j, x_i)``, and the repulsion
        ``(..., N, D)`` whose row ``i`` is ``Σ_j ∇_{x_j} k(x_j, x_i)``."""
        ...


@dataclass(frozen=True)
class RBFKernel:
    """``k(x, y) = exp(−‖x − y‖² / h)``; ``h = med² / log(N + 1)`` (median heuristic) unless ``bandwidth`` is set.

    ``med`` is the median distance over the pairs of distinct particles of each batch element, so every
    independent problem in the batch gets its own bandwidth.
    """

    bandwidth: float | None = None

    def __post_init__(self) -> None:
        if self.bandwidth is not None and not (math.isfinite(self.bandwidth) and self.bandwidth > 0):
            raise ValueError(f"bandwidth must be a positive number or None (median heuristic), got {self.bandwidth!r}")

    def bandwidths(self, sq_dist: torch.Tensor) -> torch.Tensor:
        """``(..., N, N)`` squared distances → ``(..., 1, 1)`` bandwidths ``h``."""
        n = sq_dist.shape[-1]
        if self.bandwidth is not None:
            return sq_dist.new_full((*sq_dist.shape[:-2], 1, 1), self.bandwidth)
        pairs = sq_dist.flatten(-2).index_select(-1, _pairs(n))  # (..., N(N−1)/2): the pairs i < j, row by row
        med_sq = _lower_median(pairs)  # (...,): med², over the N(N−1)/2 pairs
        h = med_sq / math.log(n + 1)
        return h.clamp_min(1e-12)[..., None, None]

    def kernel_and_repulsion(self, particles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See :class:`SteinKernel`."""
        assert particles.dim() >= 2, f"particles must be (..., N, D), got {tuple(particles.shape)}"
        sq_norm = (particles * particles).sum(-1)  # (..., N)
        gram = particles @ particles.transpose(-1, -2)  # (..., N, N)
        sq_dist = (sq_norm.unsqueeze(-1) + sq_norm.unsqueeze(-2) - 2.0 * gram).clamp_min_(0.0)  # (..., N, N)
        h = self.bandwidths(sq_dist)  # (..., 1, 1)
        kernel = torch.exp(-sq_dist / h)  # (..., N, N), symmetric: k_ji = k_ij
        # ∇_{x_j} k(x_j, x_i) = −(2/h) (x_j − x_i) k_ji; summed over j with x_i factored out:
        # (2/h) (x_i Σ_j k_ji − Σ_j k_ji x_j).
        weighted = kernel @ particles  # (..., N, D): row i = Σ_j k_ij x_j (= Σ_j k_ji x_j)
        repulsion = (2.0 / h) * (particles * kernel.sum(-1, keepdim=True) - weighted)  # (..., N, D)
        return kernel, repulsion


@functools.lru_cache(maxsize=16)
def _pairs(n: int) -> torch.Tensor:
    """Flat indices ``i·n + j`` into an ``n × n`` matrix of the ``n(n−1)/2`` pairs ``i < j``, in row order."""
    rows, cols = torch.triu_indices(n, n, offset=1)
    return rows * n + cols


def _lower_median(values: torch.Tensor) -> torch.Tensor:
    """``values.median(dim=-1).values`` ``(...,)``: the lower median of the last axis, NaN where a row holds NaN.

    A median is one element of its row whatever finds it, so on the CPU numpy's selection (``np.partition``, about
    5× faster than torch's median for the meta-learner's 496 pairs) returns the same floats; elsewhere (a GPU,
    autograd, other dtypes) torch's median.
    """
    if values.requires_grad or values.device.type != "cpu" or values.dtype not in (torch.float32, torch.float64):
        return values.median(dim=-1).values
    array = values.numpy()
    k = (array.shape[-1] - 1) // 2
    median = np.partition(array, k, axis=-1)[..., k]  # (...,)
    median[np.isnan(array).any(axis=-1)] = np.nan  # torch's median of a row with NaN is NaN
    return torch.from_numpy(median)


def stein_direction(particles: torch.Tensor, grad_log_p: torch.Tensor, kernel: SteinKernel) -> torch.Tensor:
    """The SVGD update direction φ ``(..., N, D)`` for particles ``(..., N, D)`` with scores ``(..., N, D)``."""
    assert particles.shape == grad_log_p.shape, f"{tuple(particles.shape)} vs {tuple(grad_log_p.shape)}"
    k, repulsion = kernel.kernel_and_repulsion(particles)  # (..., N, N), (..., N, D)
    # k is symmetric for the RBF kernel, but a general kernel need not be: contract over j explicitly.
    return (k.transpose(-1, -2) @ grad_log_p + repulsion) / particles.shape[-2]  # (..., N, D)


def autograd_score(log_prob: LogProb) -> GradLogProb:
    """∇ log p by autograd, for a ``log_prob`` mapping ``(..., N, D)`` to ``(..., N)``."""

    def score(x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            logp = log_prob(x)
            assert logp.shape == x.shape[:-1], f"log_prob must return {tuple(x.shape[:-1])}, got {tuple(logp.shape)}"
            (grad,) = torch.autograd.grad(logp.sum(), x)
        return grad

    return score


@dataclass(frozen=True)
class SVGD:
    """SVGD with an adaptive step: ``adam`` (β = 0.9, 0.999) or ``adagrad`` on the Stein direction.

    ``lr`` is the step size; ``steps`` the number of updates per :meth:`run`. The optimizer state lives
    only inside one :meth:`run`, so warm starts (calling ``run`` again on its output) behave the same as
    a fresh fit from those particles.
    """

    steps: int = 200
    lr: float = 0.05
    optimizer: Optimizer = "adam"
    kernel: SteinKernel = RBFKernel()
    eps: float = 1e-8

    def __post_init__(self) -> None:
        check_int(self.steps, "steps", 1)
        check_number(self.lr, "lr", 0.0, low_open=True)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if not hasattr(self.kernel, "kernel_and_repulsion"):
            raise ValueError(f"kernel must have a kernel_and_repulsion method, got {self.kernel!r}")

    def run(
        self,
        particles: torch.Tensor,
        log_prob: LogProb | None = None,
        *,
        score: GradLogProb | None = None,
    ) -> torch.Tensor:
        """Run ``steps`` SVGD updates from ``particles`` ``(..., N, D)``; returns new particles, same shape.

        Give ``log_prob`` (``(..., N, D) -> (..., N)``, differentiated by autograd) or ``score``
        (``(..., N, D) -> (..., N, D)``, an analytic ∇ log p; faster).
        """
        if (log_prob is None) == (score is None):
            raise ValueError("give exactly one of log_prob or score")
        if particles.dim() < 2 or particles.shape[-2] < 2:
            raise ValueError(f"particles must have shape (..., N, D) with N >= 2, got {tuple(particles.shape)}")
        grad_fn = score if score is not None else autograd_score(log_prob)
        x = particles.detach().clone()
        m = torch.zeros_like(x)  # adam: first moment
        v = torch.zeros_like(x)  # adam: second moment; adagrad: sum of squares
        b1, b2 = 0.9, 0.999
        for t in range(1, self.steps + 1):
            grad = grad_fn(x)
            assert grad.shape == x.shape, f"score must return {tuple(x.shape)}, got {tuple(grad.shape)}"
            phi = stein_direction(x, grad, self.kernel)  # (..., N, D), an ascent direction
            if self.optimizer == "adam":
                m.mul_(b1).add_(phi, alpha=1 - b1)
                v.mul_(b2).addcmul_(phi, phi, value=1 - b2)
                step_size = self.lr * math.sqrt(1 - b2**t) / (1 - b1**t)
                x.addcdiv_(m, v.sqrt().add_(self.eps), value=step_size)
            else:
                v.addcmul_(phi, phi)
                x.addcdiv_(phi, v.sqrt().add_(self.eps), value=self.lr)
        return x


def svgd(
    log_prob: LogProb | None,
    particles: torch.Tensor,
    *,
    score: GradLogProb | None = None,
    steps: int = 200,
    lr: float = 0.05,
    optimizer: Optimizer = "adam",
    kernel: SteinKernel | None = None,
) -> torch.Tensor:
    """Functional form of :meth:`SVGD.run`: particles ``(..., N, D)`` moved towards ``exp(log_prob)``."""
    config = SVGD(steps=steps, lr=lr, optimizer=optimizer, kernel=kernel if kernel is not None else RBFKernel())
    return config.run(particles, log_prob, score=score)
