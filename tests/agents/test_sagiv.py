"""The Sagiv et al. (2018) ε-greedy baseline: knows the cost, fits logistic curves, picks the best strategy."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from tradeoff_gym.agents import OracleAgent, SagivAgent
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.agents.sagiv import fit_logistic_map
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.interface import SERIAL_PARALLEL, RewardRule, Strategy
from tradeoff_gym.envs.learning_curves import LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"
HORIZON = 400
# The meta-learner's instances (tests/agents/test_meta_learner.py): serial +49 % at c = 0, parallel 2× at c = 1.
CLEARLY_BEST = {
    "serial": {"cost": 0.0, "curves": (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 160.0))},
    "parallel": {"cost": 1.0, "curves": (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 40.0))},
}
# Their own world (sagiv2018 preset: additive cost, 1–4 tasks, Bernoulli successes, summed reward, τ = 1000):
# parallel midpoint 600 and P = 0.05: serial 1219.7 vs 641.7; parallel midpoint 200 and P = 0.3: 1023 vs 1259.
SAGIV_WORLD = {
    "serial": {"parallel_midpoint": 600.0, "cost": 0.05},
    "parallel": {"parallel_midpoint": 200.0, "cost": 0.3},
}
INFO = {"strategies": ("serial", "parallel"), "serial": (True, False), "horizon": 100, "n_tasks": 4}


def assert_learns(env: gym.Env, best: str, seeds: range) -> None:
    """≥ 80 % best strategy in the second half and ≥ 90 % of the oracle's return, on every seed."""
    horizon = env.unwrapped.config.horizon
    for seed in seeds:
        frame = run_episode(env, make_agent("sagiv", env), seed)
        oracle = run_episode(env, OracleAgent(env), seed)
        assert (oracle.strategy == best).all()
        assert (frame[frame.trial >= horizon // 2].strategy == best).mean() >= 0.8, seed
        assert frame.reward.sum() >= 0.9 * oracle.reward.sum(), (seed, frame.reward.sum(), oracle.reward.sum())


@pytest.mark.parametrize("best", sorted(CLEARLY_BEST))
def test_picks_the_clearly_best_strategy_with_the_cost_known(best: str) -> None:
    assert_learns(gym.make(ENV_ID, horizon=HORIZON, **CLEARLY_BEST[best]), best, range(3))


@pytest.mark.slow
@pytest.mark.parametrize("best", sorted(SAGIV_WORLD))
def test_picks_the_best_strategy_in_the_sagiv2018_world(best: str) -> None:
    env = gym.make(ENV_ID, preset="sagiv2018", **SAGIV_WORLD[best])
    assert_learns(env, best, range(2))


def test_value_is_the_discounted_sum_of_expected_trial_rewards() -> None:
    """V_A = Σ_j γ^{0.025 j} p_A(n_A + j) Σ_k P(k) Σ_{i<k} (1 − i·P), additive cost, summed reward."""
    agent = SagivAgent(0.2, rule=RewardRule(SERIAL_PARALLEL, "additive", "sum"), gamma=0.9, epsilon=0.0)
    agent.reset(INFO, np.random.default_rng(0))
    agent.beta = np.array([[-2.0, 4.0], [-1.0, 1.0]])
    agent.picks[:] = (10, 20)
    agent.task_count_counts[:] = (5, 0, 2, 1)  # Dirichlet(1) mean: (6, 1, 3, 2) / 12
    task_dist = np.array([6, 1, 3, 2]) / 12
    serial_totals = np.array([1.0, 1.8, 2.4, 2.8])  # Σ_{i<k} (1 − 0.2 i)
    parallel_totals = np.array([1.0, 2.0, 3.0, 4.0])
    j = np.arange(70)  # τ − t0 = 100 − 30 remaining trials
    discount = 0.9 ** (0.025 * j)
    expected = [
        (expit(-2.0 + 4.0 * (10 + j) / 100) * discount).sum() * serial_totals @ task_dist,
        (expit(-1.0 + 1.0 * (20 + j) / 100) * discount).sum() * parallel_totals @ task_dist,
    ]
    np.testing.assert_allclose(agent.values(trial=30), expected)


def test_divide_cost_with_mean_reward_discounts_serial_by_one_plus_c() -> None:
    agent = SagivAgent(1.0, epsilon=0.0)
    agent.reset(INFO, np.random.default_rng(0))
    agent.beta[:] = (0.5, 0.0)  # the same flat curve for both strategies
    serial, parallel = agent.values(trial=0)
    assert serial == pytest.approx(parallel / 2)
    assert agent.act(np.zeros(5), {"trial": 0}) == 1


def test_logistic_map_recovers_a_known_curve() -> None:
    x = np.arange(500) / 500
    b_true = np.array([[-4.0, 10.0], [1.0, -3.0]])  # (S, 2)
    trials = np.full((2, 500), 50.0)
    successes = trials * expit(b_true[:, :1] + b_true[:, 1:] * x)  # expected successes: MLE = truth
    fitted = fit_logistic_map(x, successes, trials, np.zeros((2, 2)), prior_std=1e6)
    np.testing.assert_allclose(fitted, b_true, rtol=1e-5)
    # A strong prior shrinks towards 0; one with no data returns the prior mean.
    shrunk = fit_logistic_map(x, successes, trials, np.zeros((2, 2)), prior_std=0.1)
    assert np.all(np.abs(shrunk) < np.abs(b_true))
    empty = fit_logistic_map(x, np.zeros((2, 500)), np.zeros((2, 500)), np.ones((2, 2)), prior_std=3.0)
    np.testing.assert_allclose(empty, 0.0, atol=1e-12)


def test_factory_reads_the_episode_cost_and_cost_semantics() -> None:
    env = gym.make(ENV_ID, preset="sagiv2018", cost=(0.05, 0.3), horizon=30)
    agent = make_agent("sagiv", env)
    assert isinstance(agent, SagivAgent)
    assert agent.rule == env.unwrapped.reward_rule
    assert (agent.rule.cost_mode, agent.rule.aggregate) == ("additive", "sum")
    costs = set()
    for seed in range(3):
        run_episode(env, agent, seed)
        assert agent.cost == env.unwrapped.cost  # the cost drawn for this very episode
        costs.add(agent.cost)
    assert len(costs) == 3
    plain = make_agent("sagiv", gym.make(ENV_ID, horizon=10), epsilon=0.2)
    assert (plain.rule.cost_mode, plain.rule.aggregate, plain.epsilon) == ("divide", "mean", 0.2)


def test_epsilon_explores_and_seeded_runs_are_identical() -> None:
    env = gym.make(ENV_ID, horizon=HORIZON, **CLEARLY_BEST["parallel"])
    greedy = run_episode(env, make_agent("sagiv", env, epsilon=0.0), seed=0)
    assert (greedy.strategy == "parallel").all()  # c = 1, same curves: parallel's value is twice serial's
    explore = run_episode(env, make_agent("sagiv", env, epsilon=0.5), seed=0)
    assert (explore.strategy == "serial").mean() == pytest.approx(0.25, abs=0.06)
    pd.testing.assert_frame_equal(explore, run_episode(env, make_agent("sagiv", env, epsilon=0.5), seed=0))


def test_generalizes_to_three_strategies() -> None:
    strategies = (*SERIAL_PARALLEL, Strategy("pairs", serial=False))
    curves = (LogisticCurve(0.05, 150.0), LogisticCurve(0.05, 150.0), LogisticCurve(0.05, 20.0))
    env = gym.make(ENV_ID, horizon=200, strategies=strategies, curves=curves, cost=0.0)
    frame = run_episode(env, make_agent("sagiv", env), seed=0)
    assert (frame[frame.trial >= 100].strategy == "pairs").mean() >= 0.8


@pytest.mark.parametrize(
    "args, settings, match",
    [
        ((1.5,), {}, r"cost must lie in \[0.0, 1.0\], got 1.5"),
        ((0.1,), {"rule": "additive"}, r"rule must be an tradeoff_gym.envs.interface.RewardRule, got 'additive'"),
        ((0.1,), {"epsilon": -0.1}, r"epsilon must lie in \[0.0, 1.0\], got -0.1"),
        ((0.1,), {"gamma": 0.0}, r"gamma must lie in \(0.0, 1.0\], got 0.0"),
        ((0.1,), {"discount_scale": float("inf")}, r"discount_scale must lie in \[0.0, inf\), got inf"),
        ((0.1,), {"prior_std": 0}, r"prior_std must lie in \(0.0, inf\), got 0"),
        ((0.1,), {"pseudo_observations": 1}, "pseudo_observations must be True or False, got 1"),
    ],
)
def test_invalid_hyperparameters_raise_naming_field_and_value(args: tuple, settings: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SagivAgent(*args, **settings)


def test_a_bad_cost_from_the_callable_and_a_costless_env_raise() -> None:
    agent = SagivAgent(lambda: 2.0)
    with pytest.raises(ValueError, match=r"cost must lie in \[0.0, 1.0\], got 2.0"):
        agent.reset(INFO, np.random.default_rng(0))

    class NoCost(gym.Env):
        pass

    with pytest.raises(ValueError, match="needs an environment exposing its cost"):
        make_agent("sagiv", NoCost())


def test_runs_on_serial_parallel_with_its_cost() -> None:
    env = gym.make("tradeoff/SerialParallel-v0", horizon=12, cost=(0.2, 0.8))
    agent = make_agent("sagiv", env)
    frame = run_episode(env, agent, seed=0)
    assert len(frame) == 12 and agent.cost == env.unwrapped.cost and agent.rule.cost_mode == "divide"
    assert agent.trials.sum() == 12 * 4 + 2 * 2  # every task's accuracy every trial + 2 anchors per strategy
