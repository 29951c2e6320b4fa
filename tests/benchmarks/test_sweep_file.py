"""Your own experiment: a sweep file (``tradeoff-bench run my_sweep.toml``) and ``module:NAME`` experiments.

They plan, run, resume, extend, refuse and report like the built-in experiments; a bad file is one line (exit 2)
before anything is written.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks import cli
from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiment import plan_runs
from tradeoff_gym.benchmarks.experiments import experiment_settings, load_experiment, resolve_experiment
from tradeoff_gym.benchmarks.stats import RunScores, join_conditions
from tradeoff_gym.benchmarks.sweep_file import SweepFileError, load_sweep_file

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "noise_study.toml"

MINIMAL = """
env = "tradeoff/LearningCurves-v0"
seeds = 2
costs = [0.1, 0.5]
horizon = 50
agents = ["serial", "parallel", 'ucb1{"exploration": 0.5}']
"""


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(argv: list[str], capsys) -> str:
    """Run ``argv``; assert exit 2 with exactly one line on stderr; return that line."""
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def console(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``tradeoff-bench <args>`` through the installed console script, from ``cwd``."""
    script = Path(sys.executable).parent / "tradeoff-bench"
    if not script.exists():
        pytest.skip("the console script is not installed in this environment")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# -------------------------------------------------------------------------------------------------- the document
def test_a_sweep_file_plans_the_same_runs_as_the_built_in_sweep_it_restates(tmp_path):
    """fig5's smoke sweep written as a file: the same runs (env, agent, settings, seed, tags), under its own name."""
    fig5 = load_experiment("fig5")
    smoke = fig5.SCALES["smoke"]
    path = write(tmp_path, f"""
        name = "my-fig5"
        env = "tradeoff/SerialParallel-v0"
        analysis = "fig5"
        seeds = {smoke['seeds']}
        costs = {json.dumps(smoke['costs'])}
        horizon = {smoke['horizon']}
        agents = {json.dumps(smoke['agents'])}
        two_phase = {json.dumps(smoke['two_phase'])}
    """)
    mine = load_sweep_file(path)
    ours = plan_runs(fig5, experiment_settings(fig5, "smoke"))
    theirs = plan_runs(mine, experiment_settings(mine, "default"))
    assert len(ours) == len(theirs) > 20
    for a, b in zip(ours, theirs):
        assert b.run_id == a.run_id.replace("fig5/", "my-fig5/", 1)
        assert dataclasses.replace(b, run_id=a.run_id) == a
    assert mine.SCORE == fig5.SCORE and mine.FIXED_AGENTS == fig5.FIXED_AGENTS


def test_scales_override_the_top_level_values_and_the_default_scale_is_quick_or_the_first(tmp_path):
    path = write(tmp_path, MINIMAL + """
        [world]
        n_tasks = 3

        [grid]
        batch_size = [1, 4]

        [scales.smoke]
        seeds = 1
        horizon = 20

        [scales.big]
        costs = [0.0, 0.5, 1.0]
    """)
    experiment = load_sweep_file(path)
    assert experiment.NAME == "study" and list(experiment.SCALES) == ["smoke", "big"]
    assert experiment.DEFAULT_SCALE == "smoke"
    smoke, big = experiment.SCALES["smoke"], experiment.SCALES["big"]
    assert (smoke["seeds"], smoke["horizon"], smoke["costs"]) == (1, 20, [0.1, 0.5])
    assert (big["seeds"], big["horizon"], big["costs"]) == (2, 50, [0.0, 0.5, 1.0])
    assert smoke["world"] == {"n_tasks": 3} and smoke["env_grid"] == {"batch_size": [1, 4]}
    specs = plan_runs(experiment, experiment_settings(experiment, "smoke"))
    assert len(specs) == 2 * 2 * 3 * 1  # batch sizes × costs × agents × seeds
    spec = next(s for s in specs if "ucb1" in s.agent)
    assert spec.agent == "ucb1" and spec.agent_kwargs == {"exploration": 0.5}
    assert spec.label == 'ucb1{"exploration":0.5}'
    assert spec.env_kwargs["n_tasks"] == 3 and spec.env_kwargs["horizon"] == 20
    assert spec.tags.keys() == {"cost", "batch_size"}
    assert load_sweep_file(write(tmp_path, MINIMAL, "plain.toml")).DEFAULT_SCALE == "default"


