"""Execute a sweep of RunSpecs: in a local process pool (joblib) or on a Dask cluster, resumably.

Workers only compute; the parent process is the single writer of the result store, so a sweep killed at
any moment leaves only whole, checksummed runs behind, and the next invocation skips them.

Exact reuse: an agent whose choices ignore rewards (fixed strategies, uniform random) produces the same
learning trajectory whatever the serialization cost, because the cost only rescales serial rewards. Such
runs are executed once per (env settings without cost, agent, seed) at c = 0 and re-discounted for every
cost of the sweep (:func:`rediscount`).

Batches: episodes of an env with a native vector env (``envs.VECTOR_ENTRY_POINTS``) whose settings differ only in
seed and agent, played at the same cost, are played in lockstep on it, up to ``batch_size`` at a time
(:func:`plan_batches`; reused runs, played at c = 0, form batches of their own), so their networks train as one
tensor program; each run is still written as its own atomic record. A learner's floats depend slightly on its batch
(see :mod:`tradeoff_gym.learners.batched`), so batches are a fixed function of the sweep (its runs, in a canonical
order that ignores the order of the settings, the batch size, and its parts: the first sweep, then each extension
by more agents, seeds or costs; a part nothing was written for is merged into the next), never of which runs are
already done or how many workers there are: a resumed sweep replays a batch whole and writes only its missing runs,
and every run replays bit for bit. A sweep extended by costs equals a fresh sweep of its final settings bit for bit
(no batch mixes costs, and a reused run's new costs are re-discounted from its held trajectory, replayed in its
first batch); one extended by agents or seeds keeps its held batches, so its new runs' floats may differ slightly
from a fresh sweep's (docs/benchmarks/index.md, "Determinism across extensions"). Directories swept before batch
plans were versioned (no ``batch_plan`` in the manifest) keep the plan they were swept with.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tradeoff_gym.agents.registry import is_reward_independent
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.store import ResultStore, StoreError, remove_stale_temp_files, temp_folder
from tradeoff_gym.envs.interface import RewardRule
from tradeoff_gym.learners.checks import check_int
from tradeoff_gym.learners.files import atomic_write_bytes

TASK_PREFIX = "task_reward_"
#: Most episodes one batch plays in lockstep (K of the vector env).
BATCH_SIZE = 16
#: Version of the batch plan, kept in a results directory's manifest (``batch_plan``). 2: batches by cost, in a
#: canonical order, reused runs across parts. A directory without it was swept with the first plan and keeps it.
BATCH_PLAN: int | None = 2


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
        key = _reuse_key(spec)
        if key is not None:
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


def _reuse_key(spec: RunSpec) -> str | None:
    """The episode a reusable run re-discounts (env settings without cost, agent, its settings, seed); else None."""
    cost = spec.env_kwargs.get("cost")
    if is_reward_independent(spec.agent) and isinstance(cost, (int, float)) and not isinstance(cost, bool):
        return repr((spec.env_id, sorted({**spec.env_kwargs, "cost": None}.items()), spec.agent,
                     sorted(spec.agent_kwargs.items()), spec.seed))
    return None


def _canonical_key(unit: WorkUnit) -> str:
    """A unit's place in its batch group, whatever the order of the sweep's settings: its episode's identity."""
    return _reuse_key(unit.spec) if unit.reuse else unit.spec.run_id  # type: ignore[return-value]


