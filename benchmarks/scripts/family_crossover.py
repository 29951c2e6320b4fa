"""Each world's crossover cost c* in a SerialParallel world family: the family's data file.

    python -m tradeoff_gym.benchmarks.scripts.family_crossover --family sp-mixed [--seeds 5] [--horizon 5000]
        [--worlds all|train|test|0-19] [--jobs 1] [--out envs/data/sp-mixed_cstar.csv] [--report]

For each world (``gym.make(id, family=NAME, world=i)``) it plays ``--seeds`` always-serial and ``--seeds``
always-parallel episodes at c = 0 in one vector-env batch (seed s = root seed s, so a pair shares its world, data
and initial network) and computes, with the paper's rule (serial pays ÷ (1 + c)), c* = serial's mean raw accuracy
÷ parallel's − 1 with a 95 % bootstrap CI over seeds — :func:`tradeoff_gym.benchmarks.scripts.crossover_study.play`
and :func:`~tradeoff_gym.benchmarks.scripts.crossover_study.crossover`. A world's row is appended to the CSV
(rewritten atomically) as soon as it ends, so a stopped run resumes: worlds already in the file at the same
``seeds`` and ``horizon`` are skipped. Default output: the family's data file in the installed package
(``tradeoff_gym/envs/data/<family>_cstar.csv``). ``--jobs N`` plays N worlds at once (one process and one torch
thread each). ``--report`` prints the file's rows at that scale as the markdown table and histogram of
docs/findings/families.md, measuring nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tradeoff_gym.benchmarks.scripts.crossover_study import crossover, play
from tradeoff_gym.envs.families import DATA_DIR, get_family, worlds

#: Columns of a family's c* file, one row per (world, seeds, horizon).
COLUMNS = ("family", "world", "split", "c_star", "ci_low", "ci_high", "serial_raw", "parallel_raw", "seeds",
           "horizon", "serial_by_seed", "parallel_by_seed", "settings", "seconds")


def data_path(family: str) -> Path:
    """The family's shipped c* file: ``tradeoff_gym/envs/data/<family>_cstar.csv``."""
    return DATA_DIR / f"{family}_cstar.csv"


def measure(family: str, world: int, seeds: int, horizon: int) -> dict:
    """One world's row: c* with its 95 % bootstrap CI, mean raw accuracies, per-seed means, its settings."""
    torch.set_num_threads(1)
    fam = get_family(family)
    start = time.perf_counter()
    frame = play({"family": family, "world": world}, seeds, horizon)
    estimate, low, high = crossover(frame)
    by_seed = frame.groupby(["agent", "seed"]).raw_accuracy.mean().unstack("agent")
    split = "train" if world in fam.train else "test"
    return {"family": family, "world": world, "split": split, "c_star": estimate, "ci_low": low, "ci_high": high,
            "serial_raw": float(by_seed["serial"].mean()), "parallel_raw": float(by_seed["parallel"].mean()),
            "seeds": seeds, "horizon": horizon,
            "serial_by_seed": json.dumps([round(float(v), 6) for v in by_seed["serial"]]),
            "parallel_by_seed": json.dumps([round(float(v), 6) for v in by_seed["parallel"]]),
            "settings": json.dumps(fam.settings(world)), "seconds": round(time.perf_counter() - start, 1)}


def read_table(path: Path) -> pd.DataFrame:
    """The c* file at ``path`` (empty with :data:`COLUMNS` when absent)."""
    if path.exists():
        return pd.read_csv(path)
    return pd.DataFrame(columns=list(COLUMNS))


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (a temporary file beside it, then a rename), sorted by world."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.sort_values(["horizon", "seeds", "world"]).reset_index(drop=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w") as file:
        table.to_csv(file, index=False, float_format="%.6g")
    os.replace(temporary, path)


