"""Aggregate statistics with stratified bootstrap CIs: hand-computed values, CI behaviour, rliable's definitions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks import stats
from tradeoff_gym.benchmarks.analysis import normalised_score, normalised_score_runs, statistics_lines
from tradeoff_gym.benchmarks.cli import main

# ------------------------------------------------------------------------------------------------- hand-computed values


def test_iqm_of_a_known_array_is_the_mean_of_its_middle_half():
    scores = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 100.0]])  # 8 scores: trim 2 each end
    assert stats.aggregate_iqm(scores) == pytest.approx((3 + 4 + 5 + 6) / 4)


def test_mean_and_median_are_over_per_task_means():
    scores = np.array([[0.0, 1.0, 10.0], [2.0, 3.0, 20.0]])  # task means 1, 2, 15
    assert stats.aggregate_mean(scores) == pytest.approx(6.0)
    assert stats.aggregate_median(scores) == pytest.approx(2.0)


def test_optimality_gap_counts_only_the_shortfall_below_gamma():
    scores = np.array([[0.5, 1.5], [1.0, 0.0]])  # shortfalls 0.5, 0, 0, 1
    assert stats.optimality_gap(scores) == pytest.approx(1.5 / 4)
    assert stats.optimality_gap(scores, gamma=2.0) == pytest.approx((1.5 + 0.5 + 1 + 2) / 4)


def test_probability_of_improvement_counts_ties_as_half():
    x = np.array([[1.0, 5.0], [2.0, 5.0]])
    y = np.array([[1.0, 5.0], [0.0, 5.0], [3.0, 5.0]])
    # task 0: pairs (x, y) of {1, 2} × {1, 0, 3}: 1>0, 2>1, 2>0 win; 1=1 ties; → (3 + 0.5) / 6. task 1: all tie → 0.5
    assert stats.probability_of_improvement(x, y) == pytest.approx((3.5 / 6 + 0.5) / 2)
    assert stats.probability_of_improvement(x, y) + stats.probability_of_improvement(y, x) == pytest.approx(1.0)
    assert stats.probability_of_improvement(y, y) == pytest.approx(0.5)


def test_performance_profile_is_the_fraction_of_scores_above_tau():
    scores = np.array([[0.0, 0.5], [1.0, 1.5]])
    profile = stats.score_distribution(scores, np.array([-1.0, 0.0, 0.5, 1.2, 2.0]))
    np.testing.assert_allclose(profile, [1.0, 0.75, 0.5, 0.25, 0.0])  # strictly above τ


def test_bad_scores_are_refused_with_a_message():
    with pytest.raises(ValueError, match="n_runs, n_tasks"):
        stats.aggregate_iqm(np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        stats.aggregate_iqm(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="same number of tasks"):
        stats.aggregate_estimates({"a": np.ones((2, 3)), "b": np.ones((2, 2))}, reps=10)
    with pytest.raises(ValueError, match="reps"):
        stats.aggregate_estimates({"a": np.ones((2, 3))}, reps=0)


# ------------------------------------------------------------------------------------------------- confidence intervals


def _scores(runs: int, tasks: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(1.0, 0.3, size=(runs, tasks))


def test_intervals_contain_the_point_estimate_and_are_deterministic_given_the_seed():
    scores = {"a": _scores(8), "b": _scores(6, seed=1)}
    first = stats.aggregate_estimates(scores, reps=500, seed=3)
    again = stats.aggregate_estimates(dict(reversed(scores.items())), reps=500, seed=3)  # order does not matter
    assert first == again
    for agent in scores:
        for name in stats.AGGREGATES:
            estimate = first[agent][name]
            assert estimate.low <= estimate.value <= estimate.high, (agent, name, estimate)
    other = stats.aggregate_estimates(scores, reps=500, seed=4)
    assert other["a"]["mean"].value == first["a"]["mean"].value
    assert other["a"]["mean"].low != first["a"]["mean"].low
    pairs = stats.improvement_estimates(scores, reps=300, seed=3)
    assert pairs == stats.improvement_estimates(scores, reps=300, seed=3)
    assert set(pairs) == {("a", "b"), ("b", "a")}
    for estimate in pairs.values():
        assert 0 <= estimate.low <= estimate.value <= estimate.high <= 1


def test_the_global_random_state_is_neither_used_nor_changed():
    saved = np.random.get_state()  # noqa: NPY002 - this test is about the legacy global state
    try:
        np.random.seed(123)  # noqa: NPY002
        before = np.random.get_state()[1].copy()  # noqa: NPY002
        first = stats.aggregate_estimates({"a": _scores(5)}, reps=200, seed=0)
        assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
        np.random.seed(999)  # noqa: NPY002
        assert stats.aggregate_estimates({"a": _scores(5)}, reps=200, seed=0) == first
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def test_intervals_narrow_with_more_runs():
    few = stats.aggregate_estimates({"a": _scores(5)}, reps=1000)["a"]
    many = stats.aggregate_estimates({"a": _scores(80)}, reps=1000)["a"]
    for name in stats.AGGREGATES:
        assert many[name].high - many[name].low < few[name].high - few[name].low, name


def test_resamples_never_mix_tasks():
    scores = np.arange(5)[:, None] * 10.0 + np.arange(3)[None, :]  # score = 10·run + task: the task is its last digit
    indices = stats.stratified_indices(5, 3, 200, np.random.default_rng(0))
    resampled = stats.resample(scores, indices)
    assert resampled.shape == (200, 5, 3)
    np.testing.assert_array_equal(resampled % 10, np.broadcast_to(np.arange(3), resampled.shape))
    seen = {int(v) // 10 for v in resampled[:, :, 0].ravel()}
    assert seen == set(range(5))  # runs are drawn with replacement from every run of the task


def test_improvement_intervals_are_those_of_resampling_each_agent_within_each_task():
    rng = np.random.default_rng(5)
    x, y = np.round(rng.normal(size=(5, 3)), 1), np.round(rng.normal(size=(4, 3)), 1)  # ties likely
    draw = stats.rng_for(0, "x > y")  # the pair's stream: x's indices, then y's
    xs = stats.resample(x, stats.stratified_indices(5, 3, 300, draw))
    ys = stats.resample(y, stats.stratified_indices(4, 3, 300, draw))
    direct = [stats.probability_of_improvement(a, b) for a, b in zip(xs, ys)]
    low, high = stats.percentile_interval(np.array(direct))
    estimate = stats.improvement_estimates({"x": x, "y": y}, [("x", "y")], reps=300, seed=0)[("x", "y")]
    assert estimate == pytest.approx((stats.probability_of_improvement(x, y), low, high))
    mirrored = stats.improvement_estimates({"x": x, "y": y}, reps=300, seed=0)
    assert mirrored[("y", "x")] == pytest.approx((1 - estimate.value, 1 - estimate.high, 1 - estimate.low))


def test_a_single_run_has_a_zero_width_interval():
    estimate = stats.aggregate_estimates({"a": np.array([[0.2, 0.9, 1.1]])}, reps=50)["a"]["iqm"]
    assert estimate.low == estimate.value == estimate.high


def test_performance_profiles_carry_pointwise_intervals():
    taus = np.linspace(0, 2, 21)
    profiles = stats.performance_profiles({"a": _scores(10)}, taus, reps=300)
    profile = profiles["a"]
    assert profile.value.shape == profile.low.shape == profile.high.shape == taus.shape
    assert np.all(profile.low <= profile.value + 1e-12) and np.all(profile.value <= profile.high + 1e-12)
    assert np.all(np.diff(profile.value) <= 0)  # a survival function of τ


# ------------------------------------------------------------------------------------------------- rliable's own code


def test_point_estimates_match_rliable():
    metrics = pytest.importorskip("rliable.metrics")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(7, 5))
    y = np.round(rng.normal(size=(4, 5)), 1)
    y[:, 2] = x[:4, 2]  # some ties
    assert stats.aggregate_mean(x) == pytest.approx(metrics.aggregate_mean(x))
    assert stats.aggregate_median(x) == pytest.approx(metrics.aggregate_median(x))
    assert stats.aggregate_iqm(x) == pytest.approx(metrics.aggregate_iqm(x))
    assert stats.optimality_gap(x) == pytest.approx(metrics.aggregate_optimality_gap(x))
    assert stats.optimality_gap(x, 0.5) == pytest.approx(metrics.aggregate_optimality_gap(x, 0.5))
    assert stats.probability_of_improvement(x, y) == pytest.approx(metrics.probability_of_improvement(x, y))
    assert stats.probability_of_improvement(y, y) == pytest.approx(metrics.probability_of_improvement(y, y))
    try:  # rliable.library needs the `arch` package, which fails to import with some pandas versions
        from rliable import library
    except Exception as error:  # noqa: BLE001 - any import failure of the optional library
        pytest.skip(f"rliable.library does not import here: {type(error).__name__}: {error}")
    taus = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(stats.score_distribution(x, taus), library.score_distributions(x, taus))


# ------------------------------------------------------------------------------------------------- the report


def _frame(rates: dict[tuple[str, float, int], float], trials: int = 3) -> pd.DataFrame:
    """A cost-sweep frame: per (agent, cost, seed), ``trials`` rows whose reward is the given reward rate."""
    rows = [{"run_id": f"c{cost}/{agent}/{seed}", "env_id": "E", "agent": agent, "seed": seed, "trial": trial,
             "strategy": agent, "serial": agent == "serial", "reward": rate, "raw_accuracy": rate, "cost": cost}
            for (agent, cost, seed), rate in rates.items() for trial in range(trials)]
    return pd.DataFrame(rows)


#: Best fixed: serial at c = 0, parallel at c = 1 (per seed the same agent, so the ratios are easy to check).
RATES = {
    ("serial", 0.0, 0): 1.0, ("parallel", 0.0, 0): 0.5, ("agent", 0.0, 0): 0.5,
    ("serial", 1.0, 0): 0.4, ("parallel", 1.0, 0): 0.8, ("agent", 1.0, 0): 0.8,
    ("serial", 0.0, 1): 0.8, ("parallel", 0.0, 1): 0.4, ("agent", 0.0, 1): 0.8,
    ("serial", 1.0, 1): 0.5, ("parallel", 1.0, 1): 1.0, ("agent", 1.0, 1): 0.5,
}


def test_normalised_score_runs_are_the_scoreboard_ratios_in_score_dict_layout():
    frame = _frame(RATES)
    run_scores = normalised_score_runs(frame, ["cost"])
    assert run_scores.conditions == ["cost=0", "cost=1"]
    assert run_scores.seeds == {"agent": [0, 1], "parallel": [0, 1], "serial": [0, 1]}
    np.testing.assert_allclose(run_scores.scores["agent"], [[0.5, 1.0], [1.0, 0.5]])
    np.testing.assert_allclose(run_scores.scores["serial"], [[1.0, 0.5], [1.0, 0.5]])
    # the scoreboard's score is the mean over seeds of the per-seed mean over conditions
    board = normalised_score(frame, ["cost"]).set_index("agent").score
    for agent, matrix in run_scores.scores.items():
        assert stats.aggregate_mean(matrix) == pytest.approx(board[agent])


def test_a_seed_missing_a_condition_is_left_out_and_counted():
    rates = {**RATES, ("agent", 0.0, 2): 0.9}  # seed 2 of agent has no c = 1 run
    run_scores = normalised_score_runs(_frame(rates), ["cost"])
    assert run_scores.scores["agent"].shape == (2, 2) and run_scores.dropped == {"agent": 1}


def test_statistics_lines_show_aggregates_improvement_and_the_small_n_note(tmp_path):
    lines = statistics_lines(normalised_score_runs(_frame(RATES), ["cost"]), tmp_path)
    text = "\n".join(lines)
    assert "## Aggregate statistics" in text and "n = 2 seeds: these intervals say little" in text
    assert "| agent | seeds | mean [95 % CI] | median [95 % CI] | IQM [95 % CI] | optimality gap [95 % CI] |" in text
    assert "| P(row > column) |" in text  # three agents: the full matrix
    assert (tmp_path / "performance_profile.png").stat().st_size > 5_000
    assert statistics_lines(None, tmp_path) == []


@pytest.mark.slow
def test_a_report_exports_scores_in_rliable_layout(tmp_path):
    out = tmp_path / "sweep"
    assert main(["run", "sagiv2018", "--scale", "smoke", "--seeds", "2", "--agents", "serial,parallel,random",
                 "--jobs", "1", "--no-progress", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "## Aggregate statistics" in report and "n = 2 seeds: these intervals say little" in report
    columns = json.loads((out / "scores_columns.json").read_text())
    with np.load(out / "scores.npz") as scores:
        assert set(scores.files) == {"serial", "parallel", "random"}
        assert all(scores[name].shape == (2, len(columns["conditions"])) for name in scores.files)
