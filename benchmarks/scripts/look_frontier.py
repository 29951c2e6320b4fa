"""What a cost-blind look-then-commit agent can reach on SerialParallel: one serial look at trial T, one threshold.

The navigator (``tradeoff_gym.agents.navigator``) learns the hidden cost c from one serial trial at ``probe_at``·τ: it
keeps
parallel until then, plays serial once, and switches to serial for good if that trial's reward ÷ parallel's mean
over its last ``recent`` trials is at least ``switch_ratio``; else it stays with parallel. On a shared network
both of its possible episodes are fixed per seed and do not depend on c (the network's training never does):

* STAY@T: parallel, one serial trial at trial T, parallel after;
* SWITCH@T: parallel until T, serial from T on (the look is its first serial trial).

So every (look trial T, threshold t) rule can be replayed offline for every cost from these trajectories plus
always-parallel and always-serial: at cost c a seed's episode is SWITCH@T if look ratio ÷ (1 + c) ≥ t, else
STAY@T, with serial trials paid ÷ (1 + c) (the paper's rule). The replay of the navigator's defaults reproduces
its fig5 runs up to float drift between vector batches of other sizes (docs/findings/navigator.md).
It prints, per T, what the look costs
parallel (STAY@T ÷ always-parallel), how noisy the look is (its raw ratio's mean and sd over seeds), what a late
switch costs serial (SWITCH@T ÷ always-serial at c = 0), and the table threshold × cost of the replayed mean
reward rate ÷ the best fixed strategy's, with each row's worst cost. It assumes the rule stays with parallel
below t (the navigator also drops serial there whenever ratio ÷ (1 + c) ≥ its ``drop_ratio``, 0.4, which holds
for every look measured; a seed below it is counted and reported).

Trajectories are played on the vector env from the fig5 sweep's root seeds (seed s here is seed s there) and
kept per schedule (``DIR/<world>_h<horizon>_s<first>-<last>_<schedule>.npz``) as soon as its batch ends, so a
stopped study resumes and new looks or thresholds reuse what was played. Writes ``DIR/look_frontier_<same stem>.csv``
(the table) and ``.png`` (each look's worst-cost ratio against the threshold).

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
from tradeoff_gym.agents.navigator import NavigatorAgent
from tradeoff_gym.benchmarks.analysis import save_figure
from tradeoff_gym.benchmarks.run_loop import run_episodes
from tradeoff_gym.envs.interface import SERIAL_FLAGS

WORLDS = {"default": "tradeoff/SerialParallel-v0", "noisy": "tradeoff/SerialParallelNoisy-v0"}
COSTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # fig5's paper grid
NAVIGATOR = NavigatorAgent.__init__.__kwdefaults__  # the defaults this study replays


class LookSchedule(BaseAgent):
    """A scripted episode: ``parallel``, ``serial``, ``stay@T`` (serial at trial T only) or ``switch@T``."""

    name = "look-schedule"

    def __init__(self, schedule: str) -> None:
        self.kind, _, at = schedule.partition("@")
        if self.kind not in ("parallel", "serial", "stay", "switch") or bool(at) != (self.kind in ("stay", "switch")):
            raise ValueError(f"schedule must be parallel, serial, stay@T or switch@T, got {schedule!r}")
        self.at = int(at) if at else 0

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        flags = info[SERIAL_FLAGS]
        if all(flags) or not any(flags):
            raise ValueError(f"a look schedule needs a serial and a parallel strategy, got serial flags {flags}")
        self.serial, self.parallel = flags.index(True), flags.index(False)
        self.trial = 0

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        serial = (self.kind == "serial" or (self.kind == "stay" and self.trial == self.at)
                  or (self.kind == "switch" and self.trial >= self.at))
        return self.serial if serial else self.parallel

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        self.trial += 1


def play(world: str, schedule: str, seeds: Sequence[int], horizon: int, path: Path) -> Path:
    """One schedule's episodes at c = 0 (raw accuracy is what the replay needs), one vector batch; saved to ``path``."""
    vector = gym.make_vec(WORLDS[world], num_envs=len(seeds), vectorization_mode="vector_entry_point",
                          horizon=horizon, cost=0.0)
    frames = run_episodes(vector, [LookSchedule(schedule) for _ in seeds], list(seeds), env_id=WORLDS[world])
    vector.close()
    frames = [frame.sort_values("trial") for frame in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, seeds=np.asarray(seeds), raw=np.stack([f.raw_accuracy.to_numpy() for f in frames]),
             serial=np.stack([f.serial.to_numpy(dtype=bool) for f in frames]))
    temporary.replace(path)  # a stopped study never leaves a half-written schedule behind
    return path


