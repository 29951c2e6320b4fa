"""Learned component allocation: the Gumbel-Matrix framework as tensor functions.

See docs/science/allocation-and-partitions.md.

Each gated layer's units (channels for conv layers) are grouped into ``C`` equal, contiguous *components*;
per layer a ``T × C`` matrix of allocation logits says how likely task ``i`` is to use component ``j``
(``p = sigmoid(logit)``). All layers' matrices sit side by side in one ``(T, Σ C_l)`` matrix, as the task
weights of the learned gates do, so one call gives every layer's allocation.

* Training: a binary allocation is sampled per (task, component) with the straight-through Gumbel-softmax
  (section III-B): ``v = [log p, log(1 − p)] + [g0, g1]``, ``g = −log(−log u)``; the forward value is the argmax
  (use iff ``v0 > v1``), the backward one the softmax ``sigmoid((logit + g0 − g1) / τ)``.
* Evaluation: the maximum-likelihood allocation (use iff ``p ≥ 0.5``; the tie at ``p_init = 0.5`` resolves to
  "use", so an untrained network computes with every component). Deterministic.
* A pass that executes several tasks together (parallel execution) uses a component if *any* of its tasks uses
  it: ``used_j = 1 − Π_i (1 − x_i z_ij)`` for the pass's task vector ``x``.
* Budget penalty (section III-D): ``λ · max(0, e_c − b)``, ``e_c`` the mean allocation probability over every
  task, component and layer.
* Task embeddings (section III-E): each task's binary ML allocations, concatenated over layers.

Everything takes a leading batch axis ``J`` (stacked networks), so the batched learner and the single network
share these functions. Noise comes from the caller's ``torch.Generator``; nothing here touches the global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def logit(p: float) -> float:
    """``log(p / (1 − p))``: the allocation logit whose use probability is ``p`` (0 < p < 1)."""
    return math.log(p) - math.log1p(-p)


def component_columns(units: Sequence[int], components: int) -> torch.Tensor:
    """``(Σ units,)`` long: for every unit of every layer (layers side by side), its column in the
    ``(T, len(units)·components)`` allocation matrix. Unit ``u`` of a layer of ``n`` units belongs to that
    layer's component ``⌊u·C/n⌋``: ``C`` contiguous groups of equal size (sizes differ by at most one when
    ``C`` does not divide ``n``)."""
    columns = []
    for layer, n in enumerate(units):
        if n < components:
            raise ValueError(f"components must be <= every gated layer's width, got {components} for a layer of {n}")
        columns.append(layer * components + torch.arange(n) * components // n)
    return torch.cat(columns)


def gumbel_noise(shape: Sequence[int], generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(2, *shape)`` Gumbel(0, 1) draws ``g = −log(−log u)``, ``u ~ U(0, 1)`` from ``generator``: one pair
    (for "use", "not use") per allocation variable."""
    u = torch.rand(2, *shape, generator=generator)
    tiny = torch.finfo(u.dtype).tiny  # u = 0 would give −log(−log 0) = −inf
    return (-torch.log(-torch.log(u.clamp_min(tiny)))).to(device)


def sample_allocation(logits: torch.Tensor, noise: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Straight-through Gumbel-softmax sample of the binary allocations; shape of ``logits``.

    ``logits`` ``(..., T, C)``; ``noise`` ``(2, ..., T, C)`` from :func:`gumbel_noise`. Forward: the hard
    {0, 1} argmax of ``[logit + g0, g1]`` (``log p − log(1 − p) = logit``, so comparing ``log p + g0`` with
    ``log(1 − p) + g1`` is comparing these); backward: the gradient of its soft version
    ``sigmoid((logit + g0 − g1) / τ)``, the two-class softmax.
    """
    assert noise.shape == (2, *logits.shape), (noise.shape, logits.shape)
    soft = torch.sigmoid((logits + noise[0] - noise[1]) / temperature)
    hard = (logits + noise[0] > noise[1]).to(logits.dtype)
    return hard + (soft - soft.detach())  # value: exactly hard (x − x = 0 in floats); gradient: soft's


def ml_allocation(logits: torch.Tensor) -> torch.Tensor:
    """The maximum-likelihood allocation: 1 where ``p = sigmoid(logit) ≥ 0.5``, else 0 (no gradient)."""
    return (logits.detach() >= 0).to(logits.dtype)


def used_components(allocation: torch.Tensor, task: torch.Tensor) -> torch.Tensor:
    """``(J, C_total)`` whether a pass with task vector ``task`` ``(J, T)`` uses each component: any executed
    task that uses it does. ``allocation`` ``(J, T, C_total)`` binary (with straight-through gradients)."""
    assert allocation.shape[:2] == task.shape, (allocation.shape, task.shape)
    unused = (1.0 - task[:, :, None] * allocation).prod(dim=1)  # J C: every executed task leaves it out
    return 1.0 - unused


def allocation_gates(
    logits: torch.Tensor,
    task: torch.Tensor,
    columns: torch.Tensor,
    *,
    noise: torch.Tensor | None = None,
    temperature: float = 1.0,
) -> torch.Tensor:
    """``(J, Σ units)`` per-unit gates in {0, 1}: the used components of ``task``'s pass, spread over their units.

    ``logits`` ``(J, T, C_total)``; ``task`` ``(J, T)`` summed one-hots; ``columns`` from
    :func:`component_columns`. ``noise`` ``(2, J, T, C_total)`` samples the allocation (training); ``None``
    takes the maximum-likelihood one (evaluation).
    """
    allocation = ml_allocation(logits) if noise is None else sample_allocation(logits, noise, temperature)
    return used_components(allocation, task)[:, columns]


def budget_penalty(logits: torch.Tensor, budget: float, weight: float) -> torch.Tensor:
    """``(J,)`` ``λ · max(0, e_c − b)`` with ``e_c`` the mean allocation probability of each of the J networks.

    ``logits`` ``(J, T, C_total)``; ``weight`` λ ≥ 0, ``budget`` b in (0, 1].
    """
    expected = torch.sigmoid(logits).flatten(1).mean(1)  # J: e_c, the expected share of active allocations
    return weight * torch.relu(expected - budget)
