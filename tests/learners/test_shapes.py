"""The shapes world: deterministic, well-formed images whose labels match what is drawn."""

import numpy as np
import pytest

from tradeoff_gym.learners.shapes import (
    _COLOURS,
    N_FEATURES,
    ShapesConfig,
    balanced_indices,
    make_shapes,
    render_split,
    shape_masks,
    task_labels,
    texture_patterns,
)

SMALL = ShapesConfig(n_train=300, n_holdout=100, data_seed=3)


def test_same_seed_gives_identical_images_and_another_seed_does_not():
    first = render_split(SMALL, 200, np.random.default_rng(5))
    second = render_split(SMALL, 200, np.random.default_rng(5))
    other = render_split(SMALL, 200, np.random.default_rng(6))
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    assert not np.array_equal(first.images, other.images)
    data = make_shapes(SMALL)
    assert make_shapes(SMALL) is data  # cached
    assert not data.train.images.flags.writeable
    assert not np.array_equal(data.train.images[:100], data.holdout.images)  # a separate hold-out draw


def test_images_hold_four_or_five_objects_with_consistent_labels():
    split = make_shapes(SMALL).train
    assert split.images.shape == (300, 3, 24, 24) and split.images.dtype == np.float32
    assert split.images.min() >= 0.0 and split.images.max() <= 1.0
    n_objects = (split.features[..., 0] >= 0).sum(axis=1)
    assert set(np.unique(n_objects)) == {4, 5}
    # Every object's feature is "present"; per dimension, 4-5 objects give at most 5 present features.
    for d in range(3):
        counts = split.present[:, d].sum(axis=1)
        assert np.all((counts >= 1) & (counts <= n_objects))
    image, objects = 0, split.features[0]
    for shape, colour, texture in objects[objects[:, 0] >= 0]:
        assert split.present[image, 0, shape] and split.present[image, 1, colour] and split.present[image, 2, texture]


def test_rendered_object_is_mask_times_texture_times_colour():
    config = ShapesConfig(grid=2, cell=7, min_objects=1, max_objects=1, n_train=10, n_holdout=10)
    split = render_split(config, 20, np.random.default_rng(0))
    size = config.cell - 1
    masks, textures = shape_masks(size), texture_patterns(size)
    for i in range(20):
        shape, colour, texture = split.features[i, 0]
        expected = masks[shape] * textures[texture] * _COLOURS[colour][:, None, None]  # (3, s, s)
        # the single object lies somewhere on the image; its pixels must be found at one placement
        found = any(
            np.allclose(split.images[i, :, r : r + size, c : c + size], expected)
            for r in range(0, 14 - size + 1)
            for c in range(0, 14 - size + 1)
        )
        assert found, f"image {i} does not contain its object"
        assert np.isclose(split.images[i].sum(), expected.sum())  # and nothing else


def test_features_are_distinct_and_roughly_balanced():
    for table in (shape_masks(7), texture_patterns(7)):
        flat = table.reshape(N_FEATURES, -1)
        assert len({row.tobytes() for row in flat}) == N_FEATURES
    assert len({tuple(c) for c in _COLOURS}) == N_FEATURES
    present = make_shapes(ShapesConfig(n_train=2000, n_holdout=10)).train.present  # (N, 3, 10)
    rates = present.mean(axis=0)
    expected = 1 - (1 - 1 / N_FEATURES) ** 4.5  # ≈ 0.38 for 4-5 objects
    assert np.all(np.abs(rates - expected) < 0.05)


def test_balanced_indices_alternate_yes_and_no_and_match_the_labels():
    split = make_shapes(SMALL).train
    labels = task_labels(split, 1, np.array([0, 3, 7]))  # (N, 3)
    tasks = np.array([0] * 10 + [1] * 6 + [2] * 16)
    rng = np.random.default_rng(0)
    indices, targets = balanced_indices(labels, tasks, rng)
    assert np.array_equal(labels[indices, tasks], targets)
    for t in range(3):
        assert targets[tasks == t].sum() * 2 == (tasks == t).sum()  # exactly half "yes"
    again = balanced_indices(labels, tasks, np.random.default_rng(0))
    assert np.array_equal(again[0], indices)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_objects": 10}, "max_objects"),
        ({"min_objects": 6}, "max_objects"),
        ({"cell": 4}, "cell"),
        ({"n_train": 0}, "n_train"),
        ({"data_seed": -1}, "data_seed"),
    ],
)
def test_bad_config_names_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        ShapesConfig(**settings)
