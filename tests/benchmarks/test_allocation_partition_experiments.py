"""The science of the allocation and partition_search experiments at their smoke scales.

(Their end-to-end runs through the CLI, report and scoreboard are in test_experiments.py, which runs every
discovered experiment at smoke scale.)
"""

import gymnasium as gym
import pandas as pd

from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.experiments import experiment_names, experiment_settings, load_experiment
from tradeoff_gym.benchmarks.experiments.allocation.analysis import relatedness_runs, transfer_table
from tradeoff_gym.benchmarks.experiments.partition_search.analysis import final_rates
from tradeoff_gym.benchmarks.experiments.partition_search.search_env import ENV_ID as SEARCH_ENV
from tradeoff_gym.benchmarks.experiments.partition_search.sweep import FIXED
from tradeoff_gym.benchmarks.run_loop import run_episode


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
    """Gumbel-Matrix: sharing helps related tasks (ρ = 1) and hurts unrelated ones (ρ = 0); learned allocation lets the
    related pair share more of its components than the unrelated pair."""
    module = load_experiment("allocation")
    specs = [s for s in module.runs(experiment_settings(module, "smoke")) if s.tags["part"] == "relatedness"]
    table = transfer_table(relatedness_runs(play(specs))).set_index("ρ")
    gain = table["sharing gain (separate − shared)"]
    assert gain[1.0] > 0.1 and gain[0.0] < -0.1, gain
    assert table.loc[1.0, "gain CI low"] > 0 and table.loc[0.0, "gain CI high"] < 0
    shared = table["learned: share of components the pair shares"]
    assert shared[1.0] >= shared[0.0] + 0.5, shared


def test_both_experiments_are_listed():
    assert {"allocation", "partition_search"} <= set(experiment_names())


TINY = {"image_size": 16, "grid": 2, "sprite_size": 7, "batch_size": 16, "gps_units": 16, "conv_channels": (4, 8),
        "hidden_units": (32,), "generations": 3, "population": 2, "trials": 3, "final_trials": 3, "final_seeds": 1}


def test_a_search_replays_bit_identically_and_keeps_its_best_candidate():
    frames = [play([RunSpec("s", SEARCH_ENV, FIXED, 4, {**TINY, "method": "random"}, {"strategy": "search"})])
              for _ in range(2)]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    frame = frames[0]
    assert (frame.reward.diff().dropna() >= 0).all(), "random search's incumbent is the best scored so far"
    assert (frame.reward >= frame.generation_best - 1e-12).all()
    assert list(frame.evaluations) == [2.0, 4.0, 6.0]
    p = frame[[c for c in frame.columns if c.startswith("p_")]].to_numpy()
    assert ((0 <= p) & (p <= 1)).all() and (frame.capacity >= 0.125 - 1e-9).all()
    finals = [c for c in frame.columns if c.startswith("final_")]
    assert frame[finals].iloc[:-1].isna().all().all() and len(finals) == 10  # found + 4 references, 2 strategies


def test_partition_search_smoke_runs_test_both_searches_on_the_same_held_out_seeds():
    """ES moves its centre; both methods' runs of a seed report the found partition, the first also the references,
    all trained on the held-out seeds that seed determines."""
    module = load_experiment("partition_search")
    specs = module.runs(experiment_settings(module, "smoke"))
    assert {s.tags["method"] for s in specs} == {"random", "es"}
    frame = play(specs)
    rates = final_rates(frame)
    assert set(rates.condition) == {"found by random", "found by es", "overlap 0", "overlap 0.5", "overlap 1",
                                    "learned gates"}
    assert rates.groupby(["condition", "strategy"]).size().eq(1).all(), "references are trained once per seed"
    es = frame[frame.method == "es"]
    assert es.p_01.nunique() > 1 or es.p_00.nunique() > 1, "ES moves its centre"
    scores = module.score(frame)
    assert scores.score.is_monotonic_decreasing and set(scores.agent) <= {"serial", "parallel"}
