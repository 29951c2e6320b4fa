"""Experiments: the built-in ones, discovered from the sub-packages of this folder, and the user's — a sweep file
(:mod:`tradeoff_gym.benchmarks.sweep_file`) or a ``module:NAME`` object with the same layout
(:mod:`tradeoff_gym.benchmarks.experiment`). :func:`resolve_experiment` reads any of them from the reference the
command line takes, :func:`experiment_from_manifest` from a results directory's manifest."""

from __future__ import annotations

import importlib
import json
import pkgutil
from types import ModuleType
from typing import Any

from tradeoff_gym.benchmarks.experiment import GRID_KEY, check_seeds

REQUIRED = ("DESCRIPTION", "SCALES", "runs", "analyze", "score")


def experiment_names() -> list[str]:
    """Every experiment package under benchmarks/experiments/."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)


def load_experiment(name: str) -> ModuleType:
    """Import an experiment by name; unknown names raise a ValueError listing the valid ones."""
    names = experiment_names()
    if name not in names:
        raise ValueError(f"unknown experiment {name!r}; available: {names}")
    return check_experiment(importlib.import_module(f"{__name__}.{name}"), name)


def check_experiment(experiment: Any, name: str) -> Any:
    """``experiment`` if it has the :data:`REQUIRED` names (callables where they are functions, ``SCALES`` a non-empty
    dict of dicts); ValueError naming what it lacks."""
    missing = [attr for attr in REQUIRED if not hasattr(experiment, attr)]
    if missing:
        raise ValueError(f"experiment {name!r} lacks {', '.join(missing)}; an experiment defines {', '.join(REQUIRED)} "
                         "(docs/benchmarks/experiments.md)")
    not_callable = [attr for attr in ("runs", "analyze", "score") if not callable(getattr(experiment, attr))]
    if not_callable:
        raise ValueError(f"experiment {name!r}: {not_callable[0]} must be a function")
    scales = experiment.SCALES
    if not isinstance(scales, dict) or not scales or not all(isinstance(v, dict) for v in scales.values()):
        raise ValueError(f"experiment {name!r}: SCALES must be a non-empty dict of scale name -> settings dict")
    return experiment


def resolve_experiment(reference: str) -> tuple[str, Any, dict[str, Any] | None]:
    """The experiment a command names: ``(name, experiment, sweep_document)``.

    ``reference`` is a built-in experiment's name (``fig5``), a sweep file (``my_sweep.toml``: its ``name``, the
    :class:`~tradeoff_gym.benchmarks.sweep_file.SweepExperiment` and its parsed document, which the manifest keeps),
    or ``module:NAME`` — an object (a module, a class, an instance) with the experiment layout, imported from
    ``module`` (the name is the reference itself). ValueError (one line) when it cannot be used.
    """
    from tradeoff_gym.benchmarks.sweep_file import is_sweep_file, load_sweep_file

    if is_sweep_file(reference):
        experiment = load_sweep_file(reference)
        return experiment.NAME, experiment, experiment.document
    if ":" in reference:
        return reference, import_experiment(reference), None
    return reference, load_experiment(reference), None


def import_experiment(reference: str) -> Any:
    """``module:NAME`` -> the object ``NAME`` of ``module`` with the experiment layout (:func:`check_experiment`)."""
    module_name, _, attr = reference.partition(":")
    if not module_name or not attr or not all(part.isidentifier() for part in (*module_name.split("."), attr)):
        raise ValueError(f"experiment {reference!r} must be a built-in name, a sweep file (.toml) or module:NAME")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # ModuleNotFoundError, or whatever the user's module raises on import
        raise ValueError(f"cannot import experiment module {module_name!r} ({type(error).__name__}: {error}); "
                         "run from the folder that holds it, or install it") from None
    if not hasattr(module, attr):
        raise ValueError(f"module {module_name!r} has no {attr!r} (experiment {reference!r})")
    return check_experiment(getattr(module, attr), reference)


def experiment_from_manifest(manifest: dict[str, Any]) -> Any:
    """The experiment whose sweep a results directory holds: a sweep file's from the document its manifest keeps
    (``sweep_file``; the file itself may have moved or changed), any other by its name."""
    document = manifest.get("sweep_file")
    if isinstance(document, dict):
        from tradeoff_gym.benchmarks.sweep_file import SweepExperiment

        return SweepExperiment(document, where=f"the sweep file kept in the manifest of {manifest['experiment']!r}")
    name = manifest["experiment"]
    return import_experiment(name) if ":" in name else load_experiment(name)


def default_scale(experiment: Any) -> str:
    """The scale a run uses without ``--scale``: the experiment's ``DEFAULT_SCALE``, else ``quick``, else its first."""
    scales = experiment.SCALES
    scale = getattr(experiment, "DEFAULT_SCALE", None)
    return scale if scale in scales else "quick" if "quick" in scales else next(iter(scales))


