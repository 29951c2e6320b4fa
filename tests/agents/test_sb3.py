"""SB3 adapter: every env passes SB3's check_env, PPO learns a clearly-best strategy, save/load and seeds hold."""

from __future__ import annotations

import json
import random

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from stable_baselines3.common.env_checker import check_env

from tradeoff_gym import envs
from tradeoff_gym.agents import RandomAgent
from tradeoff_gym.agents.registry import agent_names, make_agent
from tradeoff_gym.agents.sb3 import SB3Agent, make_sb3_agent
from tradeoff_gym.agents.sb3_training import (
    SB3TrainConfig,
    load_policy,
    main,
    metadata_path,
    save_policy,
    train_policy,
)
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.common import Strategy
from tradeoff_gym.envs.learning_curves import LogisticCurve

LC = "tradeoff/LearningCurves-v0"
#: Small settings per env id so check_env is quick; ids not listed are built with their defaults.
SMALL_KWARGS: dict[str, dict] = {
    LC: {"horizon": 20},
    "tradeoff/SerialParallel-v0": {"horizon": 5},
    "tradeoff/SerialParallelNoisy-v0": {"horizon": 5},
}
#: Tiny budgets: enough SB3 updates to exercise learning, seconds of CPU.
TINY_PPO = {"n_steps": 100, "batch_size": 50, "n_epochs": 2}
#: A LearningCurves instance with a clearly best strategy: parallel (index 1) learns 40 picks sooner.
CLEAR_BEST = {
    "curves": (LogisticCurve(rate=0.1, midpoint=60.0), LogisticCurve(rate=0.1, midpoint=20.0)),
    "horizon": 100,
    "cost": 0.0,
}


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_sb3_check_env_passes_on_every_registered_env(env_id: str) -> None:
    env = gym.make(env_id, **SMALL_KWARGS.get(env_id, {}))
    check_env(env.unwrapped, warn=True)


@pytest.mark.slow
def test_ppo_beats_random_on_a_clearly_best_strategy() -> None:
    env = gym.make(LC, **CLEAR_BEST)
    agent = make_agent(
        "sb3-ppo", env, timesteps=6_000, train_cost=None, n_envs=2, hyperparams={"n_steps": 500, "batch_size": 250}
    )
    seeds = range(5)
    ppo = np.mean([run_episode(env, agent, s).reward.sum() for s in seeds])
    rand = np.mean([run_episode(env, RandomAgent(), s).reward.sum() for s in seeds])
    best = env.unwrapped.config.expected_fixed_returns(0.0).max()
    # Margin: PPO closes at least 80 % of the gap from the random agent to the best fixed strategy.
    assert ppo >= rand + 0.8 * (best - rand), (ppo, rand, best)
    frame = run_episode(env, agent, 0)
    assert (frame.strategy == "parallel").mean() > 0.9


def _tiny_ppo(tmp_path, **overrides) -> tuple[SB3TrainConfig, object]:
    """A PPO policy trained for 400 steps on a 20-trial LearningCurves, saved under ``tmp_path``."""
    config = SB3TrainConfig(
        algo="ppo", timesteps=400, env_kwargs={"horizon": 20}, n_envs=2, hyperparams=TINY_PPO, **overrides
    )
    trained = train_policy(config, monitor_dir=tmp_path / "monitor")
    return config, trained


def test_save_load_gives_identical_actions_on_the_same_seed(tmp_path) -> None:
    _, trained = _tiny_ppo(tmp_path)
    path = save_policy(trained, tmp_path / "ppo.zip")
    env = gym.make(LC, horizon=20, cost=0.3)
    for deterministic in (True, False):
        original = run_episode(env, SB3Agent(trained.model, deterministic=deterministic), seed=7)
        loaded_agent = make_agent("sb3-ppo", env, path=str(path), deterministic=deterministic)
        torch.manual_seed(123)  # global state must not matter
        np.random.seed(123)  # noqa: NPY002
        loaded = run_episode(env, loaded_agent, seed=7)
        pd.testing.assert_frame_equal(original, loaded)


