"""K SerialParallel episodes in lockstep, their K networks trained as one tensor program: a native Gymnasium VectorEnv.

``gym.make_vec("tradeoff/SerialParallel-v0", num_envs=K, vectorization_mode="vector_entry_point", **settings)``
returns :class:`SerialParallelVectorEnv`: the same episodes as K
:class:`tradeoff_gym.envs.serial_parallel.SerialParallelEnv`
in a ``SyncVectorEnv`` (same seeds, costs, data, initial weights, rewards up to float summation order), with the K
learners held by one :class:`tradeoff_gym.learners.batched.BatchedLearner` so a step costs little more than one env's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from tradeoff_gym.envs.common import (
    CostSpec,
    HorizonSpec,
    RewardRule,
    check_cost,
    check_positive_int,
)
from tradeoff_gym.envs.serial_parallel import Episodes, SerialParallelConfig, make_config
from tradeoff_gym.learners.batched import BatchedLearner
from tradeoff_gym.learners.checks import check_index
from tradeoff_gym.learners.probes import ProbeResult


class SerialParallelVectorEnv(HorizonSpec, gym.vector.VectorEnv):
    """K independent ``tradeoff/SerialParallel-v0`` episodes whose learners train in one batched computation.

    Sub-env ``k`` is the single env: its own seed (hence world, data stream, initial weights), its own hidden
    cost, its own strategy choice every step; only the arithmetic is shared. Its learner is learner ``k`` of
    ``env.learner`` (:class:`tradeoff_gym.learners.batched.BatchedLearner`).

    ## Action Space
    ``MultiDiscrete([n_strategies] * K)``: one strategy per sub-env (0 = serial, 1 = parallel by default); serial
    and parallel mixed freely in one step. ``single_action_space`` is the single env's ``Discrete(n_strategies)``.

    ## Observation Space
    ``Box(-1, 1, (K, 1 + 2·n_strategies), float32)``: row ``k`` is sub-env ``k``'s
    :class:`tradeoff_gym.envs.common.SummaryObservation`.

    ## Rewards
    ``(K,)`` float64: row ``k`` is the single env's reward for its action, accuracies and cost, from the same
    :class:`tradeoff_gym.envs.interface.RewardRule` (``env.reward_rule``). Costs are hidden from agents; oracles and
    the Sagiv
    baseline may read ``env.costs`` ``(K,)`` (drawn per sub-env at each of its resets, as the single env draws it).

    ## Episode End and Autoreset
    Every sub-env truncates after ``horizon`` trials, never terminates: episodes started together end together.
    Autoreset mode ``NEXT_STEP`` (``metadata["autoreset_mode"]``, Gymnasium's default): the step after a sub-env's
    last trial resets it instead of training it — its action is ignored, its reward is 0, terminated and truncated
    are False, its observation and info are those of a fresh episode (a new learner seed and cost drawn from the
    sub-env's own generator, as ``SyncVectorEnv`` calls the single env's ``reset()``). A run loop that stops at
    the horizon never pays for those resets.

    ## Seeding and resets
    ``reset(seed=s)`` seeds sub-env ``k`` with ``s + k`` (a list gives one seed per sub-env, ``None`` entries
    keep that sub-env's generator running), exactly as ``SyncVectorEnv`` does: sub-env ``k`` then plays what
    ``gym.make(id).reset(seed=s + k)`` plays. ``reset(options={"reset_mask": mask})`` (``(K,)`` bool numpy array,
    at least one True) resets only the masked sub-envs; the others keep their learners, episodes and observations.

    ## Info
    Gymnasium's vector convention: ``info[key]`` stacks the single env's ``info[key]`` over sub-envs and
    ``info["_" + key]`` ``(K,)`` bool marks which sub-envs have it. Step keys: ``task_rewards``,
    ``task_accuracy``, ``task_performed`` ``(K, n_tasks)``, ``raw_accuracy`` ``(K,)``, ``strategy`` ``(K,)``
    names, ``trial`` ``(K,)``, ``pick_counts`` ``(K, n_strategies)``; every ``probe_every`` trials ``metrics``
    holds each probed sub-env's probe (a dict of ``(K,)`` arrays with their masks). Reset keys as the single
    env's (``strategies``, ``serial``, ``horizon``, ``n_tasks``, ``trial``, ``pick_counts``, ``threads``; ``family``
    and ``world`` for a world of a family).

    ## Arguments
    ``num_envs`` K; ``preset``/``config``/``family`` and ``world``/settings by name exactly as the single env
    (every sub-env plays the same world; ``builder``, the id's config
    builder: :func:`make_config`, :func:`tradeoff_gym.envs.multitask.make_config`), e.g.
    ``gym.make_vec("tradeoff/SerialParallel-v0", num_envs=16, vectorization_mode="vector_entry_point",
    horizon=5000, cost=0.5, device="cuda")``. ``costs`` (instead of ``cost``): one cost per sub-env, each a
    number or a ``(low, high)`` range as ``cost`` is, so K episodes that differ only in their hidden cost run in
    one batch (sub-env ``k`` then plays what the single env with ``cost=costs[k]`` plays). ``render_mode`` is
    accepted and ignored.

    Examples:
        >>> import gymnasium as gym
        >>> import numpy as np
        >>> import tradeoff_gym  # registers the environment ids
        >>> vec = gym.make_vec("tradeoff/SerialParallel-v0", num_envs=2, horizon=2, costs=[0.1, 0.9])
        >>> type(vec.unwrapped).__name__
        'SerialParallelVectorEnv'
        >>> obs, info = vec.reset(seed=0)  # sub-env k plays gym.make(...).reset(seed=0 + k)
        >>> obs, rewards, terminated, truncated, info = vec.step(np.array([0, 1]))  # serial, parallel
        >>> obs.shape, rewards.shape, info["task_accuracy"].shape, info["strategy"].tolist()
        ((2, 5), (2,), (2, 4), ['serial', 'parallel'])
        >>> vec.unwrapped.costs.tolist()  # hidden from agents: for oracles and Sagiv's baseline only
        [0.1, 0.9]
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        config: SerialParallelConfig | None = None,
        *,
        preset: str | None = None,
        costs: Sequence[CostSpec] | None = None,
        render_mode: str | None = None,
        builder: Callable[..., SerialParallelConfig] = make_config,
        **settings: Any,
    ) -> None:
        self.num_envs = check_positive_int(num_envs, "num_envs")
        self.render_mode = render_mode
        if preset is not None:  # else the builder's own default preset
            settings["preset"] = preset
        self.config = cfg = builder(config=config, **settings)
        self._episodes = Episodes(cfg, self._check_costs(costs, "cost" in settings))  # the single env's, K of them
        self.single_action_space = gym.spaces.Discrete(len(cfg.strategies))
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = self._episodes.space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.learner: BatchedLearner | None = None
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    def _check_costs(self, costs: Sequence[CostSpec] | None, cost_given: bool) -> list[CostSpec]:
        """Each sub-env's cost spec: ``costs`` validated (one per sub-env), or the config's ``cost`` for all."""
        if costs is None:
            return [self.config.cost] * self.num_envs
        if cost_given:
            raise ValueError("give either cost (one for every sub-env) or costs (one per sub-env), not both")
        if isinstance(costs, (str, bytes)) or not isinstance(costs, Sequence) or len(costs) != self.num_envs:
            raise ValueError(
                f"costs must be a list of {self.num_envs} costs (one per sub-env), each a number in [0, 1] or a "
                f"(low, high) range, got {costs!r}"
            )
        return [check_cost(c, f"costs[{k}]") for k, c in enumerate(costs)]

    @property
    def reward_rule(self) -> RewardRule:
        """The :class:`~tradeoff_gym.envs.interface.RewardRule` : the single env's (costs not in it)."""
        return self.config.reward_rule

    @property
    def costs(self) -> np.ndarray:
        """``(K,)`` each sub-env's hidden cost, drawn at its reset (for oracles and the Sagiv baseline only)."""
        return self._episodes.costs

    # ------------------------------------------------------------------ reset
    def _draw(self, k: int, seed: int | None) -> int:
        """Sub-env ``k``'s reset draws, in the single env's order: the learner seed first, then the cost."""
        if seed is not None or self._rngs[k] is None:
            self._rngs[k] = seeding.np_random(seed)[0]
        self._autoreset[k] = False
        return self._episodes.begin(k, self._rngs[k])

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every sub-env (or those in ``options["reset_mask"]``); ``(K, obs) observations`` and vector info."""
        k_all = self.num_envs
        seeds = self._seeds(seed)
        mask = self._reset_mask(options)
        if self.learner is None and not mask.all():
            raise ValueError("the first reset() resets every sub-env: call it without options['reset_mask']")
        learner_seeds = {k: self._draw(k, seeds[k]) for k in range(k_all) if mask[k]}
        if mask.all():
            self.learner = BatchedLearner(self.config.learner, [learner_seeds[k] for k in range(k_all)])
        else:
            for k, learner_seed in learner_seeds.items():
                self.learner.reset(k, learner_seed)  # type: ignore[union-attr]
        info: dict[str, Any] = {}
        for k in learner_seeds:
            info = self._add_info(info, self._episodes.reset_info(), k)
        return self._episodes.obs.copy(), info

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        """One seed per sub-env, as ``SyncVectorEnv``: ``None`` → all None, an int ``s`` → ``s + k``, or a list."""
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
            return [int(seed) + k for k in range(self.num_envs)]
        if isinstance(seed, (list, tuple)) and len(seed) == self.num_envs:
            return list(seed)
        raise ValueError(
            f"seed must be None, an int or a list of {self.num_envs} ints/None (one per sub-env), got {seed!r}"
        )

    def _reset_mask(self, options: dict[str, Any] | None) -> np.ndarray:
        """``options["reset_mask"]`` validated, or all True."""
        if options is None or "reset_mask" not in options:
            return np.ones(self.num_envs, dtype=bool)
        mask = options["reset_mask"]
        valid = isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (self.num_envs,)
        if not valid or not mask.any():
            raise ValueError(
                f"options['reset_mask'] must be a numpy bool array of shape ({self.num_envs},) with at least one True, "
                f"got {mask!r}"
            )
        return mask

    # ------------------------------------------------------------------ step
    def _check_actions(self, actions: object) -> np.ndarray:
        """``(K,)`` int64 actions, or a ValueError naming the allowed shape and values."""
        n = self.single_action_space.n
        allowed = f"an array of shape ({self.num_envs},) of integers in [0, {n - 1}] (one strategy per sub-env)"
        try:
            array = np.asarray(actions)
            integral = array.dtype.kind in "iu" or (array.dtype.kind == "f" and bool(np.all(array == np.round(array))))
        except (TypeError, ValueError):
            array, integral = np.zeros(0), False
        if array.shape != (self.num_envs,) or not integral or not np.all((array >= 0) & (array < n)):
            raise ValueError(f"actions must be {allowed}, got {actions!r}")
        return array.astype(np.int64)

    def step(self, actions: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One trial of every sub-env with its action (sub-envs past their last trial are reset instead)."""
        if self.learner is None:
            raise RuntimeError("call reset() before step()")
        actions = self._check_actions(actions)
        resetting = self._autoreset.copy()
        for k in np.flatnonzero(resetting):
            self.learner.reset(int(k), self._draw(int(k), None))
        rewards, truncated, infos = self._episodes.step(self.learner, actions, ~resetting)
        info: dict[str, Any] = {}
        for k, single in enumerate(infos):  # a resetting sub-env's info is its fresh episode's reset info
            info = self._add_info(info, self._episodes.reset_info() if single is None else single, k)
        self._autoreset = truncated.copy()
        return self._episodes.obs.copy(), rewards, np.zeros(self.num_envs, dtype=bool), truncated, info

    def sub_env(self, k: int) -> SubEnvView:
        """What code that builds something for one sub-env may read of sub-env ``k`` (see :class:`SubEnvView`)."""
        return SubEnvView(self, check_index(k, self.num_envs, "sub-env index"))

    def probe(self, k: int) -> ProbeResult:
        """Probe sub-env ``k``'s network on its fixed probe set (no training, no effect on its data stream)."""
        if self.learner is None:
            raise RuntimeError("call reset() before probe()")
        return self.learner.probe(check_index(k, self.num_envs, "sub-env index"), self.config.probe_size)

    def close_extras(self, **kwargs: Any) -> None:
        """Drop the learners (their memory); a closed env cannot step."""
        self.learner = None


