"""``tradeoff-bench``: list experiments, run a sweep (resumable), write a report.

Examples::

    tradeoff-bench list
    tradeoff-bench list --agents
    tradeoff-bench show fig5
    tradeoff-bench run fig5 --scale quick --out results/fig5
    tradeoff-bench run sagiv2018 --seeds 5 --costs 0.1,0.2 --agents serial,parallel,mypkg.agents:MyAgent
    tradeoff-bench run fig3_overlap --set horizon=500 --set probe_every=50
    tradeoff-bench run fig5 --env input_noise=0,0.2 --seeds 15-29 --agents 'serial,parallel,navigator{"block": 0.05}'
    tradeoff-bench run fig5 --scheduler tcp://10.0.0.5:8786 --out results/fig5-paper --scale paper
    tradeoff-bench report results/fig5

Exit status: 0 when every run completed, 1 when a run failed or the results directory could not be written
(disk full: one line; completed runs are kept, the same command resumes), 2 for a usage error, 130 when
interrupted (Ctrl-C; completed runs are kept), 141 when stdout was closed early (e.g. piped into ``head``; the
work and its report are done). A usage error is one line on stderr naming the problem and what
is allowed, and is found before anything is written: every setting, agent, run's env settings, the results
directory (new, empty, or a results directory; writable) and the scheduler are checked before the sweep.
``report`` exits 2 while a sweep writes into the directory (the sweep writes the report when it finishes), and
on a read-only directory prints the report on stdout, writing nothing.
The current directory is importable (like ``python -m``), so ``--agents mymodule:MyAgent`` finds
``./mymodule.py``.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from datetime import datetime, timezone
from typing import Any, NoReturn

from tradeoff_gym.benchmarks import cluster
from tradeoff_gym.benchmarks.catalog import agent_lines, experiment_lines
from tradeoff_gym.benchmarks.experiment import (
    GRID_KEY,
    MAX_RUNS,
    RunSpec,
    canonical_agent,
    check_run_count,
    check_runs,
    expand_env_grid,
    grid_value_text,
    parse_agent,
    resolve_agents,
    split_top_level,
)
from tradeoff_gym.benchmarks.experiments import (
    default_scale,
    experiment_names,
    experiment_settings,
    load_experiment,
    resolve_experiment,
)
from tradeoff_gym.benchmarks.report import package_version, render_report, write_report
from tradeoff_gym.benchmarks.runner import BATCH_SIZE, run_sweep
from tradeoff_gym.benchmarks.store import ResultStore, StoreError, StoreLockedError, StoreReadOnlyError

#: Exit status when stdout was closed before everything was printed (as a tool killed by SIGPIPE: 128 + 13).
EXIT_PIPE = 141
#: Seconds to wait for a Dask scheduler to answer before the sweep starts.
SCHEDULER_TIMEOUT_S = 5.0
#: Experiments that became settings of another: what to run instead (a usage error for the name and its results
#: directories, whose run ids and env ids the new experiment does not share).
RETIRED: dict[str, str] = {
    "fig5_noisy": "fig5_noisy is fig5 on the noisy preset now: run `tradeoff-bench run fig5 --set preset=noisy` "
                  "(same options; a fig5_noisy results directory is not resumed, give a new --out)",
}


class UsageError(ValueError):
    """A command line that cannot be run (the message says why and what is allowed)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (raised, and printed by :func:`main`), not usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


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


def _agent_list(text: str) -> list[str]:
    """``--agents``: names, ``module:Class`` or either with JSON settings, comma-separated (commas inside JSON
    kept), each in its canonical spelling."""
    try:
        return [canonical_agent(part) for part in split_top_level(text)]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seeds(text: str) -> int | list[int]:
    """``--seeds``: a count n (seeds 0…n−1), a range ``A-B`` (A…B, both included) or a list ``3,7,9`` (or a mix)."""
    text = text.strip()
    try:
        if text.isdigit():
            return int(text)
        seeds: list[int] = []
        for part in (p.strip() for p in text.split(",")):
            low, dash, high = part.partition("-")
            if dash:
                if int(high) < int(low):
                    raise ValueError
                seeds += range(int(low), int(high) + 1)
            else:
                seeds.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a seed count (5: seeds 0-4), a range (15-29) or a list (3,7,9), got {text!r}") from None
    return seeds


