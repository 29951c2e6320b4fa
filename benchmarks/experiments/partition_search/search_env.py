"""Feature-partition search on SerialParallel as a Gymnasium env (one step = one generation of candidates), so
its runs go through the one run loop: ``tradeoff-bench/PartitionSearch-v0``, registered when this module is imported
(use :data:`ENV_ID`, whose module prefix makes a fresh worker import it).

It lives with the experiment that uses it, in a namespace of its own (``tradeoff-bench/``), because ``envs/``
registers only the project's main environments (the ``tradeoff/`` ids). The
search space, the searches and the batched scoring are :mod:`tradeoff_gym.learners.partition_search`; the objective is
the
SerialParallel env's own reward rule (:func:`tradeoff_gym.envs.serial_parallel.make_config`), so a candidate's score is
the
reward rate that env would pay at cost ``objective_cost``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from gymnasium.envs.registration import register, registry

from tradeoff_gym.envs.common import (
    HorizonSpec,
    Strategy,
    SummaryObservation,
    check_action,
    check_choice,
    check_positive_int,
    reset_info,
    step_info,
)
from tradeoff_gym.envs.interface import RewardRule
from tradeoff_gym.envs.serial_parallel import SerialParallelConfig, make_config
from tradeoff_gym.learners.checks import check_int, check_number
from tradeoff_gym.learners.gated_network import NetworkConfig
from tradeoff_gym.learners.partition import overlap_matrix, partition_masks
from tradeoff_gym.learners.partition_search import (
    EvolutionStrategy,
    capacity,
    gated_layer_widths,
    masks_setting,
    overlap_from_theta,
    random_points,
    theta_from_overlap,
    train_candidates,
)

NAME = "tradeoff-bench/PartitionSearch-v0"
#: The id to give ``gym.make`` (and RunSpecs): the module prefix imports this module, which registers the env.
ENV_ID = f"{__name__}:{NAME}"
#: The env's one strategy: run the next generation of the search.
SEARCH = Strategy("search", serial=False)
METHODS: tuple[str, ...] = ("random", "es")
#: What the found partition is compared with at the end: hand-set overlaps (``overlap=o``) and learned task gates.
REFERENCES: tuple[tuple[str, float | None], ...] = (("overlap 0", 0.0), ("overlap 0.5", 0.5), ("overlap 1", 1.0),
                                                    ("learned gates", None))


@dataclass(frozen=True)
class PartitionSearchConfig:
    """Settings of :class:`PartitionSearchEnv`; validated at construction.

    ``method`` ``"random"`` (``population`` uniform points per generation; the incumbent is the best scored so far)
    or ``"es"`` (``population`` directions, so 2·population candidates plus the centre, which is the incumbent;
    ``step_size`` α, ``noise`` ν, ``top`` b directions kept, ``None`` = all); ``generations`` the episode length;
    each candidate is scored by ``trials`` training trials of fresh learners on ``seeds`` seeds (new ones every
    generation, the same for every candidate of a generation), once trained serially and once in parallel:
    its objective is the better strategy's reward rate at cost ``objective_cost`` (the SerialParallel env's reward
    rule) minus ``capacity_weight`` · mean(diag(P)²) (the feature-partitioning paper's L2 penalty on the tasks' shares).
    ``min_share`` the least share of a masked layer a task keeps. At the last generation the incumbent and, with
    ``references``, the hand-set overlaps 0, 0.5, 1 and learned task gates are trained for ``final_trials`` trials
    on ``final_seeds`` held-out seeds, serially and in parallel. The held-out seeds come from a stream of their own
    (split from the episode's seed), so searches by both methods from one seed are tested on the same seeds and
    the references need training once per seed. ``serial_parallel`` the SerialParallel config whose
    learner and reward rule are used (its own cost is ignored; set its fields by name, e.g. ``hidden_units``).
    """

    method: Literal["random", "es"] = "es"
    objective_cost: float = 0.2
    generations: int = 10
    population: int = 4
    trials: int = 200
    seeds: int = 1
    capacity_weight: float = 0.05
    step_size: float = 0.1
    noise: float = 0.1
    top: int | None = None
    min_share: float = 0.125
    final_trials: int = 1000
    final_seeds: int = 2
    references: bool = True
    max_batch: int = 32
    serial_parallel: SerialParallelConfig = field(default_factory=SerialParallelConfig)

    def __post_init__(self) -> None:
        check_choice(self.method, METHODS, "method")
        object.__setattr__(self, "objective_cost", check_number(self.objective_cost, "objective_cost", 0.0, 1.0))
        for name in ("generations", "population", "trials", "seeds", "final_trials", "final_seeds", "max_batch"):
            check_positive_int(getattr(self, name), name)
        object.__setattr__(self, "capacity_weight", check_number(self.capacity_weight, "capacity_weight", 0.0))
        object.__setattr__(self, "min_share", check_number(self.min_share, "min_share", 0.0, 1.0, high_open=True))
        for name in ("step_size", "noise"):
            object.__setattr__(self, name, check_number(getattr(self, name), name, 0.0, low_open=True))
        if not isinstance(self.references, bool):
            raise ValueError(f"references must be True or False, got {self.references!r}")
        if self.top is not None:
            check_int(self.top, "top", 1)
        if not isinstance(self.serial_parallel, SerialParallelConfig):
            raise ValueError(f"serial_parallel must be a SerialParallelConfig, got {self.serial_parallel!r}")
        if self.serial_parallel.learner.network.gating != "learned":
            raise ValueError("partition search masks learned task gates: the network needs gating='learned'")

    @property
    def horizon(self) -> int:
        """Episode length: one step per generation."""
        return self.generations


def make_search_config(**settings: Any) -> PartitionSearchConfig:
    """The config from settings by name: fields of :class:`PartitionSearchConfig`, or any SerialParallel setting
    (its learner's, world's, network's), which builds ``serial_parallel`` through SerialParallel's own builder."""
    own = {f.name for f in dataclasses.fields(PartitionSearchConfig)}
    mine = {k: v for k, v in settings.items() if k in own}
    rest = {k: v for k, v in settings.items() if k not in own}
    if rest or "serial_parallel" not in mine:
        mine["serial_parallel"] = make_config(config=mine.get("serial_parallel"), **rest)
    return PartitionSearchConfig(**mine)


class PartitionSearchEnv(HorizonSpec, gym.Env):
    """Search the overlap matrix P of SerialParallel's masked layers, one generation of candidates per ``step``.

    ## Action Space
    ``Discrete(1)``: the one strategy ``search`` (run the next generation).

    ## Observation Space
    :class:`tradeoff_gym.envs.common.SummaryObservation` (``Box(-1, 1, (3,))``).

    ## Rewards
    The incumbent's objective after the generation (random: the best candidate so far; ES: the centre, scored in
    this generation): the better strategy's reward rate at ``objective_cost`` minus the capacity penalty.

    ## Episode End
    Truncated after ``generations`` steps; never terminated.

    ## Info metrics
    Every step: ``objective``, ``reward_rate_serial``/``reward_rate_parallel`` of the incumbent, ``capacity``
    (mean diag P), ``overlap`` (mean off-diagonal P), ``p_<i><j>`` (its realised P, i ≤ j, 0-based),
    ``generation_best``/``generation_mean`` (the generation's candidates' objectives) and ``evaluations``
    (candidates scored so far). At the last step, ``final_<name>_<strategy>`` the held-out reward rates of
    ``found`` and, with ``references``, of each reference (``overlap_0``, ``overlap_0.5``, ``overlap_1``,
    ``learned_gates``).

    ## Arguments
    Any field of :class:`PartitionSearchConfig` or any SerialParallel setting by name, e.g.
    ``gym.make(ENV_ID, method="es", objective_cost=0.2, generations=5, hidden_units=(32,))``.
    """

    metadata = {"render_modes": []}

    def __init__(self, *, render_mode: str | None = None, **settings: Any) -> None:
        self.render_mode = render_mode
        self.config = cfg = make_search_config(**settings)
        self.env_config = cfg.serial_parallel
        self.learner_config = cfg.serial_parallel.learner
        self.n_tasks = cfg.serial_parallel.task_set.n_tasks
        self.widths = gated_layer_widths(self.learner_config)
        self.rule = RewardRule((SEARCH,), "divide", "mean")
        self.action_space = gym.spaces.Discrete(1)
        self._summary = SummaryObservation(1, cfg.horizon)
        self.observation_space = self._summary.space
        self._rng: np.random.Generator | None = None

    @property
    def reward_rule(self) -> RewardRule:
        """The step's reward is the incumbent's objective (one strategy, no cost of its own)."""
        return self.rule

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        search, held_out = np.random.SeedSequence(int(self.np_random.integers(2**63 - 1))).spawn(2)
        self._rng = np.random.default_rng(search)
        self._final_seeds = np.random.default_rng(held_out).integers(2**62, size=self.config.final_seeds)
        self._picks = np.zeros(1, dtype=np.int64)
        self.evaluations = 0
        self.incumbent: dict[str, Any] | None = None
        start = theta_from_overlap(overlap_matrix(partition_masks(self.widths[0], self.n_tasks, 0.5)).numpy())
        cfg = self.config
        self.es = EvolutionStrategy(start, directions=cfg.population, noise=cfg.noise, step_size=cfg.step_size,
                                    top=cfg.top) if cfg.method == "es" else None
        return self._summary.reset(), reset_info((SEARCH,), cfg.horizon, self.n_tasks)

    # ------------------------------------------------------------------ scoring
    def _network(self, p: np.ndarray | None = None, overlap: float | None = None) -> NetworkConfig:
        """The network with masks realising ``p`` (or a hand-set ``overlap``, or neither: learned gates)."""
        masks = None if p is None else masks_setting(p, self.widths)
        return dataclasses.replace(self.learner_config.network, masks=masks, overlap=overlap)

    def _reward_rates(self, networks: list[NetworkConfig], seeds: np.ndarray, trials: int) -> np.ndarray:
        """``(n_networks, n_strategies)`` mean reward rate over ``seeds`` of each network trained with each strategy."""
        schedules = self.env_config.schedules
        n, s, a = len(networks), len(seeds), len(schedules)
        accuracy = train_candidates(  # one learner per (network, strategy, seed), network-major
            self.learner_config, [net for net in networks for _ in range(a * s)], [int(x) for x in seeds] * (n * a),
            [schedules[j] for _ in networks for j in range(a) for _ in seeds], trials, self.config.max_batch)
        actions = np.repeat(np.tile(np.arange(a), n), s)  # (K,) each learner's strategy
        _, rewards = self.env_config.reward_rule.apply(actions[:, None], accuracy, self.config.objective_cost)
        self.evaluations += n
        return rewards.mean(axis=1).reshape(n, a, s).mean(axis=2)  # n a

    def _score(self, thetas: np.ndarray) -> list[dict[str, Any]]:
        """Each search point's P, strategy reward rates and objective (one batch of fresh seeds for all)."""
        cfg = self.config
        assert self._rng is not None
        seeds = self._rng.integers(2**62, size=cfg.seeds)
        ps = [overlap_from_theta(t, self.n_tasks, cfg.min_share) for t in thetas]
        networks = [self._network(p) for p in ps]
        rates = self._reward_rates(networks, seeds, cfg.trials)
        out = []
        for theta, network, rate in zip(thetas, networks, rates):
            realised = np.mean([overlap_matrix(torch.tensor(m, dtype=torch.float32)).numpy()
                                for m in network.masks], axis=0)  # P as the masks give it, mean over layers
            penalty = cfg.capacity_weight * float(np.mean(np.diag(realised) ** 2))
            out.append({"theta": np.clip(theta, 0, 1), "network": network, "p": realised, "rates": rate,
                        "objective": float(rate.max()) - penalty})
        return out

    # ------------------------------------------------------------------ one generation
    def step(self, action):
        if self._rng is None:
            raise RuntimeError("call reset() before step()")
        cfg = self.config
        if self._summary.trial >= cfg.horizon:
            raise RuntimeError(f"episode is over after generations={cfg.generations} steps; call reset()")
        a = check_action(action, 1)
        if self.es is None:
            scored = self._score(random_points(self._rng, cfg.population, self.n_tasks))
            best = max(scored, key=lambda c: c["objective"])
            if self.incumbent is None or best["objective"] > self.incumbent["objective"]:
                self.incumbent = best
        else:
            candidates = self.es.propose(self._rng)
            scored = self._score(np.concatenate([candidates, self.es.theta[None]]))
            self.incumbent = scored[-1]  # the centre, scored beside its perturbations
            self.es.update(np.array([c["objective"] for c in scored[:-1]]))
        incumbent = self.incumbent
        assert incumbent is not None
        reward = float(incumbent["objective"])
        self._picks[a] += 1
        obs = self._summary.update(a, reward)
        trial = self._summary.trial
        metrics = self._metrics(incumbent, scored)
        if trial >= cfg.horizon:
            metrics.update(self._final(incumbent))
        info = step_info(SEARCH, np.array([reward]), np.array([reward]), trial, self._picks, **metrics)
        return obs, reward, False, trial >= cfg.horizon, info

    def _metrics(self, incumbent: dict[str, Any], scored: list[dict[str, Any]]) -> dict[str, float]:
        p = incumbent["p"]
        upper = np.triu_indices(self.n_tasks, 1)
        objectives = [c["objective"] for c in scored]
        metrics = {
            "objective": float(incumbent["objective"]),
            **{f"reward_rate_{s.name}": float(r) for s, r in zip(self.env_config.strategies, incumbent["rates"])},
            "capacity": capacity(p), "overlap": float(p[upper].mean()),
            "generation_best": float(max(objectives)), "generation_mean": float(np.mean(objectives)),
            "evaluations": float(self.evaluations),
        }
        metrics.update({f"p_{i}{j}": float(p[i, j]) for i, j in zip(*np.triu_indices(self.n_tasks))})
        return metrics

    def _final(self, incumbent: dict[str, Any]) -> dict[str, float]:
        """Held-out reward rates of the found partition and of the references, on the same fresh seeds."""
        cfg = self.config
        references = REFERENCES if cfg.references else ()
        names = ["found", *(name.replace(" ", "_") for name, _ in references)]
        networks = [incumbent["network"], *(self._network(overlap=o) for _, o in references)]
        rates = self._reward_rates(networks, self._final_seeds, cfg.final_trials)
        return {f"final_{name}_{s.name}": float(r) for name, row in zip(names, rates)
                for s, r in zip(self.env_config.strategies, row)}


if NAME not in registry:
    register(id=NAME, entry_point=f"{__name__}:PartitionSearchEnv")
