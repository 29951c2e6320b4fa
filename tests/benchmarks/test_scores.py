"""Experiment scores and the report's scoreboard against hand-computed values on tiny synthetic frames."""

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.analysis import (
    SCORE_COLUMNS,
    condition_score,
    cost_sweep_report,
    crossover_cost,
    normalised_score,
    run_summary,
    score_table,
    scoreboard_lines,
)
from tradeoff_gym.benchmarks.experiments import experiment_names, load_experiment

NAN = np.nan


def runs(rates: dict[tuple[str, float, int], float], trials: int = 4, **tags) -> pd.DataFrame:
    """A cost-sweep frame: per (agent, cost, seed), ``trials`` rows whose reward is the given reward rate."""
    rows = []
    for (agent, cost, seed), rate in rates.items():
        for trial in range(trials):
            serial = agent == "serial"
            rows.append({"run_id": f"c{cost}/{agent}/{seed}", "env_id": "E", "agent": agent, "seed": seed,
                         "trial": trial, "strategy": "s" if serial else "p", "serial": serial, "reward": rate,
                         "raw_accuracy": rate, "cost": cost, **tags})
    return pd.DataFrame(rows)


#: Two costs, one seed. Best fixed: serial at c = 0 (1.0 > 0.7), parallel at c = 1 (0.8 > 0.5).
TWO_COSTS = {
    ("serial", 0.0, 0): 1.0, ("parallel", 0.0, 0): 0.7, ("agent", 0.0, 0): 0.5,
    ("serial", 1.0, 0): 0.5, ("parallel", 1.0, 0): 0.8, ("agent", 1.0, 0): 0.64,
}


def test_normalised_score_is_the_mean_over_costs_of_the_ratio_to_the_best_fixed_strategy():
    table = normalised_score(runs(TWO_COSTS), ["cost"])
    assert list(table.columns) == list(SCORE_COLUMNS)
    scores = dict(zip(table.agent, table.score))
    # agent: (0.5/1.0 + 0.64/0.8) / 2 = (0.5 + 0.8) / 2 = 0.65
    # serial: (1.0/1.0 + 0.5/0.8) / 2 = 0.8125; parallel: (0.7/1.0 + 0.8/0.8) / 2 = 0.85
    assert scores == pytest.approx({"agent": 0.65, "serial": 0.8125, "parallel": 0.85})
    assert list(table.agent) == ["parallel", "serial", "agent"]  # best first
    assert (table.n == 1).all() and table.ci_low.isna().all() and table.ci_high.isna().all()  # one seed: no CI


def test_normalised_score_pairs_seeds_and_bootstraps_over_them():
    rates = {("serial", 0.0, 0): 1.0, ("serial", 0.0, 1): 0.8, ("parallel", 0.0, 0): 0.5, ("parallel", 0.0, 1): 0.5,
             ("agent", 0.0, 0): 0.5, ("agent", 0.0, 1): 0.6,
             ("lucky", 0.0, 2): 0.45}  # seed 2 has no fixed run: divided by serial's mean over seeds, 0.9
    table = normalised_score(runs(rates), ["cost"]).set_index("agent")
    assert table.loc["serial", "score"] == pytest.approx(1.0)  # the best fixed strategy scores 1 at every seed
    assert table.loc["serial", ["ci_low", "ci_high"]].tolist() == pytest.approx([1.0, 1.0])
    # agent: per seed 0.5/1.0 = 0.5 and 0.6/0.8 = 0.75 (paired by seed, not 0.55 / 0.9)
    assert table.loc["agent", "score"] == pytest.approx(0.625) and table.loc["agent", "n"] == 2
    assert table.loc["agent", "ci_low"] <= 0.625 <= table.loc["agent", "ci_high"]
    assert table.loc["parallel", "score"] == pytest.approx((0.5 + 0.625) / 2)
    assert table.loc["lucky", "score"] == pytest.approx(0.5)


def test_normalised_score_matches_the_reference_on_every_swept_setting():
    frame = pd.concat([runs({("serial", 0.1, 0): 1.0, ("parallel", 0.1, 0): 0.5, ("agent", 0.1, 0): 0.5}, m=200),
                       runs({("serial", 0.1, 0): 0.4, ("parallel", 0.1, 0): 0.8, ("agent", 0.1, 0): 0.8}, m=600)])
    frame["run_id"] = frame.run_id + "/m" + frame.m.astype(str)
    scores = normalised_score(frame, ["cost", "m"]).set_index("agent").score
    assert scores.to_dict() == pytest.approx({"agent": 0.75, "serial": 0.75, "parallel": 0.75})


def test_normalised_score_uses_the_experiment_reference_list_and_is_empty_without_it():
    frame = runs(TWO_COSTS)
    assert normalised_score(frame, ["cost"], fixed=("agent",)).set_index("agent").score["agent"] == 1.0
    empty = normalised_score(frame[frame.agent == "agent"], ["cost"])
    assert empty.empty and list(empty.columns) == list(SCORE_COLUMNS)


