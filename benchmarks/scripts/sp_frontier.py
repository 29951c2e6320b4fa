"""The cost-blind frontier on a SerialParallel family: probe-then-commit rules chosen on train, scored on test.

The rule class (docs/findings/frontier.md): ``probe-T+L-t`` plays parallel until trial T (0-based), serial for
the L trials T … T+L−1 (the probe), then serial to the end if the probe's mean reward ÷ the mean reward of the
``recent`` trials before T is ≥ t, else parallel to the end
(:class:`~tradeoff_gym.agents.frontier.ProbeCommitAgent`, registry name ``probe-commit``). Rewards are what an
agent sees (serial trials already discounted by the hidden cost c), so every rule is cost-blind.

**Replay.** The network's training never depends on c, so a rule's episode is one of two trajectories fixed per
(world, seed): ``switch@T`` (parallel until T, serial from T on) or ``stay@T+L`` (the probe, then parallel). Each
is played once at c = 0 (per-task accuracies and actions kept, ``look_frontier``'s :func:`play_many`), and every rule
is replayed for every cost from them (:func:`~tradeoff_gym.benchmarks.scripts.look_frontier.probe_rates`: the
env's reward rule applied to the accuracies; tests check that it reproduces the agent played through the run
loop). A world's missing schedules × the split's seeds play in one vector batch, each schedule saved
(``DIR/<family>_w<world>_h<τ>_s<first>-<last>_<schedule>.npz``) as soon as the batch ends: a stopped run resumes.

**Protocol.** A run's normalised return is its reward rate ÷ the best fixed strategy's on the same seed, the best
fixed strategy of a (world, cost) being the one of serial/parallel with the highest mean rate over the split's
seeds (``lc_frontier``'s :func:`normalise`, ``benchmarks.analysis.normalised_returns``' definition). The rule with
the best mean normalised return over the **train worlds × costs × train seeds** is chosen; it and every rule are
scored on the **test worlds × costs × test seeds**. Beside it: the in-class oracle (per test world the best rule in
hindsight) and the information bound (:func:`bound_values`): no cost-blind policy can make anything before its
first serial trial depend on c.

Writes ``DIR/sp_frontier_<family>.csv`` (one row per split, world, cost, seed and rule, fixed strategy or bound)
and prints the summary in markdown; ``--record`` writes the chosen rule into the shipped ``envs/data/frontier.json``::

    python -m tradeoff_gym.benchmarks.scripts.sp_frontier --family sp-mixed --split both --worlds 0-11,24-39 \\
        --seeds 2 --looks 250,1000 --lengths 1,20 --horizon 5000 --jobs 2 --out results/sp_frontier
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from tradeoff_gym import envs
from tradeoff_gym.agents.frontier import probe_agent_spec, probe_rule_name, record_frontier
from tradeoff_gym.benchmarks.scripts import look_frontier
from tradeoff_gym.benchmarks.scripts.lc_frontier import normalise, span, worst_decile, write_csv
from tradeoff_gym.benchmarks.scripts.look_frontier import (
    ENV_ID,
    Trajectory,
    complete,
    load,
    play_many,
    probe_rates,
    reward_rates,
    schedule_name,
)
from tradeoff_gym.envs.families import FAMILIES, SPLITS, WorldFamily, get_family, worlds
from tradeoff_gym.envs.interface import RewardRule

SP_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.env_id == ENV_ID)
#: The default switch thresholds (the probe's mean reward ÷ the baseline's).
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2)
FIXED = ("serial", "parallel")
#: The bound's rows: ``bound`` fixes the first serial trial per world, ``bound:seed-T`` per seed (see bound_values).
BOUNDS = ("bound", "bound:seed-T")


def schedules(looks: Sequence[int], lengths: Sequence[int]) -> list[str]:
    """Every scripted episode the replay needs: the fixed strategies, ``switch@T`` and ``stay@T+L`` per (T, L)."""
    names = list(FIXED)
    for at in looks:
        names.append(schedule_name("switch", at))
        names.extend(schedule_name("stay", at, length) for length in lengths)
    return list(dict.fromkeys(names))


def trajectory_path(out: Path, family: str, world: int, seeds: Sequence[int], horizon: int, schedule: str) -> Path:
    """Where one (world, schedule)'s batch is kept."""
    return out / f"{family}_w{world}_h{horizon}_s{seeds[0]}-{seeds[-1]}_{schedule}.npz"


