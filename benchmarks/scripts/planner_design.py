"""Design the planner on train worlds only: fit a prior on one part of a family's train split, score on the other.

Why: the planner's settings and its universal prior are chosen by measurement, and nothing it is designed on may be
a test world or a test seed (docs/findings/planner.md). This script splits each LearningCurves family's **train**
worlds in two — the first half fits priors (``@fit`` in an agent spec stands for the prior fitted on them), the
second half is played with the family's train seeds — and prints each agent's mean normalised return (its return ÷
the best fixed strategy's *expected* return in that world, the env's exact ``expected_fixed_returns``) with the
worst decile in brackets, beside the fixed strategies and the family's frontier rule, then each agent's paired
difference to the frontier rule with a 95 % bootstrap interval over worlds. One row per (family, agent,
world) goes to ``--out`` (CSV; for a played agent also the world's best fixed strategy ``best`` and the strategies
it played first and last and how often it switched, as table indices)::

    python -m tradeoff_gym.benchmarks.scripts.planner_design --families lc-balanced,lc-short \\
        --agents 'planner,planner{"prior": "@fit"},frontier' --jobs 2 --out results/planner_design.csv
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from tradeoff_gym.agents.frontier import frontier_agent
from tradeoff_gym.agents.planner import PlannerPrior, fit_prior, pool_prior
from tradeoff_gym.agents.registry import load_agent_class, make_agent
from tradeoff_gym.benchmarks.experiment import parse_agent, split_top_level
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.scripts.lc_frontier import LC_FAMILIES
from tradeoff_gym.envs.families import LC_ID, get_family

#: The placeholder of an agent spec's ``prior`` for the prior fitted on the fit half of the train split.
FIT = "@fit"
#: ... and for the prior pooled over the train splits of every *other* LearningCurves family (leave one family out).
OTHERS = "@others"
#: Train worlds per family in an ``@others`` prior (the smallest train split's size: each family weighs alike).
PER_FAMILY = 48


def split_train(family: str, limit: int | None = None) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(fit worlds, played worlds, their seeds): the first half of the train split, then up to ``limit`` of the
    second half with the train seeds at the same positions."""
    fam = get_family(family)
    half = len(fam.train) // 2
    played = fam.train[half:] if limit is None else fam.train[half:half + limit]
    seeds = tuple(fam.train_seeds[(half + i) % len(fam.train_seeds)] for i in range(len(played)))
    return fam.train[:half], played, seeds


@cache
def _fitted(family: str) -> PlannerPrior:
    """The prior fitted on the fit half of ``family``'s train split, once per process."""
    return fit_prior(family, split_train(family)[0])


@cache
def _others(family: str) -> PlannerPrior:
    """The prior pooled over the other LearningCurves families' train splits, once per process."""
    return pool_prior([f for f in LC_FAMILIES if f != family], PER_FAMILY)


def _play(job: tuple[str, str, int, int]) -> dict[str, Any]:
    family, spec, world, seed = job
    settings = get_family(family).settings(world)
    env = gym.make(LC_ID, **settings)
    label = spec
    if spec == "frontier":
        spec = frontier_agent(family) or "etc"
    name, kwargs = parse_agent(spec)
    kwargs.pop("name", None)
    if kwargs.get("prior") == FIT:
        kwargs["prior"] = _fitted(family)
    elif kwargs.get("prior") == OTHERS:
        kwargs["prior"] = _others(family)
    frame = run_episode(env, make_agent(name, env, **kwargs), seed)
    expected = env.unwrapped.config.expected_fixed_returns(settings["cost"])
    actions = frame.action.to_numpy()
    return {"family": family, "agent": label, "world": world, "seed": seed,
            "normalised": float(frame.reward.sum() / expected.max()), "best": int(np.argmax(expected)),
            "first": int(actions[0]), "last": int(actions[-1]), "switches": int(np.count_nonzero(np.diff(actions)))}


