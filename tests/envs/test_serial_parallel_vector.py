"""tradeoff/SerialParallel-v0 as a native VectorEnv: sub-env k is the single env, batched; the vector contract."""

import contextlib

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.wrappers.vector import DictInfoToList, RecordEpisodeStatistics

from tradeoff_gym.envs.serial_parallel import NOISY_INPUT_NOISE
from tradeoff_gym.envs.serial_parallel_vector import SerialParallelVectorEnv

SP, NOISY = "tradeoff/SerialParallel-v0", "tradeoff/SerialParallelNoisy-v0"
#: A small learner so episodes take well under a second (as tests/envs/test_serial_parallel.py).
SMALL = dict(
    image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, conv_channels=(4, 8), hidden_units=(16,)
)
K = 3


def make_vec(env_id: str = SP, num_envs: int = K, horizon: int = 20, **settings) -> SerialParallelVectorEnv:
    return gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", horizon=horizon, **{**SMALL, **settings}
    )


def make_single(env_id: str = SP, horizon: int = 20, **settings) -> gym.Env:
    return gym.make(env_id, horizon=horizon, **{**SMALL, **settings})


def actions_for(trial: int) -> np.ndarray:
    """Mixed actions: sub-env 0 serial, 1 parallel, 2 alternating."""
    return np.array([0, 1, trial % 2])


