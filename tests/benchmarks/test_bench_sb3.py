"""The SB3 report script runs end to end on a tiny budget and writes its table, figure and episode file."""

import pandas as pd
import pytest

from tradeoff_gym.benchmarks.scripts.bench_sb3 import main


@pytest.mark.slow
def test_bench_sb3_writes_report_figure_and_episodes(tmp_path) -> None:
    out = tmp_path / "sb3"
    argv = ["--out", str(out), "--timesteps", "200", "--n-envs", "1", "--horizon", "30", "--seeds", "2"]
    main([*argv, "--costs", "0", "1", "--agents", "ucb1"])
    episodes = pd.read_csv(out / "episodes.csv")
    assert set(episodes.agent) == {"sb3-ppo", "ucb1", "serial", "parallel", "oracle"}
    assert len(episodes) == 5 * 2 * 2
    assert (episodes[episodes.agent == "oracle"].fraction_of_oracle == 1.0).all()
    report = (out / "report.md").read_text()
    assert "| sb3-ppo | 1 |" in report and "wall time" in report
    assert (out / "sb3_vs_oracle.png").stat().st_size > 10_000 and (out / "policy.zip").is_file()
