"""The meta-learner's curve model: analytic score, extrapolation of a known curve, numerical robustness."""

import numpy as np
import pytest
import torch

from tradeoff_gym.agents.curve_model import CurveModel, CurvePrior, curve_values
from tradeoff_gym.agents.svgd import SVGD

# Three curves of the model family, θ = (log k, log m, floor logit, ceiling logit) with x = n / τ: a
# mid, a steep early and a shallow one, each seen past 90 % of its rise (so its ceiling is identified).
# Observed on pick counts 0…199 of τ = 500, predicted on 200…499.
TRUE_THETA = np.array([
    [np.log(10.0), np.log(0.3), -2.5, 2.5],
    [np.log(20.0), np.log(0.2), -3.0, 3.0],
    [np.log(10.0), np.log(0.12), -1.0, 1.0],
])
HORIZON = 500
SEEN = 200


def fed_model(seed: int, **settings: object) -> CurveModel:
    """A model that has seen the noiseless TRUE_THETA curves at pick counts 0…SEEN−1, refit every 10."""
    model = CurveModel(3, HORIZON, generator=torch.Generator().manual_seed(seed), **settings)
    for n in range(SEEN):
        model.observe(np.arange(3), n, curve_values(TRUE_THETA, np.array([n / HORIZON]))[:, 0])
        if n % 10 == 9:
            model.fit()
    return model


def test_score_is_the_gradient_of_the_log_posterior() -> None:
    model = fed_model(0, dtype=torch.float64)
    theta = model.particles.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(model.log_posterior(theta).sum(), theta)
    data = model._binned_data()
    inv_var = torch.from_numpy(model.sigma**-2)[:, None, None]
    torch.testing.assert_close(model.score(model.particles, data, inv_var), expected)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_predicts_the_future_of_noiseless_curves(seed: int) -> None:
    """Tolerance: the posterior-mean curve is within 0.03 of the truth at every unseen pick count."""
    model = fed_model(seed)
    model.fit(steps=300)
    future = np.arange(SEEN, HORIZON)
    predicted = model.predict(future).mean(axis=1)  # (3, 300)
    error = np.abs(predicted - curve_values(TRUE_THETA, future / HORIZON))
    assert error.max() < 0.03, error.max(axis=1)
    # Noiseless data: the learned noise scale falls well below the prior guess of 0.05.
    assert np.all(model.sigma < 0.025), model.sigma


def test_data_narrows_the_posterior_and_unobserved_curves_keep_the_prior() -> None:
    model = CurveModel(2, HORIZON, n_particles=48, generator=torch.Generator().manual_seed(3))
    prior_spread = model.predict(np.arange(HORIZON)).std(axis=1).mean(axis=1)  # (2,)
    for n in range(150):
        model.observe(np.array([0, 1]), n, np.array([0.6, np.nan]))  # curve 1 never observed
    for _ in range(4):
        model.fit()
    spread = model.predict(np.arange(150)).std(axis=1).mean(axis=1)
    assert spread[0] < 0.2 * prior_spread[0]
    assert abs(model.predict(np.arange(150))[0].mean() - 0.6) < 0.03
    assert spread[1] > 0.5 * prior_spread[1]
    assert model.count[1].sum() == 0 and model.n_observations == 150


