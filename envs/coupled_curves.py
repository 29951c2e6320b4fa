"""A fast surrogate of a shared learner: serial and parallel train ONE low-dimensional state, calibrated per world.

``tradeoff/CoupledCurves-v0`` models what ``tradeoff/SerialParallel-v0`` measures (docs/science/crossover.md, shared
learners): each strategy's accuracy depends on the whole training history, not on its own pick count. Early serial
training keeps parallel on its plateau; serial training on a parallel-trained network first wrecks, then recovers
it. The state, its equations, the settings and how a calibration is fitted from schedules played on a neural world:
docs/environments/coupled-curves.md; fidelity numbers: docs/findings/coupled-curves.md.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tradeoff_gym.envs.common import (
    SERIAL_PARALLEL,
    CostMode,
    CostSpec,
    HorizonSpec,
    RewardRule,
    SummaryObservation,
    check_action,
    check_choice,
    check_cost,
    check_number,
    check_positive_int,
    draw_cost,
    given_config,
    reset_info,
    step_info,
)

#: Shipped calibrations (``preset=NAME`` reads ``NAME.json``), each fitted on the SerialParallel preset of its name
#: (``default``, ``balanced``) or on world ``i`` of a world family (``sp-mixed-w<i>``: sp-mixed's train worlds).
CALIBRATION_DIR = Path(__file__).parent / "data" / "coupled"

#: Action indices of the two strategies (the SerialParallel table: 0 = serial, 1 = parallel).
SERIAL_ACTION, PARALLEL_ACTION = 0, 1


@dataclass(frozen=True)
class CoupledParams:
    """The surrogate's parameters (a calibration); units are trials, accuracies in [0, 1]. Equations:
    docs/environments/coupled-curves.md.

    ``base`` accuracy of the untrained network (wrecks scale the whole accuracy, base included);
    ``ceiling_serial``/``ceiling_parallel`` what full skill reaches; ``rate_serial``/``rate_parallel`` skill a
    strategy's own trial adds to its skill (fraction of what is left), ``transfer_serial``/``transfer_parallel``
    what a trial of the other strategy adds to it (the shared part of the training), ``transfer_cap`` the most
    serial skill parallel training builds (what serial reads on a parallel-trained network); ``plateau`` the share
    of parallel's skill that counts before its representations separate; ``escape_at``/``escape_width`` the
    separation progress (parallel trials, net of serial setbacks) at which separation is half done, and the width
    of its logistic rise; ``setback`` progress one serial trial undoes at progress ≤ 0, fading as
    exp(−progress / ``setback_decay``) beyond it, ``floor`` the lowest progress can fall to (≤ 0);
    ``wreck_serial``/``wreck_parallel`` how hard training one strategy on a network shaped by the other wrecks
    its accuracy, ``recovery`` the share of a wreck healed per trial, ``trace_rate`` how fast the network's shape
    (an EMA of parallel training, 1 = parallel-trained) follows training, ``trace_start`` its value on a fresh
    network; ``noise_examples`` effective examples per task of the per-trial (binomial-like) accuracy noise.
    """

    base: float = 0.25
    ceiling_serial: float = 0.95
    ceiling_parallel: float = 0.95
    rate_serial: float = 0.004
    rate_parallel: float = 0.002
    transfer_serial: float = 0.001
    transfer_parallel: float = 0.002
    transfer_cap: float = 0.8
    plateau: float = 0.75
    escape_at: float = 2500.0
    escape_width: float = 200.0
    setback: float = 10.0
    setback_decay: float = 500.0
    floor: float = -1000.0
    wreck_serial: float = 0.2
    wreck_parallel: float = 0.05
    recovery: float = 0.1
    trace_rate: float = 0.05
    trace_start: float = 1.0
    noise_examples: float = 32.0

    #: Each parameter's allowed range (low, high); the fitter's bounds.
    BOUNDS = {
        "base": (0.0, 1.0), "ceiling_serial": (0.0, 1.0), "ceiling_parallel": (0.0, 1.0),
        "rate_serial": (1e-5, 0.5), "rate_parallel": (1e-5, 0.5), "transfer_serial": (0.0, 0.5),
        "transfer_parallel": (0.0, 0.5), "transfer_cap": (0.0, 1.0), "plateau": (0.0, 1.0),
        "escape_at": (0.0, 1e5), "escape_width": (1.0, 1e4), "setback": (0.0, 1e6),
        "setback_decay": (1.0, 1e6), "floor": (-1e5, 0.0),
        "wreck_serial": (0.0, 1.0), "wreck_parallel": (0.0, 1.0), "recovery": (1e-4, 1.0),
        "trace_rate": (1e-4, 1.0), "trace_start": (0.0, 1.0), "noise_examples": (1.0, 1e6),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self.BOUNDS.items():
            object.__setattr__(self, name, check_number(getattr(self, name), name, low, high))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The parameters' names, in the order of :meth:`vector`."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def vector(self) -> np.ndarray:
        """``(n_params,)`` the parameters in :meth:`names` order."""
        return np.array([getattr(self, n) for n in self.names()])

    def replace(self, **changes: float) -> CoupledParams:
        """A copy with ``changes``; an unknown name raises a ValueError listing the parameters."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise ValueError(f"unknown CoupledCurves parameter(s) {unknown}; parameters: {list(self.names())}")
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, float]:
        """The parameters as a JSON-ready dict."""
        return {n: float(getattr(self, n)) for n in self.names()}