def experiment_settings(module: ModuleType, scale: str, **overrides: Any) -> dict[str, Any]:
    """A scale's settings with overrides (``None`` = keep the scale's value) applied and checked.

    Each override must have the type of the scale's value (:func:`check_override`); ``seeds`` is a count >= 1
    (seeds 0…n−1) or a list of distinct seeds >= 0 (:func:`~tradeoff_gym.benchmarks.experiment.check_seeds`; sweeps
    read it with :func:`~tradeoff_gym.benchmarks.experiment.seed_list`), and every cost must lie in [0, 1].
    ``env_grid`` (any experiment) is an env grid ``{setting: [values]}`` (:func:`check_grid`) that
    :func:`~tradeoff_gym.benchmarks.experiment.plan_runs` crosses with the sweep.
    A bad value raises a one-line ValueError naming it.
    """
    if scale not in module.SCALES:
        name = getattr(module, "NAME", None) or getattr(module, "__name__", "this experiment").rpartition(".")[2]
        raise ValueError(f"unknown scale {scale!r} for {name}; available: {sorted(module.SCALES)}")
    settings = dict(module.SCALES[scale])
    for key, value in overrides.items():
        if value is None:
            continue
        if key == GRID_KEY:
            settings[key] = check_grid(value)
            continue
        if key not in settings:
            raise ValueError(f"this experiment has no {key!r} setting to override; its settings: {sorted(settings)}")
        settings[key] = check_seeds(value) if key == "seeds" else check_override(key, value, settings[key])
    if settings.get("seeds") is not None:
        check_seeds(settings["seeds"])
    for cost in settings.get("costs", []):
        if not 0.0 <= float(cost) <= 1.0:
            raise ValueError(f"costs must lie in [0, 1], got {cost!r}")
    return settings


def check_override(key: str, value: Any, current: Any) -> Any:
    """``value`` checked against the type of the scale's ``current`` value, and normalised (ints to floats).

    int settings need an int (not a bool, not a float); float settings take any number but a bool; string
    settings a string; bool settings a bool; dict settings a dict; list settings a non-empty list without
    repeats whose elements follow the same rules as the scale's elements. A ``None`` scale value takes
    anything.
    """
    if isinstance(current, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise ValueError(
                f"{key} must be a JSON list of {_kind_name(_element_kind(current))}s like the scale's "
                f"{list(current)!r} (e.g. --set '{key}={_json_example(current)}'), got {value!r}"
            )
        if not value:
            raise ValueError(f"{key} needs at least one value (a list like the scale's {list(current)!r}), got []")
        kind = _element_kind(current)
        checked = [_check_scalar(f"every element of {key}", item, kind) for item in value]
        repeated = [item for i, item in enumerate(checked) if item in checked[:i]]
        if repeated:
            raise ValueError(f"{key} lists {repeated[0]!r} more than once; give each value once")
        return checked
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{key} must be a JSON object like the scale's {current!r}, got {value!r}")
        return value
    if current is None:
        return value
    return _check_scalar(key, value, _scalar_kind(current))


def _scalar_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return None


def _element_kind(values: list | tuple) -> str | None:
    """The kind every element of ``values`` shares (ints and floats mixed = float); None if mixed or empty."""
    kinds = {_scalar_kind(v) for v in values}
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 else None


def _kind_name(kind: str | None) -> str:
    return {"bool": "boolean", "int": "integer", "float": "number", "str": "string", None: "value"}[kind]


def _json_example(values: list | tuple) -> str:
    return json.dumps(list(values)[:2])


def _check_scalar(what: str, value: Any, kind: str | None) -> Any:
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "str": isinstance(value, str),
        None: True,
    }[kind]
    if not ok:
        article = "an" if kind == "int" else "a"
        raise ValueError(f"{what} must be {article} {_kind_name(kind)}, got {value!r}")
    return float(value) if kind == "float" else value


def check_grid(grid: Any) -> dict[str, list[Any]]:
    """An env grid checked: a JSON object of env setting -> non-empty list of distinct values; ValueError naming it."""
    if not isinstance(grid, dict):
        raise ValueError(f"{GRID_KEY} must be a JSON object of env setting -> list of values, got {grid!r}")
    checked = {}
    for key, values in grid.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"every {GRID_KEY} setting must be a non-empty name, got {key!r}")
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"--env {key} needs at least one value (a list of values), got {values!r}")
        texts = [json.dumps(v, sort_keys=True) for v in values]
        repeated = [v for i, v in enumerate(texts) if v in texts[:i]]
        if repeated:
            raise ValueError(f"--env {key} lists {repeated[0]} more than once; give each value once")
        checked[key] = list(values)
    return checked