def plan_batches(
    units: list[WorkUnit], batch_size: int = BATCH_SIZE, *, plan: int | None = BATCH_PLAN
) -> list[tuple[WorkUnit, ...]]:
    """Units that can share a vector env, in batches of at most ``batch_size``; every other unit alone.

    Units share a batch when their env id has a native vector env, their env settings are equal apart from
    ``cost``, and (``plan`` 2) they are played at the same cost — reused units, played at c = 0, apart from the
    others — so a sweep extended by a cost leaves every held batch as it was. A group of n units, in canonical order
    (run id; a reused unit: its episode's identity), is cut into ceil(n / batch_size) batches of near-equal size.
    ``plan`` None: the first plan (costs mixed, sweep order), kept by directories swept with it.
    """
    from tradeoff_gym.envs import VECTOR_ENTRY_POINTS

    check_int(batch_size, "batch_size", 1)
    groups: dict[str, list[WorkUnit]] = {}
    batches: list[tuple[WorkUnit, ...]] = []
    for unit in units:
        spec = unit.spec
        if spec.env_id in VECTOR_ENTRY_POINTS and batch_size > 1:
            others = sorted((k, v) for k, v in spec.env_kwargs.items() if k != "cost")
            key = (spec.env_id, others, "cost" in spec.env_kwargs)
            if plan is not None:
                key += ("reused at c = 0" if unit.reuse else repr(spec.env_kwargs.get("cost")),)
            groups.setdefault(repr(key), []).append(unit)
        else:
            batches.append((unit,))
    for group in groups.values():
        if plan is not None:
            group = sorted(group, key=_canonical_key)
        n_batches = -(-len(group) // batch_size)
        batches += [tuple(part) for part in np.array_split(np.array(group, dtype=object), n_batches)]
    return batches


def plan_sweep(
    specs: list[RunSpec], parts: list[list[str]], batch_size: int = BATCH_SIZE, *, plan: int | None = BATCH_PLAN
) -> list[tuple[WorkUnit, ...]]:
    """The sweep's batches: each part (the first sweep, then each extension) planned on its own.

    ``plan`` 2: a reused run of a later part joins the unit of its episode held by an earlier part, so it is
    re-discounted from that trajectory (replayed in that unit's batch) rather than played anew. ``plan`` None: the
    first plan (every part's units apart).
    """
    by_id = {spec.run_id: spec for spec in specs}
    if plan is None:
        return [batch for part in parts
                for batch in plan_batches(plan_units([by_id[rid] for rid in part]), batch_size, plan=None)]
    part_of = {rid: index for index, part in enumerate(parts) for rid in part}
    per_part: list[list[WorkUnit]] = [[] for _ in parts]
    for unit in plan_units(specs):
        per_part[min(part_of[member.run_id] for member in unit.members)].append(unit)
    return [batch for units in per_part for batch in plan_batches(units, batch_size, plan=plan)]


def execute_batch(batch: tuple[WorkUnit, ...], progress_file: str | None = None) -> list[UnitResult]:
    """Play a batch's episodes in lockstep on the env's vector env (in a worker); never raises.

    Each run's agent is built for its own sub-env (:meth:`SerialParallelVectorEnv.sub_env`: its cost, spec and
    reward rule). If the batch fails, each unit is played alone, so a failure is charged to the run that caused it.
    ``progress_file``: where to keep the number of trials played so far (every few seconds), for the parent's
    progress bar.
    """
    if len(batch) == 1:
        return [execute_unit(batch[0], progress_file)]
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
            env_id=specs[0].env_id, agent_names=[spec.label or spec.agent for spec in specs],
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
    """Trials a batch plays: its episodes' ``horizon`` settings."""
    return sum(int(u.spec.env_kwargs.get("horizon", 0)) for u in batch)


#: A sweep's progress on a stream that is not a terminal (a log file, CI): a line at most this often (seconds) ...
PLAIN_EVERY_S = 10.0
#: ... or whenever this share of the work more is done.
PLAIN_STEP = 0.1


class _Progress:
    """What a sweep shows on stderr while it plays: trials played (runs where a batch's trials are unknown) and an ETA.

    On a terminal a tqdm bar; otherwise plain timestamped lines, no carriage returns — one at the start, then one every
    :data:`PLAIN_EVERY_S` seconds or :data:`PLAIN_STEP` of the work, and one at the end. ``enabled`` False: silent.
    """

    def __init__(self, desc: str, runs: int, trials: int, *, enabled: bool = True, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.desc, self.enabled = desc, enabled
        isatty = getattr(self.stream, "isatty", None)
        self.plain = not (callable(isatty) and isatty())
        self.runs_total, self.trials_total, self.runs_done, self.trials_done = runs, trials, 0, 0
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.bar: Any = None
        self.last_time, self.last_share = self.start, 0.0
        if enabled and not self.plain:
            self.bar = tqdm(total=trials or runs, desc=desc, unit="trial" if trials else "run", file=self.stream)
            if trials:
                self.bar.set_postfix_str(f"runs 0 of {runs}")
        elif enabled:
            self._line()

    def share(self) -> float:
        """The share of the work done, in [0, 1]."""
        if self.trials_total:
            return min(self.trials_done / self.trials_total, 1.0)
        return min(self.runs_done / self.runs_total, 1.0) if self.runs_total else 1.0

    def show_trials(self, played: int) -> None:
        """Trials played so far, over every batch (finished and running)."""
        with self.lock:
            played = min(played, self.trials_total) if self.trials_total else played
            if self.bar is not None and self.trials_total and played > self.bar.n:
                self.bar.update(played - self.bar.n)
            self.trials_done = max(played, self.trials_done)
            self._maybe_line()

    def add_runs(self, count: int) -> None:
        """``count`` more runs written."""
        with self.lock:
            self.runs_done += count
            if self.bar is not None:
                if self.trials_total:
                    self.bar.set_postfix_str(f"runs {self.runs_done} of {self.runs_total}")
                else:
                    self.bar.update(count)
            self._maybe_line()

    def write(self, text: str) -> None:
        """A message (a warning, a failed run) between progress updates."""
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """The last update: the bar closed, or the final line."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            with self.lock:
                self._line()

    def _maybe_line(self) -> None:
        now = time.monotonic()
        if self.enabled and self.bar is None and (now - self.last_time >= PLAIN_EVERY_S
                                                  or self.share() >= self.last_share + PLAIN_STEP):
            self._line()

    def _line(self) -> None:
        now, share = time.monotonic(), self.share()
        self.last_time, self.last_share = now, share
        elapsed = now - self.start
        trials = f", trials {self.trials_done:,} of {self.trials_total:,}" if self.trials_total else ""
        eta = _duration(elapsed * (1 - share) / share) if share > 0 else "unknown"
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        print(f"{stamp} {self.desc}: runs {self.runs_done} of {self.runs_total}{trials} ({100 * share:.0f} %), "
              f"{_duration(elapsed)} elapsed, ETA {eta}", file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    """``seconds`` as ``1h02m``, ``3m05s`` or ``12s``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


#: The progress folders' name in the temp directory (a :func:`temp_folder`, so the store's cleaner knows its owner).
PROGRESS_FOLDER = "tradeoff-progress"


class _ProgressReader:
    """The parent's view of its workers' progress files: a thread that shows trials played on the bar.

    ``bar`` has ``show_trials(played)`` (:class:`_Progress`); ``total`` is every batch's trials.
    """

    def __init__(self, bar: Any, batches: list[tuple[WorkUnit, ...]]) -> None:
        self.bar = bar
        self.total = sum(_batch_trials(batch) for batch in batches)
        self.directory = ""
        temp = Path(tempfile.gettempdir())
        remove_stale_temp_files(temp, f".{PROGRESS_FOLDER}.*.tmp")  # those of killed sweeps
        if self.total:  # named after its owner, so the next sweep removes it if this one is killed
            self.directory = str(temp_folder(temp, PROGRESS_FOLDER))
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
        for name in os.listdir(self.directory) if self.directory else ():
            if not name.endswith(".tmp"):
                with contextlib.suppress(OSError, ValueError), open(os.path.join(self.directory, name)) as handle:
                    played += int(handle.read() or 0)
        return played

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            self.bar.show_trials(self._played())

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


def execute_unit(unit: WorkUnit, progress_file: str | None = None) -> UnitResult:
    """Play one unit's episode (in a worker process); never raises — errors come back as text.

    ``progress_file``: where to keep the number of trials played so far (as :func:`execute_batch`).
    """
    import gymnasium as gym
    import torch

    from tradeoff_gym import envs  # noqa: F401  (registers the ids in a fresh worker)
    from tradeoff_gym.agents.registry import make_agent
    from tradeoff_gym.benchmarks.run_loop import run_episode

    torch.set_num_threads(1)  # one core per worker; the pool provides the parallelism
    start, cpu_start = time.perf_counter(), time.process_time()
    spec = unit.spec
    try:
        env = _counting(gym.make(spec.env_id, **spec.env_kwargs), progress_file)
        agent = make_agent(spec.agent, env, **spec.agent_kwargs)
        frame = run_episode(env, agent, spec.seed, run_id=spec.run_id, env_id=spec.env_id,
                            agent_name=spec.label or spec.agent)
        rule = env.unwrapped.reward_rule if unit.reuse else None
        env.close()
    except Exception:
        return UnitResult(unit, None, traceback.format_exc(), time.perf_counter() - start)
    return UnitResult(unit, frame, None, time.perf_counter() - start, rule, 1, time.process_time() - cpu_start)


def _counting(env: Any, progress_file: str | None) -> Any:
    """``env``, whose steps also keep the trials played in ``progress_file`` (:class:`_ProgressWriter`); ``env``
    itself when there is no file. The wrapper only counts: the episode is the same."""
    if not progress_file:
        return env
    import gymnasium as gym

    writer = _ProgressWriter(progress_file)

    class _Counting(gym.Wrapper):
        trials = 0

        def step(self, action: Any) -> Any:
            result = self.env.step(action)
            self.trials += 1
            writer(self.trials)
            return result

    return _Counting(env)


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
        frame = frame.assign(run_id=member.run_id, agent=member.label or member.agent, **member.tags)
        yield member, frame


def _results_locally(
    batches: list[tuple[WorkUnit, ...]], jobs: int, progress: _ProgressReader | None = None
) -> Iterator[tuple[int, list[UnitResult]]]:
    """(batch index, its results), as batches finish; workers keep their progress in ``progress``'s files."""
    if jobs == 1:
        yield from (_indexed_batch(i, b, progress.file(i) if progress else None) for i, b in enumerate(batches))
        return
    yield from _results_in_pool(batches, jobs, progress)


#: Thread-pool variables a worker gets (its share of the cores unless the parent sets them), as joblib's loky backend.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def _worker_env(jobs: int) -> dict[str, str]:
    threads = str(max((os.cpu_count() or 1) // jobs, 1))
    env = {var: os.environ.get(var, threads) for var in THREAD_VARS}
    if "ENABLE_IPC" not in os.environ:
        env["ENABLE_IPC"] = "1"  # TBB's schedulers coordinate across processes
    return env


def _results_in_pool(
    batches: list[tuple[WorkUnit, ...]], jobs: int, progress: _ProgressReader | None
) -> Iterator[tuple[int, list[UnitResult]]]:
    """(batch index, its results) from a pool of ``jobs`` worker processes (loky), as batches finish.

    A worker process that dies (a signal: the out-of-memory killer's SIGKILL, a segfault) breaks the pool and every
    batch in it; the sweep goes on. Batches that had not started are submitted again to a fresh pool; those that
    had (each worker marks its batch as started) are played again at the end, one at a time, each in a process of
    its own (:func:`_played_alone`): the batch that dies again fails, and only its runs.
    """
    from joblib.externals.loky import get_reusable_executor
    from joblib.externals.loky.process_executor import BrokenProcessPool

    marks = tempfile.mkdtemp(prefix="tradeoff-started-")
    todo, suspects, env, executor, finished = list(range(len(batches))), [], _worker_env(jobs), None, False
    try:
        while todo:
            executor = get_reusable_executor(max_workers=jobs, timeout=300, env=env)
            futures = {executor.submit(_indexed_batch, i, batches[i], progress.file(i) if progress else None,
                                       os.path.join(marks, str(i))): i for i in todo}
            todo = []
            for future in concurrent.futures.as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool:  # a worker died: this batch was in the pool then
                    index = futures[future]
                    (suspects if os.path.exists(os.path.join(marks, str(index))) else todo).append(index)
                    continue
                yield result
        with _OwnProcess(env) as alone:
            for index in sorted(suspects):
                yield index, _played_alone(batches[index], progress.file(index) if progress else None, alone)
        finished = True
    finally:
        shutil.rmtree(marks, ignore_errors=True)
        if executor is not None and not finished:  # interrupted: no worker may go on playing
            executor.shutdown(wait=False, kill_workers=True)


def _played_alone(batch: tuple[WorkUnit, ...], progress_file: str | None, alone: _OwnProcess) -> list[UnitResult]:
    """Play a batch in a worker process of its own; if that process dies, each of its units alone in one of its own.

    A unit whose process dies comes back as failed, its error one line naming how the process ended; the others of
    its batch come back with that line as their ``batch_error`` (played alone, as after a batch that raised).
    """
    results, why = alone.run(execute_batch, batch, progress_file)
    if results is not None:
        return results
    if len(batch) == 1:
        return [UnitResult(batch[0], None, why, 0.0)]
    played = []
    for unit in batch:
        result, why_alone = alone.run(execute_unit, unit)
        played.append(dataclasses.replace(result, batch_error=why) if result is not None
                      else UnitResult(unit, None, why_alone, 0.0, batch_error=why))
    return played


class _OwnProcess:
    """One worker process that plays one thing at a time; replaced by a fresh one when it dies."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.executor = env, None

    def run(self, function: Any, *args: Any) -> tuple[Any, str]:
        """``function(*args)`` in the worker: (its result, "") or (None, one line: why the process died)."""
        from joblib.externals.loky.process_executor import BrokenProcessPool, ProcessPoolExecutor

        if self.executor is None:
            self.executor = ProcessPoolExecutor(max_workers=1, env=self.env)
        try:
            return self.executor.submit(function, *args).result(), ""
        except BrokenProcessPool as error:
            self.close()
            codes = re.search(r"exit codes of the workers are \{([^}]*)\}", str(error))
            how = f"exit {codes.group(1)}" if codes else type(error).__name__
            return None, (f"WorkerDied: the worker process playing this run died ({how}; SIGKILL is what the "
                          "out-of-memory killer sends); it is played again on resume")

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, kill_workers=True)
            self.executor = None

    def __enter__(self) -> _OwnProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _indexed_batch(
    index: int, batch: tuple[WorkUnit, ...], progress_file: str | None, started_file: str | None = None
) -> tuple[int, list]:
    """A worker's task: the batch's index (to match it with its progress file) and its results.

    ``started_file`` is created first, so the parent knows which batches were being played if a worker dies.
    """
    if started_file:
        Path(started_file).touch()
    return index, execute_batch(batch, progress_file)


def _results_on_cluster(batches: list[tuple[WorkUnit, ...]], scheduler: Any) -> Iterator[tuple[int, list]]:
    """(batch index, its results), as the cluster's workers finish them (no trial-level progress).

    ``scheduler`` is an address (a client is opened and closed here) or a ``dask.distributed.Client`` the caller
    holds and closes (one whose workers :func:`tradeoff_gym.benchmarks.cluster.prepare_workers` made ready).
    """
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        raise RuntimeError("--scheduler needs dask.distributed: pip install 'tradeoff-gym[cluster]'") from error
    with contextlib.ExitStack() as stack:
        if isinstance(scheduler, str):
            client = stack.enter_context(Client(scheduler, timeout="30s", set_as_default=False))
        else:
            client = scheduler
        futures = client.map(_indexed_batch, range(len(batches)), batches, [None] * len(batches), pure=False)
        for future in as_completed(futures, loop=client.loop):
            yield future.result()


def run_sweep(
    specs: list[RunSpec],
    store: ResultStore,
    manifest: dict[str, Any],
    *,
    jobs: int = -1,
    scheduler: Any = None,
    progress: bool = True,
    batch_size: int = BATCH_SIZE,
) -> SweepSummary:
    """Run every spec not already complete in ``store``; write each run as soon as it (or its batch) finishes.

    ``scheduler``: ``None`` plays in a local pool of ``jobs`` processes; a Dask scheduler address or a
    ``dask.distributed.Client`` (kept open: the caller's) plays on that cluster's workers, which must be able to load
    the sweep's agents and envs (:func:`tradeoff_gym.benchmarks.cluster.prepare_workers`; docs/benchmarks/cluster.md).
    ``batch_size`` is the most episodes played in lockstep on one vector env (1: every episode alone).
    Holds the store's writer lock throughout (a second sweep into the same directory gets a StoreError),
    refuses a directory of another sweep (:meth:`ResultStore.open_sweep`), removes temporary files left by
    dead writers, and reruns failed and damaged runs.
    """
    start = time.perf_counter()
    ids = [s.run_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("run ids must be unique within a sweep")
    if scheduler == "":  # no address: the local pool, as before clients were accepted
        scheduler = None
    if scheduler is None:
        jobs = _resolve_jobs(jobs)
    with store.writer_lock():
        store.remove_stale_temp_files()
        plan = _batch_plan(store)
        parts = store.open_sweep({**manifest, "batch_plan": plan} if plan is not None else manifest, specs)
        complete, problems = store.check(specs)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        todo = [s for s in specs if s.run_id not in complete]
        batches = [  # planned per part of the sweep, never from what is done: a run's batch is fixed
            batch for batch in plan_sweep(specs, parts, batch_size, plan=plan)
            if any(m.run_id not in complete for unit in batch for m in unit.members)
        ]
        summary = SweepSummary(total=len(specs), skipped=len(complete), problems=problems)
        if not batches:
            summary.seconds = time.perf_counter() - start
            return summary
        if progress and any(len(batch) > 1 for batch in batches):
            print(f"{len(todo)} runs to do in {len(batches)} batches of up to {batch_size} episodes played in "
                  "lockstep; runs arrive a batch at a time", file=sys.stderr)
        watched = batches if progress and scheduler is None else []  # trial-level progress from local workers only
        known = all("horizon" in unit.spec.env_kwargs for batch in watched for unit in batch)
        bar = _Progress(manifest.get("experiment", "sweep"), len(todo),
                        sum(_batch_trials(batch) for batch in watched) if known else 0, enabled=progress)
        with contextlib.closing(bar), _ProgressReader(bar, watched) as trials:
            results = (_results_on_cluster(batches, scheduler) if scheduler is not None
                       else _results_locally(batches, jobs, trials if trials.total else None))
            for index, batch_results in results:
                trials.done(index, batches[index])
                bar.show_trials(trials._played())
                if batch_results[0].batch_error is not None:  # said, never silent: a batch that fails costs time
                    reason = batch_results[0].batch_error.strip().splitlines()[-1]
                    bar.write(f"warning: a batch of {len(batch_results)} runs failed ({reason}); its runs were "
                              "played one by one")
                for result in batch_results:
                    written = _write_result(store, result, complete, summary, bar.write)
                    bar.add_runs(written)
    summary.seconds = time.perf_counter() - start
    return summary


def _batch_plan(store: ResultStore) -> int | None:
    """The batch plan to sweep ``store`` with: its manifest's ``batch_plan``; the first plan (None) for a directory
    swept before plans were versioned that holds a run; else :data:`BATCH_PLAN`. StoreError for an unknown plan."""
    if not (store.root / "manifest.json").is_file():
        return BATCH_PLAN
    try:
        held = store.manifest()
    except StoreError:
        return BATCH_PLAN  # open_sweep says what is wrong with it
    if "batch_plan" not in held:
        return None if any(store.runs_dir.glob("*.json")) else BATCH_PLAN
    if held["batch_plan"] != BATCH_PLAN:
        raise StoreError(f"{store.root} was swept with batch plan {held['batch_plan']!r}, which this version of "
                         "tradeoff-gym does not know; resume it with the version that wrote it, or choose another "
                         "--out")
    return BATCH_PLAN


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
