"""The coupled look: parallel, one serial look, then the surrogate posterior's commitment; cost-blind, deterministic."""

import gymnasium as gym
import numpy as np
import pytest

import tradeoff_gym  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.coupled_look import CoupledLookAgent, look_switches, surrogate
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode

ENV = "tradeoff/CoupledCurves-v0"


def _episode(cost, at=1000, prior=("sp-mixed-w2", "sp-mixed-w6"), seed=0):
    env = gym.make(ENV, preset="sp-mixed-w2", horizon=5000, cost=cost)
    agent = CoupledLookAgent(prior=list(prior), at=at)
    return run_episode(env, agent, seed), agent


def test_plays_parallel_looks_once_then_commits_as_the_posterior_says():
    for cost in (0.0, 0.6, 1.0):
        frame, agent = _episode(cost)
        actions, rewards = frame.action.to_numpy(), frame.reward.to_numpy()
        assert (actions[:1000] == 1).all() and actions[1000] == 0
        components = [surrogate(name, 1000, 5000) for name in agent.calibrations]
        expected = look_switches(rewards[None, :1000], rewards[1000:1001], components, 0.05, 0.1)[0]
        assert (actions[1001:] == (0 if expected else 1)).all()
    # serial pays ÷ (1 + c): a free look switches on world 2's own surrogate, the dearest one stays parallel
    assert _episode(0.0)[0].action.to_numpy()[-1] == 0
    assert _episode(1.0)[0].action.to_numpy()[-1] == 1


def test_cost_blind_and_deterministic():
    # the same rewards give the same actions whatever the cost behind them; the agent draws nothing
    a, _ = _episode(0.3, seed=5)
    b, _ = _episode(0.3, seed=5)
    np.testing.assert_array_equal(a.action.to_numpy(), b.action.to_numpy())
    agent = CoupledLookAgent(prior=["sp-mixed-w2"], at=50)
    env = gym.make(ENV, preset="sp-mixed-w2", horizon=200, cost=0.4)
    _, info = env.reset(seed=0)
    agent.reset(info, np.random.default_rng(0))
    rewards = np.linspace(0.2, 0.4, 51)
    for r in rewards:
        agent.observe(agent.act(None, {}), float(r), None, {})
    twin = CoupledLookAgent(prior=["sp-mixed-w2"], at=50)
    twin.reset({**info, "cost": 99.0}, np.random.default_rng(1))
    for r in rewards:
        twin.observe(twin.act(None, {}), float(r), None, {})
    assert agent.switched == twin.switched


def test_the_family_prior_is_its_train_worlds_surrogates_and_short_episodes_stay_parallel():
    env = gym.make(ENV, preset="sp-mixed-w0", horizon=100, cost=0.0)
    agent = make_agent("coupled-look", env)
    assert agent.calibrations[0] == "sp-mixed-w0" and all(n.startswith("sp-mixed-w") for n in agent.calibrations)
    frame = run_episode(env, agent, 0)  # at = 1000 > τ: parallel throughout
    assert (frame.action.to_numpy() == 1).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"prior": "lc-wide"}, "no shipped surrogate"), ({"prior": []}, "prior"), ({"prior": ["nope"]}, "calibration"),
    ({"at": 10}, "at"), ({"model_noise": 0.0}, "model_noise"), ({"look_noise": -1.0}, "look_noise"),
])
def test_bad_settings_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CoupledLookAgent(**kwargs)
