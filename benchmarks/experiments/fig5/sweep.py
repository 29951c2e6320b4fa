"""The fig5 sweep: every (cost, agent, seed) run on SerialParallel (any world: ``preset``), by the shared
:func:`~tradeoff_gym.benchmarks.experiment.cost_runs`."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, cost_runs

ENV_ID = "tradeoff/SerialParallel-v0"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """The fig5 sweep."""
    return cost_runs("fig5", ENV_ID, settings)
