"""Scale a sweep out as users do: Dask workers that find the user's modules, Slurm jobs, GPUs by setting.

A sweep on Dask (``tradeoff-bench run … --scheduler ADDRESS`` or ``--cluster slurm``) runs its episodes on workers
that did not start in the user's working directory, so a ``module:Class`` agent found there is unknown to them.
Before any run is submitted, :func:`prepare_workers`:

1. prepends ``--pythonpath`` folders (as the workers see them) to every worker's ``sys.path``
   (:class:`~tradeoff_gym.benchmarks.cluster_worker.WorkerPath`);
2. ships the modules the sweep needs that are not installed here (a ``module:Class`` agent's module, a
   ``module:Id`` env id's module, the caller's extra modules, and modules they imported from the same folder): one
   zip, unpacked on each worker and put first on its path
   (:class:`~tradeoff_gym.benchmarks.cluster_worker.ShippedModules`);
3. checks on every connected worker that each agent loads, each module imports, each env id is known, each
   ``--pythonpath`` folder exists and each GPU ``device`` exists
   (:func:`~tradeoff_gym.benchmarks.cluster_worker.check_worker`); the first problem is a one-line
   :class:`ClusterError` naming it, the worker and the fix.

Both plugins stay registered on the scheduler, so workers that join later (Slurm jobs that start late) get them too.
``--cluster slurm`` starts a :class:`dask_jobqueue.SLURMCluster` from ``--cluster-option KEY=VALUE`` and scales it
to ``--cluster-jobs`` jobs; ``--cluster-dry-run`` only prints its job script. A GPU ``device`` is checked on a
worker, not on the submitting machine (:func:`specs_checked_here`). See docs/benchmarks/cluster.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import importlib
import inspect
import io
import json
import os
import shutil
import site
import sys
import sysconfig
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec

#: Cluster kinds ``--cluster`` starts.
CLUSTERS: tuple[str, ...] = ("slurm",)
#: Most bytes (uncompressed) of user modules shipped to the workers; more is refused (install or --pythonpath).
SHIP_LIMIT_BYTES = 64 * 2**20
#: Seconds to wait for a worker to join a ``--scheduler`` that has none (a Slurm cluster waits for its jobs).
WORKER_WAIT_S = 60.0
#: SLURMCluster keywords ``--cluster-option`` may not give: this module sets them, or they are deprecated aliases.
_RESERVED = {"self", "n_workers", "job_cls", "loop", "asynchronous", "job_kwargs", "config_name", "scheduler", "name",
             "base_class_kwargs", "extra", "env_extra", "job_extra", "header_skip", "kwargs"}
#: SLURMCluster keywords whose value is a list of strings (a bare string would be split into characters).
_LISTS = {"job_extra_directives", "job_script_prologue", "worker_extra_args", "job_directives_skip"}
_FIX = ("install what it needs on the workers, or give --pythonpath DIR (a folder holding it, as the workers see it, "
        "e.g. on a shared filesystem)")


class ClusterError(ValueError):
    """A sweep that cannot run on the Dask workers or cluster asked for (the message names what, where and the fix)."""


def add_arguments(run: argparse.ArgumentParser) -> None:
    """Add ``--pythonpath``, ``--cluster``, ``--cluster-option``, ``--cluster-jobs`` and ``--cluster-dry-run``."""
    run.add_argument("--pythonpath", action="append", default=[], metavar="DIR",
                     help="a folder (as the Dask workers see it) put first on every worker's import path and checked "
                          "there before the sweep; repeatable (modules of the working directory are shipped anyway)")
    run.add_argument("--cluster", choices=CLUSTERS,
                     help="start a cluster and run on it: slurm (dask-jobqueue; see --cluster-option)")
    run.add_argument("--cluster-option", type=_option, action="append", default=[], metavar="KEY=VALUE",
                     help="a dask_jobqueue.SLURMCluster setting (JSON, else a string): cores=8, memory=16GB, "
                          "walltime=02:00:00, queue=gpu, account=…, 'job_extra_directives=[\"--gres=gpu:1\"]'; "
                          "repeatable")
    run.add_argument("--cluster-jobs", type=int, default=1, metavar="N",
                     help="Slurm jobs to start (each runs `processes` Dask workers; default 1)")
    run.add_argument("--cluster-dry-run", action="store_true",
                     help="print the Slurm job script --cluster would submit, submit nothing, write nothing")


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value  # a bare string: 16GB, 02:00:00


def check_options(args: argparse.Namespace) -> None:
    """ClusterError for options that do not go together or a ``--cluster-option`` SLURMCluster does not take.

    Checked before anything else of the cluster: ``--cluster`` with ``--scheduler``, cluster options without
    ``--cluster``, ``--pythonpath`` without Dask, ``--cluster-jobs`` < 1, a missing dask-jobqueue.
    """
    scheduler, kind = getattr(args, "scheduler", None), getattr(args, "cluster", None)
    for name, default in (("pythonpath", []), ("cluster_option", []), ("cluster_jobs", 1), ("cluster_dry_run", False)):
        if not hasattr(args, name):  # a namespace from a parser without these options: their defaults
            setattr(args, name, default)
    if scheduler and kind:
        raise ClusterError(f"--cluster {kind} and --scheduler conflict: --cluster starts its own scheduler; give one")
    if not kind:
        for flag, given in (("--cluster-option", args.cluster_option), ("--cluster-dry-run", args.cluster_dry_run),
                            ("--cluster-jobs", args.cluster_jobs != 1)):
            if given:
                raise ClusterError(f"{flag} needs --cluster slurm (it configures the cluster that starts)")
    if args.pythonpath and not (scheduler or kind):
        raise ClusterError("--pythonpath applies to Dask workers (--scheduler or --cluster); local workers already "
                           "import from the working directory and PYTHONPATH")
    for folder in args.pythonpath:
        if not folder or not os.path.isabs(folder):
            raise ClusterError(f"--pythonpath needs an absolute folder as the workers see it, got {folder!r}")
    if kind:
        if args.cluster_jobs < 1:
            raise ClusterError(f"--cluster-jobs must be an integer >= 1, got {args.cluster_jobs}")
        slurm_options(args.cluster_option)


def specs_checked_here(specs: list[RunSpec], *, remote: bool) -> list[RunSpec]:
    """The specs to check on this machine: ``specs`` themselves, or for a sweep on Dask workers (``remote``) the
    specs with a ``device`` setting replaced by ``"cpu"`` after its spelling is checked, since the GPU is the
    workers' (:func:`prepare_workers` checks it on a worker). ClusterError for a misspelt device."""
    if not remote:
        return specs
    from tradeoff_gym.envs import check_device

    here = []
    for spec in specs:
        device = spec.env_kwargs.get("device")
        if device is None:
            here.append(spec)
            continue
        try:
            check_device(device, here=False)
        except ValueError as error:
            raise ClusterError(f"run {spec.run_id} ({spec.env_id}): {error}") from None
        here.append(dataclasses.replace(spec, env_kwargs={**spec.env_kwargs, "device": "cpu"}))
    return here