def load_calibration(source: str | Path | dict | CoupledParams) -> tuple[CoupledParams, dict[str, Any]]:
    """A calibration: a shipped name (``"default"``), a JSON file path, a dict or params; returns (params, meta).

    A calibration file is a JSON object ``{"params": {name: value, …}, …}`` (what ``fit_coupled`` writes: the rest —
    data, scale, fidelity — is returned as ``meta``; its optional ``env`` object holds the settings the neural world
    fixes, e.g. ``{"n_tasks": 6, "batch_size": 16}``, which :func:`make_config` uses as defaults); a bare
    ``{name: value}`` object is read as the params.
    """
    if isinstance(source, CoupledParams):
        return source, {}
    if isinstance(source, dict):
        document = source
    else:
        path = Path(source)
        if not path.suffix and not path.exists():
            path = CALIBRATION_DIR / f"{source}.json"
            if not path.exists():
                shipped = sorted(p.stem for p in CALIBRATION_DIR.glob("*.json"))
                raise ValueError(f"calibration must be a shipped name {shipped} or a JSON file, got {source!r}")
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"calibration {str(path)!r} is not a readable JSON file: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"a calibration must be a JSON object, got {document!r}")
    params = document.get("params", document)
    if not isinstance(params, dict):
        raise ValueError(f"a calibration's params must be an object of numbers, got {params!r}")
    meta = {k: v for k, v in document.items() if k != "params"}
    return CoupledParams().replace(**params), meta


def simulate(params: CoupledParams, actions: np.ndarray, *, both: bool = True) -> np.ndarray:
    """Expected accuracies along schedules: ``actions`` ``(R, τ)`` (0 serial, 1 parallel) → ``(R, τ, 2)``.

    Entry ``[r, t, a]`` is strategy ``a``'s expected accuracy at trial ``t`` of schedule ``r``, before that trial's
    update (the accuracy an answer would get), whichever strategy the schedule plays. ``both=False`` returns
    ``(R, τ)``: only the played strategy's. The recursion is the env's own (:class:`CoupledState`), in scalar
    Python: for a few schedules that is faster than a numpy loop over trials.
    """
    actions = np.asarray(actions)
    if actions.ndim != 2 or not np.isin(actions, (SERIAL_ACTION, PARALLEL_ACTION)).all():
        raise ValueError(f"actions must be (schedules, trials) of 0 (serial) and 1 (parallel), got {actions!r}")
    out = np.empty((*actions.shape, 2) if both else actions.shape)
    for r, row in enumerate(actions.tolist()):
        state = CoupledState(params)
        accuracy, train = state.accuracy, state.train
        if both:
            out[r] = [(accuracy(0), accuracy(1), train(a))[:2] for a in row]
        else:
            out[r] = [(accuracy(a), train(a))[0] for a in row]
    return out


