"""Drone-world data generation: sprites blended inside their boxes vs over whole zero-padded canvases.

Prints the median CPU ms per ``DroneWorld.sample(n)`` for both ways (the full-canvas way kept here only as the
yardstick) and checks they give the same samples. Figures: docs/findings/speed.md.

    python -m tradeoff_gym.benchmarks.scripts.bench_sprite_boxes [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from tradeoff_gym.learners.drone import DroneWorld, DroneWorldConfig


def full_canvas_paste(
    world: DroneWorld,
    background: torch.Tensor,
    top: torch.Tensor,
    left: torch.Tensor,
    alpha: torch.Tensor,
    value: torch.Tensor,
) -> torch.Tensor:
    """The former drawing: scatter each sprite onto a zero canvas padded by the largest overhang, blend every pixel."""
    cfg = world.config
    n, size, s = background.shape[0], cfg.image_size, cfg.sprite_size
    pad = s // 2 + cfg.jitter + 1
    side = size + 2 * pad
    offs = torch.arange(s)
    offsets = (offs[:, None] * side + offs[None, :]).reshape(-1)  # (S*S,)
    index = ((top + pad) * side + (left + pad))[:, None] + offsets[None, :]  # (n, S*S)
    canvas = torch.zeros(2, n, side * side)
    canvas[0].scatter_(1, index, alpha)
    canvas[1].scatter_(1, index, value)
    a, v = canvas.view(2, n, side, side)[:, :, pad : pad + size, pad : pad + size]
    return torch.lerp(background, v, a)


def median_ms(world: DroneWorld, n: int, calls: int = 200) -> tuple[float, float]:
    """Median CPU time of one ``world.sample(n)`` in ms, full-canvas and boxed, measured interleaved."""
    boxed = DroneWorld.__dict__["_paste"]
    generator = torch.Generator().manual_seed(1)
    times: dict[str, list[float]] = {"canvas": [], "boxes": []}
    for _ in range(calls):
        for way, paste in (("canvas", full_canvas_paste), ("boxes", boxed)):
            DroneWorld._paste = paste
            try:
                start = time.process_time()  # CPU time: less sensitive to other processes on the cores
                world.sample(n, generator)
                times[way].append(time.process_time() - start)
            finally:
                DroneWorld._paste = boxed
    return statistics.median(times["canvas"]) * 1e3, statistics.median(times["boxes"]) * 1e3


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    boxed = DroneWorld.__dict__["_paste"]
    print(f"{'world':13s} {'n':>6s} {'canvas ms':>10s} {'boxes ms':>9s} {'speedup':>8s}")
    for label, cfg in (("3x3 (default)", DroneWorldConfig()), ("2x2", DroneWorldConfig(grid=2))):
        world = DroneWorld(cfg, torch.Generator().manual_seed(0))
        for n in (32 * 32, 32 * 128):  # chunk × batch_size of the default stream, and 4× the batch
            new = world.sample(n, torch.Generator().manual_seed(2))
            DroneWorld._paste = full_canvas_paste
            try:
                old = world.sample(n, torch.Generator().manual_seed(2))
            finally:
                DroneWorld._paste = boxed
            if not all(torch.equal(a, b) for a, b in zip((*new.inputs, new.labels), (*old.inputs, old.labels))):
                raise SystemExit("boxed and full-canvas samples differ")
            old_ms, new_ms = median_ms(world, n)
            print(f"{label:13s} {n:6d} {old_ms:10.2f} {new_ms:9.2f} {old_ms / new_ms:7.2f}x")


if __name__ == "__main__":
    main()
