"""The one run loop: its frame layout, seeding and per-trial logging."""

import gymnasium as gym
import numpy as np
import pytest

from agents import FixedAgent, RandomAgent
from agents.base import Agent
from benchmarks.run_loop import BASE_COLUMNS, run_episode, split_seed
from envs.common import SERIAL_PARALLEL, SummaryObservation, reset_info, step_info


def test_frame_has_one_row_per_trial_and_the_documented_columns():
    env = gym.make("tradeoff/LearningCurves-v0", horizon=50)
    frame = run_episode(env, FixedAgent("serial"), seed=0)
    assert list(frame.columns) == [*BASE_COLUMNS, *(f"task_reward_{i}" for i in range(4))]
    assert len(frame) == 50 and (frame.strategy == "serial").all()
    assert frame.trial.tolist() == list(range(50))
    assert frame.run_id.iloc[0] == "tradeoff/LearningCurves-v0/serial/0"
    np.testing.assert_allclose(frame.filter(like="task_reward_").mean(axis=1), frame.reward)


def test_split_seed_is_deterministic_and_refuses_bad_seeds():
    assert split_seed(3)[0] == split_seed(3)[0] != split_seed(4)[0]
    assert split_seed(3)[1].random() == split_seed(3)[1].random()
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        split_seed(-1)


class _MetricEnv(gym.Env):
    """Two trials; reports a metric only on the second (the loop must not shift columns)."""

    observation_space = SummaryObservation(2, 2).space
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(5, np.float32), reset_info(SERIAL_PARALLEL, 2, 1)

    def step(self, action):
        self.t += 1
        extra = {"probe": 0.25} if self.t == 2 else {}
        info = step_info(SERIAL_PARALLEL[action], np.array([1.0]), np.array([1.0]), self.t, np.zeros(2), **extra)
        return np.zeros(5, np.float32), 1.0, False, self.t == 2, info


def test_env_metrics_become_columns_with_nan_where_absent():
    frame = run_episode(_MetricEnv(), RandomAgent(), seed=0, env_id="metric")
    assert frame.probe.isna().tolist() == [True, False] and frame.probe.iloc[1] == 0.25


def test_user_agent_needs_only_the_protocol():
    class AlternatingAgent:
        name = "alternating"

        def reset(self, info, rng):
            self.t = 0

        def act(self, obs, info):
            return self.t % 2

        def observe(self, action, reward, obs, info):
            self.t += 1

    assert isinstance(AlternatingAgent(), Agent)
    frame = run_episode(gym.make("tradeoff/LearningCurves-v0", horizon=4), AlternatingAgent(), seed=0)
    assert frame.action.tolist() == [0, 1, 0, 1]
