"""The classic agents learn a problem with a clearly best strategy; fixed/random/oracle do what they say."""

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym.agents import (
    EpsilonGreedyAgent,
    FixedAgent,
    GaussianThompsonAgent,
    OracleAgent,
    RandomAgent,
    SlidingWindowUCBAgent,
    UCB1Agent,
)
from tradeoff_gym.agents.registry import agent_names, make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.learning_curves import LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"
LEARNERS = [UCB1Agent, EpsilonGreedyAgent, SlidingWindowUCBAgent, GaussianThompsonAgent]

# Two instances where one strategy is best at EVERY pick count, so even an agent that assumes
# stationary arms must find it. Margins: (a) c = 0 and serial's curve leads parallel's by 300 picks
# (reward gap ≥ 0.25 from pick 40 to 600); (b) identical curves and c = 1, so parallel pays exactly
# twice serial at every count (gap ≥ 0.25 once the curve passes 0.5, from pick 100 on).
CLEARLY_BEST = {
    "serial": {"cost": 0.0},
    "parallel": {"cost": 1.0, "curves": (LogisticCurve(0.02, 100.0), LogisticCurve(0.02, 100.0))},
}


@pytest.mark.parametrize("best", sorted(CLEARLY_BEST))
@pytest.mark.parametrize("agent_cls", LEARNERS, ids=lambda cls: cls.name)
def test_learning_agents_pick_the_clearly_best_strategy(agent_cls, best):
    env = gym.make(ENV_ID, horizon=1000, **CLEARLY_BEST[best])
    for seed in range(3):
        frame = run_episode(env, agent_cls(), seed)
        second_half = frame[frame.trial >= 500]
        assert (second_half.strategy == best).mean() >= 0.8, (agent_cls.name, seed)


def test_random_agent_is_uniform_and_oracle_beats_every_fixed_strategy():
    env = gym.make(ENV_ID, horizon=2000, cost=0.3)
    frame = run_episode(env, RandomAgent(), seed=1)
    assert (frame.action == 0).mean() == pytest.approx(0.5, abs=0.05)
    oracle = run_episode(env, OracleAgent(env), seed=2).reward.sum()
    fixed = [run_episode(env, FixedAgent(s), seed=2).reward.sum() for s in ("serial", "parallel")]
    assert oracle == pytest.approx(max(fixed))


def test_fixed_agent_by_index_and_unknown_name():
    env = gym.make(ENV_ID, horizon=5)
    assert (run_episode(env, FixedAgent(1), seed=0).strategy == "parallel").all()
    with pytest.raises(ValueError, match=r"strategy must be one of \['serial', 'parallel'\]"):
        run_episode(env, FixedAgent("pairs"), seed=0)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: UCB1Agent(exploration=-1), r"exploration must lie in \[0.0, inf\)"),
        (lambda: EpsilonGreedyAgent(epsilon=1.5), r"epsilon must lie in \[0.0, 1.0\]"),
        (lambda: SlidingWindowUCBAgent(window=0), r"window must be an integer >= 1"),
        (lambda: GaussianThompsonAgent(noise=0), r"noise must lie in \(0.0, inf\)"),
        (lambda: GaussianThompsonAgent(prior_mean=float("nan")), r"prior_mean must lie in"),
    ],
)
def test_invalid_hyperparameters_are_refused(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_registry_builds_by_name_and_module_class_and_lists_names_on_error():
    env = gym.make(ENV_ID, horizon=5)
    assert {"serial", "parallel", "random", "ucb1", "oracle"} <= set(agent_names())
    assert make_agent("tradeoff_gym.agents.bandits:UCB1Agent", env, exploration=0.5).exploration == 0.5
    with pytest.raises(ValueError, match=r"unknown agent 'nope'; registered agents: \[.*'ucb1'.*\]"):
        make_agent("nope", env)
    with pytest.raises(ValueError, match=r"cannot load agent 'tradeoff_gym.agents.bandits:Nope'"):
        make_agent("tradeoff_gym.agents.bandits:Nope", env)
    with pytest.raises(ValueError, match=r"OracleAgent needs an environment with known curves"):
        OracleAgent(gym.make("CartPole-v1"))


def test_agents_draw_only_from_their_own_stream():
    env = gym.make(ENV_ID, horizon=300)
    np.random.seed(0)  # noqa: NPY002  (deliberately perturbing the global state)
    first = run_episode(env, EpsilonGreedyAgent(epsilon=0.5), seed=4)
    np.random.seed(1)  # noqa: NPY002  (the global numpy state must not matter)
    second = run_episode(env, EpsilonGreedyAgent(epsilon=0.5), seed=4)
    assert first.equals(second)


def test_two_phase_agent_switches_once_at_its_fraction_of_the_horizon():
    env = gym.make("tradeoff/LearningCurves-v0", horizon=40)
    frame = run_episode(env, make_agent("two-phase", env, first="parallel", then="serial", switch=0.25), seed=0)
    assert frame.strategy.tolist() == ["parallel"] * 10 + ["serial"] * 30
    assert make_agent("two-phase", env).reward_independent  # reused across costs by sweeps
    with pytest.raises(ValueError, match="switch must lie in"):
        make_agent("two-phase", env, switch=1.5)
    with pytest.raises(ValueError, match=r"two-phase strategies \['solo'\] are not among"):
        run_episode(env, make_agent("two-phase", env, first="solo"), seed=0)
