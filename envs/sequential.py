"""Sequential task episodes: tasks arrive one per episode, the network persists across episodes.

The process: a stream of ``n_tasks`` binary tasks of one dimension of the shapes world ("is there a red
object?", "is there a blue object?", …) in a per-stream order. Episode ``i`` introduces task ``i``; one
network (:class:`tradeoff_gym.learners.sequential_net.SequentialLearner`) keeps training through the whole stream. Each
step trains one trial (a minibatch) whose mix of tasks the agent chooses; the episode ends when every task
seen so far is at criterion on the hold-out set. What the stream measures: how learning task ``i`` is helped
by the tasks before it (forward facilitation) and how much it disturbs them (backward interference); see
docs/science/sequential.md.

Streams, seeds and the run loop
-------------------------------
``episode_scope="task"`` (default): one Gymnasium episode = one task episode. ``reset(seed=s)`` (an int)
starts a *fresh stream* from ``s`` — new task order, new network — exactly as Gymnasium expects (same seed ⇒
same episode). ``reset()`` without a seed *continues the stream*: it introduces the next task and keeps the
network; after the last task (or with ``options={"new_stream": True}``) it starts a fresh stream drawn from
the env's generator. :func:`tradeoff_gym.benchmarks.run_loop.run_stream` plays a whole stream through the run loop
(seeding only its first reset) and concatenates the episodes' frames.

``episode_scope="stream"``: one Gymnasium episode = the whole stream; the env introduces the next task
itself when an episode ends. One ``run_episode`` call (one experiment ``RunSpec``) then logs the stream; the
``episode`` column tells the task episodes apart. Every reset starts a fresh stream.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch

from tradeoff_gym.envs.common import (
    HorizonSpec,
    RewardRule,
    Strategy,
    SummaryObservation,
    check_action,
    check_choice,
    check_int,
    check_number,
    check_positive_int,
    check_strategies,
    given_config,
    reset_info,
    step_info,
)
from tradeoff_gym.learners.curriculum import (
    REGIMENS,
    TASK_ORDERS,
    allocate_slots,
    latin_order,
    random_order,
    regimen_weights,
    slot_phase,
)
from tradeoff_gym.learners.sequential_net import SequentialLearner, SequentialNetConfig
from tradeoff_gym.learners.shapes import (
    DIMENSIONS,
    FEATURE_NAMES,
    N_FEATURES,
    ShapesConfig,
    balanced_indices,
    check_dimension,
    make_shapes,
    task_labels,
)
from tradeoff_gym.learners.threads import check_threads, torch_threads

#: The training regimens as actions (:data:`tradeoff_gym.learners.curriculum.REGIMENS`): ``mix`` (half of
#: each trial's examples from the newest task, half split over the earlier ones), ``new-only``, ``uniform``.
MIX, NEW_ONLY, UNIFORM = (Strategy(name, serial=False) for name in REGIMENS)
SEQUENTIAL_STRATEGIES: tuple[Strategy, ...] = (MIX, NEW_ONLY, UNIFORM)

REWARD_MODES: tuple[str, ...] = ("accuracy", "shortfall")
EPISODE_SCOPES: tuple[str, ...] = ("task", "stream")


@dataclass(frozen=True)
class SequentialTasksConfig:
    """Settings of :class:`SequentialTasksEnv`; validated at construction.

    World: ``dimension`` of the shapes world the tasks ask about; ``n_tasks`` tasks per stream (≤ 10 features);
    ``n_train``/``n_holdout`` images and ``data_seed`` (see :class:`tradeoff_gym.learners.shapes.ShapesConfig`).
    Order: ``order="random"`` (a permutation per stream) or ``"latin"`` (row ``replication`` of a Latin square,
    see :func:`tradeoff_gym.learners.curriculum.latin_order`; a fresh stream after an exhausted one takes the next row).
    Training: ``batch_size`` examples per trial; ``new_fraction`` the newest task's share under ``mix`` (0.5);
    ``channels``/``hidden``/``learning_rate`` the network (:class:`SequentialNetConfig`); ``threads`` torch's
    intra-op thread count while the env trains or evaluates (:mod:`tradeoff_gym.learners.threads`; default 1).
    Episode: ends at ``criterion`` (balanced hold-out accuracy, in (0, 1]) on every task seen, checked every
    ``eval_every`` trials, or after ``max_trials`` trials. ``reward_mode``: ``accuracy`` (mean hold-out accuracy
    of the tasks seen) or ``shortfall`` (that minus 1, so every extra trial costs). ``episode_scope``: see the
    module docstring.
    """

    dimension: str = "colour"
    n_tasks: int = 10
    order: Literal["random", "latin"] = "random"
    replication: int = 0
    order_seed: int = 0
    strategies: tuple[Strategy, ...] = SEQUENTIAL_STRATEGIES
    new_fraction: float = 0.5
    batch_size: int = 32
    criterion: float = 0.95
    max_trials: int = 1500
    eval_every: int = 10
    reward_mode: Literal["accuracy", "shortfall"] = "accuracy"
    episode_scope: Literal["task", "stream"] = "task"
    channels: tuple[int, ...] = (8, 16, 32)
    hidden: tuple[int, ...] = (128, 128)
    learning_rate: float = 1e-3
    n_train: int = 4000
    n_holdout: int = 1000
    data_seed: int = 0
    threads: int = 1
    reward_rule: RewardRule = field(init=False, repr=False, compare=False)
    shapes: ShapesConfig = field(init=False, repr=False, compare=False)
    net: SequentialNetConfig = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_dimension(self.dimension)
        if check_positive_int(self.n_tasks, "n_tasks") > N_FEATURES:
            raise ValueError(
                f"n_tasks must lie in [1, {N_FEATURES}] (one task per feature of the dimension), got {self.n_tasks}"
            )
        check_choice(self.order, TASK_ORDERS, "order")
        for name in ("replication", "order_seed"):
            set_(self, name, check_int(getattr(self, name), name, 0))
        set_(self, "strategies", check_strategies(self.strategies))
        unknown = [s.name for s in self.strategies if s.name not in REGIMENS]
        if unknown:
            raise ValueError(f"strategies must be regimens among {list(REGIMENS)}, got unknown {unknown}")
        new_fraction = check_number(self.new_fraction, "new_fraction", 0.0, 1.0, low_open=True, high_open=True)
        set_(self, "new_fraction", new_fraction)
        set_(self, "criterion", check_number(self.criterion, "criterion", 0.0, 1.0, low_open=True))
        for name in ("n_tasks", "batch_size", "max_trials", "eval_every"):
            set_(self, name, check_positive_int(getattr(self, name), name))
        set_(self, "threads", check_threads(self.threads))
        check_choice(self.reward_mode, REWARD_MODES, "reward_mode")
        # No strategy here pays a cost: the reward is the mean hold-out accuracy of the tasks seen (NaN = not
        # yet introduced), shifted by -1 under "shortfall".
        set_(self, "reward_rule", RewardRule(self.strategies, offset=-1.0 if self.reward_mode == "shortfall" else 0.0))
        check_choice(self.episode_scope, EPISODE_SCOPES, "episode_scope")
        set_(self, "shapes", ShapesConfig(n_train=self.n_train, n_holdout=self.n_holdout, data_seed=self.data_seed))
        set_(
            self,
            "net",
            SequentialNetConfig(
                channels=self.channels,
                hidden=self.hidden,
                n_tasks=self.n_tasks,
                image_size=self.shapes.image_size,
                learning_rate=self.learning_rate,
                threads=self.threads,
            ),
        )
        set_(self, "channels", self.net.channels)
        set_(self, "hidden", self.net.hidden)

    @property
    def horizon(self) -> int:
        """Trial cap of one Gymnasium episode: ``max_trials`` per task episode (× ``n_tasks`` for a stream)."""
        return self.max_trials * (self.n_tasks if self.episode_scope == "stream" else 1)


def make_config(
    preset: str = "default", *, config: SequentialTasksConfig | None = None, **settings: Any
) -> SequentialTasksConfig:
    """The config of ``tradeoff/SequentialTasks-v0`` from settings by name (one preset, ``"default"``), or ``config``.

    The env's constructor and :func:`tradeoff_gym.envs.check_settings` both build through here (no data is generated);
    unknown names and bad values raise a ValueError naming the field.
    """
    if config is not None:
        return given_config(config, SequentialTasksConfig, preset, "default", settings)
    check_choice(preset, ("default",), "preset")
    allowed = {f.name for f in dataclasses.fields(SequentialTasksConfig) if f.init}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise ValueError(f"unknown SequentialTasks setting(s) {unknown}; allowed: {sorted(allowed)}")
    return SequentialTasksConfig(**settings)


class _Stream:
    """One task stream: its order, network, sampling generator and progress."""

    def __init__(self, config: SequentialTasksConfig, seed: int, index: int) -> None:
        order_seq, init_seq, sample_seq = np.random.SeedSequence(seed).spawn(3)
        if config.order == "latin":
            self.order = latin_order(config.replication + index, config.n_tasks, config.dimension, config.order_seed)
        else:
            self.order = random_order(config.n_tasks, np.random.default_rng(order_seq))
        generator = torch.Generator().manual_seed(int(init_seq.generate_state(1, dtype=np.uint64)[0] >> 1))
        self.learner = SequentialLearner(config.net, generator)
        self.rng = np.random.default_rng(sample_seq)
        self.index = index
        self.episode = 0  # 1-based once the first task is introduced
        data = make_shapes(config.shapes)
        dim = DIMENSIONS.index(config.dimension)
        self.train_labels = task_labels(data.train, dim, self.order)  # (N_train, n_tasks) bool, ordinal order
        self.holdout_labels = torch.as_tensor(task_labels(data.holdout, dim, self.order))  # (N_holdout, n_tasks)

    @property
    def exhausted(self) -> bool:
        """Has the last task been introduced?"""
        return self.episode >= len(self.order)


class SequentialTasksEnv(HorizonSpec, gym.Env):
    """Tasks introduced one per episode to a persistent network; the agent picks each trial's training mix.

    After *Scaling Characteristics of Sequential Multitask Learning*, scaled to CPU (docs/science/sequential.md).

    ## Action Space
    ``Discrete(n_strategies)``: the regimen of this trial — default 0 = ``mix`` (half the examples from the
    newest task, half split equally over the earlier ones), 1 = ``new-only``, 2 = ``uniform`` over tasks seen.
    In episode 1 every regimen trains the single task.

    ## Observation Space
    ``Box(-1, 1, (1 + 2·n_strategies,), float32)``: :class:`tradeoff_gym.envs.common.SummaryObservation` over the
    Gymnasium
    episode (fraction of the trial cap used, pick fractions, recent reward per regimen).

    ## Rewards
    After the trial's update: the mean balanced hold-out accuracy of the tasks seen so far (``reward_mode=
    "accuracy"``), or that minus 1 (``"shortfall"``: ≤ 0, so reaching criterion sooner earns more). Hold-out
    accuracy is re-measured every ``eval_every`` trials; in between it holds the last measurement. Note that
    with ``"accuracy"`` a return-maximizer is paid for *delaying* the criterion; compare agents by trials to
    criterion (:mod:`tradeoff_gym.benchmarks.sequential_metrics`) or train RL agents with ``"shortfall"``.

    ## Episode End
    Terminated when every task seen is at ``criterion`` on the hold-out set (checked when measured); truncated
    after ``max_trials`` trials (``env.spec.max_episode_steps`` is that cap: ``max_trials``, × ``n_tasks`` for a
    stream). With ``episode_scope="stream"`` these apply to the last task episode; earlier ones hand over to the
    next task inside the Gymnasium episode. A step after the end (terminated or truncated), or before the first
    ``reset``, raises a RuntimeError: the network would otherwise keep training.

    ## Arguments
    Any field of :class:`SequentialTasksConfig` as a keyword (see :func:`make_config`), or ``config=``; e.g.
    ``gym.make("tradeoff/SequentialTasks-v0", dimension="texture", n_tasks=6, order="latin", replication=3)``.

    Reset ``info`` (:func:`tradeoff_gym.envs.common.reset_info`) adds ``episode``, ``stream``, ``dimension``,
    ``task_order``,
    ``task_names``, ``criterion``, ``threads``, and the hold-out accuracy before training: ``task_accuracy``
    ``(n_tasks,)``, 0 for tasks not yet introduced, with the ``task_performed`` mask (True = introduced and
    measured) as in step info; :func:`tradeoff_gym.envs.interface.task_values` turns it into NaN-marked values.

    Step ``info`` (:func:`tradeoff_gym.envs.common.step_info`): ``task_rewards`` = ``task_accuracy`` ``(n_tasks,)``
    balanced
    hold-out accuracy of the stream's tasks in ordinal position (index ``k`` = the task introduced in episode
    ``k+1``), 0 for tasks not yet introduced and ``task_performed`` False there; ``metrics``: ``episode``
    (1-based), ``task_trial`` (trials in this task episode), ``stream`` (streams started since the last seed),
    ``new_feature`` (feature index of the newest task), ``evaluated`` (1 when accuracy was measured this
    trial), ``criterion_met``, ``loss``, ``next_accuracy`` (hold-out accuracy of the next, not yet introduced,
    task: GEM's forward-transfer entry), ``examples_<k>`` (training examples of task ``k`` so far in this
    episode).

    Examples:
        A stream of two tasks on a small data set, three trials per task episode at most:

        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> env = gym.make("tradeoff/SequentialTasks-v0", n_tasks=2, max_trials=3, n_train=200, n_holdout=100)
        >>> obs, info = env.reset(seed=0)
        >>> info["strategies"], info["episode"]
        (('mix', 'new-only', 'uniform'), 1)
        >>> obs, reward, terminated, truncated, info = env.step(0)
        >>> info["strategy"], info["metrics"]["episode"], 0.0 <= reward <= 1.0
        ('mix', 1, True)
        >>> for _ in range(2):
        ...     obs, reward, terminated, truncated, info = env.step(0)
        >>> truncated
        True
        >>> obs, info = env.reset()  # the next task joins the same network
        >>> info["episode"], info["task_performed"].tolist()
        (2, [True, True])
    """

    metadata = {"render_modes": []}

    def __init__(
        self, config: SequentialTasksConfig | None = None, *, render_mode: str | None = None, **settings: Any
    ) -> None:
        self.render_mode = render_mode  # nothing to draw; kept because wrappers (SB3's make_vec_env) pass one
        self.config = cfg = make_config(config=config, **settings)
        self.action_space = gym.spaces.Discrete(len(cfg.strategies))
        self._summary = SummaryObservation(len(cfg.strategies), cfg.horizon)
        self.observation_space = self._summary.space
        data = make_shapes(cfg.shapes)
        with torch_threads(cfg.threads):  # large copies run multi-threaded otherwise (and hang in a forked worker)
            self._train_images = torch.tensor(data.train.images)  # (N_train, 3, H, W), a writable copy
            self._holdout_images = torch.tensor(data.holdout.images)  # (N_holdout, 3, H, W)
        self._stream: _Stream | None = None
        self._over: str | None = "call reset() before step()"  # why step() is refused now; None while running

    @property
    def reward_rule(self) -> RewardRule:
        """The :class:`~tradeoff_gym.envs.interface.RewardRule` : no cost, the mean over the tasks seen."""
        return self.config.reward_rule

    # ------------------------------------------------------------------ episodes
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        cfg = self.config
        new_stream = bool((options or {}).get("new_stream", False))
        with torch_threads(cfg.threads):
            if (
                seed is not None
                or new_stream
                or cfg.episode_scope == "stream"
                or self._stream is None
                or self._stream.exhausted
            ):
                index = 0 if seed is not None or self._stream is None else self._stream.index + 1
                stream_seed = int(self.np_random.integers(2**63 - 1))
                self._stream = _Stream(cfg, stream_seed, index)
            self._picks = np.zeros(len(cfg.strategies), dtype=np.int64)
            obs = self._summary.reset()
            self._begin_task()
        self._over = None
        seen = ~np.isnan(self._accuracy)
        info = reset_info(cfg.strategies, cfg.horizon, cfg.n_tasks)
        info.update(
            episode=self._stream.episode,
            stream=self._stream.index,
            dimension=cfg.dimension,
            task_order=tuple(int(f) for f in self._stream.order),
            task_names=tuple(FEATURE_NAMES[cfg.dimension][f] for f in self._stream.order),
            task_accuracy=np.where(seen, self._accuracy, 0.0),
            task_performed=seen,
            criterion=cfg.criterion,
            threads=cfg.threads,
        )
        return obs, info

    def _begin_task(self) -> None:
        """Introduce the stream's next task and measure every task's hold-out accuracy before training it."""
        stream = self._stream
        stream.episode += 1
        self._task_trial = 0
        self._examples = np.zeros(self.config.n_tasks, dtype=np.int64)
        self._evaluate()

    def _evaluate(self) -> None:
        """Measure the balanced hold-out accuracy of the tasks seen so far and of the next one."""
        stream, n_seen = self._stream, self._stream.episode
        n_eval = min(n_seen + 1, self.config.n_tasks)
        accuracy = self._stream.learner.balanced_accuracy(
            self._holdout_images, stream.holdout_labels[:, :n_eval], torch.arange(n_eval)
        )  # (n_eval,)
        self._accuracy = np.full(self.config.n_tasks, np.nan)
        self._accuracy[:n_seen] = accuracy[:n_seen]
        self._next_accuracy = float(accuracy[n_seen]) if n_eval > n_seen else float("nan")

    # ------------------------------------------------------------------ trials
    def step(self, action):
        if self._over is not None:
            raise RuntimeError(self._over)
        a = check_action(action, self.action_space.n)
        with torch_threads(self.config.threads):
            return self._step(a)

    def _step(self, a: int):
        cfg, stream = self.config, self._stream
        n_seen = stream.episode
        strategy = cfg.strategies[a]
        weights = regimen_weights(strategy.name, n_seen, cfg.new_fraction)  # (n_seen,)
        tasks = allocate_slots(weights, cfg.batch_size, slot_phase(self._summary.trial))  # (B,) ordinal task ids
        indices, targets = balanced_indices(stream.train_labels[:, :n_seen], tasks, stream.rng)  # (B,), (B,)
        loss = stream.learner.train_batch(
            self._train_images[indices], torch.as_tensor(tasks), torch.as_tensor(targets)
        )
        self._examples[:n_seen] += np.bincount(tasks, minlength=n_seen)
        self._task_trial += 1
        capped = self._task_trial >= cfg.max_trials
        evaluated = self._task_trial % cfg.eval_every == 0 or capped
        if evaluated:
            self._evaluate()
        met = bool(evaluated and np.all(self._accuracy[:n_seen] >= cfg.criterion))
        task_accuracy = self._accuracy.copy()
        task_rewards, reward = cfg.reward_rule.apply(a, task_accuracy, 0.0)

        self._picks[a] += 1
        obs = self._summary.update(a, reward)
        metrics: dict[str, float | int] = {
            "episode": n_seen,
            "task_trial": self._task_trial,
            "stream": stream.index,
            "new_feature": int(stream.order[n_seen - 1]),
            "evaluated": int(evaluated),
            "criterion_met": int(met),
            "loss": loss,
        }
        if not stream.exhausted:  # absent (a NaN cell in the run loop's frame) once there is no next task
            metrics["next_accuracy"] = self._next_accuracy
        metrics.update({f"examples_{k}": int(self._examples[k]) for k in range(cfg.n_tasks)})
        info = step_info(strategy, task_rewards, task_accuracy, self._summary.trial, self._picks, **metrics)

        terminated = truncated = False
        if met or capped:
            if cfg.episode_scope == "stream" and not stream.exhausted:
                self._begin_task()  # the next task episode starts inside this Gymnasium episode
            else:
                terminated, truncated = met, not met
                self._over = (
                    "episode is over (terminated: every task seen reached criterion); call reset()"
                    if met
                    else f"episode is over after max_trials={cfg.max_trials} trials (truncated); call reset()"
                )
        return obs, reward, terminated, truncated, info