def test_crossover_cost_interpolates_where_serial_and_parallel_pay_the_same():
    costs = (0.0, 0.1, 0.2, 0.5)
    serial_raw = {seed: 0.80 + 0.01 * seed for seed in range(4)}  # paid ÷ (1 + c), as the paper's rule
    rates = {("serial", c, s): raw / (1 + c) for c in costs for s, raw in serial_raw.items()}
    rates |= {("parallel", c, s): 0.70 for c in costs for s in serial_raw}
    estimate, low, high, seeds, grid = crossover_cost(run_summary(runs(rates), ["cost"]))
    mean_raw = np.mean(list(serial_raw.values()))
    at_01, at_02 = mean_raw / 1.1 - 0.7, mean_raw / 1.2 - 0.7  # the mean difference at the costs around c*
    assert estimate == pytest.approx(0.1 + 0.1 * at_01 / (at_01 - at_02), abs=1e-12)  # 0.1663, exact c* 0.164
    assert 0.1 <= low <= estimate <= high <= 0.2 and seeds == 4 and grid == (0.0, 0.5)
    always_serial = {key: rate + 1.0 * (key[0] == "serial") for key, rate in rates.items()}
    assert crossover_cost(run_summary(runs(always_serial), ["cost"]))[0] == np.inf
    no_parallel = {key: rate for key, rate in rates.items() if key[0] == "serial"}
    assert crossover_cost(run_summary(runs(no_parallel), ["cost"])) is None


def test_two_phase_schedules_are_a_reference_not_a_competitor(tmp_path):
    rates = {("serial", c, s): 0.6 for c in (0.0, 1.0) for s in (0, 1)}
    rates |= {("parallel", c, s): 0.5 for c in (0.0, 1.0) for s in (0, 1)}
    rates |= {("ucb1", c, s): 0.55 + 0.1 * c for c in (0.0, 1.0) for s in (0, 1)}
    frame = runs(rates)
    schedules = []
    for (order, switch), rate in {("serial→parallel", 0.2): 0.7, ("serial→parallel", 0.5): 0.65,
                                  ("parallel→serial", 0.2): 0.4}.items():
        for cost in (0.0, 1.0):
            block = runs({("two-phase", cost, s): rate - 0.1 * cost for s in (0, 1)}, phase_order=order,
                         phase_switch=switch)
            schedules.append(block.assign(run_id=block.run_id + f"/{order}@{switch}"))
    frame = pd.concat([frame, *schedules], ignore_index=True)
    items = {item.title: item.text for item in cost_sweep_report(frame, tmp_path, name="t", title="T")}
    text = items["Two-phase schedules: could adapting when to switch pay at all?"]
    lines = [line for line in text.splitlines() if line.startswith("| 0.000") or line.startswith("| 1.000")]
    # best schedule serial→parallel at 0.2: 0.7 at c = 0, 0.6 at c = 1; best fixed 0.6; ucb1 0.55 / 0.65
    assert lines[0] == "| 0.000 | serial→parallel at 0.2τ | 0.700 | 0.600 | 0.100 | 0.150 |"
    assert lines[1] == "| 1.000 | serial→parallel at 0.2τ | 0.600 | 0.600 | 0.000 | -0.050 |"
    assert "two-phase" not in items["Reward rate per agent and cost"]  # not an agent in the tables
    assert "two-phase" not in set(normalised_score(frame, ["cost"]).agent)  # nor in the score


def test_run_summary_counts_serial_trials_by_the_flag_not_the_strategy_name():
    frame = runs({("serial", 0.0, 0): 1.0, ("parallel", 0.0, 0): 1.0})
    frame["strategy"] = "serial"  # a misleading name: only the flag counts
    shares = run_summary(frame).set_index("agent").serial_share
    assert shares.to_dict() == {"serial": 1.0, "parallel": 0.0}
    with pytest.raises(ValueError, match="'serial' column"):
        run_summary(frame.drop(columns="serial"))


def test_condition_score_is_the_mean_raw_accuracy_per_condition():
    rows = [{"run_id": f"o{o}/{s}", "agent": "serial", "overlap": o, "raw_accuracy": acc, "trial": t}
            for o, per_seed in ((0.0, ([0.2, 0.4], [0.4, 0.6])), (1.0, ([0.6, 0.8], [0.8, 1.0])))
            for s, accs in enumerate(per_seed) for t, acc in enumerate(accs)]
    table = condition_score(pd.DataFrame(rows), "overlap", "overlap")
    assert list(table.label) == ["overlap 1", "overlap 0"]  # best first
    assert table.score.tolist() == pytest.approx([0.8, 0.4]) and table.n.tolist() == [2, 2]
    assert table.ci_low.tolist()[0] <= 0.8 <= table.ci_high.tolist()[0]
    assert list(table.columns) == [*SCORE_COLUMNS, "label"]


