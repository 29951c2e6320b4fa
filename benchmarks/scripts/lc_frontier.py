"""The cost-blind frontier on LearningCurves families: explore-then-commit rules chosen on train, scored on test.

The rule class (docs/findings/frontier.md): ``etc-M`` plays every strategy of the world's table ``M`` times,
round robin in table order (trial ``t`` plays strategy ``t mod S``), then commits for the rest of the episode to
the strategy whose ``M`` observed rewards have the highest mean (the first in table order on ties);
``etc-M-recent`` commits on the mean of each strategy's last ``ceil(M/4)`` observed rewards instead. Observed
rewards are what an agent sees (serial-type strategies already discounted by the hidden cost), so every rule is
cost-blind. Where ``M·S ≥ τ`` the rule never commits: it plays round robin to the end.

Every rule is played exactly: the env draws, at reset, a deck of rewards per (strategy, pick count) — the n-th
pick of a strategy pays the same whenever it happens — so :func:`reward_decks` draws the decks the env draws
from the same root seed (the run loop's :func:`~tradeoff_gym.benchmarks.run_loop.split_seed`) and
:func:`play_rules` plays every rule on them at once (tests check both against env play through the run loop).

The rule with the best mean normalised return (a run's return ÷ the best fixed strategy's on the same seed, the
best fixed strategy being the one with the highest mean return over the split's seeds in that world:
:func:`tradeoff_gym.benchmarks.analysis.normalised_returns`' definition) on the **train worlds with train seeds**
is chosen, then it and every rule are scored on the **test worlds with test seeds**. Beside it: the in-class
oracle (per test world the best rule in hindsight) and the allocation bound (:func:`allocation_bound`: the most
any policy, cost-blind or not, can expect in a world; it is also the information bound of cost-blind policies on
LearningCurves — why: docs/findings/frontier.md).

The rules and their agent (:class:`~tradeoff_gym.agents.frontier.ETCAgent`, registry name ``etc``) live in
:mod:`tradeoff_gym.agents.frontier`. Writes ``DIR/lc_frontier_<family>.csv`` (one row per split, world, seed and
rule or fixed strategy) and prints the family's table in markdown; ``--record`` writes the chosen rule into the
shipped ``envs/data/frontier.json`` (:func:`~tradeoff_gym.agents.frontier.frontier_agent` reads it)::

    python -m tradeoff_gym.benchmarks.scripts.lc_frontier --family lc-balanced --train-seeds 20 --test-seeds 20
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from gymnasium.utils import seeding

from tradeoff_gym.agents.frontier import (
    STATISTICS,
    ETCAgent,  # noqa: F401  (re-exported: the rule's agent lived here)
    ETCRule,
    commit_choice,
    record_frontier,
)
from tradeoff_gym.benchmarks.run_loop import split_seed
from tradeoff_gym.envs.common import draw_cost
from tradeoff_gym.envs.families import FAMILIES, LC_ID, get_family
from tradeoff_gym.envs.learning_curves import LearningCurvesConfig, make_config

#: Exploration lengths M of the default grid (picks per strategy before the commit).
EXPLORE = (1, 2, 3, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300)
LC_FAMILIES = tuple(name for name, family in FAMILIES.items() if family.env_id == LC_ID)


def default_rules() -> tuple[ETCRule, ...]:
    """The default grid: every M of :data:`EXPLORE` with each of :data:`STATISTICS`."""
    return tuple(ETCRule(m, s) for s in STATISTICS for m in EXPLORE)


def world_config(family: str, world: int) -> LearningCurvesConfig:
    """World ``world`` of LearningCurves family ``family`` as the env builds it."""
    return make_config(family=family, world=world)


def reward_decks(config: LearningCurvesConfig, seeds: Sequence[int]) -> np.ndarray:
    """``(seeds, S, τ)``: the reward of the n-th pick of each strategy in the episode of each root seed.

    The env's reset, step by step: its seed from the root seed (:func:`split_seed`), its generator (Gymnasium's
    seeding), the cost draw, the binomial accuracies of every (strategy, pick, task), the reward rule's payoffs,
    offset and aggregation. Every trial performs every task (a config with ``task_count_probs`` is refused: its
    trials' rewards depend on the trial, not on the pick alone).
    """
    if config.task_count_probs is not None:
        raise ValueError("reward_decks needs every task every trial (task_count_probs None)")
    table = config.curve_table  # (S, n_tasks, τ)
    rule, n_tasks = config.reward_rule, config.n_tasks
    slots = np.arange(1, n_tasks + 1)
    out = np.empty((len(seeds), len(config.strategies), config.horizon))
    for i, seed in enumerate(seeds):
        rng, _ = seeding.np_random(split_seed(int(seed))[0])
        cost = draw_cost(config.cost, rng)
        if config.batch_size is None:
            accuracy = table.transpose(0, 2, 1).copy()
        else:
            accuracy = rng.binomial(config.batch_size, table.transpose(0, 2, 1)) / config.batch_size
        payoffs = np.stack([rule.task_payoffs(a, cost, n_tasks) for a in range(len(config.strategies))])
        task_rewards = accuracy * payoffs[:, None, :]  # (S, τ, n_tasks)
        by_count = rule.offset + np.cumsum(task_rewards, axis=2) * rule.aggregate_weights(slots)
        out[i] = by_count[:, :, n_tasks - 1]
    return out


def play_rules(decks: np.ndarray, rules: Sequence[ETCRule]) -> np.ndarray:
    """``(rules, seeds)`` episode returns of each rule on ``decks`` ``(seeds, S, τ)`` (:func:`reward_decks`).

    Exploration of length ``L = min(M·S, τ)`` gives strategy ``a`` ``ceil((L − a)/S)`` picks; the commit (when
    ``L < τ``) adds picks ``M … M + τ − L − 1`` of the chosen strategy. Order does not change a pick's reward.
    """
    n_seeds, n_strategies, horizon = decks.shape
    cumulative = np.concatenate([np.zeros((n_seeds, n_strategies, 1)), np.cumsum(decks, axis=2)], axis=2)
    seed_index = np.arange(n_seeds)
    out = np.empty((len(rules), n_seeds))
    for r, rule in enumerate(rules):
        m = rule.explore
        length = min(m * n_strategies, horizon)
        picks = np.maximum(0, -(-(length - np.arange(n_strategies)) // n_strategies))  # ceil((L − a)/S)
        total = cumulative[:, np.arange(n_strategies), picks].sum(axis=1)
        if length < horizon:
            choice = commit_choice(decks[:, :, m - rule.window:m])  # (seeds,)
            rest = horizon - length
            total = total + cumulative[seed_index, choice, m + rest] - cumulative[seed_index, choice, m]
        out[r] = total
    return out


def allocation_bound(config: LearningCurvesConfig) -> float:
    """The most any policy can expect in this world: the best split of τ picks among the strategies.

    A pick's reward depends on its strategy and pick count only, and no policy sees a pick's reward before
    playing it, so a policy's expected return is ``E[Σ_a G_a(N_a)]`` (``G_a`` the cumulative expected reward of
    ``a``'s first picks, ``N_a`` its pick count) ≤ ``max over n with Σ n_a = τ of Σ_a G_a(n_a)``. Max-plus
    convolution over strategies, O(S·τ²); returns the bound's expected return (the world's units, not ÷ τ).
    With non-decreasing curves (every :class:`~tradeoff_gym.envs.learning_curves.LogisticCurve`) each ``G_a`` is
    discretely convex and the bound is the best fixed strategy's expected return. Why it is also the cost-blind
    information bound: docs/findings/frontier.md.
    """
    expected = config.expected_trial_rewards(float(config.cost))  # (S, τ)
    horizon = config.horizon
    gains = np.concatenate([np.zeros((len(expected), 1)), np.cumsum(expected, axis=1)], axis=1)  # (S, τ+1)
    best = gains[0]
    t, k = np.meshgrid(np.arange(horizon + 1), np.arange(horizon + 1), indexing="ij")  # (τ+1, τ+1)
    valid = k <= t
    for gain in gains[1:]:
        combined = np.where(valid, best[np.clip(t - k, 0, None)] + gain[k], -np.inf)
        best = combined.max(axis=1)
    return float(best[horizon])


def normalise(returns: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """``returns`` ``(rules, seeds)`` ÷ the best fixed strategy's return on the same seed; ``fixed`` ``(seeds, S)``.

    The best fixed strategy is the one with the highest mean return over these seeds (first on ties), as in
    :func:`tradeoff_gym.benchmarks.analysis.normalised_returns`; NaN where its return is not positive.
    """
    reference = fixed[:, int(np.argmax(fixed.mean(axis=0)))]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(reference > 0, returns / reference, np.nan)


def evaluate(family: str, worlds: Sequence[int], seeds: Sequence[int], rules: Sequence[ETCRule],
             split: str) -> pd.DataFrame:
    """One row per (world, seed, rule or fixed strategy): ``return``, ``reward_rate``, ``normalised``.

    Fixed strategies appear as ``fixed:<name>``; each world's row ``bound`` columns carry the allocation bound
    ÷ the best fixed strategy's expected return (the same in every row of the world).
    """
    frames = []
    for world in worlds:
        config = world_config(family, world)
        decks = reward_decks(config, seeds)
        fixed = decks.sum(axis=2)  # (seeds, S)
        returns = np.concatenate([play_rules(decks, rules), fixed.T])  # (rules + S, seeds)
        names = [rule.name for rule in rules] + [f"fixed:{s.name}" for s in config.strategies]
        bound = allocation_bound(config) / float(config.expected_fixed_returns(float(config.cost)).max())
        frames.append(pd.DataFrame({
            "family": family, "split": split, "world": world, "horizon": config.horizon,
            "n_strategies": len(config.strategies), "cost": float(config.cost),
            "rule": np.repeat(names, len(seeds)), "seed": np.tile(np.asarray(seeds), len(names)),
            "return": returns.ravel(), "reward_rate": returns.ravel() / config.horizon,
            "normalised": normalise(returns, fixed).ravel(), "bound": bound,
        }))
    return pd.concat(frames, ignore_index=True)


def per_world(frame: pd.DataFrame) -> pd.DataFrame:
    """``(world × rule)`` mean normalised return over seeds (rules only, fixed strategies left out)."""
    rules = frame[~frame.rule.str.startswith("fixed:")]
    return rules.groupby(["world", "rule"]).normalised.mean().unstack("rule")


def choose(train: pd.DataFrame) -> str:
    """The rule with the best mean normalised return on ``train`` (worlds weighted alike; first name on ties)."""
    means = per_world(train).mean(axis=0)
    return str(means.sort_index().idxmax())


def worst_decile(values: pd.Series) -> float:
    """The 10th percentile of per-world values (linear interpolation)."""
    return float(np.percentile(values.to_numpy(dtype=np.float64), 10))


def summary(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """The family's row: chosen rule, its train and test scores, in-class oracle, bound, share ≥ best fixed."""
    chosen = choose(train)
    train_worlds, test_worlds = per_world(train), per_world(test)
    bound = test.groupby("world").bound.first()
    return {
        "chosen": chosen,
        "train_mean": float(train_worlds[chosen].mean()), "train_p10": worst_decile(train_worlds[chosen]),
        "test_mean": float(test_worlds[chosen].mean()), "test_p10": worst_decile(test_worlds[chosen]),
        "best_fixed": 1.0,
        "oracle_mean": float(test_worlds.max(axis=1).mean()), "oracle_p10": worst_decile(test_worlds.max(axis=1)),
        "bound_mean": float(bound.mean()), "bound_p10": worst_decile(bound),
        "share_ge_fixed": float((test_worlds[chosen] >= 1.0).mean()),
        "best_test_rule": str(test_worlds.mean(axis=0).sort_index().idxmax()),
        "best_test_mean": float(test_worlds.mean(axis=0).max()),
    }


