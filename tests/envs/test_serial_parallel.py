"""tradeoff/SerialParallel-v0: checkers, determinism, reward protocol, probes, settings and bad input."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from tradeoff_gym.agents import FixedAgent, RandomAgent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.serial_parallel import NOISY_INPUT_NOISE, SerialParallelConfig, SerialParallelEnv, make_config
from tradeoff_gym.learners.trial import NonFiniteLossError

#: A small learner so episodes take well under a second.
SMALL = dict(
    image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, conv_channels=(4, 8), hidden_units=(16,)
)


def make(horizon: int = 12, **settings) -> gym.Env:
    return gym.make("tradeoff/SerialParallel-v0", horizon=horizon, **{**SMALL, **settings})


@pytest.mark.parametrize("env_id", ["tradeoff/SerialParallel-v0", "tradeoff/SerialParallelNoisy-v0"])
def test_gymnasium_and_sb3_checkers_pass(env_id):
    env = gym.make(env_id, horizon=20, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)


def test_same_seed_gives_identical_frames_and_another_seed_does_not():
    frames = [run_episode(make(probe_every=4, probe_size=16), RandomAgent(), seed=7) for _ in range(2)]
    assert frames[0].equals(frames[1])
    other = run_episode(make(probe_every=4, probe_size=16), RandomAgent(), seed=8)
    assert not np.array_equal(frames[0].reward.to_numpy(), other.reward.to_numpy())


def test_global_rng_state_neither_used_nor_changed():
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002  (the point: global state must not matter)
    first = run_episode(make(), RandomAgent(), seed=3)
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    torch.manual_seed(123)  # SB3 reseeds the global torch RNG; that must not matter
    second = run_episode(make(), RandomAgent(), seed=3)
    assert first.equals(second)
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002  (the point: global state must not matter)
    run_episode(make(), RandomAgent(), seed=3)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_reward_is_mean_task_accuracy_with_serial_divided_by_one_plus_cost():
    env = make(cost=0.6)
    env.reset(seed=0)
    for action in (0, 1, 0):
        _, reward, terminated, truncated, info = env.step(action)
        accuracy = info["task_accuracy"]
        assert accuracy.shape == (4,) and np.all((accuracy >= 0) & (accuracy <= 1))
        scale = 1 / 1.6 if action == 0 else 1.0
        np.testing.assert_allclose(info["task_rewards"], accuracy * scale)
        assert reward == pytest.approx(accuracy.mean() * scale)
        assert info["raw_accuracy"] == pytest.approx(accuracy.mean())
        assert info["strategy"] == ("serial", "parallel")[action]
        assert not terminated and not truncated
    assert info["trial"] == 3 and info["pick_counts"].tolist() == [2, 1]


def test_learning_does_not_depend_on_the_cost():
    frames = [run_episode(make(cost=c), FixedAgent("serial"), seed=4) for c in (0.0, 0.3, 1.0)]
    accuracy = frames[0].raw_accuracy.to_numpy()
    for frame, c in zip(frames, (0.0, 0.3, 1.0)):
        np.testing.assert_array_equal(frame.raw_accuracy.to_numpy(), accuracy)
        np.testing.assert_allclose(frame.reward.to_numpy(), accuracy / (1 + c))


def test_cost_range_is_drawn_per_episode_and_hidden():
    env = make(cost=(0.2, 0.9))
    costs = set()
    for seed in range(4):
        _, info = env.reset(seed=seed)
        assert "cost" not in info
        costs.add(env.unwrapped.cost)
    assert len(costs) == 4 and all(0.2 <= c <= 0.9 for c in costs)


def test_episode_truncates_at_horizon_and_reset_builds_a_fresh_network():
    env = make(horizon=3)
    env.reset(seed=1)
    first = env.unwrapped.learner
    initial = [p.detach().clone() for p in first.network.parameters()]
    for t in range(3):
        *_, truncated, info = env.step(1)
        assert truncated == (t == 2)
    trained = [p.detach().clone() for p in first.network.parameters()]
    with pytest.raises(RuntimeError, match=r"episode is over after horizon=3 trials; call reset\(\)"):
        env.unwrapped.step(0)
    assert all(torch.equal(p, q) for p, q in zip(first.network.parameters(), trained))  # no training past τ
    assert first.trials == 3
    env.reset(seed=1)
    assert env.unwrapped.learner is not first
    assert all(torch.equal(p, q) for p, q in zip(env.unwrapped.learner.network.parameters(), initial))


def test_probe_metrics_every_k_trials():
    frame = run_episode(make(horizon=6, probe_every=3, probe_size=16), FixedAgent("parallel"), seed=0)
    probed = frame.parallel_error.notna().to_numpy()
    assert probed.tolist() == [False, False, True, False, False, True]
    for column in ("parallel_error_0", "serial_error_3", "corr_conv1_t3t4", "corr_fc1", "corr_gps"):
        assert column in frame
    assert frame.loc[probed, "parallel_error"].between(0, 1).all()


def test_settings_reach_the_learner_and_noisy_preset_adds_input_noise():
    env = make(overlap=0.5, task_init="small", optimizer="sgd", lr=0.01).unwrapped
    cfg = env.config.learner
    assert cfg.network.overlap == 0.5 and cfg.network.task_init == "small" and cfg.optimizer == "sgd"
    noisy = gym.make("tradeoff/SerialParallelNoisy-v0", horizon=5).unwrapped
    assert noisy.config.learner.world.input_noise == NOISY_INPUT_NOISE
    assert SerialParallelEnv().config.horizon == 5000  # the paper's τ
    assert isinstance(make_config(), SerialParallelConfig)


@pytest.mark.parametrize("env_id", ["tradeoff/SerialParallel-v0", "tradeoff/SerialParallelNoisy-v0"])
def test_a_step_before_reset_is_refused(env_id):
    env = gym.make(env_id, horizon=3, **SMALL).unwrapped
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(0)


def test_the_callers_torch_threads_do_not_change_the_run(caller_threads):
    # Default network, probes every 10 trials: the layer correlations show any bit of difference in the weights.
    settings = dict(horizon=40, batch_size=8, probe_every=10, probe_size=64)
    frames = []
    for threads in (1, 2):
        caller_threads(threads)
        env = gym.make("tradeoff/SerialParallel-v0", **settings)
        frames.append(run_episode(env, RandomAgent(), seed=0))
        assert torch.get_num_threads() == threads  # the caller's setting is restored after every trial
    assert frames[0].equals(frames[1])
    assert env.reset(seed=0)[1]["threads"] == 1  # recorded with the run (reset info)


def test_render_mode_is_accepted_and_ignored():
    for env_id in ("tradeoff/SerialParallel-v0", "tradeoff/SerialParallelNoisy-v0"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Gymnasium warns that the mode is not among metadata["render_modes"]
            env = gym.make(env_id, render_mode="rgb_array", **SMALL)
        assert env.unwrapped.render_mode == "rgb_array"


def test_invalid_action_raises():
    env = make()
    env.reset(seed=0)
    for action in (2, -1, 0.5, "serial"):
        with pytest.raises(ValueError, match="action"):
            env.step(action)


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"overlap": 1.2}, "overlap"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"image_size": 8, "sprite_size": 5, "conv_channels": (4, 4, 4, 4)}, "image_size"),
        ({"cost": 1.5}, "cost"),
        ({"horizon": 0}, "horizon"),
        ({"probe_every": 0}, "probe_every"),
        ({"wings": 2}, "unknown"),
        ({"schedules": (((0, 1), (2, 3)), ((0, 3), (1, 2)))}, "schedules"),
        ({"jitter": 4}, r"jitter must lie in \[0, 3\] pixels for image_size=16, grid=2"),
        ({"jitter": 50}, r"jitter must lie in \[0, 3\]"),
        ({"threads": 0}, "threads"),
        ({"preset": "loud"}, r"preset must be one of \['default', 'noisy', 'balanced', 'sharing'\]"),
    ]
    + [({name: True}, name) for name in (
        "lr", "beta", "overlap", "input_noise", "gps_noise", "region_match", "jitter", "batch_size", "chunk",
        "threads", "probe_every", "probe_size", "horizon", "cost", "gps_units",
    )],
)
def test_bad_settings_raise_value_error_naming_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        gym.make("tradeoff/SerialParallel-v0", **{**SMALL, **settings})


@pytest.mark.parametrize("env_id", ["tradeoff/SerialParallel-v0", "tradeoff/SerialParallelNoisy-v0"])
@pytest.mark.parametrize(
    "settings, message",
    [
        ({"config": 42}, "config must be a SerialParallelConfig"),
        ({"config": "x"}, "config must be a SerialParallelConfig"),
        ({"config": SerialParallelConfig(), "horizon": 5}, "either config or individual settings"),
        ({"learner": "x"}, "learner must be a LearnerConfig"),
        ({"learner": 42}, "learner must be a LearnerConfig"),
        ({"learner": 42, "lr": 0.1}, "learner must be a LearnerConfig"),
        ({"world": "x"}, "world must be a DroneWorldConfig"),
        ({"world": 42, "jitter": 0}, "world must be a DroneWorldConfig"),
        ({"network": 42}, "network must be a NetworkConfig"),
    ],
)
def test_wrong_config_types_raise_value_error(env_id, settings, message):
    with pytest.raises(ValueError, match=message):
        gym.make(env_id, **settings)


def test_a_ready_config_is_taken_as_it_is():
    config = make_config(horizon=9, **SMALL)
    assert gym.make("tradeoff/SerialParallel-v0", config=config).unwrapped.config is config
    with pytest.raises(ValueError, match="either config or preset"):
        gym.make("tradeoff/SerialParallel-v0", config=config, preset="noisy")
    # The noisy id passes its preset's settings itself: a ready config (which would drop the noise) is refused.
    with pytest.raises(ValueError, match=r"either config or individual settings.*give a config to its plain id"):
        gym.make("tradeoff/SerialParallelNoisy-v0", config=config)


def test_nan_loss_stops_the_episode_with_a_clear_error():
    env = make()
    env.reset(seed=0)
    with torch.no_grad():
        env.unwrapped.learner.network.head_w.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="lower lr"):
        env.step(0)
