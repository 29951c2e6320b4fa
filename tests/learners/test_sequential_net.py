"""The sequential-task network, scaled down: deterministic initialisation, honest accuracy, and it learns a task."""

import numpy as np
import pytest
import torch

from tradeoff_gym.learners.sequential_net import SequentialLearner, SequentialNetConfig
from tradeoff_gym.learners.shapes import ShapesConfig, balanced_indices, make_shapes, task_labels


def test_same_generator_seed_gives_identical_networks():
    config = SequentialNetConfig(n_tasks=3)
    nets = [SequentialLearner(config, torch.Generator().manual_seed(4)).net for _ in range(2)]
    other = SequentialLearner(config, torch.Generator().manual_seed(5)).net
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, c) for a, c in zip(nets[0].parameters(), other.parameters()))


def test_task_one_hot_enters_after_the_conv_trunk():
    config = SequentialNetConfig(n_tasks=4, channels=(4, 8), hidden=(16,), image_size=24)
    net = SequentialLearner(config, torch.Generator().manual_seed(0)).net.eval()
    images = torch.rand(5, 3, 24, 24, generator=torch.Generator().manual_seed(1))
    features = net.features(images)
    assert features.shape == (5, config.trunk_features) == (5, 8 * 6 * 6)
    logits = [net(images, torch.full((5,), t)) for t in range(4)]
    assert logits[0].shape == (5,)
    assert not torch.allclose(logits[0], logits[1])  # the task changes the answer


def test_balanced_accuracy_is_the_mean_of_yes_and_no_recall():
    config = SequentialNetConfig(n_tasks=2, channels=(4,), hidden=(8,), image_size=24)
    learner = SequentialLearner(config, torch.Generator().manual_seed(0))
    images = torch.rand(40, 3, 24, 24, generator=torch.Generator().manual_seed(2))
    labels = torch.zeros(40, 2, dtype=torch.bool)
    labels[:10, 0] = True
    labels[::2, 1] = True
    got = learner.balanced_accuracy(images, labels, torch.arange(2))
    learner.net.eval()
    with torch.no_grad():
        for t in range(2):
            said = (learner.net(images, torch.full((40,), t)) > 0).numpy()
            truth = labels[:, t].numpy()
            expected = 0.5 * ((said & truth).sum() / truth.sum() + (~said & ~truth).sum() / (~truth).sum())
            assert got[t] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"channels": ()}, "channels"),
        ({"hidden": (0,)}, "hidden"),
        ({"image_size": 20}, "image_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"n_tasks": 0}, "n_tasks"),
        ({"learning_rate": True}, r"learning_rate must lie in \(0.0, 1.0\]"),
        ({"batch_norm": "yes"}, "batch_norm must be True or False"),
        ({"threads": 0}, "threads"),
        ({"channels": 8}, "channels"),
        ({"hidden": (16, True)}, "hidden"),
    ],
)
def test_bad_config_names_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        SequentialNetConfig(**settings)


def test_training_and_scoring_run_under_the_learners_thread_count():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        config = SequentialNetConfig(n_tasks=2, channels=(4,), hidden=(8,), image_size=24)
        learner = SequentialLearner(config, torch.Generator().manual_seed(0))
        images = torch.rand(8, 3, 24, 24, generator=torch.Generator().manual_seed(1))
        seen = []
        learner.net.trunk.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
        learner.train_batch(images, torch.zeros(8, dtype=torch.long), torch.ones(8))
        learner.balanced_accuracy(images, torch.ones(8, 2, dtype=torch.bool), torch.arange(2))
        assert seen == [1, 1] and torch.get_num_threads() == 2  # a training pass and a scoring pass
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_network_learns_a_colour_task_to_criterion_on_the_hold_out_set():
    data = make_shapes(ShapesConfig(n_train=2000, n_holdout=400))
    features = np.array([0, 2])  # "is there a red object?", "is there a blue object?"
    train_labels = task_labels(data.train, 1, features)
    holdout_labels = torch.as_tensor(task_labels(data.holdout, 1, features))
    images, holdout = torch.tensor(data.train.images), torch.tensor(data.holdout.images)
    learner = SequentialLearner(SequentialNetConfig(n_tasks=2), torch.Generator().manual_seed(0))
    rng = np.random.default_rng(0)
    before = learner.balanced_accuracy(holdout, holdout_labels, torch.arange(2))
    tasks = np.zeros(32, dtype=np.int64)  # train task 0 only
    for _ in range(150):
        indices, targets = balanced_indices(train_labels, tasks, rng)
        learner.train_batch(images[indices], torch.as_tensor(tasks), torch.as_tensor(targets))
    after = learner.balanced_accuracy(holdout, holdout_labels, torch.arange(2))
    assert before[0] < 0.7 and after[0] >= 0.93  # learned "red" to near criterion on unseen images
    assert after[1] < 0.8  # and did not thereby learn "blue"