@pytest.mark.slow
def test_a_thousand_randomized_fits_stay_finite() -> None:
    """Random curve counts, horizons, extreme or constant rewards, tiny noise, big steps: never NaN/inf."""
    rng = np.random.default_rng(0)
    for i in range(1000):
        c, horizon = int(rng.integers(1, 5)), int(rng.integers(1, 300))
        model = CurveModel(
            c,
            horizon,
            n_particles=int(rng.integers(2, 12)),
            noise_std=float(10 ** rng.uniform(-4, 0)),
            max_bins=int(rng.integers(1, 60)),
            svgd=SVGD(steps=int(rng.integers(1, 6)), lr=float(10 ** rng.uniform(-3, 0.5))),
            prior=CurvePrior(std=tuple(10 ** rng.uniform(-1, 1.5, 4))),
            generator=torch.Generator().manual_seed(i),
        )
        kind = i % 4
        for n in rng.choice(horizon, size=min(horizon, int(rng.integers(0, 80))), replace=False):
            if kind == 0:
                y = rng.uniform(-3, 4, c)  # far outside the sigmoid's range
            elif kind == 1:
                y = np.full(c, float(rng.integers(0, 2)))  # Bernoulli 0/1
            elif kind == 2:
                y = np.where(rng.random(c) < 0.5, np.nan, rng.random(c))  # half missing
            else:
                y = np.ones(c)  # constant: zero residual
            model.observe(np.arange(c), int(n), y)
        model.fit()
        assert torch.isfinite(model.particles).all(), i
        assert np.isfinite(model.sigma).all() and np.all(model.sigma > 0), i
        assert np.isfinite(model.predict(np.arange(horizon))).all(), i


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"n_particles": 1}, "n_particles >= 2"),
        ({"noise_std": 0.0}, "noise_std must be a positive number, got 0.0"),
        ({"noise_prior_weight": -1.0}, "noise_prior_weight must be a positive number"),
    ],
)
def test_invalid_settings_raise(settings: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CurveModel(2, 10, generator=torch.Generator(), **settings)


def test_invalid_prior_and_pick_count_raise() -> None:
    with pytest.raises(ValueError, match=r"prior std must be 4 positive numbers"):
        CurvePrior(std=(1.0, 1.0, 0.0, 1.0))  # names the shape parameters
    with pytest.raises(ValueError, match=r"prior mean must be 4 finite numbers"):
        CurvePrior(mean=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"pick count must lie in \[0, 9\], got 10"):
        CurveModel(2, 10, generator=torch.Generator()).observe(np.array([0]), 10, np.array([1.0]))


def late_riser_model(rejuvenate_gap: float | None = 25.0) -> CurveModel:
    """Curve 0 saw 30 rewards ~0 (a strategy not learning yet); curve 1 a serial curve at cost 1:
    ``0.5 σ(20 (x − 0.1))`` for 100 picks of τ = 400 (past its inflection at pick 40)."""
    model = CurveModel(2, 400, rejuvenate_gap=rejuvenate_gap, generator=torch.Generator().manual_seed(0))
    for n in range(100):
        serial = 0.5 / (1.0 + np.exp(-20.0 * (n / 400 - 0.1)))
        model.observe(np.array([0, 1]), n, np.array([0.003 if n < 30 else np.nan, serial]))
    return model


def test_zero_rewards_on_first_picks_keep_a_late_rise_plausible() -> None:
    """30 zero rewards rule out an early rise, not a late one: the ceiling keeps its prior.

    (The former Gaussian prior on the paper's weights (w1, b1, w2, b2) read such data as a flat curve:
    the median prediction at the end of the episode fell to ~0.02.)"""
    model = late_riser_model()
    for _ in range(10):
        model.fit()
    end = model.predict(np.array([0, 29, 399]))[0]  # (N, 3): particles of curve 0
    assert np.median(end[:, 1]) < 0.03  # fits the data
    assert np.median(end[:, 2]) > 0.4 and np.quantile(end[:, 2], 0.75) > 0.7, np.quantile(end[:, 2], [0.25, 0.5, 0.75])


@pytest.mark.parametrize("gap, converged", [(25.0, True), (None, False)])
def test_rejuvenation_frees_particles_stranded_in_the_logistic_tail(gap: float | None, converged: bool) -> None:
    """60 SVGD steps from the prior: with rejuvenation every particle finds the serial curve's 0.5
    ceiling; without, particles whose midpoint lies past the data keep a ceiling near the prior's."""
    model = late_riser_model(gap)
    for _ in range(4):
        model.fit(steps=15)
    ceiling = 1 / (1 + np.exp(-model.particles[1, :, 3].numpy()))  # (N,)
    assert (np.abs(ceiling - 0.5).max() < 0.1) == converged, np.quantile(ceiling, [0.1, 0.5, 0.9])


def test_groups_start_from_shared_prior_draws_and_stay_aligned() -> None:
    groups = np.array([0, 0, 1])
    model = CurveModel(3, 50, n_particles=8, groups=groups, generator=torch.Generator().manual_seed(1))
    assert torch.equal(model.particles[0], model.particles[1])
    assert not torch.equal(model.particles[0], model.particles[2])
    for n in range(30):
        model.observe(np.arange(3), n, np.array([0.3, 0.3, 0.3]))
    model.fit()
    assert torch.allclose(model.particles[0], model.particles[1])  # same data: same moves, same rejuvenation
    with pytest.raises(ValueError, match=r"groups must give one group id per curve, shape \(3,\)"):
        CurveModel(3, 50, groups=np.array([0, 1]), generator=torch.Generator())
    with pytest.raises(ValueError, match="rejuvenate_gap must be a positive number or None, got 0.0"):
        CurveModel(3, 50, rejuvenate_gap=0.0, generator=torch.Generator())
