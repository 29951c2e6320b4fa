"""Every learning agent handles S > 2 strategies: on a table of six schedules (cost shares 0 … 1, as Multitask's), each
finds the clearly best one, a partial schedule in the middle of the table."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents import RandomAgent
from tradeoff_gym.agents.registry import AGENTS, make_agent
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.interface import Strategy

LC = "tradeoff/LearningCurves-v0"
@dataclass(frozen=True)
class Saturating:
    """``start + (ceiling − start)·(1 − exp(−n / scale))``: a concave learning curve (the rising bandits'
    assumption)."""

    start: float
    ceiling: float
    scale: float

    def __call__(self, n: np.ndarray) -> np.ndarray:
        rise = 1.0 - np.exp(-np.asarray(n, dtype=np.float64) / self.scale)
        return self.start + (self.ceiling - self.start) * rise


#: Six schedules with cost shares 0, 0.2, …, 1 at c = 1, as Multitask's table. The two cheapest learn too slowly
#: to pay within τ (0.33 and 0.38 per trial after 1500 picks; slow rises rather than low ceilings, so that Sagiv's
#: logistic family, whose ceiling is 1, can describe them); strategy 2 (d = 0.4) learns fastest of the rest, so
#: it is best at every pick count and, after a few picks, against any other's history — clearly best even for a
#: stationary bandit.
SIX = {
    "strategies": tuple(
        Strategy("parallel" if d == 0 else ("serial" if d == 1 else f"partial-{i}"), serial=d > 0, delay=d)
        for i, d in enumerate((0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
    ),
    "curves": tuple(
        Saturating(start, ceiling, scale)
        for start, ceiling, scale in (
            (0.1, 1.0, 5000.0), (0.1, 1.0, 3000.0), (0.5, 1.0, 30.0), (0.5, 1.0, 60.0), (0.5, 1.0, 80.0),
            (0.5, 1.0, 100.0),
        )
    ),
    "horizon": 1500,
    "cost": 1.0,
}
BEST = 2
#: Every agent that learns from rewards; the navigator and the rising bandits when registered.
LEARNING_AGENTS = [
    name for name in ("ucb1", "epsilon-greedy", "sw-ucb", "gaussian-ts", "r-ed-ucb", "cure-ucb", "navigator",
                      "meta-learner", "sagiv")
    if name in AGENTS
]
SLOW = {"meta-learner", "navigator", "sagiv"}
#: Agents that do not learn this instance within τ (kept in the table so a change shows; see the lead's notes).
NOT_LEARNING = {
    "r-ed-ucb": "explores all six arms uniformly for the whole episode at τ = 1500 (with two arms it barely "
                "separates either: its exploration bonus dominates the window's estimate)",
}


def test_the_instance_has_a_clearly_best_partial_schedule():
    env = gym.make(LC, **SIX)
    returns = env.unwrapped.config.expected_fixed_returns(1.0) / SIX["horizon"]
    assert int(np.argmax(returns)) == BEST
    assert returns[BEST] - np.sort(returns)[-2] > 0.09  # 0.71 against 0.61 per trial


#: Agents that end on the best schedule but pay for a long exploration on the way (measured on this instance).
LONG_EXPLORATION = {
    "sagiv": "its logistic curves (ceiling 1) extrapolate a cheap schedule's slow rise to a high ceiling, so it "
             "plays one for 200-550 of the first 1000 trials (reward rate 0.39-0.46, random 0.39), then 0.9 of "
             "the last 500 trials go to the best",
}


def _marks(name: str) -> list:
    marks = [pytest.mark.slow] if name in SLOW else []
    if name in NOT_LEARNING:
        marks.append(pytest.mark.xfail(reason=NOT_LEARNING[name], strict=False))
    return marks


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in LEARNING_AGENTS])
def test_agent_learns_the_clearly_best_of_six_schedules(name):
    env = gym.make(LC, **SIX)
    agent = make_agent(name, env)
    seeds = range(1 if name in SLOW else 2)  # the slow agents take 5-20 s an episode
    frames = [run_episode(env, agent, seed) for seed in seeds]
    random = np.mean([run_episode(env, RandomAgent(), seed).reward.mean() for seed in seeds])
    best = env.unwrapped.config.expected_fixed_returns(1.0).max() / SIX["horizon"]
    rate = np.mean([f.reward.mean() for f in frames])
    last_third = np.concatenate([f.action.to_numpy()[-SIX["horizon"] // 3 :] for f in frames])
    shares = np.bincount(last_third, minlength=6) / len(last_third)
    # It plays the best schedule more than any other by the end, and earns clearly more than a random choice
    # (margins measured: the stationary bandits close 35-95 % of the gap from random to the best fixed schedule,
    # sliding windows and CURE's projections keep exploring the others).
    assert int(np.argmax(shares)) == BEST, (name, shares.round(2))
    if name in LONG_EXPLORATION:
        assert shares[BEST] >= 0.8, (name, shares.round(2))
    else:
        assert rate >= random + 0.25 * (best - random), (name, rate, random, best)


@pytest.mark.slow
def test_sb3_policies_act_in_discrete_s_and_ppo_learns_the_best_of_six():
    env = gym.make(LC, **SIX)
    agent = make_agent(
        "sb3-ppo", env, timesteps=6_000, train_cost=None, n_envs=2, hyperparams={"n_steps": 600, "batch_size": 300}
    )
    assert agent.action_probabilities(env.reset(seed=0)[0]).shape == (6,)
    frames = [run_episode(env, agent, seed) for seed in range(2)]
    assert np.mean([(f.action.to_numpy()[-500:] == BEST).mean() for f in frames]) > 0.6
