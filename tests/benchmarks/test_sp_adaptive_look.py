"""The adaptive-look study: its fixed class replays the frontier's rules exactly; train worlds only."""

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.agents.coupled_look import look_switches
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
def test_the_sequential_class_holds_both_single_looks_and_looks_again_in_between(played, capsys):
    out, _ = played
    data = sp_adaptive_look.episodes("sp-mixed", [0, 1], [0, 1], LOOKS, RECENT, HORIZON, out)
    classes = sp_adaptive_look.rule_classes(data, LOOKS, sequential=True)
    names, values = classes["sequential"]
    fixed_names, fixed = classes["fixed"]
    assert "sequential" not in sp_adaptive_look.rule_classes(data, LOOKS)
    # t0 = t1: never looks again, so it is the single look at the first T
    np.testing.assert_array_equal(values[names.index("look 10: switch ≥ 0.9, stay < 0.9; else look 20, t 0.7")],
                                  fixed[fixed_names.index("look 10, t 0.9")])
    # between t0 and t1 the second look decides, from the last T's schedules
    ratio = data["look10"] / data["level10"]
    rule = values[names.index("look 10: switch ≥ 0.9, stay < 0.55; else look 20, t 0.9")]
    switch, stay = ratio >= 0.9, ratio < 0.55
    again = ~switch & ~stay
    assert switch.any() and stay.any() and again.any()  # every branch is taken in these episodes
    late = fixed[fixed_names.index("look 20, t 0.9")]
    np.testing.assert_array_equal(rule[again], late[again])
    np.testing.assert_array_equal(rule[switch], data["switch10"][switch])
    np.testing.assert_array_equal(rule[stay], data["stay10"][stay])
    assert sp_adaptive_look.main(["--worlds", "0,1", "--looks", "10,20", "--recent", str(RECENT), "--horizon",
                                  str(HORIZON), "--out", str(out), "--sequential"]) == 0
    assert "| sequential | 18513 |" in capsys.readouterr().out


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
    (["--worlds", "2,3", "--test", "3"], "outside sp-mixed's test split"),
])
def test_bad_input_exits_2_naming_it(argv, match, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        sp_adaptive_look.main([*argv, "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert match in capsys.readouterr().err


def test_the_bayesian_look_switches_where_the_posterior_expects_serial_to_pay_more():
    # one surrogate whose serial rest pays twice parallel's: serial is better iff c < 1
    component = {"before": np.full(50, 0.5), "look": 0.8, "serial_rest": 2000.0, "parallel_rest": 1000.0,
                 "per_trial": 1.0 / 128}
    before = np.full((3, 50), 0.5)
    looks = np.array([0.8 / 1.1, 0.8 / 1.9, 0.8 / 2.2])  # the look's reward at c = 0.1, 0.9, 1.2
    switched = look_switches(before, looks, [component], 0.03, 0.02)
    assert switched.tolist() == [True, True, False]
    # two surrogates: the parallel rewards say which one it is, and that one's verdict wins
    serial_world = dict(component, before=np.full(50, 0.3))
    parallel_world = dict(component, before=np.full(50, 0.7), serial_rest=500.0)
    for level, expected in ((0.3, True), (0.7, False)):
        verdict = look_switches(np.full((1, 50), level), np.array([0.8 / 1.1]),
                                                  [serial_world, parallel_world], 0.03, 0.5)
        assert verdict.tolist() == [expected]


@pytest.mark.slow
def test_the_bayes_class_runs_on_the_shipped_surrogates(played, capsys):
    out, _ = played
    assert sp_adaptive_look.main(["--worlds", "0,1", "--looks", "10,20", "--recent", str(RECENT),
                                  "--horizon", str(HORIZON), "--out", str(out), "--bayes"]) == 0
    assert "| bayes | 18 |" in capsys.readouterr().out
