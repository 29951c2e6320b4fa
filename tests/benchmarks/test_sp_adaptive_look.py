"""The adaptive-look study: its fixed class replays the frontier's rules exactly; train worlds only."""

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.scripts import sp_adaptive_look, sp_frontier

LOOKS, HORIZON, RECENT = (10, 20), 40, 5


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    out = tmp_path_factory.mktemp("sp_frontier")
    sp_frontier.main(["--split", "train", "--worlds", "0,1", "--seeds", "2", "--looks", "10,20", "--lengths", "1",
                      "--recent", str(RECENT), "--horizon", str(HORIZON), "--thresholds", "0.5,0.9,1.2",
                      "--out", str(out)])
    return out, pd.read_csv(out / "sp_frontier_sp-mixed.csv")


@pytest.mark.slow
def test_the_fixed_class_replays_the_frontier_rules(played):
    out, frame = played
    data = sp_adaptive_look.episodes("sp-mixed", [0, 1], [0, 1], LOOKS, RECENT, HORIZON, out)
    names, values = sp_adaptive_look.rule_classes(data, LOOKS)["fixed"]
    for at in LOOKS:
        for threshold in (0.5, 0.9, 1.2):
            mine = values[names.index(f"look {at}, t {threshold:g}")].mean()
            theirs = frame[frame.rule == f"probe-{at}+1-{threshold:g}"].normalised.mean()
            assert mine == pytest.approx(theirs, abs=1e-12)
    # a linear rule with slope 0 is the fixed rule of its intercept
    linear_names, linear = sp_adaptive_look.rule_classes(data, LOOKS)["linear"]
    np.testing.assert_array_equal(linear[linear_names.index("look 10, t = 0.9 + 0 level")],
                                  values[names.index("look 10, t 0.9")])


@pytest.mark.slow
def test_leave_one_world_out_scores_each_world_with_the_others_choice(played):
    values = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.6, 0.6, 0.6, 0.6]])
    world = np.array([0, 0, 1, 1])
    # world 0 held out: rule 1 is best on world 1 -> 0; world 1 held out: rule 0 -> 0
    assert sp_adaptive_look.leave_one_world_out(values, world) == 0.0
    out, _ = played
    assert sp_adaptive_look.main(["--worlds", "0,1", "--looks", "10,20", "--recent", str(RECENT),
                                  "--horizon", str(HORIZON), "--out", str(out)]) == 0


@pytest.mark.parametrize("argv, match", [
    (["--worlds", "24"], "outside sp-mixed's train split"),
    (["--worlds", "3"], "at least 2 worlds"),
    (["--worlds", "2,3"], "not played"),
])
def test_bad_input_exits_2_naming_it(argv, match, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        sp_adaptive_look.main([*argv, "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert match in capsys.readouterr().err
