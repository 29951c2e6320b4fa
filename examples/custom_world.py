"""A custom world: your own strategy table and learning curves on ``tradeoff/LearningCurves-v0``, played by agents.

What it shows:

* ``strategies=``: a table of :class:`tradeoff_gym.envs.interface.Strategy` — here three: ``serial`` (pays the
  whole cost), ``pairs`` (two tasks at a time: half the cost, ``delay=0.5``) and ``parallel`` (no cost);
* ``curves=``: one learning curve per strategy — the built-in ``LogisticCurve``, your own vectorised callable
  (accuracy after ``n`` picks of the strategy), or a tuple of per-task curves;
* what the world implies (``expected_fixed_returns``: the best fixed strategy at each hidden cost);
* built-in agents (made by name) playing it through the run loop, at several costs.

Run it::

    python examples/custom_world.py          # τ = 1000, 3 costs, 3 seeds (a few seconds)
    python examples/custom_world.py --tiny   # τ = 150, 2 costs, 1 seed (CI); or TRADEOFF_EXAMPLES_TINY=1
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pandas as pd

import tradeoff_gym  # noqa: F401  (registers the tradeoff/… environment ids)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.interface import Strategy
from tradeoff_gym.envs.learning_curves import LogisticCurve

AGENTS = ("oracle", "ucb1", "cure-ucb", "meta-learner", "navigator", "random")


@dataclass(frozen=True)
class PowerLaw:
    """``ceiling · (1 − (1 + n / scale)^(−exponent))``: fast early gains that keep slowing (a vectorised curve).

    A dataclass rather than a lambda so it pickles (sweeps send env settings to worker processes).
    """

    ceiling: float = 0.9
    scale: float = 50.0
    exponent: float = 1.0

    def __call__(self, n: np.ndarray) -> np.ndarray:
        return self.ceiling * (1.0 - (1.0 + np.asarray(n, dtype=np.float64) / self.scale) ** -self.exponent)


#: serial pays the whole cost, pairs half of it, parallel none.
STRATEGIES = (
    Strategy("serial", serial=True),
    Strategy("pairs", serial=True, delay=0.5),
    Strategy("parallel", serial=False),
)
#: One curve per strategy; parallel gives four per-task curves (its tasks interfere unequally). Serial is the best
#: fixed strategy at low costs, pairs in the middle, parallel at high costs.
CURVES = (
    LogisticCurve(rate=0.03, midpoint=80.0),
    PowerLaw(ceiling=0.97, scale=60.0),
    (LogisticCurve(0.02, 300.0), LogisticCurve(0.02, 350.0), LogisticCurve(0.02, 400.0), PowerLaw(0.8, 300.0)),
)


def make_world(cost: float, horizon: int) -> gym.Env:
    """The custom world at one hidden cost (any LearningCurvesConfig field is a keyword of gym.make)."""
    return gym.make("tradeoff/LearningCurves-v0", strategies=STRATEGIES, curves=CURVES, cost=cost, horizon=horizon,
                    batch_size=64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a seconds-long run (CI)")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("TRADEOFF_EXAMPLES_TINY") == "1"
    horizon, costs, seeds = (150, [0.1, 0.9], [0]) if tiny else (1000, [0.1, 0.5, 0.9], [0, 1, 2])

    env = make_world(cost=0.5, horizon=horizon)
    obs, info = env.reset(seed=0)
    print(f"strategies {info['strategies']}, serial flags {info['serial']}, "
          f"cost shares {[s.delay for s in STRATEGIES]}; observation {env.observation_space.shape}")
    table = env.unwrapped.config.curve_table  # (strategies, tasks, horizon) accuracy after n picks
    after_100 = {name: round(float(acc), 3) for name, acc in zip(info["strategies"], table[:, :, 100].mean(axis=1))}
    print(f"mean accuracy after 100 picks of a strategy: {after_100}")
    print("\nbest fixed strategy by hidden cost (expected reward per trial):")
    for cost in np.linspace(0.0, 1.0, 5):
        returns = env.unwrapped.config.expected_fixed_returns(float(cost)) / horizon
        print(f"  c = {cost:.2f}: " + ", ".join(f"{s} {r:.3f}" for s, r in zip(info["strategies"], returns))
              + f"  -> {info['strategies'][int(np.argmax(returns))]}")

    rows = []
    for cost in costs:
        for seed in seeds:
            for name in AGENTS:
                env = make_world(cost, horizon)
                frame = run_episode(env, make_agent(name, env), seed)
                shares = frame.strategy.value_counts(normalize=True)
                rows.append({"cost": cost, "agent": name, "seed": seed, "mean_reward": frame.reward.mean(),
                             **{f"share_{s.name}": shares.get(s.name, 0.0) for s in STRATEGIES}})
                env.close()
    results = pd.DataFrame(rows).groupby(["cost", "agent"]).mean(numeric_only=True).drop(columns="seed")
    print(f"\nagents on the custom world (τ = {horizon}, seeds {seeds}):\n{results.round(3).to_string()}")


if __name__ == "__main__":
    main()
