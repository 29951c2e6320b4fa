"""What a task learner is: its settings (:class:`LearnerConfig`) and its parts from a seed (:class:`LearnerParts`).

A trial (docs/science/model.md) draws the next batch of the fixed-order data stream and runs it through the trial's
*schedule* (drone world — serial: four single-task passes; parallel: the two valid pairs; any world: passes of
tasks with different inputs and outputs, :mod:`tradeoff_gym.learners.tasks`). Each pass is one forward pass, whose
predictions are scored (the task's batch accuracy, before any update on this pass) and whose loss —
cross-entropy at the executed tasks' heads, plus the null class at an idle head — is then back-propagated
and applied with one optimizer step. So serial takes four optimizer steps per trial, parallel two, and
every task sees the same ``batch_size`` examples either way. The training itself is one implementation,
:mod:`tradeoff_gym.learners.batched` (K learners at once; :class:`tradeoff_gym.learners.batched.TaskLearner` is its K =
1 view).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from tradeoff_gym.learners.checks import check_choice, check_number, check_positive_int
from tradeoff_gym.learners.drone import DataStream, DroneBatch, DroneWorld, DroneWorldConfig
from tradeoff_gym.learners.gated_network import GatedNetwork, NetworkConfig
from tradeoff_gym.learners.threads import check_threads

OPTIMIZERS: tuple[str, ...] = ("adam", "sgd")
Optimizer = Literal["adam", "sgd"]


@dataclass(frozen=True)
class LearnerConfig:
    """Everything that defines a learner: the world, the network and the training settings.

    ``batch_size`` examples per trial (the same for every regimen); ``optimizer`` ``"adam"`` or ``"sgd"``
    (momentum 0.9); ``lr`` its learning rate; ``device`` a torch device string (``"cpu"``, ``"cuda"``);
    ``chunk`` trials of data generated at once (speed only: the stream is the same for any value);
    ``threads`` torch's intra-op thread count while the learner works (building, trials, probes; the caller's
    count is restored after each): fixed so a run replays bit-identically whatever the caller's setting, and
    1 by default so a forked worker never waits on an inherited thread pool (:mod:`tradeoff_gym.learners.threads`).
    """

    world: DroneWorldConfig = field(default_factory=DroneWorldConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    batch_size: int = 32
    optimizer: Optimizer = "adam"
    lr: float = 5e-4
    device: str = "cpu"
    chunk: int = 32
    threads: int = 1

    def __post_init__(self) -> None:
        _check_part(self.world, DroneWorldConfig, "world")
        _check_part(self.network, NetworkConfig, "network")
        self.network.check_image_size(self.world.image_size)
        self.network.check_layers(self.network.layer_widths(self.world.input_shapes), self.world.task_set.n_tasks)
        for name in ("batch_size", "chunk"):
            check_positive_int(getattr(self, name), name)
        object.__setattr__(self, "threads", check_threads(self.threads))
        check_choice(self.optimizer, OPTIMIZERS, "optimizer")
        object.__setattr__(self, "lr", check_number(self.lr, "lr", 0.0, low_open=True))
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError):
            raise ValueError(f"device must be a torch device string ('cpu', 'cuda'), got {self.device!r}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {self.device!r} requested but CUDA is not available; use 'cpu'")

    def replace(self, **changes: object) -> LearnerConfig:
        """A copy with fields of this config, its ``world`` or its ``network`` changed by name."""
        own = {f.name for f in dataclasses.fields(self)}
        world = {f.name for f in dataclasses.fields(DroneWorldConfig)}
        net = {f.name for f in dataclasses.fields(NetworkConfig)}
        unknown = sorted(set(changes) - own - world - net)
        if unknown:
            raise ValueError(f"unknown learner setting(s) {unknown}; allowed: {sorted(own | world | net)}")
        mine = {k: v for k, v in changes.items() if k in own}
        _check_part(mine.get("world", self.world), DroneWorldConfig, "world")
        _check_part(mine.get("network", self.network), NetworkConfig, "network")
        world_changes = {k: v for k, v in changes.items() if k in world and k not in own}
        net_changes = {k: v for k, v in changes.items() if k in net and k not in own}
        return dataclasses.replace(
            self,
            **{k: v for k, v in mine.items() if k not in ("world", "network")},  # (a whole part replaced below)
            world=dataclasses.replace(mine.get("world", self.world), **world_changes),
            network=dataclasses.replace(mine.get("network", self.network), **net_changes),
        )


def _check_part(value: object, kind: type, field: str) -> None:
    """Raise a ValueError naming ``field`` unless ``value`` is a ``kind`` instance."""
    if not isinstance(value, kind):
        raise ValueError(f"{field} must be a {kind.__name__} (or set its fields by name), got {value!r}")


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN/inf loss: the learner's state is no longer meaningful."""


def _generators(seed: int) -> dict[str, torch.Generator]:
    """Independent torch generators for world, data, init, probes and allocation noise, split from one seed.

    ``SeedSequence.spawn`` gives child ``i`` the same state however many children are spawned, so adding a
    stream at the end leaves the earlier ones (and every learner that does not use it) unchanged.
    """
    names = ("world", "data", "init", "probe", "allocation")
    states = np.random.SeedSequence(seed).spawn(len(names))
    return {
        n: torch.Generator().manual_seed(int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        for n, s in zip(names, states)
    }


class LearnerParts:
    """One learner's own parts from its seed: world, data stream, probe seed, initial network (CPU), and the
    generator of its allocation noise (``noise``: the Gumbel draws of ``gating="allocation"``, one per pass).

    The one construction of a learner from its seed: :class:`tradeoff_gym.learners.batched.BatchedLearner` builds each
    of its
    K learners with it, so learner ``k`` of any batch has the same world, data and initial weights as a lone
    learner with the same seed.
    """

    def __init__(self, config: LearnerConfig, seed: int) -> None:
        gens = _generators(seed)  # world, data, init, probe
        self.seed = seed
        self.probe_seed = int(gens["probe"].initial_seed())
        self.world = DroneWorld(config.world, gens["world"])
        self.stream = DataStream(self.world, gens["data"], config.batch_size, config.chunk)
        self.task_set = config.world.task_set
        self.network = GatedNetwork(
            config.network,
            inputs=config.world.input_shapes,
            n_classes=config.world.n_classes,
            n_tasks=self.task_set.n_tasks,
            generator=gens["init"],
            noise_generator=gens["allocation"],
        )
        self.noise = gens["allocation"]
        self._probe_set: DroneBatch | None = None

    def probe_set(self, n: int, device: torch.device) -> DroneBatch:
        """The fixed held-out probe batch (its own generator: drawing it never changes training).

        Drawn on the first call; later calls with the same ``n`` return the same examples. The caller holds
        the learner's thread count.
        """
        if self._probe_set is None or len(self._probe_set) != n:
            generator = torch.Generator().manual_seed(self.probe_seed)
            self._probe_set = self.world.sample(n, generator).to(device)
        return self._probe_set
