"""The one reward rule: hand-computed values, any number of strategies, and the envs and the runner use it."""

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym.agents import FixedAgent, RandomAgent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.runner import rediscount
from tradeoff_gym.envs.interface import SERIAL_PARALLEL, TASK_ACCURACY, TASK_REWARDS, RewardRule, Strategy, task_values
from tradeoff_gym.envs.learning_curves import LogisticCurve

#: Three strategies: serial (full cost), a schedule paying half the cost, parallel (none).
THREE = (Strategy("serial", serial=True), Strategy("half", serial=True, delay=0.5), Strategy("parallel", serial=False))


def test_divide_pays_one_over_one_plus_delay_times_cost():
    rule = RewardRule(THREE, "divide", "mean")
    accuracy = np.array([0.8, 0.6, np.nan, 1.0])
    np.testing.assert_allclose(rule.task_rewards(0, accuracy, 0.5), [0.8 / 1.5, 0.4, np.nan, 1 / 1.5])
    np.testing.assert_allclose(rule.task_rewards(1, accuracy, 0.5), [0.8 / 1.25, 0.6 / 1.25, np.nan, 1 / 1.25])
    np.testing.assert_allclose(rule.task_rewards(2, accuracy, 0.5), accuracy)
    assert rule.reward(rule.task_rewards(0, accuracy, 0.5)) == pytest.approx((0.8 + 0.6 + 1.0) / 3 / 1.5)


def test_additive_sum_and_offset_by_hand():
    rule = RewardRule(THREE, "additive", "sum", offset=-1.0)
    accuracy = np.array([1.0, np.nan, 0.5, 1.0])
    # Performed tasks in order pay 1, 1 - d·c, 1 - 2·d·c with d·c = 0.5·0.2 = 0.1 for "half".
    task_rewards, reward = rule.apply(1, accuracy, 0.2)
    np.testing.assert_allclose(task_rewards, [1.0, np.nan, 0.45, 0.8])
    assert reward == pytest.approx(-1.0 + 1.0 + 0.45 + 0.8)


def test_vectorised_over_trials_matches_one_trial_at_a_time():
    rule = RewardRule(THREE, "additive", "mean")
    rng = np.random.default_rng(0)
    accuracy = rng.random((50, 4))
    accuracy[rng.random((50, 4)) < 0.2] = np.nan
    accuracy[:, 0] = 0.5  # every trial performs at least one task
    actions = rng.integers(3, size=50)
    task_rewards, rewards = rule.apply(actions, accuracy, 0.3)
    for t in range(50):
        one_tasks, one = rule.apply(int(actions[t]), accuracy[t], 0.3)
        np.testing.assert_allclose(task_rewards[t], one_tasks)
        assert rewards[t] == pytest.approx(one)


@pytest.mark.parametrize(
    "strategy, match",
    [
        (dict(name="s", serial=True, delay=0.0), "serial=True needs delay > 0"),
        (dict(name="p", serial=False, delay=0.3), "serial=False needs delay 0"),
        (dict(name="s", serial=True, delay=1.5), r"delay must lie in \[0.0, 1.0\]"),
        (dict(name="s", serial=1), "serial must be True or False"),
        (dict(name="", serial=True), "strategy name must be a non-empty string"),
    ],
)
def test_bad_strategies_are_refused(strategy, match):
    with pytest.raises(ValueError, match=match):
        Strategy(**strategy)


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match=r"cost_mode must be one of \['divide', 'additive'\]"):
        RewardRule(SERIAL_PARALLEL, "times")
    with pytest.raises(ValueError, match=r"reward_aggregate must be one of \['mean', 'sum'\]"):
        RewardRule(SERIAL_PARALLEL, "divide", "max")


@pytest.mark.parametrize("cost_mode, aggregate", [("divide", "mean"), ("additive", "sum")])
def test_learning_curves_step_is_its_rule_applied_to_the_task_accuracies(cost_mode, aggregate):
    curves = (LogisticCurve(0.05, 20.0), LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 60.0))
    env = gym.make("tradeoff/LearningCurves-v0", strategies=THREE, curves=curves, cost=0.4, horizon=60,
                   cost_mode=cost_mode, reward_aggregate=aggregate, task_count_probs=(0.25, 0.25, 0.25, 0.25))
    rule = env.unwrapped.reward_rule
    assert (rule.strategies, rule.cost_mode, rule.aggregate) == (THREE, cost_mode, aggregate)
    env.reset(seed=3)
    skipped = 0
    for t in range(60):
        action = t % 3
        _, reward, _, _, info = env.step(action)
        accuracy = task_values(info, TASK_ACCURACY)
        skipped += np.isnan(accuracy).sum()
        task_rewards, expected = rule.apply(action, accuracy, 0.4)
        np.testing.assert_allclose(task_values(info, TASK_REWARDS), task_rewards, rtol=1e-12)
        assert reward == pytest.approx(expected, rel=1e-12)
    assert skipped > 0  # some trials perform fewer than four tasks


def test_rediscount_reproduces_the_env_at_every_cost_with_three_strategies():
    """A reward-independent run at c = 0, re-discounted by the rule, equals the run at c (rtol 1e-12)."""
    curves = (LogisticCurve(0.05, 20.0), LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 60.0))
    settings = dict(strategies=THREE, curves=curves, horizon=80, cost_mode="additive", reward_aggregate="sum",
                    task_count_probs=(0.1, 0.2, 0.3, 0.4))
    base_env = gym.make("tradeoff/LearningCurves-v0", cost=0.0, **settings)
    base = run_episode(base_env, RandomAgent(), seed=5)
    for cost in (0.1, 0.7):
        direct = run_episode(gym.make("tradeoff/LearningCurves-v0", cost=cost, **settings), RandomAgent(), seed=5)
        again = rediscount(base, cost, base_env.unwrapped.reward_rule)
        assert (direct.action == again.action).all()
        np.testing.assert_allclose(again.reward, direct.reward, rtol=1e-12)
        np.testing.assert_allclose(again.filter(like="task_reward_"), direct.filter(like="task_reward_"), rtol=1e-12)


def test_serial_parallel_step_reward_is_the_rule_applied_to_task_accuracy():
    env = gym.make("tradeoff/SerialParallel-v0", horizon=6, cost=0.6, batch_size=8)
    frame = run_episode(env, FixedAgent("serial"), seed=0)
    rule = env.unwrapped.reward_rule
    assert frame.serial.all()
    rebuilt = rediscount(frame.assign(**{c: frame[c] * 1.6 for c in frame.filter(like="task_reward_")}), 0.6, rule)
    np.testing.assert_allclose(rebuilt.reward, frame.reward, rtol=1e-12)


def test_one_cost_per_trial_equals_one_call_per_cost():
    rule = RewardRule(THREE, "additive", "sum")
    rng = np.random.default_rng(1)
    accuracy, actions, costs = rng.random((20, 4)), rng.integers(3, size=20), rng.random(20)
    task_rewards, rewards = rule.apply(actions, accuracy, costs)
    for t in range(20):
        one_tasks, one = rule.apply(int(actions[t]), accuracy[t], float(costs[t]))
        np.testing.assert_allclose(task_rewards[t], one_tasks)
        assert rewards[t] == pytest.approx(one)
