"""Every discovered experiment runs end to end at its smoke scale through the CLI and writes its report."""

import re

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.analysis import SCORE_COLUMNS
from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiments import experiment_names, load_experiment


def test_experiments_are_discovered_with_their_scales():
    names = experiment_names()
    assert {"fig5", "fig4_parallel_fraction", "fig3_overlap", "sagiv2018"} <= set(names)
    assert "fig5_noisy" not in names  # fig5 on the noisy preset (tests/benchmarks/test_cli.py)
    for name in names:
        assert {"smoke", "quick", "paper"} <= set(load_experiment(name).SCALES), name


@pytest.mark.slow
@pytest.mark.parametrize("name", experiment_names())
def test_experiment_smoke_scale_writes_a_complete_report(name, tmp_path):
    assert main(["run", name, "--scale", "smoke", "--jobs", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "failed: 0" in report and "## " in report
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (tmp_path / figure).stat().st_size > 5_000, figure
    # The scoreboard comes first, and its table is the experiment's score of the results.
    sections = re.findall(r"^## (.+)$", report, flags=re.M)
    assert sections[0] == "Scoreboard", sections
    module = load_experiment(name)
    scores = module.score(pd.read_parquet(tmp_path / "results.parquet"))
    assert list(scores.columns[:5]) == list(SCORE_COLUMNS) and len(scores) > 0
    assert np.isfinite(scores.score).all() and (scores.n >= 1).all()
    ascending = "LOWER is better" in module.SCORE
    assert scores.score.is_monotonic_increasing if ascending else scores.score.is_monotonic_decreasing
    assert module.SCORE in report
    condition = f"| {scores.label.iloc[0]} " if "label" in scores.columns else ""
    assert f"{condition}| {scores.agent.iloc[0]} | {scores.score.iloc[0]:.3f} |" in report
