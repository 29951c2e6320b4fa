"""What ``tradeoff-bench list --agents`` and ``tradeoff-bench show EXPERIMENT`` print: the agents and settings on offer.

Read from the registry (:data:`tradeoff_gym.agents.registry.AGENTS`), the agent classes' and factories' signatures
and an experiment's ``SCALES``; nothing is kept by hand.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: Most characters of an agent's one-line description.
DESCRIPTION_CHARS = 100


def agent_lines() -> list[str]:
    """Every registered agent: its name and one-line description, then its hyperparameters with their defaults."""
    from tradeoff_gym.agents.registry import AGENTS, agent_names, load_agent_class

    width = max(len(name) for name in agent_names()) + 2
    lines = []
    for name in agent_names():
        entry = AGENTS[name]
        try:
            cls = load_agent_class(name)
        except Exception as error:  # an optional dependency missing (e.g. stable-baselines3)
            lines += [f"{name:<{width}}(cannot be loaded here: {type(error).__name__}: {error})", ""]
            continue
        lines.append(f"{name:<{width}}{describe(cls)}")
        lines.append(f"{'':<{width}}hyperparameters: {hyperparameters(cls, entry.factory, entry.defaults) or 'none'}")
    return lines


def describe(cls: type) -> str:
    """The first sentence of a class's docstring, without markup, at most :data:`DESCRIPTION_CHARS` characters."""
    doc = inspect.getdoc(cls) or ""
    paragraph = " ".join(doc.split("\n\n", 1)[0].split()).replace("``", "")
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", paragraph, maxsplit=1)[0]
    return sentence if len(sentence) <= DESCRIPTION_CHARS else sentence[:DESCRIPTION_CHARS - 1].rstrip() + "…"


def hyperparameters(cls: type, factory: Callable[..., Any] | type | str | None, defaults: dict[str, Any]) -> str:
    """``name=default`` for every keyword the agent is built with (``--agents`` kwargs), the registry's defaults first.

    The factory's keywords when it names its own (e.g. the SB3 agents'), else the class's; ``env`` and the
    environment's own values (a factory that reads them, e.g. Sagiv's cost) are not hyperparameters.
    """
    from tradeoff_gym.agents.registry import _load

    target: Any = cls
    if isinstance(factory, str):
        factory = _load(factory, "agent factory")
    if factory is not None and factory is not cls:
        named = [p for p in inspect.signature(factory).parameters.values()
                 if p.name != "env" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        target = factory if named else cls
    parts = []
    for parameter in inspect.signature(target).parameters.values():
        if parameter.name in ("self", "env") or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in defaults:
            parts.append(f"{parameter.name}={defaults[parameter.name]!r}")
        elif parameter.default is not parameter.empty:
            parts.append(f"{parameter.name}={parameter.default!r}")
        elif factory is not None and target is cls:
            parts.append(f"{parameter.name} (from the environment)")
        else:
            parts.append(f"{parameter.name} (required)")
    return ", ".join(parts)


def experiment_lines(name: str, module: ModuleType) -> list[str]:
    """An experiment's description, scales, score and every setting with its value at each scale (JSON, as ``--set``
    takes it; ``—`` where a scale lacks the setting)."""
    scales: dict[str, dict[str, Any]] = module.SCALES
    lines = [f"{name} — {module.DESCRIPTION}", "", f"scales: {', '.join(scales)}"]
    score = getattr(module, "SCORE", "")
    if score:
        lines += ["", score]
    lines += ["", "settings (value per scale; override with --set KEY=VALUE):"]
    keys = list(dict.fromkeys(key for settings in scales.values() for key in settings))
    width = max(len(scale) for scale in scales) + 1
    for key in keys:
        values = {scale: json.dumps(settings[key]) if key in settings else "—" for scale, settings in scales.items()}
        if len(set(values.values())) == 1:
            lines.append(f"  {key}: {next(iter(values.values()))}  (every scale)")
            continue
        lines.append(f"  {key}:")
        lines += [f"    {scale + ':':<{width}} {value}" for scale, value in values.items()]
    return lines
