"""bench_suite projects a scale's cost from a finished sweep, per trial or, for episodes that end on a criterion,
per episode."""

import json
import re

from tradeoff_gym.benchmarks.cli import main as cli
from tradeoff_gym.benchmarks.scripts import bench_suite


def _projected_seconds(text: str) -> float:
    return float(re.search(r"([0-9.]+) s \([0-9.]+ h\) of worker time", text).group(1))


def test_episodes_without_a_horizon_are_projected_per_episode(tmp_path, capsys):
    out = tmp_path / "seq"
    assert cli(["run", "seq_tasks", "--scale", "smoke", "--jobs", "1", "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    bench_suite.main([str(out), "--scale", "paper", "--jobs", "2"])
    text = capsys.readouterr().out
    assert "30 runs in 30 episodes" in text
    assert "30 episodes without a fixed horizon" in text
    per_episode = float(re.search(r"([0-9.]+) s per episode", text).group(1))
    assert per_episode > 0
    # 30 episodes at the smoke stream's measured seconds per episode (printed to 0.1 s)
    assert abs(_projected_seconds(text) - 30 * per_episode) <= 30 * 0.05 + 0.1


def test_fixed_horizon_episodes_are_projected_per_trial(tmp_path, capsys):
    out = tmp_path / "fig5"
    assert cli(["run", "fig5", "--scale", "smoke", "--agents", "serial,parallel", "--jobs", "1", "--no-progress",
                "--out", str(out)]) == 0
    capsys.readouterr()
    bench_suite.main([str(out), "--scale", "smoke", "--jobs", "1"])
    text = capsys.readouterr().out
    assert "without a fixed horizon" not in text
    assert "ms per trial" in text


def test_episodes_are_costed_per_condition_replications_pooled(tmp_path):
    # two conditions of one agent (colour, texture streams), two replications each: per-episode costs per condition
    runs = tmp_path / "runs"
    runs.mkdir()
    for i, (dimension, seconds) in enumerate([("colour", 100.0), ("colour", 120.0), ("texture", 500.0),
                                              ("texture", 700.0)]):
        spec = {"agent": "fixed", "env_kwargs": {"dimension": dimension, "replication": i % 2}}
        (runs / f"r{i}.json").write_text(json.dumps({"spec": spec, "seconds": seconds, "rows": 10}))

    class Store:
        runs_dir = runs

    per_trial, per_episode, per_condition = bench_suite.measured_costs(Store())
    assert per_episode == {"fixed": 355.0}
    assert per_condition[bench_suite.condition("fixed", {"dimension": "colour", "replication": 7})] == 110.0
    assert per_condition[bench_suite.condition("fixed", {"dimension": "texture"})] == 600.0
    assert per_trial == {"fixed": 1420.0 / 40}
