"""What a cost-blind look-then-commit agent can reach on SerialParallel: one serial look at trial T, one threshold.

The navigator (``tradeoff_gym.agents.navigator``) learns the hidden cost c from one serial trial at ``probe_at``·τ: it
keeps
parallel until then, plays serial once, and switches to serial for good if that trial's reward ÷ parallel's mean
over its last ``recent`` trials is at least ``switch_ratio``; else it stays with parallel. On a shared network
both of its possible episodes are fixed per seed and do not depend on c (the network's training never does):

* STAY@T: parallel, one serial trial at trial T, parallel after;
* SWITCH@T: parallel until T, serial from T on (the look is its first serial trial).

So every (look trial T, threshold t) rule can be replayed offline for every cost from these trajectories plus
always-parallel and always-serial: at cost c every trial's reward is the env's reward rule applied to its per-task
accuracies (the paper's ``divide``: serial trials paid ÷ (1 + c); ``--cost-mode additive`` the other rule), and a
seed's episode is SWITCH@T if the look's reward ÷ the mean reward of the ``recent`` trials before it is ≥ t, else
STAY@T. The replay of the navigator's defaults reproduces
its fig5 runs up to float drift between vector batches of other sizes (docs/findings/navigator.md).
It prints, per T, what the look costs
parallel (STAY@T ÷ always-parallel), how noisy the look is (its raw ratio's mean and sd over seeds), what a late
switch costs serial (SWITCH@T ÷ always-serial at c = 0), and the table threshold × cost of the replayed mean
reward rate ÷ the best fixed strategy's, with each row's worst cost. It assumes the rule stays with parallel
below t (the navigator also drops serial there whenever that ratio is ≥ its ``drop_ratio``, 0.4, which holds
for every look measured; a seed below it is counted and reported).

The schedules (:class:`LookSchedule`, with probes of any length: ``stay@T+L``), their play and the replay
(:func:`probe_rates`) are shared with ``sp_frontier`` (the frontier on a world family's splits).
Trajectories are played on the vector env from the fig5 sweep's root seeds (seed s here is seed s there) and
kept per schedule (``DIR/<world>_h<horizon>_s<first>-<last>_<schedule>.npz``: per-task accuracies and actions at
c = 0) as soon as its batch ends, so a stopped study resumes and new looks, thresholds or cost modes reuse what was
played. ``--world`` names a SerialParallel preset (``default``, ``noisy``, …). Writes
``DIR/look_frontier_<same stem>[_additive].csv`` (the table) and ``.png`` (each look's worst-cost ratio against
the threshold).

    python -m tradeoff_gym.benchmarks.scripts.look_frontier --looks 900,1100 --seeds 0-14 --jobs 2 --out frontier
    python -m tradeoff_gym.benchmarks.scripts.look_frontier --world noisy --looks 900,1100 --out frontier
"""

from __future__ import annotations

import argparse
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.base import BaseAgent
from tradeoff_gym.agents.frontier import probe_switches, serial_and_parallel
from tradeoff_gym.agents.navigator import NavigatorAgent
from tradeoff_gym.benchmarks.analysis import save_figure
from tradeoff_gym.benchmarks.run_loop import run_episodes
from tradeoff_gym.envs.interface import COST_MODES, RewardRule
from tradeoff_gym.envs.serial_parallel import PRESETS

ENV_ID = "tradeoff/SerialParallel-v0"  # the worlds are its presets
COSTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # fig5's paper grid
NAVIGATOR = NavigatorAgent.__init__.__kwdefaults__  # the defaults this study replays


def schedule_name(kind: str, at: int = 0, length: int = 1) -> str:
    """A scripted episode's name: ``parallel``, ``serial``, ``switch@T``, ``stay@T`` (L = 1) or ``stay@T+L``."""
    if kind in ("parallel", "serial"):
        return kind
    if kind == "switch":
        return f"switch@{at}"
    if kind == "stay":
        return f"stay@{at}" if length == 1 else f"stay@{at}+{length}"
    raise ValueError(f"kind must be parallel, serial, stay or switch, got {kind!r}")


