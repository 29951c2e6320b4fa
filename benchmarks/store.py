"""The result store: one Parquet file per run, written atomically, checked on every resume.

Layout of a results directory (every file opens without this package)::

    manifest.json          experiment, scale, settings, package version, run specs, sessions (provenance:
                           commit, versions, host, CPU of every sweep that wrote into it)
    runs/<run>.parquet     one run's rows (one per trial); <run> is the run id, ``/`` as ``+`` (ResultStore.file_stem)
    runs/<run>.json        its completion record: spec, row count, sha256 of the Parquet file, seconds
    failed/<run>.txt       the traceback of a run that raised (rerun on resume)
    results.parquet        every completed run, concatenated (rewritten at the end of a sweep)
    runs.csv               one line per completed run: spec, reward rate, serial share, seconds
    .lock                  held (``flock``) by the sweep writing into the directory

Semantics:

* **One sweep per directory.** A directory holds one experiment at one scale with one set of settings.
  A sweep into a directory whose manifest names another experiment, scale or settings (or other runs) is
  refused before anything is touched, with a message naming what differs; rerunning the same command
  resumes it (complete runs are skipped, failed and damaged ones rerun).
* **Complete means checked.** A run counts as complete only when its record exists and the Parquet
  file matches the record's sha256 hash and row count (read from the Parquet metadata). Anything else —
  a torn, truncated, edited, unreadable or orphaned file — is *damaged*: the report lists it under
  "Damaged runs" and leaves it as found; the next sweep (resume) reruns it.
* **Checks are read-only.** Inspecting a directory (:meth:`ResultStore.check`, :meth:`ResultStore.load`,
  :meth:`ResultStore.read`) never deletes or modifies a file, so it is safe while a sweep writes into it; the
  report leaves every run file as found and rewrites only the files derived from them.
* **One writer at a time.** A sweep holds an exclusive lock on ``.lock`` for its whole duration, its final
  report included; writing a report takes the same lock, so a report never replaces newer files with older ones.
  A second writer into the same directory is refused (:class:`StoreLockedError`). Temporary files of an atomic
  write are named ``.<file>.<random>.<host>.<pid>.tmp``; only a writer removes leftovers, and only those of
  processes of this host that are no longer alive.
* **Only its own folders.** A sweep writes into a new or empty folder, or a results directory (one with a
  ``manifest.json`` of the right shape); any other folder is refused, so a user's own files are never overwritten.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import urllib.parse
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.provenance import collect as collect_provenance
from tradeoff_gym.learners.files import (  # noqa: F401  (the one atomic write)
    HOST,
    atomic_write_bytes,
    current_umask,
    temp_file_owner,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock (documented limitation)
    fcntl = None  # type: ignore[assignment]

def atomic_write_json(path: Path, payload: Any) -> None:
    """Atomically write ``payload`` as indented JSON."""
    atomic_write_bytes(path, (json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n").encode())


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (when unsure: True)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists but belongs to someone else
        return True
    return True


def remove_stale_temp_files(folder: Path, pattern: str = ".*.tmp") -> list[Path]:
    """Remove temporary files and folders in ``folder`` matching ``pattern``, left by dead processes of this host.

    Files of live processes, of other hosts, or not named by :func:`atomic_write_bytes` / :func:`temp_folder` are
    left alone. Returns what was removed.
    """
    removed = []
    for path in sorted(Path(folder).glob(pattern)):
        owner = temp_file_owner(path)
        if owner is not None and owner[0] == HOST and not process_alive(owner[1]):
            if path.is_dir() and not path.is_symlink():  # a report's staging folder for figures
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def temp_folder(parent: Path, name: str) -> Path:
    """Create an empty folder in ``parent`` named as this process's temporary file for ``name``; return it.

    Its mode is what ``mkdir`` gives under the umask (not ``mkdtemp``'s 0700), so a folder renamed into place
    from it is as readable as any other.
    """
    path = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=f".{HOST}.{os.getpid()}.tmp", dir=parent))
    os.chmod(path, 0o777 & ~current_umask())
    return path


#: How new results directories name run files (kept in the manifest as ``file_names``): ``readable``
#: (``fig5+c0+ucb1+0.parquet``); directories swept before it keep ``percent`` (``fig5%2Fc0%2Fucb1%2F0.parquet``).
FILE_NAMES = "readable"


def readable_stem(run_id: str) -> str:
    """The ``readable`` file name of a run id: ``/`` -> ``+``, other unsafe characters percent-encoded."""
    return urllib.parse.quote(run_id, safe="/~=,").replace("/", "+")


def run_id_of(stem: str) -> str:
    """The run id a run file's name (without suffix) stands for, under either scheme (a ``percent`` name has no
    ``+``: it encodes ``+`` as ``%2B``)."""
    return urllib.parse.unquote(stem.replace("+", "/"))


def frame_to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Serialise a frame to Parquet in memory (so it can be hashed and written atomically)."""
    return frame.to_parquet(index=False, engine="pyarrow")