def _grid(text: str) -> tuple[str, list[Any]]:
    """``--env KEY=V1,V2,…`` or ``--env 'KEY=[V1, V2]'``: an env setting and its values (each JSON, else a string)."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE[,VALUE…] or KEY=[JSON list], got {text!r}")
    if raw.startswith("["):
        try:
            values = json.loads(raw)
        except json.JSONDecodeError as error:
            raise argparse.ArgumentTypeError(f"--env {key}: {raw!r} is not a JSON list ({error.msg})") from None
        return key, values
    try:
        parts = split_top_level(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--env {key}: {error}") from None
    return key, [_json_or_text(part) for part in parts]


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare string


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = _Parser(prog="tradeoff-bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list experiments and their scales (--agents: the agents)")
    listing.add_argument("--agents", action="store_true",
                         help="list every registered agent: a one-line description, hyperparameters and defaults")
    show = commands.add_parser("show", help="an experiment's description, scales and every setting per scale")
    show.add_argument("experiment", help="a built-in experiment's name, a sweep file (.toml) or module:NAME")
    run = commands.add_parser("run", help="run (or resume) an experiment's sweep, then write its report")
    run.add_argument("experiment", help="a built-in experiment's name (tradeoff-bench list), a sweep file "
                                        "(my_sweep.toml) or module:NAME (an object with the experiment layout)")
    run.add_argument("--scale", help="a scale of the experiment (default: quick, or a sweep file's default_scale / "
                                     "first scale)")
    run.add_argument("--seeds", type=_seeds, help="seeds, overriding the scale's: a count n (0…n−1), a range "
                                                   "15-29 (both ends included) or a list 3,7,9")
    run.add_argument("--costs", type=_float_list, help="comma-separated serialization costs in [0, 1]")
    run.add_argument("--agents", type=_agent_list,
                     help="comma-separated agent names or module:Class, each optionally with JSON settings, e.g. "
                          "'serial,navigator{\"block\": 0.05},sb3-ppo{\"timesteps\": 20000, \"name\": \"ppo\"}' "
                          "(\"name\": the label results show)")
    run.add_argument("--env", type=_grid, action="append", default=[], metavar="KEY=V1,V2",
                     help="sweep an env setting over values (JSON each, else a string), crossed with the rest; "
                          "repeatable; a JSON list for values with commas: --env 'hidden_units=[[64, 64], [128]]'")
    run.add_argument("--worlds", metavar="SPEC",
                     help="the worlds of the sweep's world family to play: train, test, all, a range 0-19 or a list "
                          "3,7 (experiments with a worlds setting: sweep files with family = …)")
    run.add_argument("--set", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                     help="override any setting of the scale (JSON value of the setting's type), e.g. "
                          "--set horizon=500 or --set 'agents=[\"serial\", \"ucb1\"]'")
    run.add_argument("--jobs", type=int, default=-1, help="local worker processes (default -1: all cores)")
    run.add_argument("--scheduler", help="Dask scheduler address; runs on that cluster instead of locally")
    cluster.add_arguments(run)  # --pythonpath, --cluster slurm, --cluster-option, --cluster-jobs, --cluster-dry-run
    run.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                     help=f"most episodes played in lockstep on one vector env (default {BATCH_SIZE}; 1: each alone); "
                          "a resumed sweep keeps its first batch size")
    run.add_argument("--out", help="results directory (default: results/<experiment>-<scale>); a directory "
                                   "of another sweep (other experiment, scale or settings) is refused")
    run.add_argument("--max-runs", type=int, default=MAX_RUNS,
                     help=f"most runs the sweep may have (default {MAX_RUNS:,}; planning takes about 2.5 kB of "
                          "memory per run): larger sweeps are refused before anything is written")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    report = commands.add_parser("report", help="(re)write report.md of a results directory")
    report.add_argument("results_dir")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 when a run failed, 2 for a usage error)."""
    _import_from_cwd()
    command = None
    try:
        try:
            args = build_parser().parse_args(argv)
            command = args.command
            if args.command == "list" and args.agents:
                print("\n".join(agent_lines()))
                return 0
            if args.command == "show":
                if args.experiment in RETIRED:
                    raise UsageError(RETIRED[args.experiment])
                name, experiment, _ = resolve_experiment(args.experiment)
                print("\n".join(experiment_lines(name, experiment)))
                return 0
            if args.command == "list":
                for name in experiment_names():
                    module = load_experiment(name)
                    print(f"{name:<24} {module.DESCRIPTION}  (scales: {', '.join(module.SCALES)})")
                return 0
            if args.command == "report":
                return _report(args.results_dir)
            specs, manifest, out = _prepare(args)  # every check; writes nothing
        except (ValueError, StoreError) as error:
            return _usage_error(error)
        try:
            return _run(args, specs, manifest, out)
        except StoreError as error:  # another sweep took the directory meanwhile
            return _usage_error(error)
        except BrokenPipeError:  # stdout closed (e.g. piped into head): not a fault of the results directory
            raise
        except OSError as error:  # disk full, filesystem gone read-only, ...: whole runs are kept
            return _write_error(out, error, resume=True)
    except BrokenPipeError:  # stdout closed early (`tradeoff-bench list | head`): the work is done, stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's own flush at exit does not fail again
        return EXIT_PIPE
    except KeyboardInterrupt:
        _stop_workers()
        kept = "; completed runs are kept — resume with the same command" if command == "run" else ""
        print(f"tradeoff-bench: interrupted{kept}", file=sys.stderr)
        return 130


