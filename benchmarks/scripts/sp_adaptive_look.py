"""Can a look's threshold depend on what parallel showed before it? Leave-one-world-out on a train split.

Why: on ``sp-mixed`` the frontier's in-class oracle (the best probe rule per world) is 0.03 above the one rule
chosen on train, and the best rule differs by stratum (docs/findings/frontier.md). Parallel's rewards before the
first serial trial do not depend on the cost, so a rule may read them: this script asks whether doing so pays on
worlds it was not fitted to. It replays three classes of one-trial look rules (L = 1, baseline = the ``recent``
parallel trials before the look; ``level`` = their mean reward) from the frontier's played schedules:

* ``fixed``: look at T, switch to serial for good if the look ÷ level ≥ t (the frontier's class);
* ``linear``: the same with the threshold t = a + b · level;
* ``split``: look at the first T if level there < h with threshold t₁, else skip it and look at the last T with
  threshold t₂;
* ``sequential`` (``--sequential``): look at the first T; switch for good if look ÷ level ≥ t₁, stay parallel for
  good if it is < t₀ (t₀ ≤ t₁), else look again at the last T with threshold t₂. **Approximate**: an episode that
  looks twice is replayed from the single-look schedules at the last T (``switch@T``, ``stay@T``), which lack the
  first look's one serial trial — one trial of τ, and the network it trains at the second look differs by that one
  serial update;
* ``bayes`` (``--bayes``): the ``coupled-look`` agent's decision (:mod:`tradeoff_gym.agents.coupled_look`), a
  Bayesian look at T whose prior is the *other* train worlds' coupled surrogates (``tradeoff/CoupledCurves-v0``
  presets ``sp-mixed-w<k>``) × a grid of costs. Its settings: T, the model noise of a block mean and the look's
  relative noise.

For each class it prints the best rule on all the given train worlds (in-sample) and the **leave-one-world-out**
score: each world scored by the rule the class chooses on the other worlds. Scores are normalised returns as in
``sp_frontier`` (÷ the best fixed strategy's, per seed and cost), averaged over worlds × costs × seeds. The classes
are designed on train worlds only (a test world in ``--worlds`` is refused); ``--test WORLDS`` then scores the
rule each class chose on all the train worlds, once, on test worlds with the test seeds (the final table). The
schedules must have been played by ``sp_frontier``::

    python -m tradeoff_gym.benchmarks.scripts.sp_adaptive_look --family sp-mixed --worlds 0-23 --seeds 2 \\
        --looks 250,1000 --out results/sp_frontier --bayes --test 24-39
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tradeoff_gym import envs
from tradeoff_gym.agents.coupled_look import look_switches, surrogate
from tradeoff_gym.agents.frontier import probe_switches
from tradeoff_gym.benchmarks.scripts.lc_frontier import normalise
from tradeoff_gym.benchmarks.scripts.look_frontier import ENV_ID, complete, load, schedule_name, trial_rewards
from tradeoff_gym.benchmarks.scripts.sp_frontier import SP_FAMILIES, parse_ints, trajectory_path
from tradeoff_gym.envs.coupled_curves import CALIBRATION_DIR
from tradeoff_gym.envs.families import get_family, worlds

#: The thresholds of the fixed and split classes, and the intercepts and slopes of the linear one.
THRESHOLDS = np.round(np.arange(0.5, 1.301, 0.025), 3)
INTERCEPTS = np.round(np.arange(0.0, 2.001, 0.05), 3)
SLOPES = np.round(np.arange(-3.0, 3.001, 0.25), 3)
#: The Bayesian look's settings (agents.coupled_look): model noise of a 25-trial block mean, the look's relative noise.
MODEL_NOISES = (0.02, 0.03, 0.05)
LOOK_NOISES = (0.1, 0.15, 0.2)


def episodes(family: str, world_list: Sequence[int], seeds: Sequence[int], looks: Sequence[int], recent: int,
             horizon: int, out: Path) -> dict[str, np.ndarray]:
    """Per (world, cost, seed) row: ``world``; per look T ``level{T}``, ``look{T}`` (the look's reward) and the
    normalised returns ``switch{T}`` / ``stay{T}`` of the two continuations. A ValueError names unplayed
    schedules and the command that plays them."""
    fam = get_family(family)
    names = ["serial", "parallel"] + [schedule_name(kind, at) for at in looks for kind in ("switch", "stay")]
    rows: dict[str, list[float]] = {}
    for world in world_list:
        paths = {name: trajectory_path(out, family, world, seeds, horizon, name) for name in names}
        missing = [name for name, path in paths.items() if not complete(path)]
        if missing:
            raise ValueError(f"world {world}: schedules {missing} not played in {out}; play them with "
                             f"python -m tradeoff_gym.benchmarks.scripts.sp_frontier --family {family} --split train "
                             f"--worlds {world} --seeds {len(seeds)} --looks {','.join(map(str, looks))} --out {out}")
        trajectories = load(paths)
        rule = envs.check_settings(ENV_ID, family=family, world=world).reward_rule
        for cost in fam.costs:
            rewards = {name: trial_rewards(rule, trajectories[name], cost) for name in names}
            fixed = np.stack([rewards["serial"].mean(axis=1), rewards["parallel"].mean(axis=1)], axis=1)
            row: dict[str, np.ndarray] = {"world": np.full(len(seeds), world, dtype=float),
                                          "cost": np.full(len(seeds), cost, dtype=float)}
            for at in looks:
                switch = rewards[schedule_name("switch", at)]
                row[f"level{at}"] = switch[:, at - recent:at].mean(axis=1)
                row[f"look{at}"] = switch[:, at]
                row[f"before{at}"] = switch[:, :at]
                row[f"switch{at}"] = normalise(switch.mean(axis=1)[None], fixed)[0]
                row[f"stay{at}"] = normalise(rewards[schedule_name("stay", at)].mean(axis=1)[None], fixed)[0]
            for key, value in row.items():
                rows.setdefault(key, []).extend(value)
    return {key: np.asarray(value) for key, value in rows.items()}


def bayes_settings(looks: Sequence[int]) -> dict[str, tuple[int, float, float]]:
    """The ``bayes`` class's rules by name: (look, model noise, look noise), in the class's order."""
    return {f"bayes look {at}, model noise {model_noise:g}, look noise {look_noise:g}": (at, model_noise, look_noise)
            for at in looks for model_noise in MODEL_NOISES for look_noise in LOOK_NOISES}


def _bayes_play(data: dict[str, np.ndarray], rows: np.ndarray, components: list[dict], at: int,
                model_noise: float, look_noise: float) -> np.ndarray:
    """The normalised returns of ``rows`` (a mask) when the coupled look at ``at`` over ``components`` decides."""
    switched = look_switches(data[f"before{at}"][rows], data[f"look{at}"][rows], components, model_noise, look_noise)
    return np.where(switched, data[f"switch{at}"][rows], data[f"stay{at}"][rows])


def bayes_class(data: dict[str, np.ndarray], family: str, looks: Sequence[int], horizon: int) -> tuple[
        list[str], np.ndarray]:
    """The ``bayes`` class: per :func:`bayes_settings` rule each row's normalised return, the prior of a row of
    world w being the surrogates of the other worlds in ``data``."""
    world = data["world"].astype(int)
    shipped = {at: {w: surrogate(f"{family}-w{w}", at, horizon) for w in np.unique(world)} for at in looks}
    settings = bayes_settings(looks)
    values = np.empty((len(settings), world.size))
    for r, (at, model_noise, look_noise) in enumerate(settings.values()):
        for w in shipped[at]:
            rows = world == w
            others = [c for k, c in shipped[at].items() if k != w]
            values[r, rows] = _bayes_play(data, rows, others, at, model_noise, look_noise)
    return list(settings), values


def _play(data: dict[str, np.ndarray], at: int, threshold: np.ndarray) -> np.ndarray:
    """Each row's normalised return when the look at ``at`` switches iff look ÷ level ≥ ``threshold`` (per row;
    the frontier agent's own test, :func:`probe_switches`)."""
    switched = probe_switches(data[f"level{at}"][:, None], data[f"look{at}"][:, None], threshold)
    return np.where(switched, data[f"switch{at}"], data[f"stay{at}"])


def rule_classes(data: dict[str, np.ndarray], looks: Sequence[int],
                 sequential: bool = False) -> dict[str, tuple[list[str], np.ndarray]]:
    """class → (rule names, ``(rules, rows)`` normalised returns); ``sequential`` adds the two-look class."""
    out: dict[str, tuple[list[str], list[np.ndarray]]] = {"fixed": ([], []), "linear": ([], []), "split": ([], []),
                                                          "sequential": ([], [])}
    n = data["world"].size
    for at in looks:
        for t in THRESHOLDS:
            out["fixed"][0].append(f"look {at}, t {t:g}")
            out["fixed"][1].append(_play(data, at, np.full(n, t)))
        for a in INTERCEPTS:
            for b in SLOPES:
                out["linear"][0].append(f"look {at}, t = {a:g} + {b:g} level")
                out["linear"][1].append(_play(data, at, a + b * data[f"level{at}"]))
    first, last = min(looks), max(looks)
    if first != last:
        level = data[f"level{first}"]
        early = {t: _play(data, first, np.full(n, t)) for t in THRESHOLDS}
        late = {t: _play(data, last, np.full(n, t)) for t in THRESHOLDS}
        for h in np.unique(np.round(np.quantile(level, np.linspace(0.0, 1.0, 21)), 3)):
            for t1 in THRESHOLDS:
                for t2 in THRESHOLDS:
                    out["split"][0].append(f"level{first} < {h:g}: look {first}, t {t1:g}; else look {last}, t {t2:g}")
                    out["split"][1].append(np.where(level < h, early[t1], late[t2]))
        if sequential:
            switch, stay = data[f"switch{first}"], data[f"stay{first}"]
            above = {t: probe_switches(data[f"level{first}"][:, None], data[f"look{first}"][:, None], t)
                     for t in THRESHOLDS}
            for i, t1 in enumerate(THRESHOLDS):
                for t0 in THRESHOLDS[:i + 1]:
                    for t2 in THRESHOLDS:
                        out["sequential"][0].append(f"look {first}: switch ≥ {t1:g}, stay < {t0:g}; "
                                                    f"else look {last}, t {t2:g}")
                        out["sequential"][1].append(np.where(above[t1], switch, np.where(above[t0], late[t2], stay)))
    return {name: (names, np.stack(values)) for name, (names, values) in out.items() if names}


def score_cells(values: np.ndarray, data: dict[str, np.ndarray]) -> str:
    """Markdown cells for one rule's ``(rows,)`` normalised returns: mean, worst decile of the (world, cost) means,
    worlds whose mean is ≥ 1."""
    world, cost = data["world"], data["cost"]
    cells = {}
    for w, c, v in zip(world, cost, values):
        cells.setdefault((w, c), []).append(v)
    means = np.array([np.mean(v) for v in cells.values()])
    per_world = [np.mean(values[world == w]) for w in np.unique(world)]
    return (f"{values.mean():.4f} | {np.quantile(means, 0.1):.3f} | "
            f"{sum(v >= 1.0 for v in per_world)} of {len(per_world)}")


def leave_one_world_out(values: np.ndarray, world: np.ndarray) -> float:
    """Mean over rows of the score each world gets from the rule chosen on the other worlds."""
    scores = []
    for w in np.unique(world):
        held = world == w
        best = int(np.argmax(values[:, ~held].mean(axis=1)))
        scores.append(values[best, held])
    return float(np.concatenate(scores).mean())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="sp-mixed", choices=SP_FAMILIES)
    parser.add_argument("--worlds", default=None, help="train worlds (default: the whole train split)")
    parser.add_argument("--seeds", type=int, default=2, help="the first N train seeds")
    parser.add_argument("--looks", default="250,1000")
    parser.add_argument("--recent", type=int, default=50)
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("results/sp_frontier"), help="sp_frontier's folder")
    parser.add_argument("--test", default=None,
                        help="test worlds to score each class's rule chosen on train on, once (the final table)")
    parser.add_argument("--sequential", action="store_true",
                        help="add the two-look class (approximate replay: see the module docstring)")
    parser.add_argument("--bayes", action="store_true",
                        help="add the Bayesian look (its prior: the other worlds' shipped surrogates sp-mixed-w<k>)")
    args = parser.parse_args(argv)
    fam = get_family(args.family)
    try:
        chosen = list(worlds(fam, args.worlds)) if args.worlds is not None else list(fam.train)
    except ValueError as error:
        parser.error(f"--worlds: {error}")
    test = [w for w in chosen if w not in fam.train]
    if test:
        parser.error(f"--worlds names {test}, outside {fam.name}'s train split: rules are designed on train "
                     f"worlds only")
    if len(chosen) < 2:
        parser.error(f"leave-one-world-out needs at least 2 worlds, got {chosen}")
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    looks = parse_ints(args.looks, "--looks", 1)
    if any(not args.recent <= at < args.horizon for at in looks):
        parser.error(f"every look must lie in [recent, horizon) = [{args.recent}, {args.horizon}), got {args.looks}")
    test_worlds: list[int] = []
    if args.test is not None:
        try:
            test_worlds = list(worlds(fam, args.test))
        except ValueError as error:
            parser.error(f"--test: {error}")
        outside = [w for w in test_worlds if w not in fam.test]
        if outside:
            parser.error(f"--test names {outside}, outside {fam.name}'s test split")
    seeds = list(fam.train_seeds)[:args.seeds]
    try:
        data = episodes(fam.name, chosen, seeds, looks, args.recent, args.horizon, args.out)
    except ValueError as error:
        parser.error(str(error))
    print(f"{fam.name}: train worlds {chosen}, seeds {seeds}, costs {list(fam.costs)}; normalised return")
    print("| class | rules | best in-sample (rule) | leave-one-world-out |")
    print("| --- | --- | --- | --- |")
    classes = rule_classes(data, looks, args.sequential)
    if args.bayes:
        missing = [w for w in chosen if not (CALIBRATION_DIR / f"{fam.name}-w{w}.json").exists()]
        if missing:
            parser.error(f"--bayes needs a shipped surrogate of every world; none for {missing} "
                         f"(fit_coupled --trajectories, docs/findings/coupled-curves.md)")
        classes["bayes"] = bayes_class(data, fam.name, looks, args.horizon)
    chosen_rules = {}
    for name, (names, values) in classes.items():
        means = values.mean(axis=1)
        best = int(np.argmax(means))
        chosen_rules[name] = names[best]
        print(f"| {name} | {len(names)} | {means[best]:.4f} ({names[best]}) | "
              f"{leave_one_world_out(values, data['world']):.4f} |")
    if test_worlds:
        test_seeds = list(fam.test_seeds)[:args.seeds]
        try:
            held = episodes(fam.name, test_worlds, test_seeds, looks, args.recent, args.horizon, args.out)
        except ValueError as error:
            parser.error(str(error))
        print(f"\nscored once on test worlds {test_worlds}, seeds {test_seeds}: each class's rule chosen on the train "
              f"worlds above (the bayes prior: all their surrogates)")
        print("| class | rule chosen on train | test mean | worst decile (world × cost) | test worlds ≥ 1 |")
        print("| --- | --- | --- | --- | --- |")
        for name, (names, values) in rule_classes(held, looks, args.sequential).items():
            if name in chosen_rules and chosen_rules[name] in names:
                rule = chosen_rules[name]
                print(f"| {name} | {rule} | {score_cells(values[names.index(rule)], held)} |")
        if args.bayes:
            at, model_noise, look_noise = bayes_settings(looks)[chosen_rules["bayes"]]
            prior = [surrogate(f"{fam.name}-w{w}", at, args.horizon) for w in chosen]
            values = _bayes_play(held, np.ones(held["world"].size, dtype=bool), prior, at, model_noise, look_noise)
            print(f"| bayes | {chosen_rules['bayes']} | {score_cells(values, held)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
