"""One trial of the task learner: answer, score, train (SPEC §2–§3), and the learner that owns the state.

A trial draws the next batch of the fixed-order data stream and runs it through the trial's *schedule*
(serial: four single-task passes; parallel: the two valid pairs). Each pass is one forward pass, whose
predictions are scored (the task's batch accuracy, before any update on this pass) and whose loss —
cross-entropy at the executed tasks' heads, plus the null class at an idle head — is then back-propagated
and applied with one optimizer step. So serial takes four optimizer steps per trial, parallel two, and
every task sees the same ``batch_size`` examples either way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from learners.checks import check_choice, check_number, check_positive_int
from learners.drone import DataStream, DroneBatch, DroneWorld, DroneWorldConfig
from learners.gated_network import GatedNetwork, NetworkConfig
from learners.probes import ProbeResult, probe
from learners.tasks import N_TASKS, OUTPUTS, TASKS, Schedule, task_vector
from learners.threads import torch_threads

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
    1 by default so a forked worker never waits on an inherited thread pool (:mod:`learners.threads`).
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
        for name in ("batch_size", "chunk", "threads"):
            check_positive_int(getattr(self, name), name)
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
            **mine,
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
    """Independent torch generators for world, data, init and probes, split from one seed (SeedSequence)."""
    names = ("world", "data", "init", "probe")
    states = np.random.SeedSequence(seed).spawn(len(names))
    return {
        n: torch.Generator().manual_seed(int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        for n, s in zip(names, states)
    }


class LearnerParts:
    """One learner's own parts from its seed: world, data stream, probe seed, initial network (CPU).

    The one construction shared by :class:`TaskLearner` and :class:`learners.batched.BatchedLearner`, so learner
    ``k`` of a batch and a TaskLearner with the same seed have the same world, data and initial weights.
    """

    def __init__(self, config: LearnerConfig, seed: int) -> None:
        gens = _generators(seed)  # world, data, init, probe
        self.seed = seed
        self.probe_seed = int(gens["probe"].initial_seed())
        self.world = DroneWorld(config.world, gens["world"])
        self.stream = DataStream(self.world, gens["data"], config.batch_size, config.chunk)
        self.network = GatedNetwork(
            config.network,
            image_size=config.world.image_size,
            n_locations=self.world.n_locations,
            n_types=self.world.n_types,
            n_tasks=N_TASKS,
            generator=gens["init"],
        )
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


class TaskLearner:
    """A fresh gated network in a fresh drone world, trained one trial at a time.

    ``seed`` determines everything: the world's region map, the data stream, the network's initial
    weights and the probe set — each from its own generator, so the data stream is the same whatever the
    schedules played, and probing never changes training.
    """

    def __init__(self, config: LearnerConfig, seed: int) -> None:
        self.config = config
        with torch_threads(config.threads):
            self._build(int(seed))

    def _build(self, seed: int) -> None:
        cfg = self.config
        self.device = torch.device(cfg.device)
        parts = LearnerParts(cfg, seed)
        self._parts = parts
        self.world, self.stream = parts.world, parts.stream
        self.network = parts.network.to(self.device)
        params = [p for p in self.network.parameters() if p.requires_grad]
        if cfg.optimizer == "adam":
            self.optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=cfg.lr, fused=True)
        else:
            self.optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, foreach=True)
        self.trials = 0
        self._null_cache: dict[tuple[int, int], torch.Tensor] = {}
        self._pass_cache: dict[tuple[int, ...], tuple[torch.Tensor, tuple[int | None, int | None]]] = {}

    def next_batch(self) -> DroneBatch:
        """The next batch of the data stream, on the learner's device."""
        with torch_threads(self.config.threads):
            return self.stream.next_batch().to(self.device)

    def _pass_spec(self, tasks: tuple[int, ...]) -> tuple[torch.Tensor, tuple[int | None, int | None]]:
        """(task vector ``(n_tasks,)``, task answered at the location and object heads or None) for a pass."""
        if tasks not in self._pass_cache:
            heads: list[int | None] = [None, None]
            for t in tasks:
                heads[OUTPUTS.index(TASKS[t].output)] = t
            self._pass_cache[tasks] = (task_vector(tasks, self.device), (heads[0], heads[1]))
        return self._pass_cache[tasks]

    def _null_target(self, n: int, classes: int) -> torch.Tensor:
        """``(n,)`` targets all equal to the null class (the last of ``classes``); cached."""
        key = (n, classes)
        if key not in self._null_cache:
            self._null_cache[key] = torch.full((n,), classes - 1, dtype=torch.long, device=self.device)
        return self._null_cache[key]

    def pass_loss(self, batch: DroneBatch, tasks: tuple[int, ...]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One forward pass executing ``tasks`` on ``batch``.

        Returns (loss, a scalar; per executed task in the order of ``tasks``, the number of examples whose
        answer at the task's head equals its label, a 0-d tensor). Idle heads are trained to null, unscored.
        """
        x_t, heads = self._pass_spec(tasks)
        logits = self.network(batch.gps, batch.image, x_t)[:2]  # (B, L+1), (B, K+1)
        losses, correct = [], {}
        for lg, t in zip(logits, heads):
            if t is None:
                target = self._null_target(lg.shape[0], lg.shape[1])
            else:
                target = batch.labels[:, t]
                correct[t] = (lg.detach().argmax(1) == target).sum()
            losses.append(F.cross_entropy(lg, target))
        return losses[0] + losses[1], [correct[t] for t in tasks]

    def trial(self, schedule: Schedule) -> np.ndarray:
        """Run one trial with ``schedule`` (answer, score, train per pass); ``(n_tasks,)`` accuracies in [0, 1]."""
        with torch_threads(self.config.threads):
            return self._trial(schedule)

    def _trial(self, schedule: Schedule) -> np.ndarray:
        batch = self.stream.next_batch().to(self.device)
        opt = self.optimizer
        corrects, losses = [], []
        for tasks in schedule:
            loss, correct = self.pass_loss(batch, tasks)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            corrects += correct
            losses.append(loss.detach())
        loss_values = torch.stack(losses).cpu()
        if not bool(torch.isfinite(loss_values).all()):
            raise NonFiniteLossError(
                f"non-finite training loss {loss_values.tolist()} at trial {self.trials} (schedule {schedule}): "
                f"the network diverged; lower lr (now {self.config.lr}) or check the inputs"
            )
        counts = torch.stack(corrects).cpu().numpy()  # (n_tasks,) in schedule order
        accuracy = np.full(N_TASKS, np.nan)
        accuracy[[t for tasks in schedule for t in tasks]] = counts / len(batch)
        self.trials += 1
        return accuracy

    def probe_set(self, n: int) -> DroneBatch:
        """The fixed held-out probe batch (:meth:`LearnerParts.probe_set`: drawing it never changes training)."""
        with torch_threads(self.config.threads):
            return self._parts.probe_set(n, self.device)

    def probe(self, n: int = 256) -> ProbeResult:
        """Probe the network on the ``n``-example probe set: serial/parallel execution error, layer correlations."""
        with torch_threads(self.config.threads):
            return probe(self.network, self.probe_set(n))

