"""Speed of tradeoff/SerialParallel-v0: ms per serial and per parallel trial, and the ratio to raw PyTorch.

The raw floor is the same network (same seed, same initial weights) trained with plain
forward + cross-entropy + backward + optimizer step on the same batches with the same passes, data
pre-generated and targets pre-built: what the env costs beyond that (data generation, scoring, the
summary observation, ``info``) is the env overhead. Timings are the best of several blocks (robust to a
shared machine's load).

    python -m benchmarks.bench_serial_parallel_speed --trials 200
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import torch
import torch.nn.functional as F

import envs  # noqa: F401  (registers the ids)
from learners.tasks import OUTPUTS, PARALLEL_SCHEDULE, SERIAL_SCHEDULE, TASKS, Schedule, task_vector
from learners.trial import TaskLearner


def env_ms(env: gym.Env, action: int, trials: int, blocks: int) -> float:
    """Best-of-``blocks`` ms per ``env.step(action)``."""
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(trials):
            env.step(action)
        best = min(best, (time.perf_counter() - start) / trials * 1e3)
    return best


def raw_ms(learner: TaskLearner, schedule: Schedule, trials: int, blocks: int) -> float:
    """Best-of-``blocks`` ms per trial of bare forward/backward/step over pre-generated batches."""
    batches = [learner.next_batch() for _ in range(trials)]
    net, opt = learner.network, learner.optimizer
    passes = []
    for tasks in schedule:
        heads = {TASKS[t].output: t for t in tasks}
        passes.append((task_vector(tasks, learner.device), heads.get(OUTPUTS[0]), heads.get(OUTPUTS[1])))
    targets = []
    for b in batches:
        per_pass = []
        for _, loc_t, obj_t in passes:
            n = len(b)
            loc = b.labels[:, loc_t] if loc_t is not None else torch.full((n,), net.n_location_classes - 1)
            obj_null = net.head_w.shape[0] - net.n_location_classes - 1
            obj = b.labels[:, obj_t] if obj_t is not None else torch.full((n,), obj_null)
            per_pass.append((loc, obj))
        targets.append(per_pass)
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for b, per_pass in zip(batches, targets):
            for (x_t, _, _), (loc_y, obj_y) in zip(passes, per_pass):
                loc, obj, _ = net(b.gps, b.image, x_t)
                loss = F.cross_entropy(loc, loc_y) + F.cross_entropy(obj, obj_y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        best = min(best, (time.perf_counter() - start) / trials * 1e3)
    return best


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per timed block")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks (best is reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: shared machine)")
    parser.add_argument("--device", default="cpu", help="torch device for the learner")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {args.device}, "
          f"load average {load:.2f} on {os.cpu_count()} cores")

    env = gym.make("tradeoff/SerialParallel-v0", device=args.device)
    env.reset(seed=0)
    for _ in range(20):  # warm-up (allocator, first optimizer steps)
        env.step(0)
        env.step(1)
    results = {}
    for name, action, schedule in (("serial", 0, SERIAL_SCHEDULE), ("parallel", 1, PARALLEL_SCHEDULE)):
        ms_env = env_ms(env, action, args.trials, args.blocks)
        learner = TaskLearner(env.unwrapped.config.learner, seed=0)
        raw_ms(learner, schedule, 20, 1)  # warm-up
        ms_raw = raw_ms(learner, schedule, args.trials, args.blocks)
        results[name] = (ms_env, ms_raw)
        print(f"{name:>8} trial: env {ms_env:6.2f} ms   raw forward+backward+step {ms_raw:6.2f} ms   "
              f"ratio {ms_env / ms_raw:.3f}")
    per_episode = results["serial"][0] * env.unwrapped.config.horizon / 1e3
    print(f"an all-serial episode of τ = {env.unwrapped.config.horizon} trials: ≈ {per_episode:.0f} s")
    samples = 32 * 256
    world, gen = env.unwrapped.learner.world, torch.Generator().manual_seed(0)
    world.sample(samples, gen)
    start = time.perf_counter()
    world.sample(samples, gen)
    print(f"drone world: {samples / (time.perf_counter() - start):,.0f} samples/s")


if __name__ == "__main__":
    main()
