"""Turn a results directory into ``report.md`` with the experiment's tables and figures embedded."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from tradeoff_gym.benchmarks.analysis import run_summary, scoreboard_lines
from tradeoff_gym.benchmarks.experiments import load_experiment
from tradeoff_gym.benchmarks.provenance import describe as describe_provenance
from tradeoff_gym.benchmarks.store import ResultStore, atomic_write_bytes


def package_version() -> str:
    """The installed tradeoff-gym version (``unknown`` when run from a bare checkout)."""
    try:
        return importlib.metadata.version("tradeoff-gym")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_report(results_dir: Path | str) -> Path:
    """Analyse every intact run in ``results_dir``; write results.parquet, runs.csv, figures/ and report.md."""
    store = ResultStore(results_dir)
    manifest = store.manifest()
    experiment = load_experiment(manifest["experiment"])
    root = store.root
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
    if not len(frame):
        lines += ["", "No completed runs to analyse."]
    else:
        tags = [c for c in frame.columns if c in _tag_columns(manifest)]
        atomic_write_bytes(root / "results.parquet", frame.to_parquet(index=False))
        atomic_write_bytes(root / "runs.csv", run_summary(frame, tags).to_csv(index=False).encode())
        lines.append("- data: `results.parquet` (one row per trial), `runs.csv` (one row per run)")
        lines += scoreboard_lines(experiment, frame)  # "## Scoreboard": experiment.score(frame) and SCORE
        for item in experiment.analyze(frame, root / "figures"):
            lines += ["", f"## {item.title}", ""]
            if item.text:
                lines += [item.text, ""]
            lines += [f"![{item.title}]({path.relative_to(root).as_posix()})" for path in item.figures]
    if failures:
        lines += ["", "## Failed runs", "", "Rerun with the same command to retry them; tracebacks in `failed/`.", ""]
        lines += [f"- `{run_id}`: {text.strip().splitlines()[-1]}" for run_id, text in failures.items()]
    if damaged:
        lines += ["", "## Damaged runs", "", "Their files were found damaged and are left out of this report "
                  "(and left as found); rerun the same command to rerun them.", ""]
        lines += [f"- `{run_id}`: {why}" for run_id, why in damaged.items()]
    lines += provenance_lines(manifest)
    path = root / "report.md"
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


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


def _tag_columns(manifest: dict) -> set[str]:
    return {key for spec in manifest["runs"].values() for key in spec.get("tags", {})}
