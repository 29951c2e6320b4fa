"""Play the calibration schedules of the coupled-learner surrogate on a SerialParallel world; keep per-trial accuracies.

``tradeoff/CoupledCurves-v0`` (:mod:`tradeoff_gym.envs.coupled_curves`) is fitted to what fixed schedules do on a
neural world. This script plays them on the vector env, every schedule of one seed in one lockstep batch (seed
``s`` is the run loop's root seed ``s``, so all of a seed's schedules share its world, data stream and initial
network), at c = 0 (every schedule here reads no rewards, so its trajectory does not depend on c; any cost is an
exact re-discount of it, docs/science/reward.md). Schedules (``T`` a trial index):

* ``serial``, ``parallel``: the fixed strategies (agents ``serial``, ``parallel``);
* ``sp@T``: serial for the first T trials, then parallel; ``ps@T``: parallel, then serial from trial T (the
  ``two-phase`` agent; ``ps@T`` is the look rules' SWITCH@T);
* ``stay@T``: parallel with one serial trial at T (the look rules' STAY@T,
  :class:`tradeoff_gym.benchmarks.scripts.look_frontier.LookSchedule`).

Each seed's batch is saved as it ends (``OUT.seed<s>.npz``), so a stopped run resumes; at the end all seeds are
merged into ``OUT`` (npz): ``accuracy`` ``(seeds, schedules, τ)`` float32 mean raw accuracy per trial (the
reward at c = 0), ``task_accuracy`` ``(seeds, schedules, τ, n_tasks)`` float16, ``action`` ``(seeds, schedules, τ)``
int8 (the strategy index), ``schedules`` names, ``seeds``, ``horizon``, ``settings`` (the env settings, JSON),
``serial_flags``. The world is ``--env-settings`` (a JSON object or a path to a JSON file: any settings
``gym.make("tradeoff/SerialParallel-v0", ...)`` takes, e.g. ``{"preset": "balanced"}`` or a family world's
``{"family": "sp-mixed", "world": 3}``). See docs/environments/coupled-curves.md.

    nice -n 10 python -m tradeoff_gym.benchmarks.scripts.coupled_data --horizon 5000 --seeds 0-2 \\
        --out results/coupled/default_h5000.npz
    python -m tradeoff_gym.benchmarks.scripts.coupled_data --env-settings '{"preset": "balanced"}' \\
        --horizon 2000 --seeds 0-3 --sp 250,500 --ps 500,1000 --stay 500 --out results/coupled/balanced.npz
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from tradeoff_gym import envs
from tradeoff_gym.agents.base import BaseAgent
from tradeoff_gym.agents.baselines import TwoPhaseAgent
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episodes
from tradeoff_gym.benchmarks.scripts.look_frontier import LookSchedule

ENV_ID = "tradeoff/SerialParallel-v0"


def schedule_names(sp: Sequence[int], ps: Sequence[int], stay: Sequence[int]) -> list[str]:
    """The schedules played, in the file's order: serial, parallel, sp@T…, ps@T…, stay@T…."""
    return ["serial", "parallel", *(f"sp@{t}" for t in sp), *(f"ps@{t}" for t in ps), *(f"stay@{t}" for t in stay)]


def schedule_agent(name: str, horizon: int, env: Any) -> BaseAgent:
    """The agent that plays schedule ``name`` (see the module doc) in an episode of ``horizon`` trials."""
    kind, _, at = name.partition("@")
    if kind in ("serial", "parallel") and not at:
        return make_agent(kind, env)
    if kind in ("sp", "ps") and at:
        first, then = ("serial", "parallel") if kind == "sp" else ("parallel", "serial")
        return TwoPhaseAgent(first, then, switch=int(at) / horizon)
    if kind == "stay" and at:
        return LookSchedule(name)
    raise ValueError(f"schedule must be serial, parallel, sp@T, ps@T or stay@T, got {name!r}")


