"""The one run loop: its frame layout, seeding and per-trial logging."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.agents import FixedAgent, RandomAgent
from tradeoff_gym.agents.base import Agent
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import BASE_COLUMNS, run_episode, run_episodes, split_seed
from tradeoff_gym.envs.common import SERIAL_PARALLEL, SummaryObservation, reset_info, step_info


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


def _lockstep_equals_single_runs(env_id: str, agent_names: list[str], seeds: list[int], **settings) -> list:
    """Frames of run_episodes on a SyncVectorEnv, checked equal to one run_episode per (agent, seed)."""
    vector = gym.make_vec(env_id, num_envs=len(seeds), vectorization_mode="sync", **settings)
    single = gym.make(env_id, **settings)
    lockstep = run_episodes(vector, [make_agent(n, single) for n in agent_names], seeds, agent_names=agent_names)
    for frame, name, seed in zip(lockstep, agent_names, seeds):
        alone = run_episode(gym.make(env_id, **settings), make_agent(name, single), seed, agent_name=name)
        pd.testing.assert_frame_equal(frame, alone)
    return lockstep


def test_lockstep_episodes_give_the_frames_of_single_runs():
    frames = _lockstep_equals_single_runs(
        "tradeoff/LearningCurves-v0", ["ucb1", "meta-learner", "random"], [0, 1, 7], horizon=120, cost=0.3
    )
    assert [f.seed.iloc[0] for f in frames] == [0, 1, 7] and [len(f) for f in frames] == [120] * 3


@pytest.mark.slow
def test_lockstep_episodes_that_end_at_different_trials_and_log_metrics():
    """SequentialTasks ends each episode at its own trial (criterion or cap) and reports metrics."""
    settings = {"n_tasks": 2, "n_train": 400, "n_holdout": 100, "channels": (4, 8, 8), "hidden": (16,),
                "max_trials": 40, "eval_every": 4, "criterion": 0.6}
    frames = _lockstep_equals_single_runs("tradeoff/SequentialTasks-v0", ["random", "random"], [3, 4], **settings)
    assert all("task_trial" in f.columns for f in frames)


def test_lockstep_refuses_shared_agents_and_wrong_counts():
    vector = gym.make_vec("tradeoff/LearningCurves-v0", num_envs=2, vectorization_mode="sync", horizon=5)
    agent = RandomAgent()
    with pytest.raises(ValueError, match="needs 2 distinct agents and 2 seeds"):
        run_episodes(vector, [agent, agent], [0, 1])
    with pytest.raises(ValueError, match="needs 2 distinct agents and 2 seeds"):
        run_episodes(vector, [RandomAgent(), RandomAgent()], [0])


def test_lockstep_on_the_native_serial_parallel_vector_env_matches_single_runs():
    """K episodes trained as one batched program give the single runs' frames (rewards within 1e-5, 20 trials)."""
    settings = {"horizon": 20, "batch_size": 8, "cost": 0.3}
    names, seeds = ["ucb1", "serial", "meta-learner"], [0, 5, 9]
    vector = gym.make_vec("tradeoff/SerialParallel-v0", num_envs=3, vectorization_mode="vector_entry_point", **settings)
    single = gym.make("tradeoff/SerialParallel-v0", **settings)
    frames = run_episodes(vector, [make_agent(n, single) for n in names], seeds, agent_names=names,
                          env_id="tradeoff/SerialParallel-v0")
    for frame, name, seed in zip(frames, names, seeds):
        alone = run_episode(gym.make("tradeoff/SerialParallel-v0", **settings), make_agent(name, single), seed,
                            agent_name=name)
        assert (frame.action == alone.action).all()
        np.testing.assert_allclose(frame.reward, alone.reward, atol=1e-5)
        np.testing.assert_allclose(frame.filter(like="task_reward_"), alone.filter(like="task_reward_"), atol=1e-5)