def spec_to_dict(spec: RunSpec) -> dict[str, Any]:
    """A RunSpec as JSON-able plain data (round-trips through JSON unchanged; an empty ``label`` left out)."""
    data = dataclasses.asdict(spec)
    if not data.get("label"):
        data.pop("label", None)  # specs without a label read as they did before labels existed
    return json.loads(json.dumps(data, sort_keys=True, default=str))


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, unknown objects strings)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class StoreError(RuntimeError):
    """The results directory cannot be used for this sweep (says why and what to do)."""


class StoreReadOnlyError(StoreError):
    """The results directory cannot be written (a read-only filesystem or folder); nothing was written."""


#: errno values that mean "this directory cannot be written", not "something broke while writing".
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class StoreLockedError(StoreError):
    """Another process holds the directory's writer lock: ``holder`` is ``"sweep"`` or ``"report"``, ``pid`` its id."""

    def __init__(self, root: Path, holder: str, pid: int | None) -> None:
        self.root, self.holder, self.pid = root, holder, pid
        who = f" (pid {pid})" if pid is not None else ""
        if holder == "report":
            text = f"a report{who} is being written into {root}; rerun when it is done (seconds)"
        else:
            text = f"another sweep{who} is writing into {root}; wait for it to finish, or choose another --out"
        super().__init__(text)


#: RunSpec's fields, and those a manifest's run spec must have.
_SPEC_FIELDS = {f.name for f in dataclasses.fields(RunSpec)}
_SPEC_TYPES: dict[str, type | tuple[type, ...]] = {
    "run_id": str, "env_id": str, "agent": str, "seed": int, "env_kwargs": dict, "agent_kwargs": dict, "tags": dict,
    "label": str}


def manifest_problem(manifest: Any) -> str | None:
    """What is wrong with the shape of a manifest read from JSON, or None when a report and a sweep can use it."""
    if not isinstance(manifest, dict):
        return "not a JSON object"
    if not isinstance(manifest.get("experiment"), str):
        return "'experiment' must name the experiment (a string)"
    runs = manifest.get("runs")
    if not isinstance(runs, dict):
        return "'runs' must be an object of run id -> run spec"
    for run_id, spec in runs.items():
        if not isinstance(spec, dict) or spec.get("run_id") != run_id or not {"env_id", "agent", "seed"} <= set(spec):
            return f"run {run_id!r} has no run spec (an object with its run_id, env_id, agent and seed)"
        for key, value in spec.items():
            if key not in _SPEC_FIELDS or not isinstance(value, _SPEC_TYPES[key]) or isinstance(value, bool):
                return f"run {run_id!r}'s spec has a bad {key!r} ({value!r})"
    for key, kind in (("settings", dict), ("parts", list), ("sessions", list), ("scale", str)):
        if manifest.get(key) is not None and not isinstance(manifest[key], kind):
            return f"{key!r} must be a JSON {'object' if kind is dict else 'list' if kind is list else 'string'}"
    parts = manifest.get("parts") or []
    if not all(isinstance(part, list) and all(isinstance(rid, str) for rid in part) for part in parts):
        return "'parts' must be a list of lists of run ids"
    batch = manifest.get("batch_size")
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool)):
        return f"'batch_size' must be an integer, not {batch!r}"
    return None


