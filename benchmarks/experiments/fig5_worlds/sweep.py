"""The fig5_worlds sweep: fig5's (cost, agent, seed) runs on every preset; run ids ``fig5_worlds/<preset>/…``."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, cost_runs
from tradeoff_gym.envs.serial_parallel import PRESETS
from tradeoff_gym.learners.checks import check_choice

ENV_ID = "tradeoff/SerialParallel-v0"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """Every (preset, cost, agent, seed) run; tagged ``world`` (the preset) and ``cost``."""
    specs = []
    for preset in settings["presets"]:
        check_choice(preset, tuple(PRESETS), "every preset")
        world = cost_runs(f"fig5_worlds/{preset}", ENV_ID, {**settings, "preset": preset})
        for spec in world:
            spec.env_kwargs["preset"] = preset  # named even for the default world: the runs differ by it
            spec.tags["world"] = preset
        specs += world
    return specs
