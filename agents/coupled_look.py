"""The coupled look: a cost-blind Bayesian look over a prior of shared-learner surrogates.

Why: on SerialParallel worlds serial and parallel train one network, so a strategy's rewards depend on the whole
training history, and nothing a cost-blind policy sees before its first serial trial depends on the cost. This
agent plays parallel until trial ``at``, takes one serial trial (the look), and then commits: its belief is a
posterior over (which world it is in, the cost), where the worlds are coupled-learner surrogates
(``tradeoff/CoupledCurves-v0`` calibrations, e.g. the ``sp-mixed`` family's train worlds) and the cost is uniform
on a grid. Parallel's rewards before the look weigh the surrogates (they are blind to the cost); the look's reward
weighs (surrogate, cost); it switches to serial for good iff the posterior expects serial's rest of the episode to
pay more than parallel's, each surrogate's expected accuracies along "serial from the look on" and "parallel after
the look" giving the two rests. Its look time and noise levels were chosen leave one world out on sp-mixed's train
worlds (docs/findings/frontier.md, "Can the look read parallel's level first?"; the agent: docs/agents/builtin.md).

Its episode is one of two schedules played by the frontier's replay (``switch@at`` or ``stay@at``), so every
decision it makes replays exactly from ``sp_frontier``'s files.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from tradeoff_gym.agents.base import BaseAgent, check_reward
from tradeoff_gym.agents.frontier import serial_and_parallel
from tradeoff_gym.envs.coupled_curves import (
    CALIBRATION_DIR,
    PARALLEL_ACTION,
    SERIAL_ACTION,
    load_calibration,
    simulate,
)
from tradeoff_gym.learners.checks import check_int, check_number

#: The cost grid of the prior (uniform): the family's costs and beyond.
COST_GRID = np.linspace(0.0, 1.2, 25)
#: Trials per block in which parallel's rewards before the look are compared with each surrogate's.
BLOCK = 25


@lru_cache(maxsize=256)
def surrogate(calibration: str, at: int, horizon: int) -> dict[str, Any]:
    """A shipped calibration's expected curves around a look at ``at`` in an episode of ``horizon`` trials:
    ``before`` ``(at,)`` parallel's expected accuracy at trials 0 … at−1, ``look`` serial's at trial ``at``,
    ``serial_rest`` / ``parallel_rest`` the expected accuracy summed over trials at+1 … τ−1 of "serial from the
    look on" and "parallel after the look", ``per_trial`` the variance factor of one trial's mean accuracy
    (1 ÷ (n_tasks × noise_examples)). Cached: the same calibration serves every episode."""
    params, meta = load_calibration(calibration)
    actions = np.full((2, horizon), PARALLEL_ACTION)
    actions[0, at:] = SERIAL_ACTION
    actions[1, at] = SERIAL_ACTION
    played = simulate(params, actions, both=False)
    n_tasks = int(meta.get("env", {}).get("n_tasks", 4))
    before = played[0, :at]
    before.setflags(write=False)
    return {"before": before, "look": float(played[0, at]), "serial_rest": float(played[0, at + 1:].sum()),
            "parallel_rest": float(played[1, at + 1:].sum()), "per_trial": 1.0 / (n_tasks * params.noise_examples)}


def look_switches(before: np.ndarray, look: np.ndarray, components: Sequence[dict[str, Any]], model_noise: float,
                  look_noise: float) -> np.ndarray:
    """Whether the look switches to serial: ``before`` ``(rows, T)`` parallel rewards, ``look`` ``(rows,)`` the look's
    reward, ``components`` surrogates (:func:`surrogate`) as the prior, with a uniform cost on :data:`COST_GRID`.

    ``BLOCK``-trial means of the parallel rewards are Gaussian around each surrogate's (variance: the binomial of a
    block + ``model_noise²``); the look is Gaussian around the surrogate's serial accuracy ÷ (1 + c) with standard
    deviation ``look_noise`` × that accuracy; switch iff the posterior mean of (serial's rest ÷ (1 + c) − parallel's
    rest) > 0. Returns ``(rows,)`` bool.
    """
    before = np.atleast_2d(np.asarray(before, dtype=np.float64))
    look = np.atleast_1d(np.asarray(look, dtype=np.float64))
    blocks = before.shape[1] // BLOCK
    seen = before[:, :blocks * BLOCK].reshape(len(before), blocks, BLOCK).mean(axis=2)  # (rows, B)
    expected = np.stack([c["before"][:blocks * BLOCK].reshape(blocks, BLOCK).mean(axis=1) for c in components])
    per_trial = np.array([c["per_trial"] for c in components])[:, None]
    variance = expected * (1.0 - expected) * per_trial / BLOCK + model_noise**2  # (K, B)
    log_world = -0.5 * (((seen[:, None, :] - expected[None]) ** 2) / variance + np.log(variance)).sum(axis=2)
    serial = np.array([c["look"] for c in components])  # (K,)
    mean = serial[:, None] / (1.0 + COST_GRID[None, :])  # (K, C)
    spread = look_noise * serial[:, None]
    log_look = -0.5 * ((look[:, None, None] - mean[None]) / spread[None]) ** 2 - np.log(spread)[None]
    log_post = log_world[:, :, None] + log_look  # (rows, K, C)
    log_post -= log_post.max(axis=(1, 2), keepdims=True)
    post = np.exp(log_post)
    gain = (np.array([c["serial_rest"] for c in components])[:, None] / (1.0 + COST_GRID[None, :])
            - np.array([c["parallel_rest"] for c in components])[:, None])
    return (post * gain[None]).sum(axis=(1, 2)) > 0.0


def family_calibrations(family: str) -> tuple[str, ...]:
    """The shipped calibrations of ``family``'s train worlds (``<family>-w<i>``); a ValueError when it has none."""
    from tradeoff_gym.envs.families import get_family

    fam = get_family(family)
    names = tuple(f"{fam.name}-w{w}" for w in fam.train if (CALIBRATION_DIR / f"{fam.name}-w{w}.json").exists())
    if not names:
        raise ValueError(f"family {family!r} has no shipped surrogate of a train world ({CALIBRATION_DIR})")
    return names


