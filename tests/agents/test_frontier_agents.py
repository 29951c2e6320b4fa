"""The frontier's agents: built by name, play their rule (probe-then-commit both ways), refuse bad settings by name,
are cost-blind, and the recorded choice of every LearningCurves family builds."""

import json

import gymnasium as gym
import numpy as np
import pytest
from scipy.special import expit

import tradeoff_gym  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.frontier import (
    ETCAgent,
    ETCRule,
    ProbeCommitAgent,
    frontier_agent,
    frontier_label,
    probe_switches,
    read_frontier,
    record_frontier,
)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.experiment import agent_label, parse_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.scripts.lc_frontier import LC_FAMILIES, play_rules, reward_decks, world_config
from tradeoff_gym.envs.learning_curves import LogisticCurve

LC_ID = "tradeoff/LearningCurves-v0"
SP_ID = "tradeoff/SerialParallel-v0"
#: The rules chosen on train at the documented scale (docs/findings/frontier.md's table).
CHOSEN = {"lc-uniform": "etc-10", "lc-balanced": "etc-5", "lc-late-bloomers": "etc-1", "lc-short": "etc-1",
          "lc-wide": "etc-1"}


def drive(agent, flags, rewards):
    """The actions ``agent`` plays on a table with serial ``flags`` when trial t pays ``rewards[t]``."""
    agent.reset({"strategies": tuple(f"s{i}" for i in range(len(flags))), "serial": flags,
                 "horizon": len(rewards), "n_tasks": 4}, np.random.default_rng(0))
    actions = []
    for reward in rewards:
        actions.append(agent.act(np.zeros(1), {}))
        agent.observe(actions[-1], reward, np.zeros(1), {})
    return actions


def test_both_agents_are_built_by_their_registry_names():
    env = gym.make(LC_ID, horizon=50)
    etc = make_agent("etc", env, explore=3, statistic="recent")
    assert isinstance(etc, ETCAgent) and etc.name == "etc" and etc.rule == ETCRule(3, "recent")
    assert make_agent("etc", env).rule == ETCRule(1, "mean")
    probe = make_agent("probe-commit", env, at=10, length=3, threshold=0.9, recent=5)
    assert isinstance(probe, ProbeCommitAgent) and probe.name == "probe-commit"
    assert (probe.at, probe.length, probe.threshold, probe.recent) == (10, 3, 0.9, 5)


def test_etc_agent_by_name_through_the_run_loop_equals_the_replay():
    config = world_config("lc-balanced", 3)
    decks = reward_decks(config, [4])
    for rule in (ETCRule(2), ETCRule(8, "recent")):
        env = gym.make(LC_ID, family="lc-balanced", world=3)
        frame = run_episode(env, make_agent("etc", env, explore=rule.explore, statistic=rule.statistic), 4)
        assert frame.reward.sum() == pytest.approx(play_rules(decks, [rule])[0, 0], rel=1e-12)


@pytest.mark.parametrize("cost", [0.0, 0.7])
def test_probe_commit_switches_for_a_low_threshold_and_stays_for_a_high_one(cost):
    env = gym.make(SP_ID, family="sp-mixed", world=24, horizon=40, cost=cost)
    switch = run_episode(env, ProbeCommitAgent(at=10, length=3, threshold=0.01, recent=5), 0)
    stay = run_episode(env, ProbeCommitAgent(at=10, length=3, threshold=100.0, recent=5), 0)
    serial_switch, serial_stay = switch.serial.to_numpy(), stay.serial.to_numpy()
    assert not serial_switch[:10].any() and serial_switch[10:].all()  # parallel until T, serial from T on
    assert not serial_stay[:10].any() and serial_stay[10:13].all() and not serial_stay[13:].any()  # probe, back
    # the two episodes are one trajectory until the decision: the probe is played the same either way
    np.testing.assert_array_equal(switch.reward.to_numpy()[:13], stay.reward.to_numpy()[:13])


def test_probe_commit_decides_on_the_probe_mean_over_the_recent_mean():
    flags = (True, False)  # serial is strategy 0, parallel 1
    rewards = [0.1, 0.1, 0.4, 0.4, 0.3, 0.5, 0.2, 0.2]  # baseline (trials 2-3) 0.4, probe (4-5) mean 0.4: ratio 1
    assert drive(ProbeCommitAgent(at=4, length=2, threshold=1.0, recent=2), flags, rewards) == [1, 1, 1, 1, 0, 0, 0, 0]
    assert drive(ProbeCommitAgent(at=4, length=2, threshold=1.01, recent=2), flags, rewards) == [1] * 4 + [0, 0, 1, 1]
    # recent 4 counts the 0.1s: baseline 0.25, ratio 1.6
    assert drive(ProbeCommitAgent(at=4, length=2, threshold=1.5, recent=4), flags, rewards)[6:] == [0, 0]
    assert drive(ProbeCommitAgent(at=4, length=2, threshold=1.5, recent=4), (False, True), rewards)[6:] == [1, 1]