class SubEnvView:
    """Sub-env ``k`` of a vector env seen as the single env it plays: its spaces, config, reward rule, its spec
    (the single env's id and settings with ``cost`` = the sub-env's own cost spec) and its current ``cost``.

    For factories that build an agent from an env (e.g. Sagiv's agent, told the cost, reads ``unwrapped.cost``
    when it is reset; an SB3 agent reads ``spec``): one view per sub-env, read-only, no ``step``/``reset``.
    """

    def __init__(self, vector: SerialParallelVectorEnv, k: int) -> None:
        self._vector, self._k = vector, k
        self.config = vector.config
        self.action_space = vector.single_action_space
        self.observation_space = vector.single_observation_space
        spec = vector.spec
        if spec is not None:
            kwargs = {n: v for n, v in spec.kwargs.items() if n not in ("num_envs", "vectorization_mode", "costs")}
            spec = dataclasses.replace(spec, kwargs={**kwargs, "cost": vector._episodes.cost_specs[k]})
        self.spec = spec

    @property
    def unwrapped(self) -> SubEnvView:
        """The view itself (as ``env.unwrapped`` of a single env)."""
        return self

    @property
    def cost(self) -> float:
        """The sub-env's current hidden cost (drawn at its reset)."""
        return float(self._vector.costs[self._k])

    @property
    def reward_rule(self) -> RewardRule:
        """The single env's reward rule."""
        return self._vector.reward_rule


def make_vector(num_envs: int = 1, **settings: Any) -> SerialParallelVectorEnv:
    """``vector_entry_point`` of ``tradeoff/SerialParallel-v0``: :class:`SerialParallelVectorEnv` with ``num_envs``."""
    return SerialParallelVectorEnv(num_envs, **settings)

