"""What an experiment is: plain-data runs to execute, an analysis of their logged frames, and a score.

An experiment is a package ``benchmarks/experiments/<name>/``, laid out alike for every experiment (as bsuite's):

* ``__init__.py`` — the plain data, and re-exports of the functions below:

  * ``DESCRIPTION: str`` — one line;
  * ``SCALES: dict[str, dict]`` — ``"smoke"`` (seconds; the tests run it), ``"quick"`` (minutes on a laptop)
    and ``"paper"`` (the paper's protocol); plain data (numbers, strings, lists). The keys ``seeds`` (a
    count: seeds 0…n−1, or a list of seeds; sweeps read it with :func:`seed_list`), ``agents`` (names, or
    names with JSON settings: :func:`resolve_agents`) and, for cost sweeps, ``costs`` have their own CLI options;
    any key can be set with ``--set``, and any env setting swept with ``--env`` (:func:`expand_env_grid`);
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

from tradeoff_gym.learners.checks import check_number

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
    ``tags`` are constant columns added to the run's rows (e.g. ``{"cost": 0.3}``); ``label`` (when not empty) is
    the run's ``agent`` column instead of the registry name (an agent with settings: ``navigator{"block":0.05}``).
    """

    run_id: str
    env_id: str
    agent: str
    seed: int
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    #: What results and reports call the agent (the ``agent`` column); empty: ``agent``.
    label: str = ""


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
    if isinstance(seeds, list) and seeds:
        seeds = len(seeds)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        return -1
    try:
        one_seed = module.runs({**settings, "seeds": 1})
    except Exception:  # the full call reports its own errors
        return -1
    count = len(one_seed) * seeds * grid_size(settings.get(GRID_KEY) or {})
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


#: The settings key of an env grid (:func:`expand_env_grid`): ``{setting: [values]}``, recorded in the manifest.
GRID_KEY = "env_grid"


def seed_list(settings: dict[str, Any]) -> list[int]:
    """The seeds of a sweep: ``settings["seeds"]`` is a count n (seeds 0…n−1) or an explicit list of seeds."""
    seeds = settings["seeds"]
    return list(seeds) if isinstance(seeds, (list, tuple)) else list(range(int(seeds)))


def check_seeds(value: Any) -> int | list[int]:
    """``seeds`` checked: a count >= 1, or a non-empty list of distinct integers >= 0; ValueError naming it."""
    if isinstance(value, (list, tuple)):
        bad = [x for x in value if isinstance(x, bool) or not isinstance(x, int) or x < 0]
        if not value or bad:
            raise ValueError(f"seeds must be a count >= 1 or a non-empty list of integers >= 0, got {list(value)!r}")
        repeated = [x for i, x in enumerate(value) if x in value[:i]]
        if repeated:
            raise ValueError(f"seeds lists {repeated[0]} more than once; give each seed once")
        return list(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"seeds must be a count >= 1 or a non-empty list of integers >= 0, got {value!r}")
    return value


def grid_size(grid: dict[str, list[Any]]) -> int:
    """How many env-setting combinations ``grid`` has (1 for no grid)."""
    size = 1
    for values in grid.values():
        size *= len(values)
    return size


def grid_value_text(value: Any) -> str:
    """A grid value as run ids show it: a string bare, anything else compact JSON (``0.2``, ``[1,2]``)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def _tag_values(values: list[Any]) -> list[Any]:
    """A grid's values as one tag column can hold them: numbers (floats if any is), or else strings."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numbers:
        return [float(v) for v in values] if any(isinstance(v, float) for v in values) else list(values)
    if all(isinstance(v, bool) for v in values) or all(isinstance(v, str) for v in values):
        return list(values)
    return [grid_value_text(v) for v in values]


