"""Learned allocation (Gumbel-Matrix): sampling, straight-through gradients, ML allocation, the budget
penalty, parallel passes, batching, settings through the envs. (The relatedness check: tests/benchmarks.)"""

import gymnasium as gym
import numpy as np
import pytest
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.learners.allocation import (
    allocation_gates,
    budget_penalty,
    component_columns,
    gumbel_noise,
    logit,
    ml_allocation,
    sample_allocation,
    used_components,
)
from tradeoff_gym.learners.batched import BatchedLearner, TaskLearner
from tradeoff_gym.learners.gated_network import GatedNetwork, NetworkConfig, drone_inputs
from tradeoff_gym.learners.tasks import PARALLEL_SCHEDULE, SERIAL_SCHEDULE
from tradeoff_gym.learners.trial import LearnerConfig

#: A small, fast learner with learned allocation (as tests/learners/test_batched.py's SMALL).
SMALL = LearnerConfig().replace(
    image_size=16, grid=2, sprite_size=7, batch_size=16, gps_units=16, conv_channels=(4, 8), hidden_units=(32,),
    gating="allocation", allocation_lr=0.05,
)
ENV = {"image_size": 16, "grid": 2, "sprite_size": 7, "batch_size": 16, "gps_units": 16, "conv_channels": (4, 8),
       "hidden_units": (32,), "horizon": 6, "cost": 0.3, "gating": "allocation", "components": 2}


def network(config: NetworkConfig, seed: int = 0) -> GatedNetwork:
    return GatedNetwork(config, inputs=drone_inputs(16), n_classes=(4, 4), n_tasks=4,
                        generator=torch.Generator().manual_seed(seed), noise_generator=torch.Generator().manual_seed(1))


NET = NetworkConfig(gps_units=8, conv_channels=(4, 8), hidden_units=(16,), gating="allocation", components=4)


def test_gumbel_samples_use_a_component_with_its_probability():
    p = torch.tensor([0.1, 0.5, 0.8, 0.97])
    logits = torch.logit(p).expand(20_000, 4)
    z = sample_allocation(logits, gumbel_noise(logits.shape, torch.Generator().manual_seed(0)))
    assert set(z.unique().tolist()) <= {0.0, 1.0}  # hard in the forward pass
    np.testing.assert_allclose(z.mean(0).numpy(), p.numpy(), atol=0.012)


def test_straight_through_gradients_reach_the_logits():
    logits = torch.zeros(3, 5, requires_grad=True)
    noise = gumbel_noise((3, 5), torch.Generator().manual_seed(0))
    z = sample_allocation(logits, noise, temperature=0.5)
    weights = torch.arange(15.0).reshape(3, 5)
    (z * weights).sum().backward()
    soft = torch.sigmoid((noise[0] - noise[1]) / 0.5)  # the softmax the backward pass differentiates
    torch.testing.assert_close(logits.grad, weights * soft * (1 - soft) / 0.5)
    # Through the whole network: one sampled forward pass gives every layer's logits a gradient.
    net = network(NET)
    loc, obj, _ = net(torch.randn(8, 2), torch.randn(8, 1, 16, 16), torch.tensor([1.0, 0, 0, 1]))
    (loc.logsumexp(1).sum() + obj.logsumexp(1).sum()).backward()
    grad = net.allocation_logits.grad  # (n_tasks, layers · C)
    assert grad is not None and torch.all(grad[[1, 2]] == 0), "tasks not executed get no gradient"
    assert (grad[[0, 3]].abs().reshape(2, -1, 4).sum(-1) > 0).all(), "every layer of the executed tasks gets one"


def test_ml_allocation_is_deterministic_and_thresholds_at_one_half():
    net = network(NET).eval()
    with torch.no_grad():
        net.allocation_logits.copy_(torch.randn(4, 16, generator=torch.Generator().manual_seed(3)))
        net.allocation_logits[0, 0] = 0.0  # p = 0.5 exactly: ties resolve to "use"
    x = torch.tensor([1.0, 0, 0, 0])
    state = net.noise_generator.get_state()
    first, second = torch.cat(net.gates(x)), torch.cat(net.gates(x))
    assert torch.equal(first, second) and torch.equal(net.noise_generator.get_state(), state)  # no draws
    expected = (net.allocation_logits[0] >= 0).float()[net.component_columns]
    assert torch.equal(first, expected) and first[0] == 1.0
    assert torch.equal(net.task_embeddings(), ml_allocation(net.allocation_logits))
    out_a = net(torch.ones(4, 2), torch.ones(4, 1, 16, 16), x)[0]
    out_b = net(torch.ones(4, 2), torch.ones(4, 1, 16, 16), x)[0]
    assert torch.equal(out_a, out_b)


