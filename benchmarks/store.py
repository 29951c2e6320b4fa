"""The result store: one Parquet file per run, written atomically, checked on every resume.

Layout of a results directory (every file opens without this package)::

    manifest.json          experiment, scale, settings, package version, run specs
    runs/<run>.parquet     one run's rows (one per trial)
    runs/<run>.json        its completion record: spec, row count, sha256 of the Parquet file, seconds
    failed/<run>.txt       the traceback of a run that raised (rerun on resume)
    results.parquet        every completed run, concatenated (rewritten at the end of a sweep)
    runs.csv               one line per completed run: spec, reward rate, serial share, seconds

A run counts as complete only when its record exists and the Parquet file matches the record's row
count and hash; anything else (a torn, truncated, edited or orphaned file) is reported and rerun.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.experiment import RunSpec


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader (or a crash) never sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, payload: Any) -> None:
    """Atomically write ``payload`` as indented JSON."""
    atomic_write_bytes(path, (json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n").encode())


def frame_to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Serialise a frame to Parquet in memory (so it can be hashed and written atomically)."""
    return frame.to_parquet(index=False, engine="pyarrow")


def spec_to_dict(spec: RunSpec) -> dict[str, Any]:
    """A RunSpec as JSON-able plain data (round-trips through JSON unchanged)."""
    return json.loads(json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str))


class StoreError(RuntimeError):
    """The results directory cannot be used for this sweep (says why and what to do)."""


class ResultStore:
    """Reads and writes one results directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.failed_dir = self.root / "failed"

    # -- naming ---------------------------------------------------------------------------------
    @staticmethod
    def file_stem(run_id: str) -> str:
        """A reversible, filesystem-safe file name for a run id (``fig5/12`` -> ``fig5%2F12``)."""
        return urllib.parse.quote(run_id, safe="")

    def _paths(self, run_id: str) -> tuple[Path, Path]:
        stem = self.file_stem(run_id)
        return self.runs_dir / f"{stem}.parquet", self.runs_dir / f"{stem}.json"

    # -- manifest -------------------------------------------------------------------------------
    def open_sweep(self, manifest: dict[str, Any], specs: list[RunSpec]) -> None:
        """Create the directory, or check that an existing one holds the same sweep, and record the specs.

        A directory whose runs were made with different specs under the same run ids is refused: mixing
        them would silently combine two experiments.
        """
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.root / "manifest.json"
        wanted = {spec.run_id: spec_to_dict(spec) for spec in specs}
        if path.exists():
            try:
                existing = json.loads(path.read_text())
                known = existing.get("runs", {})
            except (json.JSONDecodeError, AttributeError) as error:
                raise StoreError(f"{path} is corrupt ({error}); move it away or choose another --out") from error
            if existing.get("experiment") != manifest.get("experiment"):
                raise StoreError(
                    f"{self.root} holds results of experiment {existing.get('experiment')!r}, not "
                    f"{manifest.get('experiment')!r}; choose another --out"
                )
            clashes = [rid for rid, spec in wanted.items() if rid in known and known[rid] != spec]
            if clashes:
                raise StoreError(
                    f"{self.root} holds runs with the same ids but other settings (e.g. {clashes[0]!r}); "
                    "choose another --out to run a different sweep"
                )
            wanted = {**known, **wanted}
        atomic_write_json(path, {**manifest, "runs": wanted})

    def manifest(self) -> dict[str, Any]:
        """The directory's manifest (raises StoreError if missing or corrupt)."""
        path = self.root / "manifest.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise StoreError(f"{self.root} is not a results directory (no manifest.json)") from None
        except json.JSONDecodeError as error:
            raise StoreError(f"{path} is corrupt ({error})") from error

    # -- runs -----------------------------------------------------------------------------------
    def write_run(self, spec: RunSpec, frame: pd.DataFrame, seconds: float, shared_by: int = 1) -> None:
        """Store one completed run: the Parquet file first, then its completion record.

        ``seconds`` is the wall time of the episode that produced the frame; ``shared_by`` how many runs
        were derived from that one episode (exact reuse), so each run's share of the work is
        ``seconds / shared_by``.
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
        if not self.failed_dir.exists():
            return {}
        return {
            urllib.parse.unquote(path.stem): path.read_text() for path in sorted(self.failed_dir.glob("*.txt"))
        }

    def check(self, specs: Iterable[RunSpec]) -> tuple[set[str], list[str]]:
        """Which of ``specs`` are complete and intact, and a message for every damaged one found.

        Leftover temporary files of an interrupted write are removed.
        """
        for leftover in self.runs_dir.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        complete: set[str] = set()
        problems: list[str] = []
        for spec in specs:
            data_path, record_path = self._paths(spec.run_id)
            if not record_path.exists():
                if data_path.exists():
                    problems.append(f"{spec.run_id}: data without a completion record (interrupted); rerunning")
                continue
            problem = self._damage(spec, data_path, record_path)
            if problem:
                problems.append(f"{spec.run_id}: {problem}; rerunning")
                record_path.unlink(missing_ok=True)
            else:
                complete.add(spec.run_id)
        return complete, problems

    def _damage(self, spec: RunSpec, data_path: Path, record_path: Path) -> str | None:
        """Why a recorded run cannot be trusted, or None if it is intact."""
        try:
            record = json.loads(record_path.read_text())
        except json.JSONDecodeError:
            return "corrupt completion record"
        if record.get("spec") != spec_to_dict(spec):
            return "recorded with other settings"
        try:
            data = data_path.read_bytes()
        except FileNotFoundError:
            return "Parquet file missing"
        if hashlib.sha256(data).hexdigest() != record.get("sha256"):
            return "Parquet file does not match its recorded hash (corrupt or edited)"
        return None

    def load_run(self, run_id: str) -> pd.DataFrame:
        """One stored run's rows."""
        return pd.read_parquet(self._paths(run_id)[0])

    def load(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Completed runs' rows concatenated in manifest order (default: every intact run)."""
        specs = [RunSpec(**spec) for spec in self.manifest()["runs"].values()]
        complete, _ = self.check(specs)
        wanted = [s.run_id for s in specs if s.run_id in complete and (run_ids is None or s.run_id in set(run_ids))]
        if not wanted:
            return pd.DataFrame()
        return pd.concat([self.load_run(run_id) for run_id in wanted], ignore_index=True)

    def run_seconds(self) -> dict[str, float]:
        """run id -> its share of the measured worker seconds (episode time ÷ runs derived from it)."""
        seconds = {}
        for path in self.runs_dir.glob("*.json"):
            try:
                record = json.loads(path.read_text())
                seconds[urllib.parse.unquote(path.stem)] = float(record["seconds"]) / int(record.get("shared_by", 1))
            except (json.JSONDecodeError, KeyError, ValueError, ZeroDivisionError):
                continue
        return seconds
