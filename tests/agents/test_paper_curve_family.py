"""The paper's exact curve family, σ(w2 σ(w1 n/τ + b1) + b2), as a meta-learner option (curve_family="paper")."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from tradeoff_gym.agents import OracleAgent
from tradeoff_gym.agents.curve_model import PAPER_PRIOR, CurveModel, curve_values
from tradeoff_gym.agents.meta_learner import MetaLearnerAgent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.learning_curves import LogisticCurve

HORIZON = 200
TRUE_THETA = np.array([[10.0, -4.0, 5.0, -2.5]])  # (w1, b1, w2, b2): rises from 0.08 to 0.92 around x ≈ 0.4


def test_paper_family_values_match_the_formula():
    x = np.linspace(0, 1, 11)
    w1, b1, w2, b2 = TRUE_THETA[0]
    expected = 1 / (1 + np.exp(-(w2 / (1 + np.exp(-(w1 * x + b1))) + b2)))
    np.testing.assert_allclose(curve_values(TRUE_THETA, x, "paper")[0], expected, rtol=1e-12)


def test_paper_family_fit_predicts_the_unseen_future_of_a_noiseless_curve():
    model = CurveModel(1, HORIZON, prior=PAPER_PRIOR, family="paper", generator=torch.Generator().manual_seed(0))
    for n in range(120):  # the first 60 % of the horizon, past the rise
        model.observe(np.array([0]), n, curve_values(TRUE_THETA, np.array([n / HORIZON]), "paper")[:, 0])
    for _ in range(20):
        model.fit(steps=50)
    future = np.arange(120, HORIZON)
    predicted = model.predict(future).mean(axis=1)[0]
    # Tolerance 0.03 (as for the default family); measured 0.012.
    assert np.abs(predicted - curve_values(TRUE_THETA, future / HORIZON, "paper")[0]).max() < 0.03


@pytest.mark.parametrize(
    ("best", "settings"),
    [
        ("serial", {"cost": 0.0, "curves": (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 160.0))}),
        ("parallel", {"cost": 1.0, "curves": (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 40.0))}),
    ],
)
def test_meta_learner_with_the_paper_family_finds_the_clearly_best_strategy(best, settings):
    env = gym.make("tradeoff/LearningCurves-v0", horizon=400, **settings)
    oracle = run_episode(env, OracleAgent(env), seed=0).reward.sum()
    for seed in range(3):
        frame = run_episode(env, MetaLearnerAgent(curve_family="paper"), seed)
        assert (frame[frame.trial >= 200].strategy == best).mean() >= 0.8
        assert frame.reward.sum() >= 0.9 * oracle  # measured 0.94–0.98


def test_unknown_curve_family_is_refused():
    with pytest.raises(ValueError, match=r"curve_family must be one of \['shape', 'paper'\]"):
        MetaLearnerAgent(curve_family="gompertz")
    with pytest.raises(ValueError, match=r"family must be one of \['shape', 'paper'\]"):
        CurveModel(1, 10, family="gompertz", generator=torch.Generator())
