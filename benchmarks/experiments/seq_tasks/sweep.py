"""The seq_tasks sweep: one whole stream per (dimension, regimen, replication), task order from a Latin square."""

from __future__ import annotations

from typing import Any

from tradeoff_gym.benchmarks.experiment import RunSpec, seed_list

ENV_ID = "tradeoff/SequentialTasks-v0"
#: A fixed regimen (agent_kwargs={"strategy": regimen}); runs are labelled by the regimen.
AGENT = "tradeoff_gym.agents.baselines:FixedAgent"


def runs(settings: dict[str, Any]) -> list[RunSpec]:
    """One stream per (dimension, regimen, replication); run ids ``seq_tasks/<dimension>/<regimen>/r<rep>``."""
    env = {key: tuple(v) if isinstance(v, list) else v for key, v in settings.get("env", {}).items()}
    return [
        RunSpec(
            run_id=f"seq_tasks/{dimension}/{regimen}/r{rep}",
            env_id=ENV_ID,
            agent=AGENT,
            seed=rep,
            env_kwargs={
                "dimension": dimension,
                "n_tasks": int(settings["n_tasks"]),
                "order": "latin",
                "replication": rep,
                "max_trials": int(settings["max_trials"]),
                "eval_every": int(settings["eval_every"]),
                "criterion": float(settings["criterion"]),
                "episode_scope": "stream",
                **env,
            },
            agent_kwargs={"strategy": regimen},
            label=regimen,  # results and the scoreboard name the regimen, not the class path
            tags={
                "dimension": dimension,
                "regimen": regimen,
                "replication": rep,
                "budget": int(settings["budget"]),
                "criterion": float(settings["criterion"]),
            },
        )
        for dimension in settings["dimensions"]
        for regimen in settings["regimens"]
        for rep in seed_list(settings)
    ]