@dataclass
class Session:
    """Where a sweep runs: ``client`` a Dask client (``None``: the local process pool), with ``cluster`` the cluster
    this process started (``None`` for ``--scheduler``). After ``--cluster-dry-run``, ``client`` is ``None`` and
    ``job_script`` holds the script the cluster would submit (the cluster is closed). Closing it closes both.
    """

    client: Any = None
    cluster: Any = None
    job_script: str | None = None

    def close(self) -> None:
        """Close the client, then the cluster this process started (a Slurm cluster cancels its jobs)."""
        for part in (self.client, self.cluster):
            if part is not None:
                try:
                    part.close()
                except Exception:  # already gone: nothing left to close
                    pass
        self.client = self.cluster = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(
    args: argparse.Namespace, specs: list[RunSpec], *, say: Callable[[str], None] | None = None
) -> Session:
    """The session ``args`` ask for, its Dask workers ready for ``specs`` (an empty :class:`Session`: the local pool).

    ``--scheduler``: a client of it. ``--cluster slurm``: a SLURMCluster (``--cluster-option``) scaled to
    ``--cluster-jobs`` jobs, or with ``--cluster-dry-run`` only its job script. Then :func:`prepare_workers` (the
    experiment's own module too when it is given as ``module:NAME``). ``say`` gets the progress note while waiting
    for a first worker (default: stderr, nothing with ``--no-progress``). ClusterError for anything the workers lack;
    the session is closed again when this raises.
    """
    check_options(args)
    scheduler, kind = getattr(args, "scheduler", None), getattr(args, "cluster", None)
    if not (scheduler or kind):
        return Session()
    if say is None:  # the wait for a worker is progress: said on stderr unless --no-progress
        say = (lambda text: None) if getattr(args, "no_progress", False) else _stderr
    session = Session()
    try:
        if kind:
            if not args.cluster_dry_run and shutil.which("sbatch") is None:
                raise ClusterError("--cluster slurm submits jobs with sbatch, which is not on PATH here; run "
                                   "tradeoff-bench on a Slurm login node (--cluster-dry-run shows the job script "
                                   "anywhere)")
            session.cluster = start_slurm(slurm_options(args.cluster_option))
            if args.cluster_dry_run:
                session.job_script = session.cluster.job_script()
                session.close()
                return session
            session.cluster.scale(jobs=args.cluster_jobs)
        from dask.distributed import Client

        try:
            session.client = Client(session.cluster or scheduler, timeout="30s", set_as_default=False)
        except Exception as error:  # OSError, TimeoutError: the scheduler went away since it was checked
            raise ClusterError(f"cannot connect to the Dask scheduler ({_one_line(error)}); check that it runs, or "
                               "drop --scheduler/--cluster to run locally") from None
        _wait_for_a_worker(session.client, scheduler, args.cluster_jobs, say)
        prepare_workers(session.client, specs, modules=_experiment_module(getattr(args, "experiment", "")),
                        pythonpath=args.pythonpath)
    except BaseException:
        session.close()
        raise
    return session


