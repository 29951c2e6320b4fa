"""R-ed-UCB and CURE-UCB: their estimators on known curves (hand-computed) and that they learn a clearly best arm."""

import gymnasium as gym
import numpy as np
import pytest

from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.agents.rising import CumulativeRisingUCBAgent, RisingUCBAgent, _capped_linear_sum
from tradeoff_gym.benchmarks.run_loop import run_episode
from tradeoff_gym.envs.learning_curves import LogisticCurve

INFO = {"strategies": ("serial", "parallel"), "serial": (True, False), "horizon": 100, "n_tasks": 1}


def fed(agent, rewards_by_arm, rounds_played):
    """``agent`` reset and fed the rewards per arm (noise-free); its round counter set to ``rounds_played + 1``."""
    agent.reset(INFO, np.random.default_rng(0))
    for arm, rewards in enumerate(rewards_by_arm):
        for r in rewards:
            agent.observe(arm, r, np.zeros(1), {})
    agent.round = rounds_played + 1
    return agent


def test_r_ed_ucb_estimator_is_exact_on_a_linear_curve():
    # Metelli et al.: on a linear μ(l) = a + b·l the projection (t − l)·slope is exact, μ̂(t) = μ(t).
    agent = fed(RisingUCBAgent(epsilon=0.25), [0.1 + 0.01 * np.arange(1, 21), [0.5] * 8], rounds_played=39)
    assert agent.estimate(0) == pytest.approx(0.1 + 0.01 * 40)
    assert agent.estimate(1) == pytest.approx(0.5)


def test_r_ed_ucb_estimator_on_a_concave_curve_matches_the_hand_computation_and_is_optimistic():
    # μ(l) = sqrt(l), N = 8 pulls, ε = 1/4 → h = 2, round t = 10: window l = 7, 8.
    agent = fed(RisingUCBAgent(epsilon=0.25), [np.sqrt(np.arange(1, 9)), [0.0] * 3], rounds_played=9)
    s = np.sqrt
    hand = ((s(7) + (10 - 7) * (s(7) - s(5)) / 2) + (s(8) + (10 - 8) * (s(8) - s(6)) / 2)) / 2
    assert agent.estimate(0) == pytest.approx(hand, rel=1e-12)
    assert hand >= s(10)  # concave curve: the projection overestimates μ(t) (the paper's optimism)
    # bonus σ·(t − N + h − 1)·sqrt(10·α·log t / h³)
    bonus = 0.05 * (10 - 8 + 2 - 1) * np.sqrt(10 * np.log(10) / 8)
    assert agent.index(0) == pytest.approx(hand + bonus, rel=1e-12)
    assert agent.index(1) == np.inf  # 3 pulls: ⌊3/4⌋ = 0, an empty window — pulled first


def test_cure_ucb_index_is_the_capped_cumulative_projection():
    # linear-then-flat: μ(l) = 0.02·l for l = 1…20; h = 5 (ε = 1/4), slope 0.02, level at pull 20 = 0.4.
    agent = fed(CumulativeRisingUCBAgent(epsilon=0.25, sigma=0.0), [0.02 * np.arange(1, 21), [0.3] * 20],
                rounds_played=40)
    level, slope = agent.level_and_slope(0)
    assert (level, slope) == (pytest.approx(0.4), pytest.approx(0.02))
    remaining = 100 - 41 + 1  # R = τ − t + 1 = 60 trials left
    # future pulls j = 1…60: 0.4 + 0.02·j capped at 1 → j = 1…30 rise to 1.0, j = 31…60 stay at 1.0
    hand = sum(min(1.0, 0.4 + 0.02 * j) for j in range(1, remaining + 1)) / remaining
    assert agent.index(0) == pytest.approx(hand, rel=1e-12)
    assert agent.index(1) == pytest.approx(0.3)
    # horizon-aware: with only 5 trials left the early peaker (flat 0.5) beats the riser
    late = fed(CumulativeRisingUCBAgent(epsilon=0.25, sigma=0.0), [0.02 * np.arange(1, 21), [0.5] * 20],
               rounds_played=95)
    assert late.index(1) > late.index(0)
    assert agent.index(0) > 0.5  # with 60 left, the riser wins


@pytest.mark.parametrize(("first", "step", "count", "cap"), [(0.2, 0.1, 20, 1.0), (1.2, 0.1, 5, 1.0),
                                                             (0.0, 0.0, 3, 1.0), (0.1, 0.3, 4, None)])
def test_capped_linear_sum_matches_the_loop(first, step, count, cap):
    loop = sum(first + step * j if cap is None else min(cap, first + step * j) for j in range(count))
    assert _capped_linear_sum(first, step, count, cap) == pytest.approx(loop)


# Both papers assume concave curves; a logistic curve with its midpoint at pick 0 is concave for every pick.
# Clearly best: (a) c = 0, serial 0.5 → 1 within ~150 picks, parallel flat at 0.5; (b) c = 1, serial flat at
# 0.25, parallel 0.5 → 1. R-ed-UCB's bonus grows with the projection distance t − N, so the less-pulled arm
# keeps being revisited (its regret is O(T^2/3)): at τ = 1000 it plays the best arm on 0.58–0.68 of the second
# half (0.7–0.76 at τ = 3000), CURE-UCB on 1.0. (On sigmoids still in their convex part R-ed-UCB's projected
# slope overshoots 1 and prefers the riser: serial 0.23 of the second half when parallel rises 300 picks later.)
CONCAVE = {
    "serial": {"cost": 0.0, "curves": (LogisticCurve(0.03, 0.0), LogisticCurve(0.0, 0.0))},
    "parallel": {"cost": 1.0, "curves": (LogisticCurve(0.0, 0.0), LogisticCurve(0.03, 0.0))},
}
SHARE = {"r-ed-ucb": 0.55, "cure-ucb": 0.9}


@pytest.mark.parametrize("name", sorted(SHARE))
@pytest.mark.parametrize("best", sorted(CONCAVE))
def test_rising_bandits_learn_a_clearly_best_strategy(name, best):
    env = gym.make("tradeoff/LearningCurves-v0", horizon=1000, **CONCAVE[best])
    for seed in range(2):
        agent = make_agent(name, env)
        assert agent.name == name
        frame = run_episode(env, agent, seed)
        share = (frame[frame.trial >= 500].strategy == best).mean()
        assert share >= SHARE[name], (name, seed, share)


def test_hyperparameters_are_validated_and_nonfinite_rewards_refused():
    with pytest.raises(ValueError, match=r"epsilon must lie in \(0.0, 0.5\], got 0.7"):
        RisingUCBAgent(epsilon=0.7)
    with pytest.raises(ValueError, match="sigma must lie in"):
        CumulativeRisingUCBAgent(sigma=-1.0)
    with pytest.raises(TypeError):
        RisingUCBAgent(0.1)  # keyword-only
    agent = RisingUCBAgent()
    agent.reset(INFO, np.random.default_rng(0))
    with pytest.raises(ValueError, match="reward must be a finite number"):
        agent.observe(0, float("nan"), np.zeros(1), {})