def parse_schedule(name: str, kinds: Sequence[str] = ("parallel", "serial", "switch", "stay")) -> tuple[str, int, int]:
    """A schedule name → ``(kind, T, L)``: ``parallel`` and ``serial`` take no trial (T = 0), the other ``kinds`` take
    ``@T`` (T ≥ 0), and ``stay`` also ``+L`` (L ≥ 1; 1 when absent). A bare ValueError on any other name (callers
    word the message: they know which kinds they take)."""
    kind, _, where = name.partition("@")
    at, plus, length = where.partition("+")
    bare = kind in ("parallel", "serial")
    if kind not in kinds or bool(where) == bare or (plus and kind != "stay"):
        raise ValueError(name)
    start, span = int(at) if where else 0, int(length) if plus else 1  # ValueError on non-integers
    if start < 0 or span < 1:
        raise ValueError(name)
    return kind, start, span


class LookSchedule(BaseAgent):
    """A scripted episode: ``parallel``, ``serial``, ``switch@T`` (parallel until trial T, serial from T on) or
    ``stay@T+L`` (parallel, serial for trials T … T+L−1, parallel after; ``stay@T`` is L = 1).

    Trials are 0-based. The serial strategy is the first whose serial flag (reset info ``serial``) is True, the
    parallel one the first whose flag is False. Why scripted: a probe-then-commit rule's episode is one of these
    (docs/findings/frontier.md), so every rule replays from them.
    """

    name = "look-schedule"

    def __init__(self, schedule: str) -> None:
        try:
            self.kind, self.at, self.length = parse_schedule(schedule)
        except ValueError:
            raise ValueError(f"schedule must be parallel, serial, switch@T, stay@T or stay@T+L (T >= 0, L >= 1), "
                             f"got {schedule!r}") from None

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        self.serial, self.parallel = serial_and_parallel(info, "a look schedule")
        self.trial = 0

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        serial = (self.kind == "serial" or (self.kind == "stay" and self.at <= self.trial < self.at + self.length)
                  or (self.kind == "switch" and self.trial >= self.at))
        return self.serial if serial else self.parallel

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.trial += 1


#: A schedule's episodes: per-task accuracies ``(seeds, trials, n_tasks)`` at c = 0 and actions ``(seeds, trials)``.
Trajectory = tuple[np.ndarray, np.ndarray]


def play(settings: dict[str, Any], schedule: str, seeds: Sequence[int], horizon: int, path: Path) -> Path:
    """One schedule's episodes at c = 0 (every payoff 1: the per-task rewards are the accuracies), one vector batch
    of ``tradeoff/SerialParallel-v0`` with env keywords ``settings`` (``{"preset": "noisy"}``, ``{"family": "sp-mixed",
    "world": 24}``); per-task accuracies ``(seeds, trials, n_tasks)`` and actions ``(seeds, trials)`` saved to
    ``path`` atomically (a stopped study never leaves a half-written schedule behind)."""
    return play_many(settings, {schedule: path}, seeds, horizon)[schedule]


def play_many(settings: dict[str, Any], paths: dict[str, Path], seeds: Sequence[int], horizon: int) -> dict[str, Path]:
    """Several schedules' episodes in **one** vector batch of ``len(paths) × len(seeds)`` episodes (root seed ``s``
    is the same world, data and initial network in every schedule), each schedule saved to its path as
    :func:`play` saves one. Why one batch: a batch of 16 episodes costs about half as much per trial as eight
    batches of two (docs/findings/frontier.md); episodes of one root seed differ from a smaller batch's only by
    float drift of the batched kernels."""
    names = list(paths)
    vector = gym.make_vec(ENV_ID, num_envs=len(names) * len(seeds), vectorization_mode="vector_entry_point",
                          **settings, horizon=horizon, cost=0.0)
    agents = [LookSchedule(name) for name in names for _ in seeds]
    frames = run_episodes(vector, agents, [seed for _ in names for seed in seeds], env_id=ENV_ID)
    vector.close()
    frames = [frame.sort_values("trial") for frame in frames]
    columns = [f"task_reward_{i}" for i in range(sum(c.startswith("task_reward_") for c in frames[0].columns))]
    for i, name in enumerate(names):
        mine = frames[i * len(seeds):(i + 1) * len(seeds)]
        path = paths[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, seeds=np.asarray(seeds), accuracy=np.stack([f[columns].to_numpy() for f in mine]),
                 action=np.stack([f.action.to_numpy() for f in mine]))
        temporary.replace(path)
    return paths


