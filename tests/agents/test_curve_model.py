"""The meta-learner's curve model: analytic score, extrapolation of a known curve, numerical robustness."""

import numpy as np
import pytest
import torch

from agents.curve_model import CurveModel, CurvePrior, curve_values
from agents.svgd import SVGD

# Three curves of the model family, θ = (w1, b1, w2, b2) with x = n / τ: a mid, a steep early and a
# slow shallow one. Observed on pick counts 0…199 of τ = 500, predicted on 200…499.
TRUE_THETA = np.array([[10.0, -3.0, 5.0, -2.5], [20.0, -4.0, 6.0, -3.0], [6.0, -1.0, 3.0, -1.0]])
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
        CurvePrior(std=(1.0, 1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"prior mean must be 4 finite numbers"):
        CurvePrior(mean=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"pick count must lie in \[0, 9\], got 10"):
        CurveModel(2, 10, generator=torch.Generator()).observe(np.array([0]), 10, np.array([1.0]))
