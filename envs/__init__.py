"""Registers the tradeoff-gym environment ids with Gymnasium on import (string entry points)."""

from gymnasium.envs.registration import register, registry

#: Every id this package registers, with its entry point.
ENV_IDS: dict[str, str] = {
    "tradeoff/LearningCurves-v0": "envs.learning_curves:LearningCurvesEnv",
    "tradeoff/SequentialTasks-v0": "envs.sequential:SequentialTasksEnv",
    "tradeoff/SerialParallel-v0": "envs.serial_parallel:SerialParallelEnv",
    "tradeoff/SerialParallelNoisy-v0": "envs.serial_parallel:make_noisy",
}

for _env_id, _entry_point in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry_point)
