"""The LearningCurves families of the bench_navigator script: what each promises about its instances."""

import numpy as np
import pytest

from tradeoff_gym.benchmarks.scripts.bench_navigator import BALANCED_RATIO, HORIZON, draw_instance


def test_uniform_family_matches_its_ranges():
    for index in range(50):
        inst = draw_instance(0, index)
        early, late = sorted(inst.midpoints)
        assert 0.0 <= early <= HORIZON / 3 and 0.0 <= late - early <= 350.0
        assert all(0.01 <= r <= 0.06 for r in inst.rates) and 0.0 <= inst.cost <= 1.0


def test_balanced_family_sets_the_cost_from_the_return_ratio():
    ratios = []
    for index in range(100):
        inst = draw_instance(0, index, "balanced")
        assert 0.0 <= inst.cost <= 1.0
        config = inst.env().unwrapped.config
        serial, parallel = config.expected_fixed_returns(inst.cost)
        # the paper's rule: serial's return at cost c is its return at 0 divided by (1 + c)
        serial_free, _ = config.expected_fixed_returns(0.0)
        assert serial == pytest.approx(serial_free / (1.0 + inst.cost))
        ratios.append(serial / parallel)
    ratios = np.array(ratios)
    assert ratios.min() >= 1 / BALANCED_RATIO - 1e-9 and ratios.max() <= BALANCED_RATIO + 1e-9
    # both strategies are best in a sizable share of instances (the point of the family)
    assert 0.25 <= (ratios > 1).mean() <= 0.75


def test_balanced_family_is_reproducible_and_unknown_family_refused():
    assert draw_instance(3, 7, "balanced") == draw_instance(3, 7, "balanced")
    with pytest.raises(ValueError, match="unknown family 'nope'; known: uniform, balanced"):
        draw_instance(0, 0, "nope")
