"""The crossover study script: c* from paired serial/parallel runs, kept per value, resumable."""

import pandas as pd
import pytest

from tradeoff_gym.benchmarks.scripts.crossover_study import crossover, main, parse_knob


def test_crossover_is_the_ratio_of_mean_raw_accuracies_minus_one():
    frame = pd.DataFrame({
        "agent": ["serial"] * 4 + ["parallel"] * 4, "seed": [0, 0, 1, 1] * 2, "trial": [0, 1] * 4,
        "raw_accuracy": [0.8, 1.0, 0.6, 0.8, 0.5, 0.7, 0.5, 0.5],
    })
    estimate, low, high = crossover(frame)
    assert estimate == pytest.approx(0.8 / 0.55 - 1)  # serial 0.9 and 0.7, parallel 0.6 and 0.5
    assert low <= estimate <= high


def test_the_study_writes_each_value_and_the_table(tmp_path, capsys):
    main(["--knob", "lr=0.0005,0.001", "--seeds", "1", "--horizon", "6", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "crossover.csv", dtype={"value": str})
    assert table.value.tolist() == ["0.0005", "0.001"] and set(table.knob) == {"lr"}
    kept = pd.read_parquet(tmp_path / "lr=0.001_s1_h6.parquet")
    assert len(kept) == 12 and sorted(kept.agent.unique()) == ["parallel", "serial"]
    assert (tmp_path / "crossover_lr.png").stat().st_size > 10_000
    main(["--knob", "lr=0.001", "--seeds", "1", "--horizon", "6", "--out", str(tmp_path)])  # resumes from the file
    assert "lr=0.001: serial" in capsys.readouterr().out and len(pd.read_csv(tmp_path / "crossover.csv")) == 2
    # The same knob in another world: its own files and rows, and c* by value drawn per world.
    main(["--preset", "balanced", "--knob", "lr=0.001", "--seeds", "1", "--horizon", "6", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "crossover.csv", dtype={"value": str})
    assert table[["preset", "value"]].values.tolist() == [["default", "0.0005"], ["default", "0.001"],
                                                          ["balanced", "0.001"]]
    balanced = pd.read_parquet(tmp_path / "balanced-lr=0.001_s1_h6.parquet")
    assert not balanced.raw_accuracy.equals(kept.raw_accuracy)  # another world: other accuracies
    assert (tmp_path / "cstar_by_lr.png").stat().st_size > 10_000


def test_knob_values_parse_as_json_lists_or_bare_words():
    assert parse_knob("lr=0.00025,0.001") == ("lr", [0.00025, 0.001])
    assert parse_knob("hidden_units=[32,32],[64]") == ("hidden_units", [[32, 32], [64]])
    assert parse_knob("task_init=small,high") == ("task_init", ["small", "high"])
    with pytest.raises(SystemExit, match="--knob must be NAME=V1,V2"):
        parse_knob("lr")
