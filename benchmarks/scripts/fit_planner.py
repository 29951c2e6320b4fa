"""Fit the planner's prior to a LearningCurves family's train worlds (empirical Bayes) and save it as JSON.

The saved file is what ``planner{"prior": "PATH"}`` reads (:class:`tradeoff_gym.agents.planner.PlannerPrior`): one
component per world — its strategies' rates k·τ, midpoints m/τ and discounts — and the kernel widths (Scott's rule
over those worlds unless given). Only train worlds may be fitted (``--worlds`` is checked against the train split);
a family's name as the prior (``planner{"prior": "lc-balanced"}``) fits its whole train split on the fly. Why:
docs/findings/planner.md. Several families (comma-separated) pool their train splits into one prior
(:func:`tradeoff_gym.agents.planner.pool_prior`; ``--per-family`` worlds of each)::

    python -m tradeoff_gym.benchmarks.scripts.fit_planner --family lc-balanced --out lc-balanced-prior.json
    python -m tradeoff_gym.benchmarks.scripts.fit_planner --family lc-short,lc-wide --per-family 48 --out pooled.json
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from tradeoff_gym.agents.planner import PlannerPrior, fit_prior, pool_prior
from tradeoff_gym.benchmarks.scripts.lc_frontier import LC_FAMILIES
from tradeoff_gym.envs.families import get_family, worlds


def _bandwidth(text: str) -> str | tuple[float, float, float]:
    if text == "scott":
        return text
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) <= 0:
        raise argparse.ArgumentTypeError(
            f"must be scott or three widths > 0 (log rate, midpoint, discount), got {text!r}")
    return values  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", required=True,
                        help=f"one of {list(LC_FAMILIES)}, or several comma-separated (their train splits pooled)")
    parser.add_argument("--per-family", type=int, default=None,
                        help="with several families: the first N train worlds of each (default: all)")
    parser.add_argument("--worlds", default="train",
                        help="train worlds to fit: train (default), a range 0-23 or a list")
    parser.add_argument("--bandwidth", type=_bandwidth, default="scott",
                        help="scott (default) or three kernel widths: log rate, midpoint (÷ τ), discount")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the kernel widths (Scott's or given) by this factor > 0 (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="the prior file to write (JSON)")
    args = parser.parse_args(argv)
    names = [f.strip() for f in args.family.split(",") if f.strip()]
    bad = [f for f in names if f not in LC_FAMILIES]
    if bad or not names:
        parser.error(f"--family must name LearningCurves families {list(LC_FAMILIES)}, got {bad or args.family!r}")
    if args.per_family is not None and (len(names) < 2 or args.per_family < 1):
        parser.error(f"--per-family needs several families and N >= 1, got {args.per_family} with {names}")
    if len(names) > 1 and args.worlds != "train":
        parser.error(f"--worlds picks worlds of one family; several families pool their train splits "
                     f"(--per-family N: the first N of each), got --worlds {args.worlds!r}")
    if not args.scale > 0 or args.scale == float("inf"):
        parser.error(f"--scale must be a finite factor > 0, got {args.scale}")
    if args.out.exists():
        parser.error(f"--out {args.out} exists; choose another path")
    words = sys.argv[1:] if argv is None else list(argv)
    source = "python -m tradeoff_gym.benchmarks.scripts.fit_planner " + shlex.join(words)
    if len(names) > 1:
        prior = replace(pool_prior(names, args.per_family, args.bandwidth), source=source)
        return _save(prior, args.out, f"{len(prior.worlds)} train worlds of {', '.join(dict.fromkeys(names))}",
                     args.scale)
    family = get_family(names[0])
    try:
        chosen = worlds(family, args.worlds)
    except ValueError as err:
        parser.error(f"--worlds: {err}")
    outside = sorted(set(chosen) - set(family.train))
    if outside:
        parser.error(f"--worlds must be train worlds of {names[0]} (a prior is never fitted on test worlds), "
                     f"got {outside[:5]}")
    if len(chosen) < 2:
        parser.error(f"--worlds needs at least 2 worlds, got {len(chosen)}")
    prior = replace(fit_prior(names[0], chosen, args.bandwidth), source=source)
    return _save(prior, args.out, f"{len(prior.worlds)} worlds of {names[0]}", args.scale)


def _save(prior: PlannerPrior, out: Path, what: str, scale: float = 1.0) -> int:
    prior = replace(prior, bandwidth=tuple(b * scale for b in prior.bandwidth))
    out.parent.mkdir(parents=True, exist_ok=True)
    prior.save(out)
    print(f"{out}: {what}, bandwidth {tuple(round(b, 4) for b in prior.bandwidth)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
