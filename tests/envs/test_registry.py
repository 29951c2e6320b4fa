"""Every registered id: the checkers pass at its defaults and presets, it vectorises (SB3 and Gymnasium, in-process
and in worker processes), its spec carries the episode length, its settings validate without building it."""

import contextlib
import warnings
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.wrappers import TimeAwareObservation
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from tradeoff_gym import envs
from tradeoff_gym.agents import RandomAgent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.learning_curves import LearningCurvesConfig
from tradeoff_gym.envs.sequential import SequentialTasksConfig
from tradeoff_gym.envs.serial_parallel import NOISY_INPUT_NOISE, SerialParallelConfig

LC, SP, NOISY, SEQ, MT, CC = (
    "tradeoff/LearningCurves-v0", "tradeoff/SerialParallel-v0", "tradeoff/SerialParallelNoisy-v0",
    "tradeoff/SequentialTasks-v0", "tradeoff/Multitask-v0", "tradeoff/CoupledCurves-v0",
)
TORCH_IDS = [SP, NOISY, SEQ, MT]
_SMALL_NET = dict(
    image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, conv_channels=(4, 8), hidden_units=(16,)
)
#: Small settings so every id runs in well under a second.
SMALL: dict[str, dict] = {
    LC: {"horizon": 50},
    CC: {"horizon": 50},
    SP: {"horizon": 20, **_SMALL_NET},
    NOISY: {"horizon": 20, **_SMALL_NET},
    MT: {"horizon": 20, "sonar_size": 8, "sonar_units": 8, **_SMALL_NET},
    SEQ: {"n_tasks": 2, "max_trials": 12, "eval_every": 4, "n_train": 400, "n_holdout": 100, "channels": (4, 8, 8),
          "hidden": (16,)},
}
#: The setting that sets each id's episode length, and its default.
HORIZON = {
    LC: ("horizon", 1000), SP: ("horizon", 5000), NOISY: ("horizon", 5000), SEQ: ("max_trials", 1500),
    MT: ("horizon", 5000), CC: ("horizon", 5000),
}
#: Every id at its defaults, and every preset by name. The neural defaults train full-size networks: slow.
DEFAULTS_AND_PRESETS = [
    pytest.param(LC, {}, id="LearningCurves"),
    pytest.param(LC, {"preset": "default"}, id="LearningCurves-default"),
    pytest.param(LC, {"preset": "sagiv2018"}, id="LearningCurves-sagiv2018"),
    pytest.param(CC, {}, id="CoupledCurves"),
    pytest.param(SP, {}, id="SerialParallel", marks=pytest.mark.slow),
    pytest.param(SP, {"preset": "noisy"}, id="SerialParallel-noisy", marks=pytest.mark.slow),
    pytest.param(SP, {"preset": "balanced"}, id="SerialParallel-balanced", marks=pytest.mark.slow),
    pytest.param(SP, {"preset": "sharing"}, id="SerialParallel-sharing", marks=pytest.mark.slow),
    pytest.param(NOISY, {}, id="SerialParallelNoisy", marks=pytest.mark.slow),
    pytest.param(SEQ, {}, id="SequentialTasks", marks=pytest.mark.slow),
    pytest.param(MT, {}, id="Multitask", marks=pytest.mark.slow),
    pytest.param(MT, {"preset": "default", "table": "all", "depth": False}, id="Multitask-all-3x2",
                 marks=pytest.mark.slow),
]


def test_every_id_is_registered_with_a_config_builder():
    assert sorted(envs.ENV_IDS) == sorted(envs.CONFIG_BUILDERS) == sorted(i for i in gym.registry if "tradeoff/" in i)


@pytest.mark.parametrize(("env_id", "settings"), DEFAULTS_AND_PRESETS)
def test_checkers_pass_at_the_defaults_and_every_preset(env_id, settings):
    env = gym.make(env_id, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)  # a checker warning is a failure here
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_seeded_rollouts_are_identical(env_id):
    first, second = (gym.make(env_id, **SMALL[env_id]).unwrapped for _ in range(2))
    frames = [run_episode(env, RandomAgent(), seed=11, env_id=env_id) for env in (first, second)]
    assert frames[0].equals(frames[1])


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_a_step_before_reset_or_after_the_end_is_refused(env_id):
    key, _ = HORIZON[env_id]
    env = gym.make(env_id, **{**SMALL[env_id], key: 2}).unwrapped
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(0)
    env.reset(seed=0)
    while not any(env.step(0)[2:4]):
        pass
    with pytest.raises(RuntimeError, match=r"episode is over.*call reset\(\)"):
        env.step(0)
    env.reset(seed=0)
    env.step(0)  # a new episode steps again


