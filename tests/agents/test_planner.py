"""The planner: learns clearly best instances both ways (late bloomers too), is cost-blind and deterministic, plays
tables of 3+ strategies, and its priors fit, save and load."""

import json

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from tradeoff_gym.agents.planner import (
    PlannerAgent,
    PlannerPrior,
    World,
    fit_prior,
    map_by_position,
    pool_prior,
    resolve_prior,
    scott_bandwidth,
    world_of,
)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.families import get_family
from tradeoff_gym.envs.interface import Strategy
from tradeoff_gym.envs.learning_curves import LogisticCurve

from .test_navigator import ScrambledInfo, _scaled_curve

ENV_ID = "tradeoff/LearningCurves-v0"
FAST = {"n_particles": 128, "n_truths": 32, "looks": (1, 4, 16, 64)}

# τ = 1000. serial: c = 0 and parallel rises 300 picks later; parallel: c = 1, identical curves; late bloomer:
# serial rises at once, parallel 250 picks later but steeply, and c = 1 halves serial (parallel's return 0.7 τ
# against serial's 0.47 τ).
CLEARLY_BEST = {
    "serial": ("serial", {"cost": 0.0, "curves": (LogisticCurve(0.03, 50.0), LogisticCurve(0.03, 350.0))}),
    "parallel": ("parallel", {"cost": 1.0, "curves": (LogisticCurve(0.03, 50.0), LogisticCurve(0.03, 50.0))}),
    "late-bloomer": ("parallel", {"cost": 1.0, "curves": (LogisticCurve(0.03, 30.0), LogisticCurve(0.08, 250.0))}),
}


#: The planner does not learn a late-starting best strategy yet (docs/findings/planner.md): after 10–60 trials of
#: parallel with nothing to show, its universal posterior prefers serial. Strict: the day it passes, this must go.
LATE = pytest.mark.xfail(strict=True, reason="late starters are not learned yet (docs/findings/planner.md)")


@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(c, marks=LATE) if c == "late-bloomer" else c
                                  for c in sorted(CLEARLY_BEST)])
def test_planner_learns_the_clearly_best_strategy(case):
    best, settings = CLEARLY_BEST[case]
    env = gym.make(ENV_ID, horizon=1000, **settings)
    expected = env.unwrapped.config.expected_fixed_returns(settings["cost"])
    for seed in range(3):
        frame = run_episode(env, PlannerAgent(**FAST), seed)
        share = (frame[frame.trial >= 500].strategy == best).mean()
        assert share >= 0.9, (case, seed, share)
        assert frame.reward.sum() >= 0.85 * expected.max(), (case, seed, frame.reward.sum(), expected)


def test_planner_is_cost_blind_identical_rewards_give_identical_actions():
    # serial's accuracy is 0.5·σ at c = 0 and 1.0·σ at c = 1: the same rewards from worlds that differ in the cost
    parallel = LogisticCurve(0.03, 200.0)
    common = {"horizon": 300, "batch_size": None}
    cheap = gym.make(ENV_ID, cost=0.0, curves=(_scaled_curve(0.5), parallel), **common)
    dear = gym.make(ENV_ID, cost=1.0, curves=(_scaled_curve(1.0), parallel), **common)
    a = run_episode(cheap, PlannerAgent(**FAST), seed=3)
    b = run_episode(dear, PlannerAgent(**FAST), seed=3)
    np.testing.assert_array_equal(a.reward.to_numpy(), b.reward.to_numpy())
    assert (a.raw_accuracy != b.raw_accuracy).any()
    np.testing.assert_array_equal(a.action.to_numpy(), b.action.to_numpy())
    assert a.action.nunique() == 2  # it explored: not the equality of a fixed strategy


def test_planner_reads_no_step_info_and_is_deterministic():
    env = gym.make(ENV_ID, horizon=200, cost=0.4)
    plain = run_episode(env, PlannerAgent(**FAST), seed=5)
    again = run_episode(env, PlannerAgent(**FAST), seed=5)
    scrambled = run_episode(ScrambledInfo(gym.make(ENV_ID, horizon=200, cost=0.4), 9), PlannerAgent(**FAST), seed=5)
    np.testing.assert_array_equal(plain.action.to_numpy(), again.action.to_numpy())
    np.testing.assert_array_equal(plain.action.to_numpy(), scrambled.action.to_numpy())
    other = run_episode(env, PlannerAgent(**FAST), seed=6)
    assert not np.array_equal(plain.reward.to_numpy(), other.reward.to_numpy())


