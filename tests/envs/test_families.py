"""World families: deterministic worlds, fixed splits, gym.make(family=, world=), and sp-mixed's c* data file."""

import json

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import tradeoff_gym  # noqa: F401  (registers the ids)
from tradeoff_gym.benchmarks.scripts.bench_navigator import draw_instance
from tradeoff_gym.benchmarks.scripts.family_crossover import bands, data_path
from tradeoff_gym.envs import check_settings
from tradeoff_gym.envs.families import FAMILIES, WorldFamily, get_family, world_settings, worlds
from tradeoff_gym.envs.learning_curves import LogisticCurve
from tradeoff_gym.envs.serial_parallel import SerialParallelConfig

SP, LC = "tradeoff/SerialParallel-v0", "tradeoff/LearningCurves-v0"


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_has_disjoint_splits_of_the_promised_sizes(name):
    family = FAMILIES[name]
    assert family.name == name and family.env_id in (SP, LC)
    assert len(family.train) >= 24 and len(family.test) >= 16
    assert not set(family.train) & set(family.test)
    assert sorted(family.train + family.test) == list(range(family.size))  # every world is in one split
    assert not set(family.train_seeds) & set(family.test_seeds)
    assert worlds(family, "train") == family.train and worlds(name, "test") == family.test


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_world_is_drawn_the_same_every_time_and_builds(name):
    family = FAMILIES[name]
    for world in (0, family.test[0], family.size - 1):
        assert repr(family.settings(world)) == repr(world_settings(name, world))
        check_settings(family.env_id, family=name, world=world)
    assert repr(family.settings(0)) != repr(family.settings(1))  # worlds differ


def test_published_worlds_never_change():
    """Recorded settings: a change to a family's draw, seed or order fails here (a new distribution is a new name)."""
    assert world_settings("sp-mixed", 0) == {"beta": 4.41, "region_match": 0.635, "lr": 0.000518,
                                             "input_noise": 0.00496, "sonar_size": 0, "batch_size": 16,
                                             "hidden_units": (64, 64)}
    assert world_settings("sp-mixed", 1) == {"beta": 19.3, "region_match": 0.139, "lr": 0.00122,
                                             "input_noise": 0.191, "sonar_size": 0, "batch_size": 32,
                                             "hidden_units": (32, 32)}
    assert world_settings("sp-mixed", 2) == {"beta": 14.5, "region_match": 0.0604, "lr": 0.000968,
                                             "input_noise": 0.0218, "sonar_size": 24, "batch_size": 16,
                                             "hidden_units": (32, 32)}
    assert world_settings("lc-late-bloomers", 0) == {
        "horizon": 1000, "cost": 0.9156288095453153,
        "curves": (LogisticCurve(0.030791468550554812, 4.0973523936194685),
                   LogisticCurve(0.031156934486997037, 543.9810717600817))}
    short = world_settings("lc-short", 0)
    assert short["horizon"] == 157 and short["cost"] == 0.3876162650051287
    assert short["curves"][1] == LogisticCurve(0.25689037444814644, 3.052474658286863)
    wide = world_settings("lc-wide", 0)
    assert [s.name for s in wide["strategies"]] == ["serial", *(f"mixed-{j}" for j in range(1, 6)), "parallel"]
    assert wide["curves"][3] == LogisticCurve(0.011679278765273218, 177.35204979651985)
    assert wide["cost"] == 0.5414612202490917


def test_bench_navigator_draws_are_the_families_and_unchanged():
    """Values recorded from bench_navigator before its families moved to tradeoff_gym.envs.families."""
    assert draw_instance(0, 0) == draw_instance(0, 0, "uniform")
    uniform = draw_instance(0, 7)
    assert uniform.rates == (0.0338253406192567, 0.05204959397818834)
    assert uniform.midpoints == (284.9483043718667, 12.953687365838684) and uniform.cost == 0.948359196744353
    balanced = draw_instance(0, 199, "balanced")
    assert balanced.rates == (0.05527211505631967, 0.029425287420747258)
    assert balanced.midpoints == (292.3608436722448, 411.1916173660736) and balanced.cost == 0.02811808406660732
    for family in ("uniform", "balanced"):
        for index in (0, 7, 199):
            settings = world_settings(f"lc-{family}", index)
            inst = draw_instance(0, index, family)
            assert settings["curves"] == tuple(LogisticCurve(r, m) for r, m in zip(inst.rates, inst.midpoints))
            assert settings["cost"] == inst.cost and settings["horizon"] == 1000
    # the design family (seed 2) and instances past the published range still draw
    assert draw_instance(2, 450, "balanced") == draw_instance(2, 450, "balanced")


