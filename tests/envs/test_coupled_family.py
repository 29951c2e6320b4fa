"""The coupled-learner surrogate on a world family: the trajectory files' conversion, the shipped sp-mixed presets."""

import json

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym.benchmarks.scripts import fit_coupled
from tradeoff_gym.benchmarks.scripts.fit_coupled import Data, schedule_actions, trajectory_arrays
from tradeoff_gym.benchmarks.scripts.look_frontier import schedule_name
from tradeoff_gym.envs.coupled_curves import CALIBRATION_DIR, SERIAL_ACTION, load_calibration, simulate
from tradeoff_gym.envs.families import DATA_DIR, get_family, world_settings

ENV_ID = "tradeoff/CoupledCurves-v0"
SHIPPED = sorted(CALIBRATION_DIR.glob("sp-mixed-w*.json"))


def write_trajectories(folder, stem, names, seeds=(0, 1), horizon=12, n_tasks=3, rng=None):
    """Tiny look_frontier-style files ``folder/<stem>_<schedule>.npz``; returns name → per-task accuracies."""
    rng = rng or np.random.default_rng(0)
    kept = {}
    for name in names:
        accuracy = rng.integers(0, 33, (len(seeds), horizon, n_tasks)) / 32  # per-task accuracies at c = 0
        action = np.repeat(schedule_actions(name, horizon)[None].astype(np.int64), len(seeds), axis=0)
        np.savez(folder / f"{stem}_{name}.npz", seeds=np.asarray(seeds), accuracy=accuracy, action=action)
        kept[name] = accuracy
    return kept


def test_schedule_names_follow_look_frontiers():
    horizon = 10
    assert np.array_equal(schedule_actions("switch@4", horizon), schedule_actions("ps@4", horizon))
    probe = schedule_actions(schedule_name("stay", 3, 4), horizon)  # stay@3+4
    assert np.flatnonzero(probe == SERIAL_ACTION).tolist() == [3, 4, 5, 6]
    assert np.array_equal(schedule_actions("stay@3+1", horizon), schedule_actions("stay@3", horizon))
    for bad in ("switch", "stay@3+0", "ps@3+2", "serial@3", "stay@10", "look@3"):
        with pytest.raises(ValueError, match="schedule must be"):
            schedule_actions(bad, horizon)


def test_trajectory_files_become_coupled_datas_per_trial_mean_accuracy(tmp_path):
    names = ["stay@4+2", "serial", "switch@4", "parallel", "stay@4"]
    tasks = write_trajectories(tmp_path, "sp-mixed_w3_h12_s0-1", names)
    write_trajectories(tmp_path, "sp-mixed_w3_h12_s0-10", ["serial"])  # another seed range: not read
    arrays = trajectory_arrays(tmp_path / "sp-mixed_w3_h12_s0-1")
    order = ["serial", "parallel", "stay@4", "stay@4+2", "switch@4"]
    assert arrays["schedules"].tolist() == order
    assert arrays["accuracy"].shape == (2, 5, 12) and arrays["action"].shape == (2, 5, 12)
    for r, name in enumerate(order):  # coupled_data's accuracy: the trial's raw accuracy, the mean over tasks
        np.testing.assert_allclose(arrays["accuracy"][:, r], tasks[name].mean(axis=2), rtol=1e-6)
    assert json.loads(str(arrays["settings"])) == {"family": "sp-mixed", "world": 3}
    assert int(arrays["horizon"]) == 12 and int(arrays["n_tasks"]) == 3 and arrays["seeds"].tolist() == [0, 1]
    data = Data(arrays)  # the fitter's reader accepts them as it accepts coupled_data's file
    assert data.names == order and data.n_tasks == 3 and data.block == 1 and data.trials.shape == (2, 5, 12)
    preset = trajectory_arrays(_write(tmp_path / "preset", "noisy_h12_s0-1", ["serial"]))
    assert json.loads(str(preset["settings"])) == {"preset": "noisy"}


def _write(folder, stem, names, **kwargs):
    folder.mkdir()
    write_trajectories(folder, stem, names, **kwargs)
    return folder / stem


def test_trajectory_files_that_disagree_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no trajectory files"):
        trajectory_arrays(tmp_path / "sp-mixed_w3_h12_s0-1")
    with pytest.raises(ValueError, match="trajectories must be"):
        trajectory_arrays(tmp_path / "sp-mixed_w3")
    prefix = _write(tmp_path / "seeds", "sp-mixed_w3_h12_s0-1", ["serial"])
    write_trajectories(prefix.parent, prefix.name, ["parallel"], seeds=(0, 2))
    with pytest.raises(ValueError, match="seeds"):
        trajectory_arrays(prefix)
    prefix = _write(tmp_path / "lie", "sp-mixed_w3_h12_s0-1", ["serial"])
    np.savez(prefix.parent / f"{prefix.name}_stay@4.npz", seeds=np.asarray([0, 1]), accuracy=np.zeros((2, 12, 3)),
             action=np.ones((2, 12), dtype=np.int64))  # all parallel, named stay@4
    with pytest.raises(ValueError, match="does not play what its name says"):
        Data(trajectory_arrays(prefix))


