"""Your own agent in a benchmark sweep through the CLI, beside built-in agents; then read its report.

What it shows:

* ``tradeoff-bench run sagiv2018 --agents my_agents:GreedyEMA,ucb1,serial,parallel ...``: a user's agent class
  (``examples/my_agents.py``) named ``module:Class``; the CLI imports it from the current directory, so the
  command runs from the folder that holds ``my_agents.py``;
* the results directory: ``report.md`` (scoreboard, figures, provenance), ``runs.csv``, ``results.parquet``;
* resuming: the same command again skips every complete run.

Run it (from anywhere; it runs the CLI in this file's folder)::

    python examples/agent_in_sweep.py                       # 3 seeds × 3 costs × 2 midpoints (~half a minute)
    python examples/agent_in_sweep.py --tiny --out /tmp/s   # 1 seed, 1 cost (CI); or TRADEOFF_EXAMPLES_TINY=1

The equivalent shell command, from ``examples/``::

    tradeoff-bench run sagiv2018 --agents my_agents:GreedyEMA,ucb1,serial,parallel --seeds 1 --costs 0.1 \\
        --set 'parallel_midpoints=[400]' --out results/my-agent-sweep
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent  # holds my_agents.py


def sweep_command(out: Path, tiny: bool, jobs: int) -> list[str]:
    """The ``tradeoff-bench run`` arguments of this example's sweep."""
    seeds, costs, midpoints = ("1", "0.1", "[400]") if tiny else ("3", "0.05,0.15,0.3", "[200, 600]")
    return ["run", "sagiv2018", "--agents", "my_agents:GreedyEMA,ucb1,serial,parallel", "--seeds", seeds,
            "--costs", costs, "--set", f"parallel_midpoints={midpoints}", "--jobs", str(jobs), "--no-progress",
            "--out", str(out)]


def run_cli(args: list[str]) -> str:
    """Run ``tradeoff-bench <args>`` (this interpreter's, from :data:`HERE`); return its output, fail loudly."""
    print("$ tradeoff-bench " + " ".join(args))
    done = subprocess.run([sys.executable, "-m", "tradeoff_gym.benchmarks.cli", *args], cwd=HERE,
                          capture_output=True, text=True)
    print(done.stdout.strip())
    if done.returncode != 0:
        raise SystemExit(f"tradeoff-bench exited with {done.returncode}:\n{done.stderr}")
    return done.stdout


def section(markdown: str, title: str) -> str:
    """The text of one ``## title`` section of a markdown report."""
    body = markdown.split(f"## {title}", 1)[1]
    return f"## {title}" + body.split("\n## ", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a seconds-long sweep (CI)")
    parser.add_argument("--out", type=Path, default=Path("results/my-agent-sweep"), help="results directory")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("TRADEOFF_EXAMPLES_TINY") == "1"
    out = args.out.resolve()  # relative to where you ran this script, not to examples/

    command = sweep_command(out, tiny, 1 if tiny else args.jobs)
    run_cli(command)
    report = (out / "report.md").read_text()
    print("\n" + section(report, "Scoreboard").strip())

    runs = pd.read_csv(out / "runs.csv")  # one row per run
    print(f"\nruns.csv: {len(runs)} runs, columns {list(runs.columns)}")
    value = "reward_rate" if "reward_rate" in runs else "reward"
    print(runs.pivot_table(index="agent", columns="cost", values=value, aggfunc="mean").round(3).to_string())

    print("\nthe same command again resumes (complete runs are skipped):")
    run_cli(command)
    print(f"\nreport: {out / 'report.md'}")


if __name__ == "__main__":
    main()
