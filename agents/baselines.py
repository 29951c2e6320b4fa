"""Reference agents that ignore learning: fixed strategies, two-phase schedules, uniform random, and the oracle."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from tradeoff_gym.agents.base import BaseAgent
from tradeoff_gym.learners.checks import check_number


class FixedAgent(BaseAgent):
    """Always plays one strategy, given by name (``"serial"``) or index; named after it.

    Examples:
        The agent protocol by hand: ``reset`` with the env's reset info and the agent's own random stream,
        then ``act``/``observe`` once per trial.

        >>> import gymnasium as gym
        >>> import numpy as np
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.baselines import FixedAgent
        >>> env = gym.make("tradeoff/LearningCurves-v0", horizon=3)
        >>> obs, info = env.reset(seed=0)
        >>> agent = FixedAgent("parallel")
        >>> agent.reset(info, np.random.default_rng(0))
        >>> action = agent.act(obs, info)
        >>> obs, reward, terminated, truncated, info = env.step(action)
        >>> agent.observe(action, reward, obs, info)
        >>> agent.name, action, info["strategy"]
        ('parallel', 1, 'parallel')
    """

    reward_independent = True

    def __init__(self, strategy: str | int = "serial") -> None:
        if isinstance(strategy, bool) or not isinstance(strategy, (str, int, np.integer)):
            raise ValueError(f"strategy must be a strategy name or index, got {strategy!r}")
        self.strategy = strategy
        self.name = strategy if isinstance(strategy, str) else f"strategy-{int(strategy)}"

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        if isinstance(self.strategy, str):
            if self.strategy not in self.strategies:
                raise ValueError(f"strategy must be one of {list(self.strategies)}, got {self.strategy!r}")
            self._action = self.strategies.index(self.strategy)
        else:
            if not 0 <= int(self.strategy) < self.n_actions:
                raise ValueError(f"strategy index must be in [0, {self.n_actions - 1}], got {self.strategy!r}")
            self._action = int(self.strategy)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        return self._action


class TwoPhaseAgent(BaseAgent):
    """Plays ``first`` for the first ``round(switch · τ)`` trials of an episode, then ``then`` to the end.

    A schedule fixed in advance (no rewards read), so the best one over a grid of switch points is a reference
    stronger than the best fixed strategy: it shows whether adapting *when* to change strategy can pay at all
    in a world, in hindsight. ``switch`` is a fraction of the horizon in [0, 1] (0: always ``then``).

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.baselines import TwoPhaseAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", horizon=10)
        >>> frame = run_episode(env, TwoPhaseAgent("serial", "parallel", switch=0.3), seed=0)
        >>> "".join(name[0] for name in frame.strategy)  # s = serial, p = parallel
        'sssppppppp'
    """

    name = "two-phase"
    reward_independent = True

    def __init__(self, first: str = "serial", then: str = "parallel", switch: float = 0.5) -> None:
        for field, value in (("first", first), ("then", then)):
            if not isinstance(value, str):
                raise ValueError(f"{field} must be a strategy name, got {value!r}")
        self.first, self.then = first, then
        self.switch = check_number(switch, "switch", 0.0, 1.0)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        missing = [n for n in (self.first, self.then) if n not in self.strategies]
        if missing:
            raise ValueError(f"two-phase strategies {missing} are not among the env's {list(self.strategies)}")
        self._actions = (self.strategies.index(self.first), self.strategies.index(self.then))
        self._switch_trial = int(round(self.switch * self.horizon))
        self._trial = 0

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        action = self._actions[self._trial >= self._switch_trial]
        self._trial += 1
        return action


class RandomAgent(BaseAgent):
    """Picks a strategy uniformly at random every trial.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.baselines import RandomAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", horizon=300)
        >>> frame = run_episode(env, RandomAgent(), seed=0)  # one row per trial
        >>> frame.strategy.value_counts().sort_index().to_dict()
        {'parallel': 151, 'serial': 149}
    """

    name = "random"
    reward_independent = True

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        return int(self.rng.integers(self.n_actions))


class MixedAgent(BaseAgent):
    """Plays ``parallel`` with probability ``p_parallel``, else ``serial`` (the parallel-training share, Fig 4).

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.baselines import MixedAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", horizon=300)
        >>> frame = run_episode(env, MixedAgent(p_parallel=0.25), seed=0)
        >>> frame.strategy.value_counts().to_dict()
        {'serial': 225, 'parallel': 75}
    """

    name = "mixed"
    reward_independent = True

    def __init__(self, p_parallel: float = 0.5, parallel: str = "parallel", serial: str = "serial") -> None:
        self.p_parallel = check_number(p_parallel, "p_parallel", 0, 1)
        self._names = (serial, parallel)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        missing = [n for n in self._names if n not in self.strategies]
        if missing:
            raise ValueError(f"MixedAgent needs strategies {list(self._names)}; the env has {list(self.strategies)}")
        self._serial, self._parallel = (self.strategies.index(n) for n in self._names)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        return self._parallel if self.rng.random() < self.p_parallel else self._serial


class OracleAgent(BaseAgent):
    """Plays the best fixed strategy, computed from the environment's true curves and hidden cost.

    The regret reference: it is handed the environment itself and reads, at every reset, the expected
    return of each fixed strategy (``env.unwrapped.expected_fixed_returns()``) under that episode's cost.
    Environments without known curves (e.g. the neural SerialParallel) do not offer this; use
    ``FixedAgent`` runs and pick the best one post hoc instead.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> from tradeoff_gym.agents.baselines import OracleAgent
        >>> from tradeoff_gym.benchmarks.run_loop import run_episode
        >>> env = gym.make("tradeoff/LearningCurves-v0", cost=0.9, horizon=1000)
        >>> agent = OracleAgent(env)  # reads the env's hidden cost and known curves
        >>> frame = run_episode(env, agent, seed=0)
        >>> agent.expected_returns.round(1).tolist(), frame.strategy.unique().tolist()
        ([470.1, 599.5], ['parallel'])
    """

    name = "oracle"

    def __init__(self, env: gym.Env) -> None:
        unwrapped = env.unwrapped
        if not hasattr(unwrapped, "expected_fixed_returns"):
            raise ValueError(
                f"OracleAgent needs an environment with known curves (expected_fixed_returns); "
                f"{type(unwrapped).__name__} has none"
            )
        self._env = unwrapped

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        # Called after env.reset by the run loop, so the episode's cost has been drawn.
        self.expected_returns = np.asarray(self._env.expected_fixed_returns())
        self._action = int(np.argmax(self.expected_returns))

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        return self._action
