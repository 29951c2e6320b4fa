"""Train Stable-Baselines3 policies on the trade-off environments, with the cost hidden and drawn per episode.

Command line (see ``--help``)::

    python -m tradeoff_gym.agents.sb3_training --algo ppo --timesteps 200000 --out policies/ppo.zip

Observation choice — memoryless policy on :class:`tradeoff_gym.envs.common.SummaryObservation`. The summary holds the
fraction of the episode elapsed and every strategy's pick fraction, so a strategy's own pick count
``n_a = pick_fraction_a · elapsed · horizon`` is a function of the observation; together with the
strategy's recent (EMA) reward it pins down where that strategy sits on its learning curve and, for a
serial strategy, the hidden cost (reward ≈ accuracy(n) / (1 + c) once the curve is fixed across episodes).
On LearningCurves with per-episode costs that is enough for a feed-forward policy to represent the
cost-adaptive rule "play serial a few trials, then commit to whichever strategy pays more for this cost",
so no recurrent policy (sb3-contrib) is added: memory would not add information, only parameters.
Representable is not learned, though: at budgets of a few hundred thousand steps PPO and DQN settle on
the best fixed strategy *on average over costs* (serial on the default instance) and do not switch when
the cost is high — the per-step advantage of committing early is small against the return's spread over
costs (``benchmarks/scripts/bench_sb3.py`` measures it). The summary also cannot extrapolate a curve the agent
has barely sampled; the model-based meta-learner does that with its curve posterior.

Randomness: SB3 seeds the global ``random``/NumPy/torch generators when a model is built or loaded with a
seed; :func:`preserve_global_rng` wraps every such call here so our process's global state is left as it
was, and training itself is reproducible from ``SB3TrainConfig.seed``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from tradeoff_gym import envs  # noqa: F401  (registers the environment ids)
from tradeoff_gym.envs.interface import CostSpec, check_cost
from tradeoff_gym.learners.checks import check_int, check_positive_int
from tradeoff_gym.learners.files import atomic_write

#: SB3 algorithms an agent can be trained with / loaded as, by lower-case name.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN}

#: Scalar step-info keys of every environment, recorded per episode by SB3's ``Monitor`` (final step's value).
INFO_KEYWORDS: tuple[str, ...] = ("raw_accuracy", "strategy")

#: Constructor defaults per algorithm (tuned on LearningCurves: long horizon, undiscounted return).
DEFAULT_HYPERPARAMS: dict[str, dict[str, Any]] = {
    "ppo": {"n_steps": 1000, "batch_size": 500, "gamma": 1.0, "gae_lambda": 0.98, "ent_coef": 0.01},
    "a2c": {"n_steps": 50, "gamma": 1.0, "gae_lambda": 0.98, "ent_coef": 0.01},
    "dqn": {"gamma": 0.999, "learning_starts": 1000, "exploration_fraction": 0.3, "target_update_interval": 1000},
}


@contextlib.contextmanager
def preserve_global_rng() -> Iterator[None]:
    """Restore the global ``random``, NumPy and torch generator states on exit (SB3 reseeds them)."""
    # Reading/writing the global state is the point here: it is what SB3 clobbers and we put back.
    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        torch.set_rng_state(torch_state)


def _check_json_dict(value: Any, name: str) -> dict[str, Any]:
    """Raise a ValueError naming ``name`` unless ``value`` is a dict with string keys."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{name} must be a dict with string keys, got {value!r}")
    return dict(value)


