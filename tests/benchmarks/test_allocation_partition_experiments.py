"""The science of the allocation and partition_search experiments at their smoke scales.

(Their end-to-end runs through the CLI, report and scoreboard are in test_experiments.py, which runs every
discovered experiment at smoke scale.)
"""

import gymnasium as gym
import pandas as pd

from agents.registry import make_agent
from benchmarks.experiments import experiment_settings, load_experiment
from benchmarks.experiments.allocation.analysis import relatedness_runs, transfer_table
from benchmarks.run_loop import run_episode


def play(specs) -> pd.DataFrame:
    """Every spec's episode through the one run loop, tagged as the runner tags it."""
    frames = []
    for spec in specs:
        env = gym.make(spec.env_id, **spec.env_kwargs)
        agent = make_agent(spec.agent, env, **spec.agent_kwargs)
        frame = run_episode(env, agent, spec.seed, run_id=spec.run_id, env_id=spec.env_id, agent_name=spec.agent)
        frames.append(frame.assign(**spec.tags))
    return pd.concat(frames, ignore_index=True)


def test_relatedness_check_has_the_seeds_sign_at_smoke_scale():
    """002 §II: sharing helps related tasks (ρ = 1) and hurts unrelated ones (ρ = 0); learned allocation lets the
    related pair share more of its components than the unrelated pair."""
    module = load_experiment("allocation")
    specs = [s for s in module.runs(experiment_settings(module, "smoke")) if s.tags["part"] == "relatedness"]
    table = transfer_table(relatedness_runs(play(specs))).set_index("ρ")
    gain = table["sharing gain (separate − shared)"]
    assert gain[1.0] > 0.1 and gain[0.0] < -0.1, gain
    assert table.loc[1.0, "gain CI low"] > 0 and table.loc[0.0, "gain CI high"] < 0
    shared = table["learned: share of components the pair shares"]
    assert shared[1.0] >= shared[0.0] + 0.5, shared
