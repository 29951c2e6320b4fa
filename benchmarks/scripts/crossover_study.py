"""What sets the crossover cost c*: always-serial vs always-parallel on SerialParallel-v0 as one setting varies.

For each value of one env setting (``--knob NAME=V1,V2,…``; any SerialParallel setting by name, e.g. ``lr``,
``input_noise``, ``batch_size``, ``beta``, ``task_init``, ``hidden_units``, ``preset``), in the world ``--preset``
(default ``default``; the knob overrides the preset's own value of it), it plays ``--seeds`` always-serial and
``--seeds`` always-parallel episodes at c = 0 in one batch on the vector env (seed s: the sweep's root seed s, so
a pair shares its world, data and initial network) and computes, with the paper's rule (serial pays ÷ (1 + c)),

    c* = mean raw accuracy of serial / mean raw accuracy of parallel − 1,

with a 95 % bootstrap CI over seeds (c* ≤ 0: parallel pays more at every cost). Each value's per-trial raw
accuracies are kept (``DIR/[<preset>-]<knob>=<value>_s<seeds>_h<horizon>.parquet``) as soon as its batch
ends, so a stopped study resumes; the table (``DIR/crossover.csv``, printed) and a figure of the learning
curves per value (``DIR/crossover_[<preset>-]<knob>.png``) are written at the end.

    python -m tradeoff_gym.benchmarks.scripts.crossover_study --knob lr=0.00025,0.0005,0.001 --seeds 5 --out cstar
    python -m tradeoff_gym.benchmarks.scripts.crossover_study --preset balanced --knob input_noise=0,0.2 --out cstar
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.benchmarks.analysis import save_figure
from tradeoff_gym.benchmarks.run_loop import run_episodes

ENV_ID = "tradeoff/SerialParallel-v0"


def parse_knob(text: str) -> tuple[str, list]:
    """``name=v1,v2`` → (name, values): the values as one JSON list when they parse (``lr=0.1,0.2``,
    ``hidden_units=[32,32],[64]``, ``use=true,false``), else comma-separated bare strings (``task_init=small``)."""
    name, sep, values = text.partition("=")
    if not sep or not name or not values:
        raise SystemExit(f"--knob must be NAME=V1,V2,…, got {text!r}")
    try:
        return name, list(json.loads(f"[{values}]"))
    except json.JSONDecodeError:
        return name, values.split(",")


def play(settings: dict, seeds: int, horizon: int) -> pd.DataFrame:
    """Always-serial and always-parallel episodes (``seeds`` each, seeds 0…) at c = 0 with the env ``settings``
    (e.g. ``{"preset": "balanced", "lr": 1e-3}``); one batch. Columns agent, seed, trial, raw_accuracy."""
    settings = {**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}, "horizon": horizon,
                "cost": 0.0}
    vector = gym.make_vec(ENV_ID, num_envs=2 * seeds, vectorization_mode="vector_entry_point", **settings)
    names = ["serial"] * seeds + ["parallel"] * seeds
    agents = [make_agent(name, vector.sub_env(k)) for k, name in enumerate(names)]
    frames = run_episodes(vector, agents, [*range(seeds), *range(seeds)], agent_names=names, env_id=ENV_ID)
    vector.close()
    return pd.concat(frames, ignore_index=True)[["agent", "seed", "trial", "raw_accuracy"]]


def crossover(frame: pd.DataFrame, resamples: int = 2000) -> tuple[float, float, float]:
    """c* and its 95 % bootstrap CI over seeds from one value's episodes."""
    means = frame.groupby(["agent", "seed"]).raw_accuracy.mean().unstack("agent")  # seeds × {serial, parallel}
    serial, parallel = means["serial"].to_numpy(), means["parallel"].to_numpy()
    rng = np.random.default_rng(0)
    draws = rng.integers(len(means), size=(resamples, len(means)))
    boot = serial[draws].mean(1) / parallel[draws].mean(1) - 1.0
    low, high = np.quantile(boot, [0.025, 0.975])
    return float(serial.mean() / parallel.mean() - 1.0), float(low), float(high)


