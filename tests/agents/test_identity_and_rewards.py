"""One identity per agent (its registry name), the reward-independence flag, and no decision from NaN."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym.agents import MetaLearnerAgent, SagivAgent
from tradeoff_gym.agents.base import argmax_random_tie
from tradeoff_gym.agents.registry import AGENTS, agent_names, is_reward_independent, load_agent_class, make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.common import SummaryObservation, reset_info, step_info
from tradeoff_gym.envs.interface import Strategy

ENV_ID = "tradeoff/LearningCurves-v0"
INFO = {"strategies": ("serial", "parallel"), "serial": (True, False), "horizon": 20, "n_tasks": 4, "trial": 0}
LEARNING = ["ucb1", "epsilon-greedy", "sw-ucb", "gaussian-ts", "meta-learner", "sagiv"]


@pytest.mark.parametrize("name", [n for n in sorted(AGENTS) if not n.startswith("sb3-")])
def test_every_registered_agent_carries_its_registry_name(name):
    env = gym.make(ENV_ID, horizon=20)
    agent = make_agent(name, env)
    assert agent.name == name
    assert run_episode(env, agent, seed=0).agent.unique().tolist() == [name]


def test_sb3_entries_are_listed_without_importing_stable_baselines():
    code = "import sys, tradeoff_gym.agents.registry as r; " \
           "print(sorted(n for n in r.agent_names() if n.startswith('sb3'))); " \
           "print('stable_baselines3' in sys.modules, 'tradeoff_gym.agents.sb3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "['sb3-a2c', 'sb3-dqn', 'sb3-ppo']" and out[1] == "False False"


def test_agents_sb3_does_not_import_the_registry():
    code = "import sys, tradeoff_gym.agents.sb3; print('tradeoff_gym.agents.registry' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_reward_independence_is_a_property_of_the_class():
    independent = {n for n in agent_names() if is_reward_independent(n)}
    assert independent == {"serial", "parallel", "random", "mixed", "two-phase"}
    assert is_reward_independent("tradeoff_gym.agents.baselines:FixedAgent")
    assert not is_reward_independent("tradeoff_gym.agents.bandits:UCB1Agent")


def test_a_users_module_class_is_loaded_and_checked():
    assert load_agent_class("tradeoff_gym.agents.bandits:UCB1Agent").__name__ == "UCB1Agent"
    with pytest.raises(ValueError, match="cannot load agent 'nosuchmodule:Agent'"):
        load_agent_class("nosuchmodule:Agent")
    with pytest.raises(ValueError, match="must be a class with"):
        load_agent_class("numpy:pi")
    with pytest.raises(ValueError, match=r"unknown agent 'ucb2'; registered agents: \["):
        load_agent_class("ucb2")


def test_the_serial_column_comes_from_the_strategy_table_not_the_name():
    strategies = (Strategy("one-by-one", serial=True), Strategy("together", serial=False))
    env = gym.make(ENV_ID, horizon=30, strategies=strategies)
    frame = run_episode(env, make_agent("random", env), seed=1)
    assert (frame.serial == (frame.strategy == "one-by-one")).all() and frame.serial.any() and not frame.serial.all()


class _BadRewardEnv(gym.Env):
    """Pays ``value`` on its third trial."""

    observation_space = SummaryObservation(2, 5).space
    action_space = gym.spaces.Discrete(2)

    def __init__(self, value: float) -> None:
        self.value = value

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(5, np.float32), reset_info((Strategy("serial", True), Strategy("parallel", False)), 5, 1)

    def step(self, action):
        self.t += 1
        reward = self.value if self.t == 3 else 0.5
        info = step_info(Strategy("parallel", False), np.array([reward]), np.array([0.5]), self.t, np.zeros(2))
        return np.zeros(5, np.float32), reward, False, self.t == 5, info


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_the_run_loop_refuses_a_non_finite_reward_naming_env_trial_and_value(value):
    with pytest.raises(ValueError, match=rf"myenv returned a non-finite reward {value!r} at trial 2"):
        run_episode(_BadRewardEnv(value), make_agent("ucb1", gym.make(ENV_ID)), seed=0, env_id="myenv")


@pytest.mark.parametrize("name", LEARNING)
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_no_learning_agent_turns_a_non_finite_reward_into_a_decision(name, value):
    agent = make_agent(name, gym.make(ENV_ID, horizon=20))
    agent.reset(INFO, np.random.default_rng(0))
    info = step_info(Strategy("serial", True), np.full(4, 0.5), np.full(4, 0.5), 1, np.array([1, 0]))
    with pytest.raises(ValueError, match="must be a finite number"):
        agent.observe(0, value, np.zeros(5, np.float32), info)


@pytest.mark.parametrize("agent", [MetaLearnerAgent(), SagivAgent(0.5)])
def test_model_based_agents_refuse_infinite_task_values(agent):
    agent.reset(INFO, np.random.default_rng(0))
    bad = np.array([0.5, np.inf, 0.5, 0.5])
    info = step_info(Strategy("serial", True), bad, bad, 1, np.array([1, 0]))
    with pytest.raises(ValueError, match="must be finite or NaN"):
        agent.observe(0, 0.5, np.zeros(5, np.float32), info)


def test_argmax_breaks_ties_at_random_and_refuses_nan():
    rng = np.random.default_rng(0)
    picks = {argmax_random_tie(np.array([1.0, 3.0, 3.0]), rng) for _ in range(50)}
    assert picks == {1, 2}
    with pytest.raises(ValueError, match="without NaN"):
        argmax_random_tie(np.array([1.0, np.nan]), rng)