def assert_info_matches(vector_info: dict, single_info: dict, k: int) -> None:
    """Sub-env ``k``'s part of a vector info equals a single env's info (floats within 1e-5)."""
    for key, value in single_info.items():
        assert vector_info[f"_{key}"][k], key
        if key == "metrics":
            assert_info_matches(vector_info[key], value, k)
        elif isinstance(value, (str, tuple)):
            assert vector_info[key][k] == value, key
        else:
            np.testing.assert_allclose(vector_info[key][k], value, rtol=0, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("env_id", [SP, NOISY])
def test_make_vec_returns_the_native_vector_env_with_batched_spaces(env_id):
    vec = make_vec(env_id)
    assert isinstance(vec, SerialParallelVectorEnv) and vec.num_envs == K
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert vec.action_space == gym.spaces.MultiDiscrete([2, 2, 2])
    assert vec.single_action_space == gym.spaces.Discrete(2)
    assert vec.observation_space.shape == (K, 5) and vec.single_observation_space.shape == (5,)
    assert vec.spec.id == env_id and vec.spec.max_episode_steps == 20
    assert vec.config.learner.world.input_noise == (NOISY_INPUT_NOISE if env_id == NOISY else 0.0)
    assert vec.reward_rule == make_single(env_id).unwrapped.reward_rule
    default = gym.make_vec(env_id, num_envs=2, horizon=5, **SMALL)  # the vector entry point is the default mode
    assert isinstance(default, SerialParallelVectorEnv)
    sync = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", horizon=5, **SMALL)
    assert isinstance(sync, SyncVectorEnv)


@pytest.mark.parametrize("env_id", [SP, NOISY])
def test_sub_env_k_plays_the_single_env_reset_with_seed_plus_k(env_id):
    vec = make_vec(env_id, cost=(0.1, 0.9), probe_every=10, probe_size=16)
    singles = [make_single(env_id, cost=(0.1, 0.9), probe_every=10, probe_size=16) for _ in range(K)]
    obs, info = vec.reset(seed=30)
    for k, env in enumerate(singles):
        single_obs, single_info = env.reset(seed=30 + k)
        np.testing.assert_array_equal(obs[k], single_obs)
        assert_info_matches(info, single_info, k)
        assert vec.costs[k] == env.unwrapped.cost  # the cost drawn after the learner seed, as the single env
    assert len(set(vec.costs.tolist())) == K
    for trial in range(20):
        actions = actions_for(trial)
        obs, rewards, terminated, truncated, info = vec.step(actions)
        assert rewards.shape == (K,) and rewards.dtype == np.float64
        for k, env in enumerate(singles):
            single_obs, reward, single_terminated, single_truncated, single_info = env.step(int(actions[k]))
            assert rewards[k] == pytest.approx(reward, abs=1e-5)
            np.testing.assert_allclose(obs[k], single_obs, atol=1e-5)
            assert (terminated[k], truncated[k]) == (single_terminated, single_truncated)
            assert_info_matches(info, single_info, k)
    assert truncated.all() and "parallel_error" in info["metrics"]


def test_costs_give_each_sub_env_its_own_cost_as_the_single_env_with_that_cost():
    costs = [0.0, (0.2, 0.4), 1.0]
    vec = make_vec(costs=costs, horizon=4)
    singles = [make_single(cost=c, horizon=4) for c in costs]
    vec.reset(seed=7)
    for k, env in enumerate(singles):
        env.reset(seed=7 + k)
        assert vec.costs[k] == env.unwrapped.cost
    assert vec.costs[0] == 0.0 and 0.2 <= vec.costs[1] <= 0.4 and vec.costs[2] == 1.0
    for _ in range(4):
        _, rewards, _, _, _ = vec.step(np.zeros(K, dtype=int))  # all serial: the cost shows in every reward
        for k, env in enumerate(singles):
            assert rewards[k] == pytest.approx(env.step(0)[1], abs=1e-5)


def test_a_sub_env_view_is_the_single_env_an_agent_factory_needs_with_its_own_cost():
    from tradeoff_gym.agents.registry import make_agent
    from tradeoff_gym.benchmarks.run_loop import unbatch_info

    costs = [0.0, (0.2, 0.4), 1.0]
    vec = make_vec(costs=costs, horizon=4)
    views = [vec.sub_env(k) for k in range(K)]
    agents = [make_agent("sagiv", view) for view in views]  # Sagiv's agent is told its episode's cost
    obs, info = vec.reset(seed=2)
    for k, (view, agent) in enumerate(zip(views, agents)):
        assert view.unwrapped is view and view.unwrapped.cost == vec.costs[k]
        assert view.spec.id == SP and view.spec.kwargs["cost"] == costs[k] and view.spec.max_episode_steps == 4
        assert "costs" not in view.spec.kwargs and "num_envs" not in view.spec.kwargs
        assert view.action_space == vec.single_action_space and view.reward_rule == vec.reward_rule
        agent.reset(unbatch_info(info, k), np.random.default_rng(0))
        assert agent.cost == vec.costs[k]
    with pytest.raises(ValueError, match=r"sub-env index must be an integer in \[0, 2\]"):
        vec.sub_env(3)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"costs": [0.0, 0.5]}, r"costs must be a list of 3 costs \(one per sub-env\)"),
        ({"costs": "0.5"}, "costs must be a list of 3"),
        ({"costs": [0.0, 1.5, 0.0]}, r"costs\[1\] must lie in \[0.0, 1.0\], got 1.5"),
        ({"costs": [0.0, (0.5, 0.1), 0.0]}, r"costs\[1\] range must have low <= high"),
        ({"costs": [0.0, 0.5, 1.0], "cost": 0.5}, "either cost .* or costs"),
    ],
)
def test_bad_costs_are_refused_with_what_is_allowed(settings, message):
    with pytest.raises(ValueError, match=message):
        make_vec(**settings)


def test_same_seed_replays_bit_identically():
    runs = []
    for _ in range(2):
        vec = make_vec(horizon=6, probe_every=3, probe_size=16)
        steps = [vec.reset(seed=4)]
        steps += [vec.step(actions_for(t)) for t in range(6)]
        runs.append(steps)
    for first, second in zip(*runs):
        for a, b in zip(first, second):
            if isinstance(a, dict):
                assert a.keys() == b.keys() and all(
                    np.array_equal(a[key], b[key]) for key in a if not isinstance(a[key], dict)
                )
                assert all(np.array_equal(a["metrics"][m], b["metrics"][m]) for m in a.get("metrics", {}))
            else:
                np.testing.assert_array_equal(a, b)


