"""World families: named distributions over an environment's settings, with fixed train and test splits.

A :class:`WorldFamily` turns a world index ``i`` into the settings of one world, drawn deterministically from
``numpy.random.SeedSequence([family_seed, i])``, and fixes which indices are **train** worlds (for designing
agents, thresholds and priors) and which are **test** worlds (held out for evaluation), plus the episode seeds
each split is played with. Why: agents are designed on train worlds and seeds and judged on held-out ones
(Procgen's ``num_levels``/``start_level`` for worlds). ``gym.make(id, family=NAME, world=i)`` builds world ``i``;
``check_settings`` validates the same arguments. What each family draws, and its split:
docs/environments/families.md; the measured crossover costs of ``sp-mixed``: docs/findings/families.md.

A published world never changes: a family's draw function, ``family_seed`` and split are frozen once its name
is in :data:`FAMILIES` (tests pin the settings of a few worlds). A new distribution is a new family name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tradeoff_gym.envs.interface import Strategy
from tradeoff_gym.envs.learning_curves import LearningCurvesConfig, LogisticCurve

#: The folder of the families' data files (shipped with the package): ``<family>_cstar.csv`` holds each world's
#: measured crossover cost (written by ``python -m tradeoff_gym.benchmarks.scripts.family_crossover``).
DATA_DIR = Path(__file__).resolve().parent / "data"

#: A family's draw: ``(rng, world index) -> settings by name`` (the env's ``gym.make`` keywords).
Draw = Callable[[np.random.Generator, int], dict[str, Any]]

SPLITS = ("train", "test")


@dataclass(frozen=True)
class WorldFamily:
    """A named, documented distribution over one env id's settings, with fixed train/test worlds and seeds.

    ``draw(rng, i)`` returns world ``i``'s settings by name; :meth:`settings` calls it with
    ``np.random.default_rng(np.random.SeedSequence([family_seed, i]))``, so world ``i`` is the same in every
    process and on every machine. ``train`` and ``test`` are disjoint tuples of world indices in
    ``range(size)``; ``train_seeds`` and ``test_seeds`` disjoint ranges of episode (root) seeds: design on
    ``train`` worlds with ``train_seeds``, evaluate on ``test`` worlds with ``test_seeds``. The settings a world
    draws are the world: ``gym.make(id, family=name, world=i, **more)`` refuses ``more`` that names one of them
    (see :func:`resolve`). Why: docs/environments/families.md.
    """

    name: str
    env_id: str
    description: str
    draw: Draw = field(repr=False, compare=False)
    train: tuple[int, ...]
    test: tuple[int, ...]
    train_seeds: range = range(0, 100)
    test_seeds: range = range(1000, 1100)
    family_seed: int = 0
    #: The serialization costs a benchmark sweeps on this family's worlds (where the worlds leave the cost open,
    #: as SerialParallel's do); empty where every world draws its own cost. The generalization experiment and the
    #: frontier scripts read it, so the frontier is chosen on the costs it is scored on.
    costs: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        for split in SPLITS:
            worlds = tuple(getattr(self, split))
            if not worlds or any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 0 for w in worlds):
                raise ValueError(f"{split} must be a non-empty tuple of world indices >= 0, got {worlds!r}")
            if len(set(worlds)) != len(worlds):
                raise ValueError(f"{split} lists a world twice: {worlds!r}")
            object.__setattr__(self, split, tuple(int(w) for w in worlds))
        if set(self.train) & set(self.test):
            raise ValueError(f"train and test share worlds {sorted(set(self.train) & set(self.test))}")
        for name in ("train_seeds", "test_seeds"):
            if not isinstance(getattr(self, name), range) or len(getattr(self, name)) == 0:
                raise ValueError(f"{name} must be a non-empty range, got {getattr(self, name)!r}")
        if set(self.train_seeds) & set(self.test_seeds):
            raise ValueError(f"train_seeds {self.train_seeds} and test_seeds {self.test_seeds} overlap")
        costs = tuple(self.costs)
        numbers = all(not isinstance(c, bool) and isinstance(c, (int, float, np.number)) for c in costs)
        if not numbers or not all(0 <= c < math.inf for c in costs) or len(set(costs)) != len(costs):
            raise ValueError(f"costs must be distinct finite numbers >= 0, got {costs!r}")
        object.__setattr__(self, "costs", tuple(float(c) for c in costs))

    @property
    def size(self) -> int:
        """Number of worlds: indices ``0 … size − 1`` (every one is in train or test)."""
        return max(max(self.train), max(self.test)) + 1

    def settings(self, world: int, *, check_range: bool = True) -> dict[str, Any]:
        """World ``world``'s settings by name (a fresh dict): ``draw`` on ``SeedSequence([family_seed, world])``.

        ``check_range=False`` draws indices past ``size`` too (worlds outside the published splits, e.g. the
        bench_navigator script's ``--instances`` beyond them); they are in neither split.
        """
        index = check_world(self, world) if check_range else int(world)
        rng = np.random.default_rng(np.random.SeedSequence([self.family_seed, index]))
        return self.draw(rng, index)

    def split(self, name: str) -> tuple[int, ...]:
        """The world indices of split ``name`` (``"train"`` or ``"test"``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return getattr(self, name)

    def with_seed(self, family_seed: int) -> WorldFamily:
        """The same distribution drawn with another ``family_seed`` (other worlds; not a published family)."""
        return replace(self, family_seed=int(family_seed))


def check_world(family: WorldFamily, world: object) -> int:
    """``world`` as an int in ``range(family.size)``, or a ValueError naming the range."""
    if isinstance(world, (bool, np.bool_)) or not isinstance(world, (int, np.integer)):
        raise ValueError(f"world must be an integer in [0, {family.size - 1}] (family {family.name!r}), got {world!r}")
    if not 0 <= int(world) < family.size:
        raise ValueError(f"world must be in [0, {family.size - 1}] for family {family.name!r}, got {world}")
    return int(world)


def _round(value: float, digits: int = 3) -> float:
    """``value`` to ``digits`` significant digits: published settings stay readable and exact in the docs."""
    return float(f"{value:.{digits}g}")


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


# ---------------------------------------------------------------------------------------------- SerialParallel
#: sp-mixed's strata (world ``i`` is in stratum ``i mod 3``): the ranges each draws its knobs from. What the
#: strata do (docs/findings/crossover-and-noise.md): a small gate offset β lets parallel training leave its
#: shared plateau within τ = 5000 (low c*); a large β keeps it there, and region_match and a third input set how
#: low that plateau is (c* up); input noise lowers c* everywhere, a small learning rate raises it a little.
SP_MIXED_STRATA: tuple[dict[str, Any], ...] = (
    {"label": "escape", "beta": (2.5, 5.5), "region_match": (0.5, 1.0), "lr": (5e-4, 1.2e-3),
     "input_noise": (0.0, 0.3), "sonar_size": 0},
    {"label": "plateau", "beta": (14.0, 20.0), "region_match": (0.0, 0.25), "lr": (7e-4, 1.4e-3),
     "input_noise": (0.0, 0.2), "sonar_size": 0},
    {"label": "plateau-3", "beta": (14.0, 20.0), "region_match": (0.0, 0.15), "lr": (7e-4, 1.2e-3),
     "input_noise": (0.0, 0.15), "sonar_size": 24},
)
#: The costs benchmarks sweep on sp-mixed: dense where the worlds' crossovers c* lie (0–0.8), and c = 1.
SP_MIXED_COSTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
#: Knobs drawn alike in every stratum: the minibatch and the capacity of the fully connected layers.
SP_MIXED_BATCH_SIZES = (16, 32)
SP_MIXED_HIDDEN_UNITS = ((32, 32), (64, 64))


def draw_sp_mixed(rng: np.random.Generator, world: int) -> dict[str, Any]:
    """World ``world`` of ``sp-mixed``: its stratum ``world mod 3``'s knob ranges (:data:`SP_MIXED_STRATA`).

    β uniform, region_match uniform, lr log-uniform, input noise uniform in the stratum's ranges (rounded to 3
    significant digits), the stratum's sonar input; batch size and hidden units uniform over
    :data:`SP_MIXED_BATCH_SIZES` and :data:`SP_MIXED_HIDDEN_UNITS`. Draw order is fixed (published worlds).
    """
    stratum = SP_MIXED_STRATA[world % len(SP_MIXED_STRATA)]
    beta = _round(rng.uniform(*stratum["beta"]))
    region_match = _round(rng.uniform(*stratum["region_match"]))
    lr = _round(_log_uniform(rng, *stratum["lr"]))
    noise = _round(rng.uniform(*stratum["input_noise"]))
    batch_size = int(SP_MIXED_BATCH_SIZES[rng.integers(len(SP_MIXED_BATCH_SIZES))])
    hidden_units = SP_MIXED_HIDDEN_UNITS[rng.integers(len(SP_MIXED_HIDDEN_UNITS))]
    return {"beta": beta, "region_match": region_match, "lr": lr, "input_noise": noise,
            "sonar_size": stratum["sonar_size"], "batch_size": batch_size, "hidden_units": hidden_units}


# ---------------------------------------------------------------------------------------------- LearningCurves
#: τ of the uniform and balanced families (bench_navigator's).
LC_HORIZON = 1000
#: The balanced families' range of serial's expected return ÷ parallel's (log-uniform in [1/r, r]).
BALANCED_RATIO = 2.0
#: lc-late-bloomers' ratio range: tighter around the crossover (log-uniform in [1/r, r]).
LATE_BLOOMER_RATIO = 1.5


def _uniform_curves(rng: np.random.Generator, horizon: int = LC_HORIZON) -> dict[str, Any]:
    """bench_navigator's uniform draw, scaled to ``horizon``: which strategy learns early is a coin flip, its
    midpoint uniform in [0, τ/3], the other's that plus uniform [0, 0.35 τ]; rates uniform in [0.01, 0.06] per
    pick × 1000/τ. The cost uniform in [0, 1] (drawn last). At τ = 1000 the draws are bench_navigator's, bit for bit."""
    scale = horizon / LC_HORIZON
    early = rng.uniform(0.0, horizon / 3)
    late = early + rng.uniform(0.0, 350.0 * scale)
    first = int(rng.integers(2))
    midpoints = (early, late) if first == 0 else (late, early)
    rates = tuple(float(r) / scale for r in rng.uniform(0.01, 0.06, size=2))
    curves = tuple(LogisticCurve(r, float(m)) for r, m in zip(rates, midpoints))
    return {"horizon": horizon, "curves": curves, "cost": float(rng.uniform())}


def _fixed_returns(settings: dict[str, Any]) -> np.ndarray:
    """Expected return of each fixed strategy at cost 0 (the rule's serial discount applied afterwards)."""
    keep = {k: v for k, v in settings.items() if k in ("horizon", "curves", "strategies")}
    return LearningCurvesConfig(**keep, cost=0.0).expected_fixed_returns(0.0)


def _balance(rng: np.random.Generator, ratio_range: float, draw: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Draw a target ratio ρ (serial's expected return ÷ parallel's, log-uniform in [1/r, r]) once, then curves
    from ``draw`` until the cost that gives ρ, ``c = serial(0) / (ρ · parallel) − 1``, lies in [0, 1]."""
    ratio = float(np.exp(rng.uniform(-np.log(ratio_range), np.log(ratio_range))))
    while True:
        settings = draw()
        serial, parallel = _fixed_returns(settings)
        cost = serial / (ratio * parallel) - 1.0  # serial's return is ÷ (1 + c) (the paper's reward rule)
        if 0.0 <= cost <= 1.0:
            return {**settings, "cost": float(cost)}


def draw_lc_uniform(rng: np.random.Generator, world: int) -> dict[str, Any]:
    """``lc-uniform`` world: bench_navigator's ``uniform`` family (τ = 1000, cost uniform in [0, 1])."""
    return _uniform_curves(rng)


def draw_lc_balanced(rng: np.random.Generator, world: int) -> dict[str, Any]:
    """``lc-balanced`` world: bench_navigator's ``balanced`` family — uniform curves, cost set from ρ ∈ [1/2, 2]."""
    return _balance(rng, BALANCED_RATIO, lambda: _uniform_curves(rng))


def draw_lc_late_bloomers(rng: np.random.Generator, world: int) -> dict[str, Any]:
    """``lc-late-bloomers`` world (τ = 1000): serial rises early (midpoint uniform in [0, 0.1 τ], rate in
    [0.02, 0.06]), parallel late and steep (midpoint in [0.3 τ, 0.6 τ], rate in [0.03, 0.1]); the cost from a
    ratio ρ log-uniform in [1/1.5, 1.5] (close to the crossover). Early on parallel pays almost nothing."""

    def curves() -> dict[str, Any]:
        serial = LogisticCurve(float(rng.uniform(0.02, 0.06)), float(rng.uniform(0.0, 0.1 * LC_HORIZON)))
        parallel = LogisticCurve(float(rng.uniform(0.03, 0.1)), float(rng.uniform(0.3, 0.6) * LC_HORIZON))
        return {"horizon": LC_HORIZON, "curves": (serial, parallel)}

    return _balance(rng, LATE_BLOOMER_RATIO, curves)


def draw_lc_short(rng: np.random.Generator, world: int) -> dict[str, Any]:
    """``lc-short`` world: τ log-uniform in [50, 300] (an integer), the uniform curves scaled to τ, the cost from
    ρ ∈ [1/2, 2] as ``lc-balanced``: little time to explore."""
    horizon = int(round(_log_uniform(rng, 50.0, 300.0)))
    return _balance(rng, BALANCED_RATIO, lambda: _uniform_curves(rng, horizon))


def draw_lc_wide(rng: np.random.Generator, world: int) -> dict[str, Any]:
    """``lc-wide`` world (τ = 1000): a table of S strategies, S uniform in 3…7 — strategy ``j`` a schedule
    paying the share ``delay_j = 1 − j/(S − 1)`` of the cost (``serial`` j = 0 pays all of it, ``parallel``
    j = S − 1 none, ``mixed-j`` between). Midpoints rise with the share of parallel passes: serial's uniform in
    [0, τ/5], parallel's that plus uniform [0.1 τ, 0.5 τ], the others interpolated linearly plus noise (std 0.05 τ,
    clipped at 0); rates uniform in [0.01, 0.06]; cost uniform in [0, 1]."""
    n = int(rng.integers(3, 8))
    early = rng.uniform(0.0, LC_HORIZON / 5)
    late = early + rng.uniform(0.1, 0.5) * LC_HORIZON
    shares = np.arange(n) / (n - 1)  # 0 = serial … 1 = parallel
    midpoints = np.clip(early + shares * (late - early) + rng.normal(0.0, 0.05 * LC_HORIZON, n), 0.0, None)
    midpoints[0], midpoints[-1] = early, late
    rates = rng.uniform(0.01, 0.06, n)
    strategies = tuple(
        Strategy("serial", True) if j == 0 else Strategy("parallel", False) if j == n - 1
        else Strategy(f"mixed-{j}", True, delay=float(1.0 - shares[j]))
        for j in range(n)
    )
    curves = tuple(LogisticCurve(float(r), float(m)) for r, m in zip(rates, midpoints))
    return {"horizon": LC_HORIZON, "strategies": strategies, "curves": curves, "cost": float(rng.uniform())}


# ---------------------------------------------------------------------------------------------- the registry
SP_ID = "tradeoff/SerialParallel-v0"
LC_ID = "tradeoff/LearningCurves-v0"


def _family(name: str, env_id: str, description: str, draw: Draw, n_train: int, n_test: int,
            **kwargs: Any) -> WorldFamily:
    """A family whose train worlds are ``0 … n_train − 1`` and test worlds the next ``n_test``."""
    return WorldFamily(name, env_id, description, draw, tuple(range(n_train)),
                       tuple(range(n_train, n_train + n_test)), **kwargs)


#: The published families by name. Never change a published family's draw, seed or split: add a new name.
FAMILIES: dict[str, WorldFamily] = {
    family.name: family
    for family in (
        _family("sp-mixed", SP_ID,
                "SerialParallel worlds over β, lr, region_match, input noise, a third input, batch and hidden "
                "units, in three strata (world mod 3) whose crossover costs c* at τ = 5000 fall low, middle and "
                "high in [0, 0.8]; the cost is not part of the world.", draw_sp_mixed, 24, 16,
                costs=SP_MIXED_COSTS),
        WorldFamily("lc-uniform", LC_ID,
                    "bench_navigator's uniform family: two logistic arms (one early, one up to 350 picks later), "
                    "rates in [0.01, 0.06], cost uniform in [0, 1]; τ = 1000.",
                    draw_lc_uniform, train=tuple(range(200, 400)), test=tuple(range(200)),
                    train_seeds=range(200, 400), test_seeds=range(200)),
        WorldFamily("lc-balanced", LC_ID,
                    "bench_navigator's balanced family: lc-uniform's curves with the cost set so serial's "
                    "expected return ÷ parallel's is log-uniform in [1/2, 2]; τ = 1000.",
                    draw_lc_balanced, train=tuple(range(200, 400)), test=tuple(range(200)),
                    train_seeds=range(200, 400), test_seeds=range(200)),
        _family("lc-late-bloomers", LC_ID,
                "serial rises early, parallel late and steep; cost within a factor 1.5 of the crossover; τ = 1000.",
                draw_lc_late_bloomers, 48, 32),
        _family("lc-short", LC_ID,
                "short episodes, τ in [50, 300], the uniform curves scaled to τ, cost balanced as lc-balanced.",
                draw_lc_short, 48, 32),
        _family("lc-wide", LC_ID,
                "tables of 3 to 7 strategies (schedules paying a share of the cost), midpoints rising with the "
                "share of parallel passes; cost uniform in [0, 1]; τ = 1000.",
                draw_lc_wide, 48, 32),
    )
}


def get_family(name: str) -> WorldFamily:
    """The published family ``name``, or a ValueError listing :data:`FAMILIES`."""
    if name not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {name!r}")
    return FAMILIES[name]


def world_settings(family: str | WorldFamily, world: int) -> dict[str, Any]:
    """World ``world``'s settings of ``family`` (a name or a :class:`WorldFamily`): ``gym.make`` keywords."""
    family = get_family(family) if isinstance(family, str) else family
    return family.settings(world)


def worlds(family: str | WorldFamily, spec: str) -> tuple[int, ...]:
    """World indices named by ``spec``: ``"train"``, ``"test"``, ``"all"``, ``"i"`` or ``"i-j"`` (inclusive),
    or a comma-separated list of those (``"0-3,7"``); for the CLI's ``--worlds``. Indices are checked
    against the family's range; duplicates are dropped, order kept."""
    family = get_family(family) if isinstance(family, str) else family
    out: list[int] = []
    for part in str(spec).split(","):
        part = part.strip()
        if part in SPLITS:
            out.extend(family.split(part))
        elif part == "all":
            out.extend(range(family.size))
        else:
            first, sep, last = part.partition("-")
            try:
                low, high = int(first), int(last) if sep else int(first)
            except ValueError:
                raise ValueError(
                    f"worlds must be 'train', 'test', 'all', 'i', 'i-j' or a comma-separated list, got {spec!r}"
                ) from None
            if high < low:
                raise ValueError(f"worlds range {part!r} is empty (i-j needs i <= j)")
            check_world(family, low), check_world(family, high)
            out.extend(range(low, high + 1))
    return tuple(dict.fromkeys(out))


def resolve(env_id: str, family: object, world: object, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings of ``gym.make(env_id, family=family, world=world, **settings)``: the world's, plus ``settings``.

    ``family`` and ``world`` come together. ``settings`` may add any setting the world does not set (``cost`` for
    SerialParallel families, ``horizon``, ``device``, ``batch_size`` of LearningCurves, …); one the world sets is
    refused, so a named world is always the same world (build from :func:`world_settings` to vary one).
    """
    if family is None or world is None:
        raise ValueError(f"give family and world together, got family={family!r}, world={world!r}")
    if not isinstance(family, str):
        raise ValueError(f"family must be a family name, one of {sorted(FAMILIES)}, got {family!r}")
    fam = get_family(family)
    if fam.env_id != env_id:
        raise ValueError(f"family {family!r} is a family of {fam.env_id}, not of {env_id}")
    drawn = fam.settings(check_world(fam, world))
    clash = sorted(set(drawn) & set(settings))
    if clash:
        raise ValueError(
            f"{clash} are set by world {world} of family {family!r} and cannot be given beside it (a named world "
            "never changes); build from tradeoff_gym.envs.families.world_settings(...) to vary them"
        )
    return {**drawn, **settings}