def test_gym_make_builds_the_world_and_reset_info_names_it():
    env = gym.make(SP, family="sp-mixed", world=2, horizon=3, cost=0.25)
    cfg: SerialParallelConfig = env.unwrapped.config
    assert (cfg.family, cfg.world, cfg.cost, cfg.horizon) == ("sp-mixed", 2, 0.25, 3)
    net, world = cfg.learner.network, cfg.learner.world
    assert (net.beta, net.hidden_units, world.sonar_size, world.region_match) == (14.5, (32, 32), 24, 0.0604)
    assert (cfg.learner.lr, cfg.learner.batch_size, world.input_noise) == (0.000968, 16, 0.0218)
    obs, info = env.reset(seed=0)
    assert (info["family"], info["world"], info["n_tasks"]) == ("sp-mixed", 2, 6)
    env.step(0)
    lc = gym.make(LC, family="lc-wide", world=0, batch_size=None)
    _, info = lc.reset(seed=0)
    assert (info["family"], info["world"], len(info["strategies"])) == ("lc-wide", 0, 7)
    assert lc.unwrapped.cost == world_settings("lc-wide", 0)["cost"]
    assert "family" not in gym.make(LC).reset(seed=0)[1]  # other envs' reset info is unchanged


def test_the_same_seed_replays_a_world_bit_identically():
    def rewards() -> list[float]:
        env = gym.make(LC, family="lc-short", world=5)
        env.reset(seed=3)
        return [env.step(t % 2)[1] for t in range(20)]

    assert rewards() == rewards()


def test_vector_env_plays_the_world_in_every_sub_env():
    vec = gym.make_vec(SP, num_envs=2, vectorization_mode="vector_entry_point", family="sp-mixed", world=1,
                       horizon=2, costs=[0.0, 0.5])
    assert vec.unwrapped.config.learner.network.beta == 19.3
    _, info = vec.reset(seed=0)
    assert info["family"].tolist() == ["sp-mixed"] * 2 and info["world"].tolist() == [1, 1]
    single = gym.make(SP, family="sp-mixed", world=1, horizon=2, cost=0.0)
    single.reset(seed=0)
    _, reward, *_ = single.step(1)
    _, rewards, *_ = vec.step(np.array([1, 1]))
    assert rewards[0] == pytest.approx(reward, abs=1e-5)
    assert vec.unwrapped.sub_env(1).spec.kwargs["world"] == 1  # an agent rebuilding from the spec gets the world