def test_reset_mask_resets_only_the_masked_sub_envs():
    vec = make_vec(cost=(0.0, 1.0))
    singles = [make_single(cost=(0.0, 1.0)) for _ in range(K)]
    vec.reset(seed=0)
    for k, env in enumerate(singles):
        env.reset(seed=k)
    for trial in range(3):
        vec.step(actions_for(trial))
        for k, env in enumerate(singles):
            env.step(int(actions_for(trial)[k]))
    kept = {n: p.detach().clone() for n, p in vec.learner.params.items()}
    obs, info = vec.reset(seed=[None, 77, None], options={"reset_mask": np.array([False, True, False])})
    assert info["_trial"].tolist() == [False, True, False] and info["trial"][1] == 0
    assert obs[1].tolist() == [0.0] * 5 and obs[0][0] == pytest.approx(3 / 20)  # the others keep their episode
    assert vec.learner.trials.tolist() == [3, 0, 3]
    for name, value in kept.items():
        assert torch.equal(vec.learner.params[name][[0, 2]], value[[0, 2]])
    singles[1].reset(seed=77)
    assert vec.costs[1] == singles[1].unwrapped.cost
    for trial in range(3):
        actions = actions_for(trial)
        _, rewards, _, _, info = vec.step(actions)
        for k, env in enumerate(singles):
            assert rewards[k] == pytest.approx(env.step(int(actions[k]))[1], abs=1e-5)
    assert info["trial"].tolist() == [6, 3, 6]


def test_episodes_end_together_and_autoreset_on_the_next_step():
    vec = make_vec(horizon=3)
    singles = [make_single(horizon=3) for _ in range(K)]
    vec.reset(seed=5)
    for k, env in enumerate(singles):
        env.reset(seed=5 + k)
    for trial in range(3):
        _, _, terminated, truncated, info = vec.step(actions_for(trial))
        assert not terminated.any() and truncated.tolist() == [trial == 2] * K
        for k, env in enumerate(singles):
            env.step(int(actions_for(trial)[k]))
    assert info["trial"].tolist() == [3, 3, 3]
    # The step after the end resets every sub-env instead of training it: its action is ignored.
    obs, rewards, terminated, truncated, info = vec.step(np.array([1, 1, 1]))
    assert rewards.tolist() == [0.0] * K and not terminated.any() and not truncated.any()
    assert obs.tolist() == [[0.0] * 5] * K
    assert info["_strategies"].all() and "strategy" not in info and info["trial"].tolist() == [0, 0, 0]
    assert vec.learner.trials.tolist() == [0, 0, 0]
    for k, env in enumerate(singles):  # the new episode is the single env's reset() without a seed
        _, single_info = env.reset()
        assert vec.costs[k] == env.unwrapped.cost
        assert_info_matches(info, single_info, k)
    for trial in range(3):
        _, rewards, _, truncated, _ = vec.step(actions_for(trial))
        for k, env in enumerate(singles):
            assert rewards[k] == pytest.approx(env.step(int(actions_for(trial)[k]))[1], abs=1e-5)
    assert truncated.all()


def test_desynchronised_episodes_autoreset_one_sub_env_while_the_others_train():
    vec = make_vec(horizon=3)
    vec.reset(seed=1)
    vec.step(actions_for(0))
    vec.reset(options={"reset_mask": np.array([True, False, False])})  # sub-env 0 now one trial behind
    vec.step(actions_for(1))
    _, _, _, truncated, _ = vec.step(actions_for(2))
    assert truncated.tolist() == [False, True, True]
    _, rewards, _, truncated, info = vec.step(actions_for(3))
    assert truncated.tolist() == [True, False, False] and rewards[0] > 0 and rewards[1:].tolist() == [0.0, 0.0]
    assert info["_strategy"].tolist() == [True, False, False] and info["_strategies"].tolist() == [False, True, True]
    assert info["trial"].tolist() == [3, 0, 0] and vec.learner.trials.tolist() == [3, 0, 0]