def trial_rewards(rule: RewardRule, trajectory: Trajectory, cost: float) -> np.ndarray:
    """``(seeds, trials)`` each trial's reward at ``cost``: ``rule`` applied to its per-task accuracies."""
    accuracy, action = trajectory
    return np.asarray(rule.reward(rule.task_rewards(action, accuracy, cost)))


def reward_rates(rule: RewardRule, trajectory: Trajectory, cost: float) -> np.ndarray:
    """``(seeds,)`` mean reward per trial at ``cost``."""
    return trial_rewards(rule, trajectory, cost).mean(axis=1)


def look_ratios(rewards: np.ndarray, at: int, recent: int) -> np.ndarray:
    """``(seeds,)`` the look's reward at trial ``at`` ÷ the mean reward of the ``recent`` trials before it."""
    return rewards[:, at] / rewards[:, at - recent:at].mean(axis=1)


def probe_rates(rule: RewardRule, trajectories: dict[str, Trajectory], at: int, length: int, threshold: float,
                cost: float, recent: int) -> tuple[np.ndarray, np.ndarray]:
    """``(seeds,)`` reward rates of the probe-then-commit rule (first serial trial ``at``, probe ``length``,
    ``threshold``, baseline ``recent``) at ``cost``, and ``(seeds,)`` whether it switched.

    A seed's episode is ``switch@at`` if the probe decides so (:func:`tradeoff_gym.agents.frontier.probe_switches`
    on ``switch@at``'s rewards: the probe's trials are the same in both episodes), else ``stay@at+length``: exactly
    what :class:`~tradeoff_gym.agents.frontier.ProbeCommitAgent` plays.
    """
    switch_name, stay_name = schedule_name("switch", at), schedule_name("stay", at, length)
    rewards = trial_rewards(rule, trajectories[switch_name], cost)  # (seeds, trials)
    switched = probe_switches(rewards[:, at - recent:at], rewards[:, at:at + length], threshold)
    rates = np.where(switched, rewards.mean(axis=1), reward_rates(rule, trajectories[stay_name], cost))
    return rates, switched


def replay(rule: RewardRule, trajectories: dict[str, Trajectory], at: int, threshold: float,
           costs: Sequence[float], recent: int, length: int = 1) -> np.ndarray:
    """``(costs,)`` the look rule's mean reward rate over seeds ÷ the best fixed strategy's, per cost."""
    out = []
    for cost in costs:
        best = max(reward_rates(rule, trajectories[name], cost).mean() for name in ("serial", "parallel"))
        rates, _ = probe_rates(rule, trajectories, at, length, threshold, cost, recent)
        out.append(rates.mean() / best)
    return np.asarray(out)


def crossover(rule: RewardRule, serial: Trajectory, parallel: Trajectory) -> float:
    """The cost in [0, 1] at which always-serial and always-parallel pay the same mean reward (bisection on the
    rule); ``-inf`` if parallel pays more already at c = 0, ``inf`` if serial still pays more at c = 1."""
    def lead(cost: float) -> float:
        return float(reward_rates(rule, serial, cost).mean() - reward_rates(rule, parallel, cost).mean())

    if lead(0.0) <= 0:
        return 0.0 if lead(0.0) == 0 else float("-inf")
    if lead(1.0) > 0:
        return float("inf")
    low, high = 0.0, 1.0
    for _ in range(50):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if lead(middle) > 0 else (low, middle)
    return 0.5 * (low + high)