def bands(c_star: np.ndarray) -> dict[str, float]:
    """Share of worlds whose c* lies in [0, 0.2), [0.2, 0.5), [0.5, 0.8] (and outside them)."""
    c = np.asarray(c_star, dtype=float)
    shares = {"[0, 0.2)": (c >= 0) & (c < 0.2), "[0.2, 0.5)": (c >= 0.2) & (c < 0.5),
              "[0.5, 0.8]": (c >= 0.5) & (c <= 0.8)}
    out = {name: float(mask.mean()) if len(c) else float("nan") for name, mask in shares.items()}
    out["outside"] = 1.0 - sum(out.values()) if len(c) else float("nan")
    return out


def report(table: pd.DataFrame) -> str:
    """Markdown: one row per world (c* with its CI, raw accuracies, settings) and the band shares with a text
    histogram (bins of 0.1) — what docs/findings/families.md shows."""
    lines = ["| world | split | c* [95 % CI] | serial | parallel | seeds | τ | settings |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in table.sort_values("world").itertuples():
        settings = ", ".join(f"{k} {v}" for k, v in json.loads(row.settings).items())
        lines.append(f"| {row.world} | {row.split} | {row.c_star:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] | "
                     f"{row.serial_raw:.3f} | {row.parallel_raw:.3f} | {row.seeds} | {row.horizon} | {settings} |")
    shares = bands(table.c_star.to_numpy())
    lines += ["", "band shares: " + ", ".join(f"{k} {v:.2f}" for k, v in shares.items()) + f" ({len(table)} worlds)",
              "", "```"]
    edges = np.round(np.arange(-0.1, 1.0, 0.1), 1)
    counts, _ = np.histogram(table.c_star.clip(-0.1, 0.9999), bins=np.append(edges, 1.0))
    lines += [f"[{lo:4.1f}, {lo + 0.1:4.1f})  {'#' * n} {n}" for lo, n in zip(edges, counts)] + ["```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Measure the worlds not yet in the file and print each row, then the band shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True, help="a SerialParallel world family (tradeoff_gym.envs.families)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0…n−1 per strategy (default 5)")
    parser.add_argument("--horizon", type=int, default=5000, help="τ (default 5000)")
    parser.add_argument("--worlds", default="all", help="train, test, all, i-j or a comma list (default all)")
    parser.add_argument("--jobs", type=int, default=1, help="worlds played at once, one process each (default 1)")
    parser.add_argument("--out", default=None, help="CSV (default: the family's data file in the package)")
    parser.add_argument("--report", action="store_true", help="print the file's table (markdown) and exit")
    args = parser.parse_args(argv)
    family = get_family(args.family)
    if family.env_id != "tradeoff/SerialParallel-v0":
        raise SystemExit(f"--family must be a SerialParallel family, got {args.family!r} ({family.env_id})")
    path = Path(args.out) if args.out else data_path(family.name)
    table = read_table(path)
    if args.report:
        print(report(table[(table.seeds == args.seeds) & (table.horizon == args.horizon)]))
        return
    done = set(table.loc[(table.seeds == args.seeds) & (table.horizon == args.horizon), "world"].astype(int))
    todo = [w for w in worlds(family, args.worlds) if w not in done]
    print(f"{family.name}: {len(todo)} worlds to measure ({len(done)} already in {path}), {args.seeds} seeds, "
          f"τ = {args.horizon}", flush=True)
    with ProcessPoolExecutor(max(1, args.jobs), mp_context=get_context("forkserver")) as pool:
        futures = [pool.submit(measure, family.name, w, args.seeds, args.horizon) for w in todo]
        for future in as_completed(futures):
            row = future.result()
            table = pd.concat([read_table(path), pd.DataFrame([row])], ignore_index=True)
            write_table(table, path)
            print(f"world {row['world']:>3} ({row['split']}): serial {row['serial_raw']:.3f}  parallel "
                  f"{row['parallel_raw']:.3f}  c* = {row['c_star']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
                  f"  ({row['seconds']:.0f} s)", flush=True)
    final = read_table(path)
    final = final[(final.seeds == args.seeds) & (final.horizon == args.horizon)]
    print("band shares:", {k: round(v, 3) for k, v in bands(final.c_star.to_numpy()).items()}, f"({len(final)} worlds)")


if __name__ == "__main__":
    main()
