"""Faults end in one clear error, never in a wrong result that looks right: pickled envs, bad agent actions and
agents that edit ``info``, out-of-range thread counts and sub-env indices, footprints beyond the memory limit."""

import pickle
import re

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.run_loop import run_episode, run_episodes
from tradeoff_gym.envs import check_settings
from tradeoff_gym.learners.memory import MEMORY_LIMIT_VARIABLE, memory_limit
from tradeoff_gym.learners.sequential_net import SequentialNetConfig
from tradeoff_gym.learners.threads import MAX_THREADS
from tradeoff_gym.learners.trial import LearnerConfig

SP, MT = "tradeoff/SerialParallel-v0", "tradeoff/Multitask-v0"
#: Small learners: episodes in well under a second (as tests/envs/test_serial_parallel.py, test_multitask.py).
SMALL = {
    SP: dict(image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, conv_channels=(4, 8), hidden_units=(16,)),
    MT: dict(
        image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, sonar_size=8, sonar_units=8,
        conv_channels=(4, 8), hidden_units=(16,),
    ),
}


def make_vec(env_id: str, num_envs: int, **settings) -> gym.vector.VectorEnv:
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **settings)


# ---------------------------------------------------------------------------------------- pickling
@pytest.mark.parametrize("env_id", [SP, MT])
def test_a_pickled_env_continues_bit_identically(env_id):
    env = gym.make(env_id, horizon=40, cost=0.0, **SMALL[env_id])
    env.reset(seed=1)
    n = env.action_space.n
    for t in range(3):
        env.step(t % n)
    copy = pickle.loads(pickle.dumps(env))
    for t in range(15):
        _, reward, _, _, info = env.step((t + 1) % n)
        _, copied_reward, _, _, copied_info = copy.step((t + 1) % n)
        assert copied_reward == reward, t  # bit-identical: the copy keeps learning exactly as the original
        np.testing.assert_array_equal(copied_info["task_accuracy"], info["task_accuracy"])
    assert copy.unwrapped.probe().metrics() == env.unwrapped.probe().metrics()  # probes see the trained weights


@pytest.mark.parametrize("env_id", [SP, MT])
def test_a_pickled_vector_env_continues_bit_identically(env_id):
    vec = make_vec(env_id, 3, horizon=40, cost=0.0, **SMALL[env_id])
    vec.reset(seed=1)
    n = vec.single_action_space.n
    for t in range(3):
        vec.step(np.array([0, 1, t % n]))
    copy = pickle.loads(pickle.dumps(vec))
    for t in range(15):
        actions = np.array([(t + k) % n for k in range(3)])
        _, rewards, _, _, info = vec.step(actions)
        _, copied_rewards, _, _, copied_info = copy.step(actions)
        np.testing.assert_array_equal(copied_rewards, rewards, err_msg=f"trial {t}")
        np.testing.assert_array_equal(copied_info["task_accuracy"], info["task_accuracy"])
    for k in range(3):
        assert copy.unwrapped.probe(k).metrics() == vec.unwrapped.probe(k).metrics()


def test_a_pickled_vector_env_grows_linearly_with_its_sub_envs():
    def size(k: int) -> int:
        vec = make_vec(SP, k, horizon=10, **{**SMALL[SP], "hidden_units": (256, 256)})  # weights dominate
        vec.reset(seed=0)
        return len(pickle.dumps(vec))

    assert size(8) < 2 * 8 * size(1)  # each learner's weights stored once, not once per view of the stack


# ---------------------------------------------------------------------------------------- the run loop's agent calls
class _Returns:
    """An agent that always plays ``action`` as returned, unconverted."""

    name = "returns"

    def __init__(self, action: object) -> None:
        self.action = action

    def reset(self, info, rng):
        pass

    def act(self, obs, info):
        return self.action

    def observe(self, action, reward, obs, info):
        pass


@pytest.mark.parametrize("action", [0.7, 1.9, True, np.True_, "1", np.float64(1.0), None, np.array([1])])
def test_the_run_loop_refuses_an_action_that_is_not_an_integer(action):
    env = gym.make("tradeoff/LearningCurves-v0", horizon=5)
    with pytest.raises(ValueError, match=rf"agent 'returns' .*{re.escape(repr(action))}.* trial 0 "):
        run_episode(env, _Returns(action), seed=0)
    vec = make_vec(SP, 2, horizon=3, **SMALL[SP])
    with pytest.raises(ValueError, match=rf"agent 'second' .*{re.escape(repr(action))}.* trial 0 "):
        run_episodes(vec, [_Returns(1), _Returns(action)], [0, 1], agent_names=["first", "second"])


@pytest.mark.parametrize("action", [1, np.int64(1), np.int32(1), np.uint8(1)])
def test_the_run_loop_plays_python_and_numpy_integers(action):
    frame = run_episode(gym.make("tradeoff/LearningCurves-v0", horizon=5), _Returns(action), seed=0)
    assert frame.action.tolist() == [1] * 5


class _EditsInfo(_Returns):
    """Plays ``action`` and vandalises every ``info`` it observes, in place."""

    def observe(self, action, reward, obs, info):
        info["task_rewards"] -= 0.5
        info["task_performed"][:] = True
        info["raw_accuracy"] = -1.0
        info.get("metrics", {}).clear()


