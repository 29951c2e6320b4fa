"""Run the ``seq_tasks`` experiment serially through the run loop and write its figures and report.

``python -m benchmarks.run_seq_tasks --scale quick --out results/seq_tasks-quick`` — the same runs as
``python -m benchmarks.cli run seq_tasks --scale quick`` (which adds a resumable store and worker processes),
in one process: every RunSpec through :func:`benchmarks.run_loop.run_episode`, then ``analyze``; writes
``frames.parquet``, the PNGs under ``figures/`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import pandas as pd
import torch

import envs  # noqa: F401  (registers the ids)
from agents.registry import make_agent
from benchmarks.experiment import RunSpec
from benchmarks.experiments import experiment_settings, load_experiment
from benchmarks.run_loop import run_episode


def run_spec(spec: RunSpec) -> pd.DataFrame:
    """One run's frame, tagged with its RunSpec's tags."""
    env = gym.make(spec.env_id, **spec.env_kwargs)
    agent = make_agent(spec.agent, env, **spec.agent_kwargs)
    frame = run_episode(env, agent, spec.seed, run_id=spec.run_id, env_id=spec.env_id)
    env.close()
    return frame.assign(**spec.tags)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run, analyse, write; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="quick", help="smoke, quick or paper (default: quick)")
    parser.add_argument("--seeds", type=int, help="replications per dimension, overriding the scale's")
    parser.add_argument("--out", default="results/seq_tasks", help="output directory")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    module = load_experiment("seq_tasks")
    settings = experiment_settings(module, args.scale, seeds=args.seeds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    for i, spec in enumerate(specs := module.runs(settings), start=1):
        start = time.perf_counter()
        frames.append(run_spec(spec))
        print(f"[{i}/{len(specs)}] {spec.run_id}: {len(frames[-1])} trials, {time.perf_counter() - start:.0f} s",
              flush=True)
    frame = pd.concat(frames, ignore_index=True)
    frame.to_parquet(out / "frames.parquet")
    lines = [f"# seq_tasks ({args.scale})", "", module.DESCRIPTION, ""]
    for item in module.analyze(frame, out / "figures"):
        lines += [f"## {item.title}", "", item.text, ""]
        lines += [f"![{item.title}]({p.relative_to(out).as_posix()})" for p in item.figures] + [""]
    (out / "report.md").write_text("\n".join(lines))
    print(f"wrote {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
