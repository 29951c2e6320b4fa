"""Faults end in one clear error, never in a wrong result that looks right: pickled envs, bad agent actions and
agents that edit ``info``, out-of-range thread counts and sub-env indices, footprints beyond the memory limit."""

import pickle

import gymnasium as gym
import numpy as np
import pytest

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
