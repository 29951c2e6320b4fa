"""What an experiment is: plain-data runs to execute, an analysis of their logged frames, and a score.

An experiment is a package ``benchmarks/experiments/<name>/``, laid out alike for every experiment (as bsuite's):

* ``__init__.py`` — the plain data, and re-exports of the functions below:

  * ``DESCRIPTION: str`` — one line;
  * ``SCALES: dict[str, dict]`` — ``"smoke"`` (seconds; the tests run it), ``"quick"`` (minutes on a laptop)
    and ``"paper"`` (the paper's protocol); plain data (numbers, strings, lists). The keys ``seeds`` (a
    count: seeds 0…n−1), ``agents`` (names) and, for cost sweeps, ``costs`` are the ones the CLI can
    override;
  * ``SCORE: str`` — what ``score`` means (its unit, what 1 or 0 is, whether higher or lower is better);

* ``sweep.py`` — ``runs(settings: dict) -> list[RunSpec]``: every run of the sweep for those settings (a
  scale's, with any overrides applied); run ids are stable, so a results directory stays valid;
* ``analysis.py`` —

  * ``analyze(frame: pandas.DataFrame, out_dir: pathlib.Path) -> list[ReportItem]``: tables and figures from
    the concatenated run frames (each row tagged with its RunSpec's ``tags`` as columns);
  * ``score(frame: pandas.DataFrame) -> pandas.DataFrame``: one number per agent with its 95 % CI, so
    agents can be ranked at a glance — columns ``agent, score, ci_low, ci_high, n`` (``n``: the seeds or
    runs the mean is over), plus ``label`` where the rows are conditions rather than agents (e.g. a task
    overlap), sorted best first; the report's "Scoreboard" shows it with ``SCORE``.

REQUIRED names: ``DESCRIPTION``, ``SCALES``, ``runs``, ``analyze``, ``score``. Cost-sweep experiments also name
their reference agents in ``FIXED_AGENTS`` (registry names of agents whose choices ignore rewards and that play
one strategy throughout: the "best fixed strategy" of regret and normalised scores). Analyses tell serial trials
by the run loop's boolean ``serial`` column, never by a strategy's name. Shared helpers live in
:mod:`tradeoff_gym.benchmarks.analysis`. Experiments are discovered automatically (no hand-kept list).
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
