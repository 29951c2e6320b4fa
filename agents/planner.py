"""The planner: a cost-blind Bayesian agent that values plans under a prior over whole worlds.

Why: on independent rising arms the best a learner can do in hindsight is one strategy for the whole episode
(every switch wastes practice), so the question is *which* strategy, asked while the rewards that answer it are
still to come. The planner keeps an exact posterior over each strategy's learning curve and the hidden discount,
jointly with *which kind of world* it is in (a mixture prior: a family's train worlds, fitted; or one broad
component, the universal default), and every ``block`` of trials values the plans "commit to ``a``" and "probe
``b`` for ``L`` trials, then commit to what the posterior prefers by then" by their expected reward to the end of
the episode. Settings: docs/agents/builtin.md; design, measurements on train splits and where it stops:
docs/findings/planner.md.

**Model.** Strategy ``a``'s expected reward after ``n`` picks of it is ``s_a · σ(k_a (n − m_a))``: a logistic curve
in its own pick count (rested) scaled by its payoff ``s_a = 1 / (1 + x_a)``, ``x_a`` the discount it pays (``d_a·c``;
0 for a strategy with ``serial`` False). A trial's reward ÷ ``s_a`` is read as the share of successes among
``examples × n_tasks`` Bernoulli trials of the accuracy ``p`` (binomial; ``likelihood="gaussian"``: a Gaussian of
variance ``s² p (1 − p) / (examples × n_tasks) + model_noise²``): the tails of a curve that has not risen yet (a few
correct answers in hundreds) say how soon it will.

**Posterior.** Per strategy a grid over ``(k·τ, m/τ, x)`` (log-spaced rates, so a prior is per unit of τ and carries
over to any horizon) holding the log-likelihood of that strategy's rewards. The prior is a mixture of components,
each a product over strategies of Gaussian kernels on the grid centred on one world's parameters (bandwidth
``PlannerPrior.bandwidth``), plus the broad component (uniform on the grid) with weight ``broad``. The mixture's
posterior is exact on the grid: component weights ∝ prior × Π_a (marginal likelihood of a's rewards under the
component), and each strategy's posterior is the component-weighted kernel × likelihood. Components tie the
strategies together: what one strategy's rewards say about the world moves the others' curves.

**Decision** (every ``block·τ`` trials, at least one). Draw ``n_particles`` joint worlds from the posterior; the
first ``n_truths`` of them play the truth. The values of "commit to ``a``" for every strategy and, for every strategy
``b`` and ``L`` in ``looks`` blocks, of "probe ``b`` for ``L`` trials, then commit to the strategy the particles,
reweighted by the probe's expected rewards under that truth, prefer" are averaged over the truths (common random
numbers). The first decision plays the best plan's first action; later ones leave the strategy being played only
when the best plan's gain over the best plan that keeps it exceeds ``margin`` standard errors of the paired
difference over the truths.

Cost-blind: reads rewards and the reset info (``strategies``, ``serial``, ``horizon``, ``n_tasks``) only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, gammaln, logsumexp

from tradeoff_gym.agents.base import BaseAgent, check_reward
from tradeoff_gym.envs.interface import SERIAL_FLAGS
from tradeoff_gym.learners.checks import check_choice, check_int, check_number

#: The grid of every strategy's curve: rate per horizon ``k·τ`` (log-spaced), midpoint ``m/τ``, discount ``x``.
RATE_GRID = np.geomspace(4.0, 200.0, 24)
MIDPOINT_GRID = np.linspace(-0.1, 1.1, 49)
DISCOUNT_GRID = np.linspace(0.0, 1.0, 11)
#: Kernel widths of a fitted prior's components on (log k·τ, m/τ, x).
DEFAULT_BANDWIDTH = (0.15, 0.03, 0.05)
#: Log-likelihood lost per success beyond what a payoff allows (a reward above the payoff is impossible).
LOG_IMPOSSIBLE = 50.0
#: How a reward is read: the share of successes of binomial trials, or a Gaussian with that variance + model noise.
LIKELIHOODS = ("binomial", "gaussian")
#: How a prior's worlds meet an episode's table: same serial flags only, or any size mapped by position.
TABLE_RULES = ("exact", "position")
#: What a saved prior file says it is.
PRIOR_KIND = "tradeoff-gym planner prior"


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


@dataclass(frozen=True)
class World:
    """One component's centre: a world's strategies as (k·τ, m/τ, x) per strategy, with their serial flags."""

    serial: tuple[bool, ...]
    rate: tuple[float, ...]
    midpoint: tuple[float, ...]
    discount: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.serial)
        if n < 1 or not all(len(v) == n for v in (self.rate, self.midpoint, self.discount)):
            raise ValueError(f"a world needs one rate, midpoint and discount per strategy ({n}), got {self!r}")
        for r in self.rate:
            check_number(r, "rate (k·τ)", 0.0, low_open=True)
        for x, s in zip(self.discount, self.serial):
            check_number(x, "discount", 0.0, 1.0)
            if not s and x != 0.0:
                raise ValueError(f"a strategy that is not serial pays no discount, got {x}")


@dataclass(frozen=True)
class PlannerPrior:
    """A mixture-of-worlds prior: ``worlds`` (component centres) and the kernel ``bandwidth`` on (log k·τ, m/τ, x).

    An episode uses the worlds whose serial flags equal its strategy table's; with none, only the broad component.
    ``source`` says where the worlds come from (the fitting command). Saved and read as JSON (:meth:`save`,
    :meth:`load`); ``fit`` builds one from a world family's train split (:func:`fit_prior`).
    """

    worlds: tuple[World, ...] = ()
    bandwidth: tuple[float, float, float] = DEFAULT_BANDWIDTH
    source: str = "universal"
    #: The broad component: uniform over the grid's rates k·τ and midpoints m/τ inside these ranges.
    broad_rate: tuple[float, float] = (10.0, 100.0)
    broad_midpoint: tuple[float, float] = (-0.1, 1.1)
    #: ... and over the grid's discounts x inside this range (a serial strategy's payoff 1 / (1 + x)).
    broad_discount: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if len(self.bandwidth) != 3:
            raise ValueError(f"bandwidth must be (log rate, midpoint, discount), got {self.bandwidth!r}")
        for b in self.bandwidth:
            check_number(b, "bandwidth", 0.0, low_open=True)
        for name, grid in (("broad_rate", RATE_GRID), ("broad_midpoint", MIDPOINT_GRID),
                           ("broad_discount", DISCOUNT_GRID)):
            low, high = (check_number(v, name, -math.inf) for v in getattr(self, name))
            if low > high or not ((grid >= low - 1e-9) & (grid <= high + 1e-9)).any():
                raise ValueError(f"{name} must be a (low, high) range holding a grid value "
                                 f"({grid[0]:.3g} … {grid[-1]:.3g}), got {getattr(self, name)!r}")

    def matching(self, serial: Sequence[bool], tables: str = "exact") -> list[World]:
        """The components for a table with these serial flags: with ``tables="exact"`` the worlds whose table has
        exactly these flags; with ``"position"`` also every world whose first and last strategies' flags are the
        table's, mapped onto it by position (:func:`map_by_position`). Why: a family whose tables differ in size
        (lc-wide) otherwise informs each episode with only the few fit worlds of its size."""
        serial = tuple(bool(s) for s in serial)
        if check_choice(tables, TABLE_RULES, "tables") == "exact":
            return [w for w in self.worlds if w.serial == serial]
        return [map_by_position(w, serial) for w in self.worlds
                if w.serial == serial or (w.serial[0] == serial[0] and w.serial[-1] == serial[-1])]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": PRIOR_KIND, "source": self.source, "bandwidth": list(self.bandwidth),
                "broad_rate": list(self.broad_rate), "broad_midpoint": list(self.broad_midpoint),
                "broad_discount": list(self.broad_discount),
                "worlds": [{"serial": list(w.serial), "rate": list(w.rate), "midpoint": list(w.midpoint),
                            "discount": list(w.discount)} for w in self.worlds]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "prior") -> PlannerPrior:
        if not isinstance(data, dict) or data.get("kind") != PRIOR_KIND:
            raise ValueError(f"{where} is not a planner prior (needs \"kind\": {PRIOR_KIND!r})")
        try:
            worlds = tuple(World(tuple(bool(s) for s in w["serial"]), tuple(map(float, w["rate"])),
                                 tuple(map(float, w["midpoint"])), tuple(map(float, w["discount"])))
                           for w in data["worlds"])
            broad = {key: tuple(map(float, data[key])) for key in ("broad_rate", "broad_midpoint", "broad_discount")
                     if key in data}
            return cls(worlds, tuple(map(float, data["bandwidth"])), str(data.get("source", "")), **broad)
        except (KeyError, TypeError) as err:
            raise ValueError(f"{where}: malformed planner prior ({err})") from err

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PlannerPrior:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"planner prior file {str(path)!r} does not exist")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"planner prior file {str(path)!r} is not JSON: {err}") from err
        return cls.from_dict(data, where=f"planner prior file {str(path)!r}")


def map_by_position(world: World, serial: Sequence[bool]) -> World:
    """``world``'s strategies carried onto a table with the flags ``serial`` by their relative position in the
    table (strategy ``j`` of ``S`` at ``j / (S − 1)``): log rate, midpoint and discount interpolated linearly
    between the world's strategies at their own positions; a strategy that is not serial pays no discount. The
    same table is returned unchanged. Why: tables ordered from most to least serial (schedules paying a falling
    share of the cost) keep their order's meaning at any size."""
    serial = tuple(bool(s) for s in serial)
    if world.serial == serial:
        return world
    here = np.linspace(0.0, 1.0, len(serial)) if len(serial) > 1 else np.zeros(1)
    there = np.linspace(0.0, 1.0, len(world.serial)) if len(world.serial) > 1 else np.zeros(1)
    rate = np.exp(np.interp(here, there, np.log(world.rate)))
    midpoint = np.interp(here, there, world.midpoint)
    discount = np.where(serial, np.interp(here, there, world.discount), 0.0)
    return World(serial, tuple(map(float, rate)), tuple(map(float, midpoint)), tuple(map(float, discount)))


