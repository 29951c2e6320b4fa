"""Sequential-stream metrics against hand-computed values on a small synthetic stream."""

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.sequential_metrics import (
    accuracy_after_budget,
    backward_interference,
    forward_facilitation,
    gem_matrix,
    gem_metrics,
    power_law_fit,
    power_law_slopes,
    trials_to_criterion,
)

NAN = np.nan
#: (episode, [accuracy of task 0, 1, 2] per trial, next_accuracy at the episode's end); every trial measured.
EPISODES = [
    (1, [[0.60, NAN, NAN], [0.90, NAN, NAN], [0.96, NAN, NAN]], 0.50),
    (2, [[0.80, 0.55, NAN], [0.90, 0.70, NAN], [0.95, 0.90, NAN], [0.97, 0.96, NAN]], 0.52),
    (3, [[0.97, 0.93, 0.90], [0.98, 0.96, 0.95]], NAN),
]


def synthetic_stream(run_id: str = "r0", examples_per_trial: int = 10) -> pd.DataFrame:
    rows = []
    for episode, trials, next_acc in EPISODES:
        for t, accuracy in enumerate(trials, start=1):
            row = {"run_id": run_id, "stream": 0, "episode": episode, "task_trial": t, "evaluated": 1}
            row |= {f"task_reward_{k}": accuracy[k] for k in range(3)}
            row |= {f"examples_{k}": t * examples_per_trial if k < episode else 0 for k in range(3)}
            row["next_accuracy"] = next_acc
            rows.append(row)
    return pd.DataFrame(rows)


def test_gem_metrics_match_a_hand_computed_matrix():
    R = np.array([[0.9, 0.3, 0.2], [0.7, 0.8, 0.4], [0.6, 0.7, 0.95]])
    got = gem_metrics(R, baseline=np.array([0.1, 0.2, 0.3]))
    # ACC = (.6+.7+.95)/3; BWT = ((.6-.9)+(.7-.8))/2; FWT = ((.3-.2)+(.4-.3))/2
    assert got == pytest.approx({"ACC": 0.75, "BWT": -0.2, "FWT": 0.1})
    assert gem_metrics(np.eye(2), baseline=0.0) == pytest.approx({"ACC": 0.5, "BWT": -1.0, "FWT": 0.0})
    single = gem_metrics(np.array([[0.8]]))
    assert single["ACC"] == 0.8 and np.isnan(single["BWT"]) and np.isnan(single["FWT"])
    with pytest.raises(ValueError, match="square"):
        gem_metrics(np.ones((2, 3)))


def test_gem_matrix_is_read_from_the_episode_ends():
    R = gem_matrix(synthetic_stream())
    expected = np.array([[0.96, 0.50, NAN], [0.97, 0.96, 0.52], [0.98, 0.96, 0.95]])
    np.testing.assert_allclose(R, expected)
    assert gem_metrics(R) == pytest.approx({"ACC": 0.963333333, "BWT": 0.01, "FWT": 0.01})
    with pytest.raises(ValueError, match="one stream"):
        gem_matrix(pd.concat([synthetic_stream("a"), synthetic_stream("b")]))


def test_trials_to_criterion_per_task_and_episode():
    ttc = trials_to_criterion(synthetic_stream(), criterion=0.95).set_index(["episode", "task"])
    assert ttc["trials"].to_dict() == {(1, 0): 3, (2, 0): 3, (2, 1): 4, (3, 0): 1, (3, 1): 2, (3, 2): 2}
    assert ttc["times_trained"].to_dict() == {(1, 0): 1, (2, 0): 2, (2, 1): 1, (3, 0): 3, (3, 1): 2, (3, 2): 1}
    assert ttc["examples"].to_dict()[(2, 1)] == 40 and ttc["reached"].all()
    strict = trials_to_criterion(synthetic_stream(), criterion=0.97).set_index(["episode", "task"])
    assert np.isnan(strict.loc[(3, 2), "trials"]) and not strict.loc[(3, 2), "reached"]
    assert strict.loc[(2, 0), "trials"] == 4
    with pytest.raises(ValueError, match="criterion"):
        trials_to_criterion(synthetic_stream(), criterion=0.0)


