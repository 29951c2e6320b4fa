"""Stable-Baselines3 PPO on the trade-off environments: train a policy, play it as an agent, compare.

What it shows:

* plain SB3 on a plain Gymnasium env: ``PPO("MlpPolicy", gym.make("tradeoff/LearningCurves-v0", cost=(0, 1)))``,
  the hidden cost drawn per episode so the policy must infer it from rewards;
* the trained model as a protocol agent (``tradeoff_gym.agents.sb3.SB3Agent``), played through the run loop
  beside built-in agents at a low and a high cost;
* the library's way, which sweeps use: ``make_agent("sb3-ppo", env, timesteps=..., path=...)`` trains for the
  env's id and settings (cost replaced by a range), saves the policy with its config, and loads it next time.

Run it::

    python examples/sb3_policy.py            # 40k timesteps at τ = 500 (about a minute on one core)
    python examples/sb3_policy.py --tiny     # a few hundred timesteps, τ = 50 (CI); or TRADEOFF_EXAMPLES_TINY=1
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import gymnasium as gym
import pandas as pd
import torch
from stable_baselines3 import PPO

import tradeoff_gym  # noqa: F401  (registers the tradeoff/… environment ids)
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.agents.sb3 import SB3Agent
from tradeoff_gym.benchmarks.run_loop import run_episode

ENV_ID = "tradeoff/LearningCurves-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a seconds-long run (CI)")
    parser.add_argument("--out", type=Path, default=Path("results/sb3-example"), help="where the policy is saved")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("TRADEOFF_EXAMPLES_TINY") == "1"
    horizon, timesteps, seeds = (50, 400, [0]) if tiny else (500, 40_000, [0, 1, 2])
    hyperparams = {"n_steps": horizon, "batch_size": horizon, "gamma": 1.0, "ent_coef": 0.01}
    torch.set_num_threads(1)  # small networks: one thread is fastest and leaves the other cores alone

    # 1. Plain SB3: the env is an ordinary Gymnasium env; the cost is a range, drawn at every reset.
    train_env = gym.make(ENV_ID, horizon=horizon, cost=(0.0, 1.0))
    model = PPO("MlpPolicy", train_env, seed=0, device="cpu", verbose=0, **hyperparams)
    model.learn(total_timesteps=timesteps)
    print(f"trained PPO for {model.num_timesteps} timesteps ({model.num_timesteps // horizon} episodes of τ = "
          f"{horizon})")

    # 2. The model as an agent, through the run loop, against built-in agents at a low and a high cost.
    rows = []
    for cost in (0.1, 0.9):
        for seed in seeds:
            for name in ("ppo", "ucb1", "serial", "parallel"):
                env = gym.make(ENV_ID, horizon=horizon, cost=cost)
                agent = SB3Agent(model, name="ppo") if name == "ppo" else make_agent(name, env)
                frame = run_episode(env, agent, seed)
                rows.append({"cost": cost, "agent": name, "mean_reward": frame.reward.mean(),
                             "serial_share": frame.serial.mean()})
    table = pd.DataFrame(rows).groupby(["cost", "agent"]).mean()
    print(f"\nτ = {horizon}, seeds {seeds}:\n{table.round(3).to_string()}")

    # 3. The registry's sb3-ppo: trains for this env's id and settings, saves policy + config, reloads from path.
    path = args.out.resolve() / "ppo.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    env = gym.make(ENV_ID, horizon=horizon, cost=0.5)
    agent = make_agent("sb3-ppo", env, timesteps=timesteps, path=str(path), n_envs=1, hyperparams=hyperparams)
    frame = run_episode(env, agent, seed=0)
    print(f"\nsb3-ppo (saved to {path}, config in {path.name}.json): mean reward {frame.reward.mean():.3f} at c = 0.5, "
          f"serial share {frame.serial.mean():.2f}")
    again = make_agent("sb3-ppo", env, timesteps=timesteps, path=str(path), n_envs=1, hyperparams=hyperparams)
    print(f"a second make_agent loads the saved policy instead of training: {type(again).__name__} '{again.name}'")


if __name__ == "__main__":
    main()
