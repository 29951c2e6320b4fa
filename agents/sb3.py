"""Stable-Baselines3 policies as protocol agents: ``make_agent("sb3-ppo", env, path="ppo.zip")``.

Registered names ``sb3-ppo``, ``sb3-a2c`` and ``sb3-dqn`` (agent kwargs, all plain data for sweeps):

* ``path`` — load the saved policy there; with ``timesteps`` too, train and save it first if it is missing
  (a file cache that a whole sweep, and a resumed sweep, shares);
* ``timesteps`` — train a policy within this budget of environment steps on the run's environment id and
  settings, the cost replaced by ``train_cost`` (default the range (0, 1), drawn per episode, so the policy
  never sees the evaluation cost); trained once per process per setting, however many runs use it;
* ``train_seed``, ``hyperparams``, ``n_envs`` — as in :class:`tradeoff_gym.agents.sb3_training.SB3TrainConfig`;
* ``deterministic`` (default ``True``): the policy's most likely action; ``False`` samples it with the
  agent's own generator, never SB3's global-RNG sampling. Either way, same seed ⇒ same actions.
"""

from __future__ import annotations

import json
import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.dqn.policies import DQNPolicy

from tradeoff_gym.agents.base import BaseAgent
from tradeoff_gym.agents.sb3_training import (
    ALGORITHMS,
    SB3TrainConfig,
    TrainedPolicy,
    load_policy,
    metadata_path,
    save_policy,
    train_policy,
)
from tradeoff_gym.envs.interface import CostSpec
from tradeoff_gym.learners.checks import check_bool


class SB3Agent(BaseAgent):
    """A trained SB3 model (PPO, A2C, DQN; discrete actions, memoryless policy) playing through the protocol."""

    def __init__(self, model: BaseAlgorithm, *, deterministic: bool = True, name: str | None = None) -> None:
        if not isinstance(model, BaseAlgorithm):
            raise ValueError(f"model must be a stable_baselines3 algorithm instance, got {type(model).__name__}")
        if not isinstance(model.action_space, gym.spaces.Discrete):
            raise ValueError(f"model must have a Discrete action space (strategies), got {model.action_space}")
        if not isinstance(model.policy, (ActorCriticPolicy, DQNPolicy)):
            raise ValueError(
                f"model.policy must be a memoryless ActorCriticPolicy or DQNPolicy, got {type(model.policy).__name__}"
            )
        self.model = model
        self.deterministic = check_bool(deterministic, "deterministic")
        algo = next((k for k, cls in ALGORITHMS.items() if isinstance(model, cls)), type(model).__name__.lower())
        self.name = name or f"sb3-{algo}"

    @classmethod
    def load(cls, path: str | os.PathLike, algo: str | None = None, **kwargs: Any) -> SB3Agent:
        """An agent from a policy file (``model.save`` or :func:`~tradeoff_gym.agents.sb3_training.save_policy`)."""
        return cls(load_policy(path, algo), **kwargs)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        super().reset(info, rng)
        if self.n_actions != self.model.action_space.n:
            raise ValueError(
                f"the policy chooses among {self.model.action_space.n} strategies; this environment has "
                f"{self.n_actions} ({list(self.strategies)})"
            )

    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """``(n_actions,)``: the policy's action distribution (DQN: ε-greedy on Q with its final ε)."""
        policy = self.model.policy
        obs_tensor, _ = policy.obs_to_tensor(np.asarray(obs, dtype=np.float32))
        with torch.no_grad():
            if isinstance(policy, ActorCriticPolicy):
                probs = policy.get_distribution(obs_tensor).distribution.probs[0].cpu().numpy()
            else:
                q_values = policy.q_net(obs_tensor)[0].cpu().numpy()  # (n_actions,)
                epsilon = float(self.model.exploration_rate)
                probs = np.full(q_values.shape, epsilon / q_values.size)
                probs[int(np.argmax(q_values))] += 1.0 - epsilon
        return np.asarray(probs, dtype=np.float64)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        if self.deterministic:
            action, _ = self.model.policy.predict(np.asarray(obs, dtype=np.float32), deterministic=True)
            return int(action)
        probs = self.action_probabilities(obs)
        return int(self.rng.choice(probs.size, p=probs / probs.sum()))


#: Policies trained in this process by :func:`make_sb3_agent`, keyed by their training config.
_TRAINED: dict[str, TrainedPolicy] = {}


def training_config_for(
    env: gym.Env,
    algo: str,
    timesteps: int,
    *,
    train_cost: CostSpec | None = (0.0, 1.0),
    train_seed: int = 0,
    n_envs: int = 4,
    hyperparams: dict[str, Any] | None = None,
) -> SB3TrainConfig:
    """The training config matching ``env``: its registered id and settings, the cost replaced by ``train_cost``."""
    if env.spec is None or env.spec.id is None:
        raise ValueError(
            "env must come from gymnasium.make(<registered id>) to train a policy for it (env.spec is None)"
        )
    env_kwargs = {k: v for k, v in (env.spec.kwargs or {}).items() if k != "cost"}
    return SB3TrainConfig(
        algo=algo,
        timesteps=timesteps,
        env_id=env.spec.id,
        env_kwargs=env_kwargs,
        cost=train_cost,
        seed=train_seed,
        n_envs=n_envs,
        hyperparams=dict(hyperparams or {}),
    )


def _check_cached(path: str | os.PathLike, config: SB3TrainConfig) -> None:
    """Raise a ValueError unless the policy cached at ``path`` was trained with ``config`` (per ``<path>.json``)."""
    meta_file = metadata_path(path)
    saved = json.loads(meta_file.read_text()).get("config") if meta_file.is_file() else None
    wanted = json.loads(json.dumps(config.to_dict(), default=repr))
    if saved != wanted:
        raise ValueError(
            f"path {str(path)!r} holds a policy trained with {saved}, not the requested {wanted}; "
            "remove it or give another path"
        )


def make_sb3_agent(
    env: gym.Env,
    *,
    algo: str,
    path: str | os.PathLike | None = None,
    timesteps: int | None = None,
    train_cost: CostSpec | None = (0.0, 1.0),
    train_seed: int = 0,
    n_envs: int = 4,
    hyperparams: dict[str, Any] | None = None,
    deterministic: bool = True,
    name: str | None = None,
) -> SB3Agent:
    """Registry factory: load the policy at ``path``, or train one for ``env`` within ``timesteps`` (see module doc)."""
    if algo not in ALGORITHMS:
        raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
    if path is None and timesteps is None:
        raise ValueError("give path (a saved policy) or timesteps (a training budget), got neither")
    if path is not None and timesteps is None:
        return SB3Agent.load(path, algo, deterministic=deterministic, name=name)
    config = training_config_for(
        env, algo, timesteps, train_cost=train_cost, train_seed=train_seed, n_envs=n_envs, hyperparams=hyperparams
    )
    if path is not None and os.path.isfile(path):
        _check_cached(path, config)
        return SB3Agent.load(path, algo, deterministic=deterministic, name=name)
    key = repr(sorted(config.to_dict().items()))
    if key not in _TRAINED:
        _TRAINED[key] = train_policy(config)
    trained = _TRAINED[key]
    if path is not None:
        save_policy(trained, path)
    return SB3Agent(trained.model, deterministic=deterministic, name=name)