def test_components_group_units_and_a_parallel_pass_uses_what_either_task_uses():
    columns = component_columns([8, 6], 4)
    assert columns.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7]  # 6 units in 4 groups: sizes 2, 1, 2, 1
    z = torch.tensor([[[1.0, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0, 0]]])  # 3 tasks, 4 components
    assert used_components(z, torch.tensor([[1.0, 1, 0]])).tolist() == [[1, 1, 0, 1]]
    assert used_components(z, torch.tensor([[0.0, 0, 1]])).tolist() == [[0, 0, 0, 0]]
    logits = torch.tensor([[[2.0, -1], [-3.0, 0.5]]])  # ML: task 0 uses c0, task 1 uses c1
    gates = allocation_gates(logits, torch.tensor([[1.0, 1]]), component_columns([4], 2))
    assert gates.tolist() == [[1, 1, 1, 1]]
    assert allocation_gates(logits, torch.tensor([[0.0, 1]]), component_columns([4], 2)).tolist() == [[0, 0, 1, 1]]


def test_budget_penalty_is_zero_under_budget_and_grows_past_it():
    probabilities = torch.tensor([0.2, 0.4, 0.5, 0.6, 0.9])
    logits = torch.logit(probabilities)[:, None, None].expand(5, 2, 3)  # each network's e_c = its probability
    penalty = budget_penalty(logits, budget=0.5, weight=2.0)
    torch.testing.assert_close(penalty, torch.tensor([0.0, 0.0, 0.0, 0.2, 0.8]))
    assert torch.all(budget_penalty(logits, budget=0.5, weight=0.0) == 0)


def test_the_budget_penalty_pulls_the_allocation_under_budget():
    """With a strong penalty the mean use probability falls; without, it does not (the same seed)."""
    shares = {}
    for weight in (0.0, 5.0):
        learner = TaskLearner(SMALL.replace(budget=0.25, budget_weight=weight), seed=0)
        for _ in range(15):
            learner.trial(SERIAL_SCHEDULE)
        shares[weight] = torch.sigmoid(learner.network.allocation_logits).mean().item()
        assert learner.network.budget_penalty().item() == pytest.approx(weight * max(0.0, shares[weight] - 0.25))
    assert shares[5.0] < 0.3 < shares[0.0]


def test_learner_k_of_a_batch_matches_its_lone_run_and_replays_bit_identically():
    seeds = (5, 6, 7)
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    batched = BatchedLearner(SMALL, seeds)
    singles = [TaskLearner(SMALL, s) for s in seeds]
    again = BatchedLearner(SMALL, seeds)
    for trial in range(12):
        schedules = [SERIAL_SCHEDULE, PARALLEL_SCHEDULE, SERIAL_SCHEDULE if trial % 2 else PARALLEL_SCHEDULE]
        accuracy = batched.trial(schedules)
        np.testing.assert_array_equal(again.trial(schedules), accuracy)
        for k, single in enumerate(singles):
            np.testing.assert_allclose(single.trial(schedules[k]), accuracy[k], rtol=0, atol=1e-5)
    assert torch.equal(torch.random.get_rng_state(), before)  # the global RNG was never used
    for k, single in enumerate(singles):
        torch.testing.assert_close(batched.params["allocation_logits"][k].detach(),
                                   single.network.allocation_logits.detach(), rtol=0, atol=1e-3)
    moved = (batched.params["allocation_logits"] - logit(0.5)).abs().amax().item()
    assert moved > 0.1, "training moves the allocation logits"


def test_allocation_is_a_setting_of_the_single_and_the_vector_env():
    single = gym.make("tradeoff/SerialParallel-v0", **ENV)
    vector = gym.make_vec("tradeoff/SerialParallel-v0", num_envs=2, vectorization_mode="vector_entry_point", **ENV)
    assert single.unwrapped.learner is None and single.unwrapped.config.learner.network.gating == "allocation"
    single.reset(seed=11)
    vector.reset(seed=[11, 12])
    assert single.unwrapped.learner.network.allocation_logits.shape == (4, 4 * 2)  # 4 gated layers × 2 components
    for action in (0, 1, 1, 0, 1, 0):
        _, reward, _, _, _ = single.step(action)
        _, rewards, _, _, _ = vector.step(np.array([action, 1 - action]))
        assert reward == pytest.approx(rewards[0], abs=1e-5)
    probe = single.unwrapped.probe()
    assert probe.parallel_error.shape == (4,)
    np.testing.assert_allclose(vector.probe(0).parallel_error, probe.parallel_error, atol=1e-6)


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"gating": "gumbel"}, "gating"),
        ({"gating": "allocation", "components": 0}, "components"),
        ({"gating": "allocation", "components": 9}, "components"),  # conv1 has 8 channels
        ({"gating": "allocation", "p_init": 1.0}, "p_init"),
        ({"gating": "allocation", "temperature": 0.0}, "temperature"),
        ({"gating": "allocation", "budget": 0.0}, "budget"),
        ({"gating": "allocation", "budget_weight": -1.0}, "budget_weight"),
        ({"gating": "allocation", "allocation_lr": 0.0}, "allocation_lr"),
        ({"gating": "allocation", "overlap": 0.5}, "gating='learned'"),
    ],
)
def test_bad_allocation_settings_name_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        envs.check_settings("tradeoff/SerialParallel-v0", **settings)