def test_unmeasured_rows_do_not_count_toward_criterion():
    frame = synthetic_stream()
    frame.loc[(frame.episode == 1) & (frame.task_trial == 3), "evaluated"] = 0
    ttc = trials_to_criterion(frame).set_index(["episode", "task"])
    assert np.isnan(ttc.loc[(1, 0), "trials"])


def test_forward_facilitation_and_backward_interference():
    ff = forward_facilitation(trials_to_criterion(synthetic_stream())).set_index("episode")
    assert ff["new_trials"].to_dict() == {1: 3, 2: 4, 3: 2}
    np.testing.assert_allclose(ff["facilitation"], [0.0, -1 / 3, 1 / 3])
    bi = backward_interference(synthetic_stream()).set_index("episode")
    assert list(bi.index) == [2, 3]
    # ep 2: task 0 fell from .96 to .80; ep 3: task 0 from .97 to .97, task 1 from .96 to .93.
    np.testing.assert_allclose(bi["forgetting"], [0.16, 0.015])
    np.testing.assert_allclose(bi["retrain_trials"], [3.0, 1.5])
    assert bi["n_old"].tolist() == [1, 2]


def test_accuracy_after_a_fixed_budget():
    two = accuracy_after_budget(synthetic_stream(), budget=2).set_index(["episode", "task"])
    assert two["accuracy"].to_dict() == pytest.approx(
        {(1, 0): 0.90, (2, 0): 0.90, (2, 1): 0.70, (3, 0): 0.98, (3, 1): 0.96, (3, 2): 0.95}
    )
    three = accuracy_after_budget(synthetic_stream(), budget=3).set_index(["episode", "task"])
    assert three.loc[(3, 1), "accuracy"] == 0.96 and not three.loc[(3, 1), "at_budget"]  # ended at criterion first
    assert three.loc[(2, 1), "accuracy"] == 0.90 and three.loc[(2, 1), "at_budget"]
    by_examples = accuracy_after_budget(synthetic_stream(), budget=25, unit="examples").set_index(["episode", "task"])
    assert by_examples.loc[(2, 1), "accuracy"] == 0.90  # 30 examples by trial 3
    with pytest.raises(ValueError, match="unit"):
        accuracy_after_budget(synthetic_stream(), budget=2, unit="epochs")


def test_power_law_fit_recovers_the_exponent_and_its_interval_covers():
    x = np.array([1.0, 2, 4, 8, 16])
    exact = power_law_fit(x, 100 * x**-0.7)
    assert exact["slope"] == pytest.approx(-0.7) and exact["intercept"] == pytest.approx(2.0)
    assert exact["slope_low"] == pytest.approx(-0.7) and exact["r2"] == pytest.approx(1.0) and exact["n"] == 5
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(400):
        y = 100 * x**-0.7 * 10 ** rng.normal(0, 0.1, size=x.size)
        fit = power_law_fit(x, y)
        covered += fit["slope_low"] <= -0.7 <= fit["slope_high"]
    assert 0.91 <= covered / 400 <= 0.99  # a 95 % interval
    dropped = power_law_fit(np.array([0.0, 1, 2, np.nan]), np.array([1.0, 1, 0.5, 3]))
    assert dropped["n"] == 2 and dropped["slope"] == pytest.approx(-1.0) and np.isnan(dropped["slope_low"])


def test_power_law_slopes_per_curve():
    ttc = trials_to_criterion(synthetic_stream())
    by_position = power_law_slopes(ttc, x="times_trained", by="position").set_index("position")
    # Position 1 (task 0): trials 3, 3, 1 at times trained 1, 2, 3.
    expected = power_law_fit(np.array([1, 2, 3]), np.array([3, 3, 1]))["slope"]
    assert by_position.loc[1, "slope"] == pytest.approx(expected)
    assert by_position.loc[3, "n"] == 1 and np.isnan(by_position.loc[3, "slope"])