def play_world(family: str, world: int, paths: dict[str, Path], seeds: Sequence[int], horizon: int) -> list[Path]:
    """Play one world's missing schedules in one vector batch (:func:`look_frontier.play_many`), one torch thread."""
    torch.set_num_threads(1)
    return list(play_many({"family": family, "world": world}, paths, seeds, horizon).values())


def play_missing(jobs: list[tuple[str, int, str, list[int], int, Path]], workers: int) -> None:
    """Play every ``(family, world, schedule, seeds, horizon, path)`` whose file is not complete (resume): one
    batch per world holding all of its missing schedules."""
    todo = [job for job in jobs if not complete(job[-1])]
    print(f"{len(jobs) - len(todo)} of {len(jobs)} (world, schedule) batches kept; playing {len(todo)}", flush=True)
    by_world: dict[tuple[str, int, tuple[int, ...], int], dict[str, Path]] = {}
    for family, world, schedule, seeds, horizon, path in todo:
        by_world.setdefault((family, world, tuple(seeds), horizon), {})[schedule] = path
    batches = [(family, world, paths, list(seeds), horizon)
               for (family, world, seeds, horizon), paths in by_world.items()]
    if not batches:
        return
    if workers <= 1:
        for batch in batches:
            print(f"  kept world {batch[1]}: {', '.join(map(str, play_world(*batch)))}", flush=True)
        return
    # forkserver: a worker forked after torch ran can hang (docs/environments/vector.md)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
        futures = {pool.submit(play_world, *batch): batch[1] for batch in batches}
        for future in as_completed(futures):
            print(f"  kept world {futures[future]}: {len(future.result())} schedules", flush=True)


def rule_grid(looks: Sequence[int], lengths: Sequence[int],
              thresholds: Sequence[float]) -> list[tuple[int, int, float]]:
    """Every rule ``(T, L, t)`` of the grid, in grid order."""
    return [(at, length, threshold) for at in looks for length in lengths for threshold in thresholds]


