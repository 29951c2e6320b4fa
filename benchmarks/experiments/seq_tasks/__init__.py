"""The sequential-multitask paper's Fig 2: sequential task streams — forward facilitation and backward interference.

One run = one whole stream (``episode_scope="stream"``) of ``n_tasks`` tasks of one shapes-world dimension,
trained with a fixed regimen (the paper's ``mix`` by default), task order = row ``replication`` of a Latin
square (seed ``replication``). As in the paper, effort and budgets are counted in *training examples of the
task* (the paper's "trials" of a task), not in env steps: a new task gets 32 examples per step in episode 1
and 16 afterwards under ``mix``.

Layout (every experiment alike): this file holds the plain data (:data:`DESCRIPTION`, :data:`SCALES`);
``sweep.py`` the runs, ``analysis.py`` the report items and the score.
"""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiments.seq_tasks.analysis import SCORE, analyze, score
from tradeoff_gym.benchmarks.experiments.seq_tasks.sweep import runs

__all__ = ["DESCRIPTION", "SCALES", "SCORE", "runs", "analyze", "score"]

DESCRIPTION = "Sequential Fig 2: trials to criterion and accuracy vs episode and times retrained (SequentialTasks)"

SCALES: dict[str, dict[str, Any]] = {
    "smoke": {
        "seeds": 1, "dimensions": ["colour"], "regimens": ["mix"], "n_tasks": 3, "max_trials": 30,
        "eval_every": 5, "budget": 200, "criterion": 0.6,
        "env": {"n_train": 400, "n_holdout": 100, "channels": [4, 8, 8], "hidden": [16]},
    },
    "quick": {
        "seeds": 4, "dimensions": ["colour"], "regimens": ["mix"], "n_tasks": 6, "max_trials": 1200,
        "eval_every": 10, "budget": 1600, "criterion": 0.95, "env": {},
    },
    "paper": {
        "seeds": 10, "dimensions": ["shape", "colour", "texture"], "regimens": ["mix"], "n_tasks": 10,
        "max_trials": 4000, "eval_every": 10, "budget": 3200, "criterion": 0.95, "env": {},
    },
}

