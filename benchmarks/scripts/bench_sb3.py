"""Report: an SB3 policy vs the model-based meta-learner (or the classic bandits) vs the oracle on LearningCurves.

Trains one policy (``--algo``, ``--timesteps``) on LearningCurves with the cost drawn from (0, 1) per
episode, then plays every agent through :func:`tradeoff_gym.benchmarks.run_loop.run_episode` at each evaluation cost
and seed. Writes to ``--out``: ``policy.zip`` (+ ``.json``), ``episodes.csv`` (one row per episode),
``sb3_vs_oracle.png`` and ``report.md`` (table: mean return, fraction of oracle, share of serial trials;
training wall time; the command).

    python -m tradeoff_gym.benchmarks.scripts.bench_sb3 --out results/sb3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import sys
import time
from pathlib import Path

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402

from tradeoff_gym.agents.registry import agent_names, make_agent  # noqa: E402
from tradeoff_gym.agents.sb3 import SB3Agent  # noqa: E402
from tradeoff_gym.agents.sb3_training import SB3TrainConfig, load_policy, metadata_path, save_policy, train_policy  # noqa: E402
from tradeoff_gym.benchmarks.run_loop import run_episode  # noqa: E402
from tradeoff_gym.envs.common import check_cost, check_positive_int  # noqa: E402
from tradeoff_gym.envs.learning_curves import LogisticCurve  # noqa: E402

ENV_ID = "tradeoff/LearningCurves-v0"
#: Compared when the meta-learner is not registered (yet): the classic bandits.
FALLBACK_AGENTS: tuple[str, ...] = ("ucb1", "gaussian-ts", "sw-ucb")
#: Always compared: the fixed strategies and the oracle (best fixed strategy for the hidden cost).
REFERENCE_AGENTS: tuple[str, ...] = ("serial", "parallel", "oracle")


def comparison_agents(requested: list[str] | None) -> list[str]:
    """Agents to compare with the policy: ``requested``, else the meta-learner (+ UCB1), else the classic bandits.

    The meta-learner is taken by its registered name, or as ``tradeoff_gym.agents.meta_learner:MetaLearnerAgent`` when
    its
    module exists but is not registered yet.
    """
    if requested:
        unknown = sorted(a for a in set(requested) - set(agent_names()) if ":" not in a)
        if unknown:
            raise ValueError(f"agents must be registered names {agent_names()} or module:Class, got {unknown}")
        return list(requested)
    if "meta-learner" in agent_names():
        return ["meta-learner", "ucb1"]
    if importlib.util.find_spec("tradeoff_gym.agents.meta_learner") is not None:
        return ["tradeoff_gym.agents.meta_learner:MetaLearnerAgent", "ucb1"]
    return list(FALLBACK_AGENTS)


def evaluate(
    policy_agent: SB3Agent, others: list[str], costs: list[float], seeds: int, env_kwargs: dict
) -> pd.DataFrame:
    """One row per (agent, cost, seed) episode: return, share of serial trials, episode wall time (s)."""
    rows = []
    for cost in costs:
        env = gym.make(ENV_ID, cost=cost, **env_kwargs)
        # Results name every agent as the CLI does: its registry name (the policy by its own name).
        agents = [(policy_agent.name, policy_agent),
                  *((name, make_agent(name, env)) for name in [*others, *REFERENCE_AGENTS])]
        for name, agent in agents:
            for seed in range(seeds):
                start = time.perf_counter()
                frame = run_episode(env, agent, seed, agent_name=name)
                rows.append(
                    {
                        "agent": name,
                        "cost": cost,
                        "seed": seed,
                        "return": frame.reward.sum(),
                        "serial_share": float(frame["serial"].mean()),
                        "episode_s": time.perf_counter() - start,
                    }
                )
    episodes = pd.DataFrame(rows)
    oracle = episodes[episodes.agent == "oracle"].set_index(["cost", "seed"])["return"]
    episodes["fraction_of_oracle"] = (
        episodes["return"].to_numpy() / oracle.loc[list(zip(episodes.cost, episodes.seed))].to_numpy()
    )
    return episodes


def summary_table(episodes: pd.DataFrame) -> str:
    """Markdown: per agent and cost, mean ± sd return, mean fraction of oracle, mean share of serial trials."""
    grouped = episodes.groupby(["agent", "cost"], sort=False)
    table = grouped.agg(
        mean_return=("return", "mean"),
        sd_return=("return", "std"),
        fraction_of_oracle=("fraction_of_oracle", "mean"),
        serial_share=("serial_share", "mean"),
    ).reset_index()
    lines = [
        "| agent | cost | return (mean ± sd) | fraction of oracle | serial share |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.agent} | {row.cost:g} | {row.mean_return:.1f} ± {row.sd_return:.1f} | "
            f"{row.fraction_of_oracle:.3f} | {row.serial_share:.2f} |"
        )
    overall = episodes.groupby("agent", sort=False)["fraction_of_oracle"].mean()
    lines += ["", "| agent | fraction of oracle, mean over costs and seeds |", "|---|---|"]
    lines += [f"| {agent} | {value:.3f} |" for agent, value in overall.items()]
    return "\n".join(lines)


def plot(episodes: pd.DataFrame, path: Path) -> Path:
    """Two panels over cost: fraction of oracle return, and share of serial trials (mean ± sd over seeds)."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.2))
    # The SB3 policy is drawn wide and translucent so that a fixed strategy it coincides with stays visible.
    widths = {a: 5.0 if a.startswith("sb3-") else 1.6 for a in episodes.agent.unique()}
    kwargs = {
        "data": episodes,
        "x": "cost",
        "hue": "agent",
        "style": "agent",
        "size": "agent",
        "sizes": widths,
        "markers": True,
        "errorbar": "sd",
        "alpha": 0.75,
    }
    sns.lineplot(y="fraction_of_oracle", ax=axes[0], legend=False, **kwargs)
    axes[0].set(title="Return relative to the oracle (best fixed strategy)", ylabel="fraction of oracle return")
    sns.lineplot(y="serial_share", ax=axes[1], **kwargs)
    axes[1].set(title="Share of serial trials", ylabel="serial share", ylim=(-0.05, 1.05))
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1.0), title="agent")
    for ax in axes:
        ax.set_xlabel("serialization cost c (hidden)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    """Train (or load) the SB3 policy, evaluate every agent across costs, write figure, table and report."""
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--timesteps", type=int, default=200_000)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--policy", type=Path, default=None, help="evaluate this saved policy instead of training")
    parser.add_argument("--costs", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=1000, help="LearningCurves horizon (default instance)")
    parser.add_argument(
        "--midpoints",
        type=float,
        nargs=2,
        default=None,
        metavar=("SERIAL", "PARALLEL"),
        help="logistic curve midpoints (rate 0.02) of the instance, instead of the default 100 400",
    )
    parser.add_argument("--agents", nargs="*", default=None, help="model-based agents to compare")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    costs = [float(check_cost(c, "costs")) for c in args.costs]
    seeds = check_positive_int(args.seeds, "seeds")
    env_kwargs: dict = {"horizon": check_positive_int(args.horizon, "horizon")}
    instance = "default instance"
    if args.midpoints is not None:
        serial_mid, parallel_mid = args.midpoints
        env_kwargs["curves"] = (LogisticCurve(0.02, serial_mid), LogisticCurve(0.02, parallel_mid))
        instance = f"curve midpoints serial {serial_mid:g}, parallel {parallel_mid:g}"
    others = comparison_agents(args.agents)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.policy is None:
        config = SB3TrainConfig(
            algo=args.algo, timesteps=args.timesteps, env_kwargs=env_kwargs, n_envs=args.n_envs, seed=args.train_seed
        )
        trained = train_policy(config)
        policy_path = save_policy(trained, args.out / "policy.zip")
        model, train_note = (
            trained.model,
            (
                f"Trained {config.algo.upper()} for {config.timesteps} steps ({trained.episode_returns.size} episodes, "
                f"{config.n_envs} envs, cost ~ U(0, 1) per episode, seed {config.seed}, hyperparameters "
                f"{config.algo_kwargs()}) in **{trained.wall_time_s:.1f} s** wall time (1 torch thread). "
                f"Mean return of the last 20 training episodes: {trained.episode_returns[-20:].mean():.1f}."
            ),
        )
    else:
        model, policy_path = load_policy(args.policy, args.algo), args.policy
        meta_file = metadata_path(args.policy)
        trained_with = json.loads(meta_file.read_text()) if meta_file.is_file() else "unknown settings"
        train_note = f"Evaluated the saved policy {args.policy} (no training in this run), trained with {trained_with}."
    policy_agent = SB3Agent(model, name=f"sb3-{args.algo}")

    start = time.perf_counter()
    episodes = evaluate(policy_agent, others, costs, seeds, env_kwargs)
    eval_s = time.perf_counter() - start
    episodes.to_csv(args.out / "episodes.csv", index=False)
    figure = plot(episodes, args.out / "sb3_vs_oracle.png")
    per_episode = episodes.groupby("agent", sort=False)["episode_s"].mean()

    command = f"python -m {__spec__.name} " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    compared = ", ".join(o.split(":")[-1] for o in others)
    report = "\n\n".join(
        [
            f"# SB3 {args.algo.upper()} vs {compared} vs oracle on LearningCurves",
            f"Command: `{command}`",
            train_note,
            f"Policy file: `{policy_path}`. Evaluation: {ENV_ID} ({instance}, horizon {args.horizon}), "
            f"costs {costs}, seeds 0..{seeds - 1}, every episode through `run_episode`; {eval_s:.1f} s in all. "
            "Mean seconds per episode: " + ", ".join(f"{a} {s:.2f}" for a, s in per_episode.items()) + ".",
            summary_table(episodes),
            f"![comparison]({figure.name})",
        ]
    )
    (args.out / "report.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
