"""The fig5_noisy sweep: fig5's (cost, agent, seed) runs on the noisy-input env."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.experiments.fig5.sweep import cost_runs

ENV_ID = "tradeoff/SerialParallelNoisy-v0"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """The fig5_noisy sweep; run ids ``fig5_noisy/c<cost>/<agent>/<seed>``."""
    return cost_runs("fig5_noisy", ENV_ID, settings)
