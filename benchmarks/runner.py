"""Execute a sweep of RunSpecs: in a local process pool (joblib) or on a Dask cluster, resumably.

Workers only compute; the parent process is the single writer of the result store, so a sweep killed at
any moment leaves only whole, checksummed runs behind, and the next invocation skips them.

Exact reuse: an agent whose choices ignore rewards (fixed strategies, uniform random) produces the same
learning trajectory whatever the serialization cost, because the cost only rescales serial rewards. Such
runs are executed once per (env settings without cost, agent, seed) at c = 0 and re-discounted for every
cost of the sweep (:func:`rediscount`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from agents.registry import is_reward_independent
from benchmarks.experiment import RunSpec
from benchmarks.store import ResultStore
from envs.interface import RewardRule

TASK_PREFIX = "task_reward_"


@dataclass(frozen=True)
class WorkUnit:
    """One episode to play (``spec``) and the runs derived from its frame (``members``).

    For an ordinary run ``members == (spec,)``; for a reused fixed-strategy run ``spec`` is played at
    cost 0 and each member is its re-discounted copy at the member's cost.
    """

    spec: RunSpec
    members: tuple[RunSpec, ...]
    reuse: bool = False


@dataclass
class UnitResult:
    """What a worker sends back: the frame (or a traceback), how long it took, the env's reward rule."""

    unit: WorkUnit
    frame: pd.DataFrame | None
    error: str | None
    seconds: float
    reward_rule: RewardRule | None = None


@dataclass
class SweepSummary:
    """Counts of what a sweep did; ``problems`` lists damaged files found (and rerun)."""

    total: int
    skipped: int
    completed: int = 0
    failed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def plan_units(specs: list[RunSpec]) -> list[WorkUnit]:
    """Group reusable runs (reward-independent agent, fixed numeric cost) into shared units."""
    groups: dict[str, list[RunSpec]] = {}
    units: list[WorkUnit] = []
    for spec in specs:
        cost = spec.env_kwargs.get("cost")
        if is_reward_independent(spec.agent) and isinstance(cost, (int, float)) and not isinstance(cost, bool):
            key = repr((spec.env_id, sorted({**spec.env_kwargs, "cost": None}.items()), spec.agent,
                        sorted(spec.agent_kwargs.items()), spec.seed))
            groups.setdefault(key, []).append(spec)
        else:
            units.append(WorkUnit(spec, (spec,)))
    for members in groups.values():
        base = members[0]
        played = dataclasses.replace(
            base, run_id=f"{base.run_id}@cost0", env_kwargs={**base.env_kwargs, "cost": 0.0}, tags={}
        )
        units.append(WorkUnit(played, tuple(members), reuse=True))
    return units


def execute_unit(unit: WorkUnit) -> UnitResult:
    """Play one unit's episode (in a worker process); never raises — errors come back as text."""
    import gymnasium as gym
    import torch

    import envs  # noqa: F401  (registers the ids in a fresh worker)
    from agents.registry import make_agent
    from benchmarks.run_loop import run_episode

    torch.set_num_threads(1)  # one core per worker; the pool provides the parallelism
    start = time.perf_counter()
    spec = unit.spec
    try:
        env = gym.make(spec.env_id, **spec.env_kwargs)
        agent = make_agent(spec.agent, env, **spec.agent_kwargs)
        frame = run_episode(env, agent, spec.seed, run_id=spec.run_id, env_id=spec.env_id, agent_name=spec.agent)
        rule = env.unwrapped.reward_rule if unit.reuse else None
        env.close()
    except Exception:
        return UnitResult(unit, None, traceback.format_exc(), time.perf_counter() - start)
    return UnitResult(unit, frame, None, time.perf_counter() - start, rule)