class CoupledState:
    """One episode's state in scalar form (the env's per-trial recursion; :func:`simulate` is its vector form).

    ``skill_serial``, ``skill_parallel`` each strategy's skill in [0, 1]; ``progress`` separation progress
    (trials); ``wreck_serial``, ``wreck_parallel`` in [0, 1]; ``trace`` in [0, 1] the network's shape
    (1 = parallel-trained).
    """

    __slots__ = ("p", "skill_serial", "skill_parallel", "progress", "wreck_serial", "wreck_parallel", "trace",
                 "_span_s", "_span_p")

    def __init__(self, params: CoupledParams) -> None:
        self.p = params
        self._span_s = params.ceiling_serial - params.base
        self._span_p = params.ceiling_parallel - params.base
        self.skill_serial = self.skill_parallel = self.progress = self.wreck_serial = self.wreck_parallel = 0.0
        self.trace = params.trace_start

    def accuracy(self, action: int) -> float:
        """Strategy ``action``'s expected accuracy now (before this trial's update)."""
        p = self.p
        if action == SERIAL_ACTION:
            return (p.base + self._span_s * self.skill_serial) * (1.0 - self.wreck_serial)
        return (p.base + self._span_p * self.skill_parallel * (p.plateau + (1.0 - p.plateau) * self.separation())) * (
            1.0 - self.wreck_parallel)

    def separation(self) -> float:
        """How far parallel training has separated the representations, in [0, 1]: logistic in the progress."""
        p = self.p
        return 0.5 * (1.0 + math.tanh((self.progress - p.escape_at) / (2.0 * p.escape_width)))

    def train(self, action: int) -> None:
        """One trial of training with ``action``."""
        p = self.p
        keep = 1.0 - p.recovery
        if action == PARALLEL_ACTION:
            self.skill_parallel += p.rate_parallel * (1.0 - self.skill_parallel)
            if self.skill_serial < p.transfer_cap:
                self.skill_serial += p.transfer_serial * (p.transfer_cap - self.skill_serial)
            self.progress += 1.0
            self.wreck_parallel += p.wreck_parallel * (1.0 - self.trace) * (1.0 - self.wreck_parallel)
            self.trace += p.trace_rate * (1.0 - self.trace)
        else:
            self.skill_serial += p.rate_serial * (1.0 - self.skill_serial)
            self.skill_parallel += p.transfer_parallel * (1.0 - self.skill_parallel)
            fade = math.exp(-self.progress / p.setback_decay) if self.progress > 0.0 else 1.0
            self.progress = max(self.progress - p.setback * fade, p.floor)
            self.wreck_serial += p.wreck_serial * self.trace * (1.0 - self.wreck_serial)
            self.trace -= p.trace_rate * self.trace
        self.wreck_serial *= keep
        self.wreck_parallel *= keep


@dataclass(frozen=True)
class CoupledCurvesConfig:
    """Settings of :class:`CoupledCurvesEnv`; validated at construction.

    ``params`` the calibration (:class:`CoupledParams`); ``calibration`` where it came from (a shipped name, a file
    path, or ``None`` when given directly); ``horizon`` τ trials; ``cost`` the hidden serialization cost, fixed or a
    ``(low, high)`` range drawn per episode; ``cost_mode`` ``divide`` (÷ (1 + c), the paper) or ``additive``;
    ``n_tasks`` tasks per trial (4: the drone world; every task has the strategy's expected accuracy);
    ``batch_size`` examples per task (accuracies are multiples of 1/batch_size; ``None``: unrounded); ``noise``
    whether per-trial accuracies are noisy (``params.noise_examples``) or the expected values.
    """

    params: CoupledParams = field(default_factory=CoupledParams)
    calibration: str | None = None
    horizon: int = 5000
    cost: CostSpec = 0.5
    cost_mode: CostMode = "divide"
    n_tasks: int = 4
    batch_size: int | None = 32
    noise: bool = True
    strategies: tuple = field(default=SERIAL_PARALLEL, init=False)
    reward_rule: RewardRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.params, CoupledParams):
            raise ValueError(f"params must be a CoupledParams, got {self.params!r}")
        set_(self, "horizon", check_positive_int(self.horizon, "horizon"))
        set_(self, "cost", check_cost(self.cost))
        set_(self, "n_tasks", check_positive_int(self.n_tasks, "n_tasks"))
        if self.batch_size is not None:
            set_(self, "batch_size", check_positive_int(self.batch_size, "batch_size"))
        if not isinstance(self.noise, bool):
            raise ValueError(f"noise must be True or False, got {self.noise!r}")
        set_(self, "reward_rule", RewardRule(self.strategies, self.cost_mode, "mean"))


