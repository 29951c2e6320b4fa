"""BatchedLearner: K learners in one tensor program are K TaskLearners — same data, same init, the same floats."""

import numpy as np
import pytest
import torch

from tradeoff_gym.learners.batched import BatchedLearner, TaskLearner
from tradeoff_gym.learners.tasks import PARALLEL_SCHEDULE, SERIAL_SCHEDULE
from tradeoff_gym.learners.trial import LearnerConfig, NonFiniteLossError

#: A small, fast learner for tests (as tests/learners/test_trial.py).
SMALL = LearnerConfig().replace(
    image_size=16, grid=2, sprite_size=7, batch_size=16, gps_units=16, conv_channels=(4, 8), hidden_units=(32,)
)
SEEDS = (5, 6, 7)


def mixed(trial: int) -> list:
    """Learner 0 serial, 1 parallel, 2 alternating (parallel first)."""
    return [SERIAL_SCHEDULE, PARALLEL_SCHEDULE, SERIAL_SCHEDULE if trial % 2 else PARALLEL_SCHEDULE]


def named(network: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach() for n, p in network.named_parameters()}


def test_learner_k_starts_as_a_task_learner_with_its_seed():
    batched = BatchedLearner(SMALL, SEEDS)
    for k, seed in enumerate(SEEDS):
        single = TaskLearner(SMALL, seed)
        for name, value in named(single.network).items():
            assert torch.equal(batched.params[name][k], value), name
        assert torch.equal(batched.world(k).region_type, single.world.region_type)
        for _ in range(3):  # the data stream, batch for batch
            a, b = batched.stream(k).next_batch(), single.next_batch()
            assert all(torch.equal(x, y) for x, y in zip((*a.inputs, a.labels), (*b.inputs, b.labels)))
        assert torch.equal(batched.probe_set(k, 16).image, single.probe_set(16).image)


@pytest.mark.parametrize(
    "config",
    [SMALL, SMALL.replace(optimizer="sgd", lr=0.02), SMALL.replace(overlap=0.5)],
    ids=["adam", "sgd", "overlap"],
)
def test_mixed_schedules_give_each_learner_its_lone_accuracies(config):
    """Mixed schedules (slots of 3, 2 and 1 learners) match K = 1 runs and another batch, up to float drift."""
    batched = BatchedLearner(config, SEEDS)
    singles = [TaskLearner(config, s) for s in SEEDS]
    pair = BatchedLearner(config, SEEDS[::-2])  # learners 2 and 0, in another order and company
    for trial in range(20):
        schedules = mixed(trial)
        accuracy = batched.trial(schedules)  # (K, n_tasks)
        assert accuracy.shape == (3, 4)
        np.testing.assert_allclose(pair.trial(schedules[::-2]), accuracy[::-2], rtol=0, atol=1e-5)
        for k, single in enumerate(singles):
            np.testing.assert_allclose(accuracy[k], single.trial(schedules[k]), rtol=0, atol=1e-5)
    assert batched.trials.tolist() == [20, 20, 20]
    assert batched.steps.tolist() == [80, 40, 60]  # serial 4 steps a trial, parallel 2
    for k, single in enumerate(singles):  # the weights agree up to float drift (Adam's steps amplify it)
        for name, value in named(single.network).items():
            torch.testing.assert_close(batched.params[name][k].detach(), value, rtol=0, atol=1e-3)


def test_a_learner_outside_a_pass_keeps_its_weights_moments_and_step_count():
    batched = BatchedLearner(SMALL, SEEDS)
    batched.trial(mixed(1))
    before = {n: (p.detach().clone(), *(s.clone() for s in batched._state[n])) for n, p in batched.params.items()}
    steps = batched.steps.clone()
    batched.trial([PARALLEL_SCHEDULE, SERIAL_SCHEDULE, None])  # learner 2 sits out; 0 takes 2 slots, 1 takes 4
    assert (batched.steps - steps).tolist() == [2, 4, 0]
    assert batched.trials.tolist() == [2, 2, 1]
    for name, (value, m, v) in before.items():
        assert torch.equal(batched.params[name][2], value[2]), name
        assert torch.equal(batched._state[name][0][2], m[2]) and torch.equal(batched._state[name][1][2], v[2])
        assert not torch.equal(batched.params[name][0], value[0]) or name == "task_weights"
    # The parallel learner was left out of slots 3 and 4: its step count is that of 2 passes.
    single = TaskLearner(SMALL, SEEDS[0])
    single.trial(SERIAL_SCHEDULE)
    single.trial(PARALLEL_SCHEDULE)
    assert single.steps == int(batched.steps[0]) == 6


