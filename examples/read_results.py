"""Read a results directory with plain pandas: the manifest, per-run files, the concatenated frame, runs.csv.

What it shows — every file of a results directory opens without this package (JSON, Parquet, CSV):

* ``manifest.json``: the experiment, scale and settings, every run's spec, and the provenance of each sweep
  call that wrote into it (commit, library versions, host, CPU);
* ``runs/<run>.parquet`` (one row per trial) and ``runs/<run>.json`` (its completion record);
* ``results.parquet`` (every completed run concatenated, tags such as ``cost`` as columns) and ``runs.csv``
  (one row per run), written by the report;
* a few analyses: reward rate per agent and cost, the serial share over the episode.

Run it::

    python examples/read_results.py results/fig5-quick   # any results directory
    python examples/read_results.py                      # sweeps a small sagiv2018 sweep into results/read-example
    python examples/read_results.py --tiny               # an even smaller one (CI); or TRADEOFF_EXAMPLES_TINY=1
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd


def make_results(out: Path, tiny: bool) -> None:
    """A small sagiv2018 sweep into ``out`` through the CLI's Python entry point (same as ``tradeoff-bench run``)."""
    from tradeoff_gym.benchmarks.cli import main

    agents = "serial,parallel,ucb1" if tiny else "serial,parallel,ucb1,sagiv,meta-learner"
    midpoints = "[400]" if tiny else "[200, 600]"
    argv = ["run", "sagiv2018", "--scale", "smoke", "--agents", agents, "--set", f"parallel_midpoints={midpoints}",
            "--jobs", "1", "--no-progress", "--out", str(out)]
    print("$ tradeoff-bench " + " ".join(argv))
    if main(argv) != 0:
        raise SystemExit("the sweep failed")


def read(results: Path) -> pd.DataFrame:
    """Print what a results directory holds; return its concatenated frame (one row per trial)."""
    manifest = json.loads((results / "manifest.json").read_text())
    print(f"\nmanifest.json: experiment {manifest['experiment']!r}, scale {manifest['scale']!r}, "
          f"{len(manifest['runs'])} runs\n  settings: {manifest['settings']}")
    run_id, spec = next(iter(manifest["runs"].items()))
    print(f"  a run's spec: {run_id} -> {spec}")
    for session in manifest.get("sessions", []):
        versions = ", ".join(f"{k} {v}" for k, v in session["versions"].items())
        print(f"  session {session['session']} ({session['started']}): commit {session['commit']}, dirty "
              f"{session['dirty']}, host {session['host']}, CPU {session['cpu']}, Python {session['python']}, "
              f"{versions}")

    run_files = sorted((results / "runs").glob("*.parquet"))
    one = pd.read_parquet(run_files[0])
    record = json.loads(run_files[0].with_suffix(".json").read_text())
    print(f"\nruns/: {len(run_files)} Parquet files; {run_files[0].name}: {len(one)} rows; its record: "
          f"rows {record['rows']}, seconds {record['seconds']}, sha256 {record['sha256'][:12]}…")

    path = results / "results.parquet"
    frame = pd.read_parquet(path) if path.exists() else pd.concat(map(pd.read_parquet, run_files), ignore_index=True)
    print(f"\nresults.parquet: {len(frame)} rows × {frame.shape[1]} columns\n{frame.dtypes.to_string()}")
    print(f"\nfirst rows:\n{frame.head(3).to_string()}")

    if (results / "runs.csv").exists():
        runs = pd.read_csv(results / "runs.csv")
        print(f"\nruns.csv: {len(runs)} rows, columns {list(runs.columns)}")
    return frame


def analyse(frame: pd.DataFrame) -> None:
    """Reward rate per agent (and per cost, when swept); serial share in five parts of the episode."""
    by = ["agent", "cost"] if "cost" in frame else ["agent"]
    rate = frame.groupby(by).reward.mean().unstack(by[1:]) if len(by) > 1 else frame.groupby(by).reward.mean()
    print(f"\nmean reward per trial:\n{rate.round(3).to_string()}")
    part = pd.cut(frame.trial, 5, labels=[f"{i * 20}-{i * 20 + 20}%" for i in range(5)])
    share = frame.groupby(["agent", part], observed=True).serial.mean().unstack()
    print(f"\nserial share over the episode:\n{share.round(2).to_string()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, help="a results directory (default: make a small one)")
    parser.add_argument("--out", type=Path, default=Path("results/read-example"),
                        help="where to make the small results directory when none is given")
    parser.add_argument("--tiny", action="store_true", help="make a seconds-long one (CI)")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("TRADEOFF_EXAMPLES_TINY") == "1"
    results = args.results
    if results is None:
        results = args.out
        make_results(results, tiny)
    if not (results / "manifest.json").is_file():
        raise SystemExit(f"{results} is not a results directory (no manifest.json)")
    analyse(read(results))


if __name__ == "__main__":
    main()