def test_stochastic_actions_follow_the_agent_seed_not_global_rng() -> None:
    env = gym.make(LC, horizon=200, cost=0.5)
    config = SB3TrainConfig(algo="ppo", timesteps=100, env_kwargs={"horizon": 20}, n_envs=1, hyperparams=TINY_PPO)
    agent = SB3Agent(train_policy(config).model, deterministic=False)
    first = run_episode(env, agent, seed=3)
    torch.manual_seed(999)
    np.random.seed(999)  # noqa: NPY002
    random.seed(999)
    again = run_episode(env, agent, seed=3)
    other = run_episode(env, agent, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not first.action.equals(other.action)  # an untrained policy samples: seeds matter
    assert 0 < first.action.mean() < 1


def test_training_and_loading_leave_the_global_rng_untouched(tmp_path) -> None:
    torch.manual_seed(5)
    np.random.seed(5)  # noqa: NPY002
    random.seed(5)
    expected = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    torch.manual_seed(5)
    np.random.seed(5)  # noqa: NPY002
    random.seed(5)
    _, trained = _tiny_ppo(tmp_path)
    load_policy(save_policy(trained, tmp_path / "p.zip"))
    got = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(expected[0], got[0]) and np.array_equal(expected[1], got[1]) and expected[2] == got[2]


def test_training_is_reproducible_from_its_seed(tmp_path) -> None:
    _, first = _tiny_ppo(tmp_path / "a")
    _, second = _tiny_ppo(tmp_path / "b")
    for p, q in zip(first.model.policy.parameters(), second.model.policy.parameters()):
        assert torch.equal(p, q)
    np.testing.assert_array_equal(first.episode_returns, second.episode_returns)


def test_monitor_records_our_info_keys(tmp_path) -> None:
    _tiny_ppo(tmp_path)
    csvs = sorted((tmp_path / "monitor").glob("*.monitor.csv"))
    assert len(csvs) == 2
    frame = pd.read_csv(csvs[0], skiprows=1)
    assert {"r", "l", "raw_accuracy", "strategy"} <= set(frame.columns)
    assert (frame.l == 20).all() and frame.strategy.isin(["serial", "parallel"]).all()
    assert frame.raw_accuracy.between(0, 1).all()


@pytest.mark.parametrize("algo", ["a2c", "dqn"])
def test_other_algorithms_train_save_and_load(tmp_path, algo: str) -> None:
    hyper = {"n_steps": 20} if algo == "a2c" else {"learning_starts": 100, "buffer_size": 1000}
    config = SB3TrainConfig(algo=algo, timesteps=300, env_kwargs={"horizon": 20}, n_envs=1, hyperparams=hyper)
    path = save_policy(train_policy(config), tmp_path / f"{algo}.zip")
    assert json.loads(metadata_path(path).read_text())["algo"] == algo
    env = gym.make(LC, horizon=20)
    agent = make_agent(f"sb3-{algo}", env, path=str(path), deterministic=False)
    assert agent.name == f"sb3-{algo}"
    frame = run_episode(env, agent, seed=1)
    pd.testing.assert_frame_equal(frame, run_episode(env, agent, seed=1))
    with pytest.raises(ValueError, match="does not match"):
        load_policy(path, "ppo")


def test_registry_trains_once_and_caches_to_the_path(tmp_path) -> None:
    assert {"sb3-ppo", "sb3-a2c", "sb3-dqn"} <= set(agent_names())
    path = tmp_path / "cache" / "ppo.zip"
    kwargs = {"timesteps": 200, "n_envs": 1, "hyperparams": TINY_PPO, "path": str(path)}
    first = make_agent("sb3-ppo", gym.make(LC, horizon=20, cost=0.1), **kwargs)
    second = make_agent("sb3-ppo", gym.make(LC, horizon=20, cost=0.9), **kwargs)  # eval cost plays no part
    meta = json.loads(metadata_path(path).read_text())
    assert meta["config"]["cost"] == [0.0, 1.0] and meta["config"]["env_kwargs"] == {"horizon": 20}
    for p, q in zip(first.model.policy.parameters(), second.model.policy.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="holds a policy trained with"):
        make_agent("sb3-ppo", gym.make(LC, horizon=20), **{**kwargs, "train_seed": 1})


def test_finetune_continues_on_another_env_and_checks_its_spaces() -> None:
    config = SB3TrainConfig(
        timesteps=100,
        env_kwargs={"horizon": 20},
        n_envs=1,
        hyperparams=TINY_PPO,
        finetune_env_id=LC,
        finetune_env_kwargs={"preset": "sagiv2018", "horizon": 20},
        finetune_timesteps=100,
    )
    trained = train_policy(config)
    assert trained.model.num_timesteps == 200 and trained.episode_returns.size == 10
    three = (Strategy("serial", True), Strategy("parallel", False), Strategy("pairs", False))
    curve = LogisticCurve(0.1, 10.0)
    bad = SB3TrainConfig(
        timesteps=100,
        env_kwargs={"horizon": 20},
        n_envs=1,
        hyperparams=TINY_PPO,
        finetune_env_id=LC,
        finetune_env_kwargs={"horizon": 20, "strategies": three, "curves": (curve,) * 3},
        finetune_timesteps=100,
    )
    with pytest.raises(ValueError, match="finetune_env_id"):
        train_policy(bad)


def test_command_line_trains_and_saves(tmp_path, capsys) -> None:
    out = tmp_path / "cli.zip"
    main(
        [
            "--timesteps",
            "200",
            "--out",
            str(out),
            "--n-envs",
            "1",
            "--env-kwargs",
            '{"horizon": 20}',
            "--hyperparams",
            json.dumps(TINY_PPO),
            "--cost",
            "0.2",
            "0.8",
        ]
    )
    assert "trained ppo for 200 steps" in capsys.readouterr().out
    meta = json.loads(metadata_path(out).read_text())
    assert meta["config"]["cost"] == [0.2, 0.8] and meta["wall_time_s"] > 0
    assert isinstance(SB3Agent.load(out), SB3Agent)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"algo": "sac"}, "algo"),
        ({"timesteps": 0}, "timesteps"),
        ({"n_envs": -1}, "n_envs"),
        ({"seed": -2}, "seed"),
        ({"cost": 1.5}, "cost"),
        ({"env_id": "tradeoff/Nope-v0"}, "env_id"),
        ({"finetune_env_id": LC}, "finetune_env_id"),
        ({"finetune_timesteps": -1}, "finetune_timesteps"),
        ({"hyperparams": [1]}, "hyperparams"),
    ],
)
def test_train_config_rejects_bad_values_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SB3TrainConfig(**kwargs)


