"""Experiments, discovered from the sub-packages of this folder (see :mod:`benchmarks.experiment`)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

REQUIRED = ("DESCRIPTION", "SCALES", "runs", "analyze")
OVERRIDABLE = ("seeds", "agents", "costs")


def experiment_names() -> list[str]:
    """Every experiment package under benchmarks/experiments/."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)


def load_experiment(name: str) -> ModuleType:
    """Import an experiment by name; unknown names raise a ValueError listing the valid ones."""
    names = experiment_names()
    if name not in names:
        raise ValueError(f"unknown experiment {name!r}; available: {names}")
    module = importlib.import_module(f"{__name__}.{name}")
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise ValueError(f"experiment {name!r} lacks {missing}")
    return module


def experiment_settings(module: ModuleType, scale: str, **overrides: Any) -> dict[str, Any]:
    """A scale's settings with CLI overrides (``None`` = keep the scale's value) applied and checked."""
    if scale not in module.SCALES:
        raise ValueError(f"unknown scale {scale!r} for {module.__name__}; available: {sorted(module.SCALES)}")
    settings = dict(module.SCALES[scale])
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in settings:
            raise ValueError(f"this experiment has no {key!r} setting to override; its settings: {sorted(settings)}")
        settings[key] = value
    seeds = settings.get("seeds")
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ValueError(f"seeds must be an integer >= 1 (the number of seeds), got {seeds!r}")
    for cost in settings.get("costs", []):
        if not 0.0 <= float(cost) <= 1.0:
            raise ValueError(f"costs must lie in [0, 1], got {cost!r}")
    return settings
