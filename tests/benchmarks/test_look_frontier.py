"""The look-frontier study: its scripted schedules, and the replay against hand-computed values."""

import numpy as np
import pytest

from tradeoff_gym.benchmarks.scripts.look_frontier import (
    LookSchedule,
    complete,
    look_ratios,
    play,
    replay,
    reward_rates,
    trial_rewards,
)
from tradeoff_gym.envs.interface import RewardRule

F, T = False, True


def actions(schedule: str, flags: tuple[bool, ...], trials: int) -> list[int]:
    agent = LookSchedule(schedule)
    agent.reset({"serial": flags}, np.random.default_rng(0))
    out = []
    for _ in range(trials):
        out.append(agent.act(np.zeros(1), {}))
        agent.observe(out[-1], 0.5, np.zeros(1), {})
    return out


def test_schedules_play_the_serial_strategy_where_they_say_whatever_its_index():
    assert actions("stay@3", (T, F), 6) == [1, 1, 1, 0, 1, 1]
    assert actions("switch@3", (T, F), 6) == [1, 1, 1, 0, 0, 0]
    assert actions("stay@3", (F, T), 6) == [0, 0, 0, 1, 0, 0]
    assert actions("parallel", (F, T), 3) == [0, 0, 0]
    assert actions("serial", (F, T), 3) == [1, 1, 1]
    assert actions("stay@2+3", (T, F), 7) == [1, 1, 0, 0, 0, 1, 1]
    assert actions("stay@2+1", (T, F), 4) == actions("stay@2", (T, F), 4)


@pytest.mark.parametrize("bad", ["stay", "switch@", "parallel@3", "look@3", "switch@3+2", "stay@3+0", "stay@x"])
def test_a_malformed_schedule_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="schedule must be"):
        LookSchedule(bad)


def test_replay_matches_hand_computed_rates():
    # two seeds, four trials, one task (its accuracy is the raw accuracy), the look at trial 2 against the 2 trials
    # before it; the paper's rule: serial (action 0) paid ÷ (1 + c)
    rule = RewardRule()

    def trajectory(raw, serial):
        return np.asarray(raw, dtype=float)[..., None], np.where(serial, 0, 1)

    never = np.zeros((2, 4), bool)
    look = np.array([[F, F, T, F]] * 2)
    after = np.array([[F, F, T, T]] * 2)
    trajectories = {
        "parallel": trajectory([[0.5] * 4, [0.4] * 4], never),
        "serial": trajectory(np.full((2, 4), 0.8), ~never),
        "stay@2": trajectory([[0.5, 0.5, 0.6, 0.4], [0.4, 0.4, 0.3, 0.4]], look),
        "switch@2": trajectory([[0.5, 0.5, 0.6, 0.9], [0.4, 0.4, 0.3, 0.8]], after),
    }
    np.testing.assert_allclose(look_ratios(trial_rewards(rule, trajectories["switch@2"], 0.0), 2, 2), [1.2, 0.75])
    np.testing.assert_allclose(reward_rates(rule, trajectories["stay@2"], 1.0), [(0.5 + 0.5 + 0.3 + 0.4) / 4,
                                                                                (0.4 + 0.4 + 0.15 + 0.4) / 4])
    ratios = replay(rule, trajectories, 2, 0.9, [0.0, 1.0], 2)
    # c = 0: seed 0 looks 1.2 ≥ 0.9 and switches (0.625), seed 1 looks 0.75 and stays (0.375); best: serial 0.8
    # c = 1: 1.2 / 2 < 0.9, both stay: (0.425 + 0.3375) / 2; best: parallel 0.45
    np.testing.assert_allclose(ratios, [0.5 / 0.8, (0.425 + 0.3375) / 2 / 0.45])


def test_a_stay_episode_is_always_parallel_until_its_look(tmp_path):
    seeds = [0, 1]
    paths = {name: play({"preset": "default"}, name, seeds, 24, tmp_path / f"{name}.npz")
             for name in ("parallel", "stay@12")}
    assert all(complete(path) for path in paths.values())
    data = {name: np.load(path) for name, path in paths.items()}
    parallel, stay = data["parallel"]["accuracy"], data["stay@12"]["accuracy"]  # seeds, trials, tasks
    assert parallel.shape == (2, 24, 4)
    np.testing.assert_array_equal(stay[:, :12], parallel[:, :12])  # one network, one data stream: same history
    assert (data["stay@12"]["action"] == 0).sum(axis=1).tolist() == [1, 1]  # one serial trial (action 0)
    assert (stay[:, 12:] != parallel[:, 12:]).any()  # the serial trial is scored and trains differently