def _stop_workers() -> None:
    """After Ctrl-C: stop joblib's worker processes now, so nothing they print follows the one-line message."""
    if "joblib.externals.loky" not in sys.modules:
        return
    try:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True, kill_workers=True)
    except Exception:  # already gone, or interrupted again: the line still comes
        pass


def _report(results_dir: str) -> int:
    """``tradeoff-bench report``: write the report, or say in one line why not (a sweep writes, read-only)."""
    _check_not_retired(None, results_dir)
    try:
        print(write_report(results_dir))
    except StoreLockedError as error:
        if error.holder != "sweep":
            raise
        who = f" (pid {error.pid})" if error.pid is not None else ""
        raise UsageError(f"a sweep{who} is writing into {results_dir}; nothing was written — the sweep writes "
                         "report.md when it finishes (rerun this command after it to rewrite it)") from None
    except StoreReadOnlyError as error:  # reading changes nothing: print the report instead
        sys.stdout.write(render_report(results_dir))
        print(f"tradeoff-bench: {error}; nothing was written, the report is printed on stdout", file=sys.stderr)
    except BrokenPipeError:
        raise
    except OSError as error:
        return _write_error(results_dir, error, resume=False)
    return 0


def _write_error(where: str, error: OSError, *, resume: bool) -> int:
    """Print a write failure in ``where`` as one line on stderr (what to do, and that runs are kept); exit 1."""
    kept = "completed runs are kept — " if resume else ""
    again = "rerun the same command" + (" to resume" if resume else "")
    if error.errno == errno.ENOSPC:
        text = f"no space left on the device of {where}; {kept}free space and {again}"
    else:
        name = f": {error.filename}" if error.filename else ""
        text = f"stopped by an OS error ({error.strerror or error}{name}) while writing into {where}; {kept}fix that " \
               f"and {again}"
    print(f"tradeoff-bench: error: {' '.join(text.split())}", file=sys.stderr)
    return 1


def _usage_error(error: Exception) -> int:
    """Print ``error`` as one line on stderr; the usage-error exit status."""
    print(f"tradeoff-bench: error: {' '.join(str(error).split())}", file=sys.stderr)
    return 2


def _import_from_cwd() -> None:
    """Put the working directory first on sys.path, as ``python -m`` does (joblib's workers inherit it)."""
    cwd = os.getcwd()
    if not any(entry in ("", ".") or os.path.abspath(entry) == cwd for entry in sys.path):
        sys.path.insert(0, cwd)


