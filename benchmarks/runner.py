"""Execute a sweep of RunSpecs: in a local process pool (joblib) or on a Dask cluster, resumably.

Workers only compute; the parent process is the single writer of the result store, so a sweep killed at
any moment leaves only whole, checksummed runs behind, and the next invocation skips them.

Exact reuse: an agent whose choices ignore rewards (fixed strategies, uniform random) produces the same
learning trajectory whatever the serialization cost, because the cost only rescales serial rewards. Such
runs are executed once per (env settings without cost, agent, seed) at c = 0 and re-discounted for every
cost of the sweep (:func:`rediscount`).

Batches: episodes of an env with a native vector env (``envs.VECTOR_ENTRY_POINTS``) whose settings differ only in
seed, cost and agent are played in lockstep on it, up to ``batch_size`` at a time (:func:`plan_batches`), so their
networks train as one tensor program; each run is still written as its own atomic record. A learner's floats
depend slightly on its batch (see :mod:`tradeoff_gym.learners.batched`), so batches are a fixed function of the sweep
(its
specs in order, the batch size, and its parts: the first sweep, then each extension by more agents, seeds or
costs), never of which runs are already done or how many workers there are: a resumed sweep replays a batch whole
and writes only its missing runs, and every run replays bit for bit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tradeoff_gym.agents.registry import is_reward_independent
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.store import HOST, ResultStore, process_alive
from tradeoff_gym.envs.interface import RewardRule
from tradeoff_gym.learners.checks import check_int
from tradeoff_gym.learners.files import atomic_write_bytes

TASK_PREFIX = "task_reward_"
#: Most episodes one batch plays in lockstep (K of the vector env).
BATCH_SIZE = 16


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
    """What a worker sends back: the frame (or a traceback), how long it took, the env's reward rule.

    ``seconds`` is the wall time of the episode, or of the whole batch it was played in (``shared_by`` episodes);
    ``cpu_seconds`` the worker's CPU time for the same work (what the work costs on a machine shared with others).
    """

    unit: WorkUnit
    frame: pd.DataFrame | None
    error: str | None
    seconds: float
    reward_rule: RewardRule | None = None
    shared_by: int = 1
    cpu_seconds: float | None = None
    batch_error: str | None = None  # why the batch it belonged to failed, when it was then played alone


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


def plan_batches(units: list[WorkUnit], batch_size: int = BATCH_SIZE) -> list[tuple[WorkUnit, ...]]:
    """Units that can share a vector env, in batches of at most ``batch_size``; every other unit alone.

    Units share a batch when their env id has a native vector env and their env settings are equal apart from
    ``cost``. A group of n units is cut into ceil(n / batch_size) batches of near-equal size, in sweep order.
    """
    from tradeoff_gym.envs import VECTOR_ENTRY_POINTS

    check_int(batch_size, "batch_size", 1)
    groups: dict[str, list[WorkUnit]] = {}
    batches: list[tuple[WorkUnit, ...]] = []
    for unit in units:
        spec = unit.spec
        if spec.env_id in VECTOR_ENTRY_POINTS and batch_size > 1:
            others = sorted((k, v) for k, v in spec.env_kwargs.items() if k != "cost")
            groups.setdefault(repr((spec.env_id, others, "cost" in spec.env_kwargs)), []).append(unit)
        else:
            batches.append((unit,))
    for group in groups.values():
        n_batches = -(-len(group) // batch_size)
        batches += [tuple(part) for part in np.array_split(np.array(group, dtype=object), n_batches)]
    return batches


def execute_batch(batch: tuple[WorkUnit, ...], progress_file: str | None = None) -> list[UnitResult]:
    """Play a batch's episodes in lockstep on the env's vector env (in a worker); never raises.

    Each run's agent is built for its own sub-env (:meth:`SerialParallelVectorEnv.sub_env`: its cost, spec and
    reward rule). If the batch fails, each unit is played alone, so a failure is charged to the run that caused it.
    ``progress_file``: where to keep the number of trials played so far (every few seconds), for the parent's
    progress bar.
    """
    if len(batch) == 1:
        return [execute_unit(batch[0])]
    import gymnasium as gym
    import torch

    from tradeoff_gym import envs  # noqa: F401  (registers the ids in a fresh worker)
    from tradeoff_gym.agents.registry import make_agent
    from tradeoff_gym.benchmarks.run_loop import run_episodes

    torch.set_num_threads(1)  # one core per worker; the pool provides the parallelism
    start, cpu_start = time.perf_counter(), time.process_time()
    specs = [unit.spec for unit in batch]
    try:
        kwargs = {k: v for k, v in specs[0].env_kwargs.items() if k != "cost"}
        if "cost" in specs[0].env_kwargs:
            kwargs["costs"] = [spec.env_kwargs["cost"] for spec in specs]
        vector = gym.make_vec(specs[0].env_id, num_envs=len(batch), vectorization_mode="vector_entry_point", **kwargs)
        agents = [make_agent(spec.agent, vector.sub_env(k), **spec.agent_kwargs) for k, spec in enumerate(specs)]
        frames = run_episodes(
            vector, agents, [spec.seed for spec in specs], run_ids=[spec.run_id for spec in specs],
            env_id=specs[0].env_id, agent_names=[spec.agent for spec in specs],
            on_step=_ProgressWriter(progress_file) if progress_file else None,
        )
        rule = vector.reward_rule
        vector.close()
    except Exception:
        error = traceback.format_exc()
        return [dataclasses.replace(execute_unit(unit), batch_error=error) for unit in batch]
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return [
        UnitResult(unit, frame, None, seconds, rule if unit.reuse else None, len(batch), cpu_seconds)
        for unit, frame in zip(batch, frames)
    ]


class _ProgressWriter:
    """``on_step`` callback of a worker: writes the trials played so far to a file, at most every 2 seconds."""

    def __init__(self, path: str) -> None:
        self.path, self.last = path, 0.0

    def __call__(self, trials: int) -> None:
        now = time.monotonic()
        if now - self.last >= 2.0:
            self.last = now
            atomic_write_bytes(Path(self.path), str(trials).encode())  # the parent never reads a half-written number


def _batch_trials(batch: tuple[WorkUnit, ...]) -> int:
    """Trials a batch of several episodes plays (0 for a lone unit: its progress is not watched)."""
    return sum(int(u.spec.env_kwargs.get("horizon", 0)) for u in batch) if len(batch) > 1 else 0


def remove_stale_progress_folders() -> list[Path]:
    """Remove ``tradeoff-progress-*.<host>.<pid>`` folders in the temp directory of dead processes of this host."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"tradeoff-progress-*.{HOST}.*"):
        pid = path.name.rpartition(".")[2]
        if pid.isdigit() and not process_alive(int(pid)) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class _ProgressReader:
    """The parent's view of its workers' progress files: a thread that shows trials played on the bar."""

    def __init__(self, bar: Any, batches: list[tuple[WorkUnit, ...]]) -> None:
        self.bar = bar
        self.total = sum(_batch_trials(batch) for batch in batches)
        self.directory = ""
        remove_stale_progress_folders()  # those of killed sweeps
        if self.total:  # named after its owner, so the next sweep removes it if this one is killed
            self.directory = tempfile.mkdtemp(prefix="tradeoff-progress-", suffix=f".{HOST}.{os.getpid()}")
        self.finished = 0  # trials of batches already returned (their files are gone)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def file(self, index: int) -> str:
        return os.path.join(self.directory, str(index))

    def done(self, index: int, batch: tuple[WorkUnit, ...]) -> None:
        """Count a returned batch's trials whole; drop its file."""
        if self.total and _batch_trials(batch):
            self.finished += _batch_trials(batch)
            with contextlib.suppress(OSError):
                os.unlink(self.file(index))

    def _played(self) -> int:
        played = self.finished
        for name in os.listdir(self.directory):
            if not name.endswith(".tmp"):
                with contextlib.suppress(OSError, ValueError), open(os.path.join(self.directory, name)) as handle:
                    played += int(handle.read() or 0)
        return played

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            self.bar.set_postfix_str(f"trials {self._played():,} of {self.total:,}", refresh=True)

    def __enter__(self) -> _ProgressReader:
        if self.total:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def execute_unit(unit: WorkUnit) -> UnitResult:
    """Play one unit's episode (in a worker process); never raises — errors come back as text."""
    import gymnasium as gym
    import torch

    from tradeoff_gym import envs  # noqa: F401  (registers the ids in a fresh worker)
    from tradeoff_gym.agents.registry import make_agent
    from tradeoff_gym.benchmarks.run_loop import run_episode

    torch.set_num_threads(1)  # one core per worker; the pool provides the parallelism
    start, cpu_start = time.perf_counter(), time.process_time()
    spec = unit.spec
    try:
        env = gym.make(spec.env_id, **spec.env_kwargs)
        agent = make_agent(spec.agent, env, **spec.agent_kwargs)
        frame = run_episode(env, agent, spec.seed, run_id=spec.run_id, env_id=spec.env_id, agent_name=spec.agent)
        rule = env.unwrapped.reward_rule if unit.reuse else None
        env.close()
    except Exception:
        return UnitResult(unit, None, traceback.format_exc(), time.perf_counter() - start)
    return UnitResult(unit, frame, None, time.perf_counter() - start, rule, 1, time.process_time() - cpu_start)


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