def test_agents_as_tables_are_the_same_specs_as_strings(tmp_path):
    tables = load_sweep_file(write(tmp_path, MINIMAL.replace(
        """'ucb1{"exploration": 0.5}'""", """{ agent = "ucb1", exploration = 0.5, name = "ucb-half" }"""), "t.toml"))
    strings = load_sweep_file(write(tmp_path, MINIMAL.replace(
        """'ucb1{"exploration": 0.5}'""", """'ucb1{"name": "ucb-half", "exploration": 0.5}'"""), "s.toml"))
    assert tables.SCALES["default"]["agents"] == strings.SCALES["default"]["agents"]
    spec = plan_runs(tables, experiment_settings(tables, "default"))[-1]
    assert spec.label == "ucb-half" and spec.agent_kwargs == {"exploration": 0.5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("env = [", "is not valid TOML"),
        (MINIMAL + "colour = 3\n", "unknown key 'colour'"),
        (MINIMAL.replace('env = "tradeoff/LearningCurves-v0"', ""), "env must name the env id"),
        (MINIMAL.replace("seeds = 2", ""), "has no seeds"),
        (MINIMAL.replace("seeds = 2", "seeds = 0"), "seeds must be a count >= 1"),
        (MINIMAL.replace("costs = [0.1, 0.5]", "costs = [0.1, 1.5]"), "costs must be a non-empty list of numbers"),
        (MINIMAL.replace("horizon = 50", "horizon = 2.5"), "horizon must be an integer >= 1"),
        (MINIMAL.replace('"parallel", ', ""), "the reference agent 'parallel' (fixed_agents) is not among"),
        (MINIMAL + 'fixed_agents = "serial"\n', "fixed_agents must be a non-empty list"),
        (MINIMAL + 'analysis = "sagiv"\n', "analysis must be 'cost-sweep'"),
        (MINIMAL + 'analysis = "fig5"\nfixed_agents = ["serial"]\n', "has its own references"),
        (MINIMAL + 'name = "fig5"\n', "is a built-in experiment's"),
        (MINIMAL + 'name = "a/b"\n', "name must be letters"),
        (MINIMAL + "[world]\ncost = 0.2\n", "the sweep's costs"),
        (MINIMAL + "[grid]\nn_tasks = []\n", "needs at least one value"),
        (MINIMAL + "[world]\nn_tasks = 1\n[grid]\nn_tasks = [2, 3]\n", "[world] also sets"),
        (MINIMAL + "[scales.smoke]\nsed = 1\n", "[scales.smoke] has unknown key 'sed'"),
        (MINIMAL + 'default_scale = "paper"\n', "default_scale 'paper' is not one of its scales"),
        (MINIMAL.replace('0.5}', '}'), "are not a JSON object"),
        (MINIMAL.replace("'ucb1{", '{ exploration = 0.5 }, \'ucb1{'), 'needs agent = "NAME"'),
        (MINIMAL.replace("\"parallel\", 'ucb1{\"exploration\": 0.5}'", '"parallel", "serial"'),
         "two agents are labelled"),
        (MINIMAL + "when = 2024-01-01\n", "unknown key 'when'"),
        ("description = 1979-05-27\n" + MINIMAL, "sweep files hold strings, numbers"),
    ],
)
def test_a_bad_sweep_file_is_one_line_naming_the_problem_before_anything_is_written(text, message, tmp_path,
                                                                                     capsys):
    path = write(tmp_path, text)
    with pytest.raises(SweepFileError, match="study.toml"):
        load_sweep_file(path)
    line = refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert message in line and str(path) in line
    assert not (tmp_path / "out").exists()


def test_a_missing_sweep_file_and_bad_env_settings_are_refused(tmp_path, capsys):
    assert "does not exist" in refused(["run", str(tmp_path / "nope.toml")], capsys)
    path = write(tmp_path, MINIMAL + "[world]\nbatch_size = -5\n")
    assert "batch_size" in refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    bad_agent = write(tmp_path, MINIMAL.replace("exploration", "exploraton"), "agent.toml")
    assert "exploraton" in refused(["run", str(bad_agent), "--out", str(tmp_path / "out")], capsys)
    assert not (tmp_path / "out").exists()


