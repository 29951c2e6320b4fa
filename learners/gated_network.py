"""The task-gated network of SPEC §2 (000 §2.2, §5.2): every hidden and conv layer is gated by the task.

Built from the world's inputs and outputs (:attr:`learners.drone.DroneWorldConfig.input_shapes`,
``n_classes``): one encoder per input — a vector input ``(B, d)`` (GPS, sonar) → one gated fully connected
layer; the image ``(B, 1, H, W)`` → gated conv layers (3×3, stride 2, padding 1, ReLU: each halves the map;
strided rather than max-pooled, 3–4× faster on CPU) — the encodings concatenated in input order → gated fully
connected layers → one head per output, each with a null class (drone world: location ``L`` cells + null,
object ``K`` types + null; all heads are rows of one matrix). Gate of layer ``i`` for task input
``x_t`` ``(n_tasks,)``: ``c_i = sigmoid(x_t · W_t,i − β)``, one value per unit (per channel for conv),
multiplied into the pre-activation: ``h_{i+1} = ReLU((W_h,i h_i + b_i) ⊙ c_i)``.

Parameters are plain tensors initialised from an explicit ``torch.Generator`` (never the global RNG).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    ``gps_units`` width of the GPS layer; ``sonar_units`` width of the sonar layer (worlds with a sonar
    input); ``hidden_units`` widths of the fully connected layers;
    ``beta`` the gate offset β > 0; ``task_init`` ``"high"`` (task weights uniform in [β, 2β]: every gate
    starts at least half open, biased toward sharing) or ``"small"`` (uniform in ±0.1: gates start near
    ``sigmoid(−β)``, the supplementary variant); ``overlap`` ``None`` (task weights learned) or a fraction
    in [0, 1]: on every other gated layer (gps, conv2, fc2 by default) task weights frozen to partition
    masks with that share of units common to all tasks (Fig 3); the layers between keep learned gates.
    """

    conv_channels: tuple[int, ...] = (8, 16)
    gps_units: int = 32
    sonar_units: int = 32
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
        check_int(self.sonar_units, "sonar_units", 4)
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

    def encoder_units(self, name: str) -> int:
        """Width of the gated layer that encodes the vector input ``name`` (``<name>_units``)."""
        units = getattr(self, f"{name}_units", None)
        if units is None:
            raise ValueError(f"no encoder width for vector input {name!r}: NetworkConfig has no {name}_units")
        return units


def drone_inputs(image_size: int = 24) -> tuple[tuple[str, str, int], ...]:
    """Input specs ``(name, kind, size)`` of the 2 × 2 drone world with ``image_size``-pixel images."""
    return (("gps", "vector", 2), ("image", "image", image_size))


