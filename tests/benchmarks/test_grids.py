"""Env-setting grids (``--env``), explicit seeds, agents with settings: through the real console script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tradeoff_gym.benchmarks.analysis import check_not_pooled, setting_groups, setting_scores
from tradeoff_gym.benchmarks.experiment import (
    RunSpec,
    canonical_agent,
    expand_env_grid,
    plan_runs,
    resolve_agents,
    seed_list,
    split_top_level,
)
from tradeoff_gym.benchmarks.experiments import experiment_settings, load_experiment

SCRIPT = Path(sys.executable).parent / "tradeoff-bench"
FIG5 = ["run", "fig5", "--scale", "smoke", "--set", "horizon=20", "--costs", "0.1,0.5",
        "--agents", "serial,parallel", "--jobs", "1", "--no-progress"]


def bench(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_split_and_canonical_agent_specs():
    text = 'serial,navigator{"block": 0.05, "x": [1, 2]},mymod:MyAgent{"eps": 0.1, "s": "a,}b"}'
    assert split_top_level(text) == ["serial", 'navigator{"block": 0.05, "x": [1, 2]}',
                                      'mymod:MyAgent{"eps": 0.1, "s": "a,}b"}']
    assert canonical_agent('navigator{ "z": 1, "block": 0.05 }') == 'navigator{"block":0.05,"z":1}'
    with pytest.raises(ValueError, match="JSON object"):
        canonical_agent("navigator{block: 1}")


def test_seed_list_and_grid_expansion():
    assert seed_list({"seeds": 3}) == [0, 1, 2] and seed_list({"seeds": [15, 16]}) == [15, 16]
    spec = RunSpec("fig5/c0.1/serial/0", "tradeoff/SerialParallel-v0", "serial", 0, {"cost": 0.1}, tags={"cost": 0.1})
    grid = expand_env_grid([spec], {"input_noise": [0, 0.2], "preset": ["balanced"]})
    assert [s.run_id for s in grid] == ["fig5/input_noise=0/preset=balanced/c0.1/serial/0",
                                        "fig5/input_noise=0.2/preset=balanced/c0.1/serial/0"]
    assert grid[1].env_kwargs == {"cost": 0.1, "input_noise": 0.2, "preset": "balanced"}
    assert grid[0].tags == {"cost": 0.1, "input_noise": 0.0, "preset": "balanced"}
    with pytest.raises(ValueError, match="--env cost"):
        expand_env_grid([spec], {"cost": [0.2]})
    worlds = load_experiment("fig5_worlds")
    with pytest.raises(ValueError, match="--env preset: this experiment sweeps preset itself"):
        expand_env_grid(worlds.runs(experiment_settings(worlds, "smoke")), {"preset": ["balanced"]})


def test_plan_runs_crosses_grid_seeds_and_agents_with_settings():
    module = load_experiment("fig5")
    settings = experiment_settings(module, "smoke", seeds=[3, 7], costs=[0.1], two_phase=[0.5],
                                   agents=["serial", 'navigator{"block":0.05}', 'ucb1{"name":"u"}'],
                                   env_grid={"input_noise": [0, 0.2]})
    specs = plan_runs(module, settings)
    assert len(specs) == 2 * (3 + 2) * 2 and {s.seed for s in specs} == {3, 7}  # noise × (agents + 2 two-phase) × seeds
    navigator = next(s for s in specs if s.agent == "navigator")
    assert navigator.agent_kwargs == {"block": 0.05} and navigator.label == 'navigator{"block":0.05}'
    assert navigator.run_id.split("/")[3] == 'navigator{"block":0.05}'
    ucb = next(s for s in specs if s.agent == "ucb1")
    assert ucb.label == "u" and ucb.agent_kwargs == {} and "/u/" in ucb.run_id


def test_module_class_agent_is_labelled_with_its_class_name(tmp_path, monkeypatch):
    (tmp_path / "labelled_agent_mod.py").write_text(
        "class A:\n    name = 'mine'\n    reset = act = observe = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = RunSpec("x/labelled_agent_mod:A/0", "tradeoff/SerialParallel-v0", "labelled_agent_mod:A", 0)
    assert resolve_agents([spec], ["labelled_agent_mod:A"])[0].label == "mine"
    assert resolve_agents([spec])[0].label == ""  # an experiment's own module:Class agents keep their name


def test_settings_are_never_pooled():
    frame = pd.DataFrame({"run_id": ["a", "b"], "agent": ["serial"] * 2, "seed": [0, 0], "cost": [0.1, 0.1],
                          "input_noise": [0.0, 0.2], "trial": [0, 0]})
    with pytest.raises(ValueError, match="pool"):
        check_not_pooled(frame, ["cost"])
    parts = setting_groups(frame, ["input_noise"])
    assert [setting for setting, _ in parts] == [{"input_noise": 0.0}, {"input_noise": 0.2}]
    for _, part in parts:
        check_not_pooled(part, ["cost"])

    class Experiment:
        @staticmethod
        def score(part):
            return pd.DataFrame({"agent": ["serial"], "score": [len(part)], "ci_low": [0], "ci_high": [0], "n": [1]})

    scores = setting_scores(Experiment, frame, ["input_noise"])
    assert list(scores.columns[:2]) == ["input_noise", "agent"] and list(scores.input_noise) == [0.0, 0.2]


@pytest.mark.slow
def test_env_grid_sweep_reports_each_setting_apart_and_extends(tmp_path):
    out = "grid"
    result = bench([*FIG5, "--seeds", "2", "--env", "input_noise=0,0.2", "--out", out], tmp_path)
    assert result.returncode == 0, result.stderr
    report = (tmp_path / out / "report.md").read_text()
    assert "## input_noise = 0\n" in report and "## input_noise = 0.2\n" in report
    rows = re.findall(r"^\| (0\.\d+) \| (serial|parallel) \| .*\| (\d+) \| [-\d.]+ \|$", report, flags=re.M)
    assert len(rows) == 2 * 2 * 2, rows  # (noise, cost, agent): one row each
    assert {seeds for *_, seeds in rows} == {"2"}  # never "4": the noise levels are not pooled
    frame = pd.read_parquet(tmp_path / out / "results.parquet")
    assert sorted(frame.input_noise.unique()) == [0.0, 0.2]
    assert frame.groupby(["input_noise", "cost", "agent"]).seed.nunique().eq(2).all()
    manifest = json.loads((tmp_path / out / "manifest.json").read_text())
    assert manifest["settings"]["env_grid"] == {"input_noise": [0, 0.2]}
    # A new grid value extends the sweep; held seeds 15-16 are one flag away in a new directory.
    more = bench([*FIG5, "--seeds", "2", "--env", "input_noise=0,0.2,0.4", "--out", out], tmp_path)
    assert more.returncode == 0, more.stderr
    assert "16 runs done, 32 already complete" in more.stdout
    held_out = bench([*FIG5, "--seeds", "15-16", "--out", "held"], tmp_path)
    assert held_out.returncode == 0, held_out.stderr
    assert sorted(pd.read_parquet(tmp_path / "held" / "results.parquet").seed.unique()) == [15, 16]
    changed = bench([*FIG5, "--seeds", "2", "--env", "input_noise=0.3", "--out", out], tmp_path)
    assert changed.returncode == 2 and "choose another --out" in changed.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--env", "input_noise=-1"], "--env input_noise=-1 (tradeoff/SerialParallel-v0): input_noise must lie in"),
    (["--env", "no_such_setting=1"], "--env no_such_setting=1"),
    (["--env", "cost=0.2"], "--env cost: this experiment sweeps cost itself"),
    (["--env", "input_noise=0,0"], "--env input_noise lists 0 more than once"),
    (["--env", "input_noise=0", "--env", "input_noise=1"], "--env input_noise is given more than once"),
    (["--seeds", "5-3"], "expected a seed count"),
    (["--agents", "sb3-ppo"], "--agents 'sb3-ppo{\"timesteps\": 20000}'"),
    (["--agents", 'navigator{"blok": 1}'], "unexpected keyword argument 'blok'"),
    (["--agents", "navigator{blok}"], "not a JSON object"),
])
def test_refused_before_anything_runs(args, message, tmp_path):
    result = bench([*FIG5, *args, "--out", "r"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_agents_with_settings_and_labels_through_the_console_script(tmp_path):
    (tmp_path / "mymod.py").write_text(textwrap.dedent("""
        from tradeoff_gym.agents.baselines import RandomAgent

        class MyAgent(RandomAgent):
            name = "my-agent"

            def __init__(self, eps=0.5):
                super().__init__()
                self.eps = eps
    """))
    agents = 'serial,navigator{"block": 0.05, "name": "nav"},mymod:MyAgent{"eps": 0.1},mymod:MyAgent'
    result = bench([*FIG5, "--seeds", "1", "--agents", agents, "--out", "a"], tmp_path)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(tmp_path / "a" / "results.parquet")
    assert set(frame.agent) - {"two-phase"} == {"serial", "nav", 'mymod:MyAgent{"eps":0.1}', "my-agent"}
    assert "nav" in (tmp_path / "a" / "report.md").read_text()


@pytest.mark.slow
def test_sb3_policy_from_the_cli_with_a_tiny_budget(tmp_path):
    pytest.importorskip("stable_baselines3")
    agents = 'serial,sb3-a2c{"timesteps": 64, "n_envs": 1, "name": "a2c"}'
    result = bench(["run", "sagiv2018", "--scale", "smoke", "--jobs", "1", "--no-progress", "--agents", agents,
                    "--out", "s"], tmp_path)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(tmp_path / "s" / "results.parquet")
    assert set(frame.agent) == {"serial", "a2c"}


def test_seed_option_forms():
    from tradeoff_gym.benchmarks.cli import _seeds

    assert _seeds("5") == 5 and _seeds("15-17") == [15, 16, 17] and _seeds("3,7,9") == [3, 7, 9]
    assert _seeds("0-2,9") == [0, 1, 2, 9]
    module = load_experiment("fig5")
    with pytest.raises(ValueError, match="seeds lists 3 more than once"):
        experiment_settings(module, "smoke", seeds=[3, 3])
    assert {s.seed for s in plan_runs(module, experiment_settings(module, "smoke", seeds=[4, 9]))} == {4, 9}
