"""Sweep files: an experiment written as a TOML file (``tradeoff-bench run my_sweep.toml``), no package needed.

A sweep file names an env id, the world's fixed settings and the settings it sweeps, the costs, seeds, horizon and
agents (with their settings), any number of scales, and the analysis to apply. It becomes an experiment with the
built-in ones' layout (:mod:`tradeoff_gym.benchmarks.experiment`): its runs are the shared
:func:`~tradeoff_gym.benchmarks.experiment.cost_runs` (cost × agent × seed, crossed with the grid), its analysis
the generic cost-sweep analysis (:class:`~tradeoff_gym.benchmarks.analysis.CostSweepAnalysis`) or a built-in cost
sweep's. The parsed document is kept in the results directory's manifest, so the report never needs the file again
and a resumed or extended sweep is checked like a built-in one. The format, key by key:
docs/benchmarks/your-own-study.md.

Example::

    name = "noise-study"
    description = "Does input noise change which agent pays?"
    env = "tradeoff/SerialParallel-v0"
    seeds = 3
    costs = [0.1, 0.5]
    horizon = 1500
    agents = ["serial", "parallel", 'navigator{"block": 0.05}', {agent = "sw-ucb", window = 50, name = "sw-ucb-50"}]

    [world]            # settings every run's env gets
    preset = "balanced"

    [grid]             # settings swept, crossed with costs × seeds × agents
    input_noise = [0.0, 0.2]

    [scales.smoke]     # a scale: any of the keys above, over the file's values
    seeds = 1
    horizon = 30
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tradeoff_gym.benchmarks.analysis import CostSweepAnalysis
from tradeoff_gym.benchmarks.experiment import (
    GRID_KEY,
    ReportItem,
    RunSpec,
    agent_label,
    canonical_agent,
    check_seeds,
    cost_runs,
)
from tradeoff_gym.benchmarks.stats import RunScores

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI
    import tomli as tomllib

#: The analysis a sweep file gets unless it names another: :class:`CostSweepAnalysis` on its own fixed agents.
GENERIC_ANALYSIS = "cost-sweep"
#: Built-in experiments whose analysis reads a plain cost sweep (runs tagged by ``cost`` only), usable as ``analysis``.
BUILTIN_ANALYSES = ("fig5",)
#: Keys a scale may set (at the top of the file, as every scale's default, or in ``[scales.NAME]``).
SCALE_KEYS = ("seeds", "costs", "agents", "horizon", "two_phase", "world", "grid", "family", "worlds")
#: Keys of the file itself.
FILE_KEYS = ("name", "description", "env", "analysis", "fixed_agents", "default_scale", "scales")
#: The scale a file without ``[scales]`` tables has.
SOLE_SCALE = "default"
#: What a sweep's name may hold (it starts every run id and names the default results directory).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class SweepFileError(ValueError):
    """A sweep file that cannot be used (the message names the file, the key and what is allowed)."""


class SweepExperiment:
    """An experiment defined by a sweep file's document, with the layout of the built-in experiment packages.

    Attributes:
        NAME: the sweep's name (run ids ``<name>/c<cost>/<agent>/<seed>``, the manifest's ``experiment``).
        DESCRIPTION: one line.
        SCALES: scale name -> settings (the file's top-level values, overridden by ``[scales.NAME]``); the grid is
            the settings' ``env_grid``, the world's fixed settings ``world``.
        FIXED_AGENTS: the reference agents' labels (the best fixed strategy of regret and the score).
        SCORE: what :meth:`score` means.
        DEFAULT_SCALE: the scale ``tradeoff-bench run FILE`` uses without ``--scale``.
        ENV_ID: every run's env id.
        document: the parsed file, as stored in the manifest (``sweep_file``).
    """

    def __init__(self, document: dict[str, Any], where: str = "sweep file") -> None:
        self.document = document
        self._where = where
        unknown = sorted(set(document) - set(FILE_KEYS) - set(SCALE_KEYS))
        if unknown:
            self._fail(f"unknown key {unknown[0]!r}; a sweep file has {', '.join(FILE_KEYS)} and the scale keys "
                       f"{', '.join(SCALE_KEYS)}")
        _check_json(document, where)
        name = document.get("name", "")
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            self._fail(f"name must be letters, digits, '_', '.' or '-' (it starts every run id), got {name!r}")
        from tradeoff_gym.benchmarks.experiments import experiment_names

        if name in experiment_names():
            self._fail(f"name {name!r} is a built-in experiment's; give the sweep a name of its own")
        self.NAME = name
        env = document.get("env")
        if not isinstance(env, str) or not env:
            self._fail("env must name the env id every run makes, e.g. env = \"tradeoff/SerialParallel-v0\"")
        self.ENV_ID = env
        description = document.get("description", f"sweep file {name}: agents across costs on {env}")
        if not isinstance(description, str):
            self._fail(f"description must be a string, got {description!r}")
        self.DESCRIPTION = " ".join(description.split())
        self.SCALES = self._scales(document)
        default = document.get("default_scale", "quick" if "quick" in self.SCALES else next(iter(self.SCALES)))
        if default not in self.SCALES:
            self._fail(f"default_scale {default!r} is not one of its scales {sorted(self.SCALES)}")
        self.DEFAULT_SCALE = default
        self._analysis = self._choose_analysis(document)
        self.FIXED_AGENTS = tuple(self._analysis.fixed)
        self.SCORE = self._analysis.score_text
        for scale, settings in self.SCALES.items():
            labels = {agent_label(agent) for agent in settings["agents"]}
            missing = [agent for agent in self.FIXED_AGENTS if agent not in labels]
            if missing:
                self._fail(f"scale {scale!r}: the reference agent {missing[0]!r} (fixed_agents) is not among its "
                           f"agents {sorted(labels)}; add it to agents or name the references with fixed_agents")

    # -- the experiment layout -----------------------------------------------------------------------------
    def runs(self, settings: dict[str, Any]) -> list[RunSpec]:
        """Every (cost, agent, seed) run (and two-phase schedules with ``two_phase``), once per world of
        ``settings["family"]`` named by ``settings["worlds"]`` (run ids ``<name>/w<world>/…``, tag ``world``) when a
        family is given; the grid is crossed in by :func:`~tradeoff_gym.benchmarks.experiment.plan_runs` from
        ``settings["env_grid"]``."""
        if "family" not in settings:
            return cost_runs(self.NAME, self.ENV_ID, settings)
        specs = []
        from tradeoff_gym.envs.families import world_settings

        for world in family_worlds(settings["family"], settings["worlds"]):
            fixed = {**(settings.get("world") or {}), "family": settings["family"], "world": world}
            drawn = world_settings(settings["family"], world).get("cost")  # a world that sets its own cost
            costs = {"costs": [drawn]} if drawn is not None else {}
            for spec in cost_runs(f"{self.NAME}/w{world}", self.ENV_ID, {**settings, **costs, "world": fixed}):
                if drawn is not None:
                    del spec.env_kwargs["cost"]  # the world's own; tagged all the same
                spec.tags["world"] = world
                specs.append(spec)
        return specs

    def analyze(self, frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
        """The chosen analysis's report items (reward rate and serial share vs cost, table, c*, episode figure)."""
        return self._analysis_of(frame).analyze(frame, out_dir)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per agent, best first: :attr:`SCORE` (columns agent, score, ci_low, ci_high, n)."""
        return self._analysis_of(frame).score(frame)

    def score_runs(self, frame: pd.DataFrame) -> RunScores | None:
        """The per-run scores behind :meth:`score`, for the report's aggregate statistics."""
        return self._analysis_of(frame).score_runs(frame)

    def _analysis_of(self, frame: pd.DataFrame) -> CostSweepAnalysis:
        """The analysis, matching each run's reference per (cost, world) and drawing one panel per world when the runs
        span a family's worlds (never pooling worlds into one row)."""
        if "world" in frame.columns and "world" not in self._analysis.tags:
            return dataclasses.replace(self._analysis, tags=(*self._analysis.tags, "world"),
                                       facet=self._analysis.facet or "world")
        return self._analysis

    # -- checks ----------------------------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        raise SweepFileError(f"{self._where}: {message}")

    def _scales(self, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
        base = {key: document[key] for key in SCALE_KEYS if key in document}
        tables = document.get("scales", {})
        if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
            self._fail("scales must be tables [scales.NAME] of scale keys, e.g. [scales.smoke] with seeds = 1")
        scales = {}
        for scale, table in (tables.items() if tables else [(SOLE_SCALE, {})]):
            unknown = sorted(set(table) - set(SCALE_KEYS))
            if unknown:
                self._fail(f"[scales.{scale}] has unknown key {unknown[0]!r}; a scale sets {', '.join(SCALE_KEYS)}")
            scales[scale] = self._settings({**base, **table}, f"scale {scale!r}")
        return scales

    def _settings(self, raw: dict[str, Any], scale: str) -> dict[str, Any]:
        """One scale's settings checked and in the form the sweep reads (``grid`` -> ``env_grid``)."""
        world_table = raw.get("world") if isinstance(raw.get("world"), dict) else {}
        family = self._family(raw, world_table, scale) if "family" in raw or "worlds" in raw else {}
        for key in ("seeds", "agents"):
            if key not in raw:
                self._fail(f"{scale} has no {key}; give {key} at the top of the file or in its [scales] table")
        own_cost = _family_sets_cost(raw.get("family"))
        if own_cost and "costs" in raw:
            self._fail(f"{scale}: the worlds of family {raw['family']!r} set their own cost; leave costs out")
        if not own_cost and "costs" not in raw:
            self._fail(f"{scale} has no costs; give costs at the top of the file or in its [scales] table")
        settings: dict[str, Any] = {}
        try:
            settings["seeds"] = check_seeds(raw["seeds"])
        except ValueError as error:
            self._fail(f"{scale}: {error}")
        if not own_cost:
            costs = raw["costs"]
            if not isinstance(costs, list) or not costs or not all(_is_number(c) and 0 <= c <= 1 for c in costs):
                self._fail(f"{scale}: costs must be a non-empty list of numbers in [0, 1], got {costs!r}")
            if len(set(costs)) != len(costs):
                self._fail(f"{scale}: costs lists a cost more than once, got {costs!r}")
            settings["costs"] = [float(c) for c in costs]
        settings["agents"] = self._agents(raw["agents"], scale)
        if "horizon" in raw:
            horizon = raw["horizon"]
            if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
                self._fail(f"{scale}: horizon must be an integer >= 1 (trials per episode), got {horizon!r}")
            settings["horizon"] = horizon
        if "two_phase" in raw:
            switches = raw["two_phase"]
            if not isinstance(switches, list) or not all(_is_number(s) and 0 <= s <= 1 for s in switches):
                self._fail(f"{scale}: two_phase must be a list of switch points in [0, 1] (fractions of the "
                           f"horizon), got {switches!r}")
            settings["two_phase"] = [float(s) for s in switches]
        world = raw.get("world", {})
        if not isinstance(world, dict):
            self._fail(f"{scale}: world must be a table of env settings ([world] with key = value), got {world!r}")
        if "cost" in world:
            self._fail(f"{scale}: [world] sets 'cost'; the sweep's costs = [...] set it")
        if "horizon" in world:
            self._fail(f"{scale}: [world] sets 'horizon'; give horizon = ... at the top of the file or in a scale")
        if world:
            settings["world"] = dict(world)
        settings.update(family)
        grid = raw.get("grid", {})
        if grid:
            from tradeoff_gym.benchmarks.experiments import check_grid

            try:
                grid = check_grid(grid)
            except ValueError as error:
                self._fail(f"{scale}: [grid] {error}")
            both = sorted(set(grid) & ({"cost", "family", "world"} | set(world)))
            if both:
                self._fail(f"{scale}: [grid] sweeps {both[0]!r}, which "
                           + ("costs = [...] sweeps" if both[0] == "cost" else "family = … and worlds = … name"
                              if both[0] in ("family", "world") else "[world] also sets; give it in one"))
            settings[GRID_KEY] = grid
        return settings

    def _family(self, raw: dict[str, Any], world: dict[str, Any], scale: str) -> dict[str, Any]:
        """``family`` (a world family of the env) and ``worlds`` (``"train"``, ``"test"``, ``"0-19"``, … or a list of
        indices) checked together."""
        from tradeoff_gym.envs.families import FAMILIES

        family, worlds = raw.get("family"), raw.get("worlds")
        if family is None or worlds is None:
            self._fail(f"{scale}: family and worlds come together, e.g. family = \"sp-mixed\" and worlds = \"train\"")
        if family not in FAMILIES:
            self._fail(f"{scale}: unknown family {family!r}; families: {sorted(FAMILIES)}")
        if FAMILIES[family].env_id != self.ENV_ID.rpartition(":")[2]:
            self._fail(f"{scale}: family {family!r} is a family of {FAMILIES[family].env_id}, not of {self.ENV_ID}")
        if not isinstance(worlds, (str, list)) or isinstance(worlds, list) and not all(
                isinstance(w, int) and not isinstance(w, bool) for w in worlds):
            self._fail(f"{scale}: worlds must be \"train\", \"test\", \"all\", a range \"0-19\" or a list of "
                       f"world indices, got {worlds!r}")
        try:
            family_worlds(family, worlds)
        except ValueError as error:
            self._fail(f"{scale}: {error}")
        clash = sorted({"family", "world"} & set(world))
        if clash:
            self._fail(f"{scale}: [world] sets {clash[0]!r}; name the worlds with family = … and worlds = …")
        return {"family": family, "worlds": worlds}

    def _agents(self, agents: Any, scale: str) -> list[str]:
        """Agent specs as the CLI spells them: strings (``'navigator{"block": 0.05}'``) or tables
        (``{agent = "navigator", block = 0.05}``), each in canonical form."""
        if not isinstance(agents, list) or not agents:
            self._fail(f"{scale}: agents must be a non-empty list of agent names, specs with settings or tables "
                       f"{{agent = \"NAME\", setting = value}}, got {agents!r}")
        specs = []
        for agent in agents:
            try:
                if isinstance(agent, dict):
                    settings = dict(agent)
                    name = settings.pop("agent", None)
                    if not isinstance(name, str) or not name:
                        raise ValueError(f"agent table {agent!r} needs agent = \"NAME\" (a registered name or "
                                         "module:Class) besides its settings")
                    agent = name + (json.dumps(settings) if settings else "")
                if not isinstance(agent, str):
                    raise ValueError(f"agent {agent!r} is neither a spec string nor a table")
                specs.append(canonical_agent(agent))
            except ValueError as error:
                self._fail(f"{scale}: {error}")
        labels = [agent_label(spec) for spec in specs]
        repeated = [label for i, label in enumerate(labels) if label in labels[:i]]
        if repeated:
            self._fail(f"{scale}: two agents are labelled {repeated[0]!r}; give each a name = \"…\" of its own")
        return specs

    def _choose_analysis(self, document: dict[str, Any]) -> CostSweepAnalysis:
        choice = document.get("analysis", GENERIC_ANALYSIS)
        if choice in BUILTIN_ANALYSES:
            if "fixed_agents" in document:
                self._fail(f"fixed_agents is the {GENERIC_ANALYSIS} analysis's setting; analysis {choice!r} has its "
                           "own references")
            from tradeoff_gym.benchmarks.experiments import load_experiment

            return load_experiment(choice).ANALYSIS
        if choice != GENERIC_ANALYSIS:
            self._fail(f"analysis must be {GENERIC_ANALYSIS!r} (the generic cost-sweep analysis) or a built-in cost "
                       f"sweep's ({', '.join(BUILTIN_ANALYSES)}), got {choice!r}")
        fixed = document.get("fixed_agents", ["serial", "parallel"])
        if not isinstance(fixed, list) or not fixed or not all(isinstance(a, str) and a for a in fixed):
            self._fail(f"fixed_agents must be a non-empty list of agent labels (agents that play one strategy "
                       f"throughout, e.g. [\"serial\", \"parallel\"]), got {fixed!r}")
        return CostSweepAnalysis(name=self.NAME, title=self.NAME, fixed=tuple(fixed))


def load_sweep_file(path: str | Path) -> SweepExperiment:
    """Read and check a sweep file; :class:`SweepFileError` (one line naming the file and the problem) if unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepFileError(f"sweep file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SweepFileError(f"sweep file {path} cannot be read ({error})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SweepFileError(f"{path} is not valid TOML ({error})") from None
    document.setdefault("name", path.stem)
    return SweepExperiment(document, where=str(path))


def family_worlds(family: str, worlds: str | list[int]) -> tuple[int, ...]:
    """The world indices ``worlds`` names in ``family``: a split, ``all``, ranges and lists as a string
    (:func:`tradeoff_gym.envs.families.worlds`), or a list of indices; ValueError naming a bad one."""
    from tradeoff_gym.envs.families import worlds as parse_worlds

    return parse_worlds(family, worlds if isinstance(worlds, str) else ",".join(str(w) for w in worlds))


def _family_sets_cost(family: Any) -> bool:
    """Whether the worlds of ``family`` (a name, or anything else: no) draw their own ``cost``."""
    from tradeoff_gym.envs.families import FAMILIES, world_settings

    return isinstance(family, str) and family in FAMILIES and "cost" in world_settings(family, 0)


def is_sweep_file(reference: str) -> bool:
    """Whether an experiment reference names a sweep file (it ends in ``.toml``)."""
    return reference.lower().endswith(".toml")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_json(document: Any, where: str, path: Sequence[str] = ()) -> None:
    """Refuse TOML values JSON cannot hold (dates and times): the manifest stores the document as JSON."""
    if isinstance(document, dict):
        for key, value in document.items():
            _check_json(value, where, (*path, str(key)))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            _check_json(value, where, (*path, str(i)))
    elif not (document is None or isinstance(document, (str, int, float, bool))):
        raise SweepFileError(f"{where}: {'.'.join(path)} is a {type(document).__name__}; sweep files hold strings, "
                             "numbers, booleans, lists and tables")