@dataclass(frozen=True)
class SB3TrainConfig:
    """How to train one SB3 policy; validated at construction.

    The policy is trained on ``env_id`` built with ``env_kwargs`` and, unless ``cost`` is ``None``, the
    cost replaced by ``cost`` — by default a ``(0, 1)`` range drawn per episode, so the policy must infer it
    from rewards. ``timesteps`` are environment steps (trials) over all ``n_envs`` copies. With
    ``finetune_env_id`` set, training continues for ``finetune_timesteps`` on that environment (it must have
    the same observation and action spaces, e.g. ``tradeoff/SerialParallel-v0``). ``hyperparams`` override
    :data:`DEFAULT_HYPERPARAMS` of the algorithm and go to its constructor.
    """

    algo: str = "ppo"
    timesteps: int = 200_000
    env_id: str = "tradeoff/LearningCurves-v0"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    cost: CostSpec | None = (0.0, 1.0)
    seed: int = 0
    n_envs: int = 4
    normalize_reward: bool = True
    hyperparams: dict[str, Any] = field(default_factory=dict)
    finetune_env_id: str | None = None
    finetune_env_kwargs: dict[str, Any] = field(default_factory=dict)
    finetune_timesteps: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {self.algo!r}")
        set_(self, "timesteps", check_positive_int(self.timesteps, "timesteps"))
        set_(self, "n_envs", check_positive_int(self.n_envs, "n_envs"))
        set_(self, "seed", check_int(self.seed, "seed", 0))
        for name in ("env_id", "finetune_env_id"):
            value = getattr(self, name)
            if value is not None and value not in gym.registry:
                raise ValueError(
                    f"{name} must be a registered Gymnasium id (e.g. {sorted(envs.ENV_IDS)}), got {value!r}"
                )
        if self.env_id is None:
            raise ValueError("env_id must be a registered Gymnasium id, got None")
        set_(self, "env_kwargs", _check_json_dict(self.env_kwargs, "env_kwargs"))
        set_(self, "finetune_env_kwargs", _check_json_dict(self.finetune_env_kwargs, "finetune_env_kwargs"))
        set_(self, "hyperparams", _check_json_dict(self.hyperparams, "hyperparams"))
        if self.cost is not None:
            cost = check_cost(self.cost)
            set_(self, "cost", tuple(cost) if isinstance(cost, tuple) else cost)
        set_(self, "finetune_timesteps", check_int(self.finetune_timesteps, "finetune_timesteps", 0))
        if (self.finetune_env_id is None) != (self.finetune_timesteps == 0):
            raise ValueError(
                f"finetune_env_id and finetune_timesteps go together (an id and >= 1 step, or neither), "
                f"got {self.finetune_env_id!r} and {self.finetune_timesteps!r}"
            )

    def algo_kwargs(self) -> dict[str, Any]:
        """The algorithm's constructor keywords: defaults overridden by ``hyperparams``."""
        return {**DEFAULT_HYPERPARAMS[self.algo], **self.hyperparams}

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable) for the metadata file next to a saved policy."""
        data = dataclasses.asdict(self)
        data["cost"] = list(self.cost) if isinstance(self.cost, tuple) else self.cost
        return data


@dataclass
class TrainedPolicy:
    """A trained model, the config that made it, the training wall time (s) and per-episode returns."""

    model: BaseAlgorithm
    config: SB3TrainConfig
    wall_time_s: float
    episode_returns: np.ndarray  # (n_episodes,) training-episode returns, in completion order per env


def make_training_env(
    env_id: str, env_kwargs: dict[str, Any], n_envs: int, *, monitor_dir: Path | None = None
) -> DummyVecEnv:
    """``n_envs`` copies of ``env_id`` each in a ``Monitor`` recording :data:`INFO_KEYWORDS`; seeded by the model."""

    def make(i: int) -> gym.Env:
        env = gym.make(env_id, **env_kwargs)
        filename = None if monitor_dir is None else str(Path(monitor_dir) / f"{env_id.replace('/', '_')}-{i}")
        return Monitor(env, filename=filename, info_keywords=INFO_KEYWORDS)

    return DummyVecEnv([lambda i=i: make(i) for i in range(n_envs)])


def _episode_returns(venv: VecEnv) -> np.ndarray:
    """Concatenated training-episode returns of every ``Monitor`` inside ``venv``."""
    while isinstance(venv, VecNormalize):
        venv = venv.venv
    return np.concatenate([np.asarray(m.get_episode_rewards(), dtype=np.float64) for m in venv.envs])


def _wrap(venv: DummyVecEnv, config: SB3TrainConfig) -> VecEnv:
    """Reward normalization (observations are already in [-1, 1]) when the config asks for it."""
    if not config.normalize_reward:
        return venv
    gamma = float(config.algo_kwargs().get("gamma", 0.99))
    return VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=gamma)


def train_policy(config: SB3TrainConfig, *, monitor_dir: Path | None = None, verbose: int = 0) -> TrainedPolicy:
    """Train ``config.algo`` on the configured environment (then fine-tune if asked); deterministic in ``seed``.

    ``monitor_dir``: where SB3's ``Monitor`` writes one CSV per environment copy (``None``: in memory only).
    The global RNG states are restored afterwards.
    """
    if monitor_dir is not None:
        Path(monitor_dir).mkdir(parents=True, exist_ok=True)
    env_kwargs = dict(config.env_kwargs)
    if config.cost is not None:
        env_kwargs["cost"] = config.cost
    start = time.perf_counter()
    with preserve_global_rng():
        venv = _wrap(make_training_env(config.env_id, env_kwargs, config.n_envs, monitor_dir=monitor_dir), config)
        model = ALGORITHMS[config.algo](
            "MlpPolicy", venv, seed=config.seed, device="cpu", verbose=verbose, **config.algo_kwargs()
        )
        model.learn(total_timesteps=config.timesteps)
        returns = [_episode_returns(venv)]
        if config.finetune_env_id is not None:
            tune_env = make_training_env(
                config.finetune_env_id, dict(config.finetune_env_kwargs), config.n_envs, monitor_dir=monitor_dir
            )
            if tune_env.observation_space != venv.observation_space or tune_env.action_space != venv.action_space:
                raise ValueError(
                    f"finetune_env_id {config.finetune_env_id!r} must have the training spaces "
                    f"{venv.observation_space} / {venv.action_space}, got "
                    f"{tune_env.observation_space} / {tune_env.action_space}"
                )
            tune_env.seed(config.seed + 1_000_003)
            tune_venv = _wrap(tune_env, config)
            model.set_env(tune_venv)
            model.learn(total_timesteps=config.finetune_timesteps, reset_num_timesteps=False)
            returns.append(_episode_returns(tune_venv))
    wall = time.perf_counter() - start
    return TrainedPolicy(model=model, config=config, wall_time_s=wall, episode_returns=np.concatenate(returns))


def metadata_path(path: str | os.PathLike) -> Path:
    """The JSON file saved next to a policy: ``<path>.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def save_policy(trained: TrainedPolicy, path: str | os.PathLike) -> Path:
    """Write the model to ``path`` (SB3 zip, atomically) and its provenance to ``<path>.json``; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "algo": trained.config.algo,
        "config": trained.config.to_dict(),
        "wall_time_s": trained.wall_time_s,
        "training_episodes": int(trained.episode_returns.size),
        "stable_baselines3": stable_baselines3.__version__,
    }
    atomic_write(path, trained.model.save)
    atomic_write(metadata_path(path), lambda f: f.write(json.dumps(meta, indent=2, default=repr).encode()))
    return path


def load_policy(path: str | os.PathLike, algo: str | None = None) -> BaseAlgorithm:
    """Load a saved policy for inference on CPU; ``algo`` defaults to the one named in ``<path>.json``.

    A metadata file that names a different algorithm than ``algo`` raises a ValueError.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing SB3 policy file, got {str(path)!r}")
    meta_file = metadata_path(path)
    saved_algo = json.loads(meta_file.read_text())["algo"] if meta_file.is_file() else None
    if algo is None:
        algo = saved_algo
    if algo not in ALGORITHMS:
        raise ValueError(
            f"algo must be one of {sorted(ALGORITHMS)} (no {meta_file.name} to read it from), got {algo!r}"
        )
    if saved_algo is not None and saved_algo != algo:
        raise ValueError(f"algo {algo!r} does not match {saved_algo!r}, the algorithm {path.name} was trained with")
    with preserve_global_rng(), open(path, "rb") as handle:
        return ALGORITHMS[algo].load(handle, device="cpu")


