"""The surrogate fidelity table: rows from the shipped calibrations, the yardstick recomputed from trajectories."""

import numpy as np
import pytest

from tradeoff_gym.benchmarks.scripts import coupled_fidelity
from tradeoff_gym.envs.coupled_curves import load_calibration, simulate


def test_the_yardstick_and_rmse_are_computed_per_schedule():
    params, _ = load_calibration("default")
    names = ["serial", "parallel"]
    actions = np.stack([np.zeros(100, dtype=np.int8), np.ones(100, dtype=np.int8)])
    expected = simulate(params, actions, both=False)  # (2, 100)
    noise = np.random.default_rng(0).normal(0.0, 0.01, size=(2, 100))
    # seed 0 = the surrogate's curves, seed 1 = the same plus noise
    accuracy = np.stack([expected, expected + noise])
    arrays = {"schedules": np.asarray(names), "accuracy": accuracy, "horizon": np.asarray(100)}
    own, rmse = coupled_fidelity.recomputed(params, arrays, fit_seed=0, test_seed=1, block=10)
    blocks = noise.reshape(2, 10, 10).mean(axis=2)
    np.testing.assert_allclose(rmse, np.sqrt((blocks**2).mean(axis=1)))
    assert all(0.9 < r <= 1.0 for r in own)  # the curves' trend dwarfs the noise
    own_same, _ = coupled_fidelity.recomputed(params, {**arrays, "accuracy": np.stack([expected, expected])}, 0, 1, 10)
    assert own_same == [1.0, 1.0]


def test_a_world_without_a_surrogate_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        coupled_fidelity.main(["--worlds", "24"])
    assert exit_.value.code == 2
    assert "no shipped surrogate" in capsys.readouterr().err
