"""Fraction of the oracle's return per agent on a broad family of LearningCurves instances, and navigator's overhead.

    python -m benchmarks.scripts.bench_navigator [--instances 200] [--seed 0] [--agents oracle,navigator,...]
        [--figure results/navigator_family.png]

The family (issue 12), τ = 1000, 4 tasks, batch 64 (binomial accuracies), paper reward (serial ÷ (1 + c)):
which strategy learns early is a coin flip; its logistic midpoint is uniform in [0, τ/3]; the other's is
uniform in [early, early + 350] picks; each strategy's rate is uniform in [0.01, 0.06] per pick; the hidden
cost is uniform in [0, 1]. Instance ``i`` of family seed ``s`` is drawn from ``SeedSequence([s, i])`` and
played from root seed ``i``. The evaluation family is seed 0; seed 1 is the training family from which
``agents.navigator`` draws its empirical-Bayes prior (:func:`agents.navigator.family_prior` documents it),
so no evaluated instance is one the prior saw.

Every agent is built by ``agents.registry.make_agent`` and played by ``benchmarks.run_loop.run_episode`` (the
project's one run loop). Prints, per agent, the mean over instances of return ÷ oracle return with a 95 %
bootstrap CI, and the mean per-decision time (act + observe) of ``navigator`` in µs; optionally a bar
figure of those fractions.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the ids)
from agents.registry import make_agent
from benchmarks.analysis import bootstrap_ci
from benchmarks.run_loop import run_episode
from envs.learning_curves import LogisticCurve

ENV_ID = "tradeoff/LearningCurves-v0"
HORIZON = 1000
AGENTS = ("oracle", "navigator", "sagiv", "meta-learner", "ucb1", "r-ed-ucb", "cure-ucb", "epsilon-greedy")


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


def draw_instance(family_seed: int, index: int, horizon: int = HORIZON) -> Instance:
    """Instance ``index`` of the family drawn with ``family_seed`` (ranges in the module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([family_seed, index]))
    early = rng.uniform(0.0, horizon / 3)
    late = early + rng.uniform(0.0, 350.0)
    first = int(rng.integers(2))  # which strategy learns early
    midpoints = (early, late) if first == 0 else (late, early)
    rates = tuple(float(r) for r in rng.uniform(0.01, 0.06, size=2))
    return Instance(rates=rates, midpoints=(float(midpoints[0]), float(midpoints[1])), cost=float(rng.uniform()))


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
    agents: tuple[str, ...], instances: int, family_seed: int = 0, agent_kwargs: dict[str, dict] | None = None
) -> tuple[dict[str, np.ndarray], float]:
    """``{agent: (instances,) return ÷ oracle return}`` and navigator's mean seconds per decision (NaN if absent)."""
    agent_kwargs = agent_kwargs or {}
    fractions: dict[str, list[float]] = {name: [] for name in agents}
    timed_seconds, timed_calls = 0.0, 0
    for index in range(instances):
        env = draw_instance(family_seed, index).env()
        oracle = run_episode(env, make_agent("oracle", env), seed=index).reward.sum()
        for name in agents:
            agent = make_agent(name, env, **agent_kwargs.get(name, {}))
            if name == "navigator":
                agent = TimedAgent(agent)
            total = run_episode(env, agent, seed=index, agent_name=name).reward.sum()
            fractions[name].append(total / oracle)
            if name == "navigator":
                timed_seconds, timed_calls = timed_seconds + agent.seconds, timed_calls + agent.calls
    per_decision = timed_seconds / timed_calls if timed_calls else float("nan")
    return {name: np.asarray(values) for name, values in fractions.items()}, per_decision


def figure(fractions: dict[str, np.ndarray], path: str, title: str) -> None:
    """Bar chart of the mean fraction of the oracle's return per agent, 95 % bootstrap CIs as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(fractions, key=lambda n: -fractions[n].mean())
    means = np.array([fractions[n].mean() for n in names])
    cis = np.array([bootstrap_ci(fractions[n]) for n in names])
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(names, means, yerr=np.abs(cis.T - means), capsize=4, color="tab:blue")
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
    parser.add_argument("--seed", type=int, default=0, help="family seed (0 = evaluation family; 1 trains the prior)")
    parser.add_argument("--agents", default=",".join(a for a in AGENTS if a != "oracle"),
                        help="comma-separated registered agent names")
    parser.add_argument("--figure", default=None, help="write a PNG of the fractions here")
    args = parser.parse_args(argv)
    agents = tuple(a for a in args.agents.split(",") if a and a != "oracle")
    start = time.perf_counter()
    fractions, per_decision = evaluate(agents, args.instances, args.seed)
    print(f"LearningCurves family seed {args.seed}: {args.instances} instances, τ = {HORIZON} "
          f"({time.perf_counter() - start:.0f} s)")
    print(f"{'agent':<16} {'return / oracle':>16} {'95 % CI':>18} {'worst':>7}")
    for name in sorted(fractions, key=lambda n: -fractions[n].mean()):
        low, high = bootstrap_ci(fractions[name])
        print(f"{name:<16} {fractions[name].mean():>16.3f} {f'[{low:.3f}, {high:.3f}]':>18} "
              f"{fractions[name].min():>7.3f}")
    if np.isfinite(per_decision):
        print(f"navigator: {1e6 * per_decision:.0f} µs per decision (act + observe), mean over all trials")
    if args.figure:
        figure(fractions, args.figure, f"LearningCurves family ({args.instances} instances, τ = {HORIZON})")
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
