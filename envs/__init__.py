"""Registers the tradeoff-gym environment ids with Gymnasium on import (string entry points).

``import tradeoff_gym`` registers the ids in this process. A process that has not imported it — a
``SubprocVecEnv``/``AsyncVectorEnv`` worker started with ``spawn`` or ``forkserver``, a pytest worker —
finds them through Gymnasium's module prefix, which imports ``tradeoff_gym`` before looking the id up::

    gym.make("tradeoff_gym:tradeoff/SerialParallel-v0", horizon=1000)
    make_vec_env("tradeoff_gym:tradeoff/SerialParallel-v0", n_envs=4, vec_env_cls=SubprocVecEnv,
                 vec_env_kwargs={"start_method": "forkserver"}, env_kwargs={"horizon": 1000})

:func:`check_settings` validates the settings ``gym.make`` would get without building an environment or
its data (each id's config builder is the one its constructor calls).
"""

from __future__ import annotations

import importlib
from typing import Any

from gymnasium.envs.registration import register, registry

#: Every id this package registers, with its entry point.
ENV_IDS: dict[str, str] = {
    "tradeoff/CoupledCurves-v0": "tradeoff_gym.envs.coupled_curves:CoupledCurvesEnv",
    "tradeoff/LearningCurves-v0": "tradeoff_gym.envs.learning_curves:LearningCurvesEnv",
    "tradeoff/Multitask-v0": "tradeoff_gym.envs.multitask:make_multitask",
    "tradeoff/SequentialTasks-v0": "tradeoff_gym.envs.sequential:SequentialTasksEnv",
    "tradeoff/SerialParallel-v0": "tradeoff_gym.envs.serial_parallel:SerialParallelEnv",
    "tradeoff/SerialParallelNoisy-v0": "tradeoff_gym.envs.serial_parallel:SerialParallelEnv",
}

#: Native vector envs (``gym.make_vec(id, num_envs=K, vectorization_mode="vector_entry_point")``), by id.
VECTOR_ENTRY_POINTS: dict[str, str] = {
    "tradeoff/Multitask-v0": "tradeoff_gym.envs.multitask:make_multitask_vector",
    "tradeoff/SerialParallel-v0": "tradeoff_gym.envs.serial_parallel_vector:make_vector",
    "tradeoff/SerialParallelNoisy-v0": "tradeoff_gym.envs.serial_parallel_vector:make_vector",
}

#: Each id's config builder ``make_config(preset=..., config=None, **settings)``: what its constructor calls.
CONFIG_BUILDERS: dict[str, str] = {
    "tradeoff/CoupledCurves-v0": "tradeoff_gym.envs.coupled_curves:make_config",
    "tradeoff/LearningCurves-v0": "tradeoff_gym.envs.learning_curves:make_config",
    "tradeoff/Multitask-v0": "tradeoff_gym.envs.multitask:make_config",
    "tradeoff/SequentialTasks-v0": "tradeoff_gym.envs.sequential:make_config",
    "tradeoff/SerialParallel-v0": "tradeoff_gym.envs.serial_parallel:make_config",
    "tradeoff/SerialParallelNoisy-v0": "tradeoff_gym.envs.serial_parallel:make_config",
}

#: Settings an id passes to its entry point (``gym.make``'s own kwargs override them). The noisy id is
#: SerialParallel on the ``noisy`` preset, whose input noise it keeps on any other preset given
#: (``preset="balanced"``: the balanced world with that noise; ``input_noise=`` overrides it). It takes settings by
#: name: a ready ``config=`` conflicts with these and is refused (give it to ``tradeoff/SerialParallel-v0``).
ENV_KWARGS: dict[str, dict[str, Any]] = {
    "tradeoff/SerialParallelNoisy-v0": {"preset": "noisy", "input_noise": 0.2},  # = PRESETS["noisy"]'s noise
}

