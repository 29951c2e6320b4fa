"""Agents that choose a strategy per trial through the plain Gymnasium API (see :mod:`tradeoff_gym.agents.base`)."""

from tradeoff_gym.agents.bandits import EpsilonGreedyAgent, GaussianThompsonAgent, SlidingWindowUCBAgent, UCB1Agent
from tradeoff_gym.agents.base import Agent, BaseAgent
from tradeoff_gym.agents.baselines import FixedAgent, MixedAgent, OracleAgent, RandomAgent
from tradeoff_gym.agents.meta_learner import MetaLearnerAgent
from tradeoff_gym.agents.sagiv import SagivAgent

__all__ = [
    "Agent",
    "BaseAgent",
    "EpsilonGreedyAgent",
    "FixedAgent",
    "GaussianThompsonAgent",
    "MetaLearnerAgent",
    "MixedAgent",
    "OracleAgent",
    "RandomAgent",
    "SagivAgent",
    "SlidingWindowUCBAgent",
    "UCB1Agent",
]
