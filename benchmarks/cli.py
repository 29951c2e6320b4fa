"""``tradeoff-bench``: list experiments, run a sweep (resumable), write a report.

Examples::

    tradeoff-bench list
    tradeoff-bench run fig5 --scale quick --out results/fig5
    tradeoff-bench run sagiv2018 --seeds 5 --costs 0.1,0.2 --agents serial,parallel,mypkg.agents:MyAgent
    tradeoff-bench run fig3_overlap --set horizon=500 --set probe_every=50
    tradeoff-bench run fig5 --scheduler tcp://10.0.0.5:8786 --out results/fig5-paper --scale paper
    tradeoff-bench report results/fig5
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from benchmarks.experiments import experiment_names, experiment_settings, load_experiment
from benchmarks.report import package_version, write_report
from benchmarks.runner import run_sweep
from benchmarks.store import ResultStore, StoreError


def _float_list(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a bare string


def _name_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="tradeoff-bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list experiments and their scales")
    run = commands.add_parser("run", help="run (or resume) an experiment's sweep, then write its report")
    run.add_argument("experiment")
    run.add_argument("--scale", default="quick", help="a scale of the experiment (default: quick)")
    run.add_argument("--seeds", type=int, help="number of seeds (0…n−1), overriding the scale's")
    run.add_argument("--costs", type=_float_list, help="comma-separated serialization costs in [0, 1]")
    run.add_argument("--agents", type=_name_list, help="comma-separated agent names or module:Class")
    run.add_argument("--set", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                     help="override any setting of the scale (JSON value), e.g. --set horizon=500")
    run.add_argument("--jobs", type=int, default=-1, help="local worker processes (default -1: all cores)")
    run.add_argument("--scheduler", help="Dask scheduler address; runs on that cluster instead of locally")
    run.add_argument("--out", help="results directory (default: results/<experiment>-<scale>)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    report = commands.add_parser("report", help="(re)write report.md of a results directory")
    report.add_argument("results_dir")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (1 when a run failed or the input was invalid)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            for name in experiment_names():
                module = load_experiment(name)
                print(f"{name:<24} {module.DESCRIPTION}  (scales: {', '.join(module.SCALES)})")
            return 0
        if args.command == "report":
            print(write_report(args.results_dir))
            return 0
        return _run(args)
    except (ValueError, StoreError) as error:
        print(f"tradeoff-bench: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    module = load_experiment(args.experiment)
    settings = experiment_settings(module, args.scale, **dict(args.set), seeds=args.seeds, costs=args.costs,
                                   agents=args.agents)
    specs = module.runs(settings)
    _check_agents(specs)
    out = args.out or f"results/{args.experiment}-{args.scale}"
    store = ResultStore(out)
    manifest = {
        "experiment": args.experiment,
        "scale": args.scale,
        "settings": settings,
        "package_version": package_version(),
        "seeds": sorted({s.seed for s in specs}),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    summary = run_sweep(specs, store, manifest, jobs=args.jobs, scheduler=args.scheduler,
                        progress=not args.no_progress)
    print(f"{args.experiment}: {summary.completed} runs done, {summary.skipped} already complete, "
          f"{len(summary.failed)} failed, in {summary.seconds:.1f} s -> {out}")
    print(write_report(out))
    return 1 if summary.failed else 0


def _check_agents(specs: list) -> None:
    """Fail fast, before any run, on an agent name that cannot be resolved."""
    from agents.registry import agent_names

    known = set(agent_names())
    for name in sorted({s.agent for s in specs}):
        if name not in known and ":" not in name:
            raise ValueError(f"unknown agent {name!r}; registered agents: {sorted(known)}, or module:Class")


if __name__ == "__main__":
    sys.exit(main())
