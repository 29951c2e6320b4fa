"""Bayesian learning-curve model of the meta-learner (SPEC §4): SVGD posteriors over sigmoid curves.

Each curve ``c`` (one per strategy and task) is ``f(n) = σ(w2 · σ(w1 · x + b1) + b2)`` with
``x = n / τ`` the strategy's own pick count rescaled by the horizon, parameters ``θ = (w1, b1, w2, b2)``.
Prior: independent Gaussians on θ. Likelihood: Gaussian on every observed per-task reward, with a
per-curve noise scale estimated from the residuals (shrunk towards ``noise_std``). The posterior of
every curve is represented by ``N`` particles, and all ``C × N`` particles are moved by SVGD in one
batched tensor program with an analytic score. Observations are kept as sufficient statistics in
pick-count bins (at most ``max_bins`` per curve, ``f`` evaluated at each bin's mean observed count), so
the cost of a fit does not grow with the number of trials beyond ``max_bins``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit

from agents.svgd import SVGD

#: Parameter order of θ in the last dimension of every particle tensor.
PARAMS: tuple[str, ...] = ("w1", "b1", "w2", "b2")
#: SVGD settings of a refit: a warm start needs few steps.
DEFAULT_SVGD = SVGD(steps=50, lr=0.05)


@dataclass(frozen=True)
class CurvePrior:
    """Independent Gaussian prior on ``θ = (w1, b1, w2, b2)`` (x = n/τ in [0, 1]).

    The default puts a rising inner sigmoid with its midpoint ``−b1/w1`` mostly inside the episode
    and an outer sigmoid mapping it to rewards that start low (σ(−2) ≈ 0.12) and end high
    (σ(2) ≈ 0.88), with enough spread that flat, late-rising and early-saturating curves are all plausible.
    """

    mean: tuple[float, float, float, float] = (8.0, -3.0, 4.0, -2.0)
    std: tuple[float, float, float, float] = (6.0, 3.0, 3.0, 2.0)

    def __post_init__(self) -> None:
        for field, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != 4 or not all(math.isfinite(float(v)) for v in values):
                raise ValueError(f"prior {field} must be 4 finite numbers (w1, b1, w2, b2), got {values!r}")
        if not all(float(s) > 0 for s in self.std):
            raise ValueError(f"prior std must be 4 positive numbers (w1, b1, w2, b2), got {self.std!r}")


def curve_values(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``σ(w2 · σ(w1 · x + b1) + b2)``: θ ``(..., 4)`` and rescaled counts x ``(..., M)`` → ``(..., M)``."""
    assert theta.shape[-1] == 4, f"theta must end in 4 parameters, got {theta.shape}"
    w1, b1, w2, b2 = (theta[..., k, None] for k in range(4))  # each (..., 1)
    return expit(w2 * expit(w1 * x + b1) + b2)