def test_env_options_add_to_the_files_grid(tmp_path):
    path = write(tmp_path, MINIMAL + "[grid]\nn_tasks = [2, 3]\n")
    args = cli.build_parser().parse_args(["run", str(path), "--env", "batch_size=1,4",
                                          "--out", str(tmp_path / "out")])
    specs, manifest, _ = cli._prepare(args)
    assert manifest["settings"]["env_grid"] == {"n_tasks": [2, 3], "batch_size": [1, 4]}
    assert len(specs) == 2 * 2 * 2 * 3 * 2
    assert {(s.env_kwargs["n_tasks"], s.env_kwargs["batch_size"]) for s in specs} == {(2, 1), (2, 4), (3, 1), (3, 4)}
    assert manifest["experiment"] == "study" and manifest["sweep_file"]["env"] == "tradeoff/LearningCurves-v0"


# -------------------------------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_the_example_sweep_file_runs_resumes_extends_refuses_and_reports_through_the_console_script(tmp_path):
    """examples/noise_study.toml at smoke scale from a temp working directory, as a user would run it."""
    shutil.copy(EXAMPLE, tmp_path / "noise_study.toml")
    first = console(["run", "noise_study.toml", "--scale", "smoke", "--jobs", "1", "--no-progress"], tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "results" / "noise-study-smoke"  # the default --out: results/<name>-<scale>
    assert "noise-study: 40 runs done, 0 already complete, 0 failed" in first.stdout
    frame = pd.read_parquet(out / "results.parquet")
    assert sorted(frame.input_noise.unique()) == [0.0, 0.2] and sorted(frame.cost.unique()) == [0.1, 0.5]
    assert set(frame.agent) == {"serial", "parallel", 'navigator{"block":0.05}', 'epsilon-greedy{"epsilon":0.2}',
                                "sw-ucb-100"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(spec["env_kwargs"]["preset"] == "balanced" and spec["env_kwargs"]["horizon"] == 40
               for spec in manifest["runs"].values())
    report = (out / "report.md").read_text()
    assert "# noise-study — Input noise x cost" in report
    assert "## input_noise = 0\n" in report and "## input_noise = 0.2\n" in report
    assert report.count("### Scoreboard") == 2 and report.count("### Aggregate statistics") == 2
    assert (out / "report.html").is_file() and (out / "figures" / "input_noise-0.2").is_dir()
    columns = json.loads((out / "scores_columns.json").read_text())
    assert columns["conditions"] == ["input_noise = 0, cost=0.1", "input_noise = 0, cost=0.5",
                                     "input_noise = 0.2, cost=0.1", "input_noise = 0.2, cost=0.5"]
    with np.load(out / "scores.npz") as scores:
        assert scores["sw-ucb-100"].shape == (2, 4)

    again = console(["run", "noise_study.toml", "--scale", "smoke", "--jobs", "1", "--no-progress"], tmp_path)
    assert again.returncode == 0 and "0 runs done, 40 already complete" in again.stdout

    more = console(["run", "noise_study.toml", "--scale", "smoke", "--seeds", "0-2", "--jobs", "1", "--no-progress"],
                   tmp_path)
    assert more.returncode == 0 and "20 runs done, 40 already complete" in more.stdout

    before = (out / "manifest.json").read_text()
    other = console(["run", "noise_study.toml", "--scale", "smoke", "--seeds", "0-2", "--set",
                     'world={"preset": "default"}', "--no-progress"], tmp_path)
    assert other.returncode == 2 and len(other.stderr.strip().splitlines()) == 1
    assert "would change or drop runs" in other.stderr and (out / "manifest.json").read_text() == before

    (tmp_path / "noise_study.toml").unlink()  # the report reads the document the manifest keeps
    (out / "report.md").unlink()
    report = console(["report", str(out)], REPO)
    assert report.returncode == 0, report.stderr
    assert "## input_noise = 0.2" in (out / "report.md").read_text()


MY_EXPERIMENT = '''
from types import SimpleNamespace

from tradeoff_gym.benchmarks.analysis import CostSweepAnalysis
from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list

ANALYSIS = CostSweepAnalysis(name="mine", title="mine")


def runs(settings):
    return [RunSpec(f"mine/c{cost:g}/{agent}/{seed}", "tradeoff/LearningCurves-v0", agent, seed,
                    env_kwargs={"cost": cost, "horizon": settings["horizon"]}, tags={"cost": cost})
            for cost in settings["costs"] for agent in settings["agents"] for seed in seed_list(settings)]


MINE = SimpleNamespace(DESCRIPTION="my own", SCALES={"tiny": {"seeds": 2, "costs": [0.1, 0.4], "horizon": 30,
                                                               "agents": ["serial", "parallel"]}},
                       SCORE=ANALYSIS.score_text, runs=runs, analyze=ANALYSIS.analyze, score=ANALYSIS.score,
                       score_runs=ANALYSIS.score_runs)
NOT_ONE = SimpleNamespace(DESCRIPTION="lacks the rest")
'''


def test_a_python_experiment_runs_resumes_and_reports_by_module_and_name(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_experiment.py").write_text(MY_EXPERIMENT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["run", "my_experiment:MINE", "--jobs", "1", "--no-progress"]) == 0
    out = tmp_path / "results" / "my_experiment.MINE-tiny"  # the only scale is the default
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["experiment"] == "my_experiment:MINE" and len(manifest["runs"]) == 8
    assert "# my_experiment:MINE — my own" in (out / "report.md").read_text()
    assert main(["run", "my_experiment:MINE", "--seeds", "3", "--jobs", "1", "--no-progress"]) == 0
    assert "4 runs done, 8 already complete" in capsys.readouterr().out
    assert "lacks SCALES, runs, analyze, score" in refused(["run", "my_experiment:NOT_ONE"], capsys)
    assert "has no 'MISSING'" in refused(["run", "my_experiment:MISSING"], capsys)
    assert "cannot import experiment module 'no_such_module'" in refused(["run", "no_such_module:X"], capsys)
    name, experiment, document = resolve_experiment("my_experiment:MINE")
    assert (name, document) == ("my_experiment:MINE", None) and experiment.DESCRIPTION == "my own"
    assert main(["show", "my_experiment:MINE"]) == 0 and "tiny" in capsys.readouterr().out


def test_the_python_example_experiment_runs_from_its_folder(tmp_path):
    shutil.copy(REPO / "examples" / "my_experiment.py", tmp_path)
    done = console(["run", "my_experiment:HORIZONS", "--scale", "smoke", "--jobs", "1", "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "results" / "my_experiment.HORIZONS-smoke" / "report.md").read_text()
    assert "## Scoreboard" in report and "cost=0.5, horizon=300" in report
    elsewhere = console(["report", str(tmp_path / "results" / "my_experiment.HORIZONS-smoke")], REPO)
    assert elsewhere.returncode == 2 and "cannot import experiment module 'my_experiment'" in elsewhere.stderr


# -------------------------------------------------------------------------------------------------- scores of parts
def test_join_conditions_puts_parts_side_by_side_on_the_seeds_all_parts_have():
    a = RunScores({"x": np.array([[1.0, 2.0], [3.0, 4.0]]), "y": np.array([[5.0, 6.0]])}, ["c=0", "c=1"],
                  {"x": [0, 1], "y": [0]})
    b = RunScores({"x": np.array([[7.0], [8.0], [9.0]]), "y": np.array([[10.0]])}, ["c=0"], {"x": [2, 1, 0],
                                                                                                 "y": [0]}, {"y": 1})
    joined = join_conditions([("n = 0", a), ("n = 0.2", b), ("n = 0.4", None)])
    assert joined.conditions == ["n = 0, c=0", "n = 0, c=1", "n = 0.2, c=0"]
    np.testing.assert_array_equal(joined.scores["x"], [[1.0, 2.0, 9.0], [3.0, 4.0, 8.0]])
    np.testing.assert_array_equal(joined.scores["y"], [[5.0, 6.0, 10.0]])
    assert joined.seeds == {"x": [0, 1], "y": [0]}
    assert joined.dropped == {"x": 1}  # seed 2 only in one part; y: one part dropped a seed, the other did not
    assert join_conditions([("a", None)]) is None


# -------------------------------------------------------------------------------------------------- world families
FAMILY = """
env = "tradeoff/LearningCurves-v0"
family = "lc-balanced"
worlds = "0-2"
seeds = [1000]
agents = ["serial", "parallel", "ucb1"]
"""


def test_a_family_sweep_plays_each_named_world_with_its_own_cost(tmp_path):
    from tradeoff_gym.envs.families import get_family, world_settings

    experiment = load_sweep_file(write(tmp_path, FAMILY))
    specs = plan_runs(experiment, experiment_settings(experiment, "default"))
    assert len(specs) == 3 * 3 and {s.env_kwargs["world"] for s in specs} == {0, 1, 2}
    for spec in specs:
        assert spec.env_kwargs["family"] == "lc-balanced" and "cost" not in spec.env_kwargs  # the world sets it
        assert spec.tags["world"] == spec.env_kwargs["world"]
        assert spec.tags["cost"] == world_settings("lc-balanced", spec.env_kwargs["world"])["cost"]
        assert spec.run_id.startswith(f"study/w{spec.env_kwargs['world']}/c")
    test_split = get_family("lc-balanced").test
    args = cli.build_parser().parse_args(["run", str(tmp_path / "study.toml"), "--worlds", "test",
                                          "--out", str(tmp_path / "out")])
    specs, manifest, _ = cli._prepare(args)
    assert manifest["settings"]["worlds"] == "test"
    assert sorted({s.env_kwargs["world"] for s in specs}) == sorted(test_split)


def test_a_family_sweep_is_scored_per_world_and_cost_never_pooling_worlds(tmp_path, capsys):
    path = write(tmp_path, FAMILY.replace('"0-2"', '"0-1"'))
    assert main(["run", str(path), "--jobs", "1", "--no-progress", "--out", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| cost | world | agent | reward_rate |" in report  # the table splits by world
    columns = json.loads((tmp_path / "out" / "scores_columns.json").read_text())["conditions"]
    assert len(columns) == 2 and all("world=" in c for c in columns)
    assert "--worlds: fig5 has no world family" in refused(["run", "fig5", "--worlds", "test"], capsys)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (FAMILY + "costs = [0.1]\n", "set their own cost; leave costs out"),
        (FAMILY.replace('family = "lc-balanced"', 'family = "nope"'), "unknown family 'nope'"),
        (FAMILY.replace('family = "lc-balanced"', 'family = "sp-mixed"'), "is a family of tradeoff/SerialParallel-v0"),
        (FAMILY.replace('worlds = "0-2"', 'worlds = "0-99999"'), "world must be in"),
        (FAMILY.replace('worlds = "0-2"', 'worlds = "sometimes"'), "worlds must be"),
        (FAMILY.replace('worlds = "0-2"\n', ""), "family and worlds come together"),
        (FAMILY + "[world]\nworld = 3\n", "name the worlds with family"),
        (FAMILY + "[grid]\nworld = [1, 2]\n", "family = … and worlds = … name"),
    ],
)
def test_a_bad_family_is_one_line(text, message, tmp_path, capsys):
    path = write(tmp_path, text)
    assert message in refused(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert not (tmp_path / "out").exists()


def test_a_serial_parallel_family_sweep_takes_the_sweeps_costs(tmp_path):
    path = write(tmp_path, FAMILY.replace("LearningCurves", "SerialParallel").replace("lc-balanced", "sp-mixed")
                 + "costs = [0.1, 0.5]\nhorizon = 20\n")
    experiment = load_sweep_file(path)
    specs = plan_runs(experiment, experiment_settings(experiment, "default"))
    assert len(specs) == 3 * 2 * 3 and {s.env_kwargs["cost"] for s in specs} == {0.1, 0.5}
    assert all(s.env_kwargs["family"] == "sp-mixed" and s.env_kwargs["horizon"] == 20 for s in specs)
