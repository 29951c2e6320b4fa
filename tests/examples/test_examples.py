"""Every example runs at its tiny scale, as a new user would run it (a fresh process in an empty folder).

Each script is run with ``TRADEOFF_EXAMPLES_TINY=1`` from a temporary working directory and must exit 0 and
produce what it says; the notebook is executed by nbclient on a kernel of this interpreter.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: Scripts a user runs (my_agents.py is a module agent_in_sweep.py uses; my_experiment.py and noise_study.toml are an
#: experiment module and a sweep file the CLI runs: tests/benchmarks/test_sweep_file.py runs both).
SCRIPTS = ("own_agent.py", "agent_in_sweep.py", "custom_world.py", "sb3_policy.py", "read_results.py")
SCRIPT_TIMEOUT_S = 120


def run_example(script: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python examples/<script> <args>`` at the tiny scale from ``cwd``; fails the test on a non-zero exit."""
    env = {**os.environ, "TRADEOFF_EXAMPLES_TINY": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=SCRIPT_TIMEOUT_S)
    assert done.returncode == 0, f"{script} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_every_example_is_tested_and_says_what_it_shows_and_how_to_run_it():
    assert sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in ("my_agents.py", "my_experiment.py")) == \
        sorted(SCRIPTS)
    for script in SCRIPTS:
        text = (EXAMPLES / script).read_text()
        assert text.startswith('"""') and "What it shows" in text and "Run it" in text, script
        assert f"python examples/{script}" in text and "--tiny" in text, script
    assert (EXAMPLES / "quickstart.ipynb").is_file()


def test_own_agent(tmp_path):
    out = run_example("own_agent.py", tmp_path).stdout
    assert "plain loop: 100 trials" in out
    assert "explore-then-commit" in out and "ucb1" in out and "serial" in out


def test_custom_world(tmp_path):
    out = run_example("custom_world.py", tmp_path).stdout
    assert "strategies ('serial', 'pairs', 'parallel')" in out
    for agent in ("oracle", "ucb1", "cure-ucb", "meta-learner", "navigator", "random"):
        assert agent in out


def test_read_results_makes_a_small_results_dir_and_reads_it(tmp_path):
    out = run_example("read_results.py", tmp_path).stdout
    results = tmp_path / "results" / "read-example"
    assert (results / "manifest.json").is_file() and (results / "results.parquet").is_file()
    assert "results.parquet: 3000 rows" in out and "session 0" in out and "serial share over the episode" in out
    again = run_example("read_results.py", tmp_path, str(results)).stdout  # an existing directory, read only
    assert "$ tradeoff-bench" not in again and "results.parquet: 3000 rows" in again


@pytest.mark.slow
def test_agent_in_sweep_runs_the_cli_with_a_module_agent_and_resumes(tmp_path):
    out = run_example("agent_in_sweep.py", tmp_path).stdout
    results = tmp_path / "results" / "my-agent-sweep"  # relative to where the script was run
    report = (results / "report.md").read_text()
    assert "| greedy-ema |" in report and "## Provenance" in report  # the class's own name labels its runs
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["settings"]["agents"] == ["my_agents:GreedyEMA", "ucb1", "serial", "parallel"]
    assert len(manifest["sessions"]) == 2  # the second command resumed
    assert "4 runs done" in out and "0 runs done, 4 already complete" in out and "| greedy-ema |" in out


@pytest.mark.slow
def test_sb3_policy_trains_plays_and_saves(tmp_path):
    out = run_example("sb3_policy.py", tmp_path, "--out", str(tmp_path / "policy")).stdout
    assert "trained PPO for 400 timesteps" in out and "ppo" in out
    assert (tmp_path / "policy" / "ppo.zip").is_file() and (tmp_path / "policy" / "ppo.zip.json").is_file()
    assert "loads the saved policy" in out


@pytest.fixture()
def kernel_of_this_interpreter(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernel spec running ``sys.executable`` first on Jupyter's search path (a fresh machine may
    have no spec, or a user's spec for another Python); Jupyter's and IPython's files go to ``tmp_path``."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tradeoff-gym tests)", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return "python3"


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path, kernel_of_this_interpreter):
    import nbclient  # the examples extra (make setup installs it): a missing one fails here, never skips
    import nbformat
    work = tmp_path / "work"
    work.mkdir()
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=90, kernel_name=kernel_of_this_interpreter,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook draws its plot"
    assert (work / "results" / "quickstart" / "report.md").is_file()
    assert "8 runs done" in "".join(o.get("text", "") for o in outputs)
