"""K independent task learners trained as one tensor program: parameters stacked on a leading K axis.

:class:`BatchedLearner` trains K learners at once: learner ``k`` has its own seed, and so its own drone world
(region map), data stream, initial weights and probe set, each built by
:class:`tradeoff_gym.learners.trial.LearnerParts`.
Their parameters are stacked, ``(K, …)``, and one call trains all K for one trial with a per-learner schedule
(serial and parallel mixed in one call). :class:`TaskLearner` is the K = 1 view the single environment uses:
one implementation of training, not two.

Pass structure (docs/science/network.md): a trial runs *pass slots* 0, 1, …; learner ``k`` takes slot ``s`` iff
its schedule has a pass ``s`` (serial: 4 single-task passes, parallel: 2 pair passes), is scored on that pass's forward
(before the update) and then takes one optimizer step. In a slot it does not take, a learner is left out of the
computation altogether: its parameters, optimizer moments and Adam step count do not move. So a serial learner
takes 4 optimizer steps per trial and a parallel one 2, whatever the others do.

Batch dependence: learner ``k``'s numbers depend, at float level, on which other learners share its pass (a
reduction over a tensor of J·C channels sums in another order for another J; oneDNN computes one group with
another algorithm than many), about 1e-8 per pass: its accuracies equal a lone learner's over the first trials,
and the trajectories drift apart later as float noise does. The same batch replays bit for bit.

The forward is the network's one forward, :meth:`GatedNetwork.stacked_forward` (probes run it at K = 1).
Batching (hand-written: on one CPU thread it beats ``torch.func.vmap`` over ``functional_call`` of the network,
measured side by side in docs/findings/speed.md): fully
connected layers are batched matmuls (``baddbmm`` over K); conv layers one grouped convolution (``groups=K``,
channels-last) whose per-channel gate is folded into the filters and bias (``conv(x, w ⊙ c) + b ⊙ c`` =
``(conv(x, w) + b) ⊙ c``, which spares two full passes over the largest activations; the bias is added apart
from the convolution, whose oneDNN bias gradient is slow for many small groups). The optimizer is PyTorch's
own fused Adam kernel (the one ``torch.optim.Adam(fused=True)`` runs) over the per-learner slices of the
stacked tensors, so each learner's update is exactly Adam's with that learner's own step count; SGD with
momentum 0.9 runs ``torch.optim.SGD``'s foreach update over the slices. Learners left out of a slot are left
out of its lists.

Gating (``NetworkConfig.gating``): learned task gates (frozen to partition masks on every other layer with
``overlap`` or ``masks``), or the Gumbel-Matrix allocation (:mod:`tradeoff_gym.learners.allocation`), whose Gumbel
noise each
learner draws from its own generator (:attr:`LearnerParts.noise`) on each pass it takes, so its samples are the
lone learner's whatever the batch. Learners may differ in their masks (``networks``): K candidate partitions
train in one batch (:mod:`tradeoff_gym.learners.partition_search`).

Everything runs with the learner's own torch thread count (:mod:`tradeoff_gym.learners.threads`); no global RNG is used.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tradeoff_gym.learners.allocation import budget_penalty, gumbel_noise
from tradeoff_gym.learners.checks import check_index
from tradeoff_gym.learners.drone import DataStream, DroneBatch, DroneWorld
from tradeoff_gym.learners.gated_network import GatedNetwork, NetworkConfig
from tradeoff_gym.learners.memory import check_memory
from tradeoff_gym.learners.probes import ProbeResult, probe
from tradeoff_gym.learners.tasks import Schedule
from tradeoff_gym.learners.threads import torch_threads
from tradeoff_gym.learners.trial import LearnerConfig, LearnerParts, NonFiniteLossError

#: Adam's hyperparameters besides lr: PyTorch's defaults (``torch.optim.Adam``).
ADAM_BETAS: tuple[float, float] = (0.9, 0.999)
ADAM_EPS = 1e-8
#: SGD's momentum (``torch.optim.SGD(momentum=0.9)``).
SGD_MOMENTUM = 0.9


class BatchedLearner:
    """K fresh gated networks in K fresh drone worlds, trained one trial per :meth:`trial` call.

    ``seeds[k]`` determines learner ``k`` (:class:`LearnerParts`), as ``TaskLearner(config, seeds[k])``.
    ``networks`` (optional) gives learner ``k`` its own network settings, which may differ from ``config.network``
    only in ``overlap`` and ``masks`` (frozen partitions: the parameters keep their shapes), as
    ``TaskLearner(config.replace(network=networks[k]), seeds[k])``. Attributes: ``config``; ``n`` (K); ``seeds``
    (K,); ``trials`` ``(K,)`` int, trials each learner has run; ``params`` the stacked parameters by name
    (``gps_w`` ``(K, units, 2)``, ``conv_w.0`` ``(K, C, 1, 3, 3)``, …, as ``GatedNetwork.named_parameters()`` with
    a leading K); ``steps`` ``(K,)`` optimizer steps each learner took.
    """

    def __init__(
        self, config: LearnerConfig, seeds: Sequence[int], networks: Sequence[NetworkConfig] | None = None
    ) -> None:
        if not isinstance(config, LearnerConfig):
            raise ValueError(f"config must be a LearnerConfig, got {config!r}")
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("seeds must hold at least one seed (one per learner)")
        self.config = config
        self._configs = self._learner_configs(config, networks, len(seeds))
        self.device = torch.device(config.device)
        with torch_threads(config.threads):
            self._build(seeds)

    @staticmethod
    def _learner_configs(
        config: LearnerConfig, networks: Sequence[NetworkConfig] | None, k: int
    ) -> list[LearnerConfig]:
        """Each learner's config: ``config``, or ``config`` with learner ``k``'s network (differing in masks only)."""
        if networks is None:
            return [config] * k
        networks = list(networks)
        if len(networks) != k or not all(isinstance(n, NetworkConfig) for n in networks):
            raise ValueError(f"networks must give one NetworkConfig per learner ({k}), got {networks!r}")
        unmasked = dataclasses.replace(config.network, overlap=None, masks=None)
        for i, network in enumerate(networks):
            if dataclasses.replace(network, overlap=None, masks=None) != unmasked:
                raise ValueError(
                    f"networks[{i}] may differ from config.network only in overlap and masks (frozen partitions "
                    f"keep every parameter's shape), got {network!r}"
                )
        return [config.replace(network=n) for n in networks]

    # ------------------------------------------------------------------ construction
    def _build(self, seeds: list[int]) -> None:
        cfg = self.config
        first_parts = LearnerParts(self._configs[0], seeds[0])
        check_memory(
            len(seeds) * self.learner_bytes(first_parts, cfg),
            f"a batch of {len(seeds)} learners",
            "use fewer learners (num_envs), a smaller network, batch_size or chunk",
        )
        self._learners = [first_parts] + [LearnerParts(c, s) for c, s in zip(self._configs[1:], seeds[1:])]
        first = self._learners[0].network
        self.names: tuple[str, ...] = tuple(n for n, _ in first.named_parameters())
        k = len(seeds)
        # Stacked parameters, each a leaf (K, …), and the optimizer state beside them.
        self.params: dict[str, torch.Tensor] = {
            n: torch.stack([dict(lr.network.named_parameters())[n].detach() for lr in self._learners])
            .to(self.device)
            .requires_grad_()
            for n in self.names
        }
        self._state = {
            n: (torch.zeros_like(p, requires_grad=False), torch.zeros_like(p, requires_grad=False))
            for n, p in self.params.items()
        }  # Adam: (exp_avg, exp_avg_sq); SGD: (momentum buffer, unused)
        self.steps = torch.zeros(k, device=self.device)  # (K,) float32, as torch.optim's fused Adam keeps it
        self._make_views()
        # Fixed structure of the network (the same for every learner: the config decides it).
        self.task_set = self._learners[0].task_set
        self.n_tasks = self.task_set.n_tasks
        self.inputs = first.inputs  # (name, kind, size) per input, in input order
        self.head_sizes = first.head_sizes  # classes + null per output, in output order
        # Frozen partitions, per learner ((K, U) columns, (K, n_tasks, U) task weights): they depend on each
        # learner's network config only, so a reset learner keeps its own.
        self._frozen: tuple[torch.Tensor, torch.Tensor] | None = None
        nets = [lr.network for lr in self._learners]
        if any(net.masks is not None for net in nets):
            self._frozen = (
                torch.stack([net.frozen_columns for net in nets]).to(self.device),
                torch.stack([net.frozen_task_weights for net in nets]).to(self.device),
            )
        # Learned allocation (Gumbel-Matrix) or learned task gates.
        self.allocation = cfg.network.allocation
        self.trials = np.zeros(k, dtype=np.int64)

    @staticmethod
    def learner_bytes(parts: LearnerParts, config: LearnerConfig) -> int:
        """Estimated bytes one learner of a batch holds at its peak (a trial's backward pass), from its parts.

        Weights ×6 (the network's own while the batch is built, the stack, Adam's two moments, the gradients, a
        pass's copies), the world's tensors, the data stream's buffer (``chunk`` trials of examples), a trial's
        activations (taken as 8 example-sized tensors per example) and 0.3 MB of Python objects; counted against
        host memory whatever the device. Measured against the peak resident memory that K learners add over a
        reset and four trials: 0.87–0.96 × it with the default learner (K = 800, 200), 0.99 × (sharing world,
        K = 200), 1.23–1.28 × (a small learner, K = 500, 2000).
        """
        example = parts.world.sample(1, torch.Generator())  # a throwaway generator: the learner's own stays put
        example_bytes = sum(t.nbytes for t in example if t is not None)
        world_bytes = sum(t.nbytes for t in vars(parts.world).values() if isinstance(t, torch.Tensor))
        weight_bytes = sum(p.nbytes for p in parts.network.parameters())
        buffer_bytes = sum(b.nbytes for b in parts.network.buffers())
        stream_bytes = config.chunk * config.batch_size * example_bytes
        activation_bytes = 8 * config.batch_size * example_bytes
        return 6 * weight_bytes + buffer_bytes + world_bytes + stream_bytes + activation_bytes + 300_000

    def _make_views(self) -> None:
        """Per-learner views (slices along K) of the stack and the optimizer state, for the fused per-tensor
        optimizer kernels and each learner's network (:meth:`_alias`): they share the stack's storage."""
        self._views = {n: p.detach().unbind(0) for n, p in self.params.items()}
        self._m_views = {n: s[0].unbind(0) for n, s in self._state.items()}
        self._v_views = {n: s[1].unbind(0) for n, s in self._state.items()}
        self._step_views = self.steps.unbind(0)
        self._slice_cache: dict[tuple[int, ...], tuple[list[torch.Tensor], ...]] = {}
        for i in range(len(self._learners)):
            self._alias(i)

    def __getstate__(self) -> dict:
        """The state to pickle: no views (pickle would store each as a copy of the whole stack, sharing nothing,
        so the copy's updates would miss the weights it trains); :meth:`__setstate__` rebuilds them."""
        state = self.__dict__.copy()
        for name in ("_views", "_m_views", "_v_views", "_step_views", "_slice_cache"):
            del state[name]
        state["_learners"] = [copy.copy(lr) for lr in self._learners]
        for parts in state["_learners"]:  # each network without its parameters (views, re-aliased on load)
            memo: dict[int, object] = {id(p): None for p in parts.network.parameters()}
            memo[id(parts.noise)] = parts.noise  # the generator stays shared with the learner's parts
            parts.network = copy.deepcopy(parts.network, memo)
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled learner: the views again share the stack's storage, so it trains as the original."""
        self.__dict__.update(state)
        with torch_threads(self.config.threads):
            self._make_views()

    def _alias(self, k: int) -> None:
        """Make learner ``k``'s network hold views of the stacked parameters (so probes see current weights)."""
        net = self._learners[k].network.to(self.device)
        for name in self.names:
            module, _, attr = name.rpartition(".")
            owner = net.get_submodule(module) if module else net
            setattr(owner, attr, nn.Parameter(self._views[name][k], requires_grad=False))

    @property
    def n(self) -> int:
        """K, the number of learners."""
        return len(self._learners)

    @property
    def seeds(self) -> tuple[int, ...]:
        """Each learner's seed."""
        return tuple(lr.seed for lr in self._learners)

    def reset(self, k: int, seed: int) -> None:
        """Replace learner ``k`` by a fresh one built from ``seed`` (world, stream, weights, optimizer state)."""
        k = check_index(k, self.n, "learner index")
        with torch_threads(self.config.threads):
            fresh = LearnerParts(self._configs[k], int(seed))
            named = dict(fresh.network.named_parameters())
            with torch.no_grad():
                for name in self.names:
                    self._views[name][k].copy_(named[name])
                    self._m_views[name][k].zero_()
                    self._v_views[name][k].zero_()
                self._step_views[k].zero_()
            self._learners[k] = fresh
            self._alias(k)
            self.trials[k] = 0

    # ------------------------------------------------------------------ per-learner access
    def network(self, k: int) -> GatedNetwork:
        """Learner ``k``'s network: a :class:`GatedNetwork` whose parameters are views of the stack (current weights).

        Its parameters do not require grad (the stack trains, not the module); writing to them in place writes to
        learner ``k``'s weights.
        """
        return self._learners[k].network

    def world(self, k: int) -> DroneWorld:
        """Learner ``k``'s drone world."""
        return self._learners[k].world

    def stream(self, k: int) -> DataStream:
        """Learner ``k``'s data stream."""
        return self._learners[k].stream

    def probe_set(self, k: int, n: int) -> DroneBatch:
        """Learner ``k``'s fixed held-out probe batch of ``n`` examples (:meth:`LearnerParts.probe_set`)."""
        with torch_threads(self.config.threads):
            return self._learners[k].probe_set(n, self.device)

    def probe(self, k: int, n: int = 256) -> ProbeResult:
        """Probe learner ``k``'s network on its ``n``-example probe set (no training, no effect on its stream)."""
        with torch_threads(self.config.threads):
            return probe(self.network(k), self.probe_set(k, n), self.task_set)

    # ------------------------------------------------------------------ the batched network
    def forward(
        self,
        params: dict[str, torch.Tensor],
        inputs: Sequence[torch.Tensor],
        task: torch.Tensor,
        learners: Sequence[int] | None = None,
        noise: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """Logits of the J stacked networks ``learners`` (default: the first J), one ``(J, classes_o + 1, B)`` per
        output: :meth:`GatedNetwork.stacked_forward` (the network's one forward, conv gates folded) with these
        learners' frozen partitions. ``params`` ``(J, …)``, ``inputs``, ``task`` ``(J, n_tasks)`` and ``noise``
        ``(2, J, n_tasks, C_total)`` (``None``: maximum-likelihood allocation) as there.
        """
        frozen = None
        if self._frozen is not None:
            chosen = range(task.shape[0]) if learners is None else learners
            index = torch.tensor(list(chosen), device=self.device)
            frozen = (self._frozen[0].index_select(0, index), self._frozen[1].index_select(0, index))
        return self.network(0).stacked_forward(params, inputs, task, frozen=frozen, noise=noise)

    # ------------------------------------------------------------------ one trial
    def trial(self, schedules: Sequence[Schedule | None]) -> np.ndarray:
        """Run one trial of every learner with its schedule (``None``: that learner sits this call out).

        ``schedules[k]`` is learner ``k``'s schedule (validated passes, see
        :func:`tradeoff_gym.learners.tasks.check_schedule`).
        Returns ``(K, n_tasks)`` accuracies in [0, 1], each task's batch accuracy on the pass that executed it,
        before that pass's update; NaN for tasks not executed and for learners that sat out.
        """
        if len(schedules) != self.n:
            raise ValueError(f"schedules must give one schedule (or None) per learner ({self.n}), got {len(schedules)}")
        with torch_threads(self.config.threads):
            return self._trial(list(schedules))

    def _trial(self, schedules: list[Schedule | None]) -> np.ndarray:
        n_tasks = self.n_tasks
        accuracy = np.full((self.n, n_tasks), np.nan)
        members = [k for k, s in enumerate(schedules) if s is not None]  # learners training this call
        if not members:
            return accuracy
        dev = self.device
        batches = [self._learners[k].stream.next_batch() for k in members]
        size = len(batches[0])
        inputs = []  # per input: vector M d B; image B H W M
        for i, (_, kind, _) in enumerate(self.inputs):
            if kind == "vector":
                inputs.append(torch.stack([bt.inputs[i].T for bt in batches]).to(dev))
            else:
                inputs.append(torch.stack([bt.inputs[i][:, 0] for bt in batches], dim=-1).to(dev))
        labels = torch.stack([bt.labels for bt in batches])  # M B n_tasks
        nulls = torch.tensor([k - 1 for k in self.head_sizes])  # each head's null class
        n_out = len(self.head_sizes)
        targets = torch.cat([labels, nulls.expand(len(members), size, n_out)], dim=2).to(dev)  # M B (n_tasks + nulls)
        counts = torch.zeros(len(members), n_tasks, device=dev)  # M n_tasks: correct answers per task
        losses = []
        n_slots = max(len(schedules[k]) for k in members)  # type: ignore[arg-type]
        for slot in range(n_slots):
            rows = [r for r, k in enumerate(members) if slot < len(schedules[k])]  # type: ignore[arg-type]
            passes = [schedules[members[r]][slot] for r in rows]  # type: ignore[index]
            losses.append(self._pass(members, rows, passes, inputs, targets, counts))
        loss_values = torch.cat(losses).cpu()
        if not bool(torch.isfinite(loss_values).all()):
            raise NonFiniteLossError(
                f"non-finite training loss at trial(s) {sorted(set(self.trials[members].tolist()))} of learner(s) "
                f"{members}: the network diverged; lower lr (now {self.config.lr}) or check the inputs"
            )
        done = np.zeros((len(members), n_tasks), dtype=bool)
        for r, k in enumerate(members):
            done[r, [t for tasks in schedules[k] for t in tasks]] = True  # type: ignore[union-attr]
        accuracy[members] = np.where(done, counts.cpu().numpy() / size, np.nan)
        self.trials[members] += 1
        return accuracy

    def _pass(
        self,
        members: list[int],
        rows: list[int],
        passes: list[tuple[int, ...]],
        inputs: list[torch.Tensor],
        targets: torch.Tensor,
        counts: torch.Tensor,
    ) -> torch.Tensor:
        """One pass slot for the learners ``members[rows]``, each executing its ``passes[j]``; returns their losses.

        Answers are scored into ``counts`` (M, n_tasks) before the update; then each of these learners takes one
        optimizer step; no other learner's parameters or optimizer state are touched.
        """
        dev = self.device
        learners = [members[r] for r in rows]
        everyone = len(learners) == self.n
        first = learners[0]
        contiguous = learners == list(range(first, first + len(learners)))
        n_tasks, task_set = self.n_tasks, self.task_set
        task = torch.zeros(len(rows), n_tasks)
        # Per row, the target column at each head: the executed task's label there, else that head's null.
        columns = [[n_tasks + o for o in range(len(self.head_sizes))] for _ in rows]
        for j, tasks in enumerate(passes):
            task[j, list(tasks)] = 1.0
            for t in tasks:
                columns[j][task_set.output_index(t)] = t
        task = task.to(dev)
        kinds = [kind for _, kind, _ in self.inputs]
        if len(rows) == len(members):
            part_targets = targets
            # images: B M H W, channels-last strides
            part_inputs = [x if k == "vector" else x.permute(0, 3, 1, 2) for x, k in zip(inputs, kinds)]
        else:
            row_index = torch.tensor(rows, device=dev)
            part_targets = targets[row_index]
            part_inputs = [
                x[row_index] if k == "vector" else x.index_select(3, row_index).permute(0, 3, 1, 2)
                for x, k in zip(inputs, kinds)
            ]
        with torch.no_grad():  # leaves for this pass: views of the stack where the learners are a range, else copies
            if contiguous:
                params = {n: p.detach()[first : first + len(learners)].requires_grad_() for n, p in self.params.items()}
            else:
                index = torch.tensor(learners, device=dev)
                params = {n: p.index_select(0, index).requires_grad_() for n, p in self.params.items()}
        noise = None
        if self.allocation:  # each learner's own Gumbel draws, in its own stream: the lone learner's samples
            logits = params["allocation_logits"]  # J n_tasks C_total
            noise = torch.stack([gumbel_noise(logits.shape[1:], self._learners[k].noise, dev) for k in learners], 1)
        heads = self.forward(params, part_inputs, task, learners, noise)  # per output: J classes+1 B
        col = torch.tensor(columns, device=dev)  # J n_outputs
        j_range = torch.arange(len(rows), device=dev)
        loss = torch.zeros(len(rows), device=dev)
        for head, logits in enumerate(heads):
            target = part_targets[j_range, :, col[:, head]]  # J B
            loss = loss + F.cross_entropy(logits, target, reduction="none").mean(1)  # J
            hits = (logits.detach().argmax(1) == target).sum(1).float()  # J
            scored = [j for j in range(len(rows)) if columns[j][head] < n_tasks]
            if scored:
                at = torch.tensor(scored, device=dev)
                cells = (torch.tensor([rows[j] for j in scored], device=dev), col[at, head])
                counts.index_put_(cells, hits[at])
        net_cfg = self.config.network
        if self.allocation and net_cfg.budget_weight > 0:
            loss = loss + budget_penalty(params["allocation_logits"], net_cfg.budget, net_cfg.budget_weight)  # J
        loss.sum().backward()
        self._step(params, learners, everyone)
        return loss.detach()

    def _slices(self, learners: list[int]) -> tuple[list[torch.Tensor], ...]:
        """Slices of ``learners`` (parameters, first moments, second moments, step counts), parameter-major."""
        key = tuple(learners)
        if key not in self._slice_cache:
            if len(self._slice_cache) > 64:  # subsets vary with the actions; keep the cache small
                self._slice_cache.clear()
            self._slice_cache[key] = (
                [self._views[n][k] for n in self.names for k in learners],
                [self._m_views[n][k] for n in self.names for k in learners],
                [self._v_views[n][k] for n in self.names for k in learners],
                [self._step_views[k] for _ in self.names for k in learners],
            )
        return self._slice_cache[key]

    def _step(self, params: dict[str, torch.Tensor], learners: list[int], everyone: bool) -> None:
        """One optimizer step for ``learners`` (their gradients in ``params[n].grad``, rows in that order)."""
        grads = []
        for name in self.names:
            grad = params[name].grad
            assert grad is not None and grad.shape[0] == len(learners)
            grads += grad.unbind(0)
        slices = (*self._slices(learners), grads)  # views, moments, steps, grads: parameter-major lists
        with torch.no_grad():
            if everyone:
                self.steps.add_(1.0)
            else:
                self.steps[learners] += 1.0
            lr = self.config.lr
            allocation_lr = self.config.network.allocation_lr
            if self.allocation and allocation_lr is not None and allocation_lr != lr:
                # The allocation logits take their own learning rate: their len(learners) entries of every
                # parameter-major list apart; the step counts are shared, incremented once above.
                start = self.names.index("allocation_logits") * len(learners)
                stop = start + len(learners)
                self._update(*(part[:start] + part[stop:] for part in slices), lr=lr)
                self._update(*(part[start:stop] for part in slices), lr=allocation_lr)
            else:
                self._update(*slices, lr=lr)
        for p in params.values():
            p.grad = None

    def _update(
        self,
        views: list[torch.Tensor],
        first: list[torch.Tensor],
        second: list[torch.Tensor],
        steps: list[torch.Tensor],
        grads: list[torch.Tensor],
        *,
        lr: float,
    ) -> None:
        """The optimizer's update of parameter slices ``views`` with ``grads`` at learning rate ``lr`` (no grad)."""
        if self.config.optimizer == "adam":
            torch._fused_adam_(  # the kernel of torch.optim.Adam(fused=True), per learner slice
                views,
                grads,
                first,
                second,
                [],
                steps,
                lr=lr,
                beta1=ADAM_BETAS[0],
                beta2=ADAM_BETAS[1],
                weight_decay=0.0,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
            )
        else:  # SGD, momentum 0.9, no dampening: buf = 0.9·buf + g (= g at the first step), p −= lr·buf
            torch._foreach_mul_(first, SGD_MOMENTUM)
            torch._foreach_add_(first, grads)
            torch._foreach_add_(views, first, alpha=-lr)


class TaskLearner:
    """One learner (a fresh gated network in a fresh drone world), trained one trial at a time: K = 1.

    The :class:`BatchedLearner` of one seed, seen as one learner: ``seed`` determines everything (world, data
    stream, initial weights, probe set — each from its own generator, so the data stream is the same whatever
    the schedules played, and probing never changes training), and its numbers equal those of learner ``k`` of
    any batch with the same seed up to float drift (see the module's docstring). Attributes: ``config``,
    ``seed``, ``device``, ``world``, ``stream``, ``network`` (a :class:`GatedNetwork` viewing the current weights;
    writing to its parameters in place writes the learner's weights), ``trials`` and ``steps`` (optimizer steps).
    """

    def __init__(self, config: LearnerConfig, seed: int) -> None:
        self._batch = BatchedLearner(config, [int(seed)])
        self.config, self.device = config, self._batch.device
        self.seed = self._batch.seeds[0]
        self._expose()

    def _expose(self) -> None:
        self.world, self.stream, self.network = self._batch.world(0), self._batch.stream(0), self._batch.network(0)

    def __getstate__(self) -> dict:
        """The state to pickle: the batch alone (world, stream and network are re-read from it on load)."""
        return {n: v for n, v in self.__dict__.items() if n not in ("world", "stream", "network")}

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled learner from its batch: ``network`` again views the weights that train."""
        self.__dict__.update(state)
        self._expose()

    @property
    def batched(self) -> BatchedLearner:
        """The K = 1 :class:`BatchedLearner` this learner is (learner 0 of it)."""
        return self._batch

    @property
    def trials(self) -> int:
        """Trials run so far."""
        return int(self._batch.trials[0])

    @property
    def steps(self) -> int:
        """Optimizer steps taken so far (4 per serial trial, 2 per parallel trial)."""
        return int(self._batch.steps[0])

    def next_batch(self) -> DroneBatch:
        """The next batch of the data stream, on the learner's device (advances the stream, as a trial would)."""
        with torch_threads(self.config.threads):
            return self.stream.next_batch().to(self.device)

    def trial(self, schedule: Schedule) -> np.ndarray:
        """Run one trial with ``schedule`` (answer, score, train per pass); ``(n_tasks,)`` accuracies in [0, 1].

        Tasks the schedule does not execute are NaN (a valid schedule executes every task).
        """
        return self._batch.trial([schedule])[0]

    def probe_set(self, n: int) -> DroneBatch:
        """The fixed held-out probe batch (:meth:`LearnerParts.probe_set`: drawing it never changes training)."""
        return self._batch.probe_set(0, n)

    def probe(self, n: int = 256) -> ProbeResult:
        """Probe the network on the ``n``-example probe set: serial/parallel execution error, layer correlations."""
        return self._batch.probe(0, n)