def test_probe_commit_past_the_horizon():
    rewards = [0.5] * 6
    assert drive(ProbeCommitAgent(at=6, recent=2), (True, False), rewards) == [1] * 6  # T ≥ τ: always parallel
    assert drive(ProbeCommitAgent(at=4, length=5, recent=2), (True, False), rewards) == [1] * 4 + [0, 0]  # cut at τ


def test_probe_switches_on_a_zero_baseline():
    assert probe_switches(np.zeros((2, 3)), np.array([[0.2], [0.0]]), 5.0).tolist() == [True, False]


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"at": 0}, "at"), ({"at": 2.5}, "at"), ({"at": True}, "at"), ({"length": 0}, "length"),
    ({"threshold": 0.0}, "threshold"), ({"threshold": -1.0}, "threshold"), ({"threshold": float("nan")}, "threshold"),
    ({"recent": 0}, "recent"), ({"at": 10, "recent": 11}, "recent"),
])
def test_probe_commit_refuses_bad_settings_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        ProbeCommitAgent(**kwargs)


@pytest.mark.parametrize(("kwargs", "argument"), [({"explore": 0}, "explore"), ({"statistic": "median"}, "statistic")])
def test_etc_refuses_bad_settings_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        make_agent("etc", gym.make(LC_ID, horizon=20), **kwargs)


def test_probe_commit_needs_a_serial_and_a_parallel_strategy():
    with pytest.raises(ValueError, match="serial and a parallel"):
        drive(ProbeCommitAgent(at=2, recent=1), (True, True), [0.5] * 4)


def _scaled_curve(scale: float):
    return lambda n: scale * expit(0.03 * (np.asarray(n, dtype=np.float64) - 60.0))


@pytest.mark.parametrize("agent", [lambda: ProbeCommitAgent(at=100, length=5, threshold=0.9, recent=20),
                                   lambda: ETCAgent(explore=5)])
def test_frontier_agents_are_cost_blind_identical_rewards_give_identical_actions(agent):
    # two worlds with different hidden costs and accuracies but one reward stream: serial's accuracy is 0.5·σ at
    # c = 0 and 1.0·σ at c = 1 (÷ 2 gives the same reward, exactly in floating point)
    parallel = LogisticCurve(0.03, 200.0)
    common = {"horizon": 300, "batch_size": None}
    cheap = gym.make(LC_ID, cost=0.0, curves=(_scaled_curve(0.5), parallel), **common)
    dear = gym.make(LC_ID, cost=1.0, curves=(_scaled_curve(1.0), parallel), **common)
    a, b = run_episode(cheap, agent(), seed=3), run_episode(dear, agent(), seed=3)
    np.testing.assert_array_equal(a.reward.to_numpy(), b.reward.to_numpy())
    assert (a.raw_accuracy != b.raw_accuracy).any()  # the worlds differ in what the agent must not read
    np.testing.assert_array_equal(a.action.to_numpy(), b.action.to_numpy())
    assert a.action.nunique() == 2  # it played both: the equality is not that of a fixed strategy


@pytest.mark.parametrize("family", LC_FAMILIES)
def test_the_recorded_frontier_agent_of_every_lc_family_builds(family):
    spec = frontier_agent(family)
    assert spec is not None and CHOSEN[family] == read_frontier()[family]["rule"]
    assert agent_label(spec) == frontier_label(family) == f"frontier ({CHOSEN[family]})"
    name, settings = parse_agent(spec)
    settings.pop("name")  # the label, as experiments drop it before building (experiment.resolve_agents)
    agent = make_agent(name, gym.make(LC_ID, family=family, world=0), **settings)
    assert isinstance(agent, ETCAgent) and agent.rule == ETCRule.parse(CHOSEN[family])


def test_a_family_without_a_record_has_no_frontier_agent(tmp_path):
    assert frontier_agent("no-such-family") is None and frontier_label("no-such-family") is None
    path = tmp_path / "frontier.json"
    assert frontier_agent("sp-mixed", path) is None  # no file yet
    record = {"agent": 'probe-commit{"at": 10, "length": 3, "threshold": 0.9, "recent": 5}',
              "rule": "probe-10+3-0.9", "train_score": 0.9, "train": "train worlds 0–1 × train seeds 0–1",
              "command": "python -m …"}
    record_frontier("sp-mixed", record, path)
    record_frontier("lc-short", {**record, "rule": "other"}, path)  # merges, keeps the other family's record
    assert set(json.loads(path.read_text())) == {"sp-mixed", "lc-short"}
    name, settings = parse_agent(frontier_agent("sp-mixed", path))
    assert settings.pop("name") == "frontier (probe-10+3-0.9)"
    assert isinstance(make_agent(name, gym.make(SP_ID, horizon=20), **settings), ProbeCommitAgent)
    with pytest.raises(ValueError, match="command"):
        record_frontier("sp-mixed", {k: v for k, v in record.items() if k != "command"}, path)
