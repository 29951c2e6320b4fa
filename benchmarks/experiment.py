"""What an experiment is: plain-data runs to execute and an analysis of their logged frames.

An experiment is a package ``benchmarks/experiments/<name>/`` whose ``__init__.py`` exposes

* ``DESCRIPTION: str`` — one line;
* ``SCALES: dict[str, dict]`` — ``"smoke"`` (seconds; the tests run it), ``"quick"`` (minutes on a laptop)
  and ``"paper"`` (the paper's protocol); plain data (numbers, strings, lists).
  The keys ``seeds`` (a count: seeds 0…n−1), ``agents`` (names) and, for cost sweeps, ``costs`` are the
  ones the CLI can override;
* ``runs(settings: dict) -> list[RunSpec]`` — every run of the sweep for those settings (a scale's, with
  any overrides applied);
* ``analyze(frame: pandas.DataFrame, out_dir: pathlib.Path) -> list[ReportItem]`` — tables and figures
  from the concatenated run frames (each row tagged with its RunSpec's ``tags`` as columns).

Experiments are discovered automatically (no hand-kept list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """One run: ``make_agent(agent, gym.make(env_id, **env_kwargs), **agent_kwargs)`` played from ``seed``.

    ``run_id`` is stable across invocations (``<experiment>/<i>`` style) so a resumed sweep can skip it;
    ``tags`` are constant columns added to the run's rows (e.g. ``{"cost": 0.3}``).
    """

    run_id: str
    env_id: str
    agent: str
    seed: int
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportItem:
    """A piece of an experiment's report: a heading, markdown text (tables as markdown), figure files."""

    title: str
    text: str = ""
    figures: tuple[Path, ...] = ()