class CoupledLookAgent(BaseAgent):
    """Parallel until ``at``, one serial look, then serial or parallel to the end by a surrogate posterior.

    Keyword settings: ``prior`` a world family's name (its train worlds' shipped surrogates, default ``sp-mixed``)
    or a list of calibrations (shipped names or JSON files); ``at`` the look's trial (1000; ≥ ``BLOCK``, an episode
    shorter than ``at + 1`` plays parallel throughout); ``model_noise`` the surrogates' misfit of a 25-trial block
    mean (0.05); ``look_noise`` the look's noise relative to its expected accuracy (0.1). Cost-blind (rewards and
    the reset info only), deterministic (no draws). The serial strategy is the table's first serial one, the
    parallel strategy its first non-serial one.
    """

    name = "coupled-look"

    def __init__(self, *, prior: str | Sequence[str] = "sp-mixed", at: int = 1000, model_noise: float = 0.05,
                 look_noise: float = 0.1) -> None:
        if isinstance(prior, str):
            self.calibrations = family_calibrations(prior)
        elif isinstance(prior, Sequence) and prior and all(isinstance(p, str) for p in prior):
            self.calibrations = tuple(prior)
            for name in self.calibrations:
                load_calibration(name)  # a bad name or file is refused now, by name
        else:
            raise ValueError(f"prior must be a world family's name or a non-empty list of calibrations, got {prior!r}")
        self.at = check_int(at, "at", BLOCK)
        self.model_noise = check_number(model_noise, "model_noise", 0.0, low_open=True)
        self.look_noise = check_number(look_noise, "look_noise", 0.0, low_open=True)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: find the serial and parallel strategies; nothing seen, nothing decided."""
        super().reset(info, rng)
        self.serial, self.parallel = serial_and_parallel(info, self.name)
        self.looks = self.at + 1 < self.horizon
        self.rewards: list[float] = []
        self.switched: bool | None = None

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Parallel before the look, serial at it, then the committed strategy."""
        trial = len(self.rewards)
        if not self.looks or trial < self.at:
            return self.parallel
        if trial == self.at:
            return self.serial
        return self.serial if self.switched else self.parallel

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Record the reward; decide once the look is seen."""
        self.rewards.append(check_reward(reward))
        if self.looks and len(self.rewards) == self.at + 1:
            components = [surrogate(name, self.at, self.horizon) for name in self.calibrations]
            seen = np.asarray(self.rewards)
            self.switched = bool(look_switches(seen[None, :self.at], seen[self.at:], components, self.model_noise,
                                               self.look_noise)[0])
