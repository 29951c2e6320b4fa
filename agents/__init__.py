"""Agents that choose a strategy per trial through the plain Gymnasium API (see :mod:`agents.base`)."""

from agents.bandits import EpsilonGreedyAgent, GaussianThompsonAgent, SlidingWindowUCBAgent, UCB1Agent
from agents.base import Agent, BaseAgent
from agents.baselines import FixedAgent, MixedAgent, OracleAgent, RandomAgent
from agents.meta_learner import MetaLearnerAgent
from agents.sagiv import SagivAgent

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
