"""Speed of tradeoff/SerialParallel-v0: ms per serial and per parallel trial, and the ratio to raw PyTorch.

The raw floor is the same network (same seed, same initial weights) trained with plain
forward + cross-entropy + backward + optimizer step on the same batches with the same passes, data
pre-generated and targets pre-built: what the env costs beyond that (data generation, scoring, the
summary observation, ``info``) is the env overhead. Env and raw blocks alternate, so both see the same
machine load; times are the best block, the ratio also the median of paired blocks.

    python -m tradeoff_gym.benchmarks.scripts.bench_serial_parallel_speed --trials 200
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import torch
import torch.nn.functional as F

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.learners.tasks import OUTPUTS, PARALLEL_SCHEDULE, SERIAL_SCHEDULE, TASKS, Schedule, task_vector
from tradeoff_gym.learners.trial import LearnerConfig, LearnerParts


def env_ms(env: gym.Env, action: int, trials: int) -> float:
    """ms per ``env.step(action)`` over ``trials`` steps."""
    start = time.perf_counter()
    for _ in range(trials):
        env.step(action)
    return (time.perf_counter() - start) / trials * 1e3


class RawTrainer:
    """The floor: the same network (a learner's parts from the same seed), ``torch.optim.Adam(fused=True)``, bare
    forward/cross-entropy/backward/step per pass."""

    def __init__(self, config: LearnerConfig, seed: int, schedule: Schedule) -> None:
        self.parts = LearnerParts(config, seed)
        net = self.network = self.parts.network
        self.optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, fused=True)
        self.passes = []
        for tasks in schedule:
            heads = {TASKS[t].output: t for t in tasks}
            self.passes.append((task_vector(tasks), heads.get(OUTPUTS[0]), heads.get(OUTPUTS[1])))
        self.loc_null = net.n_location_classes - 1
        self.obj_null = net.head_w.shape[0] - net.n_location_classes - 1

    def prepare(self, trials: int) -> list:
        """Pre-generate ``trials`` batches from the learner's stream, with every pass's targets (untimed)."""
        prepared = []
        for _ in range(trials):
            b = self.parts.stream.next_batch()
            n = len(b)
            targets = [
                (
                    b.labels[:, loc_t] if loc_t is not None else torch.full((n,), self.loc_null),
                    b.labels[:, obj_t] if obj_t is not None else torch.full((n,), self.obj_null),
                )
                for _, loc_t, obj_t in self.passes
            ]
            prepared.append((b, targets))
        return prepared

    def ms(self, prepared: list) -> float:
        """ms per trial of bare training over ``prepared`` batches."""
        net, opt = self.network, self.optimizer
        start = time.perf_counter()
        for b, targets in prepared:
            for (x_t, _, _), (loc_y, obj_y) in zip(self.passes, targets):
                loc, obj, _ = net(b.gps, b.image, x_t)
                loss = F.cross_entropy(loc, loc_y) + F.cross_entropy(obj, obj_y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        return (time.perf_counter() - start) / len(prepared) * 1e3


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per timed block")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks (best is reported)")
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
        raw = RawTrainer(env.unwrapped.config.learner, 0, schedule)
        raw.ms(raw.prepare(20))  # warm-up
        env_times, raw_times = [], []
        for _ in range(args.blocks):  # interleaved blocks: env and raw see the same machine load
            env_times.append(env_ms(env, action, args.trials))
            raw_times.append(raw.ms(raw.prepare(args.trials)))
        ratios = sorted(e / r for e, r in zip(env_times, raw_times))
        ms_env, ms_raw, ratio = min(env_times), min(raw_times), ratios[len(ratios) // 2]
        results[name] = (ms_env, ms_raw)
        print(f"{name:>8} trial: env {ms_env:6.2f} ms   raw forward+backward+step {ms_raw:6.2f} ms   "
              f"ratio {ms_env / ms_raw:.3f} (best/best), {ratio:.3f} (median of {args.blocks} paired blocks)")
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