def rediscount(frame: pd.DataFrame, cost: float, rule: RewardRule) -> pd.DataFrame:
    """Rewards of a cost-0 run recomputed at ``cost`` by the env's reward rule; choices and accuracies unchanged.

    At c = 0 every per-task reward equals the task's accuracy (every payoff is 1), so the rule can be
    applied afterwards exactly as the environment would have applied it.
    """
    frame = frame.copy()
    columns = [c for c in frame.columns if c.startswith(TASK_PREFIX)]
    accuracy = frame[columns].to_numpy(dtype=np.float64)  # (trials, n_tasks), NaN = not performed
    task_rewards, rewards = rule.apply(frame["action"].to_numpy(), accuracy, cost)
    frame[columns] = task_rewards
    frame["reward"] = rewards
    return frame


def member_frames(result: UnitResult) -> Iterator[tuple[RunSpec, pd.DataFrame]]:
    """The frames of a unit's member runs, tagged with their run ids and tags."""
    assert result.frame is not None
    for member in result.unit.members:
        frame = result.frame
        if result.unit.reuse:
            assert result.reward_rule is not None
            frame = rediscount(frame, float(member.env_kwargs["cost"]), result.reward_rule)
        frame = frame.assign(run_id=member.run_id, **member.tags)
        yield member, frame


def _results_locally(units: list[WorkUnit], jobs: int) -> Iterator[UnitResult]:
    if jobs == 1:
        yield from map(execute_unit, units)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(execute_unit)(u) for u in units)


def _results_on_cluster(units: list[WorkUnit], scheduler: str) -> Iterator[UnitResult]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        raise RuntimeError("--scheduler needs dask.distributed: pip install 'tradeoff-gym[cluster]'") from error
    with Client(scheduler, timeout="30s") as client:
        futures = client.map(execute_unit, units, pure=False)
        for future in as_completed(futures):
            yield future.result()


def run_sweep(
    specs: list[RunSpec],
    store: ResultStore,
    manifest: dict[str, Any],
    *,
    jobs: int = -1,
    scheduler: str | None = None,
    progress: bool = True,
) -> SweepSummary:
    """Run every spec not already complete in ``store``; write each run as soon as it finishes.

    Holds the store's writer lock throughout (a second sweep into the same directory gets a StoreError),
    refuses a directory of another sweep (:meth:`ResultStore.open_sweep`), removes temporary files left by
    dead writers, and reruns failed and damaged runs.
    """
    start = time.perf_counter()
    ids = [s.run_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("run ids must be unique within a sweep")
    if scheduler is None:
        jobs = _resolve_jobs(jobs)
    with store.writer_lock():
        store.remove_stale_temp_files()
        store.open_sweep(manifest, specs)
        complete, problems = store.check(specs)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        todo = [s for s in specs if s.run_id not in complete]
        units = plan_units(todo)
        summary = SweepSummary(total=len(specs), skipped=len(complete), problems=problems)
        if not units:
            summary.seconds = time.perf_counter() - start
            return summary
        results = _results_on_cluster(units, scheduler) if scheduler else _results_locally(units, jobs)
        with tqdm(total=len(todo), desc=manifest.get("experiment", "sweep"), unit="run",
                  disable=not progress, file=sys.stderr) as bar:
            for result in results:
                if result.error is not None:
                    for member in result.unit.members:
                        path = store.write_failure(member, result.error)
                        summary.failed.append(member.run_id)
                        bar.write(f"run {member.run_id} failed; traceback in {path}")
                else:
                    for member, frame in member_frames(result):
                        store.write_run(member, frame, result.seconds, shared_by=len(result.unit.members))
                        summary.completed += 1
                bar.update(len(result.unit.members))
    summary.seconds = time.perf_counter() - start
    return summary


def _resolve_jobs(jobs: int) -> int:
    """Local worker processes: -1 = all cores, else an integer >= 1 (anything else: ValueError)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or (jobs < 1 and jobs != -1):
        raise ValueError(f"--jobs must be -1 (all cores) or an integer >= 1, got {jobs!r}")
    if jobs == -1:
        return max(os.cpu_count() or 1, 1)
    return jobs
