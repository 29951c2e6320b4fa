"""LearningCurves: the known-curve environment every agent is developed against."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.agents import FixedAgent, OracleAgent, RandomAgent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.interface import SERIAL_PARALLEL, RewardRule
from tradeoff_gym.envs.learning_curves import LearningCurvesConfig, LearningCurvesEnv, LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"


def constant(value: float):
    return lambda n: np.full(np.shape(n), value)


def test_rewards_follow_the_curves_and_the_hidden_cost():
    env = LearningCurvesEnv(
        curves=(constant(0.8), constant(0.5)), batch_size=None, cost=0.6, horizon=10
    )
    env.reset(seed=0)
    _, reward, _, _, info = env.step(0)
    assert reward == pytest.approx(0.8 / 1.6)
    assert info["raw_accuracy"] == pytest.approx(0.8)
    np.testing.assert_allclose(info["task_rewards"], np.full(4, 0.5))
    np.testing.assert_allclose(info["task_accuracy"], np.full(4, 0.8))
    _, reward, _, _, info = env.step(1)
    assert reward == pytest.approx(0.5) and info["strategy"] == "parallel"


def test_curve_advances_only_with_its_own_picks():
    env = LearningCurvesEnv(curves=(lambda n: np.minimum(n / 10, 1), constant(0.0)), batch_size=None, cost=0.0)
    env.reset(seed=0)
    rewards = [env.step(a)[1] for a in (0, 1, 1, 0, 0)]
    assert rewards == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_binomial_accuracy_is_unbiased_around_the_curve():
    env = LearningCurvesEnv(curves=(constant(0.3), constant(0.7)), batch_size=16, cost=0.0, horizon=4000)
    env.reset(seed=3)
    accuracies = np.array([env.step(1)[4]["raw_accuracy"] for _ in range(4000)])
    # Mean of 4 tasks × 16 examples: sd per trial sqrt(.21/64) ≈ .057, so the 4000-trial mean is ±.0009.
    assert accuracies.mean() == pytest.approx(0.7, abs=0.005)
    assert np.all(accuracies * 64 == np.round(accuracies * 64))  # whole numbers of correct examples


def test_reward_rule_divide_and_additive():
    rewards = np.array([1.0, 1.0, np.nan, 1.0])
    divide, additive = RewardRule(SERIAL_PARALLEL, "divide"), RewardRule(SERIAL_PARALLEL, "additive", "sum")
    np.testing.assert_allclose(divide.task_rewards(0, rewards, 1.0), [0.5, 0.5, np.nan, 0.5])
    np.testing.assert_allclose(divide.task_rewards(1, rewards, 1.0), rewards)  # parallel pays no cost
    assert divide.reward(divide.task_rewards(0, rewards, 1.0)) == pytest.approx(0.5)  # mean of performed
    # Additive: the i-th performed task (0-based) pays 1 - i*c; the skipped slot takes no position.
    np.testing.assert_allclose(additive.task_rewards(0, rewards, 0.2), [1.0, 0.8, np.nan, 0.6])
    assert additive.reward(additive.task_rewards(0, rewards, 0.2)) == pytest.approx(2.4)  # summed


def test_sagiv_preset_matches_sagiv_expected_trial_reward():
    """E[r] = Σ_k P(k) · p · Σ_{i<k} (1 − i·P) (Sagiv et al.'s expected_trial_reward) for serial."""
    p_mt, cost = 0.3, 0.2
    config = LearningCurvesConfig(
        curves=(constant(0.9), constant(0.6)), n_tasks=4, horizon=5, batch_size=1, cost=cost,
        cost_mode="additive", task_count_probs=(1 - p_mt, p_mt / 3, p_mt / 3, p_mt / 3), reward_aggregate="sum",
    )
    probs = [1 - p_mt] + [p_mt / 3] * 3
    serial = sum(probs[k - 1] * 0.9 * sum(1 - i * cost for i in range(k)) for k in range(1, 5))
    parallel = sum(probs[k - 1] * 0.6 * k for k in range(1, 5))
    np.testing.assert_allclose(config.expected_trial_rewards(cost)[:, 0], [serial, parallel])


def test_sagiv_preset_empirical_mean_matches_expectation():
    env = gym.make(ENV_ID, preset="sagiv2018", horizon=1000, cost=0.2)
    frames = pd.concat([run_episode(env, FixedAgent("serial"), seed) for seed in range(20)])
    expected = env.unwrapped.expected_fixed_returns()[0]
    per_episode = frames.groupby("seed").reward.sum()
    # 20 episodes: standard error of the mean return is about sd/sqrt(20) (sd ≈ 30 here).
    assert abs(per_episode.mean() - expected) < 4 * per_episode.std() / np.sqrt(20)
    counts = frames.filter(like="task_reward_").notna().sum(axis=1)
    assert counts.between(1, 4).all() and (counts == 1).mean() == pytest.approx(0.7, abs=0.02)


def test_oracle_return_equals_the_analytic_best_fixed_return():
    curves = (LogisticCurve(0.05, 30.0), LogisticCurve(0.05, 80.0))
    env = gym.make(ENV_ID, curves=curves, batch_size=None, cost=0.5, horizon=200)
    # Hand computation: Σ_n sigmoid(.05 (n − m)) over n < 200, serial ÷ 1.5.
    n = np.arange(200)
    serial = np.sum(1 / (1 + np.exp(-0.05 * (n - 30)))) / 1.5
    parallel = np.sum(1 / (1 + np.exp(-0.05 * (n - 80))))
    frame = run_episode(env, OracleAgent(env), seed=0)
    assert frame.reward.sum() == pytest.approx(max(serial, parallel), rel=1e-12)
    assert (frame.strategy == ("serial" if serial > parallel else "parallel")).all()


def test_cost_range_is_drawn_per_episode_and_never_shown():
    env = gym.make(ENV_ID, cost=(0.2, 0.8), horizon=5)
    costs = []
    for seed in range(30):
        _, info = env.reset(seed=seed)
        assert not any("cost" in key for key in info)
        costs.append(env.unwrapped.cost)
        info = env.step(0)[4]
        assert not any("cost" in key for key in info)
    assert min(costs) >= 0.2 and max(costs) <= 0.8 and np.std(costs) > 0.1


def test_observation_summarises_the_episode():
    env = LearningCurvesEnv(curves=(constant(1.0), constant(0.5)), batch_size=None, cost=0.0, horizon=10)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, np.zeros(5, dtype=np.float32))
    for action in (0, 0, 1, 0):
        obs, *_ = env.step(action)
    np.testing.assert_allclose(obs, [0.4, 0.75, 0.25, 1.0, 0.5], rtol=1e-6)
    assert env.observation_space.contains(obs)


