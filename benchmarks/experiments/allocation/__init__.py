"""Learned allocation (the Gumbel-Matrix paper): its synthetic relatedness check, and where it lands on the trade-off.

Two parts, one report. (1) The Gumbel-Matrix paper's check on its own synthetic regression tasks
(:mod:`tradeoff_gym.learners.relatedness`, run
through
``tradeoff-bench/Relatedness-v0``): a shared bottom helps related tasks (ρ = 1) and hurts unrelated ones (ρ = 0), and
learned allocation shares components between related tasks and separates unrelated ones. (2) The drone world
(SerialParallel, c = 0): learning speed (area under the accuracy curve) against parallel-execution error for
learned allocation (``gating="allocation"``) beside the paper's learned task gates and fixed overlaps, each
trained serially and in parallel.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.allocation.analysis import SCORE, analyze, score
from tradeoff_gym.benchmarks.experiments.allocation.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score"]

DESCRIPTION = "Learned allocation (Gumbel-Matrix): related tasks share, unrelated separate; its place on the trade-off"

#: The synthetic tasks' network and training (the paper's appendix A3: no task heads, one output unit per component; a
#: smaller input and a larger learning rate than the paper's d = 128, lr = 0.01, so the check runs in seconds).
RELATEDNESS = {"dim": 16, "hidden": 16, "outputs": 1, "lr": 0.03}

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {
        "seeds": 1, "horizon": 30, "probe_every": 15, "overlaps": [0.0, 1.0], "allocation_lrs": [0.05],
        "relatedness_seeds": 2, "relatedness_steps": 300, "rhos": [0.0, 1.0], "heads": [False],
        "relatedness": RELATEDNESS,
    },
    "quick": {
        "seeds": 2, "horizon": 1000, "probe_every": 100, "overlaps": [0.0, 0.5, 1.0], "allocation_lrs": [0.0005, 0.05],
        "relatedness_seeds": 5, "relatedness_steps": 1500, "rhos": [0.0, 0.5, 1.0], "heads": [False, True],
        "relatedness": RELATEDNESS,
    },
    "paper": {
        "seeds": 5, "horizon": 5000, "probe_every": 250, "overlaps": [0.0, 0.5, 1.0], "allocation_lrs": [0.0005, 0.05],
        "relatedness_seeds": 20, "relatedness_steps": 3000, "rhos": [0.0, 0.5, 1.0], "heads": [False, True],
        "relatedness": RELATEDNESS,
    },
}
