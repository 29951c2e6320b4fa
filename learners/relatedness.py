"""The Gumbel-Matrix paper's synthetic check: regression tasks of controlled relatedness ρ on a modular network.

Tasks (the paper's appendix A1, after Ma et al. 2018): orthonormal unit vectors in ``R^d``; tasks come in ``groups`` of
``group_size``; a group's first task has weight ``w = u_g`` (the group's own direction), its other tasks
``w = ρ·u_g + √(1 − ρ²)·v_t`` (``v_t`` a direction of their own), so ρ = 1 makes them the same task up to noise
and ρ = 0 unrelated; tasks of different groups are always unrelated. Inputs ``x ~ N(0, I_d)``; labels
``y = wᵀx + Σ_{i=1..m} sin(α_i wᵀx + β_i) + ε``, ``α_i = i``, ``β_i = (i − 1)²``, ``ε ~ N(0, 0.01)``.

Network (the paper's section II, appendix A2–A3): ``components`` parallel components, each a small fully connected stack
``d → hidden → outputs`` (ReLU on hidden units, and on output units when there are heads); a task's input goes
through the components its allocation uses, whose outputs are averaged, then through a task head
(``heads=True``: a linear map per task to one number; ``heads=False``: the mean of the outputs is the
prediction, as in appendix A3, so two tasks with the same allocation compute the same function). The
allocation is a setting: ``"shared"`` (every task uses every component: the shared bottom), ``"separate"`` (the
components dealt out evenly, no two tasks share one: no sharing), or ``"learned"`` (the Gumbel-Matrix,
:mod:`tradeoff_gym.learners.allocation`: sampled in training, maximum likelihood when probed).

A step trains every task once on a fresh batch of its own (section V: one batch per task) with one Adam step on the
mean of the tasks' squared errors (gradient norm clipped to 1, as the paper's appendix A3); each task's score is
``R² = 1 − MSE / Var(y)`` on that batch before the update. All randomness comes from generators split from the
seed; the global RNG is never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from tradeoff_gym.learners.allocation import gumbel_noise, logit, ml_allocation, sample_allocation
from tradeoff_gym.learners.checks import check_choice, check_int, check_number, check_positive_int

PATTERNS: tuple[str, ...] = ("shared", "separate", "learned")
Pattern = Literal["shared", "separate", "learned"]
#: Label noise std (the paper's ε ~ N(0, 0.01) is a variance).
LABEL_NOISE = 0.1


@dataclass(frozen=True)
class RelatednessConfig:
    """Settings of a :class:`RelatednessLearner`; validated at construction.

    Tasks: ``groups`` × ``group_size`` tasks, ``rho`` the relatedness within a group (in [0, 1]), ``dim`` the input
    dimension d, ``sines`` the non-linearity m. Network: ``components`` C, each ``dim → hidden → outputs``;
    ``heads`` task-specific linear heads (section II) or none (appendix A3); ``pattern`` the allocation; with
    ``"learned"``: ``p_init`` and ``temperature`` as :class:`tradeoff_gym.learners.gated_network.NetworkConfig`'s.
    Training: ``batch_size`` examples per task per step, Adam with ``lr``.
    """

    groups: int = 1
    group_size: int = 2
    rho: float = 1.0
    dim: int = 32
    sines: int = 6
    components: int = 4
    hidden: int = 8
    outputs: int = 4
    heads: bool = True
    pattern: Pattern = "learned"
    p_init: float = 0.5
    temperature: float = 1.0
    batch_size: int = 64
    lr: float = 0.01

    def __post_init__(self) -> None:
        for name in ("groups", "group_size", "components", "hidden", "outputs", "batch_size"):
            check_positive_int(getattr(self, name), name)
        check_int(self.sines, "sines", 0)
        object.__setattr__(self, "rho", check_number(self.rho, "rho", 0.0, 1.0))
        check_choice(self.pattern, PATTERNS, "pattern")
        if not isinstance(self.heads, bool):
            raise ValueError(f"heads must be True or False, got {self.heads!r}")
        if check_int(self.dim, "dim", 1) < self.groups * (self.group_size + 1):
            raise ValueError(f"dim must be >= groups·(group_size + 1) = {self.groups * (self.group_size + 1)} "
                             f"(one orthogonal direction per group and per task), got {self.dim}")
        if self.pattern == "separate" and self.components < self.n_tasks:
            raise ValueError(f"pattern 'separate' needs components >= n_tasks = {self.n_tasks}, got {self.components}")
        object.__setattr__(self, "p_init", check_number(self.p_init, "p_init", 0.0, 1.0, low_open=True, high_open=True))
        object.__setattr__(self, "temperature", check_number(self.temperature, "temperature", 0.0, low_open=True))
        object.__setattr__(self, "lr", check_number(self.lr, "lr", 0.0, low_open=True))

    @property
    def n_tasks(self) -> int:
        """Tasks in all: ``groups · group_size``."""
        return self.groups * self.group_size

    def group_of(self) -> np.ndarray:
        """``(n_tasks,)`` each task's group."""
        return np.repeat(np.arange(self.groups), self.group_size)


