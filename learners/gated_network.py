"""The paper's task-gated network (docs/science/network.md): every hidden and conv layer is gated by the task.

Built from the world's inputs and outputs (:attr:`tradeoff_gym.learners.drone.DroneWorldConfig.input_shapes`,
``n_classes``): one encoder per input — a vector input ``(B, d)`` (GPS, sonar) → one gated fully connected
layer; the image ``(B, 1, H, W)`` → gated conv layers (3×3, stride 2, padding 1, ReLU: each halves the map;
strided rather than max-pooled, 3–4× faster on CPU) — the encodings concatenated in input order → gated fully
connected layers → one head per output, each with a null class (drone world: location ``L`` cells + null,
object ``K`` types + null; all heads are rows of one matrix). Gate of layer ``i`` for task input
``x_t`` ``(n_tasks,)``: ``c_i = sigmoid(x_t · W_t,i − β)``, one value per unit (per channel for conv),
multiplied into the pre-activation: ``h_{i+1} = ReLU((W_h,i h_i + b_i) ⊙ c_i)``.

The gating is a setting (``NetworkConfig.gating``): ``"learned"`` (the paper's task gates above, optionally frozen
to partition masks on every other layer: ``overlap`` or explicit ``masks``) or ``"allocation"`` (the Gumbel-Matrix
allocation, :mod:`tradeoff_gym.learners.allocation`: each layer's units in ``components`` groups, a learned binary
allocation of groups to tasks replaces the gate, sampled in training and maximum-likelihood in evaluation).

Parameters are plain tensors initialised from an explicit ``torch.Generator`` (never the global RNG).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from tradeoff_gym.learners.allocation import (
    allocation_gates,
    component_columns,
    gumbel_noise,
    logit,
    ml_allocation,
)
from tradeoff_gym.learners.allocation import budget_penalty as allocation_budget_penalty
from tradeoff_gym.learners.checks import check_choice, check_int, check_number
from tradeoff_gym.learners.partition import Masks, check_masks, check_overlap, mask_task_weights, partition_masks

TASK_INITS: tuple[str, ...] = ("high", "small")
TaskInit = Literal["high", "small"]
#: How tasks gate the layers: the paper's learned task gates, or the Gumbel-Matrix allocation.
GATINGS: tuple[str, ...] = ("learned", "allocation")
Gating = Literal["learned", "allocation"]


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
    masks with that share of units common to all tasks (Fig 3); the layers between keep learned gates;
    ``masks`` ``None`` or explicit per-task masks for those same layers (feature partitions): one ``(units, n_tasks)``
    0/1 matrix per masked layer, in depth order (``masks[l][u][t] = 1``: task ``t`` uses unit ``u``), instead
    of ``overlap``'s.

    ``gating`` ``"learned"`` (the task gates above) or ``"allocation"`` (Gumbel-Matrix: every gated
    layer's units in ``components`` equal groups, a ``n_tasks × components`` matrix of allocation logits per
    layer; no task gates, no masks). Allocation settings: ``p_init`` the initial use probability in (0, 1);
    ``temperature`` τ > 0 of the straight-through softmax; the budget penalty ``budget_weight · max(0, e_c −
    budget)`` added to every pass's loss (λ ≥ 0, b in (0, 1]; λ = 0: none); ``allocation_lr`` the learning rate
    of the allocation logits (``None``: the learner's ``lr``; with the default lr 5e-4 a logit needs thousands of
    steps to leave 0, while the heads must learn early which task is asked).
    """

    conv_channels: tuple[int, ...] = (8, 16)
    gps_units: int = 32
    sonar_units: int = 32
    hidden_units: tuple[int, ...] = (64, 64)
    beta: float = 5.0
    task_init: TaskInit = "high"
    overlap: float | None = None
    masks: Masks | None = None
    gating: Gating = "learned"
    components: int = 4
    p_init: float = 0.5
    temperature: float = 1.0
    budget: float = 1.0
    budget_weight: float = 0.0
    allocation_lr: float | None = None

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
        object.__setattr__(self, "masks", check_masks(self.masks))
        if self.overlap is not None and self.masks is not None:
            raise ValueError("give either overlap (masks built from one shared fraction) or masks (explicit), not both")
        check_choice(self.gating, GATINGS, "gating")
        if self.gating != "learned" and (self.overlap is not None or self.masks is not None):
            raise ValueError(
                f"overlap and masks freeze learned task gates: they need gating='learned', got gating={self.gating!r}"
            )
        check_int(self.components, "components", 1)
        object.__setattr__(self, "p_init", check_number(self.p_init, "p_init", 0.0, 1.0, low_open=True, high_open=True))
        object.__setattr__(self, "temperature", check_number(self.temperature, "temperature", 0.0, low_open=True))
        object.__setattr__(self, "budget", check_number(self.budget, "budget", 0.0, 1.0, low_open=True))
        object.__setattr__(self, "budget_weight", check_number(self.budget_weight, "budget_weight", 0.0))
        if self.allocation_lr is not None:
            value = check_number(self.allocation_lr, "allocation_lr", 0.0, low_open=True)
            object.__setattr__(self, "allocation_lr", value)

    @property
    def allocation(self) -> bool:
        """Whether the network gates by learned allocation (Gumbel-Matrix) rather than by task gates."""
        return self.gating == "allocation"

    def layer_widths(self, inputs: Sequence[tuple[str, str, int]]) -> list[int]:
        """Units (channels for conv layers) of every gated layer, in depth order, for inputs ``(name, kind, size)``:
        the encoders in input order (a vector input: ``<name>_units``; the image: ``conv_channels``), then
        ``hidden_units``."""
        widths: list[int] = []
        for name, kind, _ in inputs:
            widths += [self.encoder_units(name)] if kind == "vector" else list(self.conv_channels)
        return widths + list(self.hidden_units)

    def check_layers(self, widths: Sequence[int], n_tasks: int) -> None:
        """Raise a ValueError unless ``masks`` and ``components`` fit gated layers of these ``widths``.

        ``masks`` needs one ``(units, n_tasks)`` matrix per masked layer (every other layer from the first);
        ``components`` (with ``gating="allocation"``) at most the narrowest layer's width.
        """
        if self.masks is not None:
            masked = list(widths[::2])
            shapes = [(len(m), len(m[0])) for m in self.masks]
            wanted = [(w, n_tasks) for w in masked]
            if shapes != wanted:
                raise ValueError(
                    f"masks must hold one (units, n_tasks) 0/1 matrix per masked layer (every other gated layer "
                    f"from the first), shapes {wanted}; got shapes {shapes}"
                )
        if self.allocation and self.components > min(widths):
            raise ValueError(
                f"components must lie in [1, {min(widths)}] (the narrowest gated layer's width), got {self.components}"
            )

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


