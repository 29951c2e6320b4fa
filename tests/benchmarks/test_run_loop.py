import gymnasium as gym

from agents import FixedAgent
from benchmarks.run_loop import run_episode


def test_fixed_agent_runs_a_full_episode():
    env = gym.make("tradeoff/LearningCurves-v0", horizon=50)
    frame = run_episode(env, FixedAgent("serial"), seed=0)
    assert len(frame) == 50 and (frame.strategy == "serial").all()
