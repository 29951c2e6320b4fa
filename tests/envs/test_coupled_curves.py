"""CoupledCurves: the coupled-learner surrogate of SerialParallel — its API, its couplings, its fitter, its fidelity."""

import json

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym.agents import FixedAgent, RandomAgent
from tradeoff_gym.agents.baselines import TwoPhaseAgent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.benchmarks.scripts import fit_coupled
from tradeoff_gym.benchmarks.scripts.fit_coupled import Data, block_means, fit, played, r_squared, schedule_actions
from tradeoff_gym.envs import check_settings
from tradeoff_gym.envs.coupled_curves import (
    CALIBRATION_DIR,
    CoupledCurvesConfig,
    CoupledCurvesEnv,
    CoupledParams,
    load_calibration,
    simulate,
)
from tradeoff_gym.envs.interface import RewardRule

ENV_ID = "tradeoff/CoupledCurves-v0"
DEFAULT = load_calibration("default")[0]
#: The compact data file the default calibration was fitted on (block means of SerialParallel's default world).
BLOCKS = CALIBRATION_DIR / "default_blocks.npz"


def expected(names, horizon=5000, params=DEFAULT):
    """Schedule name → its played strategy's expected accuracy per trial on the surrogate."""
    actions = np.stack([schedule_actions(n, horizon) for n in names])
    return dict(zip(names, played(params, actions)))


# ------------------------------------------------------------------------------------------------ the env's API
def test_spaces_reset_and_step_info_match_serial_parallels():
    env = gym.make(ENV_ID, horizon=3, cost=0.3)
    obs, info = env.reset(seed=0)
    assert env.action_space == gym.spaces.Discrete(2) and env.observation_space.shape == (5,)
    assert obs in env.observation_space
    assert info["strategies"] == ("serial", "parallel") and info["serial"] == (True, False)
    assert info["horizon"] == 3 and info["n_tasks"] == 4 and info["calibration"] == "default"
    for t, a in enumerate((1, 0, 1), start=1):
        obs, reward, terminated, truncated, info = env.step(a)
        assert obs in env.observation_space and 0.0 <= reward <= 1.0 and not terminated
        assert truncated == (t == 3) and info["trial"] == t and info["strategy"] == ("serial", "parallel")[a]
        assert info["task_accuracy"].shape == info["task_rewards"].shape == (4,)
        assert info["raw_accuracy"] == pytest.approx(info["task_accuracy"].mean())
    assert info["pick_counts"].tolist() == [1, 2]
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(0)


def test_one_seed_replays_bit_identically_and_seeds_differ():
    frames = [run_episode(gym.make(ENV_ID, horizon=300).unwrapped, RandomAgent(), seed=s, env_id=ENV_ID)
              for s in (4, 4, 5)]
    assert frames[0].equals(frames[1])
    assert not np.array_equal(frames[0].raw_accuracy, frames[2].raw_accuracy)


@pytest.mark.parametrize("cost_mode", ["divide", "additive"])
def test_rewards_are_serial_parallels_rule_on_a_trajectory_that_does_not_depend_on_the_cost(cost_mode):
    actions = schedule_actions("ps@40", 120)
    runs = {}
    for cost in (0.0, 0.7):
        env = CoupledCurvesEnv(horizon=120, cost=cost, cost_mode=cost_mode)
        env.reset(seed=3)
        runs[cost] = [env.step(int(a)) for a in actions]
    rule = RewardRule(cost_mode=cost_mode)
    for (_, r0, _, _, i0), (_, r1, _, _, i1), a in zip(runs[0.0], runs[0.7], actions):
        np.testing.assert_array_equal(i0["task_accuracy"], i1["task_accuracy"])  # c moves only the reward
        task_rewards, reward = rule.apply(np.array([a]), i1["task_accuracy"][None], np.array([0.7]))
        assert r1 == pytest.approx(float(reward[0])) and np.allclose(i1["task_rewards"], task_rewards[0])
        assert r0 == pytest.approx(i0["raw_accuracy"])
    assert any(i["strategy"] == "serial" for *_, i in runs[0.7])


def test_noiseless_env_follows_simulate_and_noise_has_the_calibrated_spread():
    actions = schedule_actions("sp@300", 1000)
    env = CoupledCurvesEnv(horizon=1000, noise=False, batch_size=None, cost=0.0)
    env.reset(seed=0)
    raw = np.array([env.step(int(a))[4]["raw_accuracy"] for a in actions])
    np.testing.assert_allclose(raw, simulate(DEFAULT, actions[None], both=False)[0], rtol=0, atol=1e-12)
    noisy = CoupledCurvesEnv(horizon=1000, cost=0.0, batch_size=None)
    noisy.reset(seed=0)
    per_task = np.array([noisy.step(int(a))[4]["task_accuracy"] for a in actions])
    residual = per_task - raw[:, None]
    late = slice(500, 1000)  # a settled stretch: the spread is p(1 − p) / noise_examples
    variance = raw[late] * (1 - raw[late]) / DEFAULT.noise_examples
    assert residual[late].var() == pytest.approx(variance.mean(), rel=0.15)


