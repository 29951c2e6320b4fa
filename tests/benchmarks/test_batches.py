"""Sweeps in vector batches: which runs share a batch, the same frames as runs played alone, a fixed batch plan."""

import json
import os

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.runner import plan_batches, plan_units, run_sweep
from tradeoff_gym.benchmarks.store import ResultStore

SP, LC = "tradeoff/SerialParallel-v0", "tradeoff/LearningCurves-v0"
#: A small learner so episodes take well under a second (as tests/envs/test_serial_parallel_vector.py).
SMALL = dict(
    image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, conv_channels=(4, 8), hidden_units=(16,)
)
COSTS = (0.0, 0.5, 1.0)


def specs_for(agents=("serial", "ucb1", "sagiv"), seeds=(0, 1), horizon=12, env_id=SP, **settings) -> list[RunSpec]:
    return [
        RunSpec(f"b/h{horizon}/c{cost:g}/{agent}/{seed}", env_id, agent, seed,
                env_kwargs={**SMALL, **settings, "horizon": horizon, "cost": cost}, tags={"cost": cost})
        for cost in COSTS for agent in agents for seed in seeds
    ]


def table(out) -> pd.DataFrame:
    return ResultStore(out).load().sort_values(["run_id", "trial"]).reset_index(drop=True)


def test_runs_share_a_batch_when_only_seed_and_agent_differ_at_one_cost():
    sp = specs_for()  # 2 reused serial units (one per seed, played at c = 0) + 12 ucb1/sagiv runs
    longer = specs_for(horizon=13, agents=("ucb1",))  # other settings: batches of their own
    curves = [RunSpec(f"lc/{s}", LC, "ucb1", s, env_kwargs={"cost": 0.5}) for s in range(3)]  # no vector env
    units = plan_units(sp + longer + curves)
    batches = plan_batches(units, batch_size=16)
    sizes = sorted(len(b) for b in batches)
    assert sizes == [1, 1, 1, 2, 2, 2, 2, 4, 4, 4]  # curves alone; reused; 3 costs × (ucb1, sagiv) × 2; 3 costs × 2
    for batch in batches:  # one env setting, one cost played (a sweep extended by a cost keeps its batches)
        assert len({(u.spec.env_id, u.spec.env_kwargs.get("horizon"), u.spec.env_kwargs["cost"]) for u in batch}) == 1
    assert sorted(len(b) for b in plan_batches(units, batch_size=3)) == [1, 1, 1, *[2] * 10]  # 4: 2+2
    assert len(plan_batches(units, batch_size=1)) == len(units)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        plan_batches(units, batch_size=0)


def test_a_batched_sweep_gives_the_frames_of_runs_played_alone(tmp_path):
    specs = specs_for()
    summary = run_sweep(specs, ResultStore(tmp_path), {"experiment": "test"}, jobs=1, progress=False)
    assert summary.completed == len(specs) and not summary.failed
    store = ResultStore(tmp_path)
    records = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*.json")]
    assert all(r["cpu_seconds"] > 0 and r["seconds"] > 0 for r in records)  # a batch's time, shared by its runs
    assert sorted({r["shared_by"] for r in records}) == [4, 6]  # 4 episodes; 2 reused ones serving 3 costs each
    for spec in specs:
        env = gym.make(spec.env_id, **spec.env_kwargs)
        alone = run_episode(env, make_agent(spec.agent, env), spec.seed, run_id=spec.run_id, env_id=spec.env_id,
                            agent_name=spec.agent)
        batched = store.load_run(spec.run_id)
        np.testing.assert_array_equal(batched["action"], alone["action"], err_msg=spec.run_id)
        rewards = ["reward", "raw_accuracy", *[c for c in alone if c.startswith("task_reward_")]]
        np.testing.assert_allclose(batched[rewards], alone[rewards], rtol=0, atol=1e-5, err_msg=spec.run_id)