# ---------------------------------------------------------------------------------------- the spec's horizon
@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_the_spec_carries_the_episode_length_time_aware_observation_reads_it(env_id):
    key, default = HORIZON[env_id]
    assert gym.make(env_id, **{k: v for k, v in SMALL[env_id].items() if k != key}).spec.max_episode_steps == default
    env = TimeAwareObservation(gym.make(env_id, **{**SMALL[env_id], key: 7}), flatten=True, normalize_time=True)
    assert env.spec.max_episode_steps == env.unwrapped.spec.max_episode_steps == env.max_timesteps == 7
    obs, _ = env.reset(seed=0)
    assert obs[-1] == 0.0
    for t in range(1, 8):
        obs, _, terminated, truncated, _ = env.step(0)
        assert obs[-1] == pytest.approx(t / 7)
        if terminated:
            break
    assert terminated or truncated  # the env itself ends the episode at the spec's length
    assert gym.spec(env_id).max_episode_steps is None  # so gym.make never adds a TimeLimit of another length


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_no_time_limit_wrapper_can_cut_a_long_horizon_short(env_id):
    key, default = HORIZON[env_id]
    env = gym.make(env_id, **{**SMALL[env_id], key: default + 1})
    wrappers, inner = [], env
    while isinstance(inner, gym.Wrapper):
        wrappers.append(type(inner).__name__)
        inner = inner.env
    assert "TimeLimit" not in wrappers and env.spec.max_episode_steps == default + 1
    assert gym.make(env.spec).spec.max_episode_steps == default + 1  # re-made from its spec: the same length


def test_a_horizon_beyond_the_default_runs_to_its_end():
    env = gym.make(LC, horizon=1200)  # default 1000
    env.reset(seed=0)
    steps = 1
    while not env.step(0)[3]:
        steps += 1
    assert steps == 1200


# ---------------------------------------------------------------------------------------- vector environments
@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_sb3_make_vec_env_in_process(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 passes render_mode="rgb_array"; Gymnasium warns it is not listed
        vec = make_vec_env(env_id, n_envs=2, seed=0, vec_env_cls=DummyVecEnv, env_kwargs=SMALL[env_id])
    obs = vec.reset()
    assert obs.shape == (2, *vec.observation_space.shape)
    for _ in range(3):
        obs, rewards, dones, infos = vec.step(np.array([0, 1]))
    assert np.all(np.isfinite(rewards))
    vec.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_sb3_subprocess_workers_find_the_ids_through_the_module_prefix(env_id):
    # A forkserver worker has not imported tradeoff_gym: the "tradeoff_gym:" prefix makes gym.make import it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vec = make_vec_env(
            f"tradeoff_gym:{env_id}", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
            vec_env_kwargs={"start_method": "forkserver"}, env_kwargs=SMALL[env_id],
        )
    with _closed_even_if_hung(vec):
        vec.reset()
        for _ in range(3):
            _, rewards, _, _ = vec.step(np.array([0, 1]))
        assert np.all(np.isfinite(rewards))


@contextlib.contextmanager
def _closed_even_if_hung(vec) -> Iterator[None]:
    """Close ``vec`` after the block; after a failure (a timeout: hung workers) terminate its workers instead."""
    try:
        yield
    except BaseException:
        if isinstance(vec, SubprocVecEnv):
            for process in vec.processes:  # a hung worker never answers close()
                process.terminate()
        else:
            vec.close(terminate=True)
        raise
    vec.close()


def _use_torch_with_several_threads(caller_threads) -> None:
    """Start torch's intra-op thread pool in this (parent) process, as a training script would."""
    caller_threads(2)
    a = torch.randn(512, 512, generator=torch.Generator().manual_seed(0))
    (a @ a).sum().item()
    torch.nn.functional.conv2d(torch.randn(64, 8, 32, 32), torch.randn(8, 8, 3, 3)).sum().item()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("env_id", TORCH_IDS)
def test_async_vector_env_forked_after_torch_was_used_does_not_hang(env_id, caller_threads):
    _use_torch_with_several_threads(caller_threads)
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="async", **SMALL[env_id])  # fork: Linux default
    with _closed_even_if_hung(vec):
        vec.reset(seed=0)
        for _ in range(3):
            _, rewards, *_ = vec.step(np.array([0, 1]))
        assert np.all(np.isfinite(rewards))


@pytest.mark.timeout(30)
def test_sb3_fork_workers_after_torch_was_used_do_not_hang(caller_threads):
    _use_torch_with_several_threads(caller_threads)
    for env_id in TORCH_IDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vec = make_vec_env(
                env_id, n_envs=2, seed=0, vec_env_cls=SubprocVecEnv, vec_env_kwargs={"start_method": "fork"},
                env_kwargs=SMALL[env_id],
            )
        with _closed_even_if_hung(vec):
            vec.reset()
            for _ in range(3):
                vec.step(np.array([0, 1]))


