"""Curricula of sequential task episodes: regimen shares, slot allocation, Latin-square task orders."""

import numpy as np
import pytest

from tradeoff_gym.learners.curriculum import (
    PHASE_STEP,
    REGIMENS,
    allocate_slots,
    latin_order,
    latin_square,
    random_order,
    regimen_weights,
    slot_phase,
)


def test_regimens_split_each_trial_as_documented():
    assert REGIMENS == ("mix", "new-only", "uniform")
    np.testing.assert_allclose(regimen_weights("mix", 5), [0.125] * 4 + [0.5])
    np.testing.assert_allclose(regimen_weights("new-only", 3), [0, 0, 1])
    np.testing.assert_allclose(regimen_weights("uniform", 4), [0.25] * 4)
    np.testing.assert_allclose(regimen_weights("mix", 1), [1.0])
    np.testing.assert_allclose(regimen_weights("mix", 3, new_fraction=0.8), [0.1, 0.1, 0.8])
    slots = allocate_slots(regimen_weights("mix", 4), 32, phase=0.37)
    assert np.bincount(slots, minlength=4)[3] == 16 and set(np.bincount(slots)[:3]) <= {5, 6}


def test_rotating_phase_makes_the_long_run_shares_exact():
    assert slot_phase(0) == 0.0 and slot_phase(1) == pytest.approx(PHASE_STEP)
    weights = regimen_weights("mix", 10)
    totals = sum(np.bincount(allocate_slots(weights, 32, slot_phase(t)), minlength=10) for t in range(900))
    np.testing.assert_allclose(totals / totals.sum(), weights, atol=2e-3)


@pytest.mark.parametrize(
    ("args", "field"), [(("mixed", 3), "regimen"), (("mix", 0), "n_seen"), (("mix", True), "n_seen")]
)
def test_bad_regimen_arguments_name_the_field(args, field):
    with pytest.raises(ValueError, match=field):
        regimen_weights(*args)


def test_latin_orders_put_every_feature_in_every_position_once_per_block():
    square = latin_square(7, np.random.default_rng(0))
    assert np.all(np.sort(square, axis=0) == np.arange(7)[:, None])  # each symbol once per column
    assert np.all(np.sort(square, axis=1) == np.arange(7)[None, :])  # and once per row
    block = np.stack([latin_order(r, 10, "texture") for r in range(10)])  # (replications, positions)
    assert all(sorted(block[:, p]) == list(range(10)) for p in range(10))
    assert all(sorted(row) == list(range(10)) for row in block)
    assert not np.array_equal(block, np.stack([latin_order(r, 10, "texture") for r in range(10, 20)]))
    assert not np.array_equal(block, np.stack([latin_order(r, 10, "colour") for r in range(10)]))


def test_random_order_is_a_seeded_prefix_of_a_permutation():
    order = random_order(4, np.random.default_rng(3))
    assert len(set(order.tolist())) == 4 and np.array_equal(order, random_order(4, np.random.default_rng(3)))