def task_weights(config: RelatednessConfig, generator: torch.Generator) -> torch.Tensor:
    """``(n_tasks, dim)`` the tasks' weights (appendix A1, ``c = 1``): unit norm, ``w_1·w_2 = ρ`` in a group."""
    n = config.groups * (config.group_size + 1)
    gaussian = torch.randn(config.dim, n, generator=generator, dtype=torch.float64)
    basis, _ = torch.linalg.qr(gaussian)  # dim n: orthonormal columns
    basis = basis.T.float()
    rows = []
    for g in range(config.groups):
        base, own = basis[g], basis[config.groups + g * config.group_size :]
        for t in range(config.group_size):
            rows.append(base if t == 0 else config.rho * base + (1 - config.rho**2) ** 0.5 * own[t])
    return torch.stack(rows)


def labels(x: torch.Tensor, weights: torch.Tensor, sines: int, noise: torch.Tensor) -> torch.Tensor:
    """``(T, B)`` labels ``wᵀx + Σ_i sin(i·wᵀx + (i − 1)²) + ε`` of inputs ``x`` ``(T, B, dim)``, ``noise`` (T, B)."""
    z = torch.einsum("tbd,td->tb", x, weights)  # T B
    i = torch.arange(1, sines + 1, dtype=x.dtype)
    return z + torch.sin(z[..., None] * i + (i - 1) ** 2).sum(-1) + LABEL_NOISE * noise


def fixed_allocation(config: RelatednessConfig) -> torch.Tensor:
    """``(n_tasks, components)`` the hand-set pattern: all ones (shared) or an even deal (separate)."""
    if config.pattern == "shared":
        return torch.ones(config.n_tasks, config.components)
    owner = torch.arange(config.components) * config.n_tasks // config.components  # component → its task
    return (owner[None, :] == torch.arange(config.n_tasks)[:, None]).float()


class ModularRegressor(nn.Module):
    """The components (stacked on a leading C axis) and the task heads; ``forward(x, allocation)`` → ``(T, B)``."""

    def __init__(self, config: RelatednessConfig, generator: torch.Generator) -> None:
        super().__init__()
        c, d, h, o, t = config.components, config.dim, config.hidden, config.outputs, config.n_tasks

        def uniform(*shape: int, fan_in: int) -> nn.Parameter:  # PyTorch's default bound, our generator
            return nn.Parameter((torch.rand(*shape, generator=generator) * 2 - 1) / fan_in**0.5)

        self.w1, self.b1 = uniform(c, d, h, fan_in=d), uniform(c, 1, h, fan_in=d)
        self.w2, self.b2 = uniform(c, h, o, fan_in=h), uniform(c, 1, o, fan_in=h)
        self.heads = config.heads
        if config.heads:
            self.head_w, self.head_b = uniform(t, o, fan_in=o), uniform(t, fan_in=o)

    def forward(self, x: torch.Tensor, allocation: torch.Tensor) -> torch.Tensor:
        """Predictions ``(T, B)`` for each task's inputs ``x`` ``(T, B, dim)`` through its ``allocation`` ``(T, C)``."""
        hidden = torch.relu(torch.einsum("tbd,cdh->tcbh", x, self.w1) + self.b1)  # T C B H
        out = torch.einsum("tcbh,cho->tcbo", hidden, self.w2) + self.b2  # T C B O
        if self.heads:  # ReLU output units before the heads (appendix A2); none without heads (A3): they are the answer
            out = torch.relu(out)
        used = allocation.sum(1).clamp_min(1.0)  # T: no component used → a zero output (as in the paper)
        mean = torch.einsum("tcbo,tc->tbo", out, allocation) / used[:, None, None]  # T B O
        if not self.heads:
            return mean.mean(-1)  # T B
        return torch.einsum("tbo,to->tb", mean, self.head_w) + self.head_b[:, None]


