"""Every registered id passes Gymnasium's and SB3's environment checkers and is seed-deterministic."""

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from agents import RandomAgent
from benchmarks.run_loop import run_episode

#: Small settings so every id checks in seconds; ids not listed use their defaults.
FAST_SETTINGS: dict[str, dict] = {"tradeoff/LearningCurves-v0": {"horizon": 50}}
FAST_SETTINGS["tradeoff/SerialParallel-v0"] = {"horizon": 20, "batch_size": 8}
FAST_SETTINGS["tradeoff/SerialParallelNoisy-v0"] = {"horizon": 20, "batch_size": 8}
# One task: Gymnasium's step-determinism check compares info with NaN != NaN, and SequentialTasks marks tasks
# not yet introduced with NaN (tests/envs/test_sequential.py checks multi-task streams).
FAST_SETTINGS["tradeoff/SequentialTasks-v0"] = {"n_tasks": 1, "max_trials": 20, "n_train": 400, "n_holdout": 100}


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_checkers_pass(env_id):
    env = gym.make(env_id, **FAST_SETTINGS.get(env_id, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)  # a checker warning is a failure here
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_seeded_rollouts_are_identical(env_id):
    first, second = (
        gym.make(env_id, **FAST_SETTINGS.get(env_id, {})).unwrapped for _ in range(2)
    )
    frames = [run_episode(env, RandomAgent(), seed=11, env_id=env_id) for env in (first, second)]
    assert frames[0].equals(frames[1])
