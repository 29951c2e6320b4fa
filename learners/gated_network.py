"""The task-gated network of SPEC §2 (000 §2.2, §5.2): every hidden and conv layer is gated by the task.

GPS ``(B, 2)`` → one gated fully connected layer; image ``(B, 1, H, W)`` → gated conv layers (3×3,
stride 2, padding 1, ReLU: each halves the map; strided rather than max-pooled, 3–4× faster on CPU);
both encodings concatenated → gated fully connected layers → a location
head (``L`` cells + null) and an object head (``K`` types + null). Gate of layer ``i`` for task input
``x_t`` ``(n_tasks,)``: ``c_i = sigmoid(x_t · W_t,i − β)``, one value per unit (per channel for conv),
multiplied into the pre-activation: ``h_{i+1} = ReLU((W_h,i h_i + b_i) ⊙ c_i)``.

Parameters are plain tensors initialised from an explicit ``torch.Generator`` (never the global RNG).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from learners.checks import check_choice, check_int, check_number
from learners.partition import check_overlap, mask_task_weights, partition_masks

TASK_INITS: tuple[str, ...] = ("high", "small")
TaskInit = Literal["high", "small"]


@dataclass(frozen=True)
class NetworkConfig:
    """Settings of :class:`GatedNetwork`; validated at construction.

    ``conv_channels`` output channels of each conv layer (3×3, stride 2: each halves the map);
    ``gps_units`` width of the GPS layer; ``hidden_units`` widths of the fully connected layers;
    ``beta`` the gate offset β > 0; ``task_init`` ``"high"`` (task weights uniform in [β, 2β]: every gate
    starts at least half open, biased toward sharing) or ``"small"`` (uniform in ±0.1: gates start near
    ``sigmoid(−β)``, the supplementary variant); ``overlap`` ``None`` (task weights learned) or a fraction
    in [0, 1]: on every other gated layer (gps, conv2, fc2 by default) task weights frozen to partition
    masks with that share of units common to all tasks (Fig 3); the layers between keep learned gates.
    """

    conv_channels: tuple[int, ...] = (8, 16)
    gps_units: int = 32
    hidden_units: tuple[int, ...] = (64, 64)
    beta: float = 5.0
    task_init: TaskInit = "high"
    overlap: float | None = None

    def __post_init__(self) -> None:
        for name in ("conv_channels", "hidden_units"):
            value = getattr(self, name)
            value = tuple(value) if isinstance(value, (tuple, list)) else ()
            if not value or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 4 for v in value):
                raise ValueError(f"{name} must be a non-empty tuple of integers >= 4, got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        check_int(self.gps_units, "gps_units", 4)
        object.__setattr__(self, "beta", check_number(self.beta, "beta", 0.0, 20.0, low_open=True))
        check_choice(self.task_init, TASK_INITS, "task_init")
        object.__setattr__(self, "overlap", check_overlap(self.overlap))

    def check_image_size(self, image_size: int) -> None:
        """Raise a ValueError unless the conv stack leaves at least a 1×1 map from ``image_size`` pixels."""
        minimum = 2 ** len(self.conv_channels)
        if image_size < minimum:
            raise ValueError(
                f"image_size must be >= {minimum} pixels for {len(self.conv_channels)} conv layers "
                f"(each halves the map), got {image_size}"
            )


class GatedNetwork(nn.Module):
    """The task-gated network; ``forward(gps, image, task)`` → (location logits, object logits)."""

    def __init__(
        self,
        config: NetworkConfig,
        *,
        image_size: int,
        n_locations: int,
        n_types: int,
        n_tasks: int,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        config.check_image_size(image_size)
        self.config = cfg = config
        self.n_tasks = n_tasks
        self.beta = float(cfg.beta)
        self.layer_names: list[str] = ["gps"] + [f"conv{i + 1}" for i in range(len(cfg.conv_channels))]
        self.layer_names += [f"fc{i + 1}" for i in range(len(cfg.hidden_units))]

        def weight(*shape: int, fan_in: int) -> nn.Parameter:  # PyTorch's default bound, our generator
            bound = 1.0 / math.sqrt(fan_in)
            return nn.Parameter((torch.rand(*shape, generator=generator) * 2 - 1) * bound)

        self.gps_w = weight(cfg.gps_units, 2, fan_in=2)
        self.gps_b = weight(cfg.gps_units, fan_in=2)
        self.conv_w = nn.ParameterList()
        self.conv_b = nn.ParameterList()
        channels = 1
        for out in cfg.conv_channels:
            fan_in = channels * 9
            self.conv_w.append(weight(out, channels, 3, 3, fan_in=fan_in))
            self.conv_b.append(weight(out, fan_in=fan_in))
            channels = out
        side = image_size
        for _ in cfg.conv_channels:
            side = (side + 1) // 2  # 3×3, stride 2, padding 1
        width = cfg.gps_units + channels * side * side
        self.fc_w = nn.ParameterList()
        self.fc_b = nn.ParameterList()
        for out in cfg.hidden_units:
            self.fc_w.append(weight(out, width, fan_in=width))
            self.fc_b.append(weight(out, fan_in=width))
            width = out
        # Both heads in one matrix (one matmul per pass): rows [0, L] location, [L+1, L+K+1] object;
        # the last class of each head is null ("no response").
        self.n_location_classes = n_locations + 1
        self.head_w = weight(n_locations + 1 + n_types + 1, width, fan_in=width)
        self.head_b = weight(n_locations + 1 + n_types + 1, fan_in=width)

        units = [cfg.gps_units, *cfg.conv_channels, *cfg.hidden_units]
        self.layer_units = units
        # All layers' task weights W_t,i side by side in one (n_tasks, Σ units) matrix: one matmul and one
        # sigmoid per pass give every gate; ``task_w`` holds per-layer views of it.
        u01 = torch.rand(n_tasks, sum(units), generator=generator)
        init = self.beta * (1.0 + u01) if cfg.task_init == "high" else 0.2 * u01 - 0.1
        self.task_weights = nn.Parameter(init)
        # Frozen overlap (SPEC §2, 003's note): partition masks on every other gated layer (the 1st, 3rd, …
        # in depth order gps, conv…, fc…); the layers between keep learned task gates. Masking every layer
        # would give all tasks identical gates at overlap 1, erasing which task is asked, so the heads
        # could not tell whom to answer and whom to give the null response.
        self.masks: list[torch.Tensor | None] | None = None
        frozen = torch.zeros(n_tasks, sum(units))
        frozen_columns = torch.zeros(sum(units), dtype=torch.bool)
        if cfg.overlap is not None:
            self.masks = [partition_masks(u, n_tasks, cfg.overlap) if i % 2 == 0 else None for i, u in enumerate(units)]
            start = 0
            for mask, u in zip(self.masks, units):
                if mask is not None:
                    frozen[:, start : start + u] = mask_task_weights(mask, self.beta)
                    frozen_columns[start : start + u] = True
                start += u
        self.register_buffer("frozen_task_weights", frozen)
        self.register_buffer("frozen_columns", frozen_columns)

    def effective_task_weights(self) -> torch.Tensor:
        """``(n_tasks, Σ units)``: the learned task weights, with masked layers' columns frozen to the masks."""
        if self.masks is None:
            return self.task_weights
        return torch.where(self.frozen_columns, self.frozen_task_weights, self.task_weights)

    @property
    def task_w(self) -> list[torch.Tensor]:
        """Per gated layer, its task weights ``W_t,i`` ``(n_tasks, units_i)``."""
        return list(self.effective_task_weights().split(self.layer_units, dim=1))

    def gates(self, task: torch.Tensor) -> list[torch.Tensor]:
        """Per gated layer, ``c_i = sigmoid(x_t · W_t,i − β)``: a list of ``(units_i,)`` tensors."""
        c = torch.sigmoid(task @ self.effective_task_weights() - self.beta)  # (n_tasks,) @ (n_tasks, Σ units)
        return list(c.split(self.layer_units))

    def forward(
        self, gps: torch.Tensor, image: torch.Tensor, task: torch.Tensor, *, keep: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Logits ``(B, L+1)`` and ``(B, K+1)``, plus each gated layer's activity if ``keep`` (else ``[]``).

        ``gps`` (B, 2), ``image`` (B, 1, H, W), ``task`` (n_tasks,) the summed one-hots of the executed tasks.
        """
        gates = self.gates(task)
        kept: list[torch.Tensor] = []
        g = torch.relu(F.linear(gps, self.gps_w, self.gps_b) * gates[0])  # (B, gps_units)
        if keep:
            kept.append(g)
        h = image  # (B, 1, H, W)
        for i, (w, b) in enumerate(zip(self.conv_w, self.conv_b)):
            h = torch.relu(F.conv2d(h, w, b, stride=2, padding=1) * gates[1 + i][:, None, None])  # (B, C, H/2, W/2)
            if keep:
                kept.append(h)
        h = torch.cat([g, h.flatten(1)], dim=1)  # (B, gps_units + C·side²)
        offset = 1 + len(self.conv_w)
        for i, (w, b) in enumerate(zip(self.fc_w, self.fc_b)):
            h = torch.relu(F.linear(h, w, b) * gates[offset + i])  # (B, hidden_i)
            if keep:
                kept.append(h)
        logits = F.linear(h, self.head_w, self.head_b)  # (B, L+1 + K+1)
        return logits[:, : self.n_location_classes], logits[:, self.n_location_classes :], kept