def reward_rates(raw: np.ndarray, serial: np.ndarray, cost: float) -> np.ndarray:
    """``(seeds,)`` mean reward per trial of ``(seeds, trials)`` raw accuracies; serial trials paid ÷ (1 + c)."""
    return np.where(serial, raw / (1.0 + cost), raw).mean(axis=1)


def look_ratios(raw: np.ndarray, at: int, recent: int) -> np.ndarray:
    """``(seeds,)`` the look's raw accuracy at trial ``at`` ÷ the mean of the ``recent`` trials before it."""
    return raw[:, at] / raw[:, at - recent:at].mean(axis=1)


def replay(trajectories: dict[str, tuple[np.ndarray, np.ndarray]], at: int, threshold: float,
           costs: Sequence[float], recent: int) -> np.ndarray:
    """``(costs,)`` the rule's mean reward rate over seeds ÷ the best fixed strategy's, per cost."""
    ratio = look_ratios(trajectories[f"switch@{at}"][0], at, recent)
    out = []
    for cost in costs:
        best = max(reward_rates(*trajectories[name], cost).mean() for name in ("serial", "parallel"))
        switch = ratio / (1.0 + cost) >= threshold
        rates = np.where(switch, reward_rates(*trajectories[f"switch@{at}"], cost),
                         reward_rates(*trajectories[f"stay@{at}"], cost))
        out.append(rates.mean() / best)
    return np.asarray(out)


def load(paths: dict[str, Path]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """schedule → (raw, serial flags), each ``(seeds, trials)``."""
    out = {}
    for name, path in paths.items():
        with np.load(path) as data:
            out[name] = (data["raw"], data["serial"])
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
    axis.set(xlabel="switch threshold (look ratio ÷ (1 + c))", ylabel="worst cost: mean reward rate ÷ best fixed",
             title=title)
    axis.legend(fontsize=8)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    """Play what is missing, then print and write the replay."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="default", choices=sorted(WORLDS))
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
    missing = [name for name in names if not paths[name].exists()]
    if missing:
        print(f"playing {len(missing)} schedules × {len(seeds)} seeds at τ = {args.horizon}: {', '.join(missing)}",
              flush=True)
        # forkserver: a worker forked after torch ran can hang (docs/environments/vector.md)
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=context) as pool:
            futures = [pool.submit(play, args.world, name, seeds, args.horizon, paths[name]) for name in missing]
            for future in futures:
                print(f"  kept {future.result()}", flush=True)
    trajectories = load(paths)
    parallel_raw, serial_raw = trajectories["parallel"][0].mean(), trajectories["serial"][0].mean()
    print(f"{args.world} world, τ = {args.horizon}, seeds {seeds[0]}–{seeds[-1]}: "
          f"c* = {serial_raw / parallel_raw - 1:.3f}")
    rows = []
    for at in looks:
        stay, switch = trajectories[f"stay@{at}"], trajectories[f"switch@{at}"]
        ratio = look_ratios(switch[0], at, args.recent)
        kept = stay[0].mean(axis=1) / trajectories["parallel"][0].mean(axis=1)
        late = reward_rates(*switch, 0.0).mean() / reward_rates(*trajectories["serial"], 0.0).mean()
        below_drop = int((ratio / (1 + max(costs)) < NAVIGATOR["drop_ratio"]).sum())
        print(f"look at {at}: STAY earns {stay[0].mean() / parallel_raw:.3f} of always-parallel (worst seed "
              f"{kept.min():.3f}); look raw ratio {ratio.mean():.3f} (sd {ratio.std():.3f}, {ratio.min():.3f}–"
              f"{ratio.max():.3f}); SWITCH earns {late:.3f} of always-serial at c = 0"
              + (f"; {below_drop} seeds under the drop ratio at c = {max(costs):g}" if below_drop else ""))
        for threshold in thresholds:
            values = replay(trajectories, at, threshold, costs, args.recent)
            rows.append({"look_trial": at, "threshold": threshold, **{f"{c:g}": v for c, v in zip(costs, values)},
                         "worst": values.min(), "worst_cost": costs[int(values.argmin())]})
    table = pd.DataFrame(rows)
    table.to_csv(out / f"look_frontier_{stem}.csv", index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print("mean reward rate ÷ best fixed strategy's, per look trial, threshold and cost:")
        print(table.round(3).to_string(index=False))
    best = table.loc[table.worst.idxmax()]
    print(f"best rule in hindsight: look at {int(best.look_trial)}, threshold {best.threshold:g} → worst cost "
          f"{best.worst:.3f} (c = {best.worst_cost:g}); the navigator's default (look at {default_look}, threshold "
          f"{NAVIGATOR['switch_ratio']:g}) is one row when its look is among --looks")
    title = f"{args.world} world, τ = {args.horizon}, seeds {seeds[0]}–{seeds[-1]}: one look, then commit"
    print(figure(table, title, out / f"look_frontier_{stem}.png"))


if __name__ == "__main__":
    main()
