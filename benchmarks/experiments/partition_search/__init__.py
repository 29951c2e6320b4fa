"""The feature-partitioning paper's search on SerialParallel: the overlap matrix P of the masked layers, searched by
random sampling and by evolution strategies, each candidate scored by short training runs (batched), for a given
serialization cost c; the P found beside hand-set overlaps and learned task gates, trained serially or in parallel.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score. The search itself runs as an env
(``search_env.py``: one step = one generation), so its runs go through the one run loop.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.partition_search.analysis import SCORE, analyze, score
from tradeoff_gym.benchmarks.experiments.partition_search.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score"]

DESCRIPTION = "Feature-partition search: P found by random sampling and ES vs hand-set overlaps, at a cost c"

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": 1, "costs": [0.2], "methods": ["random", "es"], "generations": 2, "population": 2,
              "trials": 10, "search_seeds": 1, "final_trials": 20, "final_seeds": 1, "capacity_weight": 0.05},
    "quick": {"seeds": 2, "costs": [0.2], "methods": ["random", "es"], "generations": 6, "population": 4,
              "trials": 150, "search_seeds": 1, "final_trials": 600, "final_seeds": 3, "capacity_weight": 0.05},
    "paper": {"seeds": 3, "costs": [0.1, 0.3], "methods": ["random", "es"], "generations": 20, "population": 8,
              "trials": 300, "search_seeds": 2, "final_trials": 2000, "final_seeds": 5, "capacity_weight": 0.05},
}