class GatedNetwork(nn.Module):
    """The task-gated network; ``forward(*inputs, task)`` → (logits per output …, kept activity).

    ``inputs`` ``(name, kind, size)`` per input in input order (kind ``"vector"`` or ``"image"``, at most one
    image), ``n_classes`` the classes per output (a null class is added to each head), ``n_tasks`` the length
    of the task vector. Parameters: ``<input>_w``/``<input>_b`` per vector input, ``conv_w``/``conv_b`` the
    image's conv stack, ``fc_w``/``fc_b``, ``head_w``/``head_b`` (every head's rows), ``task_weights``. Gated
    layers in depth order: the encoders in input order (``gps``, ``conv1``, ``conv2``, [``sonar``]), then
    ``fc1``, ``fc2``, ….
    """

    def __init__(
        self,
        config: NetworkConfig,
        *,
        inputs: Sequence[tuple[str, str, int]],
        n_classes: Sequence[int],
        n_tasks: int,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.config = cfg = config
        self.n_tasks = n_tasks
        self.beta = float(cfg.beta)
        self.inputs = tuple((str(name), str(kind), int(size)) for name, kind, size in inputs)
        kinds = [kind for _, kind, _ in self.inputs]
        if not self.inputs or not set(kinds) <= {"vector", "image"} or kinds.count("image") > 1:
            raise ValueError(f"inputs must be (name, 'vector'|'image', size) with at most one image, got {inputs!r}")

        def weight(*shape: int, fan_in: int) -> nn.Parameter:  # PyTorch's default bound, our generator
            bound = 1.0 / math.sqrt(fan_in)
            return nn.Parameter((torch.rand(*shape, generator=generator) * 2 - 1) * bound)

        # Encoders in input order (parameters drawn in that order from the generator).
        self.layer_names: list[str] = []
        units: list[int] = []
        width = 0
        for name, kind, size in self.inputs:
            if kind == "vector":
                out = cfg.encoder_units(name)
                setattr(self, f"{name}_w", weight(out, size, fan_in=size))
                setattr(self, f"{name}_b", weight(out, fan_in=size))
                self.layer_names.append(name)
                units.append(out)
                width += out
                continue
            config.check_image_size(size)
            self.conv_w = nn.ParameterList()
            self.conv_b = nn.ParameterList()
            channels = 1
            for i, out in enumerate(cfg.conv_channels):
                fan_in = channels * 9
                self.conv_w.append(weight(out, channels, 3, 3, fan_in=fan_in))
                self.conv_b.append(weight(out, fan_in=fan_in))
                channels = out
                self.layer_names.append(f"conv{i + 1}")
                units.append(out)
            side = size
            for _ in cfg.conv_channels:
                side = (side + 1) // 2  # 3×3, stride 2, padding 1
            width += channels * side * side
        self.fc_w = nn.ParameterList()
        self.fc_b = nn.ParameterList()
        for i, out in enumerate(cfg.hidden_units):
            self.fc_w.append(weight(out, width, fan_in=width))
            self.fc_b.append(weight(out, fan_in=width))
            width = out
            self.layer_names.append(f"fc{i + 1}")
        # Every head in one matrix (one matmul per pass), in output order (drone: rows [0, L] location,
        # [L+1, L+K+1] object); the last class of each head is null ("no response").
        self.head_sizes = tuple(int(k) + 1 for k in n_classes)
        self.n_location_classes = self.head_sizes[0]
        self.head_w = weight(sum(self.head_sizes), width, fan_in=width)
        self.head_b = weight(sum(self.head_sizes), fan_in=width)

        units += list(cfg.hidden_units)
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

    def forward(self, *args: torch.Tensor, keep: bool = False) -> tuple[torch.Tensor | list[torch.Tensor], ...]:
        """``forward(*inputs, task)``: logits per output ``(B, classes_o + 1)``, then each gated layer's activity
        (a list) if ``keep`` (else ``[]``).

        ``inputs`` in input order (drone: ``gps`` (B, 2), ``image`` (B, 1, H, W)); ``task`` (n_tasks,) the summed
        one-hots of the executed tasks.
        """
        *inputs, task = args
        assert len(inputs) == len(self.inputs), f"{len(self.inputs)} inputs expected, got {len(inputs)}"
        gates = self.gates(task)
        kept: list[torch.Tensor] = []
        codes = []
        layer = 0
        for x, (name, kind, _) in zip(inputs, self.inputs):
            if kind == "vector":
                g = torch.relu(F.linear(x, getattr(self, f"{name}_w"), getattr(self, f"{name}_b")) * gates[layer])
                layer += 1  # g: (B, units)
                if keep:
                    kept.append(g)
                codes.append(g)
                continue
            h = x  # (B, 1, H, W)
            for w, b in zip(self.conv_w, self.conv_b):
                h = torch.relu(F.conv2d(h, w, b, stride=2, padding=1) * gates[layer][:, None, None])  # (B, C, H/2, W/2)
                layer += 1
                if keep:
                    kept.append(h)
            codes.append(h.flatten(1))
        h = torch.cat(codes, dim=1)  # (B, Σ encoder widths): drone gps_units + C·side²
        for w, b in zip(self.fc_w, self.fc_b):
            h = torch.relu(F.linear(h, w, b) * gates[layer])  # (B, hidden_i)
            layer += 1
            if keep:
                kept.append(h)
        logits = F.linear(h, self.head_w, self.head_b)  # (B, Σ (classes_o + 1))
        return (*logits.split(self.head_sizes, dim=1), kept)
