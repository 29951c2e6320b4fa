"""Drawing each drone-world sprite only inside its box is bit-identical to blending whole zero-padded canvases."""

import pytest
import torch

from tradeoff_gym.benchmarks.scripts.bench_sprite_boxes import full_canvas_paste  # the reference: whole canvases
from tradeoff_gym.learners.drone import DroneWorld, DroneWorldConfig

SETTINGS = [
    {},
    {"grid": 2},
    {"grid": 3, "image_size": 24, "jitter": 3},  # sprites overhang the image's edges
    {"grid": 4, "image_size": 32, "sprite_size": 11, "jitter": 2, "depth": True},
    {"grid": 2, "image_size": 16, "sprite_size": 5, "jitter": 0, "input_noise": 0.1, "sonar_size": 8},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_boxed_sprites_equal_full_canvas_blending_bit_for_bit(settings, monkeypatch):
    cfg = DroneWorldConfig(**settings)
    world = DroneWorld(cfg, torch.Generator().manual_seed(3))
    for seed in range(4):
        boxed = world.sample(257, torch.Generator().manual_seed(seed))
        with monkeypatch.context() as patch:
            patch.setattr(DroneWorld, "_paste", full_canvas_paste)
            reference = world.sample(257, torch.Generator().manual_seed(seed))
        for got, want in zip((*boxed.inputs, boxed.labels), (*reference.inputs, reference.labels)):
            assert got.dtype == want.dtype and torch.equal(got, want)


def test_boxes_overhanging_every_edge_are_clipped_like_the_canvas():
    world = DroneWorld(DroneWorldConfig(image_size=24, grid=3, jitter=3), torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    n, size, s = 400, 24, 9
    background = torch.rand(n, size, size, generator=gen) - 0.2
    top = torch.randint(-s + 1, size, (n,), generator=gen)  # from boxes that barely touch the top to the bottom
    left = torch.randint(-s + 1, size, (n,), generator=gen)
    alpha = torch.rand(n, s * s, generator=gen)
    value = torch.rand(n, s * s, generator=gen)
    want = full_canvas_paste(world, background.clone(), top, left, alpha, value)
    got = world._paste(background.clone(), top, left, alpha, value)
    assert torch.equal(got, want)
    assert not torch.equal(got, background)  # the test draws something
