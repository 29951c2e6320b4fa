"""SequentialTasks: the checkers pass, streams persist and are seed-deterministic, regimens train what they say."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from agents import FixedAgent, RandomAgent
from benchmarks.run_loop import run_stream
from envs.sequential import (
    SequentialTasksConfig,
    SequentialTasksEnv,
    allocate_slots,
    latin_order,
    latin_square,
    regimen_weights,
)

ENV_ID = "tradeoff/SequentialTasks-v0"
#: Small and fast: few images, a tiny network, short episodes.
FAST = {"n_train": 400, "n_holdout": 100, "channels": (4, 8, 8), "hidden": (16,), "max_trials": 12, "eval_every": 4}


def test_checkers_pass():
    # n_tasks=1: Gymnasium's step-determinism check compares info with NaN != NaN, and info marks tasks not yet
    # introduced with NaN; with one task there are none. SB3's checker (no info comparison) runs on a stream.
    env = gym.make(ENV_ID, n_tasks=1, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
        sb3_check_env(SequentialTasksEnv(n_tasks=3, **FAST), warn=True)


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
    assert np.isnan(info["task_accuracy"][1])
    learner = env._stream.learner
    for _ in range(3):
        env.step(0)
    trained = [p.detach().clone() for p in learner.net.parameters()]
    _, info = env.reset()
    assert info["episode"] == 2 and info["task_order"] == order and env._stream.learner is learner
    assert all(torch.equal(a, b) for a, b in zip(trained, learner.net.parameters()))  # not re-initialised
    assert np.all(np.isfinite(info["task_accuracy"]))  # both tasks measured when task 2 arrives
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


def test_regimens_split_each_trial_as_documented():
    np.testing.assert_allclose(regimen_weights("mix", 5), [0.125] * 4 + [0.5])
    np.testing.assert_allclose(regimen_weights("new-only", 3), [0, 0, 1])
    np.testing.assert_allclose(regimen_weights("uniform", 4), [0.25] * 4)
    np.testing.assert_allclose(regimen_weights("mix", 1), [1.0])
    slots = allocate_slots(regimen_weights("mix", 4), 32, phase=0.37)
    assert np.bincount(slots, minlength=4)[3] == 16 and set(np.bincount(slots)[:3]) <= {5, 6}
    # Over many trials the rotating phase makes the shares exact.
    weights = regimen_weights("mix", 10)
    totals = sum(np.bincount(allocate_slots(weights, 32, (t * 0.618034) % 1), minlength=10) for t in range(900))
    np.testing.assert_allclose(totals / totals.sum(), weights, atol=2e-3)


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


def test_reward_is_the_mean_accuracy_of_the_tasks_seen():
    for mode, shift in (("accuracy", 0.0), ("shortfall", -1.0)):
        env = SequentialTasksEnv(n_tasks=3, reward_mode=mode, **FAST)
        env.reset(seed=1)
        env.reset()
        _, reward, _, _, info = env.step(0)
        accuracy = info["task_accuracy"]
        assert np.isnan(accuracy[2]) and np.all(np.isfinite(accuracy[:2]))
        assert reward == pytest.approx(np.mean(accuracy[:2]) + shift)
        np.testing.assert_array_equal(info["task_rewards"], accuracy)


def test_latin_orders_put_every_feature_in_every_position_once_per_block():
    square = latin_square(7, np.random.default_rng(0))
    assert np.all(np.sort(square, axis=0) == np.arange(7)[:, None])  # each symbol once per column
    assert np.all(np.sort(square, axis=1) == np.arange(7)[None, :])  # and once per row
    block = np.stack([latin_order(r, 10, "texture") for r in range(10)])  # (replications, positions)
    assert all(sorted(block[:, p]) == list(range(10)) for p in range(10))
    assert all(sorted(row) == list(range(10)) for row in block)
    assert not np.array_equal(block, np.stack([latin_order(r, 10, "texture") for r in range(10, 20)]))
    env = SequentialTasksEnv(n_tasks=4, order="latin", replication=12, dimension="texture", **FAST)
    assert env.reset(seed=0)[1]["task_order"] == tuple(latin_order(12, 4, "texture"))


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
    ],
)
def test_bad_config_names_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        SequentialTasksEnv(**settings)


def test_sb3_vectorised_env_accepts_its_render_mode():
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env(ENV_ID, n_envs=1, seed=0, env_kwargs={"n_tasks": 2, **FAST})
    assert vec.reset().shape == (1, 7)


def test_bad_action_is_refused():
    env = SequentialTasksEnv(n_tasks=2, **FAST)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(3)