def _experiment_module(experiment: str) -> list[str]:
    """``[module]`` for an experiment given as ``module:NAME`` (not a file), else ``[]``."""
    if ":" not in experiment or os.path.exists(experiment) or experiment.endswith(".toml"):
        return []
    return [experiment.partition(":")[0]]


def _wait_for_a_worker(client: Any, scheduler: str | None, jobs: int, say: Callable[[str], None]) -> None:
    """Block until a worker is connected (to check one): a ``--scheduler`` for :data:`WORKER_WAIT_S` at most, a
    Slurm cluster until its first job starts (Ctrl-C stops and cancels the jobs)."""
    if client.scheduler_info().get("workers"):
        return
    if scheduler:
        say(f"waiting up to {WORKER_WAIT_S:g} s for a Dask worker to join {scheduler}")
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes before Python 3.11
            raise ClusterError(f"no Dask worker joined the scheduler at {scheduler} within {WORKER_WAIT_S:g} s; start "
                               f"workers (dask worker {scheduler}), or drop --scheduler to run locally") from None
        return
    say(f"waiting for the first of {jobs} Slurm job(s) to start (squeue --me shows them; Ctrl-C cancels them)")
    client.wait_for_workers(1)


def prepare_workers(
    client: Any, specs: list[RunSpec], *, modules: Iterable[str] = (), pythonpath: Iterable[str] = ()
) -> None:
    """Make ``client``'s workers ready for ``specs`` and check them; ClusterError naming the first problem.

    ``modules`` are extra modules the workers must import (an experiment given as ``module:NAME``); ``pythonpath``
    folders, as the workers see them, go first on their path. Ships what :func:`modules_to_ship` finds, then runs
    :func:`~tradeoff_gym.benchmarks.cluster_worker.check_worker` on every connected worker.
    """
    from tradeoff_gym.benchmarks.cluster_worker import ShippedModules, WorkerPath, check_worker

    agents, needed, env_ids = needed_names(specs, modules)
    dirs = list(dict.fromkeys(pythonpath))
    devices = sorted({s.env_kwargs["device"] for s in specs if _is_gpu(s.env_kwargs.get("device"))})
    registered = []
    try:
        if dirs:
            name = "tradeoff-gym-pythonpath-" + _digest("\n".join(dirs).encode())[:16]
            client.register_plugin(WorkerPath(dirs), name=name)
            registered.append(name)
        shipped = modules_to_ship(needed)
        if shipped:
            payload = pack_modules(shipped)
            digest = _digest(payload)
            name = f"tradeoff-gym-modules-{digest[:16]}"
            client.register_plugin(ShippedModules(payload, digest[:16], sorted(shipped)), name=name)
            registered.append(name)
        answers = client.run(check_worker, agents, needed, env_ids, dirs, devices)
    except ClusterError:
        raise
    except Exception as error:  # the workers cannot unpickle this package's check, a plugin failed, ...
        import tradeoff_gym

        raise ClusterError(f"the Dask workers cannot get ready for this sweep ({_one_line(error)}); install "
                           f"tradeoff-gym {tradeoff_gym.__version__} (with its dependencies) on the workers") from None
    problems = [(worker, *problem) for worker, found in sorted(answers.items()) for problem in found]
    if problems:
        for name in registered:
            try:
                client.unregister_worker_plugin(name)
            except Exception:  # best effort: the problem below is what the user needs
                pass
        raise ClusterError(_problem_line(problems, shipped))


