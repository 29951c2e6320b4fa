"""The gated network: gate formula, shapes, initialisation from its generator only, bad configs."""

import pytest
import torch

from tradeoff_gym.learners.gated_network import GatedNetwork, NetworkConfig, drone_inputs
from tradeoff_gym.learners.trial import LearnerConfig

SMALL = NetworkConfig(gps_units=8, conv_channels=(4, 8), hidden_units=(16,))


def network(config: NetworkConfig = SMALL, seed: int = 0, image_size: int = 16) -> GatedNetwork:
    return GatedNetwork(
        config, inputs=drone_inputs(image_size), n_classes=(4, 4), n_tasks=4,
        generator=torch.Generator().manual_seed(seed),
    )


def test_gates_are_sigmoid_of_task_projection_minus_beta():
    net = network()
    x = torch.tensor([1.0, 0, 0, 1])
    for gate, w in zip(net.gates(x), net.task_w):
        assert torch.allclose(gate, torch.sigmoid(w[0] + w[3] - net.beta))


def test_high_init_opens_gates_and_small_init_keeps_them_nearly_off():
    one = torch.tensor([0, 1.0, 0, 0])
    high = torch.cat(network(SMALL).gates(one))
    small = torch.cat(network(NetworkConfig(**{**SMALL.__dict__, "task_init": "small"})).gates(one))
    assert high.min() >= 0.5 - 1e-6
    assert small.max() < 0.2


def test_output_shapes_and_kept_activity():
    net = network()
    loc, obj, kept = net(torch.zeros(5, 2), torch.zeros(5, 1, 16, 16), torch.tensor([1.0, 0, 0, 0]), keep=True)
    assert loc.shape == (5, 5) and obj.shape == (5, 5)  # L + null, K + null
    assert [tuple(h.shape) for h in kept] == [(5, 8), (5, 4, 8, 8), (5, 8, 4, 4), (5, 16)]
    assert net.layer_names == ["gps", "conv1", "conv2", "fc1"]


def test_initialisation_uses_only_its_generator():
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    a, b = network(seed=3), network(seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)  # global RNG untouched
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = network(seed=4)
    assert not torch.equal(a.conv_w[0], c.conv_w[0])


def test_image_too_small_for_the_conv_stack_is_rejected():
    with pytest.raises(ValueError, match="image_size"):
        network(NetworkConfig(conv_channels=(4, 4, 4, 4, 4)), image_size=16)
    with pytest.raises(ValueError, match="image_size"):
        LearnerConfig().replace(image_size=8, grid=2, sprite_size=5, conv_channels=(4, 4, 4, 4))


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"beta": 0.0}, "beta"),
        ({"task_init": "medium"}, "task_init"),
        ({"hidden_units": ()}, "hidden_units"),
        ({"conv_channels": (8, 2)}, "conv_channels"),
        ({"gps_units": 0}, "gps_units"),
        ({"gps_units": True}, "gps_units"),
        ({"beta": True}, r"beta must lie in \(0.0, 20.0\]"),
        ({"beta": 25.0}, "beta"),
        ({"overlap": True}, "overlap"),
        ({"conv_channels": 8}, "conv_channels"),
        ({"hidden_units": (64, True)}, "hidden_units"),
    ],
)
def test_bad_network_settings_name_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        NetworkConfig(**settings)