def markdown(family: str, row: dict[str, Any]) -> str:
    """The family's table in markdown."""
    return "\n".join([
        f"| {family} | train | test |", "| --- | --- | --- |",
        f"| chosen rule (on train) | `{row['chosen']}` | |",
        f"| chosen rule: mean (worst-decile world) | {row['train_mean']:.3f} ({row['train_p10']:.3f}) "
        f"| {row['test_mean']:.3f} ({row['test_p10']:.3f}) |",
        "| best fixed strategy | 1.000 | 1.000 |",
        f"| in-class oracle (best rule per world) | | {row['oracle_mean']:.3f} ({row['oracle_p10']:.3f}) |",
        f"| allocation = information bound (expected) | | {row['bound_mean']:.4f} ({row['bound_p10']:.4f}) |",
        f"| share of worlds where the chosen rule ≥ best fixed | | {row['share_ge_fixed']:.2f} |",
        f"| best rule on test (hindsight) | | `{row['best_test_rule']}` {row['best_test_mean']:.3f} |",
    ])


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.csv")
    frame.to_csv(temporary, index=False)
    temporary.replace(path)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Evaluate the rules on the family's train and test splits, write the CSV, print the table; returns the row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True, choices=LC_FAMILIES)
    grid = ",".join(map(str, EXPLORE))
    parser.add_argument("--rules", default=None, help="comma-separated rule names (etc-M, etc-M-recent); "
                        f"default: M in {grid} with each statistic")
    parser.add_argument("--train-seeds", type=int, default=20, help="the first N of the family's train seeds")
    parser.add_argument("--test-seeds", type=int, default=20, help="the first N of the family's test seeds")
    parser.add_argument("--train-worlds", type=int, default=None, help="the first N train worlds (default all)")
    parser.add_argument("--test-worlds", type=int, default=None, help="the first N test worlds (default all)")
    parser.add_argument("--out", default="results/lc_frontier")
    parser.add_argument("--record", action="store_true",
                        help="write the rule chosen on train into the shipped frontier file (envs/data/frontier.json)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    family = get_family(args.family)
    try:
        rules = default_rules() if args.rules is None else tuple(ETCRule.parse(n) for n in args.rules.split(","))
    except ValueError as error:
        raise SystemExit(f"--rules: {error}") from None
    counts = {"--train-seeds": args.train_seeds, "--test-seeds": args.test_seeds,
              "--train-worlds": args.train_worlds, "--test-worlds": args.test_worlds}
    for option, value in counts.items():
        if value is not None and value < 1:
            raise SystemExit(f"{option} must be >= 1, got {value}")
    train_seeds = list(family.train_seeds)[:args.train_seeds]
    test_seeds = list(family.test_seeds)[:args.test_seeds]
    train_worlds = family.train[:args.train_worlds]
    test_worlds = family.test[:args.test_worlds]
    train = evaluate(family.name, train_worlds, train_seeds, rules, "train")
    test = evaluate(family.name, test_worlds, test_seeds, rules, "test")
    path = write_csv(pd.concat([train, test], ignore_index=True), Path(args.out) / f"lc_frontier_{family.name}.csv")
    row = summary(train, test)
    print(f"{family.name}: {len(rules)} rules; train worlds {len(train_worlds)} × seeds {train_seeds[0]}–"
          f"{train_seeds[-1]}, test worlds {len(test_worlds)} × seeds {test_seeds[0]}–{test_seeds[-1]}; {path}")
    print(markdown(family.name, row))
    means = per_world(test).mean(axis=0).reindex([r.name for r in rules])
    train_means = per_world(train).mean(axis=0).reindex([r.name for r in rules])
    print("\n| rule | train | test |\n| --- | --- | --- |")
    for name in means.index:
        print(f"| `{name}` | {train_means[name]:.3f} | {means[name]:.3f} |")
    if args.record:
        chosen = ETCRule.parse(row["chosen"])
        print(record_frontier(family.name, {
            "agent": chosen.agent_spec, "rule": chosen.name, "train_score": round(row["train_mean"], 6),
            "train": f"train worlds {span(train_worlds)} × train seeds {span(train_seeds)}",
            "command": shlex.join(["python", "-m", "tradeoff_gym.benchmarks.scripts.lc_frontier", *argv]),
        }))
    return row


def span(values: Sequence[int]) -> str:
    """``0–47 (48)``: a list of integers by its first, last and count (consecutive or not)."""
    return f"{values[0]}–{values[-1]} ({len(values)})"


if __name__ == "__main__":
    main()