def expand_env_grid(specs: list[RunSpec], grid: dict[str, list[Any]]) -> list[RunSpec]:
    """Every spec once per combination of ``grid`` (env setting -> values), crossed with what the sweep has.

    Each copy's ``env_kwargs`` take the combination's values (over the sweep's own), its ``run_id`` gains one
    ``key=value`` segment per setting after its first segment (``fig5/input_noise=0.2/c0.1/serial/0``), and its
    ``tags`` one column per setting, so results and reports tell the combinations apart. A setting the sweep
    already tags or varies (e.g. ``cost``, fig5_worlds' ``preset``) raises a ValueError: the experiment sweeps it.
    No grid: ``specs`` as given.
    """
    if not grid:
        return specs
    varied = {key for key in grid  # settings the sweep itself gives different values (fig5_worlds' preset)
              if len({json.dumps(spec.env_kwargs.get(key), sort_keys=True, default=repr) for spec in specs}) > 1}
    tagged = sorted(({key for spec in specs for key in spec.tags} & set(grid)) | varied)
    if tagged:
        raise ValueError(f"--env {tagged[0]}: this experiment sweeps {tagged[0]} itself (a column of its results); "
                         "set the values with the experiment's own setting (see `tradeoff-bench show EXPERIMENT`; "
                         "--set KEY=VALUE) or --costs, not --env")
    combos: list[list[tuple[str, Any, Any]]] = [[]]
    for key, values in grid.items():
        combos = [[*combo, (key, value, tag)] for combo in combos for value, tag in zip(values, _tag_values(values))]
    expanded = []
    for spec in specs:
        head, sep, rest = spec.run_id.partition("/")
        for combo in combos:
            segment = "/".join(f"{key}={grid_value_text(value)}" for key, value, _ in combo)
            expanded.append(dataclasses.replace(
                spec,
                run_id=f"{head}/{segment}{sep}{rest}",
                env_kwargs={**spec.env_kwargs, **{key: value for key, value, _ in combo}},
                tags={**spec.tags, **{key: tag for key, _, tag in combo}},
            ))
    return expanded


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split at each ``sep`` outside brackets, braces and double-quoted strings; parts stripped, empty ones
    dropped (``'a,b{"x": 1, "y": 2}'`` -> ``['a', 'b{"x": 1, "y": 2}']``). ValueError on unbalanced brackets."""
    parts, depth, quoted, escaped, start = [], 0, False, False, 0
    for i, char in enumerate(text):
        if quoted:
            escaped, quoted = (not escaped and char == "\\"), quoted and (escaped or char != '"')
            continue
        if char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced {char!r} in {text!r}")
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise ValueError(f"unclosed bracket or quote in {text!r}")
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def parse_agent(text: str) -> tuple[str, dict[str, Any]]:
    """``name`` or ``name{JSON object}`` -> (name, settings); ValueError (one line) on a malformed spec."""
    text = text.strip()
    brace = text.find("{")
    if brace < 0:
        if not text or any(c in text for c in '"}[]/'):
            raise ValueError(f"agent {text!r} is not a name, module:Class, or either followed by JSON settings")
        return text, {}
    name, raw = text[:brace].strip(), text[brace:]
    try:
        kwargs = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"agent {text!r}: its settings {raw!r} are not a JSON object ({error.msg}); write them "
                         f'like navigator{{"block": 0.05}}') from None
    if not name or not isinstance(kwargs, dict):
        raise ValueError(f'agent {text!r} must be NAME{{JSON object}}, e.g. navigator{{"block": 0.05}}')
    label = kwargs.get("name")
    if "name" in kwargs and (not isinstance(label, str) or not label.strip() or "/" in label):
        raise ValueError(f"agent {text!r}: name must be a non-empty string without '/', got {label!r}")
    return name, kwargs


def canonical_agent(text: str) -> str:
    """An agent spec in one spelling: the name, then its settings as compact JSON with sorted keys (if any)."""
    name, kwargs = parse_agent(text)
    return name + (json.dumps(kwargs, sort_keys=True, separators=(",", ":")) if kwargs else "")


def agent_label(text: str) -> str:
    """The label runs of an agent spec carry (their ``agent`` column): the settings' ``name`` if given, else the
    canonical spec (:func:`canonical_agent`), or the bare name of a spec without settings."""
    name, kwargs = parse_agent(text)
    return (kwargs.get("name") or canonical_agent(text)) if kwargs else name


def resolve_agents(specs: list[RunSpec], named: Any = ()) -> list[RunSpec]:
    """Specs whose ``agent`` is a spec with settings (``navigator{"block":0.05}``) as the run loop builds them.

    ``agent`` becomes the name, the settings join ``agent_kwargs`` (``name`` excepted), and ``label`` is the
    settings' ``name`` if given, else the canonical spec; the run id's segment that spelled the spec becomes the
    label. A ``module:Class`` without settings among ``named`` (the sweep's ``agents`` setting: the user's choice) is
    labelled with its class's own ``name`` (a string attribute) when it defines one. Specs of plain registered
    names are returned as they are.
    """
    from tradeoff_gym.agents.registry import AGENTS, load_agent_class

    resolved = []
    for spec in specs:
        name, kwargs = parse_agent(spec.agent)
        if not kwargs:
            own = getattr(load_agent_class(name), "name", None) \
                if name not in AGENTS and ":" in name and name in named else None
            label = own if isinstance(own, str) and own and not spec.label else spec.label
            resolved.append(dataclasses.replace(spec, label=label) if label != spec.label else spec)
            continue
        label = agent_label(spec.agent)
        kwargs.pop("name", None)
        segments = [label if part in (spec.agent, canonical_agent(spec.agent)) else part
                    for part in spec.run_id.split("/")]
        resolved.append(dataclasses.replace(spec, agent=name, agent_kwargs={**spec.agent_kwargs, **kwargs},
                                            label=spec.label or label, run_id="/".join(segments)))
    return resolved


def cost_runs(name: str, env_id: str, settings: dict[str, Any]) -> list[RunSpec]:
    """Every (cost, agent, seed) run of a cost sweep; run ids ``<name>/c<cost>/<agent>/<seed>``.

    ``settings["horizon"]`` (when given) is every run's ``horizon``; ``settings["world"]`` (a dict, when given) env
    settings passed to every run (a sweep file's fixed world settings); ``settings["preset"]`` (when given and not
    ``"default"``) is the env's world preset, passed to every run.

    With ``settings["two_phase"]`` (switch points as fractions of the horizon) also the two-phase schedules
    serial→parallel and parallel→serial switching there (agent ``two-phase``, tags ``phase_order`` and
    ``phase_switch``; run ids ``<name>/c<cost>/two-phase-<first>-<then>@<switch>/<seed>``): the stronger reference.
    """
    env_kwargs = {**(settings.get("world") or {}), **({"horizon": int(settings["horizon"])}
                                                      if "horizon" in settings else {})}
    preset = settings.get("preset", "default")
    if preset != "default":  # the default world's runs keep the env settings they had before presets existed
        env_kwargs["preset"] = preset
    switches = [check_number(x, "every two_phase switch (a fraction of the horizon)", 0.0, 1.0)
                for x in settings.get("two_phase", ())]
    specs = [
        RunSpec(
            run_id=f"{name}/c{cost:g}/{agent}/{seed}",
            env_id=env_id,
            agent=agent,
            seed=seed,
            env_kwargs={"cost": float(cost), **env_kwargs},
            tags={"cost": float(cost)},
        )
        for cost in settings["costs"]
        for agent in settings["agents"]
        for seed in seed_list(settings)
    ]
    specs += [
        RunSpec(
            run_id=f"{name}/c{cost:g}/two-phase-{first}-{then}@{switch:g}/{seed}",
            env_id=env_id,
            agent="two-phase",
            seed=seed,
            env_kwargs={"cost": float(cost), **env_kwargs},
            agent_kwargs={"first": first, "then": then, "switch": float(switch)},
            tags={"cost": float(cost), "phase_order": f"{first}→{then}", "phase_switch": float(switch)},
        )
        for cost in settings["costs"]
        for first, then in (("serial", "parallel"), ("parallel", "serial"))
        for switch in switches
        for seed in seed_list(settings)
    ]
    return specs



def plan_runs(module: Any, settings: dict[str, Any]) -> list[RunSpec]:
    """Every run of ``module``'s sweep for ``settings``: its ``runs``, crossed with the env grid
    (``settings["env_grid"]``, :func:`expand_env_grid`), agents with settings resolved (:func:`resolve_agents`)."""
    specs = expand_env_grid(module.runs(settings), settings.get(GRID_KEY) or {})
    return resolve_agents(specs, settings.get("agents") or ())
