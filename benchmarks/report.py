"""Turn a results directory into ``report.md`` (and the same report as a self-contained ``report.html``).

The derived files — ``results.parquet``, ``runs.csv``, ``figures/``, ``report.md`` and ``report.html`` — tell what
the report says: every report rewrites them from the intact runs, removes the ones it has nothing for (no completed
run: no ``results.parquet``, ``runs.csv`` or ``figures/``) and replaces ``figures/`` whole (a figure an earlier report
drew and this one does not is gone). A report is written under the directory's writer lock, read and write alike, so a
report never replaces a newer one (:meth:`ResultStore.writer_lock`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from tradeoff_gym.benchmarks.analysis import (
    experiment_run_scores,
    run_summary,
    scoreboard_lines,
    setting_groups,
    setting_heading,
    setting_slug,
    statistics_lines,
)
from tradeoff_gym.benchmarks.experiment import GRID_KEY
from tradeoff_gym.benchmarks.experiments import experiment_from_manifest
from tradeoff_gym.benchmarks.html_report import render_html
from tradeoff_gym.benchmarks.provenance import describe as describe_provenance
from tradeoff_gym.benchmarks.stats import join_conditions
from tradeoff_gym.benchmarks.store import (
    HOST,
    READ_ONLY_ERRNOS,
    ResultStore,
    StoreReadOnlyError,
    atomic_write_bytes,
    temp_folder,
)


def package_version() -> str:
    """The installed tradeoff-gym version (``unknown`` when run from a bare checkout)."""
    try:
        return importlib.metadata.version("tradeoff-gym")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_report(results_dir: Path | str | ResultStore) -> Path:
    """Analyse every intact run in ``results_dir``; write results.parquet, runs.csv, figures/, report.md/.html.

    Holds the directory's writer lock while it reads and writes (re-entered when ``results_dir`` is the store of
    the sweep holding it). Raises StoreError when it is not a results directory, StoreLockedError when another
    process holds the lock, StoreReadOnlyError (nothing written) when the directory cannot be written.
    """
    store = results_dir if isinstance(results_dir, ResultStore) else ResultStore(results_dir)
    store.manifest()  # not a results directory (or a malformed manifest): refused before the lock file is made
    root = store.root
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.writer_lock("report"))
            staging = temp_folder(root, "figures")
        except OSError as error:
            if error.errno in READ_ONLY_ERRNOS:
                raise StoreReadOnlyError(f"{root} is read-only ({error.strerror})") from None
            raise
        stack.callback(shutil.rmtree, staging, True)
        store.remove_stale_temp_files()  # e.g. the figures of a report killed while it swapped them
        lines, frame, tags = _report(store, staging)
        page = render_html(lines, staging, title=lines[0].lstrip("# "))  # the same lines, figures inline
        if len(frame):
            atomic_write_bytes(root / "results.parquet", frame.to_parquet(index=False))
            atomic_write_bytes(root / "runs.csv", run_summary(frame, tags).to_csv(index=False).encode())
        else:  # nothing to analyse: no derived file may contradict "0 of N"
            (root / "results.parquet").unlink(missing_ok=True)
            (root / "runs.csv").unlink(missing_ok=True)
        _write_scores(root, store.manifest(), frame)
        _replace_folder(root / "figures", staging if any(staging.iterdir()) else None)
        path = root / "report.md"
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
        atomic_write_bytes(root / "report.html", page.encode())
    return path


def render_report(results_dir: Path | str) -> str:
    """The report's markdown as :func:`write_report` would write it now, changing nothing in ``results_dir``.

    Its figures are drawn in a temporary folder elsewhere and discarded; the text links to ``figures/`` as written.
    """
    with tempfile.TemporaryDirectory(prefix="tradeoff-report-") as figures:
        return "\n".join(_report(ResultStore(results_dir), Path(figures))[0]) + "\n"


def _write_scores(root: Path, manifest: dict, frame: pd.DataFrame) -> None:
    """``scores.npz`` (agent → per-run scores ``(n_seeds, n_conditions)``, rliable's score_dict) and
    ``scores_columns.json`` (the conditions, the seeds), written atomically; removed when nothing is scored."""
    experiment = experiment_from_manifest(manifest)
    grid = _grid_columns(manifest, frame)
    try:  # one part per env-grid setting, never pooled: its conditions are tasks of their own
        run_scores = join_conditions([(setting_heading(setting), experiment_run_scores(experiment, part))
                                      for setting, part in setting_groups(frame, grid)])
    except ValueError:  # runs the score may not pool (e.g. of several settings the experiment sweeps itself)
        run_scores = None
    if run_scores is None or not run_scores.scores:
        (root / "scores.npz").unlink(missing_ok=True)
        (root / "scores_columns.json").unlink(missing_ok=True)
        return
    atomic_write_bytes(root / "scores.npz", run_scores.npz_bytes())
    atomic_write_bytes(root / "scores_columns.json", run_scores.columns_json(getattr(experiment, "SCORE", "")))


def _replace_folder(target: Path, staging: Path | None) -> None:
    """Put ``staging`` in the place of ``target`` (or remove ``target`` when ``staging`` is None)."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}.old{secrets.token_hex(4)}.{HOST}.{os.getpid()}.tmp")
        os.rename(target, old)
    if staging is not None:
        os.rename(staging, target)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _report(store: ResultStore, figures: Path) -> tuple[list[str], pd.DataFrame, list[str]]:
    """The report's lines, the intact runs' rows and the tag columns; figures drawn into ``figures``. Reads only."""
    manifest = store.manifest()
    experiment = experiment_from_manifest(manifest)
    frame, damaged = store.read()  # one inspection: intact runs' rows, and the damaged runs left as found
    expected = len(manifest["runs"])
    failures = store.failures()
    lines = [
        f"# {manifest['experiment']} — {experiment.DESCRIPTION}",
        "",
        f"- scale: `{manifest.get('scale')}`; settings: `{manifest.get('settings')}`",
        f"- tradeoff-gym {manifest.get('package_version', 'unknown')}; runs complete: "
        f"{frame.run_id.nunique() if len(frame) else 0} of {expected}; failed: {len(failures)}",
    ]
    seconds = store.run_seconds()
    if seconds:
        total = sum(seconds.values())
        cpu = sum(store.run_seconds("cpu_seconds").values())
        lines.append(f"- compute: {total:.1f} s of worker time over {len(seconds)} runs ({total / len(seconds):.2f} s "
                     f"per run)" + (f", {cpu:.1f} s of CPU time" if cpu else ""))
    tags = [c for c in frame.columns if c in _tag_columns(manifest)]
    if not len(frame):
        lines += ["", "No completed runs to analyse."]
    else:
        lines.append("- data: `results.parquet` (one row per trial), `runs.csv` (one row per run)")
        grid = _grid_columns(manifest, frame)
        for setting, part in setting_groups(frame, grid):  # never pool runs of different env settings
            folder = figures / setting_slug(setting) if setting else figures
            folder.mkdir(parents=True, exist_ok=True)
            section = scoreboard_lines(experiment, part)  # "## Scoreboard": experiment.score(frame) and SCORE
            section += statistics_lines(experiment_run_scores(experiment, part), folder)  # IQM, P(X > Y), profiles
            for item in experiment.analyze(part, folder):
                section += ["", f"## {item.title}", ""]
                if item.text:
                    section += [item.text, ""]
                section += [f"![{item.title}](figures/{Path(path).relative_to(figures).as_posix()})"
                            for path in item.figures]
            if setting:
                lines += ["", f"## {setting_heading(setting)}", "",
                          f"The runs with {setting_heading(setting)} only ({part.run_id.nunique()} runs)."]
                section = [f"#{line}" if line.startswith("#") else
                           line.replace("](figures/", f"](figures/{setting_slug(setting)}/")
                           if "](figures/" in line and f"figures/{setting_slug(setting)}/" not in line else line
                           for line in section]
            lines += section
    if failures:
        lines += ["", "## Failed runs", "", "Rerun with the same command to retry them; tracebacks in `failed/`.", ""]
        lines += [f"- `{run_id}`: {text.strip().splitlines()[-1]}" for run_id, text in failures.items()]
    if damaged:
        lines += ["", "## Damaged runs", "", "Their files were found damaged and are left out of this report "
                  "(and left as found); rerun the same command to rerun them.", ""]
        lines += [f"- `{run_id}`: {why}" for run_id, why in damaged.items()]
    lines += provenance_lines(manifest)
    return lines, frame, tags


def provenance_lines(manifest: dict) -> list[str]:
    """The report's "Provenance" section: one line per session (sweep call) that wrote into the directory."""
    sessions = [s for s in manifest.get("sessions") or [] if isinstance(s, dict)]
    if not sessions:
        return ["", "## Provenance", "", "Not recorded (swept by a version that did not record it)."]
    lines = ["", "## Provenance", "", "Each sweep call that wrote into this directory (a resumed sweep adds one; "
             "each run's record in `runs/` names its session):", ""]
    for session in sessions:
        lines.append(f"- session {session.get('session', '?')}, started {session.get('started', '?')}: "
                     f"{describe_provenance(session)}")
    return lines


def _grid_columns(manifest: dict, frame: pd.DataFrame) -> list[str]:
    """The env-grid settings of the sweep that the results have as columns: the report splits by them."""
    return [c for c in (manifest.get("settings") or {}).get(GRID_KEY) or {} if c in frame.columns]


def _tag_columns(manifest: dict) -> set[str]:
    return {key for spec in manifest["runs"].values() for key in spec.get("tags", {})}
