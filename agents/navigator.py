"""The navigator: a cost-blind agent that decides when to explore and when to commit, by value of information.

Why: the strategies of a neural learner train one network, so *interleaving* them is what hurts (early serial
trials keep parallel training on its plateau); the navigator plays in committed blocks and switches only when a
one-switch lookahead says that what it would learn is worth more than what the switch costs.

**Model.** Strategy ``a``'s expected reward after ``n`` picks of it is a logistic learning curve
``r_a(n) = floor_a + (ceiling_a − floor_a)·σ(k_a·(n − m_a))`` in its own pick count (rested). The hidden cost
enters only as the ceiling: a serial strategy's is ``raw_a / (1 + c_a)`` with ``c_a`` unknown, a parallel one's
``raw_a``; ``c_a`` is a parameter of the posterior, learned from rewards alone.

**Prior** (ranges in units of τ, so they carry over to any horizon): onset ``m/τ`` uniform in ``onset``, rate
``k·τ`` log-uniform in ``rate``, raw ceiling uniform in ``ceiling`` except a share ``low_ceiling[1]`` uniform down
to ``low_ceiling[0]``, floor as a share of the ceiling uniform in ``floor``, ``c_a`` uniform in [0, 1];
independent across strategies. Set by hand on a design family of LearningCurves instances, never on the
evaluation family (:mod:`tradeoff_gym.benchmarks.scripts.bench_navigator`).

**Posterior.** Per strategy, ``n_particles`` prior particles weighted by a Gaussian likelihood of that
strategy's rewards (noise variance = half the mean squared difference of consecutive rewards + ``model_noise``²).
When the effective sample size falls under half the particles they are resampled and moved by ``moves``
random-walk Metropolis steps on all data (binned into ``τ/100``-pick bins).

**Decision** (every ``block·τ`` trials; the action is held in between). If a share ``confident`` of
``n_posterior`` posterior draws agree on the best strategy to commit to until the end, commit. Otherwise value
every option "play ``b`` for ``L`` trials, then commit to what the posterior prefers by then" (``L`` in block,
2·block, 4·block, …, the rest) under ``n_hypotheses`` draws taken as the truth (``points`` evaluation points per
block; commit values are closed-form softplus sums), and play the first block of the best. The first incumbent
is the strategy the prior expects most of (a parallel one: a serial ceiling carries the unknown discount).

**First look.** The first contact with a strategy never played is ``probe`` trial(s) at ``probe_at·τ``, once the
incumbent has ≥ 10 recent rewards averaging more than 0.1 (``early_look=True``: also when the lookahead first
picks it). On a shared network that trial reads the incumbent's network through the other strategy, so its
ratio to the incumbent's recent mean (last ``recent`` trials) is about 1/(1 + c): at ≥ ``switch_ratio`` switch
for good, at ≥ ``drop_ratio`` never play it again, below leave it to the posterior. The look's rewards stay out
of the posterior.

Cost-blind: reads rewards and the reset info (``strategies``, ``serial``, ``horizon``) only, never a step info
field (``task_accuracy`` or ``raw_accuracy`` beside the reward would reveal ``c``). Any number of strategies ≥ 2.
Design history, measurements and where it fails (worlds whose parallel plateau is low): docs/findings/navigator.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from tradeoff_gym.agents.base import BaseAgent, EpisodeBatch, check_reward
from tradeoff_gym.envs.interface import SERIAL_FLAGS
from tradeoff_gym.learners.checks import check_int, check_number


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _check_range(value: tuple[float, float], field: str, low: float, high: float | None) -> tuple[float, float]:
    """A ``(low, high)`` pair inside [low, high] with low ≤ high, as floats; a ValueError naming ``field``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{field} must be a (low, high) pair, got {value!r}")
    a, b = (check_number(v, field, low, high) for v in value)
    if a > b:
        raise ValueError(f"{field} must have low <= high, got {value!r}")
    return (a, b)


