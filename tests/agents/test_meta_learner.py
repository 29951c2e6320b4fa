"""The SVGD Thompson-sampling meta-learner learns the best strategy without knowing the cost."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch

from tradeoff_gym.agents import MetaLearnerAgent, OracleAgent
from tradeoff_gym.agents.curve_model import CurvePrior
from tradeoff_gym.agents.meta_learner import LATE_ONSET
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.common import SERIAL_PARALLEL, Strategy
from tradeoff_gym.envs.learning_curves import LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"
HORIZON = 400
TWO_BY_TWO = {"strategies": ("a", "b"), "serial": (True, False), "n_tasks": 2}  # reset info without horizon
# Two instances with a clearly best fixed strategy (expected returns, τ = 400):
# serial best: c = 0, serial's curve leads parallel's by 120 picks (midpoints 40 vs 160): 357 vs 239.5,
#   serial +49 %; parallel best: identical curves and c = 1, serial pays half at every count: 178.5 vs 357.
CLEARLY_BEST = {
    "serial": {"cost": 0.0, "curves": (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 160.0))},
    "parallel": {"cost": 1.0, "curves": (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 40.0))},
}


@pytest.mark.slow
@pytest.mark.parametrize("best", sorted(CLEARLY_BEST))
def test_picks_the_clearly_best_strategy_and_earns_near_the_oracle(best: str) -> None:
    env = gym.make(ENV_ID, horizon=HORIZON, **CLEARLY_BEST[best])
    for seed in range(3):
        frame = run_episode(env, MetaLearnerAgent(), seed)
        oracle = run_episode(env, OracleAgent(env), seed)
        assert (oracle.strategy == best).all()
        second_half = frame[frame.trial >= HORIZON // 2]
        assert (second_half.strategy == best).mean() >= 0.8, seed
        assert frame.reward.sum() >= 0.9 * oracle.reward.sum(), (seed, frame.reward.sum(), oracle.reward.sum())


def late_onset_env(lag: float) -> gym.Env:
    """c = 1, τ = 400: serial's curve has midpoint 40, parallel's 40 + lag (rate 0.05); parallel is best."""
    curves = (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 40.0 + lag))
    return gym.make(ENV_ID, horizon=HORIZON, cost=1.0, curves=curves)


@pytest.mark.slow
def test_late_onset_settings_find_a_best_strategy_that_starts_learning_80_picks_later() -> None:
    """Parallel pays ~0 for its first ~60 picks. Seeds 0–7, fraction of the oracle's return: defaults
    0.60 (they give up on parallel after a few zero rewards), LATE_ONSET 0.82 (min 0.69)."""
    env = late_onset_env(80.0)
    fractions = {"default": [], "late": []}
    for seed in range(8):
        oracle = run_episode(env, OracleAgent(env), seed).reward.sum()
        fractions["default"].append(run_episode(env, MetaLearnerAgent(), seed).reward.sum() / oracle)
        fractions["late"].append(run_episode(env, MetaLearnerAgent(**LATE_ONSET), seed).reward.sum() / oracle)
    late, default = np.array(fractions["late"]), np.array(fractions["default"])
    assert late.mean() >= 0.78 and late.min() >= 0.6, late.round(2)
    assert late.mean() >= default.mean() + 0.15, (late.mean(), default.mean())


@pytest.mark.slow
def test_late_onset_settings_move_to_parallel_on_the_default_instance_at_high_cost() -> None:
    """Default LearningCurves (τ = 1000, parallel silent for ~250 picks), c = 1: with LATE_ONSET most
    seeds play parallel on ≥ 80 % of the second half (7 of seeds 0–7); the defaults stay serial (~3 %)."""
    env = gym.make(ENV_ID, cost=1.0)
    shares = []
    for seed in range(8):
        frame = run_episode(env, MetaLearnerAgent(**LATE_ONSET), seed)
        shares.append((frame[frame.trial >= 500].strategy == "parallel").mean())
    assert sum(share >= 0.8 for share in shares) >= 6, np.round(shares, 2)


def test_shared_draw_reads_one_particle_per_strategy_and_commit_keeps_the_followed_one() -> None:
    agent = MetaLearnerAgent(shared_draw=True, redraw_every=5, commit=True)
    agent.reset({**TWO_BY_TWO, "horizon": 100}, np.random.default_rng(0))
    assert (agent._draw == agent._draw[:, :1]).all()  # one index per strategy, shared by its tasks
    particles = agent.model.particles
    torch.testing.assert_close(particles[0], particles[1])  # a strategy's tasks start from the same draws
    agent.act(np.zeros(5), {"trial": 0})
    follow, held = agent._follow, agent._draw.copy()
    redrawn = set()
    for trial in range(5, 200, 5):
        agent.future_values(trial)
        assert (agent._draw[follow] == held[follow]).all()  # the followed strategy's hypothesis is kept
        redrawn.add(int(agent._draw[1 - follow, 0]))
    assert len(redrawn) > 10  # the other strategy is redrawn every redraw_every trials
    plain = MetaLearnerAgent()
    plain.reset({**TWO_BY_TWO, "horizon": 100}, np.random.default_rng(0))
    draws = set()
    for trial in range(50):
        plain.future_values(trial)
        draws.add(tuple(plain._draw.ravel()))
    assert len(draws) == 50  # defaults: a fresh independent draw per (A, i) at every trial


def test_seeded_runs_are_identical_and_seeds_differ() -> None:
    env = gym.make(ENV_ID, horizon=60, cost=0.5)
    first = run_episode(env, MetaLearnerAgent(refit_every=5, svgd_steps=5), seed=4)
    again = run_episode(env, MetaLearnerAgent(refit_every=5, svgd_steps=5), seed=4)
    pd.testing.assert_frame_equal(first, again)
    other = run_episode(env, MetaLearnerAgent(refit_every=5, svgd_steps=5), seed=5)
    assert not first.action.equals(other.action)


def test_never_reads_the_cost_or_raw_accuracy() -> None:
    """Same per-task rewards ⇒ same choices, whatever the info says about accuracy."""

    class Scrambled(gym.Wrapper):
        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            info = {**info, "task_accuracy": np.full_like(info["task_accuracy"], 0.123), "raw_accuracy": 0.5}
            return obs, reward, terminated, truncated, info

    env = gym.make(ENV_ID, horizon=50, cost=0.3)
    agent_kw = {"refit_every": 5, "svgd_steps": 5}
    plain = run_episode(env, MetaLearnerAgent(**agent_kw), seed=1)
    scrambled = run_episode(Scrambled(env), MetaLearnerAgent(**agent_kw), seed=1)
    assert plain.action.equals(scrambled.action)


def test_future_value_is_horizon_aware_and_matches_the_formula() -> None:
    agent = MetaLearnerAgent(n_particles=2, max_points=1000)
    agent.reset({**TWO_BY_TWO, "horizon": 100}, np.random.default_rng(0))
    # Pin every particle to known curves (shape coordinates log k, log m, floor, ceiling logits):
    # strategy a flat at σ(0) = 0.5, strategy b flat at σ(2).
    theta = np.zeros((4, 2, 4))
    theta[2:, :, 2:] = 2.0
    agent._particles = theta
    agent.picks[:] = (10, 30)
    agent.trial, agent.performed[:] = 40, 40  # every task performed in every trial so far: π = 1
    values = agent.future_values(trial=40)
    np.testing.assert_allclose(values, [60 * 2 * 0.5, 60 * 2 / (1 + np.exp(-2.0))])
    agent.discount = 0.9
    np.testing.assert_allclose(agent.future_values(trial=40)[0], 2 * 0.5 * (1 - 0.9**60) / (1 - 0.9))
    # A rising curve: the value counts its own picks forward from n_A, up to the horizon only.
    agent.discount = 1.0
    theta[0:2] = (np.log(5.0), np.log(0.5), -2.0, 2.0)  # a: both tasks rise with x = n / τ, midpoint 50 picks
    agent._particles = theta
    rising = agent.future_values(trial=40)[0]
    n = 10 + np.arange(60)
    floor, ceiling = 1 / (1 + np.exp(2.0)), 1 / (1 + np.exp(-2.0))
    u = 1 / (1 + np.exp(-5.0 * (n / 100 - 0.5)))
    np.testing.assert_allclose(rising, 2 * (floor + (ceiling - floor) * u).sum())
    # Block-summed evaluation (max_points < remaining trials) stays within 0.1 % of the exact sum.
    agent.max_points = 7
    np.testing.assert_allclose(agent.future_values(trial=40)[0], rising, rtol=1e-3)


def test_any_number_of_strategies_and_tasks_performed_sometimes() -> None:
    """Three strategies, variable task counts (NaN rewards): it finds the one that learns fastest."""
    strategies = (*SERIAL_PARALLEL, Strategy("pairs", serial=False))
    curves = (LogisticCurve(0.05, 150.0), LogisticCurve(0.05, 150.0), LogisticCurve(0.05, 20.0))
    env = gym.make(
        ENV_ID,
        horizon=200,
        strategies=strategies,
        curves=curves,
        cost=0.0,
        task_count_probs=(0.4, 0.2, 0.2, 0.2),
        reward_aggregate="sum",
    )
    frame = run_episode(env, MetaLearnerAgent(), seed=0)
    assert (frame[frame.trial >= 100].strategy == "pairs").mean() >= 0.8


def test_registered_and_runs_through_the_registry() -> None:
    env = gym.make(ENV_ID, horizon=20)
    agent = make_agent("meta-learner", env, n_particles=8, refit_every=4)
    assert isinstance(agent, MetaLearnerAgent) and agent.name == "meta-learner"
    assert len(run_episode(env, agent, seed=0)) == 20


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"n_particles": 1}, "n_particles must be an integer >= 2, got 1"),
        ({"refit_every": 0}, "refit_every must be an integer >= 1, got 0"),
        ({"svgd_steps": 2.5}, "svgd_steps must be an integer >= 1, got 2.5"),
        ({"lr": 0.0}, r"lr must lie in \(0.0, inf\), got 0.0"),
        ({"optimizer": "sgd"}, r"optimizer must be one of \['adam', 'adagrad'\], got 'sgd'"),
        ({"discount": 1.5}, r"discount must lie in \(0.0, 1.0\], got 1.5"),
        ({"discount": float("nan")}, r"discount must lie in \(0.0, 1.0\]"),
        ({"noise_std": -0.1}, r"noise_std must lie in \(0.0, inf\), got -0.1"),
        ({"noise_prior_weight": "x"}, r"noise_prior_weight must lie in \(0.0, inf\), got 'x'"),
        ({"max_bins": 0}, "max_bins must be an integer >= 1, got 0"),
        ({"max_points": True}, "max_points must be an integer >= 1, got True"),
        ({"prior": (1, 2, 3, 4)}, "prior must be a CurvePrior or None"),
        ({"shared_draw": 1}, "shared_draw must be True or False, got 1"),
        ({"redraw_every": 0}, "redraw_every must be an integer >= 1, got 0"),
        ({"commit": "yes"}, "commit must be True or False, got 'yes'"),
    ],
)
def test_invalid_hyperparameters_raise_naming_field_and_value(settings: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MetaLearnerAgent(**settings)


def test_hyperparameters_are_keyword_only_and_prior_is_used() -> None:
    with pytest.raises(TypeError):
        MetaLearnerAgent(32)  # type: ignore[misc]
    prior = CurvePrior(mean=(1.0, 0.0, 1.0, 0.0), std=(0.01, 0.01, 0.01, 0.01))
    agent = MetaLearnerAgent(prior=prior, n_particles=4)
    agent.reset({"strategies": ("a",), "serial": (False,), "horizon": 10, "n_tasks": 1}, np.random.default_rng(0))
    np.testing.assert_allclose(agent._particles, np.broadcast_to([1.0, 0.0, 1.0, 0.0], (1, 4, 4)), atol=0.05)
    late = MetaLearnerAgent(**LATE_ONSET)
    assert late.prior.mean[3] == 3.0 and late.shared_draw and late.commit  # LATE_ONSET is plain settings


def test_missing_task_rewards_raise() -> None:
    agent = MetaLearnerAgent()
    agent.reset({**TWO_BY_TWO, "horizon": 10}, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"needs info\['task_rewards'\]"):
        agent.observe(0, 1.0, np.zeros(5), {})


def test_runs_on_serial_parallel_through_the_run_loop() -> None:
    env = gym.make("tradeoff/SerialParallel-v0", horizon=12, cost=0.5)
    agent = make_agent("meta-learner", env, refit_every=4)
    frame = run_episode(env, agent, seed=0)
    assert len(frame) == 12 and agent.n_fits == 3
    assert agent.model.n_observations == 12 * 4  # every task's reward, every trial
    assert np.isfinite(agent.model.particles.numpy()).all()
