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
one strategy throughout: the "best fixed strategy" of regret and normalised scores) and may define
``score_runs(frame) -> RunScores | None``: the per-run scores behind ``score`` in rliable's score_dict layout
(:class:`tradeoff_gym.benchmarks.stats.RunScores`), which the report aggregates (IQM, optimality gap, probability
of improvement, performance profiles) and exports as ``scores.npz``. Analyses tell serial trials
by the run loop's boolean ``serial`` column, never by a strategy's name. Shared helpers live in
:mod:`tradeoff_gym.benchmarks.analysis`. Experiments are discovered automatically (no hand-kept list).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Most runs a sweep plans unless told otherwise (the CLI's ``--max-runs``). Planning holds every run's spec and its
#: manifest entry in memory, about 8 bytes per byte of the spec's JSON (2.4 kB for a sagiv2018 run): 100,000 runs
#: plan in about 0.25 GB. The largest built-in sweep (fig5_worlds at paper scale) has about 8,400 runs.
MAX_RUNS = 100_000
#: Bytes of memory planning takes per byte of a run spec's JSON (measured with tracemalloc on sagiv2018).
PLAN_BYTES_PER_SPEC_BYTE = 8


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


def check_run_count(module: Any, settings: dict[str, Any], max_runs: int = MAX_RUNS) -> int:
    """How many runs ``module.runs(settings)`` gives, known before they are built; ValueError over ``max_runs``.

    With a seed count (``settings["seeds"]``, seeds 0…n−1) only one seed's runs are built and the count is n times
    theirs (as every sweep here gives), so ``--seeds 1000000`` is refused in milliseconds. The message names the
    count, the memory planning would take (:data:`PLAN_BYTES_PER_SPEC_BYTE` times the specs' JSON) and how to go
    past the limit. Returns the count (``-1`` when it cannot be known without building every run: the caller checks
    ``len(runs)`` with :func:`check_runs` then).
    """
    seeds = settings.get("seeds")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        return -1
    try:
        one_seed = module.runs({**settings, "seeds": 1})
    except Exception:  # the full call reports its own errors
        return -1
    count = len(one_seed) * seeds
    sizes = [len(json.dumps(dataclasses.asdict(spec), default=str)) for spec in one_seed]
    spec_bytes = sum(sizes) / max(len(sizes), 1)
    check_runs(count, max_runs, spec_bytes)
    return count


def check_runs(count: int, max_runs: int = MAX_RUNS, spec_bytes: float = 300.0) -> None:
    """ValueError (one line) when ``count`` runs exceed ``max_runs``, with the memory planning them would take."""
    if count > max_runs:
        raise ValueError(
            f"these settings give {count:,} runs, more than the {max_runs:,} a sweep plans without --max-runs "
            f"(planning would take about {count * spec_bytes * PLAN_BYTES_PER_SPEC_BYTE / 1e9:.2g} GB of memory "
            f"and write a {count * spec_bytes / 1e9:.2g} GB manifest); use fewer seeds, costs or agents, or pass "
            f"--max-runs {count} to plan them anyway"
        )
