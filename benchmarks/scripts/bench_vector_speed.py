"""Speed of the native SerialParallel vector env vs the single env: trials per second per core, mixed actions.

Both run in the same process with one torch thread (one core), on the default (paper) settings, each step's
actions drawn at random per sub-env (serial and parallel mixed in every step). Single-env and vector-env blocks
alternate, so both see the same machine load; a figure is the best block, the ratio also the median of paired
blocks. The single env is always measured on the CPU (the reference the target is stated against); ``--device``
moves the vector env (``cuda`` when one is available: K = 64 and 256 by default there).

    python -m tradeoff_gym.benchmarks.scripts.bench_vector_speed --trials 50 --k 16 --device cpu
    python -m tradeoff_gym.benchmarks.scripts.bench_vector_speed --trials 50 --k 1 4 16 64
    python -m tradeoff_gym.benchmarks.scripts.bench_vector_speed --device cuda
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import gymnasium as gym
import numpy as np
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids and their vector entry points)

ENV_ID = "tradeoff/SerialParallel-v0"


def single_rate(env: gym.Env, rng: np.random.Generator, trials: int) -> float:
    """Trials per second of the single env over ``trials`` steps with random actions."""
    actions = rng.integers(env.action_space.n, size=trials)
    start = time.perf_counter()
    for a in actions:
        env.step(int(a))
    return trials / (time.perf_counter() - start)


def vector_rate(vec: gym.vector.VectorEnv, rng: np.random.Generator, steps: int) -> float:
    """Trials per second of the vector env (K per step) over ``steps`` steps with random mixed actions."""
    actions = rng.integers(vec.single_action_space.n, size=(steps, vec.num_envs))
    start = time.perf_counter()
    for a in actions:
        vec.step(a)
    return steps * vec.num_envs / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="steps per timed block (each env, each K)")
    parser.add_argument("--k", type=int, nargs="+", default=None, help="numbers of sub-envs (default 1 4 16 64; "
                        "64 256 on cuda)")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per K (best is reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: per-core figures)")
    parser.add_argument("--device", default="cpu", help="torch device of the vector env ('cpu', 'cuda')")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: CUDA is not available here")
    ks = args.k or ([64, 256] if args.device.startswith("cuda") else [1, 4, 16, 64])
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpu = f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""
    print(f"torch {torch.__version__}, {args.threads} thread(s), vector env on {args.device}{gpu}, "
          f"load average {load:.2f} on {os.cpu_count()} cores; {args.trials} steps a block, {args.blocks} blocks")

    horizon = 10 + (args.blocks + 1) * args.trials  # no episode ends while timing
    settings = dict(horizon=horizon, threads=args.threads)
    rng = np.random.default_rng(0)
    single = gym.make(ENV_ID, **settings)
    single.reset(seed=0)
    single_rate(single, rng, 10)  # warm-up
    single_blocks: list[float] = []
    for k in ks:
        vec = gym.make_vec(ENV_ID, num_envs=k, vectorization_mode="vector_entry_point", device=args.device,
                           **settings)
        vec.reset(seed=0)
        vector_rate(vec, rng, 3)  # warm-up (allocator, first optimizer steps)
        pairs = []
        for _ in range(args.blocks):  # interleaved: both see the same machine load
            s = single_rate(single, rng, args.trials)
            v = vector_rate(vec, rng, args.trials)
            pairs.append((s, v))
        single_blocks += [s for s, _ in pairs]
        best_single, best_vector = max(s for s, _ in pairs), max(v for _, v in pairs)
        median = float(np.median([v / s for s, v in pairs]))
        print(f"K = {k:4d}: vector env {best_vector:8.1f} trials/s ({best_vector / k:6.2f} steps/s)   "
              f"single env {best_single:6.1f} trials/s   ratio {best_vector / best_single:5.2f}x (best/best), "
              f"{median:5.2f}x (median of {args.blocks} paired blocks)")
        vec.close()
        single.reset(seed=0)  # keep the single env's episode short of its horizon
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux → GiB
    print(f"single env over all blocks: best {max(single_blocks):.1f}, median {np.median(single_blocks):.1f} trials/s; "
          f"peak resident memory {peak:.2f} GiB")


if __name__ == "__main__":
    main()
