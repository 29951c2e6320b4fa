"""A user's experiment written in Python, for ``tradeoff-bench run my_experiment:HORIZONS`` (run from this folder).

An experiment is any object with the built-in experiments' layout — ``DESCRIPTION``, ``SCALES``, ``runs``,
``analyze``, ``score`` (and optionally ``SCORE``, ``FIXED_AGENTS``, ``score_runs``; docs/benchmarks/experiments.md).
Here: does the episode's length change which agent wins on the LearningCurves world? Costs × horizons × agents ×
seeds, analysed by the shared cost-sweep analysis with one panel per horizon, scored against the best fixed
strategy at each (cost, horizon). A sweep file cannot express this one: its runs sweep a setting (the horizon)
that the analysis must draw side by side rather than report section by section.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tradeoff_gym.benchmarks.analysis import CostSweepAnalysis
from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list

ENV_ID = "tradeoff/LearningCurves-v0"
ANALYSIS = CostSweepAnalysis(name="horizons", title="LearningCurves", fixed=("serial", "parallel"),
                             tags=("cost", "horizon"), facet="horizon")


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One run per (horizon, cost, agent, seed); run ids ``horizons/h<horizon>/c<cost>/<agent>/<seed>``."""
    return [
        RunSpec(run_id=f"horizons/h{horizon}/c{cost:g}/{agent}/{seed}", env_id=ENV_ID, agent=agent, seed=seed,
                env_kwargs={"cost": float(cost), "horizon": int(horizon)},
                tags={"cost": float(cost), "horizon": int(horizon)})
        for horizon in settings["horizons"]
        for cost in settings["costs"]
        for agent in settings["agents"]
        for seed in seed_list(settings)
    ]


HORIZONS = SimpleNamespace(
    DESCRIPTION="LearningCurves: does the horizon change which agent wins? (costs × horizons)",
    SCALES={
        "smoke": {"seeds": 2, "costs": [0.1, 0.5], "horizons": [100, 300], "agents": ["serial", "parallel", "ucb1"]},
        "quick": {"seeds": 5, "costs": [0.05, 0.2, 0.5], "horizons": [250, 1000, 4000],
                  "agents": ["serial", "parallel", "ucb1", "navigator", "meta-learner"]},
    },
    SCORE=ANALYSIS.score_text + " Per (cost, horizon).",
    FIXED_AGENTS=ANALYSIS.fixed,
    runs=runs,
    analyze=ANALYSIS.analyze,
    score=ANALYSIS.score,
    score_runs=ANALYSIS.score_runs,
)
