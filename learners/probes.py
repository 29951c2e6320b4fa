"""Probes of a trained gated network (the paper's Figs 3B/C, 4B/C); they never train or draw training data.

* :func:`execution_error` — each task's error when executed in the passes of a schedule; with the
  parallel schedule this is the *parallel-execution error* (a task run together with its partner).
* :func:`layer_correlations` — per gated layer, the correlation between tasks' *mean representations*
  (the layer's activity executing the task alone, averaged over all examples of the probe batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tradeoff_gym.learners.drone import DroneBatch
from tradeoff_gym.learners.gated_network import GatedNetwork
from tradeoff_gym.learners.tasks import DRONE, Schedule, TaskSet, parallel_schedule


@torch.no_grad()
def execution_error(
    network: GatedNetwork, batch: DroneBatch, schedule: Schedule, task_set: TaskSet = DRONE, *,
    exclude_null: bool = False,
) -> np.ndarray:
    """``(n_tasks,)`` error rate of each task when ``batch`` is run through ``schedule``'s passes (no update).

    ``exclude_null``: a head's answer is its best *real* class (the null class, "no response", left out), so
    a task fails only when the network's representation points to the wrong class — not when its head
    declines to answer because another task's units are active (what serial training teaches the heads).
    """
    was_training = network.training
    network.eval()
    error = np.full(task_set.n_tasks, np.nan)
    device = batch.gps.device
    for tasks in schedule:
        logits = network(*batch.inputs, task_set.task_vector(tasks, device))[:-1]  # per output (B, classes + 1)
        for t in tasks:
            head = logits[task_set.output_index(t)]
            answer = (head[:, :-1] if exclude_null else head).argmax(1)  # (B,); the null class is the last
            error[t] = float((answer != batch.labels[:, t]).float().mean())
    network.train(was_training)
    return error


@torch.no_grad()
def layer_correlations(network: GatedNetwork, batch: DroneBatch, task_set: TaskSet = DRONE) -> np.ndarray:
    """``(n_layers, n_tasks, n_tasks)`` Pearson correlation of the tasks' mean representations per gated layer.

    A task whose mean representation is constant (e.g. a layer it gates fully off) has NaN correlations.
    """
    was_training = network.training
    network.eval()
    device = batch.gps.device
    means: list[list[torch.Tensor]] = [[] for _ in network.layer_names]  # [layer][task] → (units_flat,)
    n_tasks = task_set.n_tasks
    for t in range(n_tasks):
        activity = network(*batch.inputs, task_set.task_vector((t,), device), keep=True)[-1]
        for layer, h in enumerate(activity):
            means[layer].append(h.mean(0).flatten())  # mean over examples: (units,) or (C·H·W,)
    network.train(was_training)
    out = np.empty((len(means), n_tasks, n_tasks))
    for layer, vectors in enumerate(means):
        m = torch.stack(vectors).double()  # (n_tasks, D)
        centred = m - m.mean(1, keepdim=True)
        norm = centred.norm(dim=1)  # (n_tasks,)
        out[layer] = ((centred @ centred.T) / (norm[:, None] * norm[None, :])).numpy()
        out[layer][(norm == 0).numpy(), :] = np.nan
        out[layer][:, (norm == 0).numpy()] = np.nan
    return out


@dataclass(frozen=True)
class ProbeResult:
    """One probe of the network: per-task errors executed serially and in parallel, and layer correlations.

    ``serial_error`` / ``parallel_error`` ``(n_tasks,)``; ``correlations`` ``(n_layers, n_tasks, n_tasks)``;
    ``layers`` the gated layers' names in order; ``parallel_error_no_null``
    ``(n_tasks,)`` the parallel-execution error with the heads' null class left out
    (:func:`execution_error` with ``exclude_null``): what is left of the error is the representations'.
    """

    serial_error: np.ndarray
    parallel_error: np.ndarray
    correlations: np.ndarray
    layers: tuple[str, ...]
    parallel_error_no_null: np.ndarray | None = None

    def metrics(self) -> dict[str, float]:
        """Flat scalar metrics for ``info["metrics"]``.

        ``serial_error_<t>``, ``parallel_error_<t>`` (task ``t`` 0-based), ``parallel_error`` (mean over
        tasks), ``parallel_error_no_null`` (mean over tasks, heads' null class left out) when probed, and per
        layer ``corr_<layer>`` (mean over the task pairs: 6 in the drone world), ``corr_<layer>_t3t4`` (T3
        image-location vs T4 image-object, the pair of the paper's Figs 3C/4C) and every pair ``corr_<layer>_t<i>t<j>``
        (1-based task numbers, i < j).
        """
        out: dict[str, float] = {}
        n_tasks = len(self.serial_error)
        for t in range(n_tasks):
            out[f"serial_error_{t}"] = float(self.serial_error[t])
            out[f"parallel_error_{t}"] = float(self.parallel_error[t])
        out["parallel_error"] = float(np.mean(self.parallel_error))
        if self.parallel_error_no_null is not None:
            out["parallel_error_no_null"] = float(np.mean(self.parallel_error_no_null))
        upper = np.triu_indices(n_tasks, k=1)
        for name, corr in zip(self.layers, self.correlations):
            pairs = corr[upper]
            out[f"corr_{name}"] = float(np.nanmean(pairs)) if np.isfinite(pairs).any() else float("nan")
            for i, j in zip(*upper):
                out[f"corr_{name}_t{i + 1}t{j + 1}"] = float(corr[i, j])
        return out


def probe(network: GatedNetwork, batch: DroneBatch, task_set: TaskSet = DRONE) -> ProbeResult:
    """Run every probe on ``batch``: serial and full-parallel execution error, layer correlations."""
    parallel = parallel_schedule(task_set)
    return ProbeResult(
        serial_error=execution_error(network, batch, task_set.serial_schedule, task_set),
        parallel_error=execution_error(network, batch, parallel, task_set),
        parallel_error_no_null=execution_error(network, batch, parallel, task_set, exclude_null=True),
        correlations=layer_correlations(network, batch, task_set),
        layers=tuple(network.layer_names),
    )
