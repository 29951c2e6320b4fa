"""Results you can trust under faults: history-independent batch plans, killed workers, sweeps too large to plan."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks import runner
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.runner import run_sweep
from tradeoff_gym.benchmarks.store import ResultStore

SP = "tradeoff/SerialParallel-v0"
#: A small learner so episodes take well under a second (as tests/benchmarks/test_batches.py).
SMALL = dict(
    image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, conv_channels=(4, 8), hidden_units=(16,)
)
MANIFEST = {"experiment": "test"}


def specs_for(costs=(0.0, 1.0), agents=("serial", "ucb1"), seeds=(0, 1), horizon=12) -> list[RunSpec]:
    return [
        RunSpec(f"t/c{cost:g}/{agent}/{seed}", SP, agent, seed,
                env_kwargs={**SMALL, "horizon": horizon, "cost": cost}, tags={"cost": cost})
        for cost in costs for agent in agents for seed in seeds
    ]


def manifest(specs: list[RunSpec]) -> dict:
    """A manifest whose settings name the sweep's costs, agents and seeds (so a bigger one extends it)."""
    settings = {key: sorted({getattr(s, key) if key != "costs" else s.env_kwargs["cost"] for s in specs})
                for key in ("costs", "agent", "seed")}
    return {**MANIFEST, "settings": settings}


def sweep(out: Path, specs: list[RunSpec], **kwargs) -> runner.SweepSummary:
    return run_sweep(specs, ResultStore(out), manifest(specs), jobs=1, progress=False, **kwargs)


def table(out: Path) -> pd.DataFrame:
    return ResultStore(out).load().sort_values(["run_id", "trial"]).reset_index(drop=True)


@pytest.fixture()
def companions(monkeypatch) -> dict[str, frozenset]:
    """run id -> the episodes (agent, its settings, seed, cost played) of the batch that played it, as sweeps run.

    A learner's floats depend on its batch, so equal companions mean bit-equal runs (checked below on frames too,
    though at these small sizes the floats rarely show it).
    """
    seen: dict[str, frozenset] = {}
    play = runner.execute_batch

    def recording(batch, progress_file=None):
        episodes = frozenset((u.spec.agent, repr(sorted(u.spec.agent_kwargs.items())), u.spec.seed,
                              u.spec.env_kwargs.get("cost")) for u in batch)
        for unit in batch:
            for member in unit.members:
                seen.setdefault(member.run_id, episodes)
                assert seen[member.run_id] == episodes, f"{member.run_id} played in two batches"
        return play(batch, progress_file)

    monkeypatch.setattr(runner, "execute_batch", recording)
    return seen


def played_in(companions: dict[str, frozenset], out: Path, specs: list[RunSpec], **kwargs) -> dict[str, frozenset]:
    """Sweep ``specs`` into ``out``; the batches of every run played there so far (``companions`` reset after)."""
    sweep(out, specs, **kwargs)
    return dict(companions)


# -- determinism across extensions ----------------------------------------------------------------------------


def test_a_sweep_extended_by_a_cost_equals_a_fresh_sweep_of_the_final_settings(tmp_path, companions):
    final = specs_for(costs=(0.0, 0.5, 1.0))
    fresh = played_in(companions, tmp_path / "fresh", final)
    companions.clear()
    sweep(tmp_path / "grown", specs_for(costs=(0.0, 1.0)))
    summary = sweep(tmp_path / "grown", final)
    assert summary.completed == 4 and summary.skipped == 8
    assert companions == fresh  # every run, held or new, played with the companions a fresh sweep gives it
    pd.testing.assert_frame_equal(table(tmp_path / "grown"), table(tmp_path / "fresh"))  # bit for bit
    store = ResultStore(tmp_path / "grown")
    for seed in (0, 1):  # the fixed agent's new run is its held c = 0 trajectory, re-discounted
        held, new = store.load_run(f"t/c0/serial/{seed}"), store.load_run(f"t/c0.5/serial/{seed}")
        np.testing.assert_array_equal(new["action"], held["action"])
        np.testing.assert_array_equal(new["raw_accuracy"], held["raw_accuracy"])