def _is_gpu(device: Any) -> bool:
    """Whether a (spelling-checked) ``device`` setting names a GPU, which the workers must have."""
    return isinstance(device, str) and device.partition(":")[0] != "cpu"


def _problem_line(problems: list[tuple[str, str, str, str]], shipped: dict[str, Path]) -> str:
    """One line for the first problem of ``(worker, kind, name, error)``; the count of the others."""
    worker, kind, name, error = problems[0]
    if kind == "pythonpath":
        line = (f"--pythonpath {name} is not a folder on Dask worker {worker}; give folders as the workers see them "
                "(e.g. on a shared filesystem)")
    elif kind == "device":
        line = error
    else:
        what = {"module": "module", "agent": "agent", "env": "env id"}[kind]
        how = ("it was shipped from here" if name.partition(":")[0].partition(".")[0] in shipped
               else "it is installed here, so it was not shipped")
        line = f"{what} {name!r} cannot be loaded on Dask worker {worker} ({error}); {how}: {_FIX}"
    others = len(problems) - 1
    return line + (f" ({others} more problem(s) on the workers)" if others else "")


def needed_names(specs: list[RunSpec], modules: Iterable[str] = ()) -> tuple[list[str], list[str], list[str]]:
    """What the workers must load for ``specs``: ``(agents, modules, env ids)``, each sorted and distinct.

    Agents are every run's agent name (registered or ``module:Class``); modules the ``module`` of each
    ``module:Class`` agent that is not a registered name and of each ``module:Id`` env id, plus ``modules``.
    """
    from tradeoff_gym.agents.registry import AGENTS

    agents = sorted({spec.agent for spec in specs})
    env_ids = sorted({spec.env_id for spec in specs})
    needed = set(modules)
    needed.update(name.partition(":")[0] for name in agents if ":" in name and name not in AGENTS)
    needed.update(env_id.partition(":")[0] for env_id in env_ids if ":" in env_id)
    return agents, sorted(needed), env_ids


def modules_to_ship(names: Iterable[str]) -> dict[str, Path]:
    """The top-level modules to ship for ``names``: ``{name: its file or package folder}``.

    Each name's top-level module when it is not installed (:func:`is_installed`), plus every other module loaded in
    this process from the same folder that is not installed either (a helper the user's module imports). A module
    without a file of its own (a namespace package, a built-in) is not shipped; the workers' check reports it.
    ClusterError when a module cannot be imported here.
    """
    installed = _installed_names()
    ship: dict[str, Path] = {}
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception as error:
            raise ClusterError(f"module {name!r} cannot be imported here ({_one_line(error)})") from None
        top = sys.modules.get(name.partition(".")[0], module)
        where = _source_of(top)
        if where is not None and not is_installed(top.__name__, where, installed):
            ship[top.__name__] = where
    roots = {path.parent for path in ship.values()}
    for name, module in list(sys.modules.items()):
        if "." in name or name in ship or name in ("__main__", "__mp_main__") or name.startswith("__editable__"):
            continue
        where = _source_of(module)
        if where is not None and where.parent in roots and not is_installed(name, where, installed):
            ship[name] = where
    return ship