def gated_activity(pre: torch.Tensor, gate: torch.Tensor, allocation: bool) -> torch.Tensor:
    """A gated layer's activity from its pre-activation and its gate (broadcast to it): ``ReLU(pre ⊙ c)`` for learned
    gates (in place on the product, which is not kept); ``ReLU(pre) ⊙ z`` for allocation — the same value for a
    binary ``z``, whose straight-through gradient is then a component's own output even when it is off (as the
    Gumbel-Matrix paper's estimator needs), where ``ReLU(pre ⊙ 0)`` would pass none. The one rule of
    :class:`GatedNetwork` and the batched learner."""
    return pre.relu() * gate if allocation else (pre * gate).relu_()


class GatedNetwork(nn.Module):
    """The task-gated network; ``forward(*inputs, task)`` → (logits per output …, kept activity).

    ``inputs`` ``(name, kind, size)`` per input in input order (kind ``"vector"`` or ``"image"``, at most one
    image), ``n_classes`` the classes per output (a null class is added to each head), ``n_tasks`` the length
    of the task vector. Parameters: ``<input>_w``/``<input>_b`` per vector input, ``conv_w``/``conv_b`` the
    image's conv stack, ``fc_w``/``fc_b``, ``head_w``/``head_b`` (every head's rows), then ``task_weights``
    (learned gates) or ``allocation_logits`` ``(n_tasks, n_layers·components)`` (allocation). Gated layers in
    depth order: the encoders in input order (``gps``, ``conv1``, ``conv2``, [``sonar``]), then ``fc1``,
    ``fc2``, ….

    ``noise_generator`` draws the Gumbel noise of allocation sampling (``gating="allocation"``, training mode);
    in evaluation mode (``eval()``, as every probe runs) the allocation is the maximum-likelihood one. The learner
    that owns the network (:class:`tradeoff_gym.learners.trial.LearnerParts`) passes its own generator, so a
    training-mode
    forward of the network draws from that learner's noise stream.
    """

    def __init__(
        self,
        config: NetworkConfig,
        *,
        inputs: Sequence[tuple[str, str, int]],
        n_classes: Sequence[int],
        n_tasks: int,
        generator: torch.Generator,
        noise_generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.config = cfg = config
        self.n_tasks = n_tasks
        self.noise_generator = noise_generator
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
        assert units == cfg.layer_widths(self.inputs), (units, cfg.layer_widths(self.inputs))
        cfg.check_layers(units, n_tasks)
        self.layer_units = units
        # All layers' task weights W_t,i side by side in one (n_tasks, Σ units) matrix: one matmul and one
        # sigmoid per pass give every gate; ``task_w`` holds per-layer views of it. Drawn in allocation mode too
        # (and not used), so every other parameter starts as the learned-gate network's of the same seed.
        u01 = torch.rand(n_tasks, sum(units), generator=generator)
        init = self.beta * (1.0 + u01) if cfg.task_init == "high" else 0.2 * u01 - 0.1
        if cfg.allocation:
            # Every (task, component) starts at p_init; the columns map each unit to its layer's component.
            n_columns = len(units) * cfg.components
            self.allocation_logits = nn.Parameter(torch.full((n_tasks, n_columns), logit(cfg.p_init)))
            self.register_buffer("component_columns", component_columns(units, cfg.components))
        else:
            self.task_weights = nn.Parameter(init)
        # Frozen overlap (after the feature-partitioning paper's note): partition masks on every other gated layer
        # (the 1st, 3rd, … in depth order gps, conv…, fc…); the layers between keep learned task gates. Masking every
        # layer would give all tasks identical gates at overlap 1, erasing which task is asked, so the heads
        # could not tell whom to answer and whom to give the null response.
        self.masks: list[torch.Tensor | None] | None = None
        frozen = torch.zeros(n_tasks, sum(units))
        frozen_columns = torch.zeros(sum(units), dtype=torch.bool)
        if cfg.overlap is not None or cfg.masks is not None:
            given = iter(cfg.masks or ())
            self.masks = [
                None if i % 2 else
                partition_masks(u, n_tasks, cfg.overlap) if cfg.overlap is not None else
                torch.tensor(next(given), dtype=torch.float32)
                for i, u in enumerate(units)
            ]
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
        if self.config.allocation:
            raise ValueError("a network with gating='allocation' has no task weights; see allocation_logits")
        if self.masks is None:
            return self.task_weights
        return torch.where(self.frozen_columns, self.frozen_task_weights, self.task_weights)

    @property
    def task_w(self) -> list[torch.Tensor]:
        """Per gated layer, its task weights ``W_t,i`` ``(n_tasks, units_i)``."""
        return list(self.effective_task_weights().split(self.layer_units, dim=1))

    def gates(self, task: torch.Tensor) -> list[torch.Tensor]:
        """Per gated layer, its gate for task vector ``task`` ``(n_tasks,)``: a list of ``(units_i,)`` tensors.

        Learned gates: ``c_i = sigmoid(x_t · W_t,i − β)``. Allocation: 1 on the units of every component some
        executed task uses, else 0 — sampled (straight-through) in training mode, maximum-likelihood in eval mode.
        The K = 1 case of :meth:`stacked_gates`.
        """
        gates = self.stacked_gates(self._own_params(), task[None], frozen=self._own_frozen(), noise=self._own_noise())
        return [g[0] for g in gates]

    def stacked_gates(
        self,
        params: Mapping[str, torch.Tensor],
        task: torch.Tensor,
        *,
        frozen: tuple[torch.Tensor, torch.Tensor] | None = None,
        noise: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """Per gated layer, ``(J, units_i)`` gates of J networks of this structure executing ``task`` ``(J, n_tasks)``.

        ``params`` stacked ``(J, …)`` by parameter name. Learned gates: ``sigmoid(x_t · W_t − β)``, with ``frozen``
        ``((J, Σ units) bool columns, (J, n_tasks, Σ units) task weights)`` replacing the masked layers' task
        weights (``None``: no masks). Allocation: the used components' units, sampled with ``noise``
        ``(2, J, n_tasks, C_total)`` (training) or the maximum-likelihood allocation when ``noise`` is ``None``.
        """
        if self.config.allocation:
            gates = allocation_gates(params["allocation_logits"], task, self.component_columns, noise=noise,
                                     temperature=self.config.temperature)  # J U
            return gates.split(self.layer_units, dim=1)
        task_w = params["task_weights"]  # J n_tasks U
        if frozen is not None:
            columns, weights = frozen
            task_w = torch.where(columns[:, None, :], weights, task_w)
        c = torch.sigmoid(torch.bmm(task[:, None, :], task_w)[:, 0] - self.beta)  # J U
        return c.split(self.layer_units, dim=1)

    def _own_params(self) -> dict[str, torch.Tensor]:
        """This network's parameters by name with a leading axis of 1: the K = 1 stack (views, gradients flow)."""
        return {name: p[None] for name, p in self.named_parameters()}

    def _own_frozen(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """This network's frozen partition as a K = 1 stack (see :meth:`stacked_gates`), or ``None``."""
        if self.masks is None:
            return None
        return self.frozen_columns[None], self.frozen_task_weights[None]

    def _own_noise(self) -> torch.Tensor | None:
        """One pass's allocation noise ``(2, 1, n_tasks, C_total)`` in training mode (allocation), else ``None``."""
        if not (self.config.allocation and self.training):
            return None
        if self.noise_generator is None:
            raise ValueError(
                "a network with gating='allocation' samples its allocations in training mode: give it a "
                "noise_generator, or call eval() for the maximum-likelihood allocation"
            )
        return self.allocation_noise(self.noise_generator)[:, None]  # 2 1 n_tasks C_total

    def allocation_noise(self, generator: torch.Generator) -> torch.Tensor:
        """``(2, n_tasks, n_layers·components)`` Gumbel noise from ``generator``: one sampled allocation (a pass)."""
        return gumbel_noise(tuple(self.allocation_logits.shape), generator, self.allocation_logits.device)

    def allocation_probabilities(self) -> list[torch.Tensor]:
        """Per gated layer, ``(n_tasks, components)`` probabilities that each task uses each component."""
        return list(torch.sigmoid(self._logits().detach()).split(self.config.components, dim=1))

    def task_embeddings(self) -> torch.Tensor:
        """``(n_tasks, n_layers·components)`` binary: each task's maximum-likelihood allocation, layers concatenated
        (as in the Gumbel-Matrix paper); tasks that share components have close embeddings."""
        return ml_allocation(self._logits())

    def _logits(self) -> torch.Tensor:
        """The allocation logits, or a ValueError naming the setting when the network gates by learned task gates."""
        if not self.config.allocation:
            raise ValueError("allocations exist only with gating='allocation'; this network has gating='learned'")
        return self.allocation_logits

    def budget_penalty(self) -> torch.Tensor:
        """The budget penalty ``λ · max(0, e_c − b)`` of the current allocation probabilities (a scalar)."""
        cfg = self.config
        return allocation_budget_penalty(self._logits()[None], cfg.budget, cfg.budget_weight)[0]

    def forward(self, *args: torch.Tensor, keep: bool = False) -> tuple[torch.Tensor | list[torch.Tensor], ...]:
        """``forward(*inputs, task)``: logits per output ``(B, classes_o + 1)``, then each gated layer's activity
        (a list: ``(B, units)`` or ``(B, C, H, W)``) if ``keep`` (else ``[]``).

        ``inputs`` in input order (drone: ``gps`` (B, 2), ``image`` (B, 1, H, W)); ``task`` (n_tasks,) the summed
        one-hots of the executed tasks. The K = 1 case of :meth:`stacked_forward`, with the conv gates applied
        after the convolution (``fold_conv_gates=False``).
        """
        *inputs, task = args
        assert len(inputs) == len(self.inputs), f"{len(self.inputs)} inputs expected, got {len(inputs)}"
        stacked = [x.T[None] if kind == "vector" else x for x, (_, kind, _) in zip(inputs, self.inputs)]
        kept: list[torch.Tensor] | None = [] if keep else None
        logits = self.stacked_forward(self._own_params(), stacked, task[None], frozen=self._own_frozen(),
                                      noise=self._own_noise(), fold_conv_gates=False, keep=kept)
        # Back to example-major: (B, classes_o + 1) per output; kept (B, units) copies, conv maps as they are.
        activity = [h if h.dim() == 4 else h[0].T.contiguous() for h in kept or []]
        return (*(out[0].T for out in logits), activity)

    def stacked_forward(
        self,
        params: Mapping[str, torch.Tensor],
        inputs: Sequence[torch.Tensor],
        task: torch.Tensor,
        *,
        frozen: tuple[torch.Tensor, torch.Tensor] | None = None,
        noise: torch.Tensor | None = None,
        fold_conv_gates: bool = True,
        keep: list[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """The network's one forward pass, for J stacked networks of this structure: logits, class-major, one
        ``(J, classes_o + 1, B)`` per output (drone: location ``(J, L+1, B)``, object ``(J, K+1, B)``).

        ``params`` stacked ``(J, …)`` by parameter name (as :meth:`named_parameters` with a leading J; this
        module's own parameters are not read); ``inputs`` in input order: a vector input ``(J, d, B)`` (gps:
        d = 2), the image ``(B, J, H, W)`` (one channel per network, channels-last strides preferred); ``task``
        ``(J, n_tasks)`` each network's summed one-hot task vector; ``frozen`` and ``noise`` as
        :meth:`stacked_gates`. Fully connected activations are kept feature-major, ``(J, units, B)``, so every
        weight gradient comes out of ``bmm`` in the weight's own layout; fully connected layers are batched
        matmuls, conv layers one grouped convolution (``groups=J``).

        ``fold_conv_gates`` (learned gates only): fold each conv layer's per-channel gate into its filters and
        bias, ``conv(x, w ⊙ c) + b ⊙ c`` = ``(conv(x, w) + b) ⊙ c``, which spares two full passes over the
        largest activations (training); ``False`` gates the convolution's output (probes). The two differ by float
        rounding only. ``keep``: a list that receives each gated layer's activity in depth order (vector and
        fully connected ``(J, units, B)``, conv ``(B, J·C, H, W)``).
        """
        allocation = self.config.allocation
        j, b = task.shape[0], inputs[0].shape[-1] if self.inputs[0][1] == "vector" else inputs[0].shape[0]
        assert task.shape == (j, self.n_tasks), (task.shape, self.n_tasks)
        gates = self.stacked_gates(params, task, frozen=frozen, noise=noise)
        fold = fold_conv_gates and not allocation  # allocation gates after the ReLU: never folded
        codes = []
        layer = 0
        for x, (name, kind, _) in zip(inputs, self.inputs):
            if kind == "vector":  # x: J d B
                assert x.shape[0] == j and x.shape[2] == b, (name, x.shape, j, b)
                g = torch.baddbmm(params[f"{name}_b"][..., None], params[f"{name}_w"], x)  # J G B
                g = gated_activity(g, gates[layer][..., None], allocation)
                codes.append(g)
                layer += 1
                if keep is not None:
                    keep.append(g)
                continue
            assert x.shape[:2] == (b, j), (name, x.shape, j, b)
            h = x  # B (J·C) H W
            for i in range(len(self.conv_w)):
                c = gates[layer]  # J C
                if fold:
                    w = (params[f"conv_w.{i}"] * c[:, :, None, None, None]).flatten(0, 1)  # (J·C) C_in 3 3
                    h = F.conv2d(h, w, None, stride=2, padding=1, groups=j)  # B (J·C) H/2 W/2
                    h = (h + (params[f"conv_b.{i}"] * c).flatten()[:, None, None]).relu_()  # bias apart: oneDNN's slow
                else:
                    w = params[f"conv_w.{i}"].flatten(0, 1)  # (J·C) C_in 3 3
                    h = F.conv2d(h, w, None, stride=2, padding=1, groups=j)  # B (J·C) H/2 W/2
                    h = gated_activity(h + params[f"conv_b.{i}"].flatten()[:, None, None], c.flatten()[:, None, None],
                                       allocation)
                layer += 1
                if keep is not None:
                    keep.append(h)
            codes.append(h.permute(1, 2, 3, 0).reshape(j, -1, b))  # J (C·side²) B: one copy out of channels-last
        h = torch.cat(codes, dim=1)  # J (Σ encoder widths) B, encoders in input order
        for i in range(len(self.fc_w)):
            fc = torch.baddbmm(params[f"fc_b.{i}"][..., None], params[f"fc_w.{i}"], h)  # J hidden_i B
            h = gated_activity(fc, gates[layer][..., None], allocation)
            layer += 1
            if keep is not None:
                keep.append(h)
        logits = torch.baddbmm(params["head_b"][..., None], params["head_w"], h)  # J Σ(classes_o + 1) B
        return logits.split(self.head_sizes, dim=1)