def figure(frames: dict[str, pd.DataFrame], knob: str, path: Path, window: int = 250) -> Path:
    """Raw accuracy (``window``-trial blocks, mean over seeds) vs trial: serial dashed, parallel solid, per value."""
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7.5, 4.2))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(frames)))
    for color, (value, frame) in zip(colors, frames.items()):
        blocks = frame.assign(block=frame.trial // window * window + window / 2)
        curve = blocks.groupby(["agent", "block"]).raw_accuracy.mean()
        for agent, style in (("serial", "--"), ("parallel", "-")):
            axis.plot(curve[agent].index, curve[agent].to_numpy(), style, color=color,
                      label=f"{knob}={value} {agent}")
    axis.set(xlabel="trial", ylabel=f"raw accuracy ({window}-trial blocks, mean over seeds)", ylim=(0, 1),
             title=f"always-serial (dashed) vs always-parallel (solid), by {knob}")
    axis.legend(fontsize=7, ncol=2, loc="lower right")
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    """Run the study and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knob", required=True, help="NAME=V1,V2,… (JSON values, e.g. hidden_units=[32,32],[64,64])")
    parser.add_argument("--preset", default="default", help="the world the knob varies in (a SerialParallel preset)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=5000)
    parser.add_argument("--out", default="results/crossover")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    knob, values = parse_knob(args.knob)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    world = "" if args.preset == "default" else f"{args.preset}-"  # names kept from before presets stay valid
    frames, rows = {}, []
    for value in values:
        path = out / f"{world}{knob}={value}_s{args.seeds}_h{args.horizon}.parquet".replace(" ", "")
        if path.exists():
            frame = pd.read_parquet(path)
        else:
            frame = play({"preset": args.preset, knob: value}, args.seeds, args.horizon).assign(value=str(value))
            frame.to_parquet(path, index=False)
        frames[str(value)] = frame
        estimate, low, high = crossover(frame)
        raw = frame.groupby("agent").raw_accuracy.mean()
        rows.append({"preset": args.preset, "knob": knob, "value": str(value), "serial_raw": raw["serial"],
                     "parallel_raw": raw["parallel"],
                     "c_star": estimate, "ci_low": low, "ci_high": high, "seeds": args.seeds,
                     "horizon": args.horizon})
        print(f"{world}{knob}={value}: serial {raw['serial']:.3f}  parallel {raw['parallel']:.3f}  "
              f"c* = {estimate:.3f} [{low:.3f}, {high:.3f}]", flush=True)
    table = pd.DataFrame(rows)
    csv = out / "crossover.csv"
    if csv.exists():  # earlier knobs' rows stay; a value measured again replaces its row
        earlier = pd.read_csv(csv, dtype={"value": str})
        if "preset" not in earlier:  # tables written before presets hold the default world's knobs
            earlier.insert(0, "preset", "default")
        table = pd.concat([earlier, table]).drop_duplicates(["preset", "knob", "value", "seeds", "horizon"],
                                                           keep="last")
    table.to_csv(csv, index=False)
    print(figure(frames, f"{world}{knob}", out / f"crossover_{world}{knob}.png"))
    worlds = cstar_figure(table[(table.knob == knob) & (table.horizon == args.horizon)], knob,
                          out / f"cstar_by_{knob}.png")
    if worlds is not None:
        print(worlds)


def cstar_figure(table: pd.DataFrame, knob: str, path: Path) -> Path | None:
    """c* with its CI against a numeric knob's value, one line per preset measured (rows of ``crossover.csv``);
    ``None`` when the values are not numbers."""
    import matplotlib.pyplot as plt

    values = pd.to_numeric(table.value, errors="coerce")
    if table.empty or values.isna().any():
        return None
    fig, axis = plt.subplots(figsize=(6, 4))
    for preset, rows in table.assign(x=values).sort_values("x").groupby("preset", sort=False):
        line = axis.plot(rows.x, rows.c_star, "o-", label=f"{preset} ({rows.seeds.iloc[0]} seeds)")[0]
        axis.fill_between(rows.x, rows.ci_low, rows.ci_high, color=line.get_color(), alpha=0.2)
    axis.axhline(0, color="grey", lw=0.8)
    axis.set(xlabel=knob, ylabel="crossover cost c* (95 % CI over seeds)",
             title=f"SerialParallel-v0: c* by {knob}, per world (τ = {table.horizon.iloc[0]})")
    axis.legend(fontsize=8)
    return save_figure(fig, path)


if __name__ == "__main__":
    main()