def test_the_log_records_what_the_env_returned_whatever_the_agent_does_to_info():
    env = gym.make("tradeoff/LearningCurves-v0", horizon=30, task_count_probs=(0.5, 0.0, 0.0, 0.5))
    pd.testing.assert_frame_equal(run_episode(env, _EditsInfo(1), seed=4), run_episode(env, _Returns(1), seed=4))
    vec = make_vec(SP, 2, horizon=6, probe_every=3, probe_size=16, **SMALL[SP])
    edited = run_episodes(vec, [_EditsInfo(1), _EditsInfo(0)], [0, 1])
    plain = run_episodes(vec, [_Returns(1), _Returns(0)], [0, 1])
    for a, b in zip(edited, plain):
        pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------- settings out of range
@pytest.mark.parametrize("threads", [10**6, MAX_THREADS + 1, 0, True, 2.0])
@pytest.mark.parametrize("env_id", [SP, MT, "tradeoff/SequentialTasks-v0"])
def test_a_thread_count_beyond_the_maximum_is_refused_before_anything_runs(env_id, threads):
    with pytest.raises(ValueError, match=rf"threads must be an integer in \[1, {MAX_THREADS}\].*got {threads!r}"):
        gym.make(env_id, threads=threads)
    with pytest.raises(ValueError, match=rf"threads must be an integer in \[1, {MAX_THREADS}\]"):
        check_settings(env_id, threads=threads)


def test_the_learner_configs_bound_threads_too():
    for make in (LearnerConfig, SequentialNetConfig):
        assert make(threads=MAX_THREADS).threads == MAX_THREADS
        with pytest.raises(ValueError, match=rf"threads must be an integer in \[1, {MAX_THREADS}\].*got 1000000"):
            make(threads=10**6)


@pytest.mark.parametrize("k", [1.5, "1", True, np.True_, None, -1, 3, 1.0])
def test_a_sub_env_index_that_is_not_an_integer_in_range_is_refused(k):
    vec = make_vec(SP, 3, horizon=5, **SMALL[SP])
    vec.reset(seed=0)
    got = re.escape(repr(k))
    for method in (vec.unwrapped.sub_env, vec.unwrapped.probe):
        with pytest.raises(ValueError, match=rf"sub-env index must be an integer in \[0, 2\], got {got}"):
            method(k)
    with pytest.raises(ValueError, match=rf"learner index must be an integer in \[0, 2\], got {got}"):
        vec.unwrapped.learner.reset(k, seed=0)


def test_a_sub_env_index_may_be_a_numpy_integer():
    vec = make_vec(SP, 3, horizon=5, costs=[0.1, 0.2, 0.3], **SMALL[SP])
    assert vec.unwrapped.sub_env(np.int64(2)).spec.kwargs["cost"] == 0.3


# ---------------------------------------------------------------------------------------- memory
def test_a_batch_of_learners_beyond_the_memory_limit_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "1e8")
    vec = make_vec(SP, 30, horizon=5)  # the default learner: about 5 MB each
    with pytest.raises(ValueError, match=r"a batch of 30 learners needs about 0\.1\d+ GB .* limit of 0\.1 GB "
                                         rf"\({MEMORY_LIMIT_VARIABLE}=1e8\).*num_envs"):
        vec.reset(seed=0)
    assert vec.unwrapped.learner is None
    vec = make_vec(SP, 3, horizon=5, **SMALL[SP])  # a small learner: about 1 MB each
    vec.reset(seed=0)
    vec.step(np.array([0, 1, 0]))


def test_learning_curves_beyond_the_memory_limit_are_refused_before_allocating(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "1e8")
    with pytest.raises(ValueError, match=r"LearningCurves with horizon=1000000.* needs about 0\.4\d+ GB .* limit of "
                                         r"0\.1 GB .*shorter horizon"):
        gym.make("tradeoff/LearningCurves-v0", horizon=10**6)
    with pytest.raises(ValueError, match="horizon=1000000,"):
        check_settings("tradeoff/LearningCurves-v0", horizon=10**6)
    gym.make("tradeoff/LearningCurves-v0", horizon=10**5).reset(seed=0)  # about 42 MB


def test_the_default_memory_limit_is_the_machines_and_refuses_a_footprint_no_machine_has(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_VARIABLE, raising=False)
    limit, source = memory_limit()
    assert limit is None or (limit > 0 and "available now" in source)
    if limit is not None:
        with pytest.raises(ValueError, match="needs about 4.4e\\+03 GB"):
            gym.make("tradeoff/LearningCurves-v0", horizon=10**10)


@pytest.mark.parametrize("value", ["lots", "0", "-5", "inf", "nan"])
def test_a_bad_memory_limit_setting_is_refused(monkeypatch, value):
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, value)
    with pytest.raises(ValueError, match=rf"{MEMORY_LIMIT_VARIABLE} must be a number of bytes >= 1.*{value!r}"):
        gym.make("tradeoff/LearningCurves-v0", horizon=10)
