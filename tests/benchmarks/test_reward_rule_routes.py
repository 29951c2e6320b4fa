"""Every offline re-computation of rewards asks the env's RewardRule: an additive rule gives other numbers than the
paper's divide rule, and each place's numbers are the rule's own (multitask analysis, multitask_schedules,
look_frontier)."""

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.experiments.multitask.analysis import best_schedule_bands, fixed_summary
from tradeoff_gym.benchmarks.experiments.multitask.sweep import FIXED
from tradeoff_gym.benchmarks.scripts.look_frontier import crossover, replay, reward_rates
from tradeoff_gym.benchmarks.scripts.multitask_schedules import best_bands
from tradeoff_gym.envs.interface import SERIAL_PARALLEL, RewardRule, Strategy

TABLE = (Strategy("parallel", serial=False), Strategy("3-pass", serial=True, delay=0.5),
         Strategy("serial", serial=True))
MODES = ("divide", "additive")


def fixed_frame(rule: RewardRule, costs=(0.0, 0.4, 1.0), seeds=2, trials=5) -> pd.DataFrame:
    """Fixed-schedule runs as the runner writes them: one played run per seed, re-discounted at every cost."""
    rng = np.random.default_rng(0)
    rows = []
    for action, strategy in enumerate(rule.strategies):
        for seed in range(seeds):
            accuracy = rng.uniform(0.3, 1.0, size=(trials, 4))
            for cost in costs:
                task_rewards, rewards = rule.apply(np.full(trials, action), accuracy, cost)
                for t in range(trials):
                    rows.append({"agent": FIXED, "seed": seed, "trial": t, "action": action, "strategy": strategy.name,
                                 "serial": strategy.serial, "reward": rewards[t], "raw_accuracy": accuracy[t].mean(),
                                 "cost": cost, **{f"task_reward_{i}": task_rewards[t, i] for i in range(4)},
                                 **({} if rule.cost_mode == "divide" else {"cost_mode": rule.cost_mode})})
    return pd.DataFrame(rows)


def test_the_multitask_analysis_measures_each_schedules_delay_and_rates_through_the_rule():
    grid = np.linspace(0.0, 1.0, 11)
    rates = {}
    for mode in MODES:
        rule = RewardRule(TABLE, mode, "mean")
        frame = fixed_frame(rule)
        summary = fixed_summary(frame)
        np.testing.assert_allclose(summary.delay, [0.0, 0.5, 1.0], atol=1e-12)
        rates[mode], _ = best_schedule_bands(summary, grid, mode=mode)
        for action, row in summary.iterrows():  # each schedule's rate: the rule on its per-task accuracies
            own = [rule.reward(rule.task_rewards(action, row.task_accuracy, c)) for c in grid]
            np.testing.assert_allclose(rates[mode][action], own, rtol=1e-12)
        swept = frame[frame.cost == 1.0].groupby("action").reward.mean()  # what the env paid at a swept cost
        np.testing.assert_allclose(rates[mode][:, -1], swept.to_numpy(), rtol=1e-12)
    assert not np.allclose(rates["divide"][1:, 1:], rates["additive"][1:, 1:])


def test_multitask_schedules_bands_follow_the_rule():
    accuracy = np.array([[0.6] * 4, [0.9] * 4])  # parallel, serial
    grid = np.linspace(0.0, 1.0, 1001)
    divide = best_bands(RewardRule(SERIAL_PARALLEL[::-1], "divide"), accuracy, grid)
    additive = best_bands(RewardRule(SERIAL_PARALLEL[::-1], "additive"), accuracy, grid)
    # divide: 0.9 / (1 + c) = 0.6 at c = 0.5; additive: 0.9 · (1 − 1.5 c) = 0.6 at c = 2/9
    assert [name for name, _ in divide] == [name for name, _ in additive] == ["serial", "parallel"]
    assert divide[1][1] == pytest.approx(0.5, abs=0.002) and additive[1][1] == pytest.approx(2 / 9, abs=0.002)


@pytest.mark.parametrize("mode", MODES)
def test_look_frontier_replays_through_the_rule(mode):
    rule = RewardRule(SERIAL_PARALLEL, mode)  # action 0 serial, 1 parallel
    rng = np.random.default_rng(1)
    accuracy = rng.uniform(0.4, 1.0, size=(2, 6, 4))  # seeds, trials, tasks
    serial, parallel = (accuracy, np.zeros((2, 6), int)), (accuracy * 0.8, np.ones((2, 6), int))
    for cost in (0.0, 0.3):
        own = np.asarray(rule.reward(rule.task_rewards(serial[1], serial[0], cost))).mean(axis=1)
        np.testing.assert_allclose(reward_rates(rule, serial, cost), own, rtol=1e-14)
    look = np.array([[1, 1, 1, 0, 1, 1]] * 2)
    trajectories = {"serial": serial, "parallel": parallel, "stay@3": (accuracy * 0.8, look),
                    "switch@3": (accuracy * 0.8, np.where(np.arange(6) >= 3, 0, 1)[None].repeat(2, 0))}
    ratios = replay(rule, trajectories, 3, 0.9, [0.0, 0.3], 2)
    assert ratios.shape == (2,) and np.isfinite(ratios).all()
    c_star = crossover(rule, serial, parallel)
    lead = reward_rates(rule, serial, c_star).mean() - reward_rates(rule, parallel, c_star).mean()
    assert abs(lead) < 1e-9
    if mode == "divide":  # the paper's closed form: serial ÷ (1 + c*) = parallel
        assert c_star == pytest.approx(accuracy.mean() / (accuracy * 0.8).mean() - 1, abs=1e-9)
    else:
        assert c_star != pytest.approx(accuracy.mean() / (accuracy * 0.8).mean() - 1, abs=1e-3)