def bound_values(rule: RewardRule, trajectories: dict[str, Trajectory], looks: Sequence[int],
                 lengths: Sequence[int], costs: Sequence[float], best: np.ndarray, horizon: int
                 ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per first serial trial T: ``(costs, seeds)`` normalised and raw reward rates of the best continuation.

    T = 0 is always-serial; T = ``horizon`` never serial (always-parallel); each T of ``looks`` the better per
    (cost, seed) of ``switch@T`` and every ``stay@T+L``: a policy that fixes T without knowing c and is then told
    c (and, per seed, which continuation pays more). ``best`` ``(costs, seeds)`` the best fixed strategy's rates.
    """
    def rates(names: Sequence[str]) -> np.ndarray:  # (costs, seeds): the best of the named continuations
        return np.stack([np.max([reward_rates(rule, trajectories[name], cost) for name in names], axis=0)
                         for cost in costs])

    continuations = {0: ["serial"], horizon: ["parallel"]}
    for at in looks:
        continuations[at] = [schedule_name("switch", at), *(schedule_name("stay", at, n) for n in lengths)]
    out = {}
    for at, names in sorted(continuations.items()):
        raw = rates(names)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[at] = (np.where(best > 0, raw / best, np.nan), raw)
    return out


def evaluate_world(family: WorldFamily, world: int, split: str, seeds: Sequence[int],
                   trajectories: dict[str, Trajectory], rules: Sequence[tuple[int, int, float]],
                   looks: Sequence[int], lengths: Sequence[int], costs: Sequence[float], recent: int,
                   horizon: int) -> pd.DataFrame:
    """One row per (cost, seed, rule / ``fixed:<strategy>`` / bound): ``reward_rate``, ``normalised``, ``switched``
    (probe rules), ``first_serial`` (bound rows: the first serial trial T the bound chose; ``horizon`` = never)."""
    reward_rule = envs.check_settings(ENV_ID, family=family.name, world=world).reward_rule
    rows: dict[str, list[Any]] = {key: [] for key in ("cost", "rule", "reward_rate", "normalised", "switched",
                                                      "first_serial")}
    per_cost_best = []
    n = len(seeds)

    def add(cost: float, name: str, rates: np.ndarray, normalised: np.ndarray, switched: Any = np.nan,
            first: Any = np.nan) -> None:
        rows["cost"].extend([cost] * n)
        rows["rule"].extend([name] * n)
        rows["reward_rate"].extend(rates)
        rows["normalised"].extend(normalised)
        rows["switched"].extend(np.broadcast_to(np.asarray(switched, dtype=object), (n,)))
        rows["first_serial"].extend([first] * n)

    for cost in costs:
        fixed = np.stack([reward_rates(reward_rule, trajectories[name], cost) for name in FIXED], axis=1)  # (seeds, 2)
        reference = fixed[:, int(np.argmax(fixed.mean(axis=0)))]
        per_cost_best.append(reference)
        for s, name in enumerate(FIXED):
            add(cost, f"fixed:{name}", fixed[:, s], normalise(fixed[:, s][None], fixed)[0])
        for at, length, threshold in rules:
            rates, switched = probe_rates(reward_rule, trajectories, at, length, threshold, cost, recent)
            add(cost, probe_rule_name(at, length, threshold), rates, normalise(rates[None], fixed)[0], switched)
    best = np.stack(per_cost_best)  # (costs, seeds)
    values = bound_values(reward_rule, trajectories, looks, lengths, costs, best, horizon)
    firsts = list(values)
    scores = np.stack([values[at][0].mean(axis=0) for at in firsts])  # (T, seeds): mean over costs
    per_world = firsts[int(np.argmax(scores.mean(axis=1)))]
    per_seed = [firsts[i] for i in np.argmax(scores, axis=0)]
    for c, cost in enumerate(costs):
        add(cost, BOUNDS[0], values[per_world][1][c], values[per_world][0][c], first=per_world)
        rows["cost"].extend([cost] * n)
        rows["rule"].extend([BOUNDS[1]] * n)
        rows["reward_rate"].extend(values[at][1][c, i] for i, at in enumerate(per_seed))
        rows["normalised"].extend(values[at][0][c, i] for i, at in enumerate(per_seed))
        rows["switched"].extend([np.nan] * n)
        rows["first_serial"].extend(per_seed)
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", np.tile(np.asarray(seeds), len(frame) // n))
    for position, (key, value) in enumerate({"family": family.name, "split": split, "world": world,
                                             "horizon": horizon}.items()):
        frame.insert(position, key, value)
    return frame


def per_world(frame: pd.DataFrame) -> pd.DataFrame:
    """``(world × rule)`` mean normalised return over costs and seeds (probe rules only)."""
    rules = frame[frame.rule.str.startswith("probe-")]
    return rules.groupby(["world", "rule"]).normalised.mean().unstack("rule")


def choose(train: pd.DataFrame) -> str:
    """The rule with the best mean normalised return on ``train`` (worlds weighted alike; first name on ties)."""
    return str(per_world(train).mean(axis=0).sort_index().idxmax())


def world_cost_decile(frame: pd.DataFrame, rule: str) -> float:
    """The 10th percentile over (world, cost) of ``rule``'s mean normalised return over seeds."""
    rows = frame[frame.rule == rule]
    return worst_decile(rows.groupby(["world", "cost"]).normalised.mean())


def summary(train: pd.DataFrame | None, test: pd.DataFrame | None, chosen: str | None = None) -> dict[str, Any]:
    """The family's row: the rule chosen on train (or ``chosen``), its scores, the oracle, the bound, the fixed."""
    row: dict[str, Any] = {"chosen": chosen if chosen is not None else (choose(train) if train is not None else None)}
    for split, frame in (("train", train), ("test", test)):
        if frame is None:
            continue
        by_world = frame.groupby(["world", "rule"]).normalised.mean().unstack("rule")
        rules = per_world(frame)
        if row["chosen"] is not None:
            row[f"{split}_mean"] = float(rules[row["chosen"]].mean())
            row[f"{split}_p10"] = world_cost_decile(frame, row["chosen"])
            row[f"{split}_share_ge_fixed"] = float((rules[row["chosen"]] >= 1.0).mean())
        row[f"{split}_oracle"] = float(rules.max(axis=1).mean())
        for name in ("fixed:serial", "fixed:parallel", *BOUNDS):
            row[f"{split}_{name}"] = float(by_world[name].mean())
        row[f"{split}_bound_min"] = float(by_world[BOUNDS[0]].min())
        row[f"{split}_best_rule"] = str(rules.mean(axis=0).sort_index().idxmax())
        row[f"{split}_best_rule_mean"] = float(rules.mean(axis=0).max())
        row[f"{split}_worlds"] = int(len(rules))
    return row


def markdown(family: str, row: dict[str, Any]) -> str:
    """The family's summary table in markdown (normalised return: 1 = the best fixed strategy per cost and seed)."""
    splits = [s for s in SPLITS if f"{s}_oracle" in row]

    def cells(fmt: Any) -> str:
        return " | ".join(fmt(s) for s in splits)

    lines = [f"| {family} | " + " | ".join(splits) + " |", "| --- |" + " --- |" * len(splits)]
    if row["chosen"] is not None:
        lines += [
            f"| chosen rule (on train) | `{row['chosen']}` |" + " |" * (len(splits) - 1),
            "| chosen rule: mean (worst-decile world × cost) | "
            + cells(lambda s: f"{row[f'{s}_mean']:.3f} ({row[f'{s}_p10']:.3f})") + " |",
            "| share of worlds where the chosen rule ≥ best fixed (mean over costs) | "
            + cells(lambda s: f"{row[f'{s}_share_ge_fixed']:.2f}") + " |",
        ]
    lines += [
        "| always serial / always parallel | "
        + cells(lambda s: f"{row[f'{s}_fixed:serial']:.3f} / {row[f'{s}_fixed:parallel']:.3f}") + " |",
        "| in-class oracle (best rule per world) | " + cells(lambda s: f"{row[f'{s}_oracle']:.3f}") + " |",
        "| bound, T per world (lowest world) | "
        + cells(lambda s: f"{row[f'{s}_bound']:.3f} ({row[f'{s}_bound_min']:.3f})") + " |",
        "| bound, T per seed | " + cells(lambda s: f"{row[f'{s}_bound:seed-T']:.3f}") + " |",
        "| best rule in hindsight | "
        + cells(lambda s: f"`{row[f'{s}_best_rule']}` {row[f'{s}_best_rule_mean']:.3f}") + " |",
    ]
    return "\n".join(lines)


def parse_ints(text: str, option: str, low: int) -> list[int]:
    """Comma-separated integers ≥ ``low``; a SystemExit naming ``option`` otherwise."""
    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        raise SystemExit(f"{option} must be comma-separated integers, got {text!r}") from None
    if any(v < low for v in values):
        raise SystemExit(f"{option} must all be >= {low}, got {text!r}")
    return list(dict.fromkeys(values))


def parse_floats(text: str, option: str) -> list[float]:
    """Comma-separated finite numbers ≥ 0 (``look_frontier``'s parser, then checked), repeats dropped; a SystemExit
    naming ``option`` otherwise."""
    values = look_frontier.parse_floats(text, option)
    if any(not np.isfinite(v) or v < 0 for v in values):
        raise SystemExit(f"{option} must be finite numbers >= 0, got {text!r}")
    return list(dict.fromkeys(values))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Play what is missing, replay every rule for every cost, choose on train, score on test; returns the row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="sp-mixed", choices=SP_FAMILIES)
    parser.add_argument("--split", default="both", choices=(*SPLITS, "both"))
    parser.add_argument("--worlds", default=None, help="worlds as envs.families.worlds takes them (0-11,24-39); "
                        "default every world of the split(s); each plays its split's seeds")
    parser.add_argument("--seeds", type=int, default=2, help="the first N seeds of each split's seed range")
    parser.add_argument("--looks", default="250,1000", help="first serial trials T (comma-separated)")
    parser.add_argument("--lengths", default="1,20", help="probe lengths L (comma-separated)")
    parser.add_argument("--thresholds", default=",".join(f"{t:g}" for t in THRESHOLDS))
    parser.add_argument("--recent", type=int, default=50, help="parallel trials before T the probe is compared with")
    parser.add_argument("--costs", default=None, help="comma-separated costs (default the family's costs)")
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=1, help="worlds played at once (one batch each)")
    parser.add_argument("--out", default="results/sp_frontier")
    parser.add_argument("--record", action="store_true",
                        help="write the rule chosen on train into the shipped frontier file (envs/data/frontier.json)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    family = get_family(args.family)
    splits = SPLITS if args.split == "both" else (args.split,)
    allowed = [w for split in splits for w in family.split(split)]
    try:
        chosen_worlds = list(worlds(family, args.worlds)) if args.worlds is not None else allowed
    except ValueError as error:
        raise SystemExit(f"--worlds: {error}") from None
    outside = [w for w in chosen_worlds if w not in allowed]
    if outside:
        raise SystemExit(f"--worlds {args.worlds!r} names worlds {outside} outside the {args.split} split(s) of "
                         f"{family.name}")
    if args.seeds < 1:
        raise SystemExit(f"--seeds must be >= 1, got {args.seeds}")
    if args.horizon < 2:
        raise SystemExit(f"--horizon must be >= 2, got {args.horizon}")
    if args.recent < 1:
        raise SystemExit(f"--recent must be >= 1, got {args.recent}")
    looks = parse_ints(args.looks, "--looks", 1)
    if any(not args.recent <= at < args.horizon for at in looks):
        raise SystemExit(f"every first serial trial must lie in [recent, horizon) = [{args.recent}, {args.horizon}),"
                         f" got --looks {args.looks}")
    lengths = parse_ints(args.lengths, "--lengths", 1)
    thresholds = parse_floats(args.thresholds, "--thresholds")
    if 0.0 in thresholds:
        raise SystemExit(f"--thresholds must be > 0, got {args.thresholds!r}")
    costs = parse_floats(args.costs, "--costs") if args.costs is not None else list(family.costs)
    if not costs:
        raise SystemExit(f"{family.name} has no cost grid (WorldFamily.costs); pass --costs")
    seeds = {split: list(getattr(family, f"{split}_seeds"))[:args.seeds] for split in SPLITS}
    split_of = {w: split for split in splits for w in family.split(split) if w in chosen_worlds}
    names = schedules(looks, lengths)
    out = Path(args.out)
    paths = {(w, name): trajectory_path(out, family.name, w, seeds[split_of[w]], args.horizon, name)
             for w in chosen_worlds for name in names}
    print(f"{family.name}: {len(chosen_worlds)} worlds × {len(names)} schedules × {args.seeds} seeds at "
          f"τ = {args.horizon} ({len(paths) * args.seeds} episodes)", flush=True)
    play_missing([(family.name, w, name, seeds[split_of[w]], args.horizon, paths[w, name]) for (w, name) in paths],
                 args.jobs)
    rules = rule_grid(looks, lengths, thresholds)
    frames: dict[str, list[pd.DataFrame]] = {split: [] for split in splits}
    for w in chosen_worlds:
        trajectories = load({name: paths[w, name] for name in names})
        frames[split_of[w]].append(evaluate_world(family, w, split_of[w], seeds[split_of[w]], trajectories, rules,
                                                  looks, lengths, costs, args.recent, args.horizon))
    by_split = {split: pd.concat(f, ignore_index=True) if f else None for split, f in frames.items()}
    train, test = by_split.get("train"), by_split.get("test")
    present = [frame for frame in (train, test) if frame is not None]
    path = write_csv(pd.concat(present, ignore_index=True), out / f"sp_frontier_{family.name}.csv")
    row = summary(train, test)
    print(f"{family.name}: {len(rules)} rules (T {looks}, L {lengths}, recent {args.recent}); costs "
          f"{', '.join(f'{c:g}' for c in costs)}; " + "; ".join(
              f"{split} worlds {len(frames[split])} × seeds {seeds[split][0]}–{seeds[split][-1]}" for split in splits
              if frames[split]) + f"; {path}")
    print(markdown(family.name, row))
    print("\n| rule | " + " | ".join(s for s in splits if by_split[s] is not None) + " |\n| --- |"
          + " --- |" * len(present))
    means = [per_world(frame).mean(axis=0) for frame in present]
    for at, length, threshold in rules:
        name = probe_rule_name(at, length, threshold)
        print(f"| `{name}` | " + " | ".join(f"{m[name]:.3f}" for m in means) + " |")
    if args.record:
        if train is None:
            raise SystemExit("--record needs the train split (--split train or both)")
        at, length, threshold = next(r for r in rules if probe_rule_name(*r) == row["chosen"])
        train_worlds = [w for w in chosen_worlds if split_of[w] == "train"]
        print(record_frontier(family.name, {
            "agent": probe_agent_spec(at, length, threshold, args.recent), "rule": row["chosen"],
            "train_score": round(row["train_mean"], 6),
            "train": f"train worlds {span(train_worlds)} × train seeds {span(seeds['train'])} × costs "
                     f"{', '.join(f'{c:g}' for c in costs)}, τ = {args.horizon}",
            "command": shlex.join(["python", "-m", "tradeoff_gym.benchmarks.scripts.sp_frontier", *argv]),
        }))
    return row


if __name__ == "__main__":
    main()
