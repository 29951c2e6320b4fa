"""The Gumbel-Matrix synthetic task family: relatedness ρ by construction, the hand-set patterns, replay and scoring."""

import numpy as np
import pytest
import torch

from tradeoff_gym.learners.relatedness import (
    RelatednessConfig,
    RelatednessLearner,
    fixed_allocation,
    labels,
    task_weights,
)


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_task_weights_are_unit_vectors_with_dot_product_rho_in_a_group(rho):
    config = RelatednessConfig(groups=2, group_size=2, rho=rho, dim=12)
    w = task_weights(config, torch.Generator().manual_seed(0))
    gram = w @ w.T
    expected = torch.tensor([[1, rho, 0, 0], [rho, 1, 0, 0], [0, 0, 1, rho], [0, 0, rho, 1.0]])
    torch.testing.assert_close(gram, expected, atol=1e-5, rtol=0)


def test_labels_follow_the_formula():
    x = torch.tensor([[[1.0, 2.0]]])  # T=1, B=1, dim=2
    w = torch.tensor([[0.6, 0.8]])  # wᵀx = 2.2
    expected = 2.2 + sum(np.sin(i * 2.2 + (i - 1) ** 2) for i in (1, 2, 3)) + 0.1 * 0.5
    assert labels(x, w, 3, torch.tensor([[0.5]])).item() == pytest.approx(expected, rel=1e-5)


def test_hand_set_patterns_share_all_or_deal_the_components_out():
    assert fixed_allocation(RelatednessConfig(pattern="shared")).tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]
    assert fixed_allocation(RelatednessConfig(pattern="separate")).tolist() == [[1, 1, 0, 0], [0, 0, 1, 1]]
    with pytest.raises(ValueError, match="components"):
        RelatednessConfig(pattern="separate", groups=3, components=4)


def test_a_seed_replays_bit_identically_and_r2_is_one_minus_relative_error():
    config = RelatednessConfig(dim=8, hidden=4)
    a, b = RelatednessLearner(config, 3), RelatednessLearner(config, 3)
    first = [a.step() for _ in range(5)]
    second = [b.step() for _ in range(5)]
    for (r2_a, mse_a), (r2_b, mse_b) in zip(first, second):
        np.testing.assert_array_equal(mse_a, mse_b)
        np.testing.assert_array_equal(r2_a, r2_b)
        np.testing.assert_allclose(r2_a, 1 - mse_a / a.label_var.numpy(), rtol=1e-6)
    assert not torch.equal(a.logits, torch.zeros_like(a.logits)), "the allocation logits learn"
    assert a.overlaps().shape == (2, 2) and torch.all(a.overlaps().diagonal() == a.allocation().mean(1))


@pytest.mark.parametrize("settings, field", [({"rho": 1.5}, "rho"), ({"pattern": "some"}, "pattern"),
                                             ({"dim": 2}, "dim"), ({"heads": 1}, "heads")])
def test_bad_settings_name_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        RelatednessConfig(**settings)