def test_the_fitting_command_reads_a_trajectory_folder(tmp_path):
    names = ["serial", "parallel", "switch@100", "stay@100", "stay@100+20"]
    prefix = _write(tmp_path / "runs", "sp-mixed_w2_h400_s0-1", names, horizon=400, n_tasks=6)
    out = tmp_path / "calib.json"
    fit_coupled.main(["--trajectories", str(prefix), "--out", str(out), "--start", "default", "--max-nfev", "2",
                      "--escape-starts", "", "--test-seeds", "1", "--test-schedules", "stay@100",
                      "--looks", "100", "--lengths", "1,20", "--thresholds", "0.9,1.0", "--report-block", "100"])
    document = json.loads(out.read_text())
    assert document["env"] == {"n_tasks": 6, "batch_size": world_settings("sp-mixed", 2)["batch_size"]}
    assert document["settings"] == {"family": "sp-mixed", "world": 2}
    assert {row["schedule"] for row in document["fidelity"]["r2"]} == set(names)
    assert document["fidelity"]["look_rules"]["lengths"] == [1, 20]
    env = gym.make(ENV_ID, calibration=str(out), horizon=5).unwrapped
    assert env.config.n_tasks == 6


# ------------------------------------------------------------------------------------------- the shipped presets
def test_sp_mixed_calibrations_ship_for_train_worlds_only():
    family = get_family("sp-mixed")
    assert SHIPPED, "no sp-mixed calibrations shipped"
    for path in SHIPPED:
        world = int(path.stem.removeprefix("sp-mixed-w"))
        assert world in family.train, path.name
        _, meta = load_calibration(path.stem)
        assert meta["settings"] == {"family": "sp-mixed", "world": world}
        assert set(meta["fit"]["seeds"]) <= set(family.train_seeds)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_sp_mixed_calibration_loads_and_steps(path):
    world = int(path.stem.removeprefix("sp-mixed-w"))
    drawn = world_settings("sp-mixed", world)
    env = gym.make(ENV_ID, preset=path.stem, cost=0.2, horizon=20)
    cfg = env.unwrapped.config
    assert cfg.calibration == path.stem and cfg.batch_size == drawn["batch_size"]
    assert cfg.n_tasks == (6 if drawn["sonar_size"] else 4)  # the sonar input adds two tasks
    env.reset(seed=0)
    for trial in range(20):
        _, reward, terminated, truncated, info = env.step(trial % 2)
        assert 0.0 <= reward <= 1.0 and info["task_accuracy"].shape == (cfg.n_tasks,)
    assert truncated and not terminated
    assert gym.make(ENV_ID, preset=path.stem, n_tasks=2).unwrapped.config.n_tasks == 2  # settings still override


def measured_cstar(world):
    """sp-mixed world ``world``'s measured c* (the row of envs/data/sp-mixed_cstar.csv with the most seeds)."""
    import pandas as pd

    table = pd.read_csv(DATA_DIR / "sp-mixed_cstar.csv")
    rows = table[table.world == world]
    return float(rows.loc[rows.seeds.idxmax(), "c_star"])


#: Shipped worlds whose surrogate misses the target, with the measurement (docs/findings/coupled-curves.md).
CSTAR_MISSES = {
    "sp-mixed-w20": "c* 0.497 against the 5-seed 0.551 (seeds 0-1: 0.527); a refit with 300 evaluations per start "
                    "reaches the same optimum and c*",
}


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=CSTAR_MISSES[p.stem])) if p.stem in CSTAR_MISSES
    else p for p in SHIPPED], ids=lambda p: p.stem)
def test_surrogate_crossover_is_within_0_05_of_the_neural_worlds(path):
    """The issue's target (docs/findings/coupled-curves.md: met on 23 of the 24 train worlds; the miss is strict)."""
    world = int(path.stem.removeprefix("sp-mixed-w"))
    params, meta = load_calibration(path.stem)
    horizon = meta["horizon"]
    curves = simulate(params, np.stack([schedule_actions(n, horizon) for n in ("serial", "parallel")]), both=False)
    surrogate = curves[0].mean() / curves[1].mean() - 1.0
    assert surrogate == pytest.approx(measured_cstar(world), abs=0.05)
