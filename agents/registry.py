"""Agents by name, for sweeps and the CLI: ``make_agent("ucb1", env)`` or ``make_agent("pkg.mod:Class", env)``.

The registry name is the agent's one identity: the agent it builds carries it as ``name``, and results,
reports and the CLI show it. Whether an agent's choices ignore rewards is a property of its class
(``reward_independent``), read here for the sweep's exact cost reuse.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from tradeoff_gym.agents.bandits import EpsilonGreedyAgent, GaussianThompsonAgent, SlidingWindowUCBAgent, UCB1Agent
from tradeoff_gym.agents.base import Agent
from tradeoff_gym.agents.baselines import FixedAgent, MixedAgent, OracleAgent, RandomAgent, TwoPhaseAgent
from tradeoff_gym.agents.coupled_look import CoupledLookAgent
from tradeoff_gym.agents.frontier import ETCAgent, ProbeCommitAgent
from tradeoff_gym.agents.meta_learner import MetaLearnerAgent
from tradeoff_gym.agents.navigator import NavigatorAgent
from tradeoff_gym.agents.planner import PlannerAgent
from tradeoff_gym.agents.rising import CumulativeRisingUCBAgent, RisingUCBAgent
from tradeoff_gym.agents.sagiv import SagivAgent

PROTOCOL: tuple[str, ...] = ("name", "reset", "act", "observe")


@dataclass(frozen=True)
class AgentEntry:
    """How the registry builds one agent.

    ``cls`` the agent class, or ``"module:Class"`` imported only when needed (heavy dependencies);
    ``factory(env, **kwargs)`` builds it when it needs the env (``None``: ``cls(**kwargs)``), also a class or
    ``"module:function"``; ``defaults`` keyword arguments every build gets (a caller's kwargs override them).
    """

    cls: type | str
    factory: Callable[..., Agent] | str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)


def _sagiv_from_env(env: gym.Env, **kwargs: Any) -> SagivAgent:
    """Sagiv et al.'s agent knows the cost by definition: it gets the env's drawn cost and its reward rule.

    The cost is read when the agent is reset (the run loop resets the env first, so the episode's cost is
    drawn); ``kwargs`` set hyperparameters (or another ``rule``).
    """
    unwrapped = env.unwrapped
    if not hasattr(unwrapped, "cost"):
        raise ValueError(f"sagiv needs an environment exposing its cost; {type(unwrapped).__name__} has none")
    if hasattr(unwrapped, "reward_rule"):
        kwargs = {"rule": unwrapped.reward_rule, **kwargs}
    return SagivAgent(lambda: float(unwrapped.cost), **kwargs)


#: name -> how to build it. Other modules add theirs with :func:`register_agent`.
AGENTS: dict[str, AgentEntry] = {
    "serial": AgentEntry(FixedAgent, defaults={"strategy": "serial"}),
    "parallel": AgentEntry(FixedAgent, defaults={"strategy": "parallel"}),
    "random": AgentEntry(RandomAgent),
    "mixed": AgentEntry(MixedAgent),
    "two-phase": AgentEntry(TwoPhaseAgent),
    "ucb1": AgentEntry(UCB1Agent),
    "epsilon-greedy": AgentEntry(EpsilonGreedyAgent),
    "sw-ucb": AgentEntry(SlidingWindowUCBAgent),
    "gaussian-ts": AgentEntry(GaussianThompsonAgent),
    "oracle": AgentEntry(OracleAgent, factory=OracleAgent),
    "meta-learner": AgentEntry(MetaLearnerAgent),
    "sagiv": AgentEntry(SagivAgent, factory=_sagiv_from_env),
    "r-ed-ucb": AgentEntry(RisingUCBAgent),
    "cure-ucb": AgentEntry(CumulativeRisingUCBAgent),
    "navigator": AgentEntry(NavigatorAgent),
    "planner": AgentEntry(PlannerAgent),
    "etc": AgentEntry(ETCAgent),
    "probe-commit": AgentEntry(ProbeCommitAgent),
    "coupled-look": AgentEntry(CoupledLookAgent),
    **{
        f"sb3-{algo}": AgentEntry(
            "tradeoff_gym.agents.sb3:SB3Agent",
            factory="tradeoff_gym.agents.sb3:make_sb3_agent",
            defaults={"algo": algo},
        )
        for algo in ("ppo", "a2c", "dqn")
    },
}


def register_agent(name: str, entry: AgentEntry) -> None:
    """Make an agent available to sweeps and the CLI under ``name``."""
    if not isinstance(entry, AgentEntry):
        raise ValueError(f"entry must be an AgentEntry, got {entry!r}")
    AGENTS[name] = entry


def agent_names() -> list[str]:
    """Every registered agent name."""
    return sorted(AGENTS)


def _load(target: str, what: str) -> Any:
    """Import ``module:attribute`` (from the import path, which the CLI extends with the working directory)."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{what} {target!r} must be module:Class")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load {what} {target!r} ({error}); use module:Class of an importable class") from None


def load_agent_class(name: str) -> type:
    """The class behind a registered name or a user's ``module:Class``; a ValueError if it cannot be loaded.

    A user's class must define the protocol (``name``, ``reset``, ``act``, ``observe``); the CLI calls this
    before a sweep starts so a typo fails at once.
    """
    if name in AGENTS:
        cls = AGENTS[name].cls
        return _load(cls, "agent") if isinstance(cls, str) else cls
    if ":" not in name:
        raise ValueError(f"unknown agent {name!r}; registered agents: {agent_names()}, or module:Class")
    cls = _load(name, "agent")
    missing = [m for m in PROTOCOL if not hasattr(cls, m)]
    if not isinstance(cls, type) or missing:
        raise ValueError(f"agent {name!r} must be a class with {list(PROTOCOL)}; it lacks {missing or 'a class'}")
    return cls


def is_reward_independent(name: str) -> bool:
    """Whether the agent's choices never depend on rewards (its class's ``reward_independent``, default False)."""
    return bool(getattr(load_agent_class(name), "reward_independent", False))


def make_agent(name: str, env: gym.Env, **kwargs: Any) -> Agent:
    """Build an agent by registered name, or ``module:Class`` for a user's own (called as ``Class(**kwargs)``)."""
    cls = load_agent_class(name)
    entry = AGENTS.get(name)
    if entry is None:
        agent = cls(**kwargs)
    else:
        settings = {**entry.defaults, **kwargs}
        factory = _load(entry.factory, "agent factory") if isinstance(entry.factory, str) else entry.factory
        agent = factory(env, **settings) if factory is not None else cls(**settings)
    missing = [m for m in PROTOCOL if not hasattr(agent, m)]
    if missing:
        raise ValueError(f"agent {name!r} lacks {missing} of the Agent protocol {list(PROTOCOL)}")
    return agent
