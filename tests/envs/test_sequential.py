"""SequentialTasks: the checkers pass, streams persist and are seed-deterministic, regimens train what they say."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from tradeoff_gym.agents import FixedAgent, RandomAgent
from tradeoff_gym.benchmarks.run_loop import run_stream
from tradeoff_gym.envs.interface import TASK_ACCURACY, task_values
from tradeoff_gym.envs.sequential import SequentialTasksConfig, SequentialTasksEnv
from tradeoff_gym.learners.curriculum import latin_order

ENV_ID = "tradeoff/SequentialTasks-v0"
#: Small and fast: few images, a tiny network, short episodes.
FAST = {"n_train": 400, "n_holdout": 100, "channels": (4, 8, 8), "hidden": (16,), "max_trials": 12, "eval_every": 4}


def test_checkers_pass_on_a_multi_task_stream():
    # Several tasks, so info holds tasks not yet introduced (0 + task_performed False: no NaN for the checkers).
    env = gym.make(ENV_ID, n_tasks=3, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)


def test_reset_info_holds_no_nan_and_marks_the_tasks_introduced():
    env = SequentialTasksEnv(n_tasks=3, **FAST)
    _, info = env.reset(seed=0)
    numbers = [np.asarray(v, dtype=np.float64) for v in info.values() if np.asarray(v).dtype.kind in "fiub"]
    assert all(np.all(np.isfinite(v)) for v in numbers)
    assert info["task_performed"].tolist() == [True, False, False]
    assert info["task_accuracy"][1:].tolist() == [0.0, 0.0] and 0.0 <= info["task_accuracy"][0] <= 1.0
    np.testing.assert_array_equal(np.isnan(task_values(info, TASK_ACCURACY)), [False, True, True])
    _, info = env.reset()
    assert info["task_performed"].tolist() == [True, True, False]


def test_seeded_streams_are_bit_identical_and_seeds_differ():
    frames = [run_stream(gym.make(ENV_ID, n_tasks=3, **FAST), RandomAgent(), seed=7) for _ in range(2)]
    assert frames[0].equals(frames[1])
    other = run_stream(gym.make(ENV_ID, n_tasks=3, **FAST), RandomAgent(), seed=8)
    assert not np.allclose(frames[0]["loss"].to_numpy(), other["loss"].to_numpy()[: len(frames[0])])
    assert sorted(frames[0]["episode"].unique()) == [1, 2, 3]
    assert np.array_equal(frames[0]["stream_trial"], np.arange(len(frames[0])))


def test_reset_without_seed_continues_the_stream_and_the_network_persists():
    env = SequentialTasksEnv(n_tasks=2, **FAST)
    _, info = env.reset(seed=3)
    order = info["task_order"]
    assert info["episode"] == 1 and info["stream"] == 0 and len(order) == 2
    assert np.isnan(task_values(info, TASK_ACCURACY)[1])
    learner = env._stream.learner
    for _ in range(3):
        env.step(0)
    trained = [p.detach().clone() for p in learner.net.parameters()]
    _, info = env.reset()
    assert info["episode"] == 2 and info["task_order"] == order and env._stream.learner is learner
    assert all(torch.equal(a, b) for a, b in zip(trained, learner.net.parameters()))  # not re-initialised
    assert info["task_performed"].all()  # both tasks measured when task 2 arrives
    _, info = env.reset()  # the stream is exhausted: a fresh one, with a fresh network
    assert info["episode"] == 1 and info["stream"] == 1 and env._stream.learner is not learner
    _, info = env.reset(options={"new_stream": True})
    assert info["episode"] == 1 and info["stream"] == 2
    _, again = env.reset(seed=3)
    assert again["episode"] == 1 and again["stream"] == 0 and again["task_order"] == order


def test_stream_scope_plays_every_task_in_one_gymnasium_episode():
    env = gym.make(ENV_ID, n_tasks=3, episode_scope="stream", **FAST)
    frame = run_stream(env, FixedAgent("mix"), seed=0)
    assert frame["episode"].tolist() == sorted(frame["episode"])
    assert set(frame["episode"]) == {1, 2, 3} and frame["run_id"].nunique() == 1
    assert len(frame) <= 3 * FAST["max_trials"]
    # Tasks not yet introduced are NaN; introduced ones are measured.
    for k in range(3):
        assert frame.loc[frame.episode <= k, f"task_reward_{k}"].isna().all()
        assert frame.loc[frame.episode > k, f"task_reward_{k}"].notna().all()


@pytest.mark.parametrize(("regimen", "expected"), [("mix", (8, 8, 16)), ("new-only", (0, 0, 32)), ("uniform", None)])
def test_logged_example_counts_follow_the_regimen(regimen, expected):
    env = SequentialTasksEnv(n_tasks=3, batch_size=32, strategies=SequentialTasksConfig().strategies, **FAST)
    env.reset(seed=0)
    env.reset()
    env.reset()  # episode 3: two old tasks and the new one
    action = ["mix", "new-only", "uniform"].index(regimen)
    info = env.step(action)[4]
    counts = tuple(info["metrics"][f"examples_{k}"] for k in range(3))
    assert sum(counts) == 32 and info["strategy"] == regimen
    if expected is not None:
        assert counts == expected
    else:
        assert max(counts) - min(counts) <= 1


def test_episode_ends_at_criterion_or_at_the_cap():
    env = SequentialTasksEnv(n_tasks=2, **{**FAST, "eval_every": 1, "max_trials": 5}, criterion=0.01)
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step(0)
    assert terminated and not truncated and info["metrics"]["criterion_met"] == 1
    env = SequentialTasksEnv(n_tasks=2, **{**FAST, "max_trials": 5}, criterion=1.0)
    env.reset(seed=0)
    ends = [env.step(0)[2:4] for _ in range(5)]
    assert ends[:4] == [(False, False)] * 4 and ends[4] == (False, True)


def test_a_step_after_the_end_or_before_reset_is_refused():
    env = SequentialTasksEnv(n_tasks=2, **{**FAST, "eval_every": 1}, criterion=0.01)
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(0)
    env.reset(seed=0)
    assert env.step(0)[2]  # terminated: criterion met
    params = [p.detach().clone() for p in env._stream.learner.net.parameters()]
    with pytest.raises(RuntimeError, match=r"terminated.*call reset\(\)"):
        env.step(0)
    assert all(torch.equal(a, b) for a, b in zip(params, env._stream.learner.net.parameters()))  # no training
    env.reset()  # the next task: stepping is allowed again
    env.step(0)
    env = SequentialTasksEnv(n_tasks=2, **{**FAST, "max_trials": 3}, criterion=1.0)
    env.reset(seed=0)
    assert [env.step(0)[3] for _ in range(3)] == [False, False, True]
    with pytest.raises(RuntimeError, match=r"max_trials=3.*call reset\(\)"):
        env.step(0)


def test_stream_scope_refuses_a_step_only_after_the_last_task():
    env = SequentialTasksEnv(n_tasks=2, episode_scope="stream", **{**FAST, "max_trials": 2}, criterion=1.0)
    env.reset(seed=0)
    ends = [env.step(0)[3] for _ in range(4)]  # two task episodes of 2 trials in one Gymnasium episode
    assert ends == [False, False, False, True]
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)


def test_spec_carries_the_trial_cap_of_the_episode_scope():
    assert gym.make(ENV_ID, n_tasks=3, **{**FAST, "max_trials": 7}).spec.max_episode_steps == 7
    stream = gym.make(ENV_ID, n_tasks=3, episode_scope="stream", **{**FAST, "max_trials": 7})
    assert stream.spec.max_episode_steps == 21 == stream.unwrapped.config.horizon


def test_the_callers_torch_threads_do_not_change_the_stream(caller_threads):
    frames = []
    for threads in (1, 2):
        caller_threads(threads)
        frames.append(run_stream(gym.make(ENV_ID, n_tasks=2, **FAST), RandomAgent(), seed=0))
        assert torch.get_num_threads() == threads  # the caller's setting is restored after every step
    assert frames[0].equals(frames[1])  # bit-identical, losses included
    assert gym.make(ENV_ID, n_tasks=2, **FAST).reset(seed=0)[1]["threads"] == 1  # recorded with the run


def test_reward_is_the_mean_accuracy_of_the_tasks_seen():
    for mode, shift in (("accuracy", 0.0), ("shortfall", -1.0)):
        env = SequentialTasksEnv(n_tasks=3, reward_mode=mode, **FAST)
        env.reset(seed=1)
        env.reset()
        _, reward, _, _, info = env.step(0)
        accuracy = task_values(info, TASK_ACCURACY)
        assert np.isnan(accuracy[2]) and np.all(np.isfinite(accuracy[:2]))
        assert info["task_accuracy"][2] == 0.0 and info["task_performed"].tolist() == [True, True, False]
        assert reward == pytest.approx(np.mean(accuracy[:2]) + shift)
        np.testing.assert_array_equal(info["task_rewards"], info["task_accuracy"])


def test_latin_order_setting_takes_the_replications_row():
    env = SequentialTasksEnv(n_tasks=4, order="latin", replication=12, dimension="texture", **FAST)
    assert env.reset(seed=0)[1]["task_order"] == tuple(latin_order(12, 4, "texture"))
    assert env.reset(options={"new_stream": True})[1]["task_order"] == tuple(latin_order(13, 4, "texture"))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"n_tasks": 11}, "n_tasks"),
        ({"criterion": 0.0}, "criterion"),
        ({"criterion": 1.2}, "criterion"),
        ({"dimension": "size"}, "dimension"),
        ({"new_fraction": 1.0}, "new_fraction"),
        ({"order": "sorted"}, "order"),
        ({"max_trials": 0}, "max_trials"),
        ({"eval_every": 0}, "eval_every"),
        ({"reward_mode": "sum"}, "reward_mode"),
        ({"episode_scope": "run"}, "episode_scope"),
        ({"replication": -1}, "replication"),
        ({"learning_rate": 2.0}, "learning_rate"),
        ({"n_holdout": 3}, "n_holdout"),
        ({"colour": "red"}, "unknown"),
        ({"criterion": True}, "criterion"),
        ({"new_fraction": True}, "new_fraction"),
        ({"learning_rate": True}, "learning_rate"),
        ({"batch_size": True}, "batch_size"),
        ({"max_trials": True}, "max_trials"),
        ({"eval_every": True}, "eval_every"),
        ({"replication": True}, "replication"),
        ({"n_tasks": True}, "n_tasks"),
        ({"threads": 0}, "threads"),
        ({"threads": True}, "threads"),
        ({"config": 42}, "config must be a SequentialTasksConfig"),
        ({"config": "x"}, "config must be a SequentialTasksConfig"),
        ({"config": SequentialTasksConfig(), "n_tasks": 2}, "either config or individual settings"),
        ({"preset": "fast"}, "preset"),
    ],
)
def test_bad_config_names_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        SequentialTasksEnv(**settings)


def test_bad_action_is_refused():
    env = SequentialTasksEnv(n_tasks=2, **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(3)