def _kernel(grid: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """``(I, len(grid))``: each centre's Gaussian kernel on the grid, normalised to sum 1 (a point mass on the
    nearest grid value where the kernel is narrower than the spacing)."""
    if centres.size == 0:
        return np.zeros((0, grid.size))
    d = (grid[None, :] - centres[:, None]) / width
    logk = -0.5 * d * d
    logk -= logk.max(axis=1, keepdims=True)
    k = np.exp(logk)
    return k / k.sum(axis=1, keepdims=True)


class _Strategy:
    """One strategy's grid, its log-likelihood and its prior kernels (one row per component + the broad one)."""

    def __init__(self, serial: bool, horizon: int, worlds: list[World], a: int, bandwidth: tuple[float, float, float],
                 broad: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]):
        self.k = RATE_GRID / horizon  # per pick
        self.m = MIDPOINT_GRID * horizon  # picks
        x = DISCOUNT_GRID if serial else np.zeros(1)
        self.s = 1.0 / (1.0 + x)
        self.shape = (self.k.size, self.m.size, self.s.size)
        self.ll = np.zeros(self.shape)
        kk = _kernel(np.log(RATE_GRID), np.log(np.array([w.rate[a] for w in worlds], dtype=float)), bandwidth[0])
        km = _kernel(MIDPOINT_GRID, np.array([w.midpoint[a] for w in worlds]), bandwidth[1])
        discounts = np.array([w.discount[a] for w in worlds])
        kx = _kernel(x, discounts, bandwidth[2]) if serial else np.ones((len(worlds), 1))
        # the broad component: uniform on the grid inside its ranges
        bk = ((RATE_GRID >= broad[0][0] - 1e-9) & (RATE_GRID <= broad[0][1] + 1e-9)).astype(float)
        bm = ((MIDPOINT_GRID >= broad[1][0] - 1e-9) & (MIDPOINT_GRID <= broad[1][1] + 1e-9)).astype(float)
        self.kk = np.vstack([kk, bk / bk.sum()])
        self.km = np.vstack([km, bm / bm.sum()])
        bx = ((x >= broad[2][0] - 1e-9) & (x <= broad[2][1] + 1e-9)).astype(float) if serial else np.ones(1)
        self.kx = np.vstack([kx, bx[None, :] / bx.sum()])
        self.K = self.k[:, None, None]
        self.M = self.m[None, :, None]
        self.S = self.s[None, None, :]

    def mean_var(self, picks: np.ndarray | float, examples: float, model_var: float) -> tuple[np.ndarray, np.ndarray]:
        p = expit(self.K * (picks - self.M))
        mean = self.S * p
        return mean, self.S * self.S * p * (1.0 - p) / examples + model_var

    def means_at(self, flat: np.ndarray, picks: np.ndarray) -> np.ndarray:
        """``(len(flat), len(picks))``: the expected reward of grid points ``flat`` (flat indices) at ``picks``."""
        k, m, x = np.unravel_index(flat, self.shape)
        return self.s[x][:, None] * expit(self.k[k][:, None] * (picks[None, :] - self.m[m][:, None]))

    def log_likelihood(self, reward: float, picks: float, examples: float) -> np.ndarray:
        """Per grid point, the log-likelihood of one reward: ``reward / s`` read as the share of ``examples``
        Bernoulli trials that succeeded with probability ``σ(k (picks − m))`` (binomial, continued to
        non-integer counts by the gamma function); a reward above ``s`` is impossible for that payoff."""
        p = np.clip(expit(self.K * (picks - self.M)), 1e-12, 1.0 - 1e-12)
        x = reward * examples / self.S  # (1, 1, nx) successes under each payoff
        over = np.maximum(x - examples, 0.0)
        x = np.clip(x, 0.0, examples)
        log_choose = gammaln(examples + 1.0) - gammaln(x + 1.0) - gammaln(examples - x + 1.0)
        return log_choose + x * np.log(p) + (examples - x) * np.log1p(-p) - LOG_IMPOSSIBLE * over

    def values_at(self, flat: np.ndarray, picks: float, remaining: float) -> np.ndarray:
        """Expected reward of the next ``remaining`` picks from ``picks`` on, at grid points ``flat`` (flat indices;
        midpoint rule)."""
        if remaining <= 0:
            return np.zeros(flat.size)
        k, m, x = np.unravel_index(flat, self.shape)
        rate, mid = self.k[k], self.m[m]
        hi = _softplus(rate * (picks + remaining - 0.5 - mid))
        lo = _softplus(rate * (picks - 0.5 - mid))
        return self.s[x] * (hi - lo) / rate

    def evidence(self) -> tuple[np.ndarray, np.ndarray]:
        """(log Z per component ``(I+1,)``, the likelihood ``exp(ll − max)``): Z_i = Σ_g kernel_i(g) L(g)."""
        top = self.ll.max()
        like = np.exp(self.ll - top)
        t = np.tensordot(like, self.kx, axes=([2], [1]))  # (nk, nm, I)
        t = np.einsum("kmi,im->ki", t, self.km)
        z = np.einsum("ki,ik->i", t, self.kk)
        return np.log(np.maximum(z, 1e-300)) + top, like

    def sample(self, comps: np.ndarray, like: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Flat grid indices drawn from the conditional posterior of each drawn component in ``comps``."""
        out = np.empty(comps.size, dtype=np.int64)
        for i in np.unique(comps):
            where = np.flatnonzero(comps == i)
            cond = (self.kk[i][:, None, None] * self.km[i][None, :, None] * self.kx[i][None, None, :] * like).ravel()
            total = cond.sum()
            cdf = np.cumsum(cond / total) if total > 0 else np.linspace(1 / cond.size, 1, cond.size)
            out[where] = np.minimum(np.searchsorted(cdf, rng.random(where.size) * cdf[-1]), cond.size - 1)
        return out


@cache
def _family_prior(family: str) -> PlannerPrior:
    """``fit_prior(family)``, once per process (a prior is immutable; a sweep builds one agent per run)."""
    return fit_prior(family)


def resolve_prior(prior: PlannerPrior | str | Path | None) -> PlannerPrior:
    """A :class:`PlannerPrior` from ``prior``: None (universal), a prior, a published LearningCurves family's name
    (fitted on its train split, :func:`fit_prior`) or the path of a saved prior file."""
    if prior is None:
        return PlannerPrior()
    if isinstance(prior, PlannerPrior):
        return prior
    if isinstance(prior, (str, Path)):
        from tradeoff_gym.envs.families import FAMILIES

        if str(prior) in FAMILIES:
            return _family_prior(str(prior))
        if Path(prior).suffix == ".json" or Path(prior).exists():
            return PlannerPrior.load(prior)
        raise ValueError(f"prior must be a family name ({sorted(FAMILIES)}), a saved prior file (.json) or "
                         f"None (universal), got {prior!r}")
    raise ValueError(f"prior must be a PlannerPrior, a family name, a path to a saved prior or None, got {prior!r}")


class PlannerAgent(BaseAgent):
    """Cost-blind Bayesian planner over a mixture-of-worlds prior (see the module docstring).

    Keyword-only settings: ``prior`` a :class:`PlannerPrior`, a LearningCurves family's name (fitted on its train
    split), a saved prior file (.json), or None (universal: the broad component only); ``broad`` the broad
    component's weight beside a fitted prior's worlds (0.05); ``block``
    decision interval as a fraction of τ (0.01); ``looks`` probe lengths in blocks (1, 2, 4, …, 64);
    ``n_particles`` joint worlds drawn per decision (512), the first ``n_truths`` (64) taken as the truth;
    ``points`` evaluation points of a probe (6); ``examples`` Bernoulli trials a reward averages (per task:
    ``examples × n_tasks``; 64); ``model_noise`` reward noise beyond the binomial (0.003); ``margin`` standard
    errors a plan's gain needs before the planner leaves its strategy (2); ``likelihood`` ``"binomial"`` or
    ``"gaussian"``; ``tables`` how a fitted prior's worlds meet the episode's table (``"position"``: worlds of
    other sizes mapped by position, :meth:`PlannerPrior.matching`; ``"exact"``: the same serial flags only).
    """

    name = "planner"

    def __init__(
        self,
        *,
        prior: PlannerPrior | str | Path | None = None,
        broad: float = 0.05,
        block: float = 0.01,
        looks: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
        n_particles: int = 512,
        n_truths: int = 64,
        points: int = 6,
        examples: int = 64,
        model_noise: float = 0.003,
        margin: float = 2.0,
        likelihood: str = "binomial",
        tables: str = "position",
    ) -> None:
        self.prior = resolve_prior(prior)
        self.broad = check_number(broad, "broad", 0.0, 1.0, low_open=True)
        self.block_fraction = check_number(block, "block", 0.0, 1.0, low_open=True)
        if isinstance(looks, (str, bytes)) or not isinstance(looks, Sequence) or not looks:
            raise ValueError(f"looks must be a non-empty list of block counts >= 1, got {looks!r}")
        self.looks = tuple(check_int(v, "looks", 1) for v in looks)
        self.n_particles = check_int(n_particles, "n_particles", 2)
        self.n_truths = check_int(n_truths, "n_truths", 1)
        if self.n_truths > self.n_particles:
            raise ValueError(f"n_truths ({n_truths}) must be <= n_particles ({n_particles})")
        self.points = check_int(points, "points", 1)
        self.examples = check_int(examples, "examples", 1)
        self.model_noise = check_number(model_noise, "model_noise", 0.0)
        self.margin = check_number(margin, "margin", 0.0)
        self.likelihood = check_choice(likelihood, LIKELIHOODS, "likelihood")
        self.tables = check_choice(tables, TABLE_RULES, "tables")

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: grids for every strategy, the prior's matching worlds as components."""
        super().reset(info, rng)
        serial = tuple(bool(s) for s in info[SERIAL_FLAGS])
        worlds = self.prior.matching(serial, self.tables)
        self.log_pi = np.log(np.append(np.full(len(worlds), (1.0 - self.broad) / max(len(worlds), 1)),
                                       self.broad if worlds else 1.0))
        broad = (self.prior.broad_rate, self.prior.broad_midpoint, self.prior.broad_discount)
        self.arms = [_Strategy(s, self.horizon, worlds, a, self.prior.bandwidth, broad) for a, s in enumerate(serial)]
        self.n = np.zeros(self.n_actions, dtype=np.int64)
        self.t = 0
        self.block = max(1, int(round(self.block_fraction * self.horizon)))
        self.action = 0
        self.hold = 0
        self.per_trial = float(self.examples * self.n_tasks)
        self.model_var = self.model_noise**2

    # ----------------------------------------------------------------------------------------------- posterior
    def _posterior(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """(component weights, each strategy's likelihood on its grid)."""
        log_post = self.log_pi.copy()
        likes = []
        for arm in self.arms:
            log_z, like = arm.evidence()
            log_post = log_post + log_z
            likes.append(like)
        log_post -= logsumexp(log_post)
        return np.exp(log_post), likes

    def decide(self) -> int:
        """The first action of the best plan (see the module docstring)."""
        remaining = self.horizon - self.t
        pi, likes = self._posterior()
        rng = self.rng
        comps = rng.choice(pi.size, size=self.n_particles, p=pi)
        particles = [arm.sample(comps, like, rng) for arm, like in zip(self.arms, likes)]
        h = self.n_truths
        now = np.stack([arm.values_at(particles[a][:h], self.n[a], remaining) for a, arm in enumerate(self.arms)])
        # plan -> (first action, its value under each truth); "commit to a" for every strategy a
        plans: list[tuple[int, np.ndarray]] = [(a, now[a]) for a in range(self.n_actions)]
        for b, arm in enumerate(self.arms):
            for look in self.looks:
                length = look * self.block
                if length >= remaining:
                    break
                plans.append((b, self._probe_value(b, arm, length, remaining, particles)))
        values = np.array([v.mean() for _, v in plans])
        top = int(np.argmax(values))
        if self.t == 0:
            return plans[top][0]
        stay = [i for i, (a, _) in enumerate(plans) if a == self.action]
        keep = stay[int(np.argmax(values[stay]))]
        diff = plans[top][1] - plans[keep][1]
        if plans[top][0] != self.action and diff.mean() > self.margin * diff.std(ddof=1) / math.sqrt(h):
            return plans[top][0]
        return self.action

    def _probe_value(self, b: int, arm: _Strategy, length: int, remaining: int,
                     particles: list[np.ndarray]) -> np.ndarray:
        """``(n_truths,)``: the value of "play ``b`` for ``length`` trials, then commit" under each truth."""
        h = self.n_truths
        after = np.stack([
            other.values_at(particles[a], self.n[a] + (length if a == b else 0), remaining - length)
            for a, other in enumerate(self.arms)
        ])
        probe = arm.values_at(particles[b][:h], self.n[b], length)
        picks = self.n[b] + (np.arange(self.points) + 0.5) * length / self.points
        mu = np.clip(arm.means_at(particles[b], picks), 1e-9, 1.0 - 1e-9)  # (Np, P)
        q = mu[:h]
        # expected log-likelihood ratio of a probe's rewards: examples × Bernoulli KL(truth || particle) per trial,
        # as matrix products: Σ_p q log q + (1 − q) log(1 − q) − q log μ − (1 − q) log(1 − μ)
        own = (q * np.log(q) + (1.0 - q) * np.log1p(-q)).sum(axis=1, keepdims=True)
        cross = q @ np.log(mu).T + (1.0 - q) @ np.log1p(-mu).T  # (h, Np)
        logw = -self.per_trial * (own - cross) * (length / self.points)
        logw -= logw.max(axis=1, keepdims=True)
        w = np.exp(logw)
        w /= w.sum(axis=1, keepdims=True)
        pick = np.argmax(w @ after.T, axis=1)  # (h,) the commitment after the probe
        return probe + after[pick, np.arange(h)]

    # ----------------------------------------------------------------------------------------------- protocol
    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Hold the current plan's action within a block; decide anew at each block's start."""
        if self.hold <= 0:
            self.action = self.decide()
            self.hold = self.block
        self.hold -= 1
        return self.action

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Add the reward's log-likelihood to the played strategy's grid."""
        reward = check_reward(reward)
        arm = self.arms[action]
        picks = float(self.n[action])
        if self.likelihood == "binomial":
            if not 0.0 <= reward <= 1.0:
                raise ValueError(f"the planner's binomial likelihood reads a reward as a share of successes in [0, 1], "
                                 f"got {reward!r}; use likelihood='gaussian' for rewards on another scale")
            arm.ll += arm.log_likelihood(reward, picks, self.per_trial)
        else:
            mean, var = arm.mean_var(picks, self.per_trial, self.model_var)
            arm.ll += -0.5 * ((reward - mean) ** 2 / var + np.log(var))
        self.n[action] += 1
        self.t += 1


def world_of(settings: dict[str, Any]) -> World:
    """The planner's view of a LearningCurves world's settings (``curves`` logistic, ``cost`` a number)."""
    from tradeoff_gym.envs.learning_curves import LearningCurvesConfig, LogisticCurve

    missing = [k for k in ("curves", "cost") if k not in settings]
    if missing:
        raise ValueError(f"a fitted world needs LearningCurves settings with {missing}, got {sorted(settings)}")
    keep = {k: v for k, v in settings.items() if k in ("horizon", "curves", "strategies", "cost")}
    config = LearningCurvesConfig(**keep)
    if not isinstance(config.cost, (int, float)):
        raise ValueError(f"a fitted world needs a fixed cost, got {config.cost!r}")
    rates, mids = [], []
    for curve in config.curves:
        if not isinstance(curve, LogisticCurve):
            raise ValueError(f"the planner fits logistic curves (one per strategy), got {curve!r}")
        rates.append(curve.rate * config.horizon)
        mids.append(curve.midpoint / config.horizon)
    return World(tuple(s.serial for s in config.strategies), tuple(rates), tuple(mids),
                 tuple(float(s.delay) * float(config.cost) for s in config.strategies))


def scott_bandwidth(worlds: Sequence[World]) -> tuple[float, float, float]:
    """Scott's rule per coordinate: the worlds' spread (std over worlds and strategies) × n^(−1/(d+4)), d = the
    world's dimension (rate and midpoint per strategy, one discount)."""
    if len(worlds) < 2:
        raise ValueError(f"a bandwidth needs at least 2 worlds, got {len(worlds)}")
    logr = np.concatenate([np.log(w.rate) for w in worlds])
    mid = np.concatenate([w.midpoint for w in worlds])
    disc = np.array([max(w.discount) for w in worlds])
    d = 2 * max(len(w.serial) for w in worlds) + 1
    factor = len(worlds) ** (-1.0 / (d + 4))
    return tuple(float(max(v.std() * factor, floor)) for v, floor in ((logr, 0.05), (mid, 0.01), (disc, 0.02)))


def fit_prior(family: str, worlds: Sequence[int] | None = None,
              bandwidth: tuple[float, float, float] | str = "scott") -> PlannerPrior:
    """Empirical Bayes: a prior whose components are ``family``'s train worlds (or the given ``worlds``);
    ``bandwidth`` the kernel widths or ``"scott"`` (:func:`scott_bandwidth`)."""
    centres = family_worlds(family, worlds)
    width = scott_bandwidth(centres) if bandwidth == "scott" else tuple(bandwidth)
    return PlannerPrior(centres, width, f"fit_prior({family!r}, worlds={len(centres)} train worlds)")


def family_worlds(family: str, worlds: Sequence[int] | None = None) -> tuple[World, ...]:
    """The planner's view (:func:`world_of`) of ``family``'s train worlds (or the given ``worlds``); a ValueError for
    a family of another env than LearningCurves."""
    from tradeoff_gym.envs.families import LC_ID, get_family

    fam = get_family(family)
    if fam.env_id != LC_ID:
        raise ValueError(f"the planner fits LearningCurves families (env {LC_ID}); {family!r} is a family of "
                         f"{fam.env_id}, which it does not model yet")
    return tuple(world_of(fam.settings(w)) for w in (fam.train if worlds is None else tuple(worlds)))


def pool_prior(families: Sequence[str], per_family: int | None = None,
               bandwidth: tuple[float, float, float] | str = "scott") -> PlannerPrior:
    """A prior pooled over several families: the first ``per_family`` train worlds of each (all with None), so that
    each family weighs alike when ``per_family`` is at most the smallest train split; ``bandwidth`` as in
    :func:`fit_prior`, over the pooled worlds. Why: a prior that has seen several kinds of world, none of them the
    one it plays, is how a researcher without a family of their own would use the planner (docs/findings/planner.md)."""
    from tradeoff_gym.envs.families import get_family

    names = list(dict.fromkeys(families))
    if not names:
        raise ValueError("pool_prior needs at least one family")
    if per_family is not None:
        per_family = check_int(per_family, "per_family", 1)
    centres = [world for name in names for world in family_worlds(name, get_family(name).train[:per_family])]
    width = scott_bandwidth(centres) if bandwidth == "scott" else tuple(bandwidth)
    return PlannerPrior(tuple(centres), width,
                        f"pool_prior({names!r}, per_family={per_family}: {len(centres)} train worlds)")
