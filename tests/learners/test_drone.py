"""The synthetic drone world: deterministic, labels consistent with the pictures, bad settings rejected."""

import pytest
import torch

from tradeoff_gym.learners.drone import DataStream, DroneWorld, DroneWorldConfig, sprite_bank


def world(seed: int = 0, **settings) -> DroneWorld:
    return DroneWorld(DroneWorldConfig(**settings), torch.Generator().manual_seed(seed))


def test_same_generators_give_identical_batches_and_different_seeds_differ():
    a = world(0).sample(64, torch.Generator().manual_seed(5))
    b = world(0).sample(64, torch.Generator().manual_seed(5))
    c = world(0).sample(64, torch.Generator().manual_seed(6))
    for x, y in zip((*a.inputs, a.labels), (*b.inputs, b.labels)):
        assert torch.equal(x, y)
    assert not torch.equal(a.image, c.image)


def test_stream_order_does_not_depend_on_chunk_size():
    w = world(1)
    small = DataStream(w, torch.Generator().manual_seed(3), batch_size=8, chunk=4)
    first = [small.next_batch() for _ in range(4)]
    big = DataStream(w, torch.Generator().manual_seed(3), batch_size=8, chunk=4)
    second = [big.next_batch() for _ in range(4)]
    assert all(torch.equal(x.image, y.image) for x, y in zip(first, second))
    assert not torch.equal(first[0].image, first[1].image)


def test_labels_agree_with_the_inputs():
    w = world(2, grid=3)
    batch = w.sample(2000, torch.Generator().manual_seed(0))
    gps_cell, expected, img_cell, obj = batch.labels.T
    # GPS lies inside its cell.
    col = ((batch.gps[:, 0] + 1) / 2 * 3).floor().long().clamp(0, 2)
    row = ((batch.gps[:, 1] + 1) / 2 * 3).floor().long().clamp(0, 2)
    assert torch.equal(row * 3 + col, gps_cell)
    # T2 is the region map of the GPS cell; the image object matches it about region_match of the time.
    assert torch.equal(expected, w.region_type[gps_cell])
    match = (obj == expected).float().mean().item()
    assert abs(match - (0.75 + 0.25 / 4)) < 0.04
    # The object is drawn in its image cell: the brightest-contrast cell is the labelled one, nearly always.
    img = batch.image[:, 0]  # (n, 24, 24)
    deviation = (img - img.median(dim=2, keepdim=True).values).abs()
    cells = deviation.view(-1, 3, 8, 3, 8).sum(dim=(2, 4)).flatten(1)  # (n, 9)
    assert (cells.argmax(1) == img_cell).float().mean() > 0.9
    # Every type and location occurs.
    assert set(obj.tolist()) == {0, 1, 2, 3} and set(img_cell.tolist()) == set(range(9))


@pytest.mark.parametrize(("image_size", "grid", "sprite_size"), [(24, 3, 9), (16, 2, 7)])
def test_at_the_largest_jitter_allowed_the_object_stays_in_its_cell(image_size, grid, sprite_size):
    config = DroneWorldConfig(image_size=image_size, grid=grid, sprite_size=sprite_size, jitter=3)
    assert config.max_jitter == 3  # ⌊(cell − 1) / 2⌋ with cell = 8 px
    batch = DroneWorld(config, torch.Generator().manual_seed(0)).sample(2000, torch.Generator().manual_seed(1))
    img = batch.image[:, 0]
    deviation = (img - img.median(dim=2, keepdim=True).values).abs()
    cell = image_size // grid
    salience = deviation.view(-1, grid, cell, grid, cell).sum(dim=(2, 4)).flatten(1)  # (n, L)
    # The labelled image cell is the most salient one nearly always (at jitter 50, about 12 % of the time).
    assert (salience.argmax(1) == batch.labels[:, 2]).float().mean() > 0.9


def test_region_map_covers_every_type_evenly():
    counts = torch.bincount(world(3, grid=4).region_type, minlength=4)
    assert counts.tolist() == [4, 4, 4, 4]


def test_sprites_are_distinct_and_rotations_preserve_mass():
    alpha, value = sprite_bank(9, 8, (0.75, 1.0))
    assert alpha.shape == (4, 8, 3, 9, 9) and value.shape == alpha.shape
    mass = alpha.sum(dim=(-1, -2))  # (4, 8, 3)
    assert torch.all(mass > 5)
    assert torch.allclose(mass, mass[:, :1], rtol=0.2)  # rotation keeps the area
    upright = (alpha * value)[:, 0, 2].flatten(1)  # (4, 81)
    distance = torch.cdist(upright, upright)
    assert distance[~torch.eye(4, dtype=torch.bool)].min() > 0.5


def test_input_noise_perturbs_inputs_but_not_labels():
    clean = world(0).sample(32, torch.Generator().manual_seed(1))
    noisy = world(0, input_noise=0.3).sample(32, torch.Generator().manual_seed(1))
    assert torch.equal(clean.labels, noisy.labels)
    assert 0.2 < (noisy.image - clean.image).std() < 0.4


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"grid": 1}, "grid"),
        ({"image_size": 4, "grid": 3}, "image_size"),
        ({"n_types": 5}, "n_types"),
        ({"region_match": 1.5}, "region_match"),
        ({"input_noise": -0.1}, "input_noise"),
        ({"scales": (1.0, 0.5)}, "scales"),
        ({"sprite_size": 2}, "sprite_size"),
        ({"jitter": 4}, r"jitter must lie in \[0, 3\] pixels for image_size=24, grid=3"),
        ({"jitter": 50}, r"jitter must lie in \[0, 3\]"),
        ({"image_size": 16, "grid": 3, "sprite_size": 5, "jitter": 3}, r"jitter must lie in \[0, 2\]"),
        ({"jitter": -1}, "jitter"),
    ]
    + [({name: True}, name) for name in ("jitter", "region_match", "input_noise", "gps_noise", "grid", "n_types")]
    + [({"scales": (True, True)}, "scales"), ({"scales": 1.0}, "scales"), ({"image_size": 24.0}, "image_size")],
)
def test_bad_world_settings_name_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        DroneWorldConfig(**settings)
