"""The SerialParallel frontier script: its replay against directly played episodes, train-only choice, resume, the
bound, and the record."""

import json

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import tradeoff_gym  # noqa: F401  (registers the ids)
from tradeoff_gym import envs
from tradeoff_gym.agents import frontier
from tradeoff_gym.agents.frontier import ProbeCommitAgent, probe_rule_name
from tradeoff_gym.benchmarks.run_loop import run_episodes
from tradeoff_gym.benchmarks.scripts import sp_frontier
from tradeoff_gym.benchmarks.scripts.look_frontier import load, play, probe_rates, trial_rewards
from tradeoff_gym.benchmarks.scripts.sp_frontier import BOUNDS, choose, main, per_world, summary

ENV_ID = "tradeoff/SerialParallel-v0"
WORLD, SEEDS, HORIZON, AT, LENGTH, RECENT = 24, [1000, 1001], 40, 10, 3, 5
ARGS = ["--split", "both", "--worlds", "0,24", "--seeds", "2", "--looks", "10,20", "--lengths", "1,3", "--recent", "5",
        "--horizon", "40", "--thresholds", "0.5,0.9,1.2"]


@pytest.fixture(scope="module")
def trajectories(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schedules")
    names = ("serial", "parallel", f"switch@{AT}", f"stay@{AT}+{LENGTH}")
    settings = {"family": "sp-mixed", "world": WORLD}
    return load({name: play(settings, name, SEEDS, HORIZON, folder / f"{name}.npz") for name in names})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sp_frontier")
    row = main([*ARGS, "--out", str(out)])
    return out, row, pd.read_csv(out / "sp_frontier_sp-mixed.csv")


@pytest.mark.slow
def test_the_probe_is_played_alike_in_both_episodes(trajectories):
    switch, stay = trajectories[f"switch@{AT}"], trajectories[f"stay@{AT}+{LENGTH}"]
    np.testing.assert_array_equal(switch[0][:, :AT + LENGTH], stay[0][:, :AT + LENGTH])  # accuracies
    np.testing.assert_array_equal(switch[1][:, :AT + LENGTH], stay[1][:, :AT + LENGTH])  # actions
    assert (switch[1][:, AT + LENGTH:] != stay[1][:, AT + LENGTH:]).all()  # then serial vs parallel


@pytest.mark.slow
@pytest.mark.parametrize("cost", [0.0, 0.3, 1.0])
def test_the_replay_reproduces_directly_played_episodes(trajectories, cost):
    # Bit for bit: the network's training does not depend on c nor on what the batch's other episodes play (one
    # seeded network and data stream per sub-env), and c enters the env's rewards only through the reward rule the
    # replay applies to the same per-task accuracies. Same batch size and seeds as the played schedules.
    rule = envs.check_settings(ENV_ID, family="sp-mixed", world=WORLD).reward_rule
    rewards = trial_rewards(rule, trajectories[f"switch@{AT}"], cost)
    ratio = np.mean(rewards[:, AT:AT + LENGTH], axis=-1) / np.mean(rewards[:, AT - RECENT:AT], axis=-1)
    # per sub-env thresholds: one far below, one far above, and the exact ratio (ties switch)
    for thresholds in ([0.01, 100.0], [100.0, 0.01], list(ratio)):
        vector = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", family="sp-mixed",
                              world=WORLD, horizon=HORIZON, cost=cost)
        agents = [ProbeCommitAgent(at=AT, length=LENGTH, threshold=t, recent=RECENT) for t in thresholds]
        frames = run_episodes(vector, agents, SEEDS, env_id=ENV_ID)
        vector.close()
        for k, threshold in enumerate(thresholds):
            rates, switched = probe_rates(rule, trajectories, AT, LENGTH, threshold, cost, RECENT)
            name = f"switch@{AT}" if switched[k] else f"stay@{AT}+{LENGTH}"
            played = frames[k].sort_values("trial")
            np.testing.assert_array_equal(played.reward.to_numpy(), trial_rewards(rule, trajectories[name], cost)[k])
            np.testing.assert_array_equal(played.action.to_numpy(), trajectories[name][1][k])
            assert played.reward.mean() == rates[k]
        if thresholds == list(ratio):
            assert switched.all()