# ---------------------------------------------------------------------------------------- check_settings
@pytest.mark.filterwarnings("ignore:.*render_mode")  # Gymnasium: 'rgb_array' is not among metadata["render_modes"]
@pytest.mark.parametrize(
    ("env_id", "settings", "kind"),
    [
        (LC, {}, LearningCurvesConfig),
        (LC, {"preset": "sagiv2018", "parallel_midpoint": 600}, LearningCurvesConfig),
        (SP, {"horizon": 7, "lr": 1e-3, "render_mode": "rgb_array"}, SerialParallelConfig),
        (NOISY, {}, SerialParallelConfig),
        (MT, {"horizon": 9, "table": "all", "sonar_size": 0}, SerialParallelConfig),
        (SEQ, {"n_tasks": 3}, SequentialTasksConfig),
        (f"tradeoff_gym:{SEQ}", {"max_episode_steps": 100, "disable_env_checker": True}, SequentialTasksConfig),
    ],
)
def test_check_settings_returns_the_config_gym_make_would_build(env_id, settings, kind):
    config = envs.check_settings(env_id, **settings)
    assert isinstance(config, kind)
    assert config == gym.make(env_id, **settings).unwrapped.config


def test_check_settings_builds_neither_the_env_nor_its_data(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("check_settings must not build an env or data")

    for cls in (envs.learning_curves.LearningCurvesEnv, envs.serial_parallel.SerialParallelEnv,
                envs.sequential.SequentialTasksEnv):
        monkeypatch.setattr(cls, "__init__", forbidden)
    monkeypatch.setattr(envs.sequential, "make_shapes", forbidden)
    monkeypatch.setattr(envs.serial_parallel, "TaskLearner", forbidden)
    assert envs.check_settings(SEQ).n_train == 4000
    assert envs.check_settings(NOISY).learner.world.input_noise == NOISY_INPUT_NOISE
    assert envs.check_settings(SP, preset="noisy").learner.world.input_noise == NOISY_INPUT_NOISE
    assert envs.check_settings(LC, preset="sagiv2018").cost_mode == "additive"


@pytest.mark.parametrize(
    ("env_id", "settings", "message"),
    [
        (LC, {"horizn": 5}, r"unknown LearningCurves setting\(s\) \['horizn'\]"),
        (LC, {"preset": "sagiv"}, r"preset must be one of \['default', 'sagiv2018'\]"),
        (LC, {"cost": True}, "cost must be a number"),
        (SP, {"lr": True}, r"lr must lie in \(0.0, inf\)"),
        (SP, {"jitter": 9}, r"jitter must lie in \[0, 3\]"),
        (SP, {"learner": "x"}, "learner must be a LearnerConfig"),
        (SP, {"world": 42}, "world must be a DroneWorldConfig"),
        (SP, {"config": 42}, "config must be a SerialParallelConfig"),
        (NOISY, {"probe_every": True}, "probe_every must be an integer >= 1"),
        (NOISY, {"wings": 2}, r"unknown learner setting\(s\) \['wings'\]"),
        (MT, {"table": "every"}, r"table must be one of \['chain', 'all'\]"),
        (MT, {"strategies": ()}, "Multitask generates its strategy table"),
        (MT, {"sonar_size": 2}, "sonar_size must be 0"),
        (SEQ, {"criterion": True}, r"criterion must lie in \(0.0, 1.0\]"),
        (SEQ, {"config": "x"}, "config must be a SequentialTasksConfig"),
        (SEQ, {"threads": 0}, r"threads must be an integer in \[1, 1024\]"),
    ],
)
def test_check_settings_refuses_what_gym_make_refuses_with_the_same_message(env_id, settings, message):
    with pytest.raises(ValueError, match=message) as checked:
        envs.check_settings(env_id, **settings)
    with pytest.raises(ValueError) as made:
        gym.make(env_id, **settings)
    assert str(made.value) == str(checked.value)


@pytest.mark.parametrize(
    ("env_id", "settings", "message"),
    [
        ("tradeoff/Nope-v0", {}, r"env_id must be one of \['tradeoff/CoupledCurves-v0', "),
        (LC, {"max_episode_steps": 0}, "max_episode_steps must be None, -1"),
        (LC, {"disable_env_checker": "yes"}, "disable_env_checker must be None, True or False"),
    ],
)
def test_check_settings_names_unknown_ids_and_gym_make_arguments(env_id, settings, message):
    with pytest.raises(ValueError, match=message):
        envs.check_settings(env_id, **settings)