def test_settings_and_parameters_validate_and_a_calibration_file_loads(tmp_path):
    with pytest.raises(ValueError, match="unknown CoupledCurves setting"):
        check_settings(ENV_ID, horizn=10)
    with pytest.raises(ValueError, match="plateau"):
        gym.make(ENV_ID, plateau=1.5)
    with pytest.raises(ValueError, match="preset"):
        gym.make(ENV_ID, preset="nowhere")
    balanced = gym.make(ENV_ID, preset="balanced").unwrapped.config
    assert balanced.calibration == "balanced" and balanced.params != DEFAULT
    cfg = check_settings(ENV_ID, escape_at=123.0, horizon=10)
    assert isinstance(cfg, CoupledCurvesConfig) and cfg.params.escape_at == 123.0 and cfg.horizon == 10
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"params": {**DEFAULT.to_json(), "rate_serial": 0.05}, "horizon": 99}))
    env = gym.make(ENV_ID, calibration=str(path), horizon=5)
    assert env.unwrapped.config.params.rate_serial == 0.05 and env.unwrapped.config.calibration == str(path)


def test_agents_run_unchanged():
    env = gym.make(ENV_ID, horizon=200, cost=0.2).unwrapped
    for agent in (FixedAgent(0), TwoPhaseAgent("parallel", "serial", 0.5), RandomAgent()):
        frame = run_episode(env, agent, seed=1, env_id=ENV_ID)
        assert len(frame) == 200 and frame.reward.between(0, 1).all()


# ------------------------------------------------------------------------------ the couplings (default calibration)
def test_early_serial_training_keeps_parallel_on_its_plateau():
    curves = expected(["parallel", "sp@250"])
    parallel = block_means(curves["parallel"], 250)
    after_serial = block_means(curves["sp@250"], 250)
    plateau = parallel[2:6].mean()  # always-parallel before it leaves its plateau
    escape = int(np.argmax(parallel > plateau + 0.5 * (parallel[-1] - plateau)))  # block it is half-way up
    assert parallel[-1] > plateau + 0.1  # always-parallel does leave the plateau …
    later = escape + 2
    assert after_serial[later] < parallel[later] - 0.05  # … but after early serial training it is still on it
    assert abs(after_serial[later] - plateau) < abs(parallel[later] - plateau)


def test_serial_training_on_a_parallel_trained_network_first_wrecks_then_recovers_it():
    at = 900
    serial = expected([f"ps@{at}"])[f"ps@{at}"][at:]
    first = serial[0]
    assert first > 0.5  # the first serial trial reads the network parallel trained
    assert serial[:50].min() < first - 0.1  # serial training wrecks it …
    assert serial[300:].mean() > first  # … then it recovers and goes beyond


# ------------------------------------------------------------------------------------------------------ the fitter
def test_the_fitter_recovers_known_parameters_from_surrogate_data():
    truth = CoupledParams(rate_serial=0.01, rate_parallel=0.004, plateau=0.7, escape_at=700.0, escape_width=60.0,
                          setback=8.0, floor=-400.0, wreck_serial=0.3, recovery=0.08, trace_rate=0.06)
    names = ["serial", "parallel", "sp@150", "sp@400", "ps@200", "ps@500", "ps@900", "stay@300"]
    actions = np.stack([schedule_actions(n, 1500) for n in names])
    target = block_means(played(truth, actions), 10)
    start = CoupledParams(rate_serial=0.006, escape_at=900.0, escape_width=100.0, setback=20.0, floor=-200.0,
                          wreck_serial=0.2, trace_rate=0.04)
    free = [n for n in CoupledParams.names() if n not in ("noise_examples", "setback_decay")]  # one stay: decay fixed
    estimate, result = fit(target, actions, 10, start, max_nfev=200, free=free)
    assert np.sqrt(np.mean(result.fun**2)) < 1e-4
    for name in ("rate_serial", "rate_parallel", "plateau", "escape_at", "setback", "wreck_serial"):
        assert getattr(estimate, name) == pytest.approx(getattr(truth, name), rel=0.05), name


def test_the_fitting_command_writes_a_calibration_the_env_loads(tmp_path):
    out = tmp_path / "calib.json"
    fit_coupled.main(["--data", str(BLOCKS), "--out", str(out), "--start", "default", "--max-nfev", "3",
                      "--escape-starts", "", "--fit-block", "250"])
    document = json.loads(out.read_text())
    assert set(document["params"]) == set(CoupledParams.names()) and document["fidelity"]["r2"]
    env = gym.make(ENV_ID, calibration=str(out), horizon=10)
    env.reset(seed=0)
    env.step(0)


# ---------------------------------------------------------------------------------------------------- the fidelity
def test_default_calibration_reproduces_its_neural_world_on_held_out_seeds():
    data = Data(BLOCKS)
    calibration = json.loads((CALIBRATION_DIR / "default.json").read_text())
    test = [data.seeds.index(s) for s in calibration["fidelity"]["test_seeds"]]
    means, _ = data.at_block(250)
    curves = expected(data.names, data.horizon)
    for r, name in enumerate(data.names):
        predicted = block_means(curves[name], 250)
        floor = R2_FLOOR_SERIAL_FIRST if name.startswith("sp@") else R2_FLOOR
        assert r_squared(means[test, r].mean(axis=0), predicted) > floor, name
    full = means.mean(axis=2)
    s, p = data.names.index("serial"), data.names.index("parallel")
    neural = full[test, s].mean() / full[test, p].mean() - 1
    surrogate = curves["serial"].mean() / curves["parallel"].mean() - 1
    assert surrogate == pytest.approx(neural, abs=0.05)


#: Per-block (250 trials) R² on the held-out seed at the shipped scale (τ = 5000, fit on seeds 0–1, tested on 2):
#: ≥ 0.956 for every schedule but serial-then-parallel, whose escape time the seeds disagree on (0.30–0.70);
#: docs/findings/coupled-curves.md.
R2_FLOOR, R2_FLOOR_SERIAL_FIRST = 0.95, 0.25
