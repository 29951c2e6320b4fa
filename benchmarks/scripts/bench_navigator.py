"""Fraction of the oracle's return per agent on a broad family of LearningCurves instances, and navigator's overhead.

    python -m tradeoff_gym.benchmarks.scripts.bench_navigator [--instances 200] [--seed 0] [--family uniform|balanced]
        [--agents oracle,navigator,...] [--figure results/navigator_family.png]

The families are the world families ``lc-uniform`` and ``lc-balanced`` of ``tradeoff_gym.envs.families``
(their distributions: docs/environments/families.md). ``--family uniform``: τ = 1000, 4 tasks, batch 64
(binomial accuracies), paper reward (serial ÷ (1 + c)): which strategy learns early is a coin flip; its logistic
midpoint is uniform in [0, τ/3]; the other's is uniform in [early, early + 350] picks; each strategy's rate is
uniform in [0.01, 0.06] per pick; the hidden cost is uniform in [0, 1]. Instance ``i`` of family seed ``s`` is
world ``i`` of the family drawn with ``family_seed = s`` (``SeedSequence([s, i])``) and is played from root seed
``i``. With seed 0, instances 0–199 are the families' test worlds.

``--family balanced`` draws the same curves but sets the cost from a target ratio ρ of serial's expected
return to parallel's, log-uniform in [1/2, 2] (c = serial's return at c = 0 ÷ (ρ · parallel's) − 1; curves
are redrawn, ρ kept, until that c lies in [0, 1]). Serial is then the better fixed strategy in half the instances,
by up to a factor 2 either way, so never exploring (always-parallel) no longer scores near the oracle and the
fractions measure learning. The evaluation family is seed 0; ``tradeoff_gym.agents.navigator``'s prior ranges and
hyperparameters were chosen on seed 2 (the design family), so no evaluated instance is one it was tuned on.

Every agent is built by ``tradeoff_gym.agents.registry.make_agent`` and played by
``tradeoff_gym.benchmarks.run_loop.run_episode`` (the
project's one run loop). Prints, per agent, the mean over instances of return ÷ oracle return with a 95 %
bootstrap CI, its worst instance, its mean over the instances where the oracle plays serial and over those
where it plays parallel, and the mean per-decision time (act + observe) of ``navigator`` in µs; optionally a
bar figure of the fractions (fixed strategies in grey: references, not learners). On this family the oracle
plays parallel in most instances (parallel's ceiling is 1, serial's 1/(1 + c) with c uniform), so
always-parallel is itself close to the oracle: read the serial-best column to see who learns.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.analysis import bootstrap_ci
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.families import BALANCED_RATIO, get_family  # noqa: F401  (BALANCED_RATIO: re-exported)
from tradeoff_gym.envs.families import LC_HORIZON as HORIZON
from tradeoff_gym.envs.learning_curves import LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"
AGENTS = ("oracle", "navigator", "sagiv", "meta-learner", "ucb1", "r-ed-ucb", "cure-ucb", "epsilon-greedy", "serial",
          "parallel")
#: Fixed strategies, shown as references: on this family always-parallel is already close to the oracle.
REFERENCES = ("serial", "parallel")


@dataclass(frozen=True)
class Instance:
    """One LearningCurves world of the family: per strategy (serial, parallel) a logistic curve, and a cost."""

    rates: tuple[float, float]
    midpoints: tuple[float, float]
    cost: float

    def env(self) -> gym.Env:
        """The instance as a ``tradeoff/LearningCurves-v0`` env (τ = 1000, 4 tasks, batch 64)."""
        curves = tuple(LogisticCurve(r, m) for r, m in zip(self.rates, self.midpoints))
        return gym.make(ENV_ID, horizon=HORIZON, cost=self.cost, curves=curves)


#: ``--family`` choices: the world families ``lc-uniform`` and ``lc-balanced`` (:mod:`tradeoff_gym.envs.families`).
FAMILIES = ("uniform", "balanced")


def draw_instance(family_seed: int, index: int, family: str = "uniform") -> Instance:
    """Instance ``index`` of ``family`` drawn with ``family_seed``: world ``index`` of ``lc-<family>`` drawn with
    that family seed (ranges in the module docstring)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    settings = get_family(f"lc-{family}").with_seed(family_seed).settings(index, check_range=False)
    curves = settings["curves"]
    return Instance(rates=tuple(c.rate for c in curves), midpoints=tuple(c.midpoint for c in curves),
                    cost=settings["cost"])