def complete(path: Path) -> bool:
    """Whether ``path`` holds a played schedule with what the replay reads (older files kept raw accuracy only)."""
    if not path.exists():
        return False
    with np.load(path) as data:
        return {"accuracy", "action"} <= set(data.files)


def load(paths: dict[str, Path]) -> dict[str, Trajectory]:
    """schedule → (per-task accuracies ``(seeds, trials, n_tasks)``, actions ``(seeds, trials)``)."""
    out = {}
    for name, path in paths.items():
        with np.load(path) as data:
            out[name] = (data["accuracy"], data["action"])
    return out


def parse_seeds(text: str) -> list[int]:
    """``0-14`` → 0…14; ``5`` → 0…4."""
    first, dash, last = text.partition("-")
    try:
        seeds = list(range(int(first), int(last) + 1)) if dash else list(range(int(first)))
    except ValueError:
        raise SystemExit(f"--seeds must be a count (15) or a range (0-14), got {text!r}") from None
    if len(seeds) < 2 or seeds[0] < 0:
        raise SystemExit(f"--seeds must name at least two non-negative seeds, got {text!r}")
    return seeds


def parse_floats(text: str, option: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise SystemExit(f"{option} must be comma-separated numbers, got {text!r}") from None


def figure(table: pd.DataFrame, title: str, path: Path, target: float = 0.97) -> Path:
    """Worst cost's ratio to the best fixed strategy against the threshold, one line per look trial."""
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(6.5, 4))
    for at, rows in table.groupby("look_trial"):
        axis.plot(rows.threshold, rows.worst, "o-", ms=3, label=f"look at trial {at}")
    axis.axhline(target, color="grey", ls="--", lw=0.8, label=f"{target:g} of the best fixed strategy")
    axis.set(xlabel="switch threshold (the look's reward ÷ the recent mean)",
             ylabel="worst cost: mean reward rate ÷ best fixed", title=title)
    axis.legend(fontsize=8)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    """Play what is missing, then print and write the replay."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="default", choices=list(PRESETS), help="a SerialParallel preset")
    parser.add_argument("--cost-mode", default="divide", choices=COST_MODES, help="the env's reward rule")
    default_look = round(NAVIGATOR["probe_at"] * 5000)
    parser.add_argument("--looks", default=str(default_look),
                        help=f"look trials T, comma-separated (default {default_look}: the navigator's at τ = 5000)")
    parser.add_argument("--thresholds", default="0.84,0.86,0.88,0.9,0.92,0.94,0.96,0.98,1.0")
    parser.add_argument("--costs", default=",".join(f"{c:g}" for c in COSTS))
    parser.add_argument("--seeds", default="0-14", help="a count (15: seeds 0…14) or a range (15-29)")
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--recent", type=int, default=NAVIGATOR["recent"],
                        help="parallel trials the look is compared with (the navigator's recent)")
    parser.add_argument("--jobs", type=int, default=1, help="schedules played at once (one process each)")
    parser.add_argument("--out", default="results/look_frontier")
    args = parser.parse_args(argv)
    seeds, costs = parse_seeds(args.seeds), parse_floats(args.costs, "--costs")
    thresholds = parse_floats(args.thresholds, "--thresholds")
    try:
        looks = [int(x) for x in args.looks.split(",")]
    except ValueError:
        raise SystemExit(f"--looks must be comma-separated trial numbers, got {args.looks!r}") from None
    if any(not args.recent <= at < args.horizon for at in looks):
        raise SystemExit(f"every look trial must lie in [recent, horizon) = [{args.recent}, {args.horizon}), "
                         f"got {looks}")
    out = Path(args.out)
    stem = f"{args.world}_h{args.horizon}_s{seeds[0]}-{seeds[-1]}"
    names = ["parallel", "serial", *(f"{kind}@{at}" for at in looks for kind in ("stay", "switch"))]
    paths = {name: out / f"{stem}_{name}.npz" for name in names}
    missing = [name for name in names if not complete(paths[name])]
    if missing:
        print(f"playing {len(missing)} schedules × {len(seeds)} seeds at τ = {args.horizon}: {', '.join(missing)}",
              flush=True)
        # forkserver: a worker forked after torch ran can hang (docs/environments/vector.md)
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=context) as pool:
            futures = [pool.submit(play, {"preset": args.world}, name, seeds, args.horizon, paths[name])
                       for name in missing]
            for future in futures:
                print(f"  kept {future.result()}", flush=True)
    trajectories = load(paths)
    rule = envs.check_settings(ENV_ID, preset=args.world, cost_mode=args.cost_mode).reward_rule
    raw = {name: accuracy.mean(axis=2) for name, (accuracy, _) in trajectories.items()}  # (seeds, trials)
    parallel_raw = raw["parallel"].mean()
    c_star = crossover(rule, trajectories["serial"], trajectories["parallel"])
    shown = {float("-inf"): "< 0 (parallel pays more at c = 0)", float("inf"): "> 1"}.get(c_star, f"{c_star:.3f}")
    print(f"{args.world} world ({args.cost_mode}), τ = {args.horizon}, seeds {seeds[0]}–{seeds[-1]}: c* {shown}")
    rows = []
    for at in looks:
        switch = trajectories[f"switch@{at}"]
        ratio = look_ratios(raw[f"switch@{at}"], at, args.recent)
        kept = raw[f"stay@{at}"].mean(axis=1) / raw["parallel"].mean(axis=1)
        late = reward_rates(rule, switch, 0.0).mean() / reward_rates(rule, trajectories["serial"], 0.0).mean()
        dear = look_ratios(trial_rewards(rule, switch, max(costs)), at, args.recent)
        below_drop = int((dear < NAVIGATOR["drop_ratio"]).sum())
        print(f"look at {at}: STAY earns {raw[f'stay@{at}'].mean() / parallel_raw:.3f} of always-parallel (worst seed "
              f"{kept.min():.3f}); look raw ratio {ratio.mean():.3f} (sd {ratio.std():.3f}, {ratio.min():.3f}–"
              f"{ratio.max():.3f}); SWITCH earns {late:.3f} of always-serial at c = 0"
              + (f"; {below_drop} seeds under the drop ratio at c = {max(costs):g}" if below_drop else ""))
        for threshold in thresholds:
            values = replay(rule, trajectories, at, threshold, costs, args.recent)
            rows.append({"look_trial": at, "threshold": threshold, **{f"{c:g}": v for c, v in zip(costs, values)},
                         "worst": values.min(), "worst_cost": costs[int(values.argmin())]})
    table = pd.DataFrame(rows)
    table_stem = stem if args.cost_mode == "divide" else f"{stem}_{args.cost_mode}"  # trajectories serve both
    table.to_csv(out / f"look_frontier_{table_stem}.csv", index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print("mean reward rate ÷ best fixed strategy's, per look trial, threshold and cost:")
        print(table.round(3).to_string(index=False))
    best = table.loc[table.worst.idxmax()]
    print(f"best rule in hindsight: look at {int(best.look_trial)}, threshold {best.threshold:g} → worst cost "
          f"{best.worst:.3f} (c = {best.worst_cost:g}); the navigator's default (look at {default_look}, threshold "
          f"{NAVIGATOR['switch_ratio']:g}) is one row when its look is among --looks")
    title = f"{args.world} world, τ = {args.horizon}, seeds {seeds[0]}–{seeds[-1]}: one look, then commit"
    print(figure(table, title, out / f"look_frontier_{table_stem}.png"))


if __name__ == "__main__":
    main()
