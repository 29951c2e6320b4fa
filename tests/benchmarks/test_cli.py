"""The CLI: every usage error exits 2 with one line on stderr before anything is written; overrides work."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradeoff_gym.benchmarks import cli
from tradeoff_gym.benchmarks.cli import main

REPO = Path(__file__).resolve().parents[2]
# sagiv2018 at smoke scale with one agent: 2 runs of the fast LearningCurves env.
SMOKE = ["run", "sagiv2018", "--scale", "smoke", "--jobs", "1", "--no-progress"]


def refused(argv: list[str], capsys) -> str:
    """Run ``argv``; assert exit 2 with exactly one line on stderr; return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    "override",
    [
        ["--set", "seeds=1", "--agents", "serial"],
        ["--set", "costs=[0,1]", "--agents", "serial"],
        ["--set", 'agents=["serial", "parallel"]'],
    ],
    ids=["seeds", "costs", "agents"],
)
def test_set_overrides_the_options_keys_alone(override, tmp_path):
    assert main([*SMOKE, *override, "--out", str(tmp_path / "out")]) == 0
    settings = json.loads((tmp_path / "out" / "manifest.json").read_text())["settings"]
    key, _, value = override[1].partition("=")
    assert settings[key] == json.loads(value)


def test_set_override_is_normalised_to_the_settings_type(tmp_path):
    assert main([*SMOKE, "--set", "costs=[0,1]", "--agents", "serial", "--out", str(tmp_path)]) == 0
    costs = json.loads((tmp_path / "manifest.json").read_text())["settings"]["costs"]
    assert costs == [0.0, 1.0] and all(isinstance(c, float) for c in costs)


REFUSED = {
    "option and --set conflict": (["run", "fig5", "--seeds", "2", "--set", "seeds=3"], "conflict"),
    "--set twice": (["run", "fig5", "--set", "horizon=5", "--set", "horizon=6"], "more than once"),
    "empty --costs": (["run", "sagiv2018", "--costs", ""], "--costs needs at least one cost in [0, 1]"),
    "empty --agents": (["run", "sagiv2018", "--agents", ""], "--agents needs at least one agent"),
    "empty list via --set": (["run", "sagiv2018", "--set", "costs=[]"], "costs needs at least one value"),
    "float for an int": (["run", "fig5", "--set", "horizon=2.7"], "horizon must be an integer, got 2.7"),
    "bool for an int": (["run", "fig5", "--set", "horizon=true"], "horizon must be an integer, got True"),
    "float seeds": (["run", "fig5", "--set", "seeds=1.0"], "seeds must be a count >= 1 or a non-empty list"),
    "bool in a float list": (["run", "fig5", "--set", "costs=[true]"], "every element of costs must be a number"),
    "float in an int list": (["run", "sagiv2018", "--set", "parallel_midpoints=[200.5]"],
                             "every element of parallel_midpoints must be an integer"),
    "scalar for a list": (["run", "fig5", "--set", "costs=0.5"], "costs must be a JSON list of numbers"),
    "bare string for a list": (["run", "fig5", "--set", "agents=[serial,ucb1]"],
                               "agents must be a JSON list of strings"),
    "number in a string list": (["run", "fig5", "--set", "agents=[1]"], "every element of agents must be a string"),
    "repeated list value": (["run", "sagiv2018", "--costs", "0.1,0.1"], "costs lists 0.1 more than once"),
    "bool for a float": (["run", "seq_tasks", "--set", "criterion=false"], "criterion must be a number"),
    "string for a dict": (["run", "seq_tasks", "--set", "env=big"], "env must be a JSON object"),
    "unknown key": (["run", "fig5", "--set", "nope=1"], "no 'nope' setting to override"),
    "invalid env setting": (["run", "fig5", "--scale", "smoke", "--set", "horizon=-5"], "horizon"),
    "jobs 0": (["run", "sagiv2018", "--jobs", "0"], "--jobs must be -1 (all cores) or an integer >= 1, got 0"),
    "jobs -2": (["run", "sagiv2018", "--jobs", "-2"], "--jobs must be -1"),
    "jobs not a number": (["run", "sagiv2018", "--jobs", "many"], "argument --jobs: invalid int value"),
    "missing module": (["run", "sagiv2018", "--agents", "no_such_module_xyz:Agent"], "'no_such_module_xyz:Agent'"),
    "missing class": (["run", "sagiv2018", "--agents", "tradeoff_gym.agents.baselines:NoSuchAgent"],
                      "'tradeoff_gym.agents.baselines:NoSuchAgent'"),
    "not an agent": (["run", "sagiv2018", "--agents", "pathlib:Path"], "'pathlib:Path'"),
    "no subcommand": ([], "required"),
}