def make_config(
    preset: str = "default",
    *,
    config: CoupledCurvesConfig | None = None,
    calibration: str | dict | CoupledParams | None = None,
    **settings: Any,
) -> CoupledCurvesConfig:
    """The config of ``tradeoff/CoupledCurves-v0``: a calibration plus settings and parameter overrides by name.

    ``preset`` names a shipped calibration (:data:`CALIBRATION_DIR`; ``"default"``: fitted on SerialParallel's
    default world; ``"sp-mixed-w3"``: on world 3 of the sp-mixed family); ``calibration`` (instead) a calibration
    file path, a dict or :class:`CoupledParams`. The calibration's ``env`` settings (a family world's ``n_tasks``
    and ``batch_size``) are the defaults. ``settings`` may name any :class:`CoupledCurvesConfig` field
    (``horizon``, ``cost``, ``cost_mode``, ``n_tasks``, ``batch_size``, ``noise``) or any :class:`CoupledParams`
    parameter (``escape_at=3000``), which overrides the calibration's. A ready ``config`` is taken as it is.
    Unknown names or bad values raise a ValueError naming them.
    """
    if config is not None:
        return given_config(config, CoupledCurvesConfig, preset, "default", settings)
    if calibration is not None and preset != "default":
        raise ValueError(f"give either preset={preset!r} or calibration, not both")
    source = calibration if calibration is not None else preset
    if isinstance(source, str) and not source.endswith(".json"):
        shipped = sorted(p.stem for p in CALIBRATION_DIR.glob("*.json"))
        check_choice(source, tuple(shipped), "preset" if calibration is None else "calibration")
    params, meta = load_calibration(source)
    own = {f.name for f in dataclasses.fields(CoupledCurvesConfig) if f.init} - {"params", "calibration"}
    fixed = meta.get("env", {})
    if not isinstance(fixed, dict) or set(fixed) - own:
        raise ValueError(f"a calibration's env must be an object of settings among {sorted(own)}, got {fixed!r}")
    settings = {**fixed, **settings}
    param_names = set(CoupledParams.names())
    unknown = sorted(set(settings) - own - param_names)
    if unknown:
        raise ValueError(f"unknown CoupledCurves setting(s) {unknown}; settings: {sorted(own)}, parameters: "
                         f"{sorted(param_names)}")
    params = params.replace(**{k: v for k, v in settings.items() if k in param_names})
    name = str(source) if isinstance(source, (str, Path)) else None
    return CoupledCurvesConfig(params=params, calibration=name, **{k: v for k, v in settings.items() if k in own})