class NavigatorAgent(BaseAgent):
    """Cost-blind Bayesian explore/commit agent for learners whose strategies share state (see module docstring).

    Hyperparameters (keyword-only): ``block`` decision interval as a fraction of τ (0.02); ``n_particles``
    (2048); ``model_noise`` (0.02); ``moves`` Metropolis steps per rejuvenation (6); ``n_posterior`` (512)
    and ``n_hypotheses`` (64) posterior draws of the lookahead; ``points`` per lookahead block (8);
    ``confident`` share of draws that must agree to commit without lookahead (0.99); prior ranges
    ``onset`` (m/τ), ``rate`` (k·τ, log-uniform), ``ceiling`` (raw accuracy), ``floor`` (share of ceiling);
    the first look: ``probe_at`` (its trial as a fraction of τ, 0.18), ``probe`` trials per untried strategy
    (1; 0 turns it off), ``switch_ratio`` (0.9), ``drop_ratio`` (0.4), ``recent`` (up to 50 trials of the
    incumbent's reward) and ``early_look`` (False: never before ``probe_at``; True: also when the lookahead first
    picks the strategy).

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.navigator import NavigatorAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.1, horizon=1000, batch_size=None)
        >>> frame = run_episode(env, NavigatorAgent(), seed=0)
        >>> frame.strategy.iloc[-200:].value_counts().idxmax()  # what it settled on
        'serial'
    """

    name = "navigator"

    def __init__(
        self,
        *,
        block: float = 0.02,
        n_particles: int = 2048,
        model_noise: float = 0.02,
        moves: int = 6,
        n_posterior: int = 512,
        n_hypotheses: int = 64,
        points: int = 8,
        confident: float = 0.99,
        onset: tuple[float, float] = (-0.1, 0.6),
        rate: tuple[float, float] = (8.0, 80.0),
        ceiling: tuple[float, float] = (0.8, 1.0),
        low_ceiling: tuple[float, float] = (0.2, 0.05),
        floor: tuple[float, float] = (0.0, 0.0),
        probe_at: float = 0.18,
        probe: int = 1,
        switch_ratio: float = 0.9,
        drop_ratio: float = 0.4,
        recent: int = 50,
        early_look: bool = False,
    ) -> None:
        self.block_fraction = check_number(block, "block", 0.0, 1.0, low_open=True)
        self.n_particles = check_int(n_particles, "n_particles", 16)
        self.model_noise = check_number(model_noise, "model_noise", 0.0)
        self.moves = check_int(moves, "moves", 0)
        self.n_posterior = check_int(n_posterior, "n_posterior", 2)
        self.n_hypotheses = check_int(n_hypotheses, "n_hypotheses", 1)
        if self.n_hypotheses > self.n_posterior:
            raise ValueError(f"n_hypotheses must be <= n_posterior ({self.n_posterior}), got {n_hypotheses!r}")
        self.points = check_int(points, "points", 1)
        self.confident = check_number(confident, "confident", 0.5, 1.0)
        self.onset = _check_range(onset, "onset", -np.inf, np.inf)
        self.rate = _check_range(rate, "rate", 0.0, np.inf)
        if self.rate[0] <= 0:
            raise ValueError(f"rate must be a (low, high) pair of positive numbers, got {rate!r}")
        self.ceiling = _check_range(ceiling, "ceiling", 0.0, np.inf)
        # (lowest ceiling, prior mass below ceiling[0]): a strategy that never gets good must stay possible
        if not isinstance(low_ceiling, (tuple, list)) or len(low_ceiling) != 2:
            raise ValueError(f"low_ceiling must be a (lowest ceiling, prior share) pair, got {low_ceiling!r}")
        self.low_ceiling = (check_number(low_ceiling[0], "low_ceiling", 0.0, self.ceiling[0]),
                            check_number(low_ceiling[1], "low_ceiling share", 0.0, 1.0, high_open=True))
        self.floor = _check_range(floor, "floor", 0.0, 1.0)
        self.probe_at = check_number(probe_at, "probe_at", 0.0, 1.0)
        self.probe = check_int(probe, "probe", 0)
        self.switch_ratio = check_number(switch_ratio, "switch_ratio", 0.0)
        self.drop_ratio = check_number(drop_ratio, "drop_ratio", 0.0, self.switch_ratio)
        self.recent = check_int(recent, "recent", 1)
        if not isinstance(early_look, bool):
            raise ValueError(f"early_look must be True or False, got {early_look!r}")
        self.early_look = early_look

    # ---- episode state -------------------------------------------------------------------------------------
    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Draw the prior particles; clear the data. Reads ``strategies``, ``serial``, ``horizon`` only."""
        super().reset(info, rng)
        s, p = self.n_actions, self.n_particles
        serial = np.asarray(info.get(SERIAL_FLAGS, (False,) * s), dtype=bool)
        # θ per strategy and particle: log(k·τ), m/τ, raw ceiling, floor share, cost c (0 for a parallel one)
        self.low = np.array([np.log(self.rate[0]), self.onset[0], self.low_ceiling[0], self.floor[0], 0.0])
        self.high = np.array([np.log(self.rate[1]), self.onset[1], self.ceiling[1], self.floor[1], 1.0])
        self.high_by_strategy = np.where(serial[:, None], self.high, np.append(self.high[:4], 0.0))  # (S, 5)
        self.theta = self.low + (self.high_by_strategy[:, None, :] - self.low) * rng.random((s, p, 5))  # (S, P, 5)
        # raw ceiling: uniform on `ceiling`, except a share low_ceiling[1] uniform on [low_ceiling[0], ceiling[0]]
        (lo, hi), (bottom, share) = self.ceiling, self.low_ceiling
        low_draw = rng.random((s, p)) < share
        self.theta[:, :, 2] = np.where(low_draw, bottom + (lo - bottom) * rng.random((s, p)),
                                       lo + (hi - lo) * rng.random((s, p)))
        # log prior density of the raw ceiling on both pieces (the other coordinates are uniform in the box)
        self._log_density = (np.log(share / (lo - bottom)) if share > 0 and lo > bottom else -np.inf,
                             np.log((1.0 - share) / (hi - lo)) if hi > lo else 0.0)
        for a in range(s):
            self._unpack(a)
        self.logw = np.zeros((s, p))
        self.counts = np.zeros(s, dtype=np.int64)
        self.block = max(1, int(round(self.block_fraction * self.horizon)))
        self.bin_width = max(1, int(np.ceil(self.horizon / 100)))
        n_bins = self.horizon // self.bin_width + 1
        # binned sufficient statistics per strategy: count, Σ pick, Σ r, Σ r² (4, S, bins)
        self.stats = np.zeros((4, s, n_bins))
        self.last = np.full(s, np.nan)
        self.diff_sq, self.diff_n = 0.0, 0
        self.trial = 0
        self.current = -1
        # first-look probe: at trial probe_at·τ each strategy never played is played `probe` trials
        self.probe_start = int(round(self.probe_at * self.horizon))
        self.probe_queue: list[int] = []
        self.probed = False
        self.probe_rewards: list[list[float]] = [[] for _ in range(s)]
        self.incumbent_level = np.nan
        self.recent_rewards: list[float] = []  # the current strategy's last `recent` rewards
        self.excluded = np.zeros(s, dtype=bool)
        self.looked = np.zeros(s, dtype=bool)
        self.committed = -1
        self.probed_now = False

    def _unpack(self, a: int) -> None:
        """Strategy ``a``'s curve parameters ``(P,)`` per pick from its θ."""
        if not hasattr(self, "k"):
            self.k, self.m, self.ceil, self.flo = (np.zeros((self.n_actions, self.n_particles)) for _ in range(4))
        theta, tau = self.theta[a], float(self.horizon)
        self.k[a] = np.exp(theta[:, 0]) / tau
        self.m[a] = theta[:, 1] * tau
        self.ceil[a] = theta[:, 2] / (1.0 + theta[:, 4])
        self.flo[a] = theta[:, 3] * self.ceil[a]

    def noise_var(self) -> float:
        """Per-trial reward variance: batch noise from consecutive same-strategy rewards + model error²."""
        noise = self.diff_sq / (2 * self.diff_n) if self.diff_n >= 5 else 0.05**2
        return max(noise, 1e-4) + self.model_noise**2

    def curves(self, a: int, idx: np.ndarray | slice, picks: np.ndarray) -> np.ndarray:
        """``(P', J)`` expected reward of strategy ``a`` at pick counts ``picks`` ``(J,)``, its particles ``idx``."""
        k, m = self.k[a, idx][:, None], self.m[a, idx][:, None]
        fl, ce = self.flo[a, idx][:, None], self.ceil[a, idx][:, None]
        return fl + (ce - fl) * expit(k * (np.asarray(picks, dtype=np.float64)[None, :] - m))

    def commit_values(self, a: int, idx: np.ndarray | slice, count: float, remaining: int) -> np.ndarray:
        """``(P',)`` strategy ``a``'s expected reward summed over ``remaining`` trials from pick ``count``."""
        k, m = self.k[a, idx], self.m[a, idx]
        # Σ_{j<R} σ(k(n + j − m)) ≈ ∫ σ over [n − ½, n + R − ½]
        #   = (softplus(k(n + R − ½ − m)) − softplus(k(n − ½ − m))) / k
        area = (_softplus(k * (count + remaining - 0.5 - m)) - _softplus(k * (count - 0.5 - m))) / k
        return self.flo[a, idx] * remaining + (self.ceil[a, idx] - self.flo[a, idx]) * area

    # ---- posterior (one particle set per strategy: its rewards say nothing about another's curve) ----------
    def log_likelihood(self, a: int) -> np.ndarray:
        """``(P,)`` Gaussian log-likelihood of strategy ``a``'s binned observations under its particles."""
        count, pick, total, squares = (stat[a] for stat in self.stats)
        used = np.flatnonzero(count)
        if not used.size:
            return np.zeros(self.n_particles)
        f = self.curves(a, slice(None), pick[used] / count[used])  # (P, bins used)
        sse = squares[used].sum() - 2.0 * f @ total[used] + (f**2) @ count[used]
        return -sse / (2.0 * self.noise_var())

    def _log_prior(self, raw_ceiling: np.ndarray) -> np.ndarray:
        """Log prior density of raw ceilings ``(P,)`` (piecewise uniform; −inf where it has no mass)."""
        below, above = self._log_density
        return np.where(raw_ceiling < self.ceiling[0], below, above)

    def weights(self, a: int) -> np.ndarray:
        """``(P,)`` strategy ``a``'s normalised particle weights."""
        w = np.exp(self.logw[a] - self.logw[a].max())
        return w / w.sum()

    def rejuvenate(self, a: int) -> None:
        """Systematic resampling of strategy ``a``'s particles, then random-walk Metropolis steps in the prior box."""
        cumulative = np.cumsum(self.weights(a))
        positions = (self.rng.random() + np.arange(self.n_particles)) / self.n_particles
        self.theta[a] = self.theta[a][np.minimum(np.searchsorted(cumulative, positions), self.n_particles - 1)]
        self._unpack(a)
        current = self.log_likelihood(a)
        high = self.high_by_strategy[a]
        width = high - self.low  # (5,)
        prior = self._log_prior(self.theta[a][:, 2])
        for _ in range(self.moves):
            old = self.theta[a].copy()
            # multi-scale random walk: each particle's step is 1 %, 5 % or 20 % of the prior box, so a cloud that
            # resampling squeezed onto a few points spreads back over a broad posterior (a fixed 5 % step left an
            # onset seen for 20 picks ten times too certain, and a strategy's ceiling guessed from its first rise)
            scale = np.array([0.01, 0.05, 0.2])[self.rng.integers(3, size=self.n_particles)]  # (P,)
            self.theta[a] = old + scale[:, None] * width * self.rng.standard_normal(old.shape)
            inside = np.all((self.theta[a] >= self.low) & (self.theta[a] <= high), axis=1)
            self._unpack(a)
            proposed = self.log_likelihood(a)
            proposed_prior = self._log_prior(self.theta[a][:, 2])
            ratio = proposed + proposed_prior - current - prior
            accept = inside & (np.log(self.rng.random(self.n_particles)) < ratio)
            self.theta[a] = np.where(accept[:, None], self.theta[a], old)
            self._unpack(a)
            current = np.where(accept, proposed, current)
            prior = np.where(accept, proposed_prior, prior)
        self.logw[a] = 0.0

    # ---- decision ------------------------------------------------------------------------------------------
    def decide(self) -> int:
        """Commit if the posterior agrees; else the first block of the best one-switch option."""
        remaining, s, h = self.horizon - self.trial, self.n_actions, self.n_hypotheses
        draws = [self.rng.choice(self.n_particles, size=self.n_posterior, p=self.weights(a)) for a in range(s)]
        values = np.stack([self.commit_values(a, draws[a], self.counts[a], remaining) for a in range(s)], 1)  # (M, S)
        values[:, self.excluded] = -np.inf
        share = np.bincount(values.argmax(axis=1), minlength=s) / self.n_posterior
        if share.max() >= self.confident or (~self.excluded).sum() == 1:
            return int(share.argmax())
        variance = self.noise_var()
        doubling = [self.block * 2**i for i in range(32) if self.block * 2 ** (i - 1) < remaining]
        best_value, best_action = -np.inf, int(share.argmax())
        for length in sorted({min(remaining, d) for d in doubling}):
            # the others' expected commit values after `length` trials of b: their posteriors do not move
            others = np.array([self.commit_values(a, draws[a], self.counts[a], remaining - length).mean()
                               for a in range(s)])  # (S,)
            others[self.excluded] = -np.inf
            for b in np.flatnonzero(~self.excluded):
                j = min(self.points, length)
                f = self.curves(b, draws[b], self.counts[b] + (np.arange(j) + 0.5) * length / j)  # (M, J)
                fh = f[:h]  # (H, J): the first H draws, each taken as the truth
                sse = (length / j) * ((fh**2).sum(1)[:, None] + (f**2).sum(1)[None, :] - 2.0 * fh @ f.T)  # (H, M)
                log_post = -np.maximum(sse, 0.0) / (2.0 * variance)
                post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
                post /= post.sum(axis=1, keepdims=True)
                after = self.commit_values(b, draws[b], self.counts[b] + length, remaining - length)  # (M,)
                expected = np.tile(others, (h, 1))  # (H, S): what the agent would expect after the block
                expected[:, b] = post @ after
                choice = expected.argmax(axis=1)  # (H,)
                truth = np.tile(others, (h, 1))  # (H, S): the commitment's value under the hypothesis
                truth[:, b] = after[:h]
                block = self.commit_values(b, draws[b][:h], self.counts[b], length)  # (H,)
                value = float(np.mean(block + truth[np.arange(h), choice]))
                if value > best_value:
                    best_value, best_action = value, int(b)
        return best_action

    def a_priori_best(self) -> int:
        """The first incumbent: the strategy whose prior expects the most reward over the whole horizon.

        Not the lookahead's pick: before any strategy has trained, the lookahead's value of exploring sometimes
        chose a serial strategy, and on a shared network early serial training can keep parallel on its plateau
        for good (docs/findings/navigator.md). A serial strategy's prior ceiling carries the unknown discount, so
        this is a parallel one when there is one.
        """
        values = [self.commit_values(a, slice(None), 0, self.horizon).mean() for a in range(self.n_actions)]
        return int(np.argmax(values))

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """The held action; every ``block`` trials, rejuvenate degenerate particle sets and decide again.

        The first contact with a strategy never played is a look of ``probe`` trials (when the lookahead picks
        it, or at ``probe_at``·τ at the latest), once the incumbent has ≥ 10 recent rewards averaging > 0.1.
        """
        action = self._before_decision()
        if action is not None:
            return action
        return self._after_decision(self.decide() if self.current >= 0 else self.a_priori_best())

    def _before_decision(self) -> int | None:
        """:meth:`act` up to a decision: the action when no decision is due, else None (particles rejuvenated)."""
        if self.committed >= 0:
            return self.committed
        if self.probe_queue:
            return self.probe_queue[0]
        ready = (self.probe > 0 and self.current >= 0 and len(self.recent_rewards) >= 10
                 and float(np.mean(self.recent_rewards)) > 0.1)
        self._ready = ready
        if not self.probed and self.trial >= self.probe_start and ready:
            self.probed = True
            untried = [a for a in range(self.n_actions)
                       if self.counts[a] == 0 and not self.looked[a] and not self.excluded[a]]
            if untried:
                return self._look(untried)
        if self.current < 0 or self.trial % self.block == 0 or self.probed_now:
            self.probed_now = False
            for a in range(self.n_actions):
                w = self.weights(a)
                if 1.0 / (w**2).sum() < self.n_particles / 2:
                    self.rejuvenate(a)
            return None
        return self.current

    def _after_decision(self, choice: int) -> int:
        """:meth:`act` after a decision for ``choice``: a first look, or the new held action."""
        if choice != self.current and self.counts[choice] == 0 and not self.looked[choice] and self._ready:
            if not self.early_look and self.trial < self.probe_start:
                choice = self.current  # the look waits for probe_at·τ: an early one disturbs a climbing network
            else:
                return self._look([choice])
        if choice != self.current:
            self.recent_rewards = []
        self.current = choice
        return self.current

    def _look(self, strategies: list[int]) -> int:
        """Start a look at ``strategies``: ``probe`` trials each, against the incumbent's recent mean reward."""
        self.incumbent_level = float(np.mean(self.recent_rewards))
        self.probe_queue = [a for a in strategies for _ in range(self.probe)]
        return self.probe_queue[0]

    def _end_probe(self) -> None:
        """Each looked-at strategy's mean reward ÷ the incumbent's: switch for good, drop, or explore it as usual."""
        probed = [a for a in range(self.n_actions) if self.probe_rewards[a] and not self.looked[a]]
        ratio = {a: float(np.mean(self.probe_rewards[a])) / self.incumbent_level for a in probed}
        self.looked[probed] = True
        best = max(probed, key=lambda a: ratio[a])
        if ratio[best] >= self.switch_ratio:
            self.committed = best  # as good as the incumbent on what the incumbent trained
        else:
            # at drop_ratio or more: the same network through a dearer strategy; below: a curve starting from
            # zero (a rested strategy's first pick), which the posterior and the lookahead handle as before
            for a in probed:
                self.excluded[a] = ratio[a] >= self.drop_ratio
        self.probed_now = True

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Weight the strategy's particles by the reward's likelihood; bin the reward. Reads no info field."""
        reward = check_reward(reward)
        if self._probe_observed(action, reward):
            return
        n = self._count(action, reward)
        f = self.flo[action] + (self.ceil[action] - self.flo[action]) * expit(self.k[action] * (n - self.m[action]))
        self._weigh(action, reward, n, f)

    def _probe_observed(self, action: int, reward: float) -> bool:
        """Take a probe's reward (True), or leave a reward that is not one (False)."""
        if not (self.probe_queue and action == self.probe_queue[0]):
            return False
        # a probe's rewards are read as the first look at the strategy on what the others trained, not as
        # points of its own curve: they decide the switch (or the drop) and stay out of the posterior
        self.probe_rewards[action].append(reward)
        self.probe_queue.pop(0)
        self.trial += 1
        if not self.probe_queue:
            self._end_probe()
        return True

    def _count(self, action: int, reward: float) -> int:
        """Book a (non-probe) reward's recent-mean and noise statistics; the strategy's pick count before it."""
        if action == self.current:
            self.recent_rewards = (self.recent_rewards + [reward])[-self.recent:]
        n = int(self.counts[action])
        if np.isfinite(self.last[action]):
            self.diff_sq += (reward - self.last[action]) ** 2
            self.diff_n += 1
        self.last[action] = reward
        return n

    def _weigh(self, action: int, reward: float, n: int, f: np.ndarray) -> None:
        """Weight the strategy's particles by the reward given their curves' values ``f`` ``(P,)`` at pick ``n``."""
        self.logw[action] -= (reward - f) ** 2 / (2.0 * self.noise_var())
        self.stats[:, action, n // self.bin_width] += (1.0, n, reward, reward * reward)
        self.counts[action] += 1
        self.trial += 1

    @classmethod
    def batched(cls, agents: list[NavigatorAgent]) -> NavigatorBatch:
        """K episodes in one :class:`NavigatorBatch` (episodes whose settings differ decide one by one)."""
        return NavigatorBatch(agents)


class NavigatorBatch(EpisodeBatch):
    """K navigator episodes in lockstep: the same actions as K :class:`NavigatorAgent`, in a fraction of the time.

    Each agent keeps its own particles, bookkeeping and random stream (draws, resampling, moves); the batch
    weighs the K episodes' particles by their rewards as one array program, and makes the block decisions of the
    episodes deciding at one trial together (:meth:`decide_together`). Figures: docs/findings/speed.md#agents.
    """

    agents: list[NavigatorAgent]

    def reset_batch(self, infos: Sequence[dict[str, Any]], rngs: Sequence[np.random.Generator]) -> None:
        """Reset every agent; agents of one shape then keep their curve parameters in shared ``(K, S, P)`` arrays.

        Each agent's ``k``, ``m``, ``flo`` and ``ceil`` become views of rows of the batch's arrays (the agent writes
        them in place), so a step's weighting gathers the K episodes' rows in one indexing operation.
        """
        super().reset_batch(infos, rngs)
        self._shared = len({(agent.n_actions, agent.n_particles) for agent in self.agents}) == 1
        if self._shared:
            for name in ("k", "m", "flo", "ceil"):
                stacked = np.stack([getattr(agent, name) for agent in self.agents])  # (K, S, P)
                setattr(self, "_" + name, stacked)
                for i, agent in enumerate(self.agents):
                    setattr(agent, name, stacked[i])

    def act_batch(self, obs: np.ndarray, infos: Sequence[dict[str, Any]], active: np.ndarray) -> np.ndarray:
        """Each active episode's action (see :meth:`NavigatorAgent.act`)."""
        actions = np.zeros(len(self.agents), dtype=np.int64)
        deciding: dict[tuple, list[int]] = {}
        for k in np.flatnonzero(active):
            agent = self.agents[k]
            action = agent._before_decision()
            if action is not None:
                actions[k] = action
            elif agent.current < 0:
                actions[k] = agent._after_decision(agent.a_priori_best())
            else:
                deciding.setdefault(_decision_shape(agent), []).append(k)
        for members in deciding.values():
            choices = decide_together([self.agents[k] for k in members])
            for k, choice in zip(members, choices):
                actions[k] = self.agents[k]._after_decision(choice)
        return actions

    def observe_batch(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        obs: np.ndarray,
        infos: Sequence[dict[str, Any]],
        active: np.ndarray,
    ) -> None:
        """Each active episode observes its reward; the particle weights of all are computed together."""
        todo: dict[int, list[tuple[int, int, float, int]]] = {}  # particles → (episode, action, reward, count)
        for k in np.flatnonzero(active):
            agent, action = self.agents[k], int(actions[k])
            reward = check_reward(rewards[k])
            if agent._probe_observed(action, reward):
                continue
            todo.setdefault(agent.n_particles, []).append((k, action, reward, agent._count(action, reward)))
        for rows in todo.values():
            agents = [self.agents[k] for k, *_ in rows]
            if self._shared:
                index = (np.array([row[0] for row in rows]), np.array([row[1] for row in rows]))
                flo, ceil, rate, mid = self._flo[index], self._ceil[index], self._k[index], self._m[index]  # (K', P)
            else:
                flo, ceil, rate, mid = (
                    np.stack([getattr(agent, name)[row[1]] for agent, row in zip(agents, rows)])
                    for name in ("flo", "ceil", "k", "m")
                )  # (K', P) each
            n = np.array([row[3] for row in rows])[:, None]  # (K', 1)
            f = flo + (ceil - flo) * expit(rate * (n - mid))  # (K', P): NavigatorAgent.observe's f, row by row
            for i, (agent, (_, action, reward, count)) in enumerate(zip(agents, rows)):
                agent._weigh(action, reward, count, f[i])


def _decision_shape(agent: NavigatorAgent) -> tuple:
    """What episodes deciding together must share: the trial, horizon, block and the lookahead's sizes."""
    return (agent.trial, agent.horizon, agent.block, agent.n_actions, agent.n_particles, agent.n_posterior,
            agent.n_hypotheses, agent.points)


def _commit_values(
    k: np.ndarray, m: np.ndarray, flo: np.ndarray, ceil: np.ndarray, count: np.ndarray, remaining: int
) -> np.ndarray:
    """:meth:`NavigatorAgent.commit_values` on stacked draws: parameters ``(..., M)``, ``count`` ``(..., 1)``."""
    area = (_softplus(k * (count + remaining - 0.5 - m)) - _softplus(k * (count - 0.5 - m))) / k
    return flo * remaining + (ceil - flo) * area


def decide_together(agents: list[NavigatorAgent]) -> list[int]:
    """:meth:`NavigatorAgent.decide` for episodes deciding at one trial with one shape: the same choices.

    Every episode draws from its own stream in its own order; the curve and value arithmetic runs on the stacked
    draws (elementwise, and reductions over the same axes and lengths as one episode's), and each matrix
    product stays one episode's (another shape could sum in another order).
    """
    first = agents[0]
    remaining, s, h = first.horizon - first.trial, first.n_actions, first.n_hypotheses
    draws = np.stack([
        np.stack([agent.rng.choice(agent.n_particles, size=agent.n_posterior, p=agent.weights(a)) for a in range(s)])
        for agent in agents
    ])  # (K, S, M)

    def gather(name: str) -> np.ndarray:  # (K, S, M): each episode's parameter at its draws
        return np.stack([getattr(agent, name)[np.arange(s)[:, None], draws[i]] for i, agent in enumerate(agents)])

    k, m, flo, ceil = gather("k"), gather("m"), gather("flo"), gather("ceil")
    counts = np.stack([agent.counts for agent in agents])[:, :, None]  # (K, S, 1) int64
    excluded = np.stack([agent.excluded for agent in agents])  # (K, S)
    values = _commit_values(k, m, flo, ceil, counts, remaining).transpose(0, 2, 1).copy()  # (K, M, S)
    values[np.broadcast_to(excluded[:, None, :], values.shape)] = -np.inf
    choices: list[int | None] = [None] * len(agents)
    for i, agent in enumerate(agents):
        share = np.bincount(values[i].argmax(axis=1), minlength=s) / agent.n_posterior
        if share.max() >= agent.confident or (~agent.excluded).sum() == 1:
            choices[i] = int(share.argmax())
    look = [i for i, choice in enumerate(choices) if choice is None]
    if not look:
        return [int(c) for c in choices]
    k, m, flo, ceil, counts, excluded = k[look], m[look], flo[look], ceil[look], counts[look], excluded[look]
    variance = np.array([agents[i].noise_var() for i in look])[:, None, None]  # (K', 1, 1)
    best_value = np.full(len(look), -np.inf)
    best_action = [int(np.bincount(values[i].argmax(axis=1), minlength=s).argmax()) for i in look]
    block, points = first.block, first.points
    doubling = [block * 2**i for i in range(32) if block * 2 ** (i - 1) < remaining]
    for length in sorted({min(remaining, d) for d in doubling}):
        others = _commit_values(k, m, flo, ceil, counts, remaining - length).mean(axis=-1)  # (K', S)
        others[excluded] = -np.inf
        j = min(points, length)
        for b in range(s):
            grid = counts[:, b] + (np.arange(j) + 0.5) * length / j  # (K', J) pick counts
            kb, mb, fb, cb = k[:, b, :, None], m[:, b, :, None], flo[:, b, :, None], ceil[:, b, :, None]  # (K', M, 1)
            f = fb + (cb - fb) * expit(kb * (grid[:, None, :] - mb))  # (K', M, J)
            fh = f[:, :h]  # (K', H, J)
            cross = np.stack([2.0 * fh[i] @ f[i].T for i in range(len(look))])  # (K', H, M), as decide groups it
            sse = (length / j) * ((fh**2).sum(2)[:, :, None] + (f**2).sum(2)[:, None, :] - cross)
            log_post = -np.maximum(sse, 0.0) / (2.0 * variance)
            post = np.exp(log_post - log_post.max(axis=2, keepdims=True))
            post /= post.sum(axis=2, keepdims=True)
            after = _commit_values(k[:, b], m[:, b], flo[:, b], ceil[:, b], counts[:, b] + length, remaining - length)
            expected = np.repeat(others[:, None, :], h, axis=1)  # (K', H, S)
            expected[:, :, b] = np.stack([post[i] @ after[i] for i in range(len(look))])
            choice = expected.argmax(axis=2)  # (K', H)
            truth = np.repeat(others[:, None, :], h, axis=1)
            truth[:, :, b] = after[:, :h]
            block_values = _commit_values(
                k[:, b, :h], m[:, b, :h], flo[:, b, :h], ceil[:, b, :h], counts[:, b], length
            )  # (K', H)
            value = (block_values + np.take_along_axis(truth, choice[:, :, None], axis=2)[:, :, 0]).mean(axis=1)
            for i in range(len(look)):
                if not excluded[i, b] and float(value[i]) > best_value[i]:
                    best_value[i], best_action[i] = float(value[i]), b
    for i, action in zip(look, best_action):
        choices[i] = int(action)
    return [int(c) for c in choices]
