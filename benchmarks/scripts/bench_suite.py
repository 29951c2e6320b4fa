"""Wall time of a sweep, measured, and projected to another scale from the measured per-trial costs.

Usage: python -m tradeoff_gym.benchmarks.scripts.bench_suite RESULTS_DIR [--scale paper] [--jobs 2]

Reads the completion records of RESULTS_DIR (seconds per run, trials per run) to get each agent's measured
seconds per trial, then projects the wall time of the same experiment at ``--scale`` on ``--jobs`` workers:
Σ over that scale's runs of trials × (agent's seconds per trial) ÷ jobs. Reward-independent agents are
counted once per seed (they are re-discounted for every cost). An episode without a fixed horizon (it ends on
a criterion, as seq_tasks' streams do) is costed at the measured seconds per episode of its condition (the
same agent and env settings but the replication; seq_tasks' texture streams cost several times its colour ones),
else of its agent. The
projection assumes trial costs do not depend on the cost or the seed; for adaptive agents the share of serial
(slower) trials does, so treat it as an estimate and say so.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from tradeoff_gym.agents.registry import is_reward_independent
from tradeoff_gym.benchmarks.experiments import experiment_from_manifest, experiment_settings
from tradeoff_gym.benchmarks.runner import plan_units
from tradeoff_gym.benchmarks.store import ResultStore

#: Env settings that tell episodes of one condition apart and do not change what an episode costs.
REPLICATE_KEYS = ("replication", "seed")


def condition(agent: str, env_kwargs: dict) -> tuple[str, str]:
    """An episode's condition: its agent and env settings but the replicate keys (the key of per-episode costs)."""
    kept = {k: v for k, v in env_kwargs.items() if k not in REPLICATE_KEYS}
    return agent, json.dumps(kept, sort_keys=True, default=str)


def measured_costs(store: ResultStore) -> tuple[dict[str, float], dict[str, float], dict[tuple[str, str], float]]:
    """(agent name -> measured seconds per trial, agent name -> seconds per episode, condition -> seconds per
    episode) of the episodes actually played (a reused episode once)."""
    seconds: dict[str, float] = defaultdict(float)
    trials: dict[str, float] = defaultdict(float)
    episodes: dict[str, float] = defaultdict(float)
    by_condition: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for record_path in store.runs_dir.glob("*.json"):
        record = json.loads(record_path.read_text())
        agent, shared_by = record["spec"]["agent"], int(record.get("shared_by", 1))
        seconds[agent] += record["seconds"] / shared_by
        trials[agent] += record["rows"] / shared_by
        episodes[agent] += 1.0 / shared_by
        kept = by_condition[condition(agent, record["spec"].get("env_kwargs", {}))]
        kept[0] += record["seconds"] / shared_by
        kept[1] += 1.0 / shared_by
    return ({agent: seconds[agent] / trials[agent] for agent in seconds},
            {agent: seconds[agent] / episodes[agent] for agent in seconds},
            {key: total / count for key, (total, count) in by_condition.items()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir")
    parser.add_argument("--scale", default="paper")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    store = ResultStore(args.results_dir)
    manifest = store.manifest()
    per_trial, per_episode, per_condition = measured_costs(store)
    measured = sum(store.run_seconds().values())
    print(f"{manifest['experiment']} at scale {manifest['scale']!r}: {len(store.run_seconds())} runs, "
          f"{measured:.0f} s of worker time")
    for agent, value in sorted(per_trial.items()):
        note = " (played once per seed, re-discounted per cost)" if is_reward_independent(agent) else ""
        print(f"  {agent:<16} {1000 * value:7.2f} ms per trial, {per_episode[agent]:.1f} s per episode{note}")
    module = experiment_from_manifest(manifest)
    specs = module.runs(experiment_settings(module, args.scale))
    missing = sorted({s.agent for s in specs} - set(per_trial))
    units = plan_units(specs)
    total, by_episode, by_agent = 0.0, 0, 0
    for unit in units:
        horizon = unit.spec.env_kwargs.get("horizon")
        if horizon is None:  # the episode ends on a criterion: cost it per episode, of its condition if measured
            by_episode += 1
            key = condition(unit.spec.agent, unit.spec.env_kwargs)
            if key not in per_condition:
                by_agent += 1
            total += per_condition.get(key, per_episode.get(unit.spec.agent, max(per_episode.values())))
        else:
            total += int(horizon) * per_trial.get(unit.spec.agent, max(per_trial.values()))
    print(f"projected {manifest['experiment']} --scale {args.scale}: {len(specs)} runs in {len(units)} episodes, "
          f"{total:.1f} s ({total / 3600:.1f} h) of worker time, {total / args.jobs / 3600:.1f} h wall on "
          f"{args.jobs} workers")
    if by_episode:
        print(f"  ({by_episode} episodes without a fixed horizon, costed at the measured seconds per episode of "
              f"their condition; {by_agent} of them, whose condition was not measured here, at their agent's)")
    if missing:
        print(f"  (agents not measured here, costed at the slowest measured rate: {missing})")


if __name__ == "__main__":
    main()