class CoupledCurvesEnv(HorizonSpec, gym.Env):
    """Serial and parallel train one low-dimensional learner: a ≥ 50k steps/s stand-in for SerialParallel-v0.

    Each strategy's expected accuracy is a function of one state that both strategies train (shared skill,
    separation progress, wrecks, the network's shape; :class:`CoupledState`, docs/environments/coupled-curves.md),
    calibrated on a neural world by ``python -m tradeoff_gym.benchmarks.scripts.fit_coupled``.

    ## Action Space
    ``Discrete(2)``: 0 = serial, 1 = parallel (SerialParallel's table).

    ## Observation Space
    ``Box(-1, 1, (5,), float32)``: :class:`tradeoff_gym.envs.common.SummaryObservation`, as SerialParallel's.

    ## Rewards
    Per task, the strategy's expected accuracy plus noise (Gaussian, variance p(1 − p)/``noise_examples``),
    rounded to a multiple of 1/``batch_size`` and clipped to [0, 1]; then SerialParallel's
    :class:`tradeoff_gym.envs.interface.RewardRule` (serial ÷ (1 + c) in ``divide`` mode), mean over tasks. The
    state never depends on c, so fixed schedules re-discount exactly, as on SerialParallel.

    ## Episode End
    Truncated after ``horizon`` trials (``env.spec.max_episode_steps``); never terminated. A step after the end,
    or before the first ``reset``, raises a RuntimeError.

    ## Arguments
    ``preset`` a shipped calibration (``"default"``), ``calibration`` a calibration file/dict instead, ``config``
    a :class:`CoupledCurvesConfig`, or settings and parameters by name (:func:`make_config`), e.g.
    ``gym.make("tradeoff/CoupledCurves-v0", cost=0.3, horizon=2000, escape_at=3000)``.

    ``info``: SerialParallel's step keys (:func:`tradeoff_gym.envs.common.step_info`); reset info as SerialParallel's
    plus ``calibration``.

    Examples:
        >>> import gymnasium as gym
        >>> import tradeoff_gym  # registers the environment ids
        >>> env = gym.make("tradeoff/CoupledCurves-v0", cost=0.3, horizon=3)
        >>> obs, info = env.reset(seed=0)
        >>> info["strategies"], info["n_tasks"], env.observation_space.shape
        (('serial', 'parallel'), 4, (5,))
        >>> obs, reward, terminated, truncated, info = env.step(1)
        >>> info["strategy"], info["task_accuracy"].shape, 0.0 <= reward <= 1.0
        ('parallel', (4,), True)
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        config: CoupledCurvesConfig | None = None,
        *,
        preset: str = "default",
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        self.render_mode = render_mode  # nothing to draw; kept because wrappers pass one
        self.config = cfg = make_config(preset, config=config, **settings)
        self.action_space = gym.spaces.Discrete(2)
        self._summary = SummaryObservation(2, cfg.horizon)
        self.observation_space = self._summary.space
        self.cost = draw_cost(cfg.cost, np.random.default_rng(0))  # replaced at every reset
        self.state: CoupledState | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        cfg = self.config
        rng = self.np_random
        self.cost = draw_cost(cfg.cost, rng)
        # The noise of every trial and task, drawn once (step is then arithmetic): standard normals (τ, n_tasks).
        self._noise = rng.standard_normal((cfg.horizon, cfg.n_tasks)).tolist() if cfg.noise else None
        rule = cfg.reward_rule
        self._payoffs = [rule.task_payoffs(a, self.cost, cfg.n_tasks).tolist() for a in range(2)]
        self._scale = cfg.batch_size or 0
        self._weight = float(rule.aggregate_weights(cfg.n_tasks))
        self._inv_examples = 1.0 / cfg.params.noise_examples
        self.state = CoupledState(cfg.params)
        self._picks = np.zeros(2, dtype=np.int64)
        info = reset_info(cfg.strategies, cfg.horizon, cfg.n_tasks)
        info["calibration"] = cfg.calibration
        return self._summary.reset(), info

    def step(self, action):
        a = action if type(action) is int and 0 <= action < 2 else check_action(action, 2)
        state, cfg = self.state, self.config
        if state is None:
            raise RuntimeError("call reset() before step()")
        trial = self._summary.trial
        if trial >= cfg.horizon:
            raise RuntimeError(f"episode is over after horizon={cfg.horizon} trials; call reset()")
        expected = state.accuracy(a)
        # Per-task accuracies in Python floats: for a few tasks cheaper than a chain of numpy calls (the hot path).
        scale = self._scale
        if self._noise is None:
            values = [expected] * cfg.n_tasks
        else:
            spread = math.sqrt(max(expected * (1.0 - expected), 0.0) * self._inv_examples)
            values = [expected + spread * z for z in self._noise[trial]]
        if scale:
            values = [min(max(round(v * scale) / scale, 0.0), 1.0) for v in values]
        else:
            values = [min(max(v, 0.0), 1.0) for v in values]
        payoffs = self._payoffs[a]
        paid = [v * p for v, p in zip(values, payoffs)]
        reward = cfg.reward_rule.offset + sum(paid) * self._weight
        task_accuracy, task_rewards = np.array(values), np.array(paid)
        state.train(a)
        self._picks[a] += 1
        obs = self._summary.update(a, reward)
        info = step_info(cfg.strategies[a], task_rewards, task_accuracy, trial + 1, self._picks,
                         raw_accuracy=sum(values) / cfg.n_tasks)
        return obs, reward, False, trial + 1 >= cfg.horizon, info

    @property
    def reward_rule(self) -> RewardRule:
        """The :class:`~tradeoff_gym.envs.interface.RewardRule` (SerialParallel's): the cost is not part of it."""
        return self.config.reward_rule

    def expected_accuracy(self) -> np.ndarray:
        """``(2,)`` each strategy's expected accuracy now (no noise; for tests and oracles)."""
        if self.state is None:
            raise RuntimeError("call reset() before expected_accuracy()")
        return np.array([self.state.accuracy(a) for a in range(2)])
