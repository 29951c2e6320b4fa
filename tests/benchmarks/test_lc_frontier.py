"""The LearningCurves frontier script: exact replay against env play, train-only choice, the bound, the CLI."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import tradeoff_gym  # noqa: F401  (registers the ids)
from tradeoff_gym.benchmarks.analysis import normalised_returns
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.scripts.lc_frontier import (
    ETCAgent,
    ETCRule,
    allocation_bound,
    choose,
    commit_choice,
    evaluate,
    main,
    normalise,
    play_rules,
    reward_decks,
    summary,
    world_config,
)
from tradeoff_gym.envs.learning_curves import LearningCurvesConfig, LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"
RULES = [ETCRule(1), ETCRule(3, "recent"), ETCRule(20), ETCRule(20, "recent"), ETCRule(200)]


@pytest.mark.parametrize(("family", "world"), [("lc-balanced", 3), ("lc-late-bloomers", 50), ("lc-short", 60),
                                               ("lc-wide", 5)])
def test_replay_equals_env_play_through_the_run_loop(family, world):
    config = world_config(family, world)
    if family == "lc-wide":
        assert len(config.strategies) > 2
    seeds = [0, 7]
    decks = reward_decks(config, seeds)
    returns = play_rules(decks, RULES)
    for r, rule in enumerate(RULES):
        for i, seed in enumerate(seeds):
            env = gym.make(ENV_ID, family=family, world=world)
            frame = run_episode(env, ETCAgent.from_rule(rule), seed)
            actions = frame.action.to_numpy()
            picks = frame.groupby("action").cumcount().to_numpy()  # the pick count of each trial's strategy
            # every trial pays exactly the deck's reward of its (strategy, pick count)
            np.testing.assert_array_equal(frame.reward.to_numpy(), decks[i, actions, picks])
            m, s = rule.explore, len(config.strategies)
            length = min(m * s, config.horizon)
            np.testing.assert_array_equal(actions[:length], np.arange(length) % s)  # round robin in table order
            if length < config.horizon:
                chosen = commit_choice(decks[i, :, m - rule.window:m])
                assert (actions[length:] == chosen).all()
            assert frame.reward.sum() == pytest.approx(returns[r, i], rel=1e-12)


def test_exploration_longer_than_the_episode_never_commits():
    config = world_config("lc-short", 48)
    decks = reward_decks(config, [3])
    m = config.horizon  # M·S ≥ τ: round robin to the end
    picks = [(config.horizon - a + 1) // 2 for a in range(2)]
    expected = decks[0, 0, :picks[0]].sum() + decks[0, 1, :picks[1]].sum()
    assert play_rules(decks, [ETCRule(m)])[0, 0] == pytest.approx(expected, rel=1e-12)


def test_commit_choice_breaks_ties_to_the_first_strategy():
    rewards = np.array([[[0.0, 0.0], [0.0, 0.0]], [[0.1, 0.3], [0.2, 0.2000001]]])  # 2 seeds, 2 strategies, w 2
    assert commit_choice(rewards).tolist() == [0, 1]


def test_rule_names_round_trip_and_bad_ones_are_refused():
    for rule in RULES:
        assert ETCRule.parse(rule.name) == rule
    assert ETCRule(9, "recent").window == 3
    for bad in ("etc", "etc-0", "ucb-3", "etc-3-last"):
        with pytest.raises(ValueError, match="etc-M"):
            ETCRule.parse(bad)


def test_normalise_is_the_analysis_definition():
    rng = np.random.default_rng(1)
    fixed = rng.uniform(100, 200, size=(4, 3))  # seeds, strategies
    returns = rng.uniform(100, 200, size=(2, 4))  # rules, seeds
    rows = [{"agent": f"rule{r}", "seed": s, "reward_rate": returns[r, s]} for r in range(2) for s in range(4)]
    rows += [{"agent": f"fixed{a}", "seed": s, "reward_rate": fixed[s, a]} for a in range(3) for s in range(4)]
    table = normalised_returns(pd.DataFrame(rows), by=[], fixed=[f"fixed{a}" for a in range(3)])
    expected = table[table.agent.str.startswith("rule")].sort_values(["agent", "seed"]).normalised.to_numpy()
    np.testing.assert_allclose(normalise(returns, fixed).ravel(), expected, rtol=1e-14)


def test_allocation_bound_matches_brute_force_and_bounds_the_fixed_strategies():
    curves = (LogisticCurve(0.05, 5.0), LogisticCurve(0.08, 12.0), LogisticCurve(0.02, 0.0))
    from tradeoff_gym.envs.interface import Strategy

    strategies = (Strategy("serial", True), Strategy("mixed-1", True, delay=0.5), Strategy("parallel", False))
    config = LearningCurvesConfig(strategies=strategies, curves=curves, horizon=20, cost=0.4)
    expected = config.expected_trial_rewards(0.4)
    gains = np.concatenate([np.zeros((3, 1)), np.cumsum(expected, axis=1)], axis=1)
    brute = max(gains[0, a] + gains[1, b] + gains[2, 20 - a - b] for a in range(21) for b in range(21 - a))
    assert allocation_bound(config) == pytest.approx(brute, rel=1e-12)
    # rising curves: every G_a is convex, so the best split puts every pick on one strategy
    assert allocation_bound(config) == pytest.approx(config.expected_fixed_returns(0.4).max(), rel=1e-12)


def test_allocation_bound_splits_picks_where_a_curve_falls():
    def falling(n):
        return np.clip(0.9 - np.asarray(n, dtype=float) / 10, 0.0, 1.0)

    config = LearningCurvesConfig(curves=(falling, falling), horizon=20, cost=0.0, n_tasks=1)
    # each strategy's first 9 picks pay 0.9, 0.8, …, 0.1 (the 10th and later 0): two halves beat one strategy
    assert allocation_bound(config) == pytest.approx(2 * 4.5, rel=1e-12)
    assert config.expected_fixed_returns(0.0).max() == pytest.approx(4.5, rel=1e-12)


def test_the_choice_uses_train_results_only():
    rules = [ETCRule(1), ETCRule(10), ETCRule(50)]
    train = evaluate("lc-balanced", (200, 201, 202), [200, 201], rules, "train")
    test = evaluate("lc-balanced", (0, 1), [0, 1], rules, "test")
    row = summary(train, test)
    chosen = row["chosen"]
    assert chosen == choose(train) and chosen in {r.name for r in rules}
    # make every other rule look far better on test: the choice, made on train, does not move; its test score does
    perturbed = test.assign(normalised=np.where(test.rule == chosen, 0.0, 10.0))
    moved = summary(train, perturbed)
    assert moved["chosen"] == chosen and moved["test_mean"] == 0.0 and moved["train_mean"] == row["train_mean"]
    assert choose(perturbed) != chosen  # the same perturbation would move a choice made on test


def test_the_cli_runs_end_to_end_on_a_tiny_split(tmp_path, capsys):
    row = main(["--family", "lc-late-bloomers", "--rules", "etc-1,etc-10,etc-10-recent", "--train-seeds", "2",
                "--test-seeds", "2", "--train-worlds", "2", "--test-worlds", "2", "--out", str(tmp_path)])
    frame = pd.read_csv(tmp_path / "lc_frontier_lc-late-bloomers.csv")
    assert set(frame.split) == {"train", "test"}
    assert sorted(frame[frame.split == "train"].world.unique()) == [0, 1]
    assert sorted(frame[frame.split == "test"].world.unique()) == [48, 49]
    assert sorted(frame[frame.split == "test"].seed.unique()) == [1000, 1001]
    assert len(frame) == 2 * 2 * 2 * (3 + 2)  # splits × worlds × seeds × (rules + fixed strategies)
    assert row["chosen"] in {"etc-1", "etc-10", "etc-10-recent"}
    assert row["oracle_mean"] >= row["test_mean"] - 1e-12
    assert row["bound_mean"] >= 1.0 - 1e-12
    assert "chosen rule (on train)" in capsys.readouterr().out