def play_seed(settings: dict[str, Any], names: Sequence[str], seed: int, horizon: int) -> dict[str, np.ndarray]:
    """Every schedule of ``names`` from root seed ``seed`` at c = 0, one vector batch; arrays ``(schedules, τ, …)``."""
    vector = gym.make_vec(ENV_ID, num_envs=len(names), vectorization_mode="vector_entry_point",
                          **{**settings, "horizon": horizon, "cost": 0.0})
    agents = [schedule_agent(name, horizon, vector.sub_env(k)) for k, name in enumerate(names)]
    frames = run_episodes(vector, agents, [seed] * len(names), agent_names=list(names), env_id=ENV_ID)
    serial_flags = [bool(s.serial) for s in vector.unwrapped.config.strategies]
    vector.close()
    frames = [frame.sort_values("trial") for frame in frames]
    tasks = [c for c in frames[0].columns if c.startswith("task_reward_")]
    return {
        "accuracy": np.stack([f.raw_accuracy.to_numpy(np.float32) for f in frames]),
        "task_accuracy": np.stack([f[tasks].to_numpy(np.float16) for f in frames]),  # c = 0: rewards = accuracies
        "action": np.stack([f.action.to_numpy(np.int8) for f in frames]),
        "serial_flags": np.asarray(serial_flags),
    }


def parse_settings(text: str) -> dict[str, Any]:
    """``--env-settings``: a JSON object, or a path to a file holding one."""
    path = Path(text)
    raw = path.read_text() if not text.lstrip().startswith("{") and path.exists() else text
    try:
        settings = json.loads(raw)
    except json.JSONDecodeError:
        raise SystemExit(f"--env-settings must be a JSON object or a JSON file, got {text!r}") from None
    if not isinstance(settings, dict):
        raise SystemExit(f"--env-settings must be a JSON object, got {settings!r}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


def parse_ints(text: str, option: str) -> list[int]:
    """``500,1000`` → [500, 1000]; empty → []."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"{option} must be comma-separated trial numbers, got {text!r}") from None


def parse_seeds(text: str) -> list[int]:
    """``0-2`` → 0, 1, 2; ``3`` → 0, 1, 2."""
    first, dash, last = text.partition("-")
    try:
        return list(range(int(first), int(last) + 1)) if dash else list(range(int(first)))
    except ValueError:
        raise SystemExit(f"--seeds must be a count (3) or a range (0-2), got {text!r}") from None


def main(argv: list[str] | None = None) -> None:
    """Play what is missing, seed by seed, then merge."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-settings", default="{}", help="SerialParallel settings: JSON object or file")
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--sp", default="250,500,1000,2000", help="serial-then-parallel switch trials")
    parser.add_argument("--ps", default="250,500,900,1500,2500,3500", help="parallel-then-serial switch trials")
    parser.add_argument("--stay", default="500,900,1500,2500", help="one serial look at these trials")
    parser.add_argument("--out", required=True, help="the merged .npz")
    args = parser.parse_args(argv)
    settings = parse_settings(args.env_settings)
    envs.check_settings(ENV_ID, **{**settings, "horizon": args.horizon, "cost": 0.0})
    names = schedule_names(*(parse_ints(getattr(args, o), f"--{o}") for o in ("sp", "ps", "stay")))
    if any(not 0 < int(n.partition("@")[2]) < args.horizon for n in names if "@" in n):
        raise SystemExit(f"every switch/look trial must lie in (0, horizon={args.horizon})")
    seeds = parse_seeds(args.seeds)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = []
    for seed in seeds:
        part = out.with_name(f"{out.stem}.seed{seed}.npz")
        parts.append(part)
        if part.exists():
            continue
        start = time.perf_counter()
        arrays = play_seed(settings, names, seed, args.horizon)
        temporary = part.with_name(part.name + ".tmp.npz")
        np.savez(temporary, **arrays)
        temporary.replace(part)  # a stopped run never leaves a half-written seed behind
        seconds = time.perf_counter() - start
        trials = len(names) * args.horizon
        print(f"seed {seed}: {len(names)} schedules × τ = {args.horizon} in {seconds:.0f} s "
              f"({trials / seconds:.0f} trials/s) → {part}", flush=True)
    loaded = [dict(np.load(p)) for p in parts]
    merged = {key: np.stack([d[key] for d in loaded]) for key in ("accuracy", "task_accuracy", "action")}
    temporary = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(temporary, **merged, serial_flags=loaded[0]["serial_flags"], schedules=np.asarray(names),
                        seeds=np.asarray(seeds), horizon=np.asarray(args.horizon),
                        settings=np.asarray(json.dumps(settings)))
    temporary.replace(out)
    print(f"{out}: {len(seeds)} seeds × {len(names)} schedules × τ = {args.horizon}")


if __name__ == "__main__":
    main()
