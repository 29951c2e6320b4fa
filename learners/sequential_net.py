"""The sequential-task network, scaled to CPU: a small CNN with the task one-hot concatenated to its last conv output.

Paper: 4 conv layers (16, 32, 48, 64 filters; 3×3, stride 1, pad 1; ReLU, batch norm, 2×2 max-pool), the task
one-hot concatenated to the flattened last conv output, 4 fully connected layers of 512 (ReLU), one yes/no
output. Our default: 3 conv layers (8, 16, 32) on 24-px images, 2 hidden layers of 128, one logit trained with
binary cross-entropy; Adam. A *trial* trains one minibatch of (image, task, answer) triples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tradeoff_gym.learners.checks import check_bool, check_number, check_positive_int
from tradeoff_gym.learners.threads import check_threads, torch_threads


@dataclass(frozen=True)
class SequentialNetConfig:
    """Settings of :class:`SequentialNet`; validated at construction.

    ``channels`` filters per conv block (each block halves the image side), ``hidden`` units per fully
    connected layer after the task concatenation, ``n_tasks`` the one-hot width, ``image_size`` the input
    side in pixels (divisible by ``2 ** len(channels)``), ``batch_norm`` after each conv, ``learning_rate``
    Adam's step size, ``threads`` torch's intra-op thread count while the learner works (see
    :mod:`tradeoff_gym.learners.threads`: fixed for bit-identical replays and fork safety; the caller's count is
    restored).
    """

    channels: tuple[int, ...] = (8, 16, 32)
    hidden: tuple[int, ...] = (128, 128)
    n_tasks: int = 10
    image_size: int = 24
    batch_norm: bool = True
    learning_rate: float = 1e-3
    threads: int = 1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("channels", "hidden"):
            values = getattr(self, name)
            values = tuple(values) if isinstance(values, (tuple, list)) else ()
            valid = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values)
            if not values or not valid:
                raise ValueError(f"{name} must be a non-empty sequence of integers >= 1, got {getattr(self, name)!r}")
            set_(self, name, tuple(int(v) for v in values))
        for name in ("n_tasks", "image_size"):
            check_positive_int(getattr(self, name), name)
        set_(self, "threads", check_threads(self.threads))
        check_bool(self.batch_norm, "batch_norm")
        if self.image_size % (2 ** len(self.channels)):
            raise ValueError(
                f"image_size must be divisible by 2**len(channels) = {2 ** len(self.channels)}, got {self.image_size}"
            )
        set_(self, "learning_rate", check_number(self.learning_rate, "learning_rate", 0.0, 1.0, low_open=True))

    @property
    def trunk_features(self) -> int:
        """Width of the flattened last conv output."""
        side = self.image_size // 2 ** len(self.channels)
        return self.channels[-1] * side * side


class SequentialNet(nn.Module):
    """Conv trunk → flatten ⊕ task one-hot → ReLU MLP → one yes/no logit per (image, task)."""

    def __init__(self, config: SequentialNetConfig, generator: torch.Generator) -> None:
        super().__init__()
        self.config = config
        blocks: list[nn.Module] = []
        in_ch = 3
        for out_ch in config.channels:
            blocks += [nn.Conv2d(in_ch, out_ch, 3, stride=1, padding=1), nn.ReLU()]
            if config.batch_norm:
                blocks.append(nn.BatchNorm2d(out_ch))
            blocks.append(nn.MaxPool2d(2))
            in_ch = out_ch
        self.trunk = nn.Sequential(*blocks, nn.Flatten())
        layers: list[nn.Module] = []
        width = config.trunk_features + config.n_tasks
        for units in config.hidden:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)
        self._init(generator)

    def _init(self, generator: torch.Generator) -> None:
        """PyTorch's default (Kaiming-uniform) initialisation, drawn from ``generator`` (no global RNG)."""
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    fan_in = module.weight[0].numel()
                    bound = 1.0 / np.sqrt(fan_in)  # = kaiming_uniform(a=√5) for the weight, and the bias bound
                    module.weight.uniform_(-bound, bound, generator=generator)
                    module.bias.uniform_(-bound, bound, generator=generator)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` images → ``(N, trunk_features)`` flattened last conv output."""
        return self.trunk(images)

    def logits_from_features(self, features: torch.Tensor, tasks: torch.Tensor) -> torch.Tensor:
        """``(N, F)`` trunk features and ``(N,)`` task ids → ``(N,)`` yes-logits."""
        onehot = nn.functional.one_hot(tasks, self.config.n_tasks).to(features.dtype)  # (N, T)
        return self.head(torch.cat([features, onehot], dim=1)).squeeze(1)

    def forward(self, images: torch.Tensor, tasks: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` images and ``(N,)`` task ids → ``(N,)`` yes-logits."""
        return self.logits_from_features(self.features(images), tasks)


class SequentialLearner:
    """The network, its optimizer, and the two things a trial does: train a minibatch, score the hold-out set."""

    def __init__(self, config: SequentialNetConfig, generator: torch.Generator) -> None:
        self.config = config
        with torch_threads(config.threads):
            self.net = SequentialNet(config, generator)
            self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.learning_rate)

    def train_batch(self, images: torch.Tensor, tasks: torch.Tensor, targets: torch.Tensor) -> float:
        """One Adam step on ``(B, 3, H, W)`` images, ``(B,)`` task ids, ``(B,)`` 0/1 targets; returns the loss."""
        if not (images.shape[0] == tasks.shape[0] == targets.shape[0]):
            raise ValueError(f"batch sizes differ: {images.shape[0]}, {tasks.shape[0]}, {targets.shape[0]}")
        with torch_threads(self.config.threads):
            return self._train_batch(images, tasks, targets)

    def _train_batch(self, images: torch.Tensor, tasks: torch.Tensor, targets: torch.Tensor) -> float:
        self.net.train()
        logits = self.net(images, tasks)  # (B,)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def balanced_accuracy(self, images: torch.Tensor, labels: torch.Tensor, tasks: torch.Tensor) -> np.ndarray:
        """Balanced hold-out accuracy (mean of yes- and no-recall) of every task in ``tasks``.

        ``images`` ``(N, 3, H, W)``, ``labels`` ``(N, K)`` bool answers of the ``K`` tasks, ``tasks`` ``(K,)`` ids.
        The trunk runs once (batch-norm in eval mode); each task only re-runs the small head. Returns ``(K,)``.
        """
        with torch_threads(self.config.threads), torch.no_grad():
            return self._balanced_accuracy(images, labels, tasks)

    def _balanced_accuracy(self, images: torch.Tensor, labels: torch.Tensor, tasks: torch.Tensor) -> np.ndarray:
        self.net.eval()
        features = self.net.features(images)  # (N, F)
        n, k = labels.shape
        tiled = features.repeat(k, 1)  # (K·N, F): task-major
        logits = self.net.logits_from_features(tiled, tasks.repeat_interleave(n)).view(k, n).T  # (N, K)
        said_yes = logits > 0
        yes = labels.to(torch.bool)
        hit = (said_yes == yes).to(torch.float64)
        n_yes = yes.sum(0).clamp(min=1)
        n_no = (~yes).sum(0).clamp(min=1)
        recall_yes = (hit * yes).sum(0) / n_yes
        recall_no = (hit * ~yes).sum(0) / n_no
        return (0.5 * (recall_yes + recall_no)).numpy()