def test_sitting_out_returns_nan_and_draws_no_data():
    batched = BatchedLearner(SMALL, SEEDS)
    accuracy = batched.trial([None, SERIAL_SCHEDULE, None])
    assert np.isnan(accuracy[[0, 2]]).all() and np.isfinite(accuracy[1]).all()
    single = TaskLearner(SMALL, SEEDS[0])
    assert torch.equal(batched.stream(0).next_batch().image, single.next_batch().image)  # learner 0's stream unread
    assert np.isnan(batched.trial([None, None, None])).all()


def test_same_seeds_and_schedules_replay_bit_identically():
    runs = []
    for _ in range(2):
        batched = BatchedLearner(SMALL, SEEDS)
        accuracy = np.array([batched.trial(mixed(t)) for t in range(6)])
        runs.append((accuracy, {n: p.detach().clone() for n, p in batched.params.items()}))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert all(torch.equal(runs[0][1][n], runs[1][1][n]) for n in runs[0][1])


def test_network_k_holds_learner_ks_current_weights_and_probes_like_a_task_learner():
    batched = BatchedLearner(SMALL, SEEDS)
    single = TaskLearner(SMALL, SEEDS[1])
    a, b = batched.probe(1, 32), single.probe(32)  # untrained: identical weights, identical probe set
    np.testing.assert_array_equal(a.parallel_error, b.parallel_error)
    np.testing.assert_array_equal(a.serial_error, b.serial_error)
    batched.trial(mixed(0))
    assert torch.equal(batched.network(1).fc_w[0], batched.params["fc_w.0"][1])  # a view of the stack
    with torch.no_grad():
        batched.network(2).head_w.fill_(float("nan"))
    assert torch.isnan(batched.params["head_w"][2]).all()
    with pytest.raises(NonFiniteLossError, match=r"learner\(s\) \[0, 1, 2\]"):
        batched.trial(mixed(1))


def test_probing_does_not_change_training():
    runs = []
    for probe in (True, False):
        batched = BatchedLearner(SMALL, SEEDS)
        accuracy = []
        for t in range(4):
            accuracy.append(batched.trial(mixed(t)))
            if probe:
                batched.probe(0, 16)
                batched.probe(2, 16)
        runs.append(np.array(accuracy))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_reset_replaces_one_learner_by_a_fresh_one():
    batched = BatchedLearner(SMALL, SEEDS)
    for t in range(2):
        batched.trial(mixed(t))
    others = {n: p.detach().clone() for n, p in batched.params.items()}
    batched.reset(1, 99)
    fresh = TaskLearner(SMALL, 99)
    for name, value in named(fresh.network).items():
        assert torch.equal(batched.params[name][1], value)
        assert torch.equal(batched.params[name][[0, 2]], others[name][[0, 2]])
        assert not batched._state[name][0][1].any() and not batched._state[name][1][1].any()
    assert batched.steps.tolist() == [8, 0, 6] and batched.trials.tolist() == [2, 0, 2]
    assert batched.seeds == (5, 99, 7)
    schedules = mixed(0)
    np.testing.assert_allclose(batched.trial(schedules)[1], fresh.trial(schedules[1]), atol=1e-5)
    with pytest.raises(ValueError, match=r"learner index must be an integer in \[0, 2\]"):
        batched.reset(3, 0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="at least one seed"):
        BatchedLearner(SMALL, [])
    with pytest.raises(ValueError, match="config must be a LearnerConfig"):
        BatchedLearner("small", [0])
    batched = BatchedLearner(SMALL, SEEDS)
    with pytest.raises(ValueError, match=r"one schedule \(or None\) per learner \(3\), got 2"):
        batched.trial([SERIAL_SCHEDULE, SERIAL_SCHEDULE])


def test_the_learner_works_under_its_own_thread_count_and_restores_the_callers():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        batched = BatchedLearner(SMALL, SEEDS)  # threads=1
        seen = []
        original = batched.forward
        batched.forward = lambda *a: seen.append(torch.get_num_threads()) or original(*a)
        batched.trial(mixed(0))
        assert seen == [1, 1, 1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