def test_planner_plays_a_table_of_four_and_finds_its_best():
    strategies = (Strategy("serial", True), Strategy("mixed-1", True, delay=0.6), Strategy("mixed-2", True, delay=0.3),
                  Strategy("parallel", False))
    curves = (LogisticCurve(0.04, 600.0), LogisticCurve(0.04, 30.0), LogisticCurve(0.04, 500.0),
              LogisticCurve(0.04, 700.0))
    env = gym.make(ENV_ID, horizon=1000, cost=0.2, strategies=strategies, curves=curves)
    expected = env.unwrapped.config.expected_fixed_returns(0.2)
    assert int(np.argmax(expected)) == 1
    frame = run_episode(env, PlannerAgent(**FAST), seed=0)
    assert (frame[frame.trial >= 500].action == 1).mean() >= 0.9
    assert frame.reward.sum() >= 0.9 * expected.max()


def test_the_posterior_moves_towards_the_true_curve():
    # after 300 noiseless picks of a curve with k·τ = 30, m/τ = 0.2, the grid posterior's mode is next to it
    env = gym.make(ENV_ID, horizon=1000, cost=0.0, batch_size=None,
                   curves=(LogisticCurve(0.03, 200.0), LogisticCurve(0.03, 200.0)))
    agent = PlannerAgent(**FAST)
    obs, info = env.reset(seed=0)
    agent.reset(info, np.random.default_rng(0))
    for _ in range(300):
        obs, reward, *_ = env.step(1)
        agent.observe(1, reward, obs, {})
    arm = agent.arms[1]
    k, m, _ = np.unravel_index(np.argmax(arm.ll), arm.shape)
    assert arm.k[k] * 1000 == pytest.approx(30.0, rel=0.2)
    assert arm.m[m] == pytest.approx(200.0, abs=30.0)


def test_fit_prior_round_trips_and_resolves_family_names(tmp_path):
    family = get_family("lc-late-bloomers")
    prior = fit_prior("lc-late-bloomers")
    assert len(prior.worlds) == len(family.train)
    first = family.settings(family.train[0])
    centre = prior.worlds[0]
    assert centre.rate[1] == pytest.approx(first["curves"][1].rate * first["horizon"])
    assert centre.midpoint[0] == pytest.approx(first["curves"][0].midpoint / first["horizon"])
    assert centre.discount == pytest.approx((first["cost"], 0.0))
    assert prior.bandwidth == pytest.approx(scott_bandwidth(prior.worlds))
    path = tmp_path / "prior.json"
    prior.save(path)
    assert PlannerPrior.load(path) == prior
    assert resolve_prior(str(path)) == prior
    assert resolve_prior("lc-late-bloomers") == prior
    assert resolve_prior(None).worlds == ()
    agent = make_agent("planner", gym.make(ENV_ID), prior=str(path), **FAST)
    assert agent.prior == prior


def test_a_pooled_prior_weighs_each_family_alike_and_round_trips(tmp_path):
    families = ["lc-short", "lc-wide", "lc-short"]  # a repeat counts once
    prior = pool_prior(families, per_family=5)
    short, wide = fit_prior("lc-short"), fit_prior("lc-wide")
    assert prior.worlds == short.worlds[:5] + wide.worlds[:5]
    assert prior.bandwidth == pytest.approx(scott_bandwidth(prior.worlds))
    assert "lc-short" in prior.source and "lc-wide" in prior.source
    path = tmp_path / "pooled.json"
    prior.save(path)
    assert PlannerPrior.load(path) == prior
    assert len(pool_prior(["lc-late-bloomers"]).worlds) == len(get_family("lc-late-bloomers").train)
    with pytest.raises(ValueError, match="at least one family"):
        pool_prior([])
    with pytest.raises(ValueError, match="per_family"):
        pool_prior(["lc-short"], per_family=0)
    with pytest.raises(ValueError, match="does not model yet"):
        pool_prior(["lc-short", "sp-mixed"])


@pytest.mark.parametrize("bad, match", [
    ("no-such-family", "family name"),
    ("sp-mixed", "does not model yet"),
    ("missing.json", "does not exist"),
    (42, "PlannerPrior"),
])
def test_bad_priors_are_refused_by_name(bad, match):
    with pytest.raises(ValueError, match=match):
        PlannerAgent(prior=bad)


