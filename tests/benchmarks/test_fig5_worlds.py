"""fig5_worlds: the runs name every preset, and the cross-world ranking matches hand-computed ratios."""

import pandas as pd
import pytest

from tradeoff_gym.benchmarks.experiments import experiment_settings, load_experiment
from tradeoff_gym.benchmarks.experiments.fig5_worlds.analysis import ranking_item, world_ratios


def test_every_run_plays_its_world_and_is_tagged_with_it():
    module = load_experiment("fig5_worlds")
    specs = module.runs(experiment_settings(module, "smoke"))
    assert {s.tags["world"] for s in specs} == {"default", "balanced", "sharing"}
    assert all(s.env_kwargs["preset"] == s.tags["world"] and s.run_id.startswith(f"fig5_worlds/{s.tags['world']}/")
               for s in specs)
    with pytest.raises(ValueError, match=r"every preset must be one of \['default', 'noisy', 'balanced', 'sharing'\]"):
        module.runs({**experiment_settings(module, "smoke"), "presets": ["dial"]})


def frame(rates: dict[tuple[str, float, str, int], float]) -> pd.DataFrame:
    """Two trials per run with the given mean reward; ``rates[(world, cost, agent, seed)]``."""
    rows = []
    for (world, cost, agent, seed), rate in rates.items():
        for trial, reward in enumerate((rate - 0.1, rate + 0.1)):
            rows.append({"run_id": f"{world}/{cost}/{agent}/{seed}", "env_id": "e", "agent": agent, "seed": seed,
                         "trial": trial, "reward": reward, "serial": agent == "serial", "world": world,
                         "cost": cost})
    return pd.DataFrame(rows)


def test_the_ranking_divides_by_the_best_fixed_strategy_per_world_cost_and_seed():
    rates = {}
    for seed in (0, 1):
        rates |= {("default", 0.0, "serial", seed): 0.8, ("default", 0.0, "parallel", seed): 0.6,
                  ("default", 1.0, "serial", seed): 0.4, ("default", 1.0, "parallel", seed): 0.6,
                  ("sharing", 0.0, "serial", seed): 0.9, ("sharing", 0.0, "parallel", seed): 0.3,
                  ("sharing", 1.0, "serial", seed): 0.45, ("sharing", 1.0, "parallel", seed): 0.3}
        rates |= {("default", 0.0, "x", seed): 0.8, ("default", 1.0, "x", seed): 0.3 + 0.06 * seed,
                  ("sharing", 0.0, "x", seed): 0.72, ("sharing", 1.0, "x", seed): 0.45}
    ratios = world_ratios(frame(rates)).set_index(["agent", "world"])
    # default: c=0 x/serial = 1; c=1 x/parallel = 0.5 and 0.6 → worst 0.55 at c = 1, mean (1 + 0.55)/2.
    assert ratios.loc[("x", "default"), "worst"] == pytest.approx(0.55)
    assert ratios.loc[("x", "default"), "worst_cost"] == 1.0
    assert ratios.loc[("x", "default"), "mean"] == pytest.approx(0.775)
    # sharing: c=0 0.72/0.9 = 0.8; c=1 0.45/0.45 = 1.
    assert ratios.loc[("x", "sharing"), "worst"] == pytest.approx(0.8)
    assert ratios.loc[("serial", "default"), "worst"] == pytest.approx(0.4 / 0.6)
    text = ranking_item(frame(rates)).text
    # Means over worlds: serial (0.833 + 1) / 2, x (0.775 + 0.9) / 2, parallel (0.875 + 0.5) / 2.
    assert text.index("| serial") < text.index("| x") < text.index("| parallel")
    assert "| x | 0.775 | 0.550 (c=1) | 0.900 | 0.800 (c=0) | 0.837 | 0/2 |" in text