def _results_locally(
    batches: list[tuple[WorkUnit, ...]], jobs: int, progress: _ProgressReader | None = None
) -> Iterator[tuple[int, list[UnitResult]]]:
    """(batch index, its results), as batches finish; workers keep their progress in ``progress``'s files."""
    if jobs == 1:
        yield from (_indexed_batch(i, b, progress.file(i) if progress else None) for i, b in enumerate(batches))
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(_indexed_batch)(i, b, progress.file(i) if progress else None) for i, b in enumerate(batches)
    )


def _indexed_batch(index: int, batch: tuple[WorkUnit, ...], progress_file: str | None) -> tuple[int, list]:
    """A worker's task: the batch's index (to match it with its progress file) and its results."""
    return index, execute_batch(batch, progress_file)


def _results_on_cluster(batches: list[tuple[WorkUnit, ...]], scheduler: str) -> Iterator[tuple[int, list]]:
    """(batch index, its results), as the cluster's workers finish them (no trial-level progress)."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        raise RuntimeError("--scheduler needs dask.distributed: pip install 'tradeoff-gym[cluster]'") from error
    with Client(scheduler, timeout="30s") as client:
        futures = client.map(_indexed_batch, range(len(batches)), batches, [None] * len(batches), pure=False)
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
    batch_size: int = BATCH_SIZE,
) -> SweepSummary:
    """Run every spec not already complete in ``store``; write each run as soon as it (or its batch) finishes.

    ``batch_size`` is the most episodes played in lockstep on one vector env (1: every episode alone).
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
        parts = store.open_sweep(manifest, specs)
        complete, problems = store.check(specs)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        todo = [s for s in specs if s.run_id not in complete]
        by_id = {spec.run_id: spec for spec in specs}
        batches = [  # planned per part of the sweep, never from what is done: a run's batch is fixed
            batch for part in parts for batch in plan_batches(plan_units([by_id[rid] for rid in part]), batch_size)
            if any(m.run_id not in complete for unit in batch for m in unit.members)
        ]
        summary = SweepSummary(total=len(specs), skipped=len(complete), problems=problems)
        if not batches:
            summary.seconds = time.perf_counter() - start
            return summary
        if progress and any(len(batch) > 1 for batch in batches):
            print(f"{len(todo)} runs to do in {len(batches)} batches of up to {batch_size} episodes played in "
                  "lockstep; runs arrive a batch at a time", file=sys.stderr)
        watched = batches if progress and not scheduler else []  # trial-level progress from local workers only
        with tqdm(total=len(todo), desc=manifest.get("experiment", "sweep"), unit="run",
                  disable=not progress, file=sys.stderr) as bar, _ProgressReader(bar, watched) as trials:
            results = (_results_on_cluster(batches, scheduler) if scheduler
                       else _results_locally(batches, jobs, trials if trials.total else None))
            for index, batch_results in results:
                trials.done(index, batches[index])
                if batch_results[0].batch_error is not None:  # said, never silent: a batch that fails costs time
                    reason = batch_results[0].batch_error.strip().splitlines()[-1]
                    bar.write(f"warning: a batch of {len(batch_results)} runs failed ({reason}); its runs were "
                              "played one by one", file=sys.stderr)
                for result in batch_results:
                    written = _write_result(store, result, complete, summary, bar.write)
                    bar.update(written)
    summary.seconds = time.perf_counter() - start
    return summary


def _write_result(
    store: ResultStore, result: UnitResult, complete: set[str], summary: SweepSummary, say: Any
) -> int:
    """Write a unit's runs that are not complete yet (or their failure); returns how many were written."""
    todo = [m for m in result.unit.members if m.run_id not in complete]
    if result.error is not None:
        for member in todo:
            path = store.write_failure(member, result.error)
            summary.failed.append(member.run_id)
            say(f"run {member.run_id} failed; traceback in {path}")
        return len(todo)
    shared_by = len(result.unit.members) * result.shared_by
    for member, frame in member_frames(result):
        if member.run_id not in complete:
            store.write_run(member, frame, result.seconds, shared_by=shared_by, cpu_seconds=result.cpu_seconds)
            summary.completed += 1
    return len(todo)


def _resolve_jobs(jobs: int) -> int:
    """Local worker processes: -1 = all cores, else an integer >= 1 (anything else: ValueError)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or (jobs < 1 and jobs != -1):
        raise ValueError(f"--jobs must be -1 (all cores) or an integer >= 1, got {jobs!r}")
    if jobs == -1:
        return max(os.cpu_count() or 1, 1)
    return jobs