@pytest.mark.parametrize(
    "actions, shown",
    [
        (np.array([0, 1]), "array"),
        (np.array([0, 1, 2]), "array"),
        (np.array([0, -1, 0]), "array"),
        (np.array([0.5, 1, 0]), "array"),
        ([[0, 1, 0]], r"\[\[0, 1, 0\]\]"),
        ("serial", "'serial'"),
        (1, "1"),
    ],
)
def test_bad_actions_name_what_is_allowed(actions, shown):
    vec = make_vec(horizon=3)
    vec.reset(seed=0)
    allowed = r"actions must be an array of shape \(3,\) of integers in \[0, 1\] .*got "
    with pytest.raises(ValueError, match=allowed + shown):
        vec.step(actions)
    vec.step([0, 1.0, np.int64(1)])  # integers in any numeric type are fine


def test_bad_use_and_bad_settings_are_refused():
    vec = make_vec(horizon=3)
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        vec.step(np.zeros(K, dtype=np.int64))
    with pytest.raises(ValueError, match="first reset"):
        vec.reset(options={"reset_mask": np.array([True, False, False])})
    vec.reset(seed=0)
    for mask in (np.zeros(K, dtype=bool), np.array([1, 0, 0]), np.ones(2, dtype=bool), [True, False, False]):
        with pytest.raises(ValueError, match=r"reset_mask'\] must be a numpy bool array of shape \(3,\)"):
            vec.reset(options={"reset_mask": mask})
    with pytest.raises(ValueError, match="seed must be None, an int or a list of 3"):
        vec.reset(seed=[1, 2])
    vec.close()
    assert vec.closed
    with pytest.raises(RuntimeError, match=r"call reset\(\)"):
        vec.step(np.zeros(K, dtype=np.int64))
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        make_vec(num_envs=0)
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        make_vec(horizon=0)
    with pytest.raises(ValueError, match="unknown learner setting"):
        make_vec(colour="red")
    refused = pytest.raises(ValueError, match="CUDA is not available")  # as the single env (no CUDA test here)
    with refused if not torch.cuda.is_available() else contextlib.nullcontext():
        make_vec(device="cuda")


def test_gymnasium_vector_wrappers_and_the_vector_contract():
    vec = RecordEpisodeStatistics(make_vec(horizon=3))
    obs, info = vec.reset(seed=2)
    assert vec.observation_space.contains(obs)
    returns = np.zeros(K)
    for _ in range(3):
        actions = vec.action_space.sample()
        assert vec.action_space.contains(actions)
        obs, rewards, terminated, truncated, info = vec.step(actions)
        assert vec.observation_space.contains(obs) and obs.dtype == np.float32
        assert terminated.dtype == truncated.dtype == np.bool_ and terminated.shape == truncated.shape == (K,)
        assert all(info[key].shape == (K,) and info[key].dtype == np.bool_ for key in info if key.startswith("_"))
        returns += rewards
    np.testing.assert_allclose(info["episode"]["r"], returns)
    assert info["episode"]["l"].tolist() == [3] * K and info["_episode"].all()
    listed = DictInfoToList(make_vec(horizon=3))
    listed.reset(seed=2)
    infos = listed.step(np.array([0, 1, 0]))[-1]
    assert isinstance(infos, list) and len(infos) == K and infos[1]["strategy"] == "parallel"


def test_probe_metrics_per_sub_env():
    vec = make_vec(horizon=4, probe_every=2, probe_size=16)
    vec.reset(seed=0)
    for trial in range(4):
        info = vec.step(actions_for(trial))[-1]
        assert ("metrics" in info) == (trial % 2 == 1)
    metrics = info["metrics"]
    assert metrics["_parallel_error"].all() and metrics["parallel_error"].shape == (K,)
    assert ((metrics["parallel_error"] >= 0) & (metrics["parallel_error"] <= 1)).all()
    assert vec.probe(2).metrics()["parallel_error"] == metrics["parallel_error"][2]