@pytest.mark.parametrize(("argv", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_usage_errors_exit_2_with_one_line_before_writing_anything(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    line = refused([*argv, "--out", str(out)] if argv else argv, capsys)
    assert message in line
    assert not out.exists(), "a refused command must not create --out"


def test_out_naming_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("not a directory")
    line = refused([*SMOKE, "--agents", "serial", "--out", str(target)], capsys)
    assert "is a file, not a directory" in line
    assert target.read_text() == "not a directory"
    line = refused([*SMOKE, "--agents", "serial", "--out", str(target / "sub")], capsys)
    assert "is a file" in line


def test_agent_module_with_an_import_error_is_refused(tmp_path, capsys, monkeypatch):
    (tmp_path / "broken_mod.py").write_text("def broken(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    line = refused([*SMOKE, "--agents", "broken_mod:Agent", "--out", str(tmp_path / "out")], capsys)
    assert "cannot load agent 'broken_mod:Agent' (SyntaxError" in line
    assert not (tmp_path / "out").exists()


def test_scheduler_without_dask_distributed_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if not installed
    line = refused([*SMOKE, "--agents", "serial", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "o")],
                   capsys)
    assert "--scheduler needs dask.distributed" in line
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_is_refused(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(cli, "SCHEDULER_TIMEOUT_S", 1.0)
    line = refused([*SMOKE, "--agents", "serial", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")],
                   capsys)
    assert "no Dask scheduler answers at 'tcp://127.0.0.1:9' within 1 s" in line
    assert not (tmp_path / "o").exists()


def test_malformed_scheduler_address_is_refused(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    line = refused([*SMOKE, "--agents", "serial", "--scheduler", "nonsense", "--out", str(tmp_path / "o")], capsys)
    assert "--scheduler 'nonsense' is not a scheduler address" in line and "tcp://HOST:PORT" in line
    assert not (tmp_path / "o").exists()


def test_main_puts_the_working_directory_on_the_import_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    main(["list"])
    assert sys.path[0] == str(tmp_path)


MY_AGENT = """
from tradeoff_gym.agents.baselines import RandomAgent


class MyAgent(RandomAgent):
    name = "mine"
"""


@pytest.mark.slow
def test_console_script_finds_an_agent_module_in_the_working_directory(tmp_path):
    (tmp_path / "myagent.py").write_text(textwrap.dedent(MY_AGENT))
    script = Path(sys.executable).parent / "tradeoff-bench"
    if not script.exists():
        pytest.skip("the console script is not installed in this environment")
    # PYTHONPATH names the repository only (so this checkout is the one imported); the agent module lies
    # in the working directory, which only main() itself puts on the import path.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [str(script), "run", "sagiv2018", "--scale", "smoke", "--agents", "myagent:MyAgent", "--jobs", "1",
         "--no-progress", "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "2 runs done, 0 already complete, 0 failed" in result.stdout


def test_fig5_noisy_and_its_results_directories_say_to_run_fig5_on_the_noisy_preset(tmp_path, capsys):
    wanted = "tradeoff-bench run fig5 --set preset=noisy"
    assert wanted in refused(["run", "fig5_noisy", "--scale", "smoke", "--out", str(tmp_path / "new")], capsys)
    assert not (tmp_path / "new").exists()
    old = tmp_path / "old"  # a results directory written by the fig5_noisy experiment
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"experiment": "fig5_noisy", "scale": "smoke", "runs": {}}))
    assert wanted in refused(["run", "fig5", "--scale", "smoke", "--set", "preset=noisy", "--out", str(old)], capsys)
    assert wanted in refused(["report", str(old)], capsys)


def test_fig5_on_the_noisy_preset_plays_the_noisy_world():
    from tradeoff_gym.benchmarks.experiments.fig5 import SCALES, runs
    from tradeoff_gym.envs import check_settings
    from tradeoff_gym.envs.serial_parallel import make_config

    specs = runs({**SCALES["smoke"], "preset": "noisy"})
    assert {spec.env_kwargs["preset"] for spec in specs} == {"noisy"}
    spec = specs[0]
    assert check_settings(spec.env_id, **spec.env_kwargs).learner == make_config("noisy").learner


def test_a_closed_stdout_ends_quietly_after_the_work_is_done(tmp_path, monkeypatch, capsys):
    """``tradeoff-bench … | head``: printing into a closed pipe stops with 141, no traceback, the report written."""
    sink = (tmp_path / "sink").open("w")

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return sink.fileno()

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main([*SMOKE, "--agents", "serial", "--out", str(tmp_path / "out")]) == cli.EXIT_PIPE == 141
    assert (tmp_path / "out" / "report.md").is_file()  # written before the first print
    assert "Traceback" not in capsys.readouterr().err
    sink.close()