def test_a_resumed_sweep_replays_whole_batches_and_matches_the_uninterrupted_one(tmp_path):
    specs = specs_for()
    runs = {"clean": tmp_path / "clean", "resumed": tmp_path / "resumed"}
    for out in runs.values():
        run_sweep(specs, ResultStore(out), {"experiment": "test"}, jobs=1, progress=False, batch_size=5)
    lost = sorted((runs["resumed"] / "runs").glob("*.parquet"))[::4]  # runs of several batches, as after a kill
    for path in lost:
        path.unlink()
        path.with_suffix(".json").unlink()
    summary = run_sweep(specs, ResultStore(runs["resumed"]), {"experiment": "test"}, jobs=1, progress=False,
                        batch_size=5)
    assert summary.completed == len(lost) and summary.skipped == len(specs) - len(lost)
    pd.testing.assert_frame_equal(table(runs["resumed"]), table(runs["clean"]))  # bit for bit


def test_a_failing_run_in_a_batch_fails_alone(tmp_path, broken_agent):
    specs = specs_for(agents=("ucb1", broken_agent), seeds=(0,))
    summary = run_sweep(specs, ResultStore(tmp_path / "out"), {"experiment": "test"}, jobs=1, progress=False)
    assert sorted(summary.failed) == sorted(s.run_id for s in specs if "Broken" in s.agent)
    assert summary.completed == 3
    failures = ResultStore(tmp_path / "out").failures()
    assert len(failures) == 3 and all("agent exploded at trial 5" in text for text in failures.values())


def test_resuming_with_another_batch_size_is_refused(tmp_path, capsys):
    args = ["run", "fig5", "--scale", "smoke", "--agents", "serial,ucb1", "--costs", "0,1", "--set", "horizon=4",
            "--no-progress", "--jobs", "1", "--out", str(tmp_path)]
    assert main([*args, "--batch-size", "4"]) == 0
    capsys.readouterr()
    assert main([*args, "--batch-size", "8"]) == 2
    assert "was swept with --batch-size 4; resume with --batch-size 4" in capsys.readouterr().err
    assert main([*args, "--batch-size", "0"]) == 2
    assert "--batch-size must be an integer >= 1, got 0" in capsys.readouterr().err


def test_long_batches_report_the_trials_they_have_played(tmp_path):
    from tradeoff_gym.benchmarks.run_loop import run_episodes
    from tradeoff_gym.benchmarks.runner import _ProgressReader, _ProgressWriter

    vector = gym.make_vec(SP, num_envs=3, vectorization_mode="vector_entry_point", horizon=5, **SMALL)
    seen = []
    run_episodes(vector, [make_agent("ucb1", vector.sub_env(k)) for k in range(3)], [0, 1, 2], on_step=seen.append)
    assert seen == [3, 6, 9, 12, 15]  # trials recorded over the three episodes after each step
    batches = plan_batches(plan_units(specs_for(agents=("ucb1",), seeds=(0, 1, 2))))[:1]  # a batch of 3 × 12 trials
    shown = []
    bar = type("Bar", (), {"show_trials": lambda self, played: shown.append(played)})()
    with _ProgressReader(bar, batches) as reader:
        assert reader.total == 36
        writer = _ProgressWriter(reader.file(0))
        writer(7)
        writer(9)  # within 2 s of the last write: skipped
        assert reader._played() == 7
        reader.done(0, batches[0])
        assert reader._played() == 36
    assert not os.path.exists(reader.directory)


def test_a_batch_that_fails_is_said_and_its_runs_are_played_alone(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise ValueError("this vector env refuses the batch")

    monkeypatch.setattr(gym, "make_vec", refuse)
    specs = specs_for(agents=("ucb1",), seeds=(0, 1, 2))[:3]  # one batch: 3 seeds at one cost
    summary = run_sweep(specs, ResultStore(tmp_path), {"experiment": "test"}, jobs=1, progress=True)
    assert summary.completed == 3 and not summary.failed
    assert "warning: a batch of 3 runs failed (ValueError: this vector env refuses the batch); its runs were " \
           "played one by one" in capsys.readouterr().err
