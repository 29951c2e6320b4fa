"""The sweep runner and result store: resume, corruption, failures, exact reuse, Dask."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.runner import plan_units, run_sweep
from tradeoff_gym.benchmarks.store import ResultStore

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "tradeoff_gym.benchmarks.cli"]
TINY = ["sagiv2018", "--seeds", "1", "--costs", "0.1,0.3", "--agents", "serial,ucb1", "--no-progress"]


def tiny(agents: str) -> list[str]:
    """The tiny sweep with other agents."""
    return [*TINY[:-2], agents, "--no-progress"]


def final_table(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet").sort_values(["run_id", "trial"]).reset_index(drop=True)


def test_sweep_writes_every_run_and_a_report(tmp_path):
    assert main(["run", *TINY, "--jobs", "1", "--out", str(tmp_path)]) == 0
    table = final_table(tmp_path)
    assert table.run_id.nunique() == 3 * 2 * 2 and not table.duplicated(["run_id", "trial"]).any()
    report = (tmp_path / "report.md").read_text()
    assert "runs complete: 12 of 12" in report and "![" in report
    for figure in (tmp_path / "figures").glob("*.png"):
        assert figure.stat().st_size > 10_000
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 12


def test_resume_skips_complete_runs_and_detects_corruption(tmp_path, capsys):
    assert main(["run", *TINY, "--jobs", "1", "--out", str(tmp_path)]) == 0
    reference = final_table(tmp_path)
    victim = sorted((tmp_path / "runs").glob("*.parquet"))[3]
    victim.write_bytes(victim.read_bytes()[:100])  # truncated, as by a full disk or a careless edit
    capsys.readouterr()
    assert main(["run", *TINY, "--jobs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "does not match its recorded hash" in out.err
    assert "1 runs done, 11 already complete" in out.out
    pd.testing.assert_frame_equal(final_table(tmp_path), reference)


@pytest.mark.slow
def test_sigkilled_sweep_resumes_to_the_uninterrupted_table(tmp_path):
    (tmp_path / "slow_agents.py").write_text(textwrap.dedent("""
        import time
        from tradeoff_gym.agents.bandits import UCB1Agent

        class SlowUCB(UCB1Agent):
            def reset(self, info, rng):
                time.sleep(0.4)
                super().reset(info, rng)
    """))
    args = ["run", *tiny("serial,slow_agents:SlowUCB"), "--jobs", "1"]
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"}
    killed = tmp_path / "killed"
    process = subprocess.Popen([*CLI, *args, "--out", str(killed)], env=env,
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list((killed / "runs").glob("*.json"))) < 4 and time.time() < deadline:
        assert process.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(list((killed / "runs").glob("*.json")))
    assert 4 <= written < 12, "the kill must land mid-sweep for this test to mean anything"
    for out in (killed, tmp_path / "clean"):
        result = subprocess.run([*CLI, *args, "--out", str(out)], env=env,
                                cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    resumed, clean = final_table(killed), final_table(tmp_path / "clean")
    assert not resumed.duplicated(["run_id", "trial"]).any()
    pd.testing.assert_frame_equal(resumed, clean)


def test_failing_run_is_recorded_and_does_not_stop_the_sweep(tmp_path, broken_agent, capsys):
    args = ["run", *tiny(f"serial,{broken_agent}"), "--jobs", "1",
            "--out", str(tmp_path / "out")]
    assert main(args) == 1
    assert "6 runs done, 0 already complete, 6 failed" in capsys.readouterr().out
    failures = ResultStore(tmp_path / "out").failures()
    assert len(failures) == 6 and all("agent exploded at trial 5" in text for text in failures.values())
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Failed runs" in report and "runs complete: 6 of 12" in report


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "fig99"], "unknown experiment 'fig99'; available: ["),
        (["run", "sagiv2018", "--agents", "serial,nope"], "unknown agent 'nope'; registered agents: ["),
        (["run", "sagiv2018", "--costs", "0.2,1.5"], "costs must lie in [0, 1], got 1.5"),
        (["run", "sagiv2018", "--scale", "huge"], "unknown scale 'huge'"),
        (["run", "sagiv2018", "--seeds", "0"], "seeds must be a count >= 1 or a non-empty list of integers >= 0"),
        (["report", "/nonexistent/dir"], "is not a results directory (no manifest.json)"),
    ],
)
def test_bad_cli_input_names_the_problem_and_the_valid_choices(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_results_dir_of_another_sweep_is_refused(tmp_path, capsys):
    assert main(["run", *TINY, "--jobs", "1", "--out", str(tmp_path)]) == 0
    (tmp_path / "manifest.json").write_text('{"experiment": "fig5", "runs": {}}')
    assert main(["run", *TINY, "--jobs", "1", "--out", str(tmp_path)]) == 2
    assert "holds results of experiment 'fig5'" in capsys.readouterr().err


REUSE_CASES = {
    "paper protocol (÷(1+c), mean)": {"horizon": 300},
    "Sagiv (additive, summed, variable task count)": {"preset": "sagiv2018", "horizon": 300},
}


@pytest.mark.parametrize("env_kwargs", REUSE_CASES.values(), ids=REUSE_CASES.keys())
def test_reward_independent_agents_are_run_once_and_rediscounted_exactly(tmp_path, env_kwargs):
    costs = (0.0, 0.35, 1.0)
    specs = [
        RunSpec(f"r/{agent}/{cost}", "tradeoff/LearningCurves-v0", agent, seed=3,
                env_kwargs={**env_kwargs, "cost": cost}, tags={"cost": cost})
        for agent in ("serial", "parallel", "random") for cost in costs
    ]
    units = plan_units(specs)
    assert len(units) == 3 and all(len(u.members) == 3 for u in units)
    summary = run_sweep(specs, ResultStore(tmp_path), {"experiment": "test"}, jobs=1, progress=False)
    assert summary.completed == 9 and not summary.failed
    store = ResultStore(tmp_path)
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*.json")]
    assert [r["shared_by"] for r in records] == [3] * 9  # each episode's time is shared by its 3 costs
    import gymnasium as gym

    from tradeoff_gym.agents.registry import make_agent

    for spec in specs:
        env = gym.make(spec.env_id, **spec.env_kwargs)
        direct = run_episode(env, make_agent(spec.agent, env), spec.seed, run_id=spec.run_id, env_id=spec.env_id)
        reused = store.load_run(spec.run_id).drop(columns="cost")
        assert reused.drop(columns="reward").filter(regex="^(?!task_reward)").equals(
            direct.drop(columns="reward").filter(regex="^(?!task_reward)"))
        rewards = ["reward", *[c for c in direct if c.startswith("task_reward_")]]
        # Same numbers up to floating-point summation order.
        np.testing.assert_allclose(reused[rewards], direct[rewards], rtol=1e-12, atol=1e-15)


@pytest.mark.slow
def test_sweep_on_a_dask_cluster_matches_the_local_sweep(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert main(["run", *TINY, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")]) == 0
    assert main(["run", *TINY, "--jobs", "1", "--out", str(tmp_path / "local")]) == 0
    pd.testing.assert_frame_equal(final_table(tmp_path / "dask"), final_table(tmp_path / "local"))
