"""Agents that choose a strategy per trial through the plain Gymnasium API (see :mod:`agents.base`)."""

from agents.bandits import EpsilonGreedyAgent, GaussianThompsonAgent, SlidingWindowUCBAgent, UCB1Agent
from agents.base import Agent, BaseAgent
from agents.baselines import FixedAgent, MixedAgent, OracleAgent, RandomAgent

__all__ = [
    "Agent",
    "BaseAgent",
    "EpsilonGreedyAgent",
    "FixedAgent",
    "GaussianThompsonAgent",
    "MixedAgent",
    "OracleAgent",
    "RandomAgent",
    "SlidingWindowUCBAgent",
    "UCB1Agent",
]