def test_episode_truncates_at_the_horizon():
    env = gym.make(ENV_ID, horizon=3)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(RuntimeError, match=r"episode is over after horizon=3 trials; call reset\(\)"):
        env.unwrapped.step(0)


def test_a_step_before_reset_is_refused():
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        LearningCurvesEnv(horizon=3).step(0)


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_gives_identical_frames(seed):
    env = gym.make(ENV_ID, preset="sagiv2018", horizon=300)
    first = run_episode(env, RandomAgent(), seed)
    second = run_episode(gym.make(ENV_ID, preset="sagiv2018", horizon=300), RandomAgent(), seed)
    pd.testing.assert_frame_equal(first, second)
    other = run_episode(env, RandomAgent(), seed + 1)
    assert not first.reward.equals(other.reward)


@pytest.mark.parametrize("action", [-1, 2, 0.5, "a", None, [0, 1]])
def test_invalid_action_is_refused(action):
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 1\]"):
        env.unwrapped.step(action)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cost": -0.1}, r"cost must lie in \[0.0, 1.0\]"),
        ({"cost": 1.5}, r"cost must lie in \[0.0, 1.0\]"),
        ({"cost": float("nan")}, r"cost must lie in \[0.0, 1.0\]"),
        ({"cost": (0.6, 0.2)}, r"cost range must have low <= high"),
        ({"cost": (0.0, 2.0)}, r"cost range bounds must lie in \[0.0, 1.0\]"),
        ({"cost": "high"}, r"cost must be a number"),
        ({"horizon": 0}, r"horizon must be an integer >= 1"),
        ({"horizon": -5}, r"horizon must be an integer >= 1"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1"),
        ({"preset": "nope"}, r"preset must be one of \['default', 'sagiv2018'\]"),
        ({"horizn": 10}, r"unknown LearningCurves setting\(s\) \['horizn'\]"),
        ({"cost_mode": "multiply"}, r"cost_mode must be one of \['divide', 'additive'\]"),
        ({"curves": (constant(0.5),)}, r"curves must give one curve .* for each of the 2 strategies"),
        ({"curves": (constant(0.5), "steep")}, r"curves\[1\] must be callable"),
        ({"curves": (constant(0.5), constant(1.5))}, r"curves\[1\] must return accuracies in \[0, 1\]"),
        ({"curves": (constant(0.5), lambda n: np.zeros(3))}, r"curves\[1\] must map an array of 1000"),
        ({"curves": (constant(0.5), (constant(0.5),) * 3)}, r"curves\[1\] must be one curve or 4 per-task"),
        ({"task_count_probs": (0.5, 0.5)}, r"task_count_probs must be 4 non-negative probabilities"),
        ({"preset": "sagiv2018", "prop_mt": 2.0}, r"prop_mt must lie in \[0, 1\]"),
        ({"preset": "sagiv2018", "prop_mt": True}, r"prop_mt must lie in \[0, 1\]"),
        ({"preset": "sagiv2018", "rate": True}, r"rate must lie in \[0.0, inf\)"),
        ({"preset": "sagiv2018", "rate": -0.1}, r"rate must lie in \[0.0, inf\)"),
        ({"preset": "sagiv2018", "parallel_midpoint": True}, r"midpoint must lie in"),
        ({"preset": "sagiv2018", "serial_midpoint": float("nan")}, r"midpoint must lie in"),
        ({"cost": True}, r"cost must be a number"),
        ({"cost": (False, True)}, r"cost range bounds must lie in"),
        ({"horizon": True}, r"horizon must be an integer >= 1"),
        ({"batch_size": True}, r"batch_size must be an integer >= 1"),
        ({"n_tasks": True}, r"n_tasks must be an integer >= 1"),
        ({"task_count_probs": (True, False, False, False)}, r"task_count_probs must be 4 non-negative"),
        ({"task_count_probs": 0.5}, r"task_count_probs must be 4 non-negative"),
        ({"config": 42}, r"config must be a LearningCurvesConfig"),
        ({"config": "x"}, r"config must be a LearningCurvesConfig"),
        ({"config": LearningCurvesConfig(), "horizon": 5}, r"either config or individual settings"),
        ({"config": LearningCurvesConfig(), "preset": "sagiv2018"}, r"either config or preset"),
    ],
)
def test_bad_settings_name_the_field_and_what_is_allowed(settings, message):
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, **settings)


@pytest.mark.parametrize(("rate", "midpoint"), [(True, 10.0), (0.1, False), ("fast", 1.0), (float("inf"), 1.0)])
def test_logistic_curve_refuses_what_is_not_a_finite_number(rate, midpoint):
    with pytest.raises(ValueError, match="rate|midpoint"):
        LogisticCurve(rate, midpoint)
