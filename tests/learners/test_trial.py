"""One trial: reward from the pass before its update, serial vs parallel passes, errors, and learning."""

import numpy as np
import pytest
import torch

from tradeoff_gym.learners.batched import TaskLearner
from tradeoff_gym.learners.probes import layer_correlations
from tradeoff_gym.learners.tasks import PARALLEL_SCHEDULE, SERIAL_SCHEDULE, check_schedule, is_valid_pass
from tradeoff_gym.learners.trial import LearnerConfig, NonFiniteLossError

#: A small, fast learner for tests.
SMALL = LearnerConfig().replace(
    image_size=16, grid=2, sprite_size=7, batch_size=16, gps_units=16, conv_channels=(4, 8), hidden_units=(32,)
)


def test_valid_passes_are_the_two_pairs_and_schedules_cover_every_task():
    assert is_valid_pass((0, 3)) and is_valid_pass((1, 2))
    assert not is_valid_pass((0, 1))  # same input (GPS)
    assert not is_valid_pass((0, 2))  # same output (location)
    check_schedule(SERIAL_SCHEDULE)
    check_schedule(((0, 3), (1,), (2,)))  # a mixed strategy is allowed
    with pytest.raises(ValueError, match="valid multitask"):
        check_schedule(((0, 1), (2, 3)))
    with pytest.raises(ValueError, match="exactly once"):
        check_schedule(((0, 3),))


def test_reward_is_scored_before_the_update_of_its_pass():
    learner = TaskLearner(SMALL, seed=0)
    twin = TaskLearner(SMALL, seed=0)
    batch = twin.next_batch()
    with torch.no_grad():  # the untouched twin's answers on task 0 = the first pass's score
        loc = twin.network(batch.gps, batch.image, torch.tensor([1.0, 0, 0, 0]))[0]
    expected = (loc.argmax(1) == batch.labels[:, 0]).float().mean().item()
    accuracy = learner.trial(SERIAL_SCHEDULE)
    assert accuracy[0] == pytest.approx(expected)
    assert not all(torch.equal(p, q) for p, q in zip(learner.network.parameters(), twin.network.parameters()))


def test_serial_takes_four_updates_and_parallel_two():
    for schedule, steps in ((SERIAL_SCHEDULE, 4), (PARALLEL_SCHEDULE, 2)):
        learner = TaskLearner(SMALL, seed=1)
        learner.trial(schedule)
        assert learner.steps == steps


def test_data_stream_is_the_same_whatever_the_strategy():
    a, b = TaskLearner(SMALL, seed=2), TaskLearner(SMALL, seed=2)
    a.trial(SERIAL_SCHEDULE)
    b.trial(PARALLEL_SCHEDULE)
    assert torch.equal(a.next_batch().image, b.next_batch().image)


def test_probing_does_not_change_training():
    a, b = TaskLearner(SMALL, seed=3), TaskLearner(SMALL, seed=3)
    runs = []
    for learner, probe in ((a, True), (b, False)):
        acc = []
        for _ in range(5):
            acc.append(learner.trial(SERIAL_SCHEDULE))
            if probe:
                learner.probe(32)
        runs.append(np.array(acc))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_nan_loss_stops_with_a_clear_error():
    learner = TaskLearner(SMALL, seed=0)
    with torch.no_grad():
        learner.network.fc_w[0].fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="non-finite training loss"):
        learner.trial(PARALLEL_SCHEDULE)


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": "tpu9"}, "device"),
        ({"momentum": 0.9}, "unknown learner setting"),
        ({"lr": True}, r"lr must lie in \(0.0, inf\)"),
        ({"lr": float("inf")}, "lr"),
        ({"batch_size": True}, "batch_size"),
        ({"threads": 0}, r"threads must be an integer in \[1, 1024\]"),
        ({"threads": True}, "threads"),
        ({"world": "x"}, "world must be a DroneWorldConfig"),
        ({"world": 42, "jitter": 0}, "world must be a DroneWorldConfig"),
        ({"network": 42}, "network must be a NetworkConfig"),
        ({"network": None, "beta": 2.0}, "network must be a NetworkConfig"),
        ({"jitter": 9}, r"jitter must lie in \[0, 3\]"),
    ],
)
def test_bad_learner_settings_name_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        SMALL.replace(**settings)


def test_the_learner_works_under_its_own_thread_count_and_restores_the_callers(monkeypatch):
    before = torch.get_num_threads()
    original, seen = torch.nn.functional.cross_entropy, []

    def spy(*args, **kwargs):  # records the thread count every training pass runs with
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", spy)
    try:
        torch.set_num_threads(2)  # the caller's setting
        learner = TaskLearner(SMALL, seed=0)  # threads=1 by default
        learner.trial(SERIAL_SCHEDULE)
        assert seen == [1, 1, 1, 1, 1, 1, 1, 1]  # 4 passes × 2 heads, all with the learner's count
        assert torch.get_num_threads() == 2  # the caller's count is back
        learner.probe(16)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_layer_correlations_of_identical_tasks_are_one():
    # At overlap 1 every task has the same gates on the masked GPS layer, which sees only the input: its
    # task representations are identical. (Later layers follow learned, task-specific gates.)
    learner = TaskLearner(SMALL.replace(overlap=1.0), seed=0)
    corr = layer_correlations(learner.network, learner.probe_set(64))
    assert corr.shape == (len(learner.network.layer_units), 4, 4)
    np.testing.assert_allclose(corr[0], 1.0, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("schedule", [SERIAL_SCHEDULE, PARALLEL_SCHEDULE], ids=["serial", "parallel"])
def test_the_network_learns_all_four_tasks(schedule):
    learner = TaskLearner(SMALL.replace(lr=2e-3, beta=2.0), seed=0)  # fast-learning settings, small budget
    accuracy = np.array([learner.trial(schedule) for _ in range(300)])  # (trials, tasks)
    chance = 1 / 4  # 4 locations, 4 types
    assert accuracy[:10].mean() < 0.45
    assert accuracy[-30:].mean() > 0.7, accuracy[-30:].mean(0)
    assert np.all(accuracy[-30:].mean(0) > 1.6 * chance)


def test_parallel_error_without_the_null_class_scores_each_heads_best_real_answer():
    from tradeoff_gym.learners.probes import execution_error, probe

    learner = TaskLearner(SMALL, seed=4)
    net, batch = learner.network, learner.probe_set(64)
    with torch.no_grad():
        for end in np.cumsum(net.head_sizes):  # every head's null class (its last row) wins by far
            net.head_b[end - 1] = 1e4
    assert (execution_error(net, batch, PARALLEL_SCHEDULE) == 1.0).all()  # a null answer is never right
    no_null = execution_error(net, batch, PARALLEL_SCHEDULE, exclude_null=True)
    expected = []
    with torch.no_grad():
        for tasks in PARALLEL_SCHEDULE:  # by hand: argmax over each head's real classes
            x = torch.zeros(4)
            x[list(tasks)] = 1.0
            heads = net(batch.gps, batch.image, x)[:-1]
            for t in tasks:
                head = heads[0 if t in (0, 2) else 1]
                expected.append((t, float((head[:, :-1].argmax(1) != batch.labels[:, t]).float().mean())))
    assert no_null.tolist() == [value for _, value in sorted(expected)] and (no_null < 1).any()
    metrics = probe(net, batch).metrics()
    assert metrics["parallel_error"] == 1.0 and metrics["parallel_error_no_null"] == pytest.approx(no_null.mean())
    assert np.isfinite(metrics["corr_conv1_t3t4"]) and "corr_fc1_t1t2" in metrics  # every pair of tasks
