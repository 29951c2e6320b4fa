"""Can a look's threshold depend on what parallel showed before it? Leave-one-world-out on a train split.

Why: on ``sp-mixed`` the frontier's in-class oracle (the best probe rule per world) is 0.03 above the one rule
chosen on train, and the best rule differs by stratum (docs/findings/frontier.md). Parallel's rewards before the
first serial trial do not depend on the cost, so a rule may read them: this script asks whether doing so pays on
worlds it was not fitted to. It replays three classes of one-trial look rules (L = 1, baseline = the ``recent``
parallel trials before the look; ``level`` = their mean reward) from the frontier's played schedules:

* ``fixed``: look at T, switch to serial for good if the look ÷ level ≥ t (the frontier's class);
* ``linear``: the same with the threshold t = a + b · level;
* ``split``: look at the first T if level there < h with threshold t₁, else skip it and look at the last T with
  threshold t₂;
* ``bayes`` (``--bayes``): a Bayesian look at T whose prior is the *other* train worlds' coupled surrogates
  (``tradeoff/CoupledCurves-v0`` presets ``sp-mixed-w<k>``) × a grid of costs: the parallel rewards before T (in
  blocks of 25 trials) weigh the surrogates, the look's reward weighs (surrogate, cost), and the look switches to
  serial for good iff the posterior expects serial's rest of the episode to pay more than parallel's (each
  surrogate's expected accuracies along ``switch@T`` and ``stay@T``). Its settings: T, the model noise of a block
  mean and the look's relative noise.

For each class it prints the best rule on all the given train worlds (in-sample) and the **leave-one-world-out**
score: each world scored by the rule the class chooses on the other worlds. Scores are normalised returns as in
``sp_frontier`` (÷ the best fixed strategy's, per seed and cost), averaged over worlds × costs × seeds. Train
worlds only (a test world is refused); the schedules must have been played by ``sp_frontier``::

    python -m tradeoff_gym.benchmarks.scripts.sp_adaptive_look --family sp-mixed --worlds 0-11 --seeds 2 \\
        --looks 250,1000 --out results/sp_frontier --bayes
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tradeoff_gym import envs
from tradeoff_gym.agents.frontier import probe_switches
from tradeoff_gym.benchmarks.scripts.lc_frontier import normalise
from tradeoff_gym.benchmarks.scripts.look_frontier import ENV_ID, complete, load, schedule_name, trial_rewards
from tradeoff_gym.benchmarks.scripts.sp_frontier import SP_FAMILIES, parse_ints, trajectory_path
from tradeoff_gym.envs.coupled_curves import (
    CALIBRATION_DIR,
    PARALLEL_ACTION,
    SERIAL_ACTION,
    load_calibration,
    simulate,
)
from tradeoff_gym.envs.families import get_family, worlds

#: The thresholds of the fixed and split classes, and the intercepts and slopes of the linear one.
THRESHOLDS = np.round(np.arange(0.5, 1.301, 0.025), 3)
INTERCEPTS = np.round(np.arange(0.0, 2.001, 0.05), 3)
SLOPES = np.round(np.arange(-3.0, 3.001, 0.25), 3)
#: The Bayesian look's settings: model noise of a 25-trial block mean, the look's noise relative to its mean.
MODEL_NOISES = (0.02, 0.03, 0.05)
LOOK_NOISES = (0.1, 0.15, 0.2)
#: Its cost grid (uniform prior) and the block its parallel rewards are read in.
COST_GRID = np.linspace(0.0, 1.2, 25)
BLOCK = 25


def episodes(family: str, world_list: Sequence[int], seeds: Sequence[int], looks: Sequence[int], recent: int,
             horizon: int, out: Path) -> dict[str, np.ndarray]:
    """Per (world, cost, seed) row: ``world``; per look T ``level{T}``, ``look{T}`` (the look's reward) and the
    normalised returns ``switch{T}`` / ``stay{T}`` of the two continuations. A ValueError names unplayed
    schedules and the command that plays them."""
    fam = get_family(family)
    names = ["serial", "parallel"] + [schedule_name(kind, at) for at in looks for kind in ("switch", "stay")]
    rows: dict[str, list[float]] = {}
    for world in world_list:
        paths = {name: trajectory_path(out, family, world, seeds, horizon, name) for name in names}
        missing = [name for name, path in paths.items() if not complete(path)]
        if missing:
            raise ValueError(f"world {world}: schedules {missing} not played in {out}; play them with "
                             f"python -m tradeoff_gym.benchmarks.scripts.sp_frontier --family {family} --split train "
                             f"--worlds {world} --seeds {len(seeds)} --looks {','.join(map(str, looks))} --out {out}")
        trajectories = load(paths)
        rule = envs.check_settings(ENV_ID, family=family, world=world).reward_rule
        for cost in fam.costs:
            rewards = {name: trial_rewards(rule, trajectories[name], cost) for name in names}
            fixed = np.stack([rewards["serial"].mean(axis=1), rewards["parallel"].mean(axis=1)], axis=1)
            row: dict[str, np.ndarray] = {"world": np.full(len(seeds), world, dtype=float)}
            for at in looks:
                switch = rewards[schedule_name("switch", at)]
                row[f"level{at}"] = switch[:, at - recent:at].mean(axis=1)
                row[f"look{at}"] = switch[:, at]
                row[f"before{at}"] = switch[:, :at]
                row[f"switch{at}"] = normalise(switch.mean(axis=1)[None], fixed)[0]
                row[f"stay{at}"] = normalise(rewards[schedule_name("stay", at)].mean(axis=1)[None], fixed)[0]
            for key, value in row.items():
                rows.setdefault(key, []).extend(value)
    return {key: np.asarray(value) for key, value in rows.items()}


def surrogate(family: str, world: int, at: int, horizon: int) -> dict[str, np.ndarray | float]:
    """World ``world``'s shipped coupled surrogate (preset ``<family>-w<world>``) along ``switch@at`` and
    ``stay@at``: ``before`` parallel's expected accuracy at trials 0 … at−1, ``look`` serial's at trial ``at``,
    ``serial_rest`` / ``parallel_rest`` the expected accuracy summed over trials at+1 … τ−1 of each continuation,
    ``per_trial`` the variance factor of one trial's mean accuracy (1 ÷ (n_tasks × noise_examples))."""
    params, meta = load_calibration(f"{family}-w{world}")
    actions = np.full((2, horizon), PARALLEL_ACTION)
    actions[0, at:] = SERIAL_ACTION
    actions[1, at] = SERIAL_ACTION
    played = simulate(params, actions, both=False)
    n_tasks = int(meta.get("env", {}).get("n_tasks", 4))
    return {"before": played[0, :at], "look": float(played[0, at]), "serial_rest": float(played[0, at + 1:].sum()),
            "parallel_rest": float(played[1, at + 1:].sum()), "per_trial": 1.0 / (n_tasks * params.noise_examples)}


def bayes_switches(before: np.ndarray, look: np.ndarray, components: list[dict], model_noise: float,
                   look_noise: float) -> np.ndarray:
    """Whether the Bayesian look switches: ``before`` ``(rows, T)`` parallel rewards, ``look`` ``(rows,)`` the look's
    reward, ``components`` surrogates (:func:`surrogate`) as the prior with a uniform cost on :data:`COST_GRID`.

    Block means of the parallel rewards are Gaussian around each surrogate's (variance: binomial of the block +
    ``model_noise²``); the look is Gaussian around the surrogate's serial accuracy ÷ (1 + c) with standard deviation
    ``look_noise`` × that accuracy; switch iff the posterior mean of serial's rest ÷ (1 + c) − parallel's rest > 0.
    """
    blocks = before.shape[1] // BLOCK
    seen = before[:, :blocks * BLOCK].reshape(len(before), blocks, BLOCK).mean(axis=2)  # (rows, B)
    expected = np.stack([c["before"][:blocks * BLOCK].reshape(blocks, BLOCK).mean(axis=1) for c in components])
    per_trial = np.array([c["per_trial"] for c in components])[:, None]
    variance = expected * (1.0 - expected) * per_trial / BLOCK + model_noise**2  # (K, B)
    log_world = -0.5 * (((seen[:, None, :] - expected[None]) ** 2) / variance + np.log(variance)).sum(axis=2)
    serial = np.array([c["look"] for c in components])  # (K,)
    mean = serial[:, None] / (1.0 + COST_GRID[None, :])  # (K, C)
    spread = look_noise * serial[:, None]
    log_look = -0.5 * ((look[:, None, None] - mean[None]) / spread[None]) ** 2 - np.log(spread)[None]
    log_post = log_world[:, :, None] + log_look  # (rows, K, C)
    log_post -= log_post.max(axis=(1, 2), keepdims=True)
    post = np.exp(log_post)
    gain = (np.array([c["serial_rest"] for c in components])[:, None] / (1.0 + COST_GRID[None, :])
            - np.array([c["parallel_rest"] for c in components])[:, None])
    return (post * gain[None]).sum(axis=(1, 2)) > 0.0


def bayes_class(data: dict[str, np.ndarray], family: str, looks: Sequence[int], horizon: int) -> tuple[
        list[str], np.ndarray]:
    """The ``bayes`` class: per (look, model noise, look noise) each row's normalised return, the prior of a row of
    world w being the surrogates of the other worlds in ``data``."""
    world = data["world"].astype(int)
    names, values = [], []
    for at in looks:
        shipped = {w: surrogate(family, w, at, horizon) for w in np.unique(world)}
        for model_noise in MODEL_NOISES:
            for look_noise in LOOK_NOISES:
                switched = np.zeros(world.size, dtype=bool)
                for w in shipped:
                    rows = world == w
                    others = [c for k, c in shipped.items() if k != w]
                    switched[rows] = bayes_switches(data[f"before{at}"][rows], data[f"look{at}"][rows], others,
                                                    model_noise, look_noise)
                names.append(f"bayes look {at}, model noise {model_noise:g}, look noise {look_noise:g}")
                values.append(np.where(switched, data[f"switch{at}"], data[f"stay{at}"]))
    return names, np.stack(values)


def _play(data: dict[str, np.ndarray], at: int, threshold: np.ndarray) -> np.ndarray:
    """Each row's normalised return when the look at ``at`` switches iff look ÷ level ≥ ``threshold`` (per row;
    the frontier agent's own test, :func:`probe_switches`)."""
    switched = probe_switches(data[f"level{at}"][:, None], data[f"look{at}"][:, None], threshold)
    return np.where(switched, data[f"switch{at}"], data[f"stay{at}"])


def rule_classes(data: dict[str, np.ndarray], looks: Sequence[int]) -> dict[str, tuple[list[str], np.ndarray]]:
    """class → (rule names, ``(rules, rows)`` normalised returns)."""
    out: dict[str, tuple[list[str], list[np.ndarray]]] = {"fixed": ([], []), "linear": ([], []), "split": ([], [])}
    n = data["world"].size
    for at in looks:
        for t in THRESHOLDS:
            out["fixed"][0].append(f"look {at}, t {t:g}")
            out["fixed"][1].append(_play(data, at, np.full(n, t)))
        for a in INTERCEPTS:
            for b in SLOPES:
                out["linear"][0].append(f"look {at}, t = {a:g} + {b:g} level")
                out["linear"][1].append(_play(data, at, a + b * data[f"level{at}"]))
    first, last = min(looks), max(looks)
    if first != last:
        level = data[f"level{first}"]
        early = {t: _play(data, first, np.full(n, t)) for t in THRESHOLDS}
        late = {t: _play(data, last, np.full(n, t)) for t in THRESHOLDS}
        for h in np.unique(np.round(np.quantile(level, np.linspace(0.0, 1.0, 21)), 3)):
            for t1 in THRESHOLDS:
                for t2 in THRESHOLDS:
                    out["split"][0].append(f"level{first} < {h:g}: look {first}, t {t1:g}; else look {last}, t {t2:g}")
                    out["split"][1].append(np.where(level < h, early[t1], late[t2]))
    return {name: (names, np.stack(values)) for name, (names, values) in out.items() if names}


def leave_one_world_out(values: np.ndarray, world: np.ndarray) -> float:
    """Mean over rows of the score each world gets from the rule chosen on the other worlds."""
    scores = []
    for w in np.unique(world):
        held = world == w
        best = int(np.argmax(values[:, ~held].mean(axis=1)))
        scores.append(values[best, held])
    return float(np.concatenate(scores).mean())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="sp-mixed", choices=SP_FAMILIES)
    parser.add_argument("--worlds", default=None, help="train worlds (default: the whole train split)")
    parser.add_argument("--seeds", type=int, default=2, help="the first N train seeds")
    parser.add_argument("--looks", default="250,1000")
    parser.add_argument("--recent", type=int, default=50)
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("results/sp_frontier"), help="sp_frontier's folder")
    parser.add_argument("--bayes", action="store_true",
                        help="add the Bayesian look (its prior: the other worlds' shipped surrogates sp-mixed-w<k>)")
    args = parser.parse_args(argv)
    fam = get_family(args.family)
    try:
        chosen = list(worlds(fam, args.worlds)) if args.worlds is not None else list(fam.train)
    except ValueError as error:
        parser.error(f"--worlds: {error}")
    test = [w for w in chosen if w not in fam.train]
    if test:
        parser.error(f"--worlds names {test}, outside {fam.name}'s train split: rules are designed on train "
                     f"worlds only")
    if len(chosen) < 2:
        parser.error(f"leave-one-world-out needs at least 2 worlds, got {chosen}")
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    looks = parse_ints(args.looks, "--looks", 1)
    if any(not args.recent <= at < args.horizon for at in looks):
        parser.error(f"every look must lie in [recent, horizon) = [{args.recent}, {args.horizon}), got {args.looks}")
    seeds = list(fam.train_seeds)[:args.seeds]
    try:
        data = episodes(fam.name, chosen, seeds, looks, args.recent, args.horizon, args.out)
    except ValueError as error:
        parser.error(str(error))
    print(f"{fam.name}: train worlds {chosen}, seeds {seeds}, costs {list(fam.costs)}; normalised return")
    print("| class | rules | best in-sample (rule) | leave-one-world-out |")
    print("| --- | --- | --- | --- |")
    classes = rule_classes(data, looks)
    if args.bayes:
        missing = [w for w in chosen if not (CALIBRATION_DIR / f"{fam.name}-w{w}.json").exists()]
        if missing:
            parser.error(f"--bayes needs a shipped surrogate of every world; none for {missing} "
                         f"(fit_coupled --trajectories, docs/findings/coupled-curves.md)")
        classes["bayes"] = bayes_class(data, fam.name, looks, args.horizon)
    for name, (names, values) in classes.items():
        means = values.mean(axis=1)
        best = int(np.argmax(means))
        print(f"| {name} | {len(names)} | {means[best]:.4f} ({names[best]}) | "
              f"{leave_one_world_out(values, data['world']):.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