def test_a_command_killed_before_it_did_any_work_leaves_no_trace_in_the_plan(tmp_path, companions):
    final = specs_for(costs=(0.0, 0.5, 1.0), agents=("serial", "ucb1", "sagiv"))
    fresh = played_in(companions, tmp_path / "fresh", final)
    companions.clear()
    first = specs_for(costs=(0.0, 1.0))
    ResultStore(tmp_path / "grown").open_sweep(manifest(first), first)  # then killed before it played anything
    sweep(tmp_path / "grown", final)
    assert len(ResultStore(tmp_path / "grown").manifest()["parts"]) == 1
    assert companions == fresh
    pd.testing.assert_frame_equal(table(tmp_path / "grown"), table(tmp_path / "fresh"))


def test_the_batch_plan_ignores_the_order_of_the_settings(tmp_path, companions):
    first = played_in(companions, tmp_path / "a", specs_for(costs=(0.0, 0.5, 1.0), agents=("serial", "ucb1", "sagiv")),
                      batch_size=3)
    companions.clear()
    sweep(tmp_path / "b", specs_for(costs=(1.0, 0.0, 0.5), agents=("sagiv", "ucb1", "serial"), seeds=(1, 0)),
          batch_size=3)
    assert companions == first
    pd.testing.assert_frame_equal(table(tmp_path / "b"), table(tmp_path / "a"))


def test_a_directory_swept_with_the_first_batch_plan_resumes_with_it(tmp_path, monkeypatch):
    specs = specs_for(costs=(0.0, 0.5, 1.0))
    with monkeypatch.context() as patch:  # a directory written before batch plans were versioned
        patch.setattr(runner, "BATCH_PLAN", None)
        sweep(tmp_path / "old", specs)
    assert "batch_plan" not in ResultStore(tmp_path / "old").manifest()
    shutil.copytree(tmp_path / "old", tmp_path / "resumed")
    lost = sorted((tmp_path / "resumed" / "runs").glob("*.parquet"))[::3]
    for path in lost:
        path.unlink()
        path.with_suffix(".json").unlink()
    summary = sweep(tmp_path / "resumed", specs)
    assert summary.completed == len(lost)
    pd.testing.assert_frame_equal(table(tmp_path / "resumed"), table(tmp_path / "old"))  # its own plan, bit for bit
    assert "batch_plan" not in ResultStore(tmp_path / "resumed").manifest()
    fresh = tmp_path / "fresh"
    sweep(fresh, specs)
    assert ResultStore(fresh).manifest()["batch_plan"] == runner.BATCH_PLAN


# -- a worker process that dies ---------------------------------------------------------------------------------

KILLER = '''
import os
import signal
from pathlib import Path

from tradeoff_gym.agents.baselines import RandomAgent
from tradeoff_gym.benchmarks.run_loop import split_seed


class KillerAgent(RandomAgent):
    """Dies at trial 3 of seed 1's episodes, as a worker the out-of-memory killer picks, while ``armed`` exists."""

    reward_independent = False

    def reset(self, info, rng):
        self.doomed = rng.bit_generator.state == split_seed(1)[1].bit_generator.state
        super().reset(info, rng)

    def act(self, obs, info):
        if self.doomed and info["trial"] == 3 and (Path(__file__).parent / "armed").exists():
            os.kill(os.getpid(), signal.SIGKILL)
        return super().act(obs, info)
'''


