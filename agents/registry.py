"""Agents by name, for sweeps and the CLI: ``make_agent("ucb1", env)`` or ``make_agent("pkg.mod:Class", env)``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from agents.bandits import EpsilonGreedyAgent, GaussianThompsonAgent, SlidingWindowUCBAgent, UCB1Agent
from agents.base import Agent
from agents.baselines import FixedAgent, MixedAgent, OracleAgent, RandomAgent
from agents.meta_learner import MetaLearnerAgent
from agents.sagiv import sagiv_from_env

#: name -> factory(env, **kwargs) -> Agent. Other modules add theirs with :func:`register_agent`.
AGENTS: dict[str, Callable[..., Agent]] = {
    "serial": lambda env, **kw: FixedAgent("serial", **kw),
    "parallel": lambda env, **kw: FixedAgent("parallel", **kw),
    "random": lambda env, **kw: RandomAgent(**kw),
    "mixed": lambda env, **kw: MixedAgent(**kw),
    "ucb1": lambda env, **kw: UCB1Agent(**kw),
    "epsilon-greedy": lambda env, **kw: EpsilonGreedyAgent(**kw),
    "sw-ucb": lambda env, **kw: SlidingWindowUCBAgent(**kw),
    "gaussian-ts": lambda env, **kw: GaussianThompsonAgent(**kw),
    "oracle": lambda env, **kw: OracleAgent(env, **kw),
    "meta-learner": lambda env, **kw: MetaLearnerAgent(**kw),
    # Knows the hidden cost by definition: the factory hands it env.unwrapped.cost, read at each reset.
    "sagiv": sagiv_from_env,
}

#: Agents whose choices never depend on rewards: their learning trajectory is the same at every cost, so a
#: sweep runs them once per seed and re-discounts (benchmarks.runner.rediscount).
REWARD_INDEPENDENT_AGENTS: frozenset[str] = frozenset({"serial", "parallel", "random", "mixed"})

#: Modules whose import registers more agents (kept lazy: they pull in heavier dependencies).
PLUGIN_MODULES: tuple[str, ...] = ("agents.sb3",)


def register_agent(name: str, factory: Callable[..., Agent]) -> None:
    """Make ``factory(env, **kwargs)`` available to sweeps and the CLI under ``name``."""
    AGENTS[name] = factory


def agent_names() -> list[str]:
    """Every registered agent name."""
    _load_plugins()
    return sorted(AGENTS)


def make_agent(name: str, env: gym.Env, **kwargs: Any) -> Agent:
    """Build an agent by registered name, or ``module:Class`` for a user's own (called as ``Class(**kwargs)``)."""
    _load_plugins()
    if name in AGENTS:
        agent = AGENTS[name](env, **kwargs)
    elif ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(
                f"cannot load agent {name!r} ({error}); use module:Class of an importable class"
            ) from error
        agent = cls(**kwargs)
    else:
        raise ValueError(f"unknown agent {name!r}; registered agents: {sorted(AGENTS)}, or module:Class")
    missing = [m for m in ("name", "reset", "act", "observe") if not hasattr(agent, m)]
    if missing:
        raise ValueError(f"agent {name!r} lacks {missing} of the Agent protocol (name, reset, act, observe)")
    return agent


def _load_plugins() -> None:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)