for _env_id, _entry_point in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry_point, vector_entry_point=VECTOR_ENTRY_POINTS.get(_env_id),
                 kwargs=dict(ENV_KWARGS.get(_env_id, {})))


def check_settings(env_id: str, **kwargs: Any) -> Any:
    """Validate ``gym.make(env_id, **kwargs)``'s settings without building the env or its data; returns the config.

    ``env_id`` may carry the ``tradeoff_gym:`` module prefix. ``kwargs`` are exactly what ``gym.make`` would get: the
    env's settings (``preset`` and ``config`` included), ``render_mode`` (accepted by every env, ignored), and
    ``gym.make``'s own ``max_episode_steps`` and ``disable_env_checker``. A bad setting raises a ValueError naming
    the field, the value and what is allowed; an unknown id a ValueError listing :data:`ENV_IDS`. A ``device`` is
    checked against this machine (:func:`check_device`: a CUDA device where torch sees no GPU is refused).
    """
    name = env_id.partition(":")[2] if isinstance(env_id, str) and ":" in env_id else env_id
    if name not in CONFIG_BUILDERS:
        raise ValueError(
            f"env_id must be one of {sorted(ENV_IDS)} (optionally prefixed 'tradeoff_gym:'), got {env_id!r}"
        )
    settings = {**ENV_KWARGS.get(name, {}), **kwargs}  # as gym.make merges the registration's kwargs
    settings.pop("render_mode", None)
    steps = settings.pop("max_episode_steps", None)
    if steps is not None and steps != -1 and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"max_episode_steps must be None, -1 (no TimeLimit) or an integer >= 1, got {steps!r}")
    checker = settings.pop("disable_env_checker", None)
    if checker is not None and not isinstance(checker, bool):
        raise ValueError(f"disable_env_checker must be None, True or False, got {checker!r}")
    module, _, function = CONFIG_BUILDERS[name].partition(":")
    build = getattr(importlib.import_module(module), function)
    if "device" not in settings:
        return build(**settings)
    build(**{**settings, "device": "cpu"})  # every other setting first, and that this id takes a device at all
    check_device(settings["device"])
    return build(**settings)


def check_device(device: Any, *, here: bool = True, where: str = "this machine") -> str:
    """Validate a learner's ``device`` setting; returns it. ValueError naming the value and what is allowed.

    Allowed: ``"cpu"``, ``"cuda"`` (the current GPU), ``"cuda:N"`` (GPU N) and ``"mps"`` (Apple GPUs). With
    ``here`` (default) the device must also exist on this process's machine (``where`` names it in the message): a
    CUDA device needs ``torch.cuda.is_available()`` and ``N < torch.cuda.device_count()``, so a sweep asking for a
    GPU that is not there is refused before it runs, not at its first trial. ``here=False`` checks the spelling only
    (a sweep whose runs play on Dask workers checks CUDA on a worker instead). See docs/benchmarks/cluster.md.
    """
    import torch

    allowed = "'cpu', 'cuda', 'cuda:N' (GPU N) or 'mps'"
    try:
        parsed = torch.device(device) if isinstance(device, str) else None
    except (RuntimeError, TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda", "mps") or (parsed.type != "cuda" and parsed.index):
        raise ValueError(f"device must be {allowed}, got {device!r}")
    if not here or parsed.type == "cpu":
        return device
    if parsed.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device {device!r} names an Apple GPU (MPS), which is not available on {where}; use "
                             "'cpu' there, or run on a machine with an MPS GPU")
        return device
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r} names CUDA, which is not available on {where} (torch sees no CUDA "
                         "GPU); use 'cpu' there, or run on a machine with a CUDA GPU")
    count = torch.cuda.device_count()
    if parsed.index is not None and parsed.index >= count:
        raise ValueError(f"device {device!r} names CUDA GPU {parsed.index}, but {where} has {count}; use 'cpu', "
                         f"'cuda' or 'cuda:0' … 'cuda:{count - 1}' there")
    return device