class ResultStore:
    """Reads and writes one results directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.failed_dir = self.root / "failed"
        self.session: int | None = None  # index into the manifest's sessions, set by open_sweep
        self._file_names: str | None = None  # the run files' naming scheme, read from the manifest when first needed
        self._lock_depth = 0  # how deeply this object holds the writer lock (it may re-enter it)

    # -- naming ---------------------------------------------------------------------------------
    def file_stem(self, run_id: str) -> str:
        """The run's file name (without suffix) under this directory's naming scheme (:data:`FILE_NAMES`).

        ``readable`` (new directories): each ``/`` becomes ``+``, and every character but ASCII letters, digits,
        ``_``, ``.``, ``-``, ``~``, ``=``, ``,`` and ``/`` is percent-encoded (``+`` as ``%2B``, ``%`` as ``%25``):
        ``fig5/preset=noisy/c0/ucb1/0`` -> ``fig5+preset=noisy+c0+ucb1+0``. ``percent`` (directories swept before
        it, kept as they are): the whole id percent-encoded, ``fig5%2Fc0%2Fucb1%2F0``. Both reversible: run_id_of.
        """
        if self.file_names() == "percent":
            return urllib.parse.quote(run_id, safe="")
        return readable_stem(run_id)

    def file_names(self) -> str:
        """This directory's naming scheme of run files: its manifest's ``file_names``; ``percent`` for a directory
        swept before schemes were recorded that holds a run record; else :data:`FILE_NAMES`. Read once per object."""
        if self._file_names is None:
            try:
                held = json.loads((self.root / "manifest.json").read_text())
            except (OSError, ValueError):
                held = None
            names = held.get("file_names") if isinstance(held, dict) else None
            if names not in ("readable", "percent"):
                names = "percent" if isinstance(held, dict) and any(self.runs_dir.glob("*.json")) else FILE_NAMES
            self._file_names = names
        return self._file_names

    def _paths(self, run_id: str) -> tuple[Path, Path]:
        stem = self.file_stem(run_id)
        return self.runs_dir / f"{stem}.parquet", self.runs_dir / f"{stem}.json"

    # -- the writer's lock ------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self, holder: str = "sweep") -> Iterator[None]:
        """Hold the directory's exclusive writer lock (``.lock``); StoreLockedError if another process holds it.

        ``holder`` (``"sweep"`` or ``"report"``) is written beside this process id into the lock file, so a refused
        writer can say who holds it. The same object may re-enter the lock (a sweep writes its report under it).
        Creates the directory. The lock is released when the block ends or the process dies.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.check_usable()
        self.root.mkdir(parents=True, exist_ok=True)
        handle = _open_lock_file(self.root / ".lock", os.O_RDWR | os.O_CREAT)  # held for the whole block
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.seek(0)
                    raise self._locked_error(handle.read()) from None
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()} {holder}\n")
                handle.flush()
            self._lock_depth = 1
            yield
        finally:
            self._lock_depth = 0
            handle.close()

    def check_not_locked(self) -> None:
        """StoreError if a sweep holds the writer lock now. Reads only (creates nothing)."""
        try:
            handle = _open_lock_file(self.root / ".lock", os.O_RDONLY)
        except OSError:  # no lock file (or no directory): nobody holds it
            return
        with handle:
            if fcntl is None:
                return
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self._locked_error(handle.read()) from None
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _locked_error(self, text: str) -> StoreLockedError:
        words = text.split()  # "<pid> <holder>" (older sweeps wrote "<pid>" alone)
        pid = int(words[0]) if words and words[0].isdigit() else None
        return StoreLockedError(self.root, "report" if words[1:2] == ["report"] else "sweep", pid)

    def remove_stale_temp_files(self) -> list[Path]:
        """Remove leftovers of interrupted writes by dead processes of this host (only a lock holder calls this)."""
        return [path for folder in (self.root, self.runs_dir, self.failed_dir) for path in
                remove_stale_temp_files(folder)]

    # -- manifest -------------------------------------------------------------------------------
    def check_usable(self) -> None:
        """StoreError unless the root is a directory or can become one. Reads only.

        Refused: a file on the way, a symbolic link loop, a dangling symbolic link, a path that cannot be looked up.
        """
        for path in (self.root, *self.root.parents):
            try:
                info = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):  # not there (yet), or under a file: look further up
                if os.path.islink(path):
                    raise StoreError(f"{self.root}: {path} is a symbolic link to a missing target; choose another "
                                     "--out") from None
                continue
            except OSError as error:  # ELOOP, EACCES, ENAMETOOLONG, ...
                what = "a symbolic link loop" if error.errno == errno.ELOOP else error.strerror
                raise StoreError(f"{self.root} cannot be used ({what}); choose another --out") from None
            if not stat.S_ISDIR(info.st_mode):
                what = "is" if path == self.root else f"lies under {path}, which is"
                raise StoreError(
                    f"{self.root} {what} a file, not a directory; name a new directory or a results directory"
                )
            return

    def check_writable(self) -> None:
        """StoreError unless files can be created in the root (or where it will be created), checked by making and
        removing an empty temporary folder there: a read-only filesystem, a full disk or a folder no one may write
        (``/proc/…``) is refused before a sweep starts. Leaves nothing behind."""
        self.check_usable()
        existing = next(path for path in (self.root, *self.root.parents) if path.exists())
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".probe.", suffix=f".{HOST}.{os.getpid()}.tmp", dir=existing))
        except OSError as error:
            where = "" if existing == self.root else f" (in {existing})"
            raise StoreError(f"{self.root} cannot be written{where}: {error.strerror}; choose another --out") from None

    def check_not_foreign(self) -> None:
        """StoreError if the root is a folder with files of its own and no manifest.json (not a results directory).

        A new or empty folder is fine, and so is one holding only what a sweep creates before its manifest (the
        lock, empty ``runs/``, temporary files): a sweep never writes its report over a user's own files.
        """
        if not self.root.is_dir() or (self.root / "manifest.json").exists():
            return
        for entry in sorted(self.root.iterdir()):
            ours = (entry.name == ".lock" or temp_file_owner(entry) is not None
                    or (entry.name in ("runs", "failed") and entry.is_dir() and not any(entry.iterdir())))
            if not ours:
                raise StoreError(
                    f"{self.root} is a folder with other files (e.g. {entry.name!r}) and no manifest.json, not a "
                    "results directory; name a new or empty folder, or a results directory"
                )

    def check_resumable(self, manifest: dict[str, Any], specs: list[RunSpec]) -> None:
        """StoreError unless this directory is new, holds this sweep, or holds a sweep this one extends. Reads only.

        Same experiment and scale required. Settings may differ only when every run the directory holds is among
        this command's runs with the same spec: the command then *extends* the sweep (more agents, seeds or costs)
        and the runs already done are kept. A change that alters or drops a held run is refused.
        """
        self.check_usable()
        self.check_not_foreign()
        path = self.root / "manifest.json"
        if not path.exists():
            return
        existing = self.manifest()
        if existing.get("experiment") != manifest.get("experiment"):
            raise StoreError(
                f"{self.root} holds results of experiment {existing.get('experiment')!r}, not "
                f"{manifest.get('experiment')!r}; choose another --out"
            )
        old_settings, new_settings = existing.get("settings") or {}, _plain(manifest.get("settings") or {})
        missing = object()
        keys = sorted(k for k in {*old_settings, *new_settings}
                      if old_settings.get(k, missing) != new_settings.get(k, missing))
        scale_differs = existing.get("scale") != manifest.get("scale")
        known = existing.get("runs") or {}
        wanted = {spec.run_id: spec_to_dict(spec) for spec in specs}
        altered = [rid for rid in known if wanted.get(rid) != known[rid]]  # changed or dropped held runs
        if scale_differs or (keys and altered):

            def show(settings: dict, key: str) -> str:
                return f"{key} {settings[key]!r}" if key in settings else f"no {key}"

            held = f"{existing.get('experiment')} at scale {existing.get('scale')}"
            if keys:
                held += " with " + ", ".join(show(old_settings, k) for k in keys)
            asked = ([f"scale {manifest.get('scale')}"] if scale_differs else []) + [
                show(new_settings, k) for k in keys]
            why = (f", which would change or drop runs it holds (e.g. {altered[0]!r}) — rerun with the same settings "
                   "to resume, extend it only by adding agents, seeds or costs, or choose another --out" if altered
                   else "; rerun with the same settings to resume, or choose another --out")
            raise StoreError(f"{self.root} holds {held}; this command asks {', '.join(asked)}{why}")
        old_batch, new_batch = existing.get("batch_size"), manifest.get("batch_size")
        if old_batch is not None and new_batch is not None and old_batch != new_batch:
            raise StoreError(  # a learner's floats depend on its batch: one sweep, one batch plan
                f"{self.root} was swept with --batch-size {old_batch}; resume with --batch-size {old_batch} "
                f"(this command asks {new_batch}), or choose another --out"
            )
        if altered or (not keys and set(wanted) != set(known)):
            example = (altered or sorted(set(known) ^ set(wanted)))[0]
            raise StoreError(
                f"{self.root} holds other runs than this command's (e.g. {example!r}) under the same settings "
                "(the experiment's definition changed?); choose another --out"
            )

    def open_sweep(
        self, manifest: dict[str, Any], specs: list[RunSpec], provenance: dict[str, Any] | None = None
    ) -> list[list[str]]:
        """Create the directory, or check that an existing one holds this sweep or one it extends; record the specs.

        A directory of another experiment, scale, settings or set of runs is refused (StoreError, nothing
        touched): mixing them would report one sweep's settings over another's data. Resuming keeps the
        manifest's original creation time. Returns the sweep's *parts*: the run ids of the first sweep, then of
        each extension, in order (kept in the manifest), so a sweep plans its batches part by part and runs
        already done are never replayed for an extension; a part none of whose runs has a record yet is merged
        into this command's part.

        Every call is a *session*: its ``provenance`` (default :func:`tradeoff_gym.benchmarks.provenance.collect`:
        commit, versions, host, CPU) and start time are appended to the manifest's ``sessions`` list, the latest
        is also its ``provenance``, and each run written afterwards names its session in its record. Provenance
        is never compared: a sweep resumed on another machine or commit is the same sweep.
        """
        self.check_resumable(manifest, specs)
        created, parts, sessions = None, [], []
        if (self.root / "manifest.json").exists():
            old = self.manifest()
            created = old.get("created")
            parts = old.get("parts") or [list(old.get("runs") or {})]
            sessions = [s for s in old.get("sessions") or [] if isinstance(s, dict)]
        # a part no run record was written for (its command was killed before any work) leaves no trace: its runs
        # are planned again with this command's, as a fresh sweep would plan them
        parts = [part for part in parts if any(self._paths(rid)[1].exists() for rid in part)]
        held = {rid for part in parts for rid in part}
        new = [spec.run_id for spec in specs if spec.run_id not in held]
        if new:
            parts.append(new)
        if provenance is None:
            provenance = collect_provenance()
        self.session = len(sessions)
        session = {"session": self.session, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   **provenance}
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        record = {**{k: v for k, v in manifest.items() if k not in ("sessions", "provenance")},
                  "runs": {spec.run_id: spec_to_dict(spec) for spec in specs}, "parts": parts,
                  "provenance": session, "sessions": [*sessions, session], "file_names": self.file_names()}
        if created is not None:
            record["created"] = created
        atomic_write_json(self.root / "manifest.json", record)
        return parts

    def manifest(self) -> dict[str, Any]:
        """The directory's manifest (StoreError if missing, corrupt or of the wrong shape: :func:`manifest_problem`)."""
        path = self.root / "manifest.json"
        try:
            manifest = json.loads(path.read_text())
        except (FileNotFoundError, NotADirectoryError):
            raise StoreError(f"{self.root} is not a results directory (no manifest.json)") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise StoreError(f"{path} is corrupt ({_one_line(error)}); move it away or choose another --out") from error
        except OSError as error:
            raise StoreError(f"{path} cannot be read ({error.strerror}); choose another --out") from None
        problem = manifest_problem(manifest)
        if problem:
            raise StoreError(f"{path} is corrupt ({problem}); move it away or choose another --out")
        return manifest

    # -- runs -----------------------------------------------------------------------------------
    def write_run(
        self, spec: RunSpec, frame: pd.DataFrame, seconds: float, shared_by: int = 1, cpu_seconds: float | None = None
    ) -> None:
        """Store one completed run: the Parquet file first, then its completion record.

        ``seconds`` is the wall time of the episode, or of the batch of episodes, that produced the frame, and
        ``cpu_seconds`` (when known) the worker's CPU time for it; ``shared_by`` how many runs were derived from
        that work (the batch's episodes, times the costs an exactly reused episode serves), so each run's share
        of the work is ``seconds / shared_by``.
        """
        data_path, record_path = self._paths(spec.run_id)
        data = frame_to_parquet_bytes(frame)
        atomic_write_bytes(data_path, data)
        record = {
            "spec": spec_to_dict(spec),
            "rows": len(frame),
            "sha256": hashlib.sha256(data).hexdigest(),
            "seconds": round(seconds, 4),
            "shared_by": shared_by,
            **({} if cpu_seconds is None else {"cpu_seconds": round(cpu_seconds, 4)}),
            **({} if self.session is None else {"session": self.session}),  # which manifest session wrote it
        }
        atomic_write_json(record_path, record)
        (self.failed_dir / f"{self.file_stem(spec.run_id)}.txt").unlink(missing_ok=True)

    def write_failure(self, spec: RunSpec, traceback_text: str) -> Path:
        """Record a run that raised; it is retried on the next resume."""
        path = self.failed_dir / f"{self.file_stem(spec.run_id)}.txt"
        atomic_write_bytes(path, f"run_id: {spec.run_id}\nspec: {spec_to_dict(spec)}\n\n{traceback_text}".encode())
        return path

    def failures(self) -> dict[str, str]:
        """run id -> recorded traceback, for runs whose last attempt failed."""
        if not self.failed_dir.is_dir():
            return {}
        return {
            run_id_of(path.stem): path.read_text() for path in sorted(self.failed_dir.glob("*.txt"))
        }

    def inspect(self, specs: Iterable[RunSpec]) -> tuple[set[str], dict[str, str]]:
        """Which of ``specs`` are complete and intact, and run id -> why, for every damaged one. Reads only."""
        complete: set[str] = set()
        damaged: dict[str, str] = {}
        for spec in specs:
            data_path, record_path = self._paths(spec.run_id)
            if not record_path.exists():
                if data_path.exists():
                    damaged[spec.run_id] = "data without a completion record (interrupted write)"
                continue
            problem = self._damage(spec, data_path, record_path)
            if problem:
                damaged[spec.run_id] = problem
            else:
                complete.add(spec.run_id)
        return complete, damaged

    def check(self, specs: Iterable[RunSpec]) -> tuple[set[str], list[str]]:
        """Which of ``specs`` are complete and intact, and a message for every damaged one (to be rerun).

        Reads only: nothing is deleted or modified (a sweep overwrites a damaged run when it reruns it).
        """
        complete, damaged = self.inspect(specs)
        return complete, [f"{run_id}: {why}; rerunning" for run_id, why in damaged.items()]

    def _damage(self, spec: RunSpec, data_path: Path, record_path: Path) -> str | None:
        """Why a recorded run cannot be trusted, or None if it is intact."""
        try:
            record = json.loads(record_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return "corrupt completion record"
        if not isinstance(record, dict):
            return "corrupt completion record (not a JSON object)"
        if record.get("spec") != spec_to_dict(spec):
            return "recorded with other settings"
        try:
            data = data_path.read_bytes()
        except FileNotFoundError:
            return "Parquet file missing"
        except OSError as error:
            return f"Parquet file unreadable ({_one_line(error)})"
        if hashlib.sha256(data).hexdigest() != record.get("sha256"):
            return "Parquet file does not match its recorded hash (corrupt or edited)"
        try:
            rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        except (pa.ArrowException, ValueError, OSError) as error:
            return f"Parquet file unreadable ({_one_line(error)})"
        recorded = record.get("rows")
        if rows != recorded:
            return f"Parquet file has {rows} rows, its completion record says {recorded!r}"
        return None

    def _manifest_specs(self) -> list[RunSpec]:
        return [RunSpec(**spec) for spec in (self.manifest().get("runs") or {}).values()]

    def load_run(self, run_id: str) -> pd.DataFrame:
        """One stored run's rows."""
        return pd.read_parquet(self._paths(run_id)[0])

    def read(self) -> tuple[pd.DataFrame, dict[str, str]]:
        """Every intact run's rows (manifest order) and run id -> why for every damaged run: one inspection.

        Reads only: damaged files are left as found (a resumed sweep reruns them).
        """
        specs = self._manifest_specs()
        complete, damaged = self.inspect(specs)
        wanted = [s.run_id for s in specs if s.run_id in complete]
        frame = pd.concat([self.load_run(run_id) for run_id in wanted], ignore_index=True) if wanted else pd.DataFrame()
        return frame, damaged

    def load(self) -> pd.DataFrame:
        """Every intact run's rows concatenated in manifest order."""
        return self.read()[0]

    def run_seconds(self, kind: str = "seconds") -> dict[str, float]:
        """run id -> its share of the measured worker seconds (the work's time ÷ runs derived from it).

        ``kind`` ``"seconds"`` (wall) or ``"cpu_seconds"`` (CPU; runs recorded without it are left out).
        """
        seconds = {}
        for path in self.runs_dir.glob("*.json"):
            try:
                record = json.loads(path.read_text())
                seconds[run_id_of(path.stem)] = float(record[kind]) / int(record.get("shared_by", 1))
            except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, ZeroDivisionError):
                continue
        return seconds


def _open_lock_file(path: Path, flags: int) -> IO[str]:
    """The lock file opened with ``os.open`` flags (text, unbuffered writes flushed by the caller)."""
    fd = os.open(path, flags, 0o666)
    return os.fdopen(fd, "r+" if flags & os.O_RDWR else "r")
