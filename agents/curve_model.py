"""Bayesian learning-curve model of the meta-learner (docs/science/meta-learner.md): SVGD posteriors over curves.

Each curve ``c`` (one per strategy and task) is a function of ``x = n / τ``, the strategy's own pick
count rescaled by the horizon, with parameters in *shape* coordinates ``θ = (log k, log m, lo, hi)``:

    f(x) = σ(lo) + (σ(hi) − σ(lo)) · σ(k (x − m)),   floor σ(lo), ceiling σ(hi), midpoint m, steepness k.

This is our variant of the paper's ``σ(w2 · σ(w1 x + b1) + b2)`` (same inner sigmoid, ``w1 = k``,
``b1 = −k m``; the outer map from the inner sigmoid to rewards is linear between a floor and a
ceiling instead of a second sigmoid). Two reasons (measured in docs/findings/agents-on-learning-curves.md):

- The cost is a multiplicative discount: serial's rewards are ``accuracy / (1 + c)``, a logistic
  scaled to a ceiling of 1/(1+c), which this family contains exactly and the outer sigmoid does not, so
  the paper's form mispredicts a serial curve's level.
- With Gaussians on the weights the floor and the ceiling share ``b2``: rewards near zero on a
  strategy's first picks drag ``b2``, hence the ceiling, down, and the posterior calls a late-learning
  strategy flat for good. In shape coordinates such data
  pin the floor and rule out early midpoints while the ceiling keeps its prior, and a log-normal
  midpoint keeps mass on "rises after many more picks" (even past the horizon).

The paper's own family is available as ``family="paper"``: θ = (w1, b1, w2, b2), ``f(x) = σ(w2 σ(w1 x + b1) + b2)``,
with a Gaussian prior :data:`PAPER_PRIOR` on the weights, for exact reproduction of the paper's model
(score by autograd; everything else — binning, noise, SVGD, rejuvenation — is shared).

Prior: independent Gaussians on θ. Likelihood: Gaussian on every observed per-task reward, with a
per-curve noise scale estimated from the residuals (shrunk towards ``noise_std``). The posterior of
every curve is represented by ``N`` particles, and all ``C × N`` particles are moved by SVGD in one
batched tensor program with an analytic score, followed by a rejuvenation of stranded particles (see
:meth:`CurveModel._rejuvenate`). Observations are kept as sufficient statistics in pick-count bins (at
most ``max_bins`` per curve, ``f`` evaluated at each bin's mean observed count), so the cost of a fit
does not grow with the number of trials beyond ``max_bins``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit

from tradeoff_gym.agents.svgd import SVGD

#: Parameter order of θ (shape coordinates) in the last dimension of every particle tensor.
PARAMS: tuple[str, ...] = ("log_rate", "log_midpoint", "floor", "ceiling")
#: Curve families: ``shape`` (default, see above) and ``paper`` (the paper's σ(w2 σ(w1 x + b1) + b2)).
FAMILIES: tuple[str, ...] = ("shape", "paper")
#: Clamp of log k and log m inside the curve (k, m ∈ [e⁻¹⁰, e⁸]): keeps exp finite for any particle.
LOG_CLAMP: tuple[float, float] = (-10.0, 8.0)
#: SVGD settings of a refit: a warm start needs few steps.
DEFAULT_SVGD = SVGD(steps=50, lr=0.05)


@dataclass(frozen=True)
class CurvePrior:
    """Independent Gaussian prior on ``θ = (log k, log m, lo, hi)`` (x = n/τ in [0, 1]).

    Default: steepness ``k`` ≈ 15 per horizon (×/÷ 2.2 at one std: a rise over 10 %–90 % of the
    episode), midpoint ``m`` ≈ 0.3 τ log-normal (one std: 0.11 τ–0.8 τ; two: 0.04 τ–2.2 τ), floor
    σ(−3) ≈ 0.05 (0.01–0.2), ceiling σ(1.5) ≈ 0.8 (0.38–0.97): curves that start low and rise once,
    early or late, to a high or a moderate level; flat and falling curves keep some mass too.
    """

    mean: tuple[float, float, float, float] = (math.log(15.0), math.log(0.3), -3.0, 1.5)
    std: tuple[float, float, float, float] = (0.8, 1.0, 1.5, 2.0)

    def __post_init__(self) -> None:
        for field, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != 4 or not all(math.isfinite(float(v)) for v in values):
                raise ValueError(f"prior {field} must be 4 finite numbers {PARAMS}, got {values!r}")
        if not all(float(s) > 0 for s in self.std):
            raise ValueError(f"prior std must be 4 positive numbers {PARAMS}, got {self.std!r}")


#: Prior of the ``paper`` family on θ = (w1, b1, w2, b2), x = n/τ: inner sigmoid rising around x ≈ 0.4,
#: outer map from σ(−2) ≈ 0.12 (chance-level start) to σ(2) ≈ 0.88 — broad, as the paper leaves it open.
PAPER_PRIOR = CurvePrior(mean=(8.0, -3.0, 4.0, -2.0), std=(6.0, 3.0, 3.0, 2.0))


def curve_values(theta: np.ndarray, x: np.ndarray, family: str = "shape") -> np.ndarray:
    """Curve values: θ ``(..., 4)`` in ``family``'s coordinates, x ``(..., M)`` → ``(..., M)``.

    ``shape``: ``σ(lo) + (σ(hi) − σ(lo)) σ(k (x − m))``; ``paper``: ``σ(w2 σ(w1 x + b1) + b2)``.
    """
    assert theta.shape[-1] == 4, f"theta must end in 4 parameters, got {theta.shape}"
    if family == "paper":
        w1, b1, w2, b2 = (theta[..., j, None] for j in range(4))  # each (..., 1)
        return expit(w2 * expit(w1 * x + b1) + b2)
    log_k, log_m, lo, hi = (theta[..., j, None] for j in range(4))  # each (..., 1)
    k, m = np.exp(np.clip(log_k, *LOG_CLAMP)), np.exp(np.clip(log_m, *LOG_CLAMP))
    floor, ceiling = expit(lo), expit(hi)
    return floor + (ceiling - floor) * expit(k * (x - m))


class CurveModel:
    """SVGD posterior over ``n_curves`` learning curves, ``n_particles`` particles each, warm-started.

    ``observe`` adds rewards; ``fit`` runs SVGD from the current particles; ``particles`` is the
    ``(n_curves, n_particles, 4)`` posterior sample in shape coordinates (:data:`PARAMS`; ``dtype``,
    float32 by default, about twice as fast as float64 on CPU).
    Randomness only from ``generator`` (the prior draws that start the particles). ``groups`` ``(C,)``
    (optional) gives every curve a group id: curves of one group start from the *same* prior draws
    (common random numbers), so particle ``j`` of similar curves stays similar and one particle index
    drawn for the whole group is a coherent joint hypothesis (the meta-learner groups a strategy's tasks).
    ``rejuvenate_gap`` (nats, 25; ``None`` = off): see :meth:`_rejuvenate`. ``family`` ``"shape"`` (default)
    or ``"paper"`` (the paper's σ(w2 σ(w1 x + b1) + b2); pass :data:`PAPER_PRIOR` or another prior in its
    coordinates).
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
        groups: np.ndarray | None = None,
        rejuvenate_gap: float | None = 25.0,
        family: str = "shape",
        generator: torch.Generator,
    ) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {list(FAMILIES)}, got {family!r}")
        self.family = family
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
        if rejuvenate_gap is not None and not (math.isfinite(rejuvenate_gap) and rejuvenate_gap > 0):
            raise ValueError(f"rejuvenate_gap must be a positive number or None, got {rejuvenate_gap!r}")
        self.rejuvenate_gap = rejuvenate_gap
        self.n_bins = min(max_bins, horizon)
        self.bin_width = horizon / self.n_bins  # pick counts per bin
        self.dtype = dtype
        self.prior_mean = torch.tensor(prior.mean, dtype=dtype)  # (4,)
        prior_std = torch.tensor(prior.std, dtype=dtype)  # (4,)
        self.prior_precision = prior_std**-2  # (4,)
        if groups is None:
            groups = np.arange(n_curves)
        groups = np.asarray(groups)
        if groups.shape != (n_curves,):
            raise ValueError(f"groups must give one group id per curve, shape ({n_curves},), got {groups.shape}")
        _, group_index = np.unique(groups, return_inverse=True)  # (C,): 0 … G−1
        noise = torch.randn(int(group_index.max()) + 1, n_particles, 4, generator=generator, dtype=dtype)  # (G, N, 4)
        self.group_index = torch.from_numpy(group_index.reshape(-1))  # (C,)
        self.n_groups = int(group_index.max()) + 1
        self.generator = generator
        self.prior_std = prior_std
        noise = noise[self.group_index]  # (C, N, 4): shared within a group
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
        f = self._curve(self.particles, x).mean(dim=1).double().numpy()  # (C, B): posterior-mean curve
        last = f.shape[1]
        count, sy, sy2 = self.count[:, :last], self.sum_y[:, :last], self.sum_y2[:, :last]
        ssr = np.maximum((sy2 - 2.0 * f * sy + count * f * f).sum(axis=1), 0.0)  # (C,), in float64
        nu = self.noise_prior_weight
        self.sigma = np.sqrt((ssr + nu * self.noise_std**2) / (count.sum(axis=1) + nu))

    def score(self, theta: torch.Tensor, data: tuple[torch.Tensor, ...], inv_var: torch.Tensor) -> torch.Tensor:
        """∇_θ log posterior for particles θ ``(C, N, 4)``; ``inv_var`` ``(C, 1, 1)`` = 1/σ²."""
        if self.family == "paper":
            return self._paper_score(theta, data, inv_var)
        x, count, sy, _ = data  # each (C, 1, B)
        f, u, z = _forward(theta, x)  # (C, N, B) each
        g = torch.addcmul(sy, count, f, value=-1.0).mul_(inv_var)  # (C, N, B): ∂ log lik / ∂ f
        lo, hi = torch.sigmoid(theta[..., 2:3]), torch.sigmoid(theta[..., 3:4])  # (C, N, 1): floor, ceiling
        gu = g * u
        d_hi = gu.sum(-1) * (hi - hi * hi)[..., 0]  # (C, N)
        d_lo = (g.sum(-1) - gu.sum(-1)) * (lo - lo * lo)[..., 0]
        g1 = (gu - gu * u).mul_(hi - lo)  # (C, N, B): ∂/∂ inner pre-activation z
        d_log_k = (g1 * z).sum(-1)  # ∂z/∂log k = z
        km = torch.exp(theta[..., 0].clamp(*LOG_CLAMP) + theta[..., 1].clamp(*LOG_CLAMP))  # (C, N): k·m
        d_log_m = -km * g1.sum(-1)  # ∂z/∂log m = −k m
        grad = torch.stack((d_log_k, d_log_m, d_lo, d_hi), dim=-1)  # (C, N, 4)
        return grad.sub_((theta - self.prior_mean) * self.prior_precision)

    def _blocked_score(
        self, theta: torch.Tensor, blocks: list[tuple], padded: tuple[torch.Tensor, ...]
    ) -> torch.Tensor:
        """:meth:`score` of stacked models whose data differ in width, the same floats as each block's own score.

        The elementwise work runs once over all rows with the data zero-padded to the widest block (``padded``:
        x, count, Σy, 1/σ², each ``(ΣC, 1, B_max)`` or ``(ΣC, 1, 1)``); every sum over bins runs per block over
        its own width only, so no sum meets a padded bin.
        """
        x, count, sy, inv_var = padded
        f, u, z = _forward(theta, x)  # (ΣC, N, B_max) each
        g = torch.addcmul(sy, count, f, value=-1.0).mul_(inv_var)  # (ΣC, N, B_max): ∂ log lik / ∂ f
        lo, hi = torch.sigmoid(theta[..., 2:3]), torch.sigmoid(theta[..., 3:4])  # (ΣC, N, 1): floor, ceiling
        gu = g * u
        g1 = (gu - gu * u).mul_(hi - lo)  # (ΣC, N, B_max)
        g1z = g1 * z

        def sums(t: torch.Tensor) -> torch.Tensor:  # (ΣC, N): each block's rows summed over its own bins
            return torch.cat([t[a:b, :, : data[0].shape[-1]].sum(-1) for a, b, data, _ in blocks])

        sum_gu = sums(gu)
        d_hi = sum_gu * (hi - hi * hi)[..., 0]  # (ΣC, N)
        d_lo = (sums(g) - sum_gu) * (lo - lo * lo)[..., 0]
        d_log_k = sums(g1z)
        km = torch.exp(theta[..., 0].clamp(*LOG_CLAMP) + theta[..., 1].clamp(*LOG_CLAMP))  # (ΣC, N): k·m
        d_log_m = -km * sums(g1)
        grad = torch.stack((d_log_k, d_log_m, d_lo, d_hi), dim=-1)  # (ΣC, N, 4)
        return grad.sub_((theta - self.prior_mean) * self.prior_precision)

    def _paper_score(self, theta: torch.Tensor, data: tuple[torch.Tensor, ...], inv_var: torch.Tensor) -> torch.Tensor:
        """The ``paper`` family's score by autograd: particles are independent, so ∇ of the summed log
        posterior is each particle's own gradient."""
        x, count, sy, sy2 = data  # each (C, 1, B)
        with torch.enable_grad():
            theta = theta.detach().requires_grad_(True)
            f = self._curve(theta, x)  # (C, N, B)
            sq = (sy2 - 2.0 * f * sy + count * f * f).sum(-1, keepdim=True)  # (C, N, 1)
            prior = (((theta - self.prior_mean) ** 2) * self.prior_precision).sum(-1, keepdim=True)
            logp = -0.5 * (sq * inv_var[..., 0:1] + prior)  # (C, N, 1)
            (grad,) = torch.autograd.grad(logp.sum(), theta)
        return grad

    def _curve(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Curve values ``(C, N, B)`` of particles θ ``(C, N, 4)`` at x ``(C, 1, B)``, in this model's family."""
        if self.family == "paper":
            w1, b1, w2, b2 = (p[..., None] for p in theta.unbind(-1))  # each (C, N, 1)
            return torch.sigmoid(w2 * torch.sigmoid(w1 * x + b1) + b2)
        return _forward(theta, x)[0]

    def log_posterior(self, theta: torch.Tensor) -> torch.Tensor:
        """Unnormalised log posterior ``(C, N)`` of particles θ ``(C, N, 4)`` under the current data and σ."""
        x, count, sy, sy2 = self._binned_data()
        f = self._curve(theta, x)  # (C, N, B)
        inv_var = torch.from_numpy(self.sigma**-2).to(self.dtype)[:, None]  # (C, 1)
        sq = (sy2 - 2.0 * f * sy + count * f * f).sum(-1)  # (C, N)
        prior = (((theta - self.prior_mean) ** 2) * self.prior_precision).sum(-1)  # (C, N)
        return -0.5 * (sq * inv_var + prior)

    def fit(self, steps: int | None = None) -> None:
        """Move the particles towards the current posterior with SVGD (warm start from the last fit)."""
        data, inv_var = self._fit_inputs()
        runner = self.svgd if steps is None else SVGD(
            steps=steps, lr=self.svgd.lr, optimizer=self.svgd.optimizer, kernel=self.svgd.kernel
        )
        new = runner.run(self.particles, score=lambda theta: self.score(theta, data, inv_var))
        self._accept(new, data, inv_var)

    def _fit_inputs(self) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """A fit's binned data (each ``(C, 1, B)``) and ``1/σ²`` ``(C, 1, 1)``, after updating σ."""
        data = self._binned_data()
        self._update_noise(data[0])
        return data, torch.from_numpy(self.sigma**-2).to(self.dtype)[:, None, None]

    def _accept(self, new: torch.Tensor, data: tuple[torch.Tensor, ...], inv_var: torch.Tensor) -> None:
        """Take SVGD's particles ``(C, N, 4)`` where finite, then rejuvenate stranded ones."""
        finite = torch.isfinite(new).all(dim=-1, keepdim=True)  # (C, N, 1): guard against a diverged particle
        self.particles = torch.where(finite, new, self.particles)
        self._rejuvenate(data, inv_var[..., 0])
        assert self.particles.shape == (self.n_curves, self.n_particles, 4)

    @staticmethod
    def fit_together(models: list[CurveModel]) -> None:
        """:meth:`fit` every model, their SVGD runs stacked into one tensor program.

        The same particles as fitting each model alone, bit for bit: SVGD treats the leading axis as independent
        problems, and in the score (the only part that reads the data) every sum over bins runs per data width over
        that width only — the elementwise terms may run over data padded to the widest model, but no sum ever meets
        a padded bin (a sum over more bins would add in another order). All models must share the
        SVGD settings, prior and family (the meta-learner's batch of episodes, docs/agents/index.md#batched-agents).
        """
        first = models[0]
        for model in models[1:]:
            same = (model.svgd, model.family, model.dtype, model.n_particles) == (
                first.svgd, first.family, first.dtype, first.n_particles
            ) and torch.equal(model.prior_mean, first.prior_mean) and torch.equal(model.prior_std, first.prior_std)
            if not same:
                raise ValueError("fit_together needs models with one SVGD, prior, family, dtype and particle count")
        inputs = [model._fit_inputs() for model in models]
        groups: dict[int, list[int]] = {}
        for i, (data, _) in enumerate(inputs):
            groups.setdefault(data[0].shape[-1], []).append(i)
        order = [i for members in groups.values() for i in members]  # models of one width next to each other
        blocks = []  # (first row, last row + 1, data, 1/σ²) of each width's models in the stacked particles
        row = 0
        for members in groups.values():
            data = tuple(torch.cat([inputs[i][0][j] for i in members]) for j in range(4))  # each (ΣC_g, 1, B)
            inv_var = torch.cat([inputs[i][1] for i in members])  # (ΣC_g, 1, 1)
            rows = sum(models[i].n_curves for i in members)
            blocks.append((row, row + rows, data, inv_var))
            row += rows

        def score(theta: torch.Tensor) -> torch.Tensor:  # (ΣC, N, 4): each width's score on its own rows
            if first.family == "shape" and len(blocks) > 1:
                return first._blocked_score(theta, blocks, padded)
            return torch.cat([first.score(theta[a:b], data, inv_var) for a, b, data, inv_var in blocks])

        padded = _pad_blocks(blocks) if first.family == "shape" and len(blocks) > 1 else None

        particles = torch.cat([models[i].particles for i in order])  # (ΣC, N, 4)
        new = first.svgd.run(particles, score=score)  # the kernel and the steps: one program for all models
        for i, part in zip(order, new.split([models[i].n_curves for i in order])):
            models[i]._accept(part, *inputs[i])

    def _rejuvenate(self, data: tuple[torch.Tensor, ...], inv_var: torch.Tensor) -> None:
        """Move stranded particles (log posterior ``rejuvenate_gap`` nats below the group's best) next to good ones.

        A particle whose midpoint lies far beyond the data sees the data only through the logistic's
        flat tail, where every gradient vanishes: SVGD then leaves it for hundreds of steps on a
        hypothesis the data have refuted (e.g. a serial ceiling of 0.9 after its curve has flattened at
        0.5), and a Thompson draw that lands on it plays the wrong strategy. Such particles are copied
        onto a uniformly chosen particle within the gap, plus jitter of 0.05 prior std. Decisions and
        copies are per group (summed log posterior; same parent and jitter for every curve of a group),
        so particle ``j`` stays one joint hypothesis. A genuine posterior sample almost never falls 25
        nats below the mode: ½χ²₄ > 25 has probability ~4e−10, ½χ²₁₆ (a group of 4 curves) ~2e−5.
        """
        if self.rejuvenate_gap is None:
            return
        x, count, sy, sy2 = data
        f = self._curve(self.particles, x)  # (C, N, B)
        sq = (sy2 - 2.0 * f * sy + count * f * f).sum(-1)  # (C, N)
        prior = (((self.particles - self.prior_mean) ** 2) * self.prior_precision).sum(-1)  # (C, N)
        logp = -0.5 * (sq * inv_var + prior)  # (C, N)
        group_logp = logp.new_zeros(self.n_groups, self.n_particles).index_add_(0, self.group_index, logp)  # (G, N)
        good = group_logp >= group_logp.max(dim=1, keepdim=True).values - self.rejuvenate_gap  # (G, N)
        if bool(good.all()):
            return
        parents = torch.multinomial(good.to(logp.dtype), self.n_particles, replacement=True, generator=self.generator)
        jitter = 0.05 * self.prior_std * torch.randn(
            self.n_groups, self.n_particles, 4, generator=self.generator, dtype=self.dtype
        )  # (G, N, 4)
        gi = self.group_index
        moved = self.particles.gather(1, parents[gi][..., None].expand(-1, -1, 4)) + jitter[gi]  # (C, N, 4)
        self.particles = torch.where(good[gi][..., None], self.particles, moved)

    def predict(self, n: np.ndarray) -> np.ndarray:
        """Every particle's curve at pick counts ``n`` ``(M,)`` → ``(C, N, M)``."""
        return curve_values(
            self.particles.double().numpy(), np.asarray(n, dtype=np.float64) / self.horizon, self.family
        )


def _pad_blocks(blocks: list[tuple]) -> tuple[torch.Tensor, ...]:
    """x, count, Σy ``(ΣC, 1, B_max)`` of stacked blocks, zero-padded to the widest (x by its last bin), and 1/σ²."""
    width = max(data[0].shape[-1] for _, _, data, _ in blocks)

    def pad(t: torch.Tensor, mode: str) -> torch.Tensor:
        return torch.nn.functional.pad(t, (0, width - t.shape[-1]), mode=mode)

    x = torch.cat([pad(data[0], "replicate") for _, _, data, _ in blocks])  # past a block's width: its last x
    count = torch.cat([pad(data[1], "constant") for _, _, data, _ in blocks])  # 0: no data there
    sy = torch.cat([pad(data[2], "constant") for _, _, data, _ in blocks])
    inv_var = torch.cat([inv for _, _, _, inv in blocks])  # (ΣC, 1, 1)
    return x, count, sy, inv_var


def _forward(theta: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Curve ``f``, inner activation ``u`` and inner pre-activation ``z``, each ``(C, N, B)``, for θ
    ``(C, N, 4)`` in shape coordinates and x ``(C, 1, B)``."""
    log_k, log_m, lo, hi = (p[..., None] for p in theta.unbind(-1))  # each (C, N, 1)
    k, m = torch.exp(log_k.clamp(*LOG_CLAMP)), torch.exp(log_m.clamp(*LOG_CLAMP))
    z = k * (x - m)  # (C, N, B)
    u = torch.sigmoid(z)
    floor, ceiling = torch.sigmoid(lo), torch.sigmoid(hi)
    f = torch.addcmul(floor, ceiling - floor, u)  # (C, N, B)
    return f, u, z