def test_a_malformed_prior_file_is_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(ValueError, match="not a planner prior"):
        PlannerPrior.load(path)
    path.write_text("{")
    with pytest.raises(ValueError, match="not JSON"):
        PlannerPrior.load(path)


@pytest.mark.parametrize("kwargs, match", [
    ({"block": 0.0}, "block"), ({"looks": ()}, "looks"), ({"n_truths": 600}, "n_truths"),
    ({"broad": 0.0}, "broad"), ({"margin": -1.0}, "margin"), ({"tables": "size"}, "tables"),
])
def test_bad_settings_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PlannerAgent(**kwargs)


def test_a_world_must_be_consistent():
    with pytest.raises(ValueError, match="one rate"):
        World((True, False), (10.0,), (0.1, 0.2), (0.5, 0.0))
    with pytest.raises(ValueError, match="pays no discount"):
        World((True, False), (10.0, 10.0), (0.1, 0.2), (0.5, 0.3))
    with pytest.raises(ValueError, match="needs LearningCurves settings"):
        world_of({"beta": 15.0, "lr": 0.001})
    with pytest.raises(ValueError, match="fixed cost"):
        world_of({"horizon": 100, "curves": (LogisticCurve(0.1, 10.0), LogisticCurve(0.1, 20.0)), "cost": (0.0, 1.0)})


def test_fitted_components_tie_the_strategies_together():
    # two worlds: serial early & parallel late, or the reverse; seeing serial rise early moves parallel's belief late
    worlds = (World((True, False), (40.0, 40.0), (0.05, 0.6), (0.2, 0.0)),
              World((True, False), (40.0, 40.0), (0.6, 0.05), (0.2, 0.0)))
    agent = PlannerAgent(prior=PlannerPrior(worlds, (0.2, 0.05, 0.1)), **FAST)
    env = gym.make(ENV_ID, horizon=1000, cost=0.2, batch_size=None,
                   curves=(LogisticCurve(0.04, 50.0), LogisticCurve(0.04, 600.0)))
    obs, info = env.reset(seed=0)
    agent.reset(info, np.random.default_rng(0))
    for _ in range(150):
        obs, reward, *_ = env.step(0)
        agent.observe(0, reward, obs, {})
    pi, _ = agent._posterior()
    assert pi[0] > 0.95  # the first world; the broad component and the reverse world lose


def test_worlds_of_another_table_size_are_mapped_by_position():
    # a 3-strategy world onto a 5-strategy table: log rates, midpoints and discounts interpolated by position
    three = World((True, True, False), (10.0, 40.0, 160.0), (0.1, 0.3, 0.5), (0.8, 0.4, 0.0))
    five = map_by_position(three, (True, True, True, True, False))
    assert five.rate == pytest.approx((10.0, 20.0, 40.0, 80.0, 160.0))
    assert five.midpoint == pytest.approx((0.1, 0.2, 0.3, 0.4, 0.5))
    assert five.discount == pytest.approx((0.8, 0.6, 0.4, 0.2, 0.0))
    assert map_by_position(three, three.serial) is three
    prior = PlannerPrior((three, World((False, True), (10.0, 10.0), (0.1, 0.2), (0.0, 0.5))))
    assert prior.matching((True, True, True, True, False)) == []  # exact: no world of that table
    # position: the world whose ends match the table's; not the one ordered parallel -> serial
    assert prior.matching((True, True, True, True, False), "position") == [five]
    assert prior.matching((True, True, False), "position") == [three]


def test_the_broad_discount_range_round_trips_and_restricts_serial_payoffs(tmp_path):
    prior = PlannerPrior(broad_discount=(0.0, 0.5))
    prior.save(tmp_path / "p.json")
    assert PlannerPrior.load(tmp_path / "p.json") == prior
    agent = PlannerAgent(prior=prior, **FAST)
    env = gym.make(ENV_ID, horizon=100, cost=0.2, batch_size=None,
                   curves=(LogisticCurve(0.1, 20.0), LogisticCurve(0.1, 40.0)))
    _, info = env.reset(seed=0)
    agent.reset(info, np.random.default_rng(0))
    broad = agent.arms[0].kx[-1]  # the serial strategy's broad discount weights over x = 0, 0.1, ..., 1
    np.testing.assert_allclose(broad, np.where(np.arange(11) <= 5, 1.0 / 6, 0.0))
    assert agent.arms[1].kx[-1].tolist() == [1.0]  # parallel pays nothing


