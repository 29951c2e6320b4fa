"""Partition search: P ↔ masks by hand, the search space, ES on a known objective, explicit masks as a
network setting, and K differently masked learners trained in one batch."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.learners.batched import BatchedLearner, TaskLearner
from tradeoff_gym.learners.gated_network import GatedNetwork, NetworkConfig, drone_inputs
from tradeoff_gym.learners.partition import (
    mask_task_weights,
    masks_from_overlap,
    overlap_matrix,
    partition_masks,
    refine_overlap,
)
from tradeoff_gym.learners.partition_search import (
    EvolutionStrategy,
    masks_setting,
    overlap_from_theta,
    random_points,
    theta_from_overlap,
    train_candidates,
)
from tradeoff_gym.learners.tasks import PARALLEL_SCHEDULE, SERIAL_SCHEDULE
from tradeoff_gym.learners.trial import LearnerConfig

SMALL = LearnerConfig().replace(
    image_size=16, grid=2, sprite_size=7, batch_size=16, gps_units=16, conv_channels=(4, 8), hidden_units=(32,)
)
WIDTHS = [16, 4, 8, 32]  # gps, conv1, conv2, fc1: masks on gps, conv2


def test_masks_realise_a_hand_computed_overlap_matrix():
    # 8 units, 2 tasks: each uses half, a quarter shared → regions {0,1}: 2 units, {0}: 2, {1}: 2, none: 2.
    p = np.array([[0.5, 0.25], [0.25, 0.5]])
    masks = masks_from_overlap(p, 8)
    assert masks.sum(0).tolist() == [4, 4] and (masks[:, 0] * masks[:, 1]).sum() == 2
    assert torch.equal(overlap_matrix(masks), torch.tensor(p, dtype=torch.float32))
    # Three tasks, by hand: M = [[1,1,0],[1,0,0],[0,1,1],[0,0,1]] → P = MᵀM / 4, and back to masks with that P.
    hand = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1.0]])
    expected = np.array([[2, 1, 0], [1, 2, 1], [0, 1, 2]]) / 4
    np.testing.assert_array_equal(overlap_matrix(hand).numpy(), expected)
    np.testing.assert_array_equal(overlap_matrix(masks_from_overlap(expected, 4)).numpy(), expected)


def test_refinement_maps_raw_overlaps_between_the_least_and_the_most_the_shares_allow():
    raw = np.array([[0.6, 0.0, 1.0], [0.0, 0.7, 0.5], [1.0, 0.5, 0.2]])
    p = refine_overlap(raw)
    # pair (0,1): shares 0.6 and 0.7 must overlap by at least 0.3, at most 0.6; raw 0 → 0.3
    # pair (0,2): at most min(0.6, 0.2) = 0.2; raw 1 → 0.2; pair (1,2): [0, 0.2], raw 0.5 → 0.1
    np.testing.assert_allclose(p, [[0.6, 0.3, 0.2], [0.3, 0.7, 0.1], [0.2, 0.1, 0.2]])
    assert refine_overlap(raw, min_share=0.25)[2, 2] == 0.25


def test_search_points_map_to_overlaps_and_back():
    p = overlap_matrix(partition_masks(32, 4, 0.5)).numpy()  # a hand-set overlap's P
    np.testing.assert_allclose(overlap_from_theta(theta_from_overlap(p), 4), p, atol=1e-6)
    points = random_points(np.random.default_rng(0), 5, 4)
    assert points.shape == (5, 10) and (0 <= points).all() and (points <= 1).all()
    for theta in points:
        q = overlap_from_theta(theta, 4, min_share=0.125)
        realised = overlap_matrix(masks_from_overlap(q, 64)).numpy()
        assert np.abs(realised - q).max() < 0.05  # whole units: close to the target


def test_evolution_strategy_climbs_a_known_objective():
    """Basic random search on −‖θ − θ*‖² (with noise) moves θ most of the way to θ*; its steps are uphill."""
    target = np.array([0.1, 0.9, 0.3, 0.7, 0.5, 0.2])
    rng = np.random.default_rng(0)

    def f(thetas: np.ndarray) -> np.ndarray:
        return -((np.clip(thetas, 0, 1) - target) ** 2).sum(1) + 0.01 * rng.standard_normal(len(thetas))

    es = EvolutionStrategy(np.full(6, 0.5), directions=8, noise=0.05, step_size=0.05)
    start = np.sum((es.theta - target) ** 2)
    for _ in range(40):
        es.update(f(es.propose(rng)))
    assert np.sum((es.theta - target) ** 2) < 0.1 * start
    with pytest.raises(ValueError, match="propose"):
        es.update(np.zeros(16))


def test_explicit_masks_are_a_network_setting():
    masks = masks_setting(np.array([[0.5, 0.25, 0, 0], [0.25, 0.5, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0.5]]), WIDTHS)
    config = NetworkConfig(gps_units=16, conv_channels=(4, 8), hidden_units=(32,), masks=masks)
    net = GatedNetwork(config, inputs=drone_inputs(16), n_classes=(4, 4), n_tasks=4,
                       generator=torch.Generator().manual_seed(0))
    assert [m is not None for m in net.masks] == [True, False, True, False]
    given = torch.tensor(masks[1], dtype=torch.float32)
    assert torch.equal(net.masks[2], given) and torch.equal(net.task_w[2], mask_task_weights(given, net.beta))
    env = gym.make("tradeoff/SerialParallel-v0", horizon=2, **{k: v for k, v in SMALL.network.__dict__.items()
                                                                if k in ("gps_units", "conv_channels", "hidden_units")},
                   image_size=16, grid=2, sprite_size=7, masks=[np.asarray(m).tolist() for m in masks])
    env.reset(seed=0)
    assert torch.equal(env.unwrapped.learner.network.masks[0], torch.tensor(masks[0], dtype=torch.float32))
    with pytest.raises(ValueError, match="masks"):
        envs.check_settings("tradeoff/SerialParallel-v0", masks=masks)  # default widths: 32-unit gps layer
    with pytest.raises(ValueError, match="masks"):
        NetworkConfig(masks=[[[0, 2]]])
    with pytest.raises(ValueError, match="not both"):
        NetworkConfig(masks=masks, overlap=0.5)


def test_differently_masked_learners_train_in_one_batch_as_they_would_alone():
    p = overlap_matrix(partition_masks(16, 4, 0.25)).numpy()
    nets = [SMALL.network.__class__(**{**SMALL.network.__dict__, "masks": masks_setting(p, WIDTHS)}),
            SMALL.network,  # learned gates beside masked ones
            SMALL.network.__class__(**{**SMALL.network.__dict__, "overlap": 1.0})]
    seeds = [3, 4, 3]
    schedules = [SERIAL_SCHEDULE, PARALLEL_SCHEDULE, SERIAL_SCHEDULE]
    accuracy = train_candidates(SMALL, nets, seeds, schedules, trials=8, max_batch=2)  # two batches: 2 + 1
    assert accuracy.shape == (3, 8, 4)
    for k in range(3):
        alone = TaskLearner(SMALL.replace(network=nets[k]), seeds[k])
        lone = np.stack([alone.trial(schedules[k]) for _ in range(8)])
        np.testing.assert_allclose(accuracy[k], lone, rtol=0, atol=1e-5)
    assert not np.allclose(accuracy[0], accuracy[2])  # same seed, other masks: another learner
    batched = BatchedLearner(SMALL, seeds, nets)
    batched.reset(0, 9)  # a reset learner keeps its own masks
    assert torch.equal(batched.network(0).masks[0], torch.tensor(nets[0].masks[0], dtype=torch.float32))
    with pytest.raises(ValueError, match="only in overlap and masks"):
        BatchedLearner(SMALL, [0, 1], [SMALL.network, SMALL.network.__class__(**{**SMALL.network.__dict__,
                                                                                 "beta": 3.0})])
