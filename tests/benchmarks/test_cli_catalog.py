"""``tradeoff-bench list --agents`` and ``tradeoff-bench show EXPERIMENT``, through the console script."""

import json
import subprocess
import sys
from pathlib import Path

from tradeoff_gym.agents.registry import agent_names
from tradeoff_gym.benchmarks.experiments import load_experiment

SCRIPT = Path(sys.executable).parent / "tradeoff-bench"


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_list_agents_names_every_registered_agent_with_description_and_hyperparameters(tmp_path):
    result = bench("list", "--agents", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    starts = {line.split()[0]: i for i, line in enumerate(lines) if line and not line.startswith(" ")}
    assert set(starts) == set(agent_names())
    for name, i in starts.items():
        assert len(lines[i].split(None, 1)) == 2, f"{name} has no description"
        assert lines[i + 1].strip().startswith("hyperparameters: ") or "cannot be loaded" in lines[i]
    assert "exploration=1.0" in lines[starts["ucb1"] + 1]
    assert "window=200, exploration=1.0" in lines[starts["sw-ucb"] + 1]
    assert "strategy='parallel'" in lines[starts["parallel"] + 1]  # the registry's default over the class's
    assert "hyperparameters: none" in lines[starts["random"] + 1]
    assert "cost (from the environment)" in lines[starts["sagiv"] + 1]


def test_show_prints_description_scales_and_every_setting_per_scale(tmp_path):
    result = bench("show", "fig5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    module = load_experiment("fig5")
    assert out.startswith(f"fig5 — {module.DESCRIPTION}")
    assert f"scales: {', '.join(module.SCALES)}" in out
    for key in {key for settings in module.SCALES.values() for key in settings}:
        assert f"  {key}:" in out
    for scale, settings in module.SCALES.items():
        assert f"    {scale}:" in out
        assert json.dumps(settings["horizon"]) in out and json.dumps(settings["costs"]) in out
    assert '  preset: "default"  (every scale)' in out


def test_show_an_unknown_experiment_is_a_usage_error(tmp_path):
    result = bench("show", "nope", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "unknown experiment 'nope'" in result.stderr