def test_score_table_sorts_lower_is_better_and_puts_missing_scores_last():
    values = pd.DataFrame({"agent": ["a", "b", "b", "c"], "x": [3.0, 1.0, 2.0, NAN]})
    table = score_table(values, "x", higher_is_better=False)
    assert list(table.agent) == ["b", "a", "c"] and table.score.tolist()[:2] == [1.5, 3.0]
    assert table.n.tolist() == [2, 1, 0] and np.isnan(table.score.iloc[2])
    assert list(score_table(values, "x").agent) == ["a", "b", "c"]


def stream(run_id: str, regimen: str, examples_per_trial: int, reach_last: bool = True) -> pd.DataFrame:
    """A 3-task stream (every trial measured); the new task reaches 0.95 at trials 3, 4 and 2 of episodes 1–3."""
    last = [[0.97, 0.93, 0.90], [0.98, 0.96, 0.95 if reach_last else 0.93]]
    episodes = [(1, [[0.60, NAN, NAN], [0.90, NAN, NAN], [0.96, NAN, NAN]]),
                (2, [[0.80, 0.55, NAN], [0.90, 0.70, NAN], [0.95, 0.90, NAN], [0.97, 0.96, NAN]]),
                (3, last)]
    rows = []
    for episode, trials in episodes:
        for t, accuracy in enumerate(trials, start=1):
            rows.append({"run_id": run_id, "agent": "fixed", "regimen": regimen, "criterion": 0.95,
                         "episode": episode, "task_trial": t, "evaluated": 1,
                         **{f"task_reward_{k}": accuracy[k] for k in range(3)},
                         **{f"examples_{k}": t * examples_per_trial if k < episode else 0 for k in range(3)}})
    return pd.DataFrame(rows)


def test_seq_tasks_score_is_mean_examples_to_criterion_of_new_tasks_lower_first():
    score = load_experiment("seq_tasks").score
    frame = pd.concat([stream("a", "mix", 10), stream("b", "mix", 20), stream("c", "slow", 30)])
    table = score(frame)
    # per stream: mean of (3, 4, 2) trials × examples per trial = 30, 60, 90; mix = (30 + 60) / 2
    assert list(table.label) == ["mix", "slow"] and table.score.tolist() == pytest.approx([45.0, 90.0])
    assert table.n.tolist() == [2, 1]
    # a new task that never reaches criterion counts with its examples when the episode ended (2 × 10)
    censored = score(stream("d", "mix", 10, reach_last=False))
    assert censored.score.tolist() == pytest.approx([(30 + 40 + 20) / 3])


def test_scoreboard_lines_render_the_meaning_and_a_table():
    class Experiment:
        SCORE = "what it means"

        @staticmethod
        def score(frame):
            return normalised_score(frame, ["cost"])

    lines = scoreboard_lines(Experiment, runs(TWO_COSTS))
    assert lines[:4] == ["", "## Scoreboard", "", "what it means"]
    assert "| agent | score | 95 % CI | n |" in lines
    assert "| agent | 0.650 | — | 1 |" in lines and lines.index("| parallel | 0.850 | — | 1 |") < lines.index(
        "| agent | 0.650 | — | 1 |")
    assert scoreboard_lines(Experiment, runs(TWO_COSTS).iloc[:0]) == []
    assert scoreboard_lines(object(), runs(TWO_COSTS)) == []
    only_agents = runs(TWO_COSTS).query("agent == 'agent'")
    assert scoreboard_lines(Experiment, only_agents)[-1].startswith("No score")


def test_scoreboard_shows_conditions_and_intervals():
    class Experiment:
        @staticmethod
        def score(frame):
            return pd.DataFrame({"agent": ["mixed"], "score": [0.5], "ci_low": [0.4], "ci_high": [0.6], "n": [3],
                                 "label": ["parallel share 0.3"]})

    lines = scoreboard_lines(Experiment, pd.DataFrame({"x": [1]}))
    assert "| condition | agent | score | 95 % CI | n |" in lines
    assert "| parallel share 0.3 | mixed | 0.500 | [0.400, 0.600] | 3 |" in lines


@pytest.mark.parametrize("name", experiment_names())
def test_every_experiment_has_the_same_layout_and_a_documented_score(name):
    module = load_experiment(name)
    for attr in ("DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score"):
        assert hasattr(module, attr), attr
    assert module.runs.__module__ == f"tradeoff_gym.benchmarks.experiments.{name}.sweep"
    analysis = module.analyze.__module__
    assert analysis.startswith("tradeoff_gym.benchmarks.experiments.") and analysis.endswith(".analysis")
    assert module.score.__module__ == module.analyze.__module__
    assert isinstance(module.SCORE, str) and len(module.SCORE) > 40


def test_seq_tasks_runs_are_labelled_by_their_regimen():
    experiment = load_experiment("seq_tasks")
    specs = experiment.runs(experiment.SCALES["smoke"])
    assert specs and all(spec.label == spec.agent_kwargs["strategy"] == spec.tags["regimen"] for spec in specs)