class TimedAgent:
    """Delegates to an agent and sums the wall time of its ``act`` and ``observe`` calls."""

    def __init__(self, agent: Any) -> None:
        self.agent, self.name, self.seconds, self.calls = agent, agent.name, 0.0, 0

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Delegate."""
        self.agent.reset(info, rng)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Delegate, timed."""
        start = time.perf_counter()
        action = self.agent.act(obs, info)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return action

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Delegate, timed."""
        start = time.perf_counter()
        self.agent.observe(action, reward, obs, info)
        self.seconds += time.perf_counter() - start


def evaluate(
    agents: tuple[str, ...], instances: int, family_seed: int = 0, agent_kwargs: dict[str, dict] | None = None,
    family: str = "uniform",
) -> tuple[dict[str, np.ndarray], float, np.ndarray]:
    """``{agent: (instances,) return ÷ oracle return}``, navigator's mean seconds per decision (NaN if absent),
    and ``(instances,)`` the oracle's strategy per instance."""
    agent_kwargs = agent_kwargs or {}
    fractions: dict[str, list[float]] = {name: [] for name in agents}
    best: list[str] = []
    timed_seconds, timed_calls = 0.0, 0
    for index in range(instances):
        env = draw_instance(family_seed, index, family).env()
        oracle_frame = run_episode(env, make_agent("oracle", env), seed=index)
        oracle = oracle_frame.reward.sum()
        best.append(str(oracle_frame.strategy.iloc[0]))
        for name in agents:
            agent = make_agent(name, env, **agent_kwargs.get(name, {}))
            if name == "navigator":
                agent = TimedAgent(agent)
            total = run_episode(env, agent, seed=index, agent_name=name).reward.sum()
            fractions[name].append(total / oracle)
            if name == "navigator":
                timed_seconds, timed_calls = timed_seconds + agent.seconds, timed_calls + agent.calls
    per_decision = timed_seconds / timed_calls if timed_calls else float("nan")
    return {name: np.asarray(values) for name, values in fractions.items()}, per_decision, np.asarray(best)


def figure(fractions: dict[str, np.ndarray], path: str, title: str) -> None:
    """Bar chart of the mean fraction of the oracle's return per agent, 95 % bootstrap CIs as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(fractions, key=lambda n: -fractions[n].mean())
    means = np.array([fractions[n].mean() for n in names])
    cis = np.array([bootstrap_ci(fractions[n]) for n in names])
    fig, ax = plt.subplots(figsize=(8, 4))
    colors = ["tab:gray" if n in REFERENCES else "tab:blue" for n in names]
    ax.bar(names, means, yerr=np.abs(cis.T - means), capsize=4, color=colors)
    ax.axhline(0.92, color="tab:red", linestyle="--", label="target 0.92")
    ax.set_ylim(min(0.5, means.min() - 0.05), 1.02)
    ax.set_ylabel("return ÷ oracle return")
    ax.set_title(title)
    ax.legend(loc="lower left")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Evaluate the agents on the family and print (and optionally plot) the fractions of the oracle."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200, help="instances of the family (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="family seed (0 = evaluation family; 2 = design family)")
    parser.add_argument("--family", default="uniform", choices=FAMILIES,
                        help="uniform: the default family (cost uniform); balanced: cost set so serial is best in half")
    parser.add_argument("--agents", default=",".join(a for a in AGENTS if a != "oracle"),
                        help="comma-separated registered agent names")
    parser.add_argument("--figure", default=None, help="write a PNG of the fractions here")
    args = parser.parse_args(argv)
    agents = tuple(a for a in args.agents.split(",") if a and a != "oracle")
    start = time.perf_counter()
    fractions, per_decision, best = evaluate(agents, args.instances, args.seed, family=args.family)
    serial_best = best == "serial"
    print(f"LearningCurves {args.family} family seed {args.seed}: {args.instances} instances, τ = {HORIZON} "
          f"({time.perf_counter() - start:.0f} s); the oracle plays serial in {serial_best.sum()}, parallel in "
          f"{(~serial_best).sum()}")
    header = ("agent", "return / oracle", "95 % CI", "worst", "serial best", "parallel best")
    print(f"{header[0]:<16} {header[1]:>16} {header[2]:>18} {header[3]:>7} {header[4]:>12} {header[5]:>14}")
    for name in sorted(fractions, key=lambda n: -fractions[n].mean()):
        values = fractions[name]
        low, high = bootstrap_ci(values)
        by_best = [values[mask].mean() if mask.any() else float("nan") for mask in (serial_best, ~serial_best)]
        print(f"{name:<16} {values.mean():>16.3f} {f'[{low:.3f}, {high:.3f}]':>18} {values.min():>7.3f} "
              f"{by_best[0]:>12.3f} {by_best[1]:>14.3f}")
    if np.isfinite(per_decision):
        print(f"navigator: {1e6 * per_decision:.0f} µs per decision (act + observe), mean over all trials")
    if args.figure:
        title = f"LearningCurves {args.family} family ({args.instances} instances, τ = {HORIZON})"
        figure(fractions, args.figure, title)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
