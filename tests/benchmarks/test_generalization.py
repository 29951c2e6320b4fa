"""generalization: held-out worlds and seeds only, every strategy of a world's table as a fixed reference, the
scoreboard's numbers computed by hand, the crossover-cost lookups, and a run through the CLI."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiments import experiment_settings, load_experiment
from tradeoff_gym.benchmarks.experiments.generalization.analysis import (
    FRONTIER,
    normalised_runs,
    score,
    score_runs,
    scoreboard,
    world_cstar,
)
from tradeoff_gym.benchmarks.runner import plan_units
from tradeoff_gym.envs import check_settings
from tradeoff_gym.envs.families import DATA_DIR, FAMILIES

module = load_experiment("generalization")


def has_frontier() -> bool:
    try:
        from tradeoff_gym.agents.frontier import frontier_agent  # noqa: F401
    except ImportError:
        return False
    return True


def settings(scale: str = "smoke", **overrides) -> dict:
    return {**experiment_settings(module, scale), "frontier": has_frontier(), **overrides}


# ------------------------------------------------------------------------------------------------- the runs
def test_runs_play_test_worlds_with_held_out_seeds_only():
    specs = module.runs(settings("quick"))
    assert {s.tags["family"] for s in specs} == set(FAMILIES)
    for spec in specs:
        family = FAMILIES[spec.tags["family"]]
        assert spec.tags["world"] in family.test and spec.seed in family.test_seeds
        assert spec.env_kwargs["family"] == family.name and spec.env_kwargs["world"] == spec.tags["world"]
        assert spec.run_id.startswith(f"generalization/{family.name}/w{spec.tags['world']}/c{spec.tags['cost']:g}/")
    # seeds n: the first n test seeds of each family (lc-uniform's start at 0, the others' at 1000).
    assert {s.seed for s in specs if s.tags["family"] == "lc-uniform"} == {0, 1}
    assert {s.seed for s in specs if s.tags["family"] == "sp-mixed"} == {1000, 1001}
    # max_worlds: the first test worlds of each family.
    assert {s.tags["world"] for s in specs if s.tags["family"] == "sp-mixed"} == {24, 25, 26}
    assert len({s.run_id for s in specs}) == len(specs)


def test_a_family_placeholder_becomes_each_familys_name_under_one_label():
    from tradeoff_gym.benchmarks.experiment import resolve_agents

    agents = ["planner", 'planner{"prior": "@family", "name": "planner-fitted"}', 'etc{"explore": 2}']
    specs = resolve_agents(module.runs(settings("smoke", families=["lc-short", "lc-wide"], agents=agents,
                                                frontier=False)))
    fitted = [s for s in specs if s.label == "planner-fitted"]
    assert {s.tags["family"] for s in fitted} == {"lc-short", "lc-wide"}
    for spec in fitted:
        assert spec.agent == "planner" and spec.agent_kwargs == {"prior": spec.tags["family"]}
        assert spec.run_id.split("/")[4] == "planner-fitted"
    plain = [s for s in specs if s.agent == "planner" and s.label != "planner-fitted"]
    assert plain and all(s.agent_kwargs == {} for s in plain)
    assert all(s.agent_kwargs == {"explore": 2} for s in specs if s.agent == "etc")
    from tradeoff_gym.benchmarks.experiments.generalization.sweep import family_player

    assert family_player("ucb1", "lc-wide") == ("ucb1", "ucb1", {}, "", {})


def test_costs_are_swept_where_open_and_the_worlds_own_elsewhere():
    specs = module.runs(settings("smoke", costs=[0.0, 0.5, 1.0]))
    sp = [s for s in specs if s.tags["family"] == "sp-mixed"]
    assert {s.tags["cost"] for s in sp} == {0.0, 0.5, 1.0}
    assert all(s.env_kwargs["cost"] == s.tags["cost"] and s.env_kwargs["horizon"] == 30 for s in sp)
    lc = [s for s in specs if s.tags["family"] == "lc-wide"]
    drawn = FAMILIES["lc-wide"].settings(48)["cost"]
    assert {s.tags["cost"] for s in lc} == {drawn}
    assert all("cost" not in s.env_kwargs and "horizon" not in s.env_kwargs for s in lc)


def test_train_worlds_and_worlds_out_of_range_are_refused():
    with pytest.raises(ValueError, match=r"names train world 0 of family 'lc-wide'.*test worlds are 48–79"):
        module.runs(settings("smoke", families=["lc-wide"], worlds="0-3"))
    with pytest.raises(ValueError, match=r"worlds '45' for family 'sp-mixed': world must be in \[0, 39\]"):
        module.runs(settings("smoke", families=["sp-mixed"], worlds="45"))
    with pytest.raises(ValueError, match=r"seed 5 is not a held-out seed: family 'lc-wide' has test seeds 1000–1099"):
        module.runs(settings("smoke", families=["lc-wide"], seeds=[5]))
    with pytest.raises(ValueError, match=r"seeds must be a count in \[1, 100\]"):
        module.runs(settings("smoke", families=["lc-wide"], seeds=101))
    with pytest.raises(ValueError, match="unknown family 'lc-nope'"):
        module.runs(settings("smoke", families=["lc-nope"]))
    with pytest.raises(ValueError, match="'parallel' in agents is a label this experiment gives its references"):
        module.runs(settings("smoke", agents=["ucb1", "parallel"]))


def test_cli_worlds_sets_the_spec_and_refuses_a_train_world(tmp_path, capsys):
    argv = ["run", "generalization", "--scale", "smoke", "--jobs", "1", "--no-progress",
            "--set", 'families=["lc-wide"]']
    assert main([*argv, "--worlds", "3", "--out", str(tmp_path / "a")]) == 2
    assert "names train world 3 of family 'lc-wide'" in capsys.readouterr().err
    assert main([*argv, "--worlds", "200", "--out", str(tmp_path / "b")]) == 2
    assert "world must be in [0, 79] for family 'lc-wide', got 200" in capsys.readouterr().err


def test_every_strategy_of_a_wide_world_plays_as_a_fixed_agent():
    world = 49  # lc-wide's test world 49 has 7 strategies
    names = [s.name for s in check_settings("tradeoff/LearningCurves-v0", family="lc-wide", world=world).strategies]
    assert len(names) == 7 and names[0] == "serial" and names[-1] == "parallel"
    specs = module.runs(settings("smoke", families=["lc-wide"], worlds="49"))
    labels = {s.label or s.agent for s in specs}
    assert set(names) <= labels and {"navigator", "ucb1"} <= labels
    for spec in specs:
        if spec.label.startswith("mixed-"):
            assert spec.agent_kwargs == {"strategy": spec.label} and spec.run_id.split("/")[-2] == spec.label
    assert set(module.FIXED_AGENTS) >= set(names)


def test_fixed_runs_are_played_once_and_rediscounted_for_every_cost():
    specs = [s for s in module.runs(settings("smoke", costs=[0.0, 0.3, 1.0])) if s.tags["family"] == "sp-mixed"]
    units = plan_units(specs)
    reused = [u for u in units if u.reuse]
    assert sorted(u.spec.agent for u in reused) == ["parallel", "serial"]
    assert all(sorted(m.tags["cost"] for m in u.members) == [0.0, 0.3, 1.0] for u in reused)
    assert len(units) == len(specs) - 4  # 2 strategies × 3 costs played as 2 episodes


@pytest.mark.skipif(not has_frontier(), reason="tradeoff_gym.agents.frontier is not installed here")
def test_the_frontier_rule_reads_as_the_frontier():
    from tradeoff_gym.agents.frontier import frontier_agent

    specs = module.runs(settings("smoke", frontier=True))
    for family in FAMILIES:
        rows = [s for s in specs if s.tags["family"] == family and s.label == FRONTIER]
        if frontier_agent(family) is None:
            assert not rows
            continue
        assert rows and all(s.run_id.split("/")[-2] == FRONTIER and "frontier_rule" in s.tags for s in rows)
        assert all("name" not in s.agent_kwargs for s in rows)
    assert not [s for s in module.runs(settings("smoke", frontier=False)) if s.label == FRONTIER]


# ------------------------------------------------------------------------------------------------- the scoreboard
def frame(rates: dict[tuple[str, int, float, str, int], float]) -> pd.DataFrame:
    """Two trials per run with the given mean reward; ``rates[(family, world, cost, agent, seed)]``."""
    rows = []
    for (family, world, cost, agent, seed), rate in rates.items():
        for trial, reward in enumerate((rate - 0.01, rate + 0.01)):
            rows.append({"run_id": f"{family}/{world}/{cost}/{agent}/{seed}", "env_id": "e", "agent": agent,
                         "seed": seed, "trial": trial, "reward": reward, "serial": agent == "serial",
                         "family": family, "world": world, "cost": cost})
    return pd.DataFrame(rows)


def hand_made() -> pd.DataFrame:
    """sp-mixed worlds 24 and 25 at costs 0 and 1, lc-wide world 48 at its cost: fixed strategies, agents x and y,
    and a frontier at 0.9 of the best fixed strategy everywhere."""
    best = {}
    rates = {}
    fixed = {("sp-mixed", 24, 0.0): {"serial": 0.8, "parallel": 0.6},
             ("sp-mixed", 24, 1.0): {"serial": 0.4, "parallel": 0.6},
             ("sp-mixed", 25, 0.0): {"serial": 0.9, "parallel": 0.3},
             ("sp-mixed", 25, 1.0): {"serial": 0.45, "parallel": 0.3},
             ("lc-wide", 48, 0.79): {"serial": 0.5, "mixed-1": 0.8, "parallel": 0.6}}  # the schedule is best
    x = {("sp-mixed", 24, 0.0): (0.8, 0.8), ("sp-mixed", 24, 1.0): (0.3, 0.36), ("sp-mixed", 25, 0.0): (0.72, 0.72),
         ("sp-mixed", 25, 1.0): (0.45, 0.45), ("lc-wide", 48, 0.79): (0.8, 0.8)}
    for cell, strategies in fixed.items():
        best[cell] = max(strategies.values())
        for seed_i, seed in enumerate((1000, 1001)):
            rates |= {(*cell, agent, seed): rate for agent, rate in strategies.items()}
            rates[(*cell, "x", seed)] = x[cell][seed_i]
            rates[(*cell, "y", seed)] = best[cell] if cell[1] == 25 else 0.5 * best[cell]
            rates[(*cell, FRONTIER, seed)] = 0.9 * best[cell]
    return frame(rates)


def test_scoreboard_numbers_by_hand():
    table = scoreboard(normalised_runs(hand_made())).set_index(["family", "agent"])
    sp = table.loc[("sp-mixed", "x")]
    # x ÷ best: w24 c0 0.8/0.8 = 1, c1 0.3/0.6 and 0.36/0.6 → 0.55; w25 c0 0.72/0.9 = 0.8, c1 0.45/0.45 = 1.
    assert sp["mean"] == pytest.approx((0.775 + 0.9) / 2)
    assert sp.worst_decile == pytest.approx(0.55)  # 10th percentile (inverted CDF) of the cells 1, 0.55, 0.8, 1
    assert sp.worlds_at_least_best == 0 and sp.worlds == 2
    assert sp.frontier_share == pytest.approx(0.8375 / 0.9)
    assert table.loc[("sp-mixed", "y"), "at_least_best"] == pytest.approx(0.5)  # as good as serial in world 25
    assert table.loc[("sp-mixed", "serial"), "mean"] == pytest.approx(((1 + 4 / 6) / 2 + 1) / 2)
    # lc-wide: mixed-1 is the best fixed strategy, so it is the reference.
    assert table.loc[("lc-wide", "x"), "mean"] == pytest.approx(1.0)
    assert table.loc[("lc-wide", "x"), "at_least_best"] == 1.0
    assert table.loc[("lc-wide", "mixed-1"), "mean"] == pytest.approx(1.0)
    assert table.loc[("lc-wide", "parallel"), "mean"] == pytest.approx(0.75)
    assert table.loc[("lc-wide", FRONTIER), "mean"] == pytest.approx(0.9)
    # Overall: each family counts the same.
    overall = table.loc[("all", "x")]
    assert overall["mean"] == pytest.approx((0.8375 + 1.0) / 2)
    assert overall.worst_decile == pytest.approx(0.55)  # sp-mixed's cells weigh 1/8 each, lc-wide's one 1/2
    assert overall.at_least_best == pytest.approx(0.5) and overall.worlds_at_least_best == 1 and overall.worlds == 3
    assert overall.frontier_share == pytest.approx((0.8375 + 1.0) / (0.9 + 0.9))
    assert 0.8875 - 1e-9 <= overall.ci_low <= overall["mean"] <= overall.ci_high <= 0.95 + 1e-9
    assert table.loc[("all", "mixed-1"), "families"] == 1 and table.loc[("all", "x"), "families"] == 2


def test_score_ranks_agents_by_the_overall_mean_and_score_runs_pairs_held_out_seeds():
    scores = score(hand_made())
    assert list(scores.columns) == ["agent", "score", "ci_low", "ci_high", "n"]
    assert scores.score.is_monotonic_decreasing
    row = scores.set_index("agent").loc["x"]
    assert row.score == pytest.approx(0.91875) and row.n == 3
    assert "mixed-1" not in set(scores.agent)  # a reference of one lc-wide world: in the tables only
    overall = scoreboard(normalised_runs(hand_made()))
    overall = overall[overall.family == "all"]
    assert overall.agent.iloc[-1] == "mixed-1"  # listed after the agents played everywhere, whatever its mean
    runs = score_runs(hand_made())
    # Conditions: every (family, world, cost); agents: those played in all of them (not lc-wide's mixed-1).
    assert len(runs.conditions) == 5 and all(c.startswith("family=") for c in runs.conditions)
    assert sorted(runs.scores) == sorted(["frontier", "parallel", "serial", "x", "y"])
    assert runs.seeds["x"] == [0, 1] and runs.scores["x"].shape == (2, 5)  # the i-th test seed of each family
    column = runs.conditions.index("family=sp-mixed, world=24, cost=1")
    assert runs.scores["x"][:, column] == pytest.approx([0.5, 0.6])


# ------------------------------------------------------------------------------------------------- c*
def test_cstar_of_sp_mixed_is_the_data_files_row_with_most_seeds_at_tau_5000():
    table = pd.read_csv(DATA_DIR / "sp-mixed_cstar.csv")
    rows = table[(table.world == 0) & (table.horizon == 5000)]
    assert world_cstar("sp-mixed", 0) == pytest.approx(rows.loc[rows.seeds.idxmax(), "c_star"])
    assert len(rows) >= 1
    measured = set(table.world)
    unmeasured = [w for w in range(FAMILIES["sp-mixed"].size) if w not in measured]
    if unmeasured:
        assert np.isnan(world_cstar("sp-mixed", unmeasured[0]))


@pytest.mark.parametrize(("family", "world"), [("lc-balanced", 0), ("lc-late-bloomers", 48), ("lc-wide", 49)])
def test_cstar_of_a_learning_curves_world_is_where_serial_type_and_parallel_pay_the_same(family, world):
    config = check_settings("tradeoff/LearningCurves-v0", family=family, world=world)
    c_star = world_cstar(family, world)
    assert c_star > 0
    returns = config.expected_fixed_returns(c_star)
    serial_type = np.array([s.serial for s in config.strategies])
    assert returns[serial_type].max() == pytest.approx(returns[~serial_type].max(), rel=1e-9)
    if len(config.strategies) == 2:
        at_zero = config.expected_fixed_returns(0.0)
        assert c_star == pytest.approx(at_zero[0] / at_zero[1] - 1)
    # Below c*, a serial-type strategy pays more; above it, parallel.
    below, above = config.expected_fixed_returns(0.9 * c_star), config.expected_fixed_returns(1.1 * c_star)
    assert below[serial_type].max() > below[~serial_type].max() and above[serial_type].max() < above[~serial_type].max()


# ------------------------------------------------------------------------------------------------- end to end
def test_a_smoke_run_through_the_cli_writes_the_report(tmp_path):
    out = tmp_path / "gen"
    argv = ["run", "generalization", "--scale", "smoke", "--jobs", "1", "--no-progress", "--out", str(out),
            "--set", 'families=["lc-short", "lc-wide"]', "--set", f"frontier={json.dumps(has_frontier())}"]
    assert main(argv) == 0
    report = (out / "report.md").read_text()
    assert "failed: 0" in report
    for heading in ("Scoreboard", "Scoreboard in full: every family", "lc-short", "lc-wide",
                    "Normalised return against the world's crossover cost"):
        assert f"## {heading}\n" in report, heading
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (out / figure).stat().st_size > 5_000, figure
    results = pd.read_parquet(out / "results.parquet")
    assert set(results.agent) >= {"navigator", "ucb1", "serial", "parallel", "mixed-1"}
    assert set(results.seed) == {1000} and set(results.world) == {48}
    assert "| mixed-1 |" in report
