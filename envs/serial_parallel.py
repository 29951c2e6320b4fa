"""The paper's environment: a task-gated network learning the drone world's four tasks, one trial per step.

Musslick-style trade-off (Ravi, Musslick, Hamin, Willke, Cohen 2020, arXiv 2007.10527; docs/science/model.md):
serial training shares representations and learns fast; parallel training separates them, learns slower,
but runs the tasks concurrently and so pays no serialization cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from tradeoff_gym.envs.common import (
    SERIAL_PARALLEL,
    CostMode,
    CostSpec,
    HorizonSpec,
    RewardRule,
    Strategy,
    SummaryObservation,
    check_action,
    check_choice,
    check_cost,
    check_positive_int,
    check_strategies,
    draw_cost,
    given_config,
    reset_info,
    step_info,
)
from tradeoff_gym.learners.batched import BatchedLearner, TaskLearner
from tradeoff_gym.learners.probes import ProbeResult
from tradeoff_gym.learners.tasks import Schedule, TaskSet, parallel_schedule
from tradeoff_gym.learners.trial import LearnerConfig

#: Input-noise std of the noisy variant (Fig 5B): Gaussian noise on every pixel and GPS coordinate.
NOISY_INPUT_NOISE = 0.2


@dataclass(frozen=True)
class SerialParallelConfig:
    """Settings of :class:`SerialParallelEnv`; validated at construction.

    ``strategies[a]`` is action ``a``; ``schedules[a]`` how it runs a trial (passes of task indices, each
    task once; ``None``: the world's serial and full-parallel schedules — drone world: serial
    ``((0,), (1,), (2,), (3,))``, parallel ``((0, 3), (1, 2))``). ``horizon`` τ trials;
    ``cost`` the hidden serialization cost, fixed or a ``(low, high)`` range drawn per episode;
    ``cost_mode`` ``divide`` (÷ (1 + c), the paper) or ``additive``; ``learner`` the world, network and
    training settings; ``probe_every`` probe the network every k trials (``None``: never) on a fixed
    held-out set of ``probe_size`` examples and add the results to ``info["metrics"]``.
    """

    strategies: tuple[Strategy, ...] = SERIAL_PARALLEL
    schedules: tuple[Schedule, ...] | None = None
    horizon: int = 5000
    cost: CostSpec = 0.5
    cost_mode: CostMode = "divide"
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    probe_every: int | None = None
    probe_size: int = 256
    reward_rule: RewardRule = field(init=False, repr=False, compare=False)
    #: The world family and world index this config was built from (``make_config(family=, world=)``), else None.
    family: str | None = field(default=None, init=False, compare=False)
    world: int | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: normalise fields in place once
        set_(self, "strategies", check_strategies(self.strategies))
        if not isinstance(self.learner, LearnerConfig):
            raise ValueError(f"learner must be a LearnerConfig, got {self.learner!r}")
        tasks = self.task_set  # the world's tasks: every schedule must run each of them once
        if self.schedules is None:
            if len(self.strategies) != 2:
                raise ValueError(f"schedules must be given for {len(self.strategies)} strategies (the default "
                                 "is the world's serial and full-parallel schedule, for two strategies)")
            set_(self, "schedules", (tasks.serial_schedule, parallel_schedule(tasks)))
        schedules = tuple(self.schedules)
        if len(schedules) != len(self.strategies):
            raise ValueError(
                f"schedules must give one schedule per strategy ({len(self.strategies)}), got {len(schedules)}"
            )
        set_(self, "schedules", tuple(tasks.check_schedule(s, f"schedules[{a}]") for a, s in enumerate(schedules)))
        set_(self, "horizon", check_positive_int(self.horizon, "horizon"))
        set_(self, "cost", check_cost(self.cost))
        set_(self, "reward_rule", RewardRule(self.strategies, self.cost_mode, "mean"))
        if self.probe_every is not None:
            set_(self, "probe_every", check_positive_int(self.probe_every, "probe_every"))
        set_(self, "probe_size", check_positive_int(self.probe_size, "probe_size"))

    @property
    def task_set(self) -> TaskSet:
        """The learner's world's tasks (:attr:`tradeoff_gym.learners.drone.DroneWorldConfig.task_set`)."""
        return self.learner.world.task_set


@dataclass(frozen=True)
class WorldPreset:
    """A named world of SerialParallel: ``settings`` by name, applied before the caller's (which override them).

    ``doc`` says what the world is and which way it moves the crossover cost c*. Each preset's measured c*
    (with its scale and the command that reproduces it) and why the worlds differ:
    docs/findings/crossover-and-noise.md.
    """

    settings: dict[str, Any]
    doc: str


#: The named worlds (``gym.make(id, preset=name)``, ``--set preset=name`` in the cost sweeps): the paper's first.
#: What moves c* is how long parallel training stays on its "shared plateau", and how low that is: while a
#: parallel pass's gates are all open, the passes look alike to the network, so each head can only answer from
#: one of the inputs it could read, and parallel accuracy is capped by how often those inputs' answers agree.
PRESETS: dict[str, WorldPreset] = {
    "default": WorldPreset(
        {},
        "The paper's world as built here: the 2 × 2 drone world, β = 5, task weights high, Adam lr 5e-4.",
    ),
    "noisy": WorldPreset(
        {"input_noise": NOISY_INPUT_NOISE},
        "Fig 5B's noisy inputs: Gaussian noise (std 0.2) on every pixel and GPS coordinate.",
    ),
    "balanced": WorldPreset(
        {"beta": 20.0, "region_match": 0.0, "lr": 1e-3},
        "The drone world with the object in the image independent of the GPS area (region_match 0: the two "
        "object answers agree by chance only, 1/4), a gate offset β = 20 (task weights start in [20, 40], so a "
        "pair's gates start saturated and Adam cannot close them within a paper-length episode: parallel "
        "training stays on the shared plateau) and lr 1e-3 (serial learns faster; parallel still cannot leave "
        "the plateau): the crossover cost moves up.",
    ),
    "sharing": WorldPreset(
        {"beta": 20.0, "region_match": 0.0, "lr": 1e-3, "sonar_size": 24},
        "The balanced world plus a third input, a 24-sample sonar trace of its own contact (the 3 × 2 world: "
        "6 tasks; serial = 6 passes, parallel = 3 passes of two tasks). Each head now has three inputs it "
        "could answer from, so the shared plateau drops lower still while serial training learns every task: "
        "the crossover cost moves up further.",
    ),
}


def make_config(
    preset: str = "default",
    *,
    config: SerialParallelConfig | None = None,
    family: str | None = None,
    world: int | None = None,
    **settings: Any,
) -> SerialParallelConfig:
    """The config of ``tradeoff/SerialParallel-v0``: a world preset (:data:`PRESETS`) plus overrides by name.

    ``family`` and ``world`` (together, instead of a preset or a config) build world ``world`` of a world family
    (:mod:`tradeoff_gym.envs.families`); ``settings`` then add what the world does not set (``cost``, ``horizon``,
    ``device``, …) and may not name a setting the world sets. The config's ``family``/``world`` record them.
    Without ``family``, ``world`` is the learner's world config (a ``DroneWorldConfig``), as ever.

    Overrides may name any field of :class:`SerialParallelConfig`, of :class:`LearnerConfig`, of its
    ``world`` (:class:`tradeoff_gym.learners.drone.DroneWorldConfig`) or of its ``network``
    (:class:`tradeoff_gym.learners.gated_network.NetworkConfig`), e.g. ``overlap=0.5``, ``task_init="small"``,
    ``input_noise=0.2``, ``lr=1e-3``, ``threads=1``, ``device="cuda"``; they override the preset's settings.
    A ready ``config`` is taken as it is. The env's constructor and :func:`tradeoff_gym.envs.check_settings` both build
    through here; unknown names, wrong types and bad values raise a ValueError naming the field.
    """
    if family is not None:
        return _family_config(preset, config, family, world, settings)
    if world is not None:  # without a family, ``world`` is the learner's world config (DroneWorldConfig)
        settings["world"] = world
    if config is not None:
        return given_config(config, SerialParallelConfig, preset, "default", settings)
    check_choice(preset, tuple(PRESETS), "preset")
    settings = {**PRESETS[preset].settings, **settings}
    own = {f.name for f in dataclasses.fields(SerialParallelConfig) if f.init}
    env_settings = {k: v for k, v in settings.items() if k in own}
    learner = env_settings.pop("learner", LearnerConfig())
    if not isinstance(learner, LearnerConfig):
        raise ValueError(f"learner must be a LearnerConfig (or set its fields by name), got {learner!r}")
    learner_settings = {k: v for k, v in settings.items() if k not in own}
    if learner_settings:
        try:
            learner = learner.replace(**learner_settings)
        except ValueError as error:
            if not str(error).startswith("unknown"):
                raise
            raise ValueError(f"{error}; or a SerialParallel setting: {sorted(own)}") from None
    return SerialParallelConfig(learner=learner, **env_settings)


def _family_config(
    preset: str, config: SerialParallelConfig | None, family: object, world: object, settings: dict[str, Any]
) -> SerialParallelConfig:
    """World ``world`` of ``family`` plus ``settings`` (:func:`tradeoff_gym.envs.families.resolve`), recorded."""
    from tradeoff_gym.envs.families import SP_ID, resolve  # families imports the envs' configs

    if config is not None or preset != "default":
        which = "config" if config is not None else f"preset={preset!r}"
        raise ValueError(f"give either family/world or {which}, not both (a family's worlds are built on the "
                         "default preset; tradeoff/SerialParallelNoisy-v0 is the noisy preset: use its plain id)")
    cfg = make_config(**resolve(SP_ID, family, world, settings))
    object.__setattr__(cfg, "family", family)  # frozen: recorded once, here
    object.__setattr__(cfg, "world", int(world))  # type: ignore[arg-type]
    return cfg


class Episodes:
    """The step bookkeeping of K SerialParallel episodes on one :class:`BatchedLearner`: the single env plays it
    with K = 1, the vector env (:mod:`tradeoff_gym.envs.serial_parallel_vector`) with K.

    ``cost_specs[k]`` is episode ``k``'s cost setting (a number or a ``(low, high)`` range); ``costs`` ``(K,)``
    the costs drawn at the episodes' starts; ``picks`` ``(K, n_strategies)`` pick counts; ``obs``
    ``(K, 1 + 2·n_strategies)`` float32 each episode's current :class:`SummaryObservation`; ``space`` one
    episode's observation space. The learner is the caller's, passed to :meth:`step`.
    """

    def __init__(self, config: SerialParallelConfig, cost_specs: Sequence[CostSpec]) -> None:
        self.config = config
        self.cost_specs = list(cost_specs)
        k, n_strategies = len(self.cost_specs), len(config.strategies)
        self.summaries = [SummaryObservation(n_strategies, config.horizon) for _ in range(k)]
        self.space = self.summaries[0].space
        self.costs = np.array([draw_cost(c, np.random.default_rng(0)) for c in self.cost_specs])  # drawn at begin
        self.picks = np.zeros((k, n_strategies), dtype=np.int64)
        self.obs = np.zeros((k, *self.space.shape), dtype=np.float32)

    def begin(self, k: int, rng: np.random.Generator) -> int:
        """Start episode ``k`` with draws from ``rng``; returns its learner's seed.

        The learner's seed is drawn first, then the cost, so the learner's whole trajectory is independent of
        how the cost is drawn.
        """
        learner_seed = int(rng.integers(2**63 - 1))
        self.costs[k] = draw_cost(self.cost_specs[k], rng)
        self.picks[k] = 0
        self.obs[k] = self.summaries[k].reset()
        return learner_seed

    def trial(self, k: int) -> int:
        """Trials episode ``k`` has played."""
        return self.summaries[k].trial

    def reset_info(self) -> dict:
        """An episode's reset ``info``: :func:`reset_info` plus the learner's ``threads`` (and ``family``/``world``
        for a world of a family)."""
        cfg = self.config
        info = reset_info(cfg.strategies, cfg.horizon, cfg.task_set.n_tasks)
        info["threads"] = cfg.learner.threads
        if cfg.family is not None:
            info["family"], info["world"] = cfg.family, cfg.world
        return info

    def step(
        self, learner: BatchedLearner, actions: np.ndarray, stepping: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[dict | None]]:
        """One trial of each episode ``k`` with ``stepping[k]``, playing strategy ``actions[k]`` on learner ``k``.

        ``actions`` ``(K,)`` int, ``stepping`` ``(K,)`` bool. Returns ``(K,)`` rewards (0 where not stepping),
        ``(K,)`` truncated, and per episode its step ``info`` (:func:`step_info`, with the probe's ``metrics``
        every ``probe_every`` trials; ``None`` where not stepping). Updates picks and observations.
        """
        cfg = self.config
        schedules = [cfg.schedules[a] if go else None for a, go in zip(actions, stepping)]
        task_accuracy = learner.trial(schedules)  # (K, n_tasks), NaN rows for episodes not stepping
        task_rewards = np.full_like(task_accuracy, np.nan)
        rewards = np.zeros(len(actions))
        task_rewards[stepping], rewards[stepping] = cfg.reward_rule.apply(
            actions[stepping], task_accuracy[stepping], self.costs[stepping]  # each episode's own cost
        )
        truncated = np.zeros(len(actions), dtype=bool)
        infos: list[dict | None] = [None] * len(actions)
        for k in np.flatnonzero(stepping):
            a = int(actions[k])
            self.picks[k, a] += 1
            self.obs[k] = self.summaries[k].update(a, float(rewards[k]))
            trial = self.summaries[k].trial
            metrics = {}
            if cfg.probe_every is not None and trial % cfg.probe_every == 0:
                metrics = learner.probe(int(k), cfg.probe_size).metrics()
            infos[k] = step_info(cfg.strategies[a], task_rewards[k], task_accuracy[k], trial, self.picks[k], **metrics)
            truncated[k] = trial >= cfg.horizon
        return rewards, truncated, infos


class SerialParallelEnv(HorizonSpec, gym.Env):
    """Choose, trial by trial, whether a task-gated network trains its four tasks serially or in parallel.

    Each ``reset`` builds a fresh drone world and a fresh gated network; each ``step`` runs one trial of it
    with the chosen strategy on the next batch of a fixed-order data stream and answers with the trial's
    reward. The learner is ``env.unwrapped.learner`` (:class:`tradeoff_gym.learners.trial.TaskLearner`). The world, and
    with it
    the tasks, are settings (``learner.world``): ``tradeoff/Multitask-v0`` is this env on a 3 × 3 world with a
    strategy table of schedules (:mod:`tradeoff_gym.envs.multitask`); what follows describes the drone world.

    ## Action Space
    ``Discrete(n_strategies)``: 0 = serial (four single-task passes), 1 = parallel (passes T1+T4, T2+T3).
    More strategies are a setting: add a :class:`tradeoff_gym.envs.common.Strategy` and its schedule.

    ## Observation Space
    ``Box(-1, 1, (1 + 2·n_strategies,), float32)``: :class:`tradeoff_gym.envs.common.SummaryObservation` — fraction of
    the episode elapsed, each strategy's pick fraction, each strategy's recent (EMA) reward.

    ## Rewards
    Per task, the batch accuracy of the forward pass that executed it, scored before that pass's update
    (the agent answers, is scored, then trains). A serial strategy's per-task rewards are discounted by the
    hidden cost c (÷ (1 + c): c = 1 halves them). The reward is the mean over the four tasks, in [0, 1].
    The network's learning never depends on c (only the reward does), so fixed-strategy runs can be
    re-discounted for any cost from ``info["task_accuracy"]``.

    ## Episode End
    Truncated after ``horizon`` trials (τ = 5000 by default, as in the paper; ``env.spec.max_episode_steps``);
    never terminated. A step after the end, or before the first ``reset``, raises a RuntimeError (the network
    would otherwise keep training past the horizon).

    ## Defaults
    World: 24×24 px images, 3×3 grid (L = 9), K = 4 sprites (8 rotations × 3 scales, ±1 px jitter),
    region→type match 0.75, no input noise (noisy preset: std 0.2). Network: GPS layer 32 units, conv
    8→16 channels (3×3, stride 2), FC 64→64, heads L+1 and K+1; gates β = 5, task weights "high"
    (uniform in [β, 2β]: single-task gates half to fully open, pair gates saturated — the bias toward
    sharing that parallel training must undo). Adam, lr 5e-4, 32 examples per trial. With these, over
    5 seeds (``python -m tradeoff_gym.benchmarks.scripts.bench_tradeoff``), serial reaches 90 % raw accuracy clearly
    before parallel, a serially trained network fails when executing pairs while a parallel-trained one does
    not, and the crossover cost c* lies inside (0, 1) (docs/findings/crossover-and-noise.md).

    One torch thread (``threads``, reset info ``threads``): the learner fixes the count while it works and
    restores the caller's after, so a run replays bit-identically whatever the caller's
    ``torch.get_num_threads()``, and forked vector-env workers never hang (:mod:`tradeoff_gym.learners.threads`).

    ## Arguments
    ``preset``: a named world (:data:`PRESETS`) — ``"default"``, ``"noisy"`` (input noise, Fig 5B),
    ``"balanced"`` and ``"sharing"`` (worlds whose crossover cost c* lies further up the cost axis; each
    preset's ``doc`` states its measured c*); ``config`` (a :class:`SerialParallelConfig` instead), or any
    setting by name (see :func:`make_config`; settings override the preset's), e.g.
    ``gym.make("tradeoff/SerialParallel-v0", horizon=1000, cost=(0, 1), overlap=0.5, probe_every=100)``.
    ``family`` and ``world``: world ``world`` of a world family instead of a preset
    (``gym.make(id, family="sp-mixed", world=3, cost=0.3)``; :mod:`tradeoff_gym.envs.families`,
    docs/environments/families.md); reset info then adds ``family`` and ``world``.
    ``render_mode`` is accepted (wrappers such as SB3's ``make_vec_env`` pass one) and ignored: nothing to draw.

    ``info`` (see :func:`tradeoff_gym.envs.common.step_info`): ``task_rewards``, ``task_accuracy``, ``raw_accuracy``,
    ``strategy``, ``trial``, ``pick_counts``; every ``probe_every`` trials ``metrics`` holds the probe
    (:meth:`tradeoff_gym.learners.probes.ProbeResult.metrics`: ``parallel_error_<t>``, ``serial_error_<t>``,
    ``parallel_error``, ``parallel_error_no_null``, ``corr_<layer>`` and per task pair ``corr_<layer>_t<i>t<j>``,
    e.g. ``corr_conv1_t3t4``). A NaN/inf training loss raises
    :class:`tradeoff_gym.learners.trial.NonFiniteLossError`.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> env = gym.make("tradeoff/SerialParallel-v0", cost=0.3, horizon=2)
        >>> obs, info = env.reset(seed=0)
        >>> info["strategies"], info["n_tasks"], env.observation_space.shape
        (('serial', 'parallel'), 4, (5,))
        >>> obs, reward, terminated, truncated, info = env.step(1)  # one trial of parallel training
        >>> info["strategy"], info["task_accuracy"].shape, 0.0 <= reward <= 1.0, truncated
        ('parallel', (4,), True, False)
        >>> env.unwrapped.reward_rule.cost_mode  # serial rewards ÷ (1 + c)
        'divide'
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        config: SerialParallelConfig | None = None,
        *,
        preset: str = "default",
        render_mode: str | None = None,
        **settings: Any,
    ):
        self.render_mode = render_mode  # nothing to draw; kept because wrappers (SB3's make_vec_env) pass one
        self.config = cfg = make_config(preset, config=config, **settings)
        self.action_space = gym.spaces.Discrete(len(cfg.strategies))
        self._episodes = Episodes(cfg, [cfg.cost])  # the bookkeeping of one episode: K = 1
        self.observation_space = self._episodes.space
        self.learner: TaskLearner | None = None

    @property
    def cost(self) -> float:
        """The episode's hidden cost (drawn at every reset)."""
        return float(self._episodes.costs[0])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.learner = TaskLearner(self.config.learner, self._episodes.begin(0, self.np_random))
        return self._episodes.obs[0].copy(), self._episodes.reset_info()

    def step(self, action):
        if self.learner is None:
            raise RuntimeError("call reset() before step()")
        horizon = self.config.horizon
        if self._episodes.trial(0) >= horizon:
            raise RuntimeError(f"episode is over after horizon={horizon} trials; call reset()")
        a = check_action(action, self.action_space.n)
        rewards, truncated, infos = self._episodes.step(self.learner.batched, np.array([a]), np.ones(1, dtype=bool))
        return self._episodes.obs[0].copy(), float(rewards[0]), False, bool(truncated[0]), infos[0]

    @property
    def reward_rule(self) -> RewardRule:
        """The :class:`~tradeoff_gym.envs.interface.RewardRule` (accuracies → rewards): the cost is not part of it."""
        return self.config.reward_rule

    def probe(self) -> ProbeResult:
        """Probe the current network on the fixed probe set (no training, no effect on the data stream)."""
        if self.learner is None:
            raise RuntimeError("call reset() before probe()")
        return self.learner.probe(self.config.probe_size)