def _cost_arg(values: list[float]) -> CostSpec:
    """``--cost C`` or ``--cost LOW HIGH``."""
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return (values[0], values[1])
    raise ValueError(f"cost takes one value or two (low high), got {values}")


def main(argv: list[str] | None = None) -> None:
    """Command line: train a policy and save it (plus ``<out>.json`` with its config and wall time)."""
    parser = argparse.ArgumentParser(prog="python -m tradeoff_gym.agents.sb3_training", description=main.__doc__)
    parser.add_argument("--algo", choices=sorted(ALGORITHMS), default="ppo")
    parser.add_argument("--timesteps", type=int, required=True, help="environment steps (trials), all copies")
    parser.add_argument("--out", type=Path, required=True, help="policy file to write (SB3 zip)")
    parser.add_argument("--env-id", default="tradeoff/LearningCurves-v0")
    parser.add_argument("--env-kwargs", type=json.loads, default={}, help="JSON dict for gym.make")
    parser.add_argument("--cost", type=float, nargs="+", default=[0.0, 1.0], help="C, or LOW HIGH drawn per episode")
    parser.add_argument("--keep-env-cost", action="store_true", help="do not override the env's own cost")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--hyperparams", type=json.loads, default={}, help="JSON dict for the algorithm")
    parser.add_argument("--no-normalize-reward", action="store_true")
    parser.add_argument("--finetune-env-id", default=None, help="e.g. tradeoff/SerialParallel-v0")
    parser.add_argument("--finetune-env-kwargs", type=json.loads, default={})
    parser.add_argument("--finetune-timesteps", type=int, default=0)
    parser.add_argument("--monitor-dir", type=Path, default=None, help="write SB3 Monitor CSVs here")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(check_positive_int(args.threads, "threads"))
    config = SB3TrainConfig(
        algo=args.algo,
        timesteps=args.timesteps,
        env_id=args.env_id,
        env_kwargs=args.env_kwargs,
        cost=None if args.keep_env_cost else _cost_arg(args.cost),
        seed=args.seed,
        n_envs=args.n_envs,
        normalize_reward=not args.no_normalize_reward,
        hyperparams=args.hyperparams,
        finetune_env_id=args.finetune_env_id,
        finetune_env_kwargs=args.finetune_env_kwargs,
        finetune_timesteps=args.finetune_timesteps,
    )
    trained = train_policy(config, monitor_dir=args.monitor_dir, verbose=args.verbose)
    save_policy(trained, args.out)
    last = trained.episode_returns[-20:]
    print(
        f"trained {config.algo} for {config.timesteps} steps in {trained.wall_time_s:.1f} s; "
        f"{trained.episode_returns.size} episodes, last {last.size} mean return {last.mean():.2f}; saved {args.out}"
    )


if __name__ == "__main__":
    main()
