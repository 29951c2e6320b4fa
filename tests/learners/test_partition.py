"""Frozen partition masks: overlaps equal the requested fraction; P = MᵀM / c checked by hand."""

import pytest
import torch

from tradeoff_gym.learners.gated_network import GatedNetwork, NetworkConfig, drone_inputs
from tradeoff_gym.learners.partition import mask_task_weights, overlap_matrix, partition_masks


@pytest.mark.parametrize("overlap", [0.0, 0.5, 1.0])
def test_every_pair_of_tasks_shares_the_requested_fraction(overlap):
    masks = partition_masks(64, 4, overlap)  # (64, 4)
    p = overlap_matrix(masks)
    off = p[~torch.eye(4, dtype=torch.bool)]
    assert torch.allclose(off, torch.full_like(off, overlap))
    # Diagonal: the shared units plus an equal exclusive share of the rest.
    assert torch.allclose(torch.diag(p), torch.full((4,), overlap + (1 - overlap) / 4))


def test_overlap_matrix_by_hand():
    masks = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1.0]])  # 4 units, 3 tasks
    expected = torch.tensor([[2, 1, 0], [1, 2, 1], [0, 1, 2.0]]) / 4
    assert torch.equal(overlap_matrix(masks), expected)


def test_masked_task_weights_switch_gates_on_and_off():
    beta = 3.0
    masks = partition_masks(8, 4, 0.5)  # units 0-3 shared, then one exclusive unit per task
    net = GatedNetwork(
        NetworkConfig(beta=beta, overlap=0.5, gps_units=8, conv_channels=(8, 8), hidden_units=(8, 8)),
        inputs=drone_inputs(16), n_classes=(4, 4), n_tasks=4, generator=torch.Generator().manual_seed(0),
    )
    # Masks on every other gated layer (gps, conv2, fc2); conv1 and fc1 keep learned task gates.
    assert [m is not None for m in net.masks] == [True, False, True, False, True]
    assert torch.equal(net.task_w[0], mask_task_weights(masks, beta))
    sum(g.sum() for g in net.gates(torch.tensor([1.0, 1, 0, 0]))).backward()
    grad = net.task_weights.grad.split(net.layer_units, dim=1)
    assert all(torch.all(grad[i] == 0) for i in (0, 2, 4)), "masked layers must stay frozen"
    assert all(grad[i].abs().sum() > 0 for i in (1, 3)), "unmasked layers must keep learning"
    gate = net.gates(torch.tensor([1.0, 0, 0, 0]))[0]  # task 0 alone
    on, off = torch.sigmoid(torch.tensor(beta)), torch.sigmoid(torch.tensor(-beta))
    assert torch.allclose(gate, torch.where(masks[:, 0] > 0, on, off))
    pair = net.gates(torch.tensor([1.0, 0, 0, 1]))[0]  # tasks 0 and 3: a unit is on if either uses it
    assert torch.allclose(pair[masks[:, [0, 3]].sum(1) > 0].min(), on)
    assert torch.allclose(pair[masks[:, [0, 3]].sum(1) == 0], off.expand(2))


@pytest.mark.parametrize("overlap", [-0.1, 1.5, float("nan"), "half"])
def test_overlap_outside_unit_interval_is_rejected(overlap):
    with pytest.raises(ValueError, match="overlap"):
        NetworkConfig(overlap=overlap)