def bench(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tradeoff_gym.benchmarks.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_killed_worker_fails_its_batch_and_the_sweep_goes_on(tmp_path):
    (tmp_path / "killer.py").write_text(KILLER)
    (tmp_path / "armed").touch()
    args = ["run", "sagiv2018", "--scale", "smoke", "--agents", "killer:KillerAgent,serial", "--seeds", "3",
            "--jobs", "2", "--no-progress", "--out", "out"]
    result = bench(tmp_path, *args)  # 2 midpoints × 2 agents × 3 seeds; the killer dies on seed 1 (2 runs)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "TerminatedWorkerError" not in result.stderr
    killed = ["sagiv2018/m200/c0.1/killer:KillerAgent/1", "sagiv2018/m600/c0.1/killer:KillerAgent/1"]
    failures = ResultStore(tmp_path / "out").failures()
    assert sorted(failures) == killed
    for text in failures.values():
        assert "WorkerDied: the worker process playing this run died" in text and "SIGKILL" in text
    said = [line for line in (result.stdout + result.stderr).splitlines() if "failed;" in line]
    assert len(said) == 2 and all(line.startswith("run sagiv2018/") for line in said), result.stdout
    assert "10 runs done, 0 already complete, 2 failed" in result.stdout
    (tmp_path / "armed").unlink()
    again = bench(tmp_path, *args)  # the resume reruns the killed runs, and only them
    assert again.returncode == 0, again.stderr
    assert "2 runs done, 10 already complete, 0 failed" in again.stdout
    assert not ResultStore(tmp_path / "out").failures()


@pytest.mark.slow
def test_a_batch_whose_worker_dies_is_played_run_by_run_and_only_the_killer_fails(tmp_path, monkeypatch, capsys):
    (tmp_path / "killer.py").write_text(KILLER)
    (tmp_path / "armed").touch()
    monkeypatch.syspath_prepend(str(tmp_path))
    specs = specs_for(costs=(0.5,), agents=("killer:KillerAgent", "ucb1"), seeds=(0, 1, 2))  # one batch of 6
    specs += specs_for(costs=(1.0,), agents=("ucb1",), seeds=(0, 1))  # another batch, never in danger
    summary = run_sweep(specs, ResultStore(tmp_path / "out"), manifest(specs), jobs=2, progress=False)
    assert summary.failed == ["t/c0.5/killer:KillerAgent/1"] and summary.completed == len(specs) - 1
    assert "WorkerDied" in ResultStore(tmp_path / "out").failures()["t/c0.5/killer:KillerAgent/1"]
    out = capsys.readouterr()
    assert "warning: a batch of 6 runs failed (WorkerDied: the worker process playing this run died (exit " \
           "SIGKILL(-9)" in out.err


# -- a sweep too large to plan ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_sweep_of_a_million_seeds_is_refused_at_once_in_one_line(tmp_path):
    result = bench(tmp_path, "run", "sagiv2018", "--scale", "smoke", "--seeds", "1000000", "--out", "big")
    assert result.returncode == 2
    assert result.stderr.startswith("tradeoff-bench: error: these settings give 16,000,000 runs, more than the "
                                    "100,000 a sweep plans without --max-runs (planning would take about ")
    assert "GB of memory" in result.stderr and "pass --max-runs 16000000 to plan them anyway" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout
    assert not (tmp_path / "big").exists()  # nothing written


def test_max_runs_moves_the_limit_and_is_checked(tmp_path, capsys):
    from tradeoff_gym.benchmarks.cli import _prepare, build_parser, main

    argv = ["run", "sagiv2018", "--scale", "smoke", "--seeds", "3", "--out", str(tmp_path / "out")]
    assert main([*argv, "--max-runs", "47"]) == 2  # 16 runs a seed
    assert "these settings give 48 runs, more than the 47 a sweep plans" in capsys.readouterr().err
    specs, _, _ = _prepare(build_parser().parse_args([*argv, "--max-runs", "48"]))  # every check, nothing written
    assert len(specs) == 48 and not (tmp_path / "out").exists()
    assert main([*argv, "--max-runs", "0"]) == 2
    assert "--max-runs must be an integer >= 1, got 0" in capsys.readouterr().err
