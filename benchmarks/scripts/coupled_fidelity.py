"""The per-world fidelity table of shipped coupled surrogates, from their calibration files and the neural schedules.

Why: ``fit_coupled`` reports each fit's fidelity as it fits; this script prints one markdown row per family world
from what ships (``envs/data/coupled/<family>-w<i>.json``: the fit's R², c* and look-rule Spearman) plus two
numbers recomputed from the neural trajectories the fit read (``sp_frontier``'s files): the R² that seed 0's own
250-trial blocks reach on seed 1's (what a perfect fit to the fit seed would score — the yardstick of the R² target)
and the worst per-schedule RMSE of the surrogate's 250-trial blocks against the held-out seed's. Columns as in
docs/findings/coupled-curves.md::

    python -m tradeoff_gym.benchmarks.scripts.coupled_fidelity --family sp-mixed --worlds 0-23 \\
        --trajectories results/sp_frontier
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tradeoff_gym.benchmarks.scripts.family_crossover import data_path
from tradeoff_gym.benchmarks.scripts.fit_coupled import block_means, r_squared, schedule_actions, trajectory_arrays
from tradeoff_gym.envs.coupled_curves import CALIBRATION_DIR, load_calibration, simulate
from tradeoff_gym.envs.families import SP_MIXED_STRATA, get_family, worlds

#: The report's block (trials) and the R² target.
BLOCK, TARGET = 250, 0.9


def recomputed(params, arrays: dict[str, np.ndarray], fit_seed: int, test_seed: int,
               block: int = BLOCK) -> tuple[list[float], list[float]]:
    """Per schedule of ``arrays`` (:func:`trajectory_arrays`): the R² of the fit seed's ``block``-trial means as a
    prediction of the test seed's (the yardstick), and the RMSE of the surrogate ``params``' expected block means
    against the test seed's."""
    names = [str(n) for n in arrays["schedules"]]
    neural = block_means(arrays["accuracy"].astype(np.float64), block)  # (seeds, schedules, blocks)
    actions = np.stack([schedule_actions(n, int(arrays["horizon"])) for n in names])
    surrogate = block_means(simulate(params, actions, both=False), block)  # (schedules, blocks)
    own = [r_squared(neural[test_seed, s], neural[fit_seed, s]) for s in range(len(names))]
    rmse = [float(np.sqrt(np.mean((neural[test_seed, s] - surrogate[s]) ** 2))) for s in range(len(names))]
    return own, rmse


def world_row(family: str, world: int, trajectories: Path, cstar: dict[int, float]) -> dict[str, str]:
    """One world's row (strings, as printed)."""
    path = CALIBRATION_DIR / f"{family}-w{world}.json"
    if not path.exists():
        raise ValueError(f"no shipped surrogate {path.name} for world {world}; fit it with fit_coupled --trajectories "
                         f"(docs/findings/coupled-curves.md)")
    params, document = load_calibration(path)  # document: the fit's record beside the params
    fidelity, fit = document["fidelity"], document["fit"]
    r2 = {row["schedule"]: row["r2_test_seeds"] for row in fidelity["r2"]}
    held = [row["schedule"] for row in fidelity["r2"] if row["role"] == "held-out schedule"]
    arrays = trajectory_arrays(trajectories / f"{family}_w{world}_h{document['horizon']}_s0-1")
    seeds = list(arrays["seeds"])
    own, rmse = recomputed(params, arrays, seeds.index(fit["seeds"][0]), seeds.index(fidelity["test_seeds"][0]))
    values = list(r2.values())
    c = fidelity["c_star"]
    spearman = fidelity["look_rules_spearman"]
    return {
        "world": str(world),
        "stratum": SP_MIXED_STRATA[world % len(SP_MIXED_STRATA)]["label"] if family == "sp-mixed" else "",
        "start (fit s)": f"{fit['start']} ({fit['seconds']:.0f})",
        "R² held-out seed: min / median (≥ 0.9 of n)": f"{min(values):.2f} / {np.median(values):.2f} "
                                                       f"({sum(v >= TARGET for v in values)} of {len(values)})",
        "held-out schedules": ", ".join(f"`{n}` {r2[n]:.2f}" for n in sorted(held, reverse=True)),
        "seed 0's own blocks → seed 1: min / median": f"{min(own):.2f} / {np.median(own):.2f}",
        "worst RMSE (250 trials)": f"{max(rmse):.3f}",
        "c* surrogate": f"{c['surrogate']:.3f}", "neural seeds 0–1": f"{c['neural_all']:.3f}",
        "neural 5 seeds": f"{cstar[world]:.3f}" if world in cstar else "",
        "within ±0.05 of 5 seeds": ("yes" if abs(c["surrogate"] - cstar[world]) <= 0.05 else "no")
                                    if world in cstar else "",
        "look rules Spearman: seeds 0–1 / seed 1": f"{spearman['all seeds']:.2f} / {spearman['test seeds']:.2f}",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="sp-mixed")
    parser.add_argument("--worlds", default="train", help="worlds with a shipped surrogate (default: the train split)")
    parser.add_argument("--trajectories", type=Path, default=Path("results/sp_frontier"),
                        help="the folder of sp_frontier's trajectory files the fits read")
    args = parser.parse_args(argv)
    try:
        family = get_family(args.family)
        chosen = worlds(family, args.worlds)
    except ValueError as error:
        parser.error(str(error))
    table = data_path(family.name)
    cstar = pd.read_csv(table).set_index("world")["c_star"].to_dict() if table.exists() else {}
    try:
        rows = [world_row(family.name, w, args.trajectories, cstar) for w in chosen]
    except ValueError as error:
        parser.error(str(error))
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