def _prepare(args: argparse.Namespace) -> tuple[list[RunSpec], dict[str, Any], str]:
    """Check the whole command before anything is written: settings, agents, env settings, --out, scheduler."""
    if args.jobs == 0 or args.jobs < -1:
        raise UsageError(f"--jobs must be -1 (all cores) or an integer >= 1, got {args.jobs}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be an integer >= 1, got {args.batch_size}")
    if args.max_runs < 1:
        raise UsageError(f"--max-runs must be an integer >= 1, got {args.max_runs}")
    if args.costs is not None and not args.costs:
        raise UsageError("--costs needs at least one cost in [0, 1], e.g. --costs 0,0.5,1")
    if args.agents is not None and not args.agents:
        raise UsageError("--agents needs at least one agent (a registered name or module:Class), e.g. --agents serial")
    if args.experiment in RETIRED:
        raise UsageError(RETIRED[args.experiment])
    name, module, document = resolve_experiment(args.experiment)
    scale = args.scale if args.scale is not None else default_scale(module)
    default_out = f"results/{name.replace(':', '.')}-{scale}"
    if args.out == "":
        raise UsageError(f"--out needs a directory name (got ''); leave --out out for {default_out}")
    out = args.out if args.out is not None else default_out
    _check_not_retired(args.experiment, out)
    overrides: dict[str, Any] = {}
    for key, value in args.set:
        if key in overrides:
            raise UsageError(f"--set {key} is given more than once; give each setting once")
        overrides[key] = value
    for key in ("seeds", "costs", "agents"):
        option = getattr(args, key)
        if option is not None:
            if key in overrides:
                raise UsageError(f"--{key} and --set {key}=… conflict; give {key} once")
            overrides[key] = option
    if isinstance(overrides.get("agents"), list) and all(isinstance(a, str) for a in overrides["agents"]):
        overrides["agents"] = [canonical_agent(a) for a in overrides["agents"]]
    grid: dict[str, list[Any]] = {}
    for key, values in args.env:
        if key in grid:
            raise UsageError(f"--env {key} is given more than once; give all its values in one --env {key}=V1,V2")
        grid[key] = values
    if grid:
        if GRID_KEY in overrides:
            raise UsageError(f"--env and --set {GRID_KEY}=… conflict; give the grid once")
        own = module.SCALES.get(scale, {}).get(GRID_KEY) or {}  # a sweep file's grid: --env adds to it
        overrides[GRID_KEY] = {**own, **grid}
    settings = experiment_settings(module, scale, **overrides)
    if args.worlds is not None:
        if "worlds" not in settings:
            raise UsageError(f"--worlds: {name} has no world family to draw worlds from; a sweep file with family = "
                             "… and worlds = … has (docs/benchmarks/your-own-study.md)")
        if "worlds" in overrides:
            raise UsageError("--worlds and --set worlds=… conflict; give worlds once")
        settings["worlds"] = args.worlds  # checked against the family when the runs are planned
    check_run_count(module, settings, args.max_runs)  # before every run is built: --seeds 1000000 fails fast
    raw = expand_env_grid(module.runs(settings), settings.get(GRID_KEY) or {})
    _check_agent_classes(sorted({parse_agent(spec.agent)[0] for spec in raw}))
    specs = resolve_agents(raw, settings.get("agents") or ())  # = plan_runs(…), agents' classes checked first
    check_runs(len(specs), args.max_runs)
    ids = [spec.run_id for spec in specs]
    if not specs:
        raise UsageError(f"these settings of {name} give no runs; give every list setting a value")
    if len(set(ids)) != len(ids):
        raise UsageError(f"these settings give the run id {_first_repeat(ids)!r} twice; give each value once")
    here = cluster.specs_checked_here(specs, remote=bool(args.scheduler or args.cluster))  # Dask: GPU on a worker
    _check_grid(here, settings.get(GRID_KEY) or {})
    _check_env_settings(here)
    _check_agents(here)
    manifest = {
        "experiment": name,
        "scale": scale,
        **({"sweep_file": document} if document is not None else {}),  # the report reads the file from here
        "settings": settings,
        "package_version": package_version(),
        "seeds": sorted({s.seed for s in specs}),
        "batch_size": args.batch_size,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    store = ResultStore(out)
    store.check_resumable(manifest, specs)  # also refuses a folder of the user's own (no manifest.json)
    store.check_not_locked()
    store.check_writable()  # a read-only filesystem, /proc/..., a full disk: refused before the sweep
    cluster.check_options(args)
    if args.scheduler:
        _check_scheduler(args.scheduler)
    args.cluster_session = cluster.open_session(args, specs)  # Dask workers ready for the specs, and checked
    return specs, manifest, out


def _run(args: argparse.Namespace, specs: list[RunSpec], manifest: dict[str, Any], out: str) -> int:
    session = args.cluster_session
    if session.job_script is not None:  # --cluster-dry-run: nothing submitted, nothing written
        print(session.job_script)
        return 0
    store = ResultStore(out)
    with store.writer_lock(), session:  # the sweep and its report under one lock: no report can interleave
        summary = run_sweep(specs, store, manifest, jobs=args.jobs, scheduler=session.client,
                            progress=not args.no_progress, batch_size=args.batch_size)
        report = write_report(store)  # before anything is printed: a closed stdout cannot cost the report
    print(f"{manifest['experiment']}: {summary.completed} runs done, {summary.skipped} already complete, "
          f"{len(summary.failed)} failed, in {summary.seconds:.1f} s -> {out}")
    print(report)
    return 1 if summary.failed else 0


def _check_not_retired(experiment: str | None, results_dir: str) -> None:
    """UsageError with :data:`RETIRED`'s message for a retired experiment or a results directory that holds one."""
    held = None
    if (ResultStore(results_dir).root / "manifest.json").is_file():
        try:
            held = ResultStore(results_dir).manifest().get("experiment")
        except StoreError:
            held = None  # a corrupt manifest is the store's to report
    for name in (experiment, held):
        if name in RETIRED:
            raise UsageError(RETIRED[name])


def _first_repeat(items: list[str]) -> str:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    raise AssertionError("no repeat")


def _check_agent_classes(names: list[str]) -> None:
    """Fail fast, before any run, on an agent that cannot be loaded or lacks the Agent protocol."""
    from tradeoff_gym.agents.registry import load_agent_class

    for name in names:
        try:
            load_agent_class(name)
        except ValueError as error:
            raise UsageError(str(error)) from None
        except Exception as error:  # whatever a user's module raises on import (SyntaxError, ...)
            raise UsageError(
                f"cannot load agent {name!r} ({type(error).__name__}: {error}); use module:Class of a class "
                f"importable from {os.getcwd()} or sys.path"
            ) from None


def _check_agents(specs: list[RunSpec]) -> None:
    """Build every agent of the sweep (each name with its settings once, on its first run's env; closed after), so
    a missing or unknown argument is refused before any run. Agents that train when built (SB3 policies) have their
    arguments checked against their factory's signature instead."""
    import inspect

    import gymnasium as gym

    from tradeoff_gym.agents.registry import AGENTS, _load, make_agent

    envs: dict[str, Any] = {}
    seen: set[str] = set()
    try:
        for spec in specs:
            key = json.dumps([spec.agent, spec.agent_kwargs], sort_keys=True, default=repr)
            if key in seen:
                continue
            seen.add(key)
            shown = spec.label or spec.agent
            entry = AGENTS.get(spec.agent)
            try:
                if entry is not None and isinstance(entry.factory, str):  # heavy: trains when built
                    settings = {**entry.defaults, **spec.agent_kwargs}
                    factory = _load(entry.factory, "agent factory")
                    inspect.signature(factory).bind(None, **settings)
                    _check_sb3_settings(spec.agent, factory, settings)
                    continue
                env_key = json.dumps([spec.env_id, spec.env_kwargs], sort_keys=True, default=repr)
                if env_key not in envs:
                    envs[env_key] = gym.make(spec.env_id, **spec.env_kwargs)
                agent = make_agent(spec.agent, envs[env_key], **spec.agent_kwargs)
                close = getattr(agent, "close", None)
                if callable(close):
                    close()
            except UsageError:
                raise
            except Exception as error:  # TypeError for a missing/unknown argument, ValueError for a bad value, ...
                example = '{"key": value}' if not spec.agent_kwargs else json.dumps(spec.agent_kwargs)
                raise UsageError(
                    f"agent {shown!r} cannot be built on {spec.env_id} ({type(error).__name__}: {error}); give its "
                    f"settings as JSON after its name: --agents '{spec.agent}{example}'"
                ) from None
    finally:
        for env in envs.values():
            env.close()


def _check_sb3_settings(name: str, factory: Any, settings: dict[str, Any]) -> None:
    """An SB3 agent needs a saved policy (``path``) or a training budget (``timesteps``): say how to give one."""
    import inspect

    parameters = inspect.signature(factory).parameters
    if {"path", "timesteps"} <= set(parameters) and settings.get("path") is None and \
            settings.get("timesteps") is None:
        raise UsageError(
            f"agent {name!r} needs a policy: give path=… (a saved policy) or timesteps=… (a training budget) as JSON "
            f"after its name, e.g. --agents '{name}{{\"timesteps\": 20000}}'"
        )


def _check_grid(specs: list[RunSpec], grid: dict[str, list[Any]]) -> None:
    """Check each ``--env`` value on the first run that has it, so a bad one is named as the user wrote it."""
    checked: set[str] = set()
    for key, values in grid.items():
        for value in values:
            text = f"{key}={grid_value_text(value)}"
            spec = next((s for s in specs if f"/{text}/" in f"/{s.run_id}/"), None)
            if spec is None or text in checked:
                continue
            checked.add(text)
            try:
                _check_env(spec.env_id, spec.env_kwargs)
            except (ValueError, TypeError) as error:
                raise UsageError(f"--env {text} ({spec.env_id}): {error}") from None


def _check_env(env_id: str, env_kwargs: dict[str, Any]) -> None:
    """Validate one env's settings: this package's ids without building the env, others by building it."""
    from tradeoff_gym import envs

    ours = env_id.rpartition(":")[2] in envs.CONFIG_BUILDERS
    (envs.check_settings if ours else _make_and_close)(env_id, **env_kwargs)


def _check_env_settings(specs: list[RunSpec]) -> None:
    """Validate every distinct (env id, env settings) of the sweep; this package's ids without building an env."""
    from tradeoff_gym import envs

    seen: set[str] = set()
    for spec in specs:
        key = json.dumps([spec.env_id, spec.env_kwargs], sort_keys=True, default=repr)
        if key in seen:
            continue
        seen.add(key)
        ours = spec.env_id.rpartition(":")[2] in envs.CONFIG_BUILDERS
        try:
            (envs.check_settings if ours else _make_and_close)(spec.env_id, **spec.env_kwargs)
        except (ValueError, TypeError) as error:
            raise UsageError(f"run {spec.run_id} ({spec.env_id}): {error}") from None


def _make_and_close(env_id: str, **env_kwargs: Any) -> None:
    """Settings check for an env id this package does not define (a user's experiment): build it and close it."""
    import gymnasium as gym

    try:
        gym.make(env_id, **env_kwargs).close()
    except gym.error.Error as error:
        raise ValueError(str(error)) from None


def _check_scheduler(address: str) -> None:
    """Refuse when dask.distributed is missing or the scheduler does not answer within SCHEDULER_TIMEOUT_S."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs dask.distributed, which is not installed: pip install 'tradeoff-gym[cluster]', "
            "or drop --scheduler to run locally"
        ) from None
    try:
        from distributed.comm.addressing import parse_address, parse_host_port

        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except (ImportError, ValueError, TypeError) as error:
        raise UsageError(
            f"--scheduler {address!r} is not a scheduler address ({error}); give tcp://HOST:PORT"
        ) from None
    try:
        client = Client(address, timeout=f"{SCHEDULER_TIMEOUT_S}s", set_as_default=False)
    except Exception as error:  # OSError, TimeoutError, ValueError for a malformed address, ...
        raise UsageError(
            f"no Dask scheduler answers at {address!r} within {SCHEDULER_TIMEOUT_S:g} s "
            f"({type(error).__name__}: {error}); give a running scheduler's tcp://HOST:PORT, or drop --scheduler"
        ) from None
    client.close()


if __name__ == "__main__":
    sys.exit(main())
