"""The generalization sweep: every (family, test world, cost, agent, held-out seed) run.

Per family of ``settings["families"]`` (:data:`tradeoff_gym.envs.families.FAMILIES`), the worlds ``settings["worlds"]``
names (a spec such as ``"test"`` or ``"24-26"``, applied to each family; test worlds only), at most
``settings["max_worlds"]`` of them, each played:

* at every cost of ``settings["costs"]`` where the family's worlds leave the cost open (sp-mixed), or at the world's
  own drawn cost (the LearningCurves families) — tagged ``cost`` either way;
* with ``settings["horizon"]`` trials on SerialParallel worlds; a LearningCurves world keeps its own τ;
* from the family's held-out seeds: ``seeds`` n → the first n of the family's ``test_seeds`` (a list: those seeds,
  each of them a test seed of every family);
* by every learning agent of ``settings["agents"]``, by every strategy of the world's table as a fixed agent (the
  references: the best of them per world and cost is "the best fixed strategy"), and with ``settings["frontier"]``
  by the family's cost-blind frontier rule (:func:`tradeoff_gym.agents.frontier.frontier_agent`), labelled
  ``frontier`` and tagged ``frontier_rule``.

Run ids ``generalization/<family>/w<world>/c<cost>/<agent>/<seed>``; tags ``family``, ``world``, ``cost``. Fixed
agents are reward-independent, so on sp-mixed the runner plays each (world, strategy, seed) once and re-discounts it
for every cost. The world's crossover cost c* is not a tag: the analysis looks it up when it reads the results
(the sp-mixed data file grows; a tag would make a resumed sweep's runs differ). Why test worlds and seeds only:
agents, their priors and the frontier rule were designed on the train split. Docs: docs/benchmarks/experiments.md.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, agent_label, parse_agent
from tradeoff_gym.benchmarks.experiments.generalization.analysis import FIXED_AGENTS, FRONTIER, ranges

NAME = "generalization"
#: A learning agent's setting with this value is the played family's name in that family's runs (for instance the
#: planner's prior fitted on the family's train split: ``planner{"prior": "@family"}``).
FAMILY = "@family"
#: The label of a fixed strategy that has no registry name of its own (lc-wide's ``mixed-j`` schedules) is its
#: strategy's name; the run plays this class with ``strategy`` set.
FIXED_CLASS = "tradeoff_gym.agents.baselines:FixedAgent"
#: Fixed strategies with a registry name of their own.
REGISTERED_FIXED = ("serial", "parallel")


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """Every run of the sweep for ``settings`` (the keys of the experiment's ``SCALES``).

    ValueError (one line, naming the setting and what is allowed) for an unknown family, a world spec outside a
    family's range or naming a train world, more seeds than a family's test seeds, a learning agent labelled like
    a fixed strategy or the frontier.
    """
    from tradeoff_gym.envs.families import FAMILIES

    families = settings["families"]
    if isinstance(families, str):
        families = [families]
    if not isinstance(families, (list, tuple)) or not families:
        raise ValueError(f"families must be a non-empty list of family names, one of {sorted(FAMILIES)}; "
                         f"got {families!r}")
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError(f"families: unknown family {unknown[0]!r}; families: {sorted(FAMILIES)}")
    agents = list(settings["agents"])
    labels = [agent_label(agent) for agent in agents]
    taken = [label for label in labels if label in (*FIXED_AGENTS, FRONTIER)]
    if taken:
        raise ValueError(f"agent {taken[0]!r} in agents is a label this experiment gives its references (every "
                         f"strategy of a world's table plays as a fixed agent; frontier=true adds the frontier "
                         f"rule); give learning agents only, or a name of their own with {{\"name\": \"…\"}}")
    specs: list[RunSpec] = []
    for family in families:
        specs += family_runs(family, settings, agents)
    return specs


def family_runs(family: str, settings: dict[str, Any], agents: list[str]) -> list[RunSpec]:
    """The runs of one family: its worlds × costs × (learning agents, fixed strategies, frontier) × seeds."""
    from tradeoff_gym.envs import check_settings
    from tradeoff_gym.envs.families import get_family

    fam = get_family(family)
    worlds = held_out_worlds(family, settings["worlds"], settings.get("max_worlds"))
    seeds = held_out_seeds(family, settings["seeds"])
    frontier = frontier_spec(family) if settings.get("frontier") else None
    specs = []
    for world in worlds:
        drawn = fam.settings(world)
        if "cost" in drawn:  # the world's own cost (LearningCurves families): played, tagged, never swept
            costs, base = [float(drawn["cost"])], {"family": family, "world": world}
        else:
            costs = [float(c) for c in settings["costs"]]
            base = {"family": family, "world": world, "horizon": int(settings["horizon"])}
        config = check_settings(fam.env_id, **base, **({} if "cost" in drawn else {"cost": costs[0]}))
        strategies = [s.name for s in config.strategies]
        strange = [s for s in strategies if s not in FIXED_AGENTS]
        if strange:
            raise ValueError(f"world {world} of family {family!r} has strategy {strange[0]!r}, which this "
                             f"experiment's fixed references do not name ({', '.join(FIXED_AGENTS)})")
        for cost in costs:
            env_kwargs = {**base, **({} if "cost" in drawn else {"cost": cost})}
            tags = {"family": family, "world": world, "cost": cost}
            prefix = f"{NAME}/{family}/w{world}/c{cost:g}"
            players: list[tuple[str, str, dict[str, Any], str, dict[str, Any]]] = []  # segment, agent, kw, label, tags
            players += [family_player(agent, family) for agent in agents]
            players += [(s, s, {}, "", {}) if s in REGISTERED_FIXED else (s, FIXED_CLASS, {"strategy": s}, s, {})
                        for s in strategies]
            if frontier is not None:
                name, kwargs, rule = frontier
                players.append((FRONTIER, name, kwargs, FRONTIER, {"frontier_rule": rule}))
            specs += [
                RunSpec(run_id=f"{prefix}/{segment}/{seed}", env_id=fam.env_id, agent=agent, seed=seed,
                        env_kwargs=dict(env_kwargs), agent_kwargs=dict(kwargs), tags={**tags, **extra}, label=label)
                for segment, agent, kwargs, label, extra in players
                for seed in seeds
            ]
    return specs


def family_player(agent: str, family: str) -> tuple[str, str, dict[str, Any], str, dict[str, Any]]:
    """(run id segment, agent, settings, label, tags) of a learning agent in ``family``'s runs: settings equal to
    :data:`FAMILY` become the family's name; the label (and run id segment) stays the spec as written, so one
    agent row spans every family. Why: empirical Bayes per family (a prior fitted on each family's train split) is
    one agent of the report, not one per family."""
    name, kwargs = parse_agent(agent)
    if FAMILY not in kwargs.values():
        return agent, agent, {}, "", {}
    label = agent_label(agent)
    settings = {key: family if value == FAMILY else value for key, value in kwargs.items() if key != "name"}
    return label, name, settings, label, {}


def held_out_worlds(family: str, spec: Any, max_worlds: Any = None) -> list[int]:
    """The test worlds of ``family`` that ``spec`` names (``"test"``, ``"24-26"``, ``"0,3"``, a list of indices), the
    first ``max_worlds`` of them (an int, or a dict family → int; None: all).

    ValueError naming the family when the spec is malformed, outside the family's range, or names a train world:
    the experiment plays held-out worlds only (agents and the frontier rule were designed on the train split).
    """
    from tradeoff_gym.benchmarks.sweep_file import family_worlds
    from tradeoff_gym.envs.families import get_family

    fam = get_family(family)
    if not isinstance(spec, (str, list, tuple)) or isinstance(spec, (list, tuple)) and not all(
            isinstance(w, int) and not isinstance(w, bool) for w in spec):
        raise ValueError(f"worlds must be 'test', a range 'i-j', a comma-separated list or a list of world indices, "
                         f"got {spec!r}")
    try:
        worlds = list(family_worlds(family, spec if isinstance(spec, str) else list(spec)))
    except ValueError as error:
        raise ValueError(f"worlds {spec!r} for family {family!r}: {error}") from None
    train = [w for w in worlds if w in set(fam.train)]
    if train:
        raise ValueError(f"worlds {spec!r} names train world {train[0]} of family {family!r}: the generalization "
                         f"experiment plays held-out worlds only; its test worlds are {ranges(fam.test)}")
    limit = max_worlds.get(family) if isinstance(max_worlds, dict) else max_worlds
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_worlds must be an integer >= 1 (or a dict family -> integer, or null: every "
                             f"world), got {limit!r} for family {family!r}")
        worlds = worlds[:limit]
    return worlds


def held_out_seeds(family: str, seeds: Any) -> list[int]:
    """The held-out seeds of ``family``: a count n → the first n of its ``test_seeds``; a list → those seeds, each of
    which must be one of its test seeds. ValueError naming the family's test seed range otherwise."""
    from tradeoff_gym.envs.families import get_family

    pool = get_family(family).test_seeds
    where = f"family {family!r} has test seeds {pool.start}–{pool.stop - 1}"
    if isinstance(seeds, (list, tuple)):
        outside = [s for s in seeds if s not in pool]
        if outside:
            raise ValueError(f"seed {outside[0]} is not a held-out seed: {where} (give seeds as a count n to play "
                             "the first n test seeds of each family)")
        return [int(s) for s in seeds]
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= len(pool):
        raise ValueError(f"seeds must be a count in [1, {len(pool)}] (the first n test seeds; {where}), got {seeds!r}")
    return list(pool[:seeds])


def frontier_spec(family: str) -> tuple[str, dict[str, Any], str] | None:
    """The family's frontier rule as ``(agent name, settings, rule)``, or None when the family has no recorded rule.

    ``rule`` is the short name inside the spec's label ``frontier (<rule>)`` (e.g. ``etc-10``), or the label as it is.
    """
    try:
        from tradeoff_gym.agents.frontier import frontier_agent
    except ImportError:
        raise ValueError("frontier=true needs tradeoff_gym.agents.frontier.frontier_agent, which this installation "
                         "lacks; set frontier=false") from None
    spec = frontier_agent(family)
    if spec is None:
        return None
    name, kwargs = parse_agent(spec)
    label = str(kwargs.pop("name", "") or spec)
    rule = label[len("frontier ("):-1] if label.startswith("frontier (") and label.endswith(")") else label
    return name, kwargs, rule