@pytest.mark.parametrize(
    ("env_id", "kwargs", "match"),
    [
        (SP, {"family": "nope", "world": 0}, r"family must be one of \['lc-balanced', .*'sp-mixed'\], got 'nope'"),
        (SP, {"family": "sp-mixed", "world": 40}, r"world must be in \[0, 39\] for family 'sp-mixed', got 40"),
        (SP, {"family": "sp-mixed", "world": -1}, r"world must be in \[0, 39\]"),
        (SP, {"family": "sp-mixed", "world": "3"}, r"world must be an integer in \[0, 39\]"),
        (SP, {"family": "sp-mixed"}, "give family and world together"),
        (SP, {"world": 3}, "world must be a DroneWorldConfig"),  # without a family: the learner's world, as ever
        (LC, {"world": 3}, "give family and world together"),
        (SP, {"family": "sp-mixed", "world": 3, "beta": 5.0}, r"\['beta'\] are set by world 3"),
        (SP, {"family": "sp-mixed", "world": 3, "preset": "balanced"}, "family/world or preset='balanced'"),
        (SP, {"family": "lc-wide", "world": 3}, "is a family of tradeoff/LearningCurves-v0"),
        ("tradeoff/SerialParallelNoisy-v0", {"family": "sp-mixed", "world": 3}, "preset='noisy'"),
        (LC, {"family": "lc-balanced", "world": 3, "cost": 0.5}, r"\['cost'\] are set by world 3"),
        (LC, {"family": "lc-short", "world": 80}, r"world must be in \[0, 79\]"),
        (LC, {"family": "sp-mixed", "world": 0}, "is a family of tradeoff/SerialParallel-v0"),
    ],
)
def test_check_settings_refuses_bad_families_and_worlds(env_id, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_settings(env_id, **kwargs)


def test_settings_beside_a_world_are_added():
    cfg = check_settings(SP, family="sp-mixed", world=0, horizon=100, cost=(0.0, 1.0), probe_every=10)
    assert (cfg.horizon, cfg.cost, cfg.probe_every, cfg.learner.network.beta) == (100, (0.0, 1.0), 10, 4.41)
    assert check_settings(LC, family="lc-uniform", world=3, batch_size=None).batch_size is None


def test_worlds_parser():
    assert worlds("sp-mixed", "0-3,7") == (0, 1, 2, 3, 7)
    assert worlds("sp-mixed", "5") == (5,) and worlds("sp-mixed", "all") == tuple(range(40))
    assert worlds("sp-mixed", "test,39") == tuple(range(24, 40))
    for bad, match in (("3-1", "is empty"), ("0-40", r"\[0, 39\]"), ("train-x", "worlds must be")):
        with pytest.raises(ValueError, match=match):
            worlds("sp-mixed", bad)


def test_family_validation():
    draw = FAMILIES["lc-uniform"].draw
    with pytest.raises(ValueError, match="share worlds"):
        WorldFamily("x", LC, "", draw, train=(0, 1), test=(1, 2))
    with pytest.raises(ValueError, match="overlap"):
        WorldFamily("x", LC, "", draw, train=(0,), test=(1,), train_seeds=range(5), test_seeds=range(3, 9))
    for costs in ((0.1, 0.1), (-0.1,), (float("nan"),), (True,)):
        with pytest.raises(ValueError, match="costs must be distinct finite numbers"):
            WorldFamily("x", LC, "", draw, train=(0,), test=(1,), costs=costs)
    assert FAMILIES["sp-mixed"].costs == (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
    assert all(not family.costs for family in FAMILIES.values() if family.env_id == LC)
    with pytest.raises(ValueError, match="family must be one of"):
        get_family("lc")


def test_balanced_families_set_the_cost_from_the_return_ratio():
    from tradeoff_gym.envs.learning_curves import make_config

    for name, ratio in (("lc-balanced", 2.0), ("lc-late-bloomers", 1.5), ("lc-short", 2.0)):
        ratios = []
        for world in FAMILIES[name].train[:48]:
            cfg = make_config(family=name, world=world)
            serial, parallel = cfg.expected_fixed_returns(cfg.cost)
            assert 0.0 <= cfg.cost <= 1.0
            ratios.append(serial / parallel)
        ratios = np.array(ratios)
        assert ratios.min() >= 1 / ratio - 1e-9 and ratios.max() <= ratio + 1e-9
        assert 0.25 <= (ratios > 1).mean() <= 0.75, name  # serial best in a sizable share, parallel too


def test_wide_tables_have_3_to_7_strategies_and_intermediate_schedules_can_win():
    from tradeoff_gym.envs.learning_curves import make_config

    family = FAMILIES["lc-wide"]
    sizes, middle_best = [], 0
    for world in family.train:
        cfg = make_config(family="lc-wide", world=world)
        delays = [s.delay for s in cfg.strategies]
        assert delays[0] == 1.0 and delays[-1] == 0.0 and delays == sorted(delays, reverse=True)
        sizes.append(len(delays))
        best = int(np.argmax(cfg.expected_fixed_returns(cfg.cost)))
        middle_best += 0 < best < len(delays) - 1
    assert min(sizes) == 3 and max(sizes) == 7
    assert middle_best >= len(family.train) // 5


def test_late_bloomers_rise_late():
    for world in FAMILIES["lc-late-bloomers"].train:
        serial, parallel = world_settings("lc-late-bloomers", world)["curves"]
        assert serial.midpoint <= 100 and 300 <= parallel.midpoint <= 600


def test_short_horizons():
    horizons = [world_settings("lc-short", w)["horizon"] for w in range(FAMILIES["lc-short"].size)]
    assert 50 <= min(horizons) and max(horizons) <= 300


# ------------------------------------------------------------------------------------ sp-mixed's c* data file
def _cstar_table() -> pd.DataFrame:
    path = data_path("sp-mixed")
    assert path.exists(), f"sp-mixed's data file {path} is missing (python -m ...family_crossover --family sp-mixed)"
    return pd.read_csv(path)


def test_the_data_file_is_of_the_published_worlds():
    table = _cstar_table()
    family = FAMILIES["sp-mixed"]
    assert set(table.family) == {"sp-mixed"}
    for row in table.itertuples():
        settings = family.settings(int(row.world))
        assert json.loads(row.settings) == json.loads(json.dumps(settings)), row.world  # the same world
        assert row.split == ("train" if row.world in family.train else "test")
        assert row.ci_low <= row.c_star <= row.ci_high
        serial, parallel = json.loads(row.serial_by_seed), json.loads(row.parallel_by_seed)
        assert len(serial) == len(parallel) == row.seeds
        assert row.c_star == pytest.approx(np.mean(serial) / np.mean(parallel) - 1, abs=1e-4)


def test_the_data_file_covers_the_cost_bands():
    """Each of [0, 0.2), [0.2, 0.5), [0.5, 0.8] holds at least a fifth of the measured worlds (at τ = 5000; per
    world its row with the most seeds)."""
    table = _cstar_table()
    paper = table[table.horizon == 5000].sort_values("seeds").drop_duplicates("world", keep="last")
    assert set(FAMILIES["sp-mixed"].train) <= set(paper.world)  # every train world is measured
    shares = bands(paper.c_star.to_numpy())
    assert all(shares[band] >= 0.2 for band in ("[0, 0.2)", "[0.2, 0.5)", "[0.5, 0.8]")), shares


def test_report_prints_a_row_per_world_and_the_band_shares():
    from tradeoff_gym.benchmarks.scripts.family_crossover import report

    text = report(_cstar_table())
    assert "| world | split | c* [95 % CI]" in text and "band shares: [0, 0.2)" in text


def test_bands():
    assert bands(np.array([0.0, 0.1, 0.2, 0.49, 0.5, 0.8, 0.81, -0.1])) == {
        "[0, 0.2)": 0.25, "[0.2, 0.5)": 0.25, "[0.5, 0.8]": 0.25, "outside": 0.25}
