"""tradeoff/Multitask-v0: the strategy-table generator against hand-enumerated cases, the cost rule, the 3 × 3 world,
the env and its native vector env."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.envs.interface import SERIAL_PARALLEL, RewardRule
from tradeoff_gym.envs.multitask import make_config, schedule_delay, schedule_table
from tradeoff_gym.envs.serial_parallel_vector import SerialParallelVectorEnv
from tradeoff_gym.learners.drone import DroneWorld, DroneWorldConfig
from tradeoff_gym.learners.tasks import (
    DRONE,
    PARALLEL_SCHEDULE,
    SERIAL_SCHEDULE,
    Task,
    TaskSet,
    all_schedules,
    min_passes,
    parallel_schedule,
    refinement_chain,
)

MT = "tradeoff/Multitask-v0"
#: A small learner: episodes in well under a second.
SMALL = dict(
    image_size=16, grid=2, sprite_size=7, batch_size=8, gps_units=8, sonar_size=8, sonar_units=8,
    conv_channels=(4, 8), hidden_units=(16,),
)
THREE_BY_THREE = TaskSet(("gps", "image", "sonar"), ("location", "object", "depth"))


# ---------------------------------------------------------------------------------------- the table generator
def test_the_drone_world_has_exactly_four_schedules_enumerated_by_hand():
    # Valid pairs: only T1+T4 (0, 3) and T2+T3 (1, 2). Partitions: all single, one pair + two singles (twice),
    # both pairs.
    by_hand = {
        ((0,), (1,), (2,), (3,)),
        ((0, 3), (1,), (2,)),
        ((0,), (1, 2), (3,)),
        ((0, 3), (1, 2)),
    }
    assert set(all_schedules(DRONE)) == by_hand and len(all_schedules(DRONE)) == 4
    assert parallel_schedule(DRONE) == PARALLEL_SCHEDULE and min_passes(DRONE) == 2
    strategies, schedules = schedule_table(DRONE, "all")
    named = {s.name: (s.delay, sched) for s, sched in zip(strategies, schedules)}
    assert named == {
        "parallel": (0.0, ((0, 3), (1, 2))),
        "0|1+2|3": (0.5, ((0,), (1, 2), (3,))),
        "0+3|1|2": (0.5, ((0, 3), (1,), (2,))),
        "serial": (1.0, SERIAL_SCHEDULE),
    }
    chain_strategies, chain = schedule_table(DRONE)  # one per pass count
    assert [s.name for s in chain_strategies] == ["parallel", "3-pass", "serial"]
    assert chain == (PARALLEL_SCHEDULE, ((0,), (1, 2), (3,)), SERIAL_SCHEDULE)


def test_a_two_by_three_world_by_hand():
    # inputs a, b; outputs x, y, z; tasks 0 a-x, 1 a-y, 2 a-z, 3 b-x, 4 b-y, 5 b-z. Valid pairs: an a-task with a
    # b-task of another output: 6 pairs. Full parallel needs 3 passes (3 disjoint pairs): 2 ways (the two
    # derangements of 3 outputs); 4 passes = 2 pairs + 2 singles: pick 2 disjoint pairs = 9 ways; 5 passes =
    # 1 pair: 6 ways; serial: 1. Total 18.
    world = TaskSet(("a", "b"), ("x", "y", "z"))
    schedules = all_schedules(world)
    counts = {p: sum(len(s) == p for s in schedules) for p in range(3, 7)}
    assert counts == {3: 2, 4: 9, 5: 6, 6: 1}
    assert set(s for s in schedules if len(s) == 3) == {((0, 4), (1, 5), (2, 3)), ((0, 5), (1, 3), (2, 4))}
    assert len(set(schedules)) == 18 and all(world.check_schedule(s) == s for s in schedules)
    strategies, _ = schedule_table(world)
    assert [s.delay for s in strategies] == [0.0, 1 / 3, 2 / 3, 1.0]


def test_the_three_by_three_chain_is_nested_with_one_schedule_per_pass_count():
    assert len(all_schedules(THREE_BY_THREE)) == 588
    chain = refinement_chain(THREE_BY_THREE)
    assert [len(s) for s in chain] == list(range(3, 10))
    assert chain[0] == ((0, 4, 8), (1, 5, 6), (2, 3, 7))  # pass j: tasks (i, o) with o − i = j mod 3
    for coarse, fine in zip(chain, chain[1:]):  # each splits one task off a pass of the one before
        assert all(any(set(p) <= set(q) for q in coarse) for p in fine)
        assert THREE_BY_THREE.check_schedule(fine) == fine
    strategies, schedules = schedule_table(THREE_BY_THREE)
    assert [s.name for s in strategies] == ["parallel", "4-pass", "5-pass", "6-pass", "7-pass", "8-pass", "serial"]
    assert [s.delay for s in strategies] == pytest.approx([k / 6 for k in range(7)])
    assert [s.serial for s in strategies] == [False] + [True] * 6


def test_the_cost_reduces_to_the_papers_for_serial_and_parallel():
    assert schedule_delay(SERIAL_SCHEDULE, DRONE) == 1.0 and schedule_delay(PARALLEL_SCHEDULE, DRONE) == 0.0
    strategies, _ = schedule_table(DRONE)
    table = {s.name: s for s in strategies}
    assert (table["serial"], table["parallel"]) == SERIAL_PARALLEL
    rule = RewardRule((table["serial"], table["parallel"]))
    accuracy = np.array([0.9, 0.8, 0.7, 0.6])
    assert rule.apply(0, accuracy, 0.4)[1] == pytest.approx(accuracy.mean() / 1.4)
    assert rule.apply(1, accuracy, 0.4)[1] == pytest.approx(accuracy.mean())
    partial = RewardRule(schedule_table(THREE_BY_THREE)[0])  # 5-pass: d = 2/6
    assert partial.apply(2, np.ones(9), 0.9)[1] == pytest.approx(1 / (1 + 0.3))


def test_bad_task_sets_and_worlds_without_multitasking_are_refused():
    with pytest.raises(ValueError, match="at least two inputs and two outputs"):
        schedule_table(TaskSet(("a",), ("x", "y")))
    with pytest.raises(ValueError, match="inputs must be a non-empty tuple of distinct names"):
        TaskSet(("a", "a"), ("x",))
    with pytest.raises(ValueError, match="tasks must be a non-empty tuple of Task"):
        TaskSet(("a",), ("x",), (Task("t", "a", "y"),))
    with pytest.raises(ValueError, match="table must be one of"):
        schedule_table(DRONE, "some")
    with pytest.raises(ValueError, match="not a valid multitask set"):
        THREE_BY_THREE.check_schedule(((0, 1),) + tuple((t,) for t in range(2, 9)))


# ---------------------------------------------------------------------------------------- the 3 × 3 world
def test_the_three_by_three_world_labels_every_task_and_is_deterministic():
    config = DroneWorldConfig(depth=True, sonar_size=24, scales=(0.5, 1.0))
    assert config.task_set == THREE_BY_THREE and config.n_classes == (9, 4, 3)
    world = DroneWorld(config, torch.Generator().manual_seed(0))
    a, b = (world.sample(256, torch.Generator().manual_seed(1)) for _ in range(2))
    assert a.labels.shape == (256, 9) and a.sonar.shape == (256, 24)
    assert all(torch.equal(x, y) for x, y in zip((*a.inputs, a.labels), (*b.inputs, b.labels)))
    for t, task in enumerate(THREE_BY_THREE.tasks):
        n_classes = config.n_classes[THREE_BY_THREE.outputs.index(task.output)]
        assert 0 <= a.labels[:, t].min() and a.labels[:, t].max() < n_classes, task.name
        assert len(a.labels[:, t].unique()) == n_classes, task.name  # every class occurs
    # GPS→depth is the area's depth (the world's map); the image and sonar depths match it 75 % + chance.
    assert torch.equal(a.labels[:, 2], world.region_depth[a.labels[:, 0]])
    assert (a.labels[:, 5] == a.labels[:, 2]).float().mean() > 0.6
    # The sonar's echo peaks inside its contact's cell (location from the trace).
    peak = a.sonar.argmax(1).float() / 23
    cell = a.labels[:, 6].float()
    assert ((peak >= (cell - 0.5) / 9) & (peak <= (cell + 1.5) / 9)).float().mean() > 0.9


def test_the_drone_world_is_the_two_by_two_instance():
    assert DroneWorldConfig().task_set is DRONE and DroneWorldConfig().n_classes == (9, 4)
    assert DroneWorldConfig(sonar_size=8).task_set.n_tasks == 6  # 3 inputs × 2 outputs
    with pytest.raises(ValueError, match="depth must be True or False"):
        DroneWorldConfig(depth=1)


# ---------------------------------------------------------------------------------------- the env
def test_the_env_runs_every_schedule_and_discounts_by_extra_passes():
    env = gym.make(MT, horizon=10, cost=0.6, **SMALL)
    obs, info = env.reset(seed=0)
    assert info["n_tasks"] == 9 and len(info["strategies"]) == 7 and env.action_space.n == 7
    assert info["serial"] == (False,) + (True,) * 6
    for a in range(7):
        obs, reward, _, _, info = env.step(a)
        accuracy = info["task_accuracy"]
        assert info["task_performed"].all()
        assert reward == pytest.approx(accuracy.mean() / (1 + a / 6 * 0.6))
    learner = env.unwrapped.learner
    assert learner.steps == sum(range(3, 10))  # one optimizer step per pass


def test_sub_env_k_of_the_vector_env_plays_the_single_env():
    vec = gym.make_vec(MT, num_envs=3, vectorization_mode="vector_entry_point", horizon=8, costs=[0.2, 0.5, 0.9],
                       **SMALL)
    assert isinstance(vec, SerialParallelVectorEnv) and vec.single_action_space.n == 7
    singles = [gym.make(MT, horizon=8, cost=c, **SMALL) for c in (0.2, 0.5, 0.9)]
    obs, _ = vec.reset(seed=5)
    for k, env in enumerate(singles):
        np.testing.assert_array_equal(obs[k], env.reset(seed=5 + k)[0])
    for trial in range(8):
        actions = np.array([trial % 7, 6 - trial % 7, 3])
        _, rewards, _, truncated, info = vec.step(actions)
        for k, env in enumerate(singles):
            _, reward, _, single_truncated, single_info = env.step(int(actions[k]))
            assert rewards[k] == pytest.approx(reward, abs=1e-5)
            np.testing.assert_allclose(info["task_accuracy"][k], single_info["task_accuracy"], atol=1e-5)
            assert truncated[k] == single_truncated
    assert truncated.all()


def test_settings_shape_the_world_and_its_table():
    config = make_config(depth=False, table="all")  # 3 inputs × 2 outputs: every partition
    assert config.task_set.n_tasks == 6 and len(config.strategies) == 18
    assert make_config().learner.world.scales == (0.5, 1.0)
    assert make_config(scales=(0.7, 1.0)).learner.world.scales == (0.7, 1.0)
    with pytest.raises(ValueError, match="pass either config or table"):
        make_config(config=make_config(), table="all")