def test_a_broad_range_must_hold_a_grid_value():
    with pytest.raises(ValueError, match="broad_discount"):
        PlannerPrior(broad_discount=(0.52, 0.58))
    with pytest.raises(ValueError, match="broad_midpoint"):
        PlannerPrior(broad_midpoint=(2.0, 3.0))
    with pytest.raises(ValueError, match="broad_rate"):
        PlannerPrior(broad_rate=(50.0, 10.0))


def test_fit_planner_script_writes_a_prior_of_train_worlds_only(tmp_path):
    from tradeoff_gym.benchmarks.scripts import fit_planner

    out = tmp_path / "prior.json"
    assert fit_planner.main(["--family", "lc-short", "--worlds", "0-9", "--out", str(out)]) == 0
    prior = PlannerPrior.load(out)
    assert len(prior.worlds) == 10 and "fit_planner" in prior.source
    assert prior.worlds == fit_prior("lc-short", range(10)).worlds
    half = tmp_path / "half.json"
    assert fit_planner.main(["--family", "lc-short", "--worlds", "0-9", "--scale", "0.5", "--out", str(half)]) == 0
    assert PlannerPrior.load(half).bandwidth == pytest.approx(tuple(b / 2 for b in prior.bandwidth))
    pooled = tmp_path / "pooled.json"
    assert fit_planner.main(["--family", "lc-short,lc-wide", "--per-family", "4", "--out", str(pooled)]) == 0
    assert PlannerPrior.load(pooled).worlds == pool_prior(["lc-short", "lc-wide"], 4).worlds
    for bad in (["--worlds", "48-50"], ["--family", "sp-mixed"], ["--bandwidth", "1,2"], ["--per-family", "4"],
                ["--family", "lc-short,lc-wide", "--worlds", "0-3"], ["--family", "lc-short,sp-mixed"],
                ["--family", "lc-short,lc-wide", "--per-family", "0"], ["--scale", "0"], ["--scale", "nan"]):
        args = ["--family", "lc-short", "--out", str(tmp_path / "other.json"), *bad]
        with pytest.raises(SystemExit) as exit_info:
            fit_planner.main(args)
        assert exit_info.value.code == 2
        assert not (tmp_path / "other.json").exists()


def test_planner_design_plays_train_worlds_only_and_prints_paired_differences(tmp_path, capsys):
    from tradeoff_gym.benchmarks.scripts import planner_design

    fit, played, seeds = planner_design.split_train("lc-short", limit=2)
    family = get_family("lc-short")
    assert set(fit) | set(played) <= set(family.train) and not set(fit) & set(played)
    assert set(seeds) <= set(family.train_seeds)
    out = tmp_path / "design.csv"
    spec = 'planner{"prior": "@fit", "n_particles": 64, "n_truths": 16, "looks": [1, 4]}'
    others = spec.replace("@fit", "@others")
    assert planner_design.main(["--families", "lc-short", "--agents", f"{spec},{others},frontier", "--worlds", "2",
                                "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert set(frame.world) == set(played)
    assert set(frame.agent) == {"serial", "parallel", spec, others, "frontier"}
    pooled = planner_design._others("lc-short")  # the other four families' train worlds, 48 each
    assert len(pooled.worlds) == 4 * planner_design.PER_FAMILY and "lc-short" not in pooled.source
    fixed = frame[frame.agent.isin(["serial", "parallel"])].groupby("world").normalised.max()
    assert np.allclose(fixed, 1.0)  # the best fixed strategy is the yardstick
    text = capsys.readouterr().out
    assert "agent − `frontier`" in text and "lc-short" in text
    with pytest.raises(SystemExit):
        planner_design.main(["--families", "sp-mixed"])


def test_a_reward_outside_the_binomial_range_is_refused_by_name():
    agent = PlannerAgent(**FAST)
    env = gym.make(ENV_ID, horizon=100)
    obs, info = env.reset(seed=0)
    agent.reset(info, np.random.default_rng(0))
    with pytest.raises(ValueError, match="likelihood='gaussian'"):
        agent.observe(0, 1.5, obs, {})
    gaussian = PlannerAgent(likelihood="gaussian", **FAST)
    gaussian.reset(info, np.random.default_rng(0))
    gaussian.observe(0, 1.5, obs, {})  # another scale is the Gaussian likelihood's to read