def fixed_rows(family: str, worlds: Sequence[int], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Always-serial and always-parallel (the table's first and last strategy) by their expected returns."""
    rows = []
    for world, seed in zip(worlds, seeds):
        settings = get_family(family).settings(world)
        expected = gym.make(LC_ID, **settings).unwrapped.config.expected_fixed_returns(settings["cost"])
        for label, value in (("serial", expected[0]), ("parallel", expected[-1])):
            rows.append({"family": family, "agent": label, "world": world, "seed": seed,
                         "normalised": float(value / expected.max())})
    return rows


def table(rows: pd.DataFrame) -> str:
    """Markdown: mean normalised return (10th percentile) per agent and family."""
    families = list(dict.fromkeys(rows.family))
    lines = ["| agent | " + " | ".join(families) + " |", "| --- |" + " --- |" * len(families)]
    for agent in dict.fromkeys(rows.agent):
        cells = []
        for family in families:
            values = rows[(rows.agent == agent) & (rows.family == family)].normalised
            cells.append(f"{values.mean():.3f} ({values.quantile(0.1):.2f})" if len(values) else "")
        lines.append(f"| `{agent}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired(rows: pd.DataFrame, against: str, resamples: int = 2000) -> str:
    """Markdown: each agent's mean difference to ``against`` over the same worlds and seeds, with a 95 % bootstrap
    interval over worlds (paired: the spread of worlds cancels)."""
    families = list(dict.fromkeys(rows.family))
    lines = [f"| agent − `{against}` | " + " | ".join(families) + " |", "| --- |" + " --- |" * len(families)]
    rng = np.random.default_rng(0)
    for agent in dict.fromkeys(rows.agent):
        if agent == against:
            continue
        cells = []
        for family in families:
            mine = rows[(rows.agent == agent) & (rows.family == family)].set_index("world").normalised
            base = rows[(rows.agent == against) & (rows.family == family)].set_index("world").normalised
            diff = (mine - base).dropna().to_numpy()
            if diff.size == 0:
                cells.append("")
                continue
            means = diff[rng.integers(diff.size, size=(resamples, diff.size))].mean(axis=1)
            low, high = np.quantile(means, [0.025, 0.975])
            cells.append(f"{diff.mean():+.3f} [{low:+.3f}, {high:+.3f}]")
        lines.append(f"| `{agent}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default=",".join(LC_FAMILIES), help="comma-separated LearningCurves families")
    parser.add_argument("--agents", default=f'planner,planner{{"prior": "{FIT}"}},frontier',
                        help="comma-separated agent specs; frontier = the family's recorded rule; "
                             f'"prior": "{FIT}" = the prior fitted on the fit half; '
                             f'"prior": "{OTHERS}" = pooled over the other families\' train splits')
    parser.add_argument("--worlds", type=int, default=None, help="play at most this many worlds per family")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="CSV of every run")
    args = parser.parse_args(argv)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    bad = [f for f in families if f not in LC_FAMILIES]
    if bad or not families:
        parser.error(f"--families must name LearningCurves families {list(LC_FAMILIES)}, got {bad or families}")
    if args.worlds is not None and args.worlds < 1:
        parser.error(f"--worlds must be >= 1, got {args.worlds}")
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    specs = split_top_level(args.agents)
    for spec in specs:
        if spec != "frontier":
            try:
                load_agent_class(parse_agent(spec)[0])
            except ValueError as err:
                parser.error(f"--agents: {err}")
    if args.out is not None and args.out.exists():
        parser.error(f"--out {args.out} exists; choose another path")
    rows, jobs = [], []
    for family in families:
        _, worlds, seeds = split_train(family, args.worlds)
        rows += fixed_rows(family, worlds, seeds)
        jobs += [(family, spec, w, s) for spec in specs for w, s in zip(worlds, seeds)]
    if args.jobs == 1:
        played = [_play(job) for job in jobs]
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            played = list(pool.map(_play, jobs, chunksize=1))
    frame = pd.DataFrame(rows + played)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
    print(table(frame))
    if "frontier" in specs:
        print()
        print(paired(frame, "frontier"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