def _source_of(module: ModuleType) -> Path | None:
    """A top-level module's file, or its package folder (a regular package); ``None`` without one."""
    file = getattr(module, "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    return path.parent if hasattr(module, "__path__") else path


def _installed_names() -> set[str]:
    from importlib.metadata import packages_distributions

    return set(packages_distributions()) | set(sys.stdlib_module_names) | set(sys.builtin_module_names)


def is_installed(name: str, where: Path, installed: set[str] | None = None) -> bool:
    """Whether top-level module ``name`` (at ``where``) comes with Python or an installed distribution, which the
    workers must have installed too, rather than being the user's own file (shipped to them)."""
    if name in (installed if installed is not None else _installed_names()):
        return True
    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    paths.add(site.getusersitepackages())
    return any(where.is_relative_to(Path(path).resolve()) for path in paths if path)


def pack_modules(modules: dict[str, Path]) -> bytes:
    """One zip of ``modules`` (:func:`modules_to_ship`): files under their own name, packages as folders without
    ``__pycache__`` and hidden entries. Stamped with a fixed date, so equal content gives equal bytes (and digest).
    ClusterError over :data:`SHIP_LIMIT_BYTES`."""
    buffer, total = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, where in sorted(modules.items()):
            files = [(where, where.name)] if where.is_file() else [
                (path, path.relative_to(where.parent).as_posix()) for path in sorted(where.rglob("*"))
                if path.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                              for part in path.relative_to(where.parent).parts)
            ]
            for path, arcname in files:
                data = path.read_bytes()
                total += len(data)
                if total > SHIP_LIMIT_BYTES:
                    raise ClusterError(
                        f"module {name!r} ({where}) is too large to ship to the Dask workers (over "
                        f"{SHIP_LIMIT_BYTES // 2**20} MiB with the other modules); {_FIX}"
                    )
                archive.writestr(zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def allowed_slurm_options() -> list[str]:
    """The SLURMCluster keywords ``--cluster-option`` takes (its own, its job's and the base job's), sorted."""
    from dask_jobqueue.core import Job, JobQueueCluster
    from dask_jobqueue.slurm import SLURMJob

    names: set[str] = set()
    for function in (JobQueueCluster.__init__, SLURMJob.__init__, Job.__init__):
        names.update(inspect.signature(function).parameters)
    return sorted(names - _RESERVED)


def slurm_options(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``--cluster-option`` pairs as SLURMCluster keywords; ClusterError for a repeated or unknown key, a list
    setting that is not a JSON list of strings, or a missing dask-jobqueue."""
    try:
        allowed = allowed_slurm_options()
    except ImportError:
        raise ClusterError("--cluster slurm needs dask-jobqueue, which is not installed: "
                           "pip install 'tradeoff-gym[cluster]'") from None
    options: dict[str, Any] = {}
    for key, value in pairs:
        if key in options:
            raise ClusterError(f"--cluster-option {key} is given more than once; give each setting once")
        if key not in allowed:
            raise ClusterError(f"--cluster-option {key!r} is not a SLURMCluster setting; allowed: {', '.join(allowed)}")
        if key in _LISTS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ClusterError(f"--cluster-option {key} takes a JSON list of strings, e.g. "
                               f"'{key}=[\"--gres=gpu:1\"]', got {value!r}")
        options[key] = value
    return options


def start_slurm(options: dict[str, Any]) -> Any:
    """A :class:`dask_jobqueue.SLURMCluster` from ``options`` (no job submitted yet); ClusterError if it refuses."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ClusterError("--cluster slurm needs dask-jobqueue, which is not installed: "
                           "pip install 'tradeoff-gym[cluster]'") from None
    try:
        return SLURMCluster(**options)
    except Exception as error:  # ValueError for missing cores/memory, a bad memory string, ...
        raise ClusterError(f"--cluster slurm cannot start with these --cluster-option settings "
                           f"({_one_line(error)}); at least cores=N and memory=SIZE, e.g. --cluster-option cores=4 "
                           "--cluster-option memory=16GB") from None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