@pytest.mark.slow
def test_the_choice_uses_train_only(run):
    _, row, frame = run
    train, test = frame[frame.split == "train"], frame[frame.split == "test"].copy()
    assert row["chosen"] == choose(train)
    other = next(rule for rule in per_world(test).columns if rule != row["chosen"])
    test.loc[test.rule == other, "normalised"] += 10.0  # another rule now wins on test by far
    moved = summary(train, test)
    assert moved["chosen"] == row["chosen"] and moved["test_best_rule"] == other
    assert moved["test_mean"] == pytest.approx(row["test_mean"])


@pytest.mark.slow
def test_the_bound_dominates_every_rule_and_fixed_strategy_per_world(run):
    _, row, frame = run
    scores = frame.groupby(["world", "rule"]).normalised.mean().unstack("rule")
    rules = [c for c in scores.columns if c.startswith("probe-")]
    assert len(rules) == 12
    tolerance = 1e-12
    # every rule of the class, hence the chosen one and the in-class oracle, and both fixed strategies (T = 0 and
    # never serial are in the bound's class)
    for column in [*rules, "fixed:serial", "fixed:parallel"]:
        assert (scores[BOUNDS[0]] >= scores[column] - tolerance).all(), column
    assert (scores[BOUNDS[1]] >= scores[BOUNDS[0]] - tolerance).all()  # T per seed relaxes T per world
    # ≥ 1 is not implied: the best fixed strategy may change with the cost, and mean over costs of max(serial,
    # parallel) ÷ best fixed is 1 only if one strategy is best at every cost; the bound is ≥ the better one's mean
    assert (scores[BOUNDS[0]] >= scores[["fixed:serial", "fixed:parallel"]].max(axis=1) - tolerance).all()
    assert row["test_bound"] >= row["test_oracle"] >= row["test_mean"]
    # bound rows name the first serial trial they chose: 0 (serial), a look, or τ (never serial)
    assert set(frame.loc[frame.rule.isin(BOUNDS), "first_serial"]) <= {0, 10, 20, HORIZON}


@pytest.mark.slow
def test_a_stopped_run_resumes_without_replaying_kept_files(run, monkeypatch):
    out, row, _ = run
    played = []
    original = sp_frontier.play_world
    monkeypatch.setattr(sp_frontier, "play_world", lambda *batch: played.extend(batch[2]) or original(*batch))
    assert main([*ARGS, "--out", str(out)]) == row  # everything kept: nothing played
    assert played == []
    (out / "sp-mixed_w24_h40_s1000-1001_stay@20+3.npz").unlink()
    assert main([*ARGS, "--out", str(out)]) == row
    assert played == ["stay@20+3"]


@pytest.mark.slow
def test_record_writes_the_chosen_rule_as_a_probe_commit_spec(run, monkeypatch, tmp_path):
    out, row, _ = run
    path = tmp_path / "frontier.json"
    monkeypatch.setattr(frontier, "FRONTIER_FILE", path)
    main([*ARGS, "--out", str(out), "--record"])
    record = json.loads(path.read_text())["sp-mixed"]
    assert record["rule"] == row["chosen"] and record["train_score"] == pytest.approx(row["train_mean"], abs=1e-6)
    assert "--record" in record["command"] and "train seeds 0–1" in record["train"]
    spec = frontier.frontier_agent("sp-mixed", path)
    name, settings = spec.split("{", 1)
    settings = json.loads("{" + settings)
    assert name == "probe-commit" and settings.pop("name") == f"frontier ({row['chosen']})"
    assert probe_rule_name(settings["at"], settings["length"], settings["threshold"]) == row["chosen"]
    assert settings["recent"] == 5


def test_worlds_outside_the_split_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="outside the train split"):
        main(["--split", "train", "--worlds", "24", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="--looks"):
        main(["--looks", "3", "--recent", "5", "--worlds", "0", "--split", "train", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="--thresholds"):
        main(["--thresholds", "0,1", "--worlds", "0", "--split", "train", "--out", str(tmp_path)])
