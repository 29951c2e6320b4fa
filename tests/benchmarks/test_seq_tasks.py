"""The seq_tasks experiment: its sweeps are well-formed and its smoke scale writes a complete report."""

import numpy as np
import pytest

from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiments import experiment_settings, load_experiment
from tradeoff_gym.envs.sequential import SequentialTasksConfig

EXPERIMENT = load_experiment("seq_tasks")


def test_paper_sweep_is_latin_balanced_streams_over_three_dimensions():
    specs = EXPERIMENT.runs(experiment_settings(EXPERIMENT, "paper"))
    assert len(specs) == 30 and len({s.run_id for s in specs}) == 30
    for spec in specs:
        config = SequentialTasksConfig(**spec.env_kwargs)  # every run's settings are valid
        assert config.episode_scope == "stream" and config.order == "latin" and config.n_tasks == 10
        assert spec.agent_kwargs == {"strategy": "mix"} and spec.tags["regimen"] == "mix"
    for dimension in ("shape", "colour", "texture"):
        reps = sorted(s.env_kwargs["replication"] for s in specs if s.tags["dimension"] == dimension)
        assert reps == list(range(10))  # one full Latin-square block per dimension


def test_every_scale_builds_valid_runs():
    for scale in EXPERIMENT.SCALES:
        specs = EXPERIMENT.runs(experiment_settings(EXPERIMENT, scale))
        assert specs and all(SequentialTasksConfig(**s.env_kwargs) for s in specs)


@pytest.mark.slow
def test_smoke_scale_writes_figures_and_tables(tmp_path):
    assert main(["run", "seq_tasks", "--scale", "smoke", "--jobs", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    for heading in ("Fig 2 (a–f)", "Power-law slopes", "Facilitation and interference", "GEM metrics"):
        assert heading in report
    figure = tmp_path / "figures" / "seq_tasks_fig2_mix.png"
    assert figure.stat().st_size > 20_000
    assert "| ACC |" in report
    acc = float(report.split("| ACC |")[1].split("|")[0])
    assert 0.5 <= acc <= 1.0 and np.isfinite(acc)