def test_factory_and_agent_reject_bad_input(tmp_path) -> None:
    env = gym.make(LC, horizon=20)
    with pytest.raises(ValueError, match="path .* or timesteps"):
        make_sb3_agent(env, algo="ppo")
    with pytest.raises(ValueError, match="algo"):
        make_sb3_agent(env, algo="sac", timesteps=10)
    with pytest.raises(ValueError, match="path"):
        make_agent("sb3-ppo", env, path=str(tmp_path / "missing.zip"))
    with pytest.raises(ValueError, match="model"):
        SB3Agent(object())  # type: ignore[arg-type]


def test_sweep_runs_select_sb3_agents_by_name(tmp_path) -> None:
    from tradeoff_gym.benchmarks.experiment import RunSpec
    from tradeoff_gym.benchmarks.runner import execute_unit, plan_units

    kwargs = {"path": str(tmp_path / "sweep.zip"), "timesteps": 200, "n_envs": 1, "hyperparams": TINY_PPO}
    specs = [
        RunSpec(f"sb3/{i}", LC, "sb3-ppo", seed=i, env_kwargs={"horizon": 20, "cost": c}, agent_kwargs=kwargs)
        for i, c in enumerate((0.0, 1.0))
    ]
    results = [execute_unit(unit) for unit in plan_units(specs)]
    assert [r.error for r in results] == [None, None]
    assert all((r.frame.agent == "sb3-ppo").all() and len(r.frame) == 20 for r in results)
    assert (tmp_path / "sweep.zip").is_file()