class RelatednessLearner:
    """One run of the synthetic check: tasks, a modular network and its allocation, trained one step at a time.

    ``seed`` determines everything (task directions, data, initial weights, allocation noise), each from its own
    generator. :meth:`step` trains every task once and returns their R² before the update; :meth:`allocation` the
    maximum-likelihood (or fixed) allocation ``(n_tasks, components)``; :meth:`overlaps` the share of components
    two tasks both use (``P = ZZᵀ / C`` of the allocation, as the overlap matrix of partition masks).
    """

    def __init__(self, config: RelatednessConfig, seed: int) -> None:
        self.config = config
        states = np.random.SeedSequence(seed).spawn(4)
        tasks, self._data, init, self._noise = (
            torch.Generator().manual_seed(int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))) for s in states
        )
        self.weights = task_weights(config, tasks)  # T dim
        # Label variance, for R²: estimated once on a large sample from the task generator (not the data stream).
        x = torch.randn(config.n_tasks, 20_000, config.dim, generator=tasks)
        self.label_var = labels(x, self.weights, config.sines, torch.randn(x.shape[:2], generator=tasks)).var(1)  # T
        self.network = ModularRegressor(config, init)
        params = list(self.network.parameters())
        self.logits: torch.Tensor | None = None
        if config.pattern == "learned":
            self.logits = nn.Parameter(torch.full((config.n_tasks, config.components), logit(config.p_init)))
            params.append(self.logits)
        self.optimizer = torch.optim.Adam(params, lr=config.lr)
        self.steps = 0

    def allocation(self) -> torch.Tensor:
        """``(n_tasks, components)`` binary: the fixed pattern, or the maximum-likelihood learned allocation."""
        return fixed_allocation(self.config) if self.logits is None else ml_allocation(self.logits)

    def probabilities(self) -> torch.Tensor:
        """``(n_tasks, components)`` use probabilities (the fixed pattern's 0/1 for hand-set patterns)."""
        return self.allocation() if self.logits is None else torch.sigmoid(self.logits.detach())

    def overlaps(self) -> torch.Tensor:
        """``(n_tasks, n_tasks)`` share of the C components both tasks use (ML allocation); diagonal: each task's."""
        z = self.allocation()
        return z @ z.T / self.config.components

    def step(self) -> tuple[np.ndarray, np.ndarray]:
        """Train every task once on a fresh batch; ``(n_tasks,)`` R² and squared error before the update."""
        cfg = self.config
        x = torch.randn(cfg.n_tasks, cfg.batch_size, cfg.dim, generator=self._data)
        y = labels(x, self.weights, cfg.sines, torch.randn(cfg.n_tasks, cfg.batch_size, generator=self._data))
        if self.logits is None:
            allocation = fixed_allocation(cfg)
        else:
            allocation = sample_allocation(self.logits, gumbel_noise(self.logits.shape, self._noise), cfg.temperature)
        error = ((self.network(x, allocation) - y) ** 2).mean(1)  # T
        self.optimizer.zero_grad(set_to_none=True)
        error.mean().backward()
        nn.utils.clip_grad_norm_([p for group in self.optimizer.param_groups for p in group["params"]], 1.0)
        self.optimizer.step()
        self.steps += 1
        mse = error.detach()
        return (1.0 - mse / self.label_var).numpy(), mse.numpy()