class CurveModel:
    """SVGD posterior over ``n_curves`` learning curves, ``n_particles`` particles each, warm-started.

    ``observe`` adds rewards; ``fit`` runs SVGD from the current particles; ``particles`` is the
    ``(n_curves, n_particles, 4)`` posterior sample (``dtype``; float32 by default, about twice as fast
    as float64 on CPU). Randomness only from ``generator`` (the prior draws that start the particles).
    """

    def __init__(
        self,
        n_curves: int,
        horizon: int,
        *,
        n_particles: int = 32,
        prior: CurvePrior = CurvePrior(),
        noise_std: float = 0.05,
        noise_prior_weight: float = 10.0,
        max_bins: int = 50,
        svgd: SVGD = DEFAULT_SVGD,
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator,
    ) -> None:
        if n_curves < 1 or horizon < 1 or n_particles < 2 or max_bins < 1:
            raise ValueError(
                f"need n_curves >= 1, horizon >= 1, n_particles >= 2, max_bins >= 1; got "
                f"{n_curves}, {horizon}, {n_particles}, {max_bins}"
            )
        if not (math.isfinite(noise_std) and noise_std > 0):
            raise ValueError(f"noise_std must be a positive number, got {noise_std!r}")
        if not (math.isfinite(noise_prior_weight) and noise_prior_weight > 0):
            raise ValueError(f"noise_prior_weight must be a positive number, got {noise_prior_weight!r}")
        self.n_curves, self.horizon, self.n_particles = n_curves, horizon, n_particles
        self.noise_std, self.noise_prior_weight = noise_std, noise_prior_weight
        self.svgd = svgd
        self.n_bins = min(max_bins, horizon)
        self.bin_width = horizon / self.n_bins  # pick counts per bin
        self.dtype = dtype
        self.prior_mean = torch.tensor(prior.mean, dtype=dtype)  # (4,)
        prior_std = torch.tensor(prior.std, dtype=dtype)  # (4,)
        self.prior_precision = prior_std**-2  # (4,)
        noise = torch.randn(n_curves, n_particles, 4, generator=generator, dtype=dtype)
        self.particles = self.prior_mean + noise * prior_std  # (C, N, 4): prior draws
        # Sufficient statistics per (curve, bin): count, Σx, Σy, Σy².
        self.count = np.zeros((n_curves, self.n_bins))
        self.sum_x = np.zeros((n_curves, self.n_bins))
        self.sum_y = np.zeros((n_curves, self.n_bins))
        self.sum_y2 = np.zeros((n_curves, self.n_bins))
        self.sigma = np.full(n_curves, noise_std)  # (C,) current likelihood noise scale

    @property
    def n_observations(self) -> int:
        """Number of rewards observed so far, over all curves."""
        return int(self.count.sum())

    def observe(self, curves: np.ndarray, n: int, rewards: np.ndarray) -> None:
        """Record ``rewards`` ``(k,)`` of curves ``(k,)`` (indices) at pick count ``n``; NaN rewards are skipped."""
        curves = np.asarray(curves, dtype=np.int64)
        rewards = np.asarray(rewards, dtype=np.float64)
        assert curves.shape == rewards.shape, f"{curves.shape} vs {rewards.shape}"
        if not 0 <= n < self.horizon:
            raise ValueError(f"pick count must lie in [0, {self.horizon - 1}], got {n}")
        keep = ~np.isnan(rewards)
        curves, rewards = curves[keep], rewards[keep]
        b = min(int(n / self.bin_width), self.n_bins - 1)
        x = n / self.horizon
        np.add.at(self.count, (curves, b), 1.0)
        np.add.at(self.sum_x, (curves, b), x)
        np.add.at(self.sum_y, (curves, b), rewards)
        np.add.at(self.sum_y2, (curves, b), rewards * rewards)

    def _binned_data(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Occupied bins only: x ``(C, 1, B)``, count ``(C, 1, B)``, Σy ``(C, 1, B)``, Σy² ``(C, 1, B)``."""
        occupied = np.flatnonzero(self.count.any(axis=0))
        last = occupied[-1] + 1 if occupied.size else 1
        count = self.count[:, :last]
        centres = (np.arange(last) + 0.5) * self.bin_width / self.horizon
        x = np.where(count > 0, self.sum_x[:, :last] / np.maximum(count, 1.0), centres)

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(self.dtype).unsqueeze(1)  # (C, 1, B)

        return t(x), t(count), t(self.sum_y[:, :last]), t(self.sum_y2[:, :last])

    def _update_noise(self, x: torch.Tensor) -> None:
        """Per-curve noise scale: residual variance of the posterior-mean curve, shrunk towards ``noise_std``."""
        f = _forward(self.particles, x)[0].mean(dim=1).double().numpy()  # (C, B): posterior-mean curve
        last = f.shape[1]
        count, sy, sy2 = self.count[:, :last], self.sum_y[:, :last], self.sum_y2[:, :last]
        ssr = np.maximum((sy2 - 2.0 * f * sy + count * f * f).sum(axis=1), 0.0)  # (C,), in float64
        nu = self.noise_prior_weight
        self.sigma = np.sqrt((ssr + nu * self.noise_std**2) / (count.sum(axis=1) + nu))

    def score(self, theta: torch.Tensor, data: tuple[torch.Tensor, ...], inv_var: torch.Tensor) -> torch.Tensor:
        """∇_θ log posterior for particles θ ``(C, N, 4)``; ``inv_var`` ``(C, 1, 1)`` = 1/σ²."""
        x, count, sy, _ = data  # each (C, 1, B)
        f, u = _forward(theta, x)  # (C, N, B) each
        resid = torch.addcmul(sy, count, f, value=-1.0).mul_(inv_var)  # (C, N, B): ∂ log lik / ∂ f
        g2 = resid.mul_(f - f * f)  # ∂/∂ outer pre-activation
        g1 = (g2 * theta[..., 2:3]).mul_(u - u * u)  # ∂/∂ inner pre-activation (w2 = θ[..., 2])
        feats = torch.stack((g1, g2), dim=-2)  # (C, N, 2, B)
        lin = torch.stack((x.expand_as(u), u), dim=-2)  # (C, N, 2, B): multiplies g into the w-gradients
        grad = torch.stack(((feats * lin).sum(-1), feats.sum(-1)), dim=-1).flatten(-2)  # (C, N, 4): w1 b1 w2 b2
        return grad.sub_((theta - self.prior_mean) * self.prior_precision)

    def log_posterior(self, theta: torch.Tensor) -> torch.Tensor:
        """Unnormalised log posterior ``(C, N)`` of particles θ ``(C, N, 4)`` under the current data and σ."""
        x, count, sy, sy2 = self._binned_data()
        f, _ = _forward(theta, x)  # (C, N, B)
        inv_var = torch.from_numpy(self.sigma**-2).to(self.dtype)[:, None]  # (C, 1)
        sq = (sy2 - 2.0 * f * sy + count * f * f).sum(-1)  # (C, N)
        prior = (((theta - self.prior_mean) ** 2) * self.prior_precision).sum(-1)  # (C, N)
        return -0.5 * (sq * inv_var + prior)

    def fit(self, steps: int | None = None) -> None:
        """Move the particles towards the current posterior with SVGD (warm start from the last fit)."""
        data = self._binned_data()
        self._update_noise(data[0])
        inv_var = torch.from_numpy(self.sigma**-2).to(self.dtype)[:, None, None]  # (C, 1, 1)
        runner = self.svgd if steps is None else SVGD(
            steps=steps, lr=self.svgd.lr, optimizer=self.svgd.optimizer, kernel=self.svgd.kernel
        )
        new = runner.run(self.particles, score=lambda theta: self.score(theta, data, inv_var))
        finite = torch.isfinite(new).all(dim=-1, keepdim=True)  # (C, N, 1): guard against a diverged particle
        self.particles = torch.where(finite, new, self.particles)
        assert self.particles.shape == (self.n_curves, self.n_particles, 4)

    def predict(self, n: np.ndarray) -> np.ndarray:
        """Every particle's curve at pick counts ``n`` ``(M,)`` → ``(C, N, M)``."""
        return curve_values(self.particles.double().numpy(), np.asarray(n, dtype=np.float64) / self.horizon)


def _forward(theta: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Curve values ``f`` and inner activations ``u``, both ``(C, N, B)``, for θ ``(C, N, 4)``, x ``(C, 1, B)``."""
    w1, b1, w2, b2 = theta.unbind(-1)  # each (C, N)
    u = torch.sigmoid(w1[..., None] * x + b1[..., None])  # (C, N, B)
    f = torch.sigmoid(w2[..., None] * u + b2[..., None])  # (C, N, B)
    return f, u
