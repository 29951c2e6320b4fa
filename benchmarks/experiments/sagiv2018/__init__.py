"""Sagiv et al. (2018)'s synthetic world: LearningCurves' sagiv2018 preset over cost P and parallel midpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.analysis import cost_sweep_report
from benchmarks.experiment import ReportItem, RunSpec

DESCRIPTION = "Sagiv et al. 2018 world (LearningCurves preset): agents across additive cost P × parallel midpoint"
ENV_ID = "tradeoff/LearningCurves-v0"
AGENTS = ["serial", "parallel", "oracle", "sagiv", "meta-learner", "ucb1", "gaussian-ts", "random"]

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "costs": [0.1], "parallel_midpoints": [200, 600], "agents": AGENTS},
    "quick": {"seeds": 3, "costs": [0.05, 0.15, 0.3], "parallel_midpoints": [200, 400, 600], "agents": AGENTS},
    "paper": {
        "seeds": 15,
        "costs": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
        "parallel_midpoints": [200, 300, 400, 500, 600],
        "agents": AGENTS,
    },
}


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """Every (midpoint, cost, agent, seed) run; run ids ``sagiv2018/<midpoint>/<cost>/<agent>/<seed>``."""
    return [
        RunSpec(
            run_id=f"sagiv2018/m{midpoint}/c{cost:g}/{agent}/{seed}",
            env_id=ENV_ID,
            agent=agent,
            seed=seed,
            env_kwargs={"preset": "sagiv2018", "parallel_midpoint": float(midpoint), "cost": float(cost)},
            tags={"cost": float(cost), "parallel_midpoint": int(midpoint)},
        )
        for midpoint in settings["parallel_midpoints"]
        for cost in settings["costs"]
        for agent in settings["agents"]
        for seed in range(settings["seeds"])
    ]


def analyze(frame: pd.DataFrame, out_dir: Path) -> list[ReportItem]:
    """Reward rate and serial share vs P, one panel per parallel midpoint."""
    return cost_sweep_report(frame, out_dir, name="sagiv2018", title="Sagiv 2018 world", facet="parallel_midpoint")
