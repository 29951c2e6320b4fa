"""The batch protocol: a batch of built-in agents plays exactly the actions of the agents played one by one."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import expit

import tradeoff_gym  # noqa: F401  (registers the ids)
from tradeoff_gym.agents.base import EpisodeBatch, batch_agent
from tradeoff_gym.agents.curve_model import PAPER_PRIOR, CurveModel, CurvePrior
from tradeoff_gym.agents.meta_learner import LATE_ONSET, MetaLearnerAgent, MetaLearnerBatch
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.agents.rising import _capped_linear_sum, _capped_linear_sums
from tradeoff_gym.agents.sagiv import fit_logistic_map
from tradeoff_gym.agents.svgd import SVGD, _lower_median
from tradeoff_gym.benchmarks.run_loop import run_episodes
from tradeoff_gym.envs.learning_curves import LogisticCurve

K = 6
# Per sub-env: its own cost and curves, binomial noise and a random number of tasks per trial (NaN task rewards),
# so the K episodes' reward streams, picks and binned data differ.
CURVES = [
    (LogisticCurve(0.03, 40.0 + 30 * k), LogisticCurve(0.02 + 0.01 * k, 150.0 - 20 * k)) for k in range(K)
]


def noisy_vector_env(horizon: int = 120) -> gym.vector.SyncVectorEnv:
    """K LearningCurves episodes with different costs, curves and task counts, in lockstep."""
    return gym.vector.SyncVectorEnv([
        (lambda k=k: gym.make(
            "tradeoff/LearningCurves-v0", horizon=horizon, cost=0.1 + 0.15 * k, curves=CURVES[k], batch_size=16,
            task_count_probs=(0.2, 0.3, 0.2, 0.3),
        ))
        for k in range(K)
    ])


# (registry name, settings): every built-in agent with a batch version, and settings that change its code path.
BATCHED = [
    ("meta-learner", {}),
    ("meta-learner", {"refit_every": 3, "max_points": 20, "n_particles": 8}),
    ("meta-learner", {**LATE_ONSET, "n_particles": 8}),
    ("meta-learner", {"curve_family": "paper", "n_particles": 8, "svgd_steps": 3}),
    ("sagiv", {}),
    ("sagiv", {"epsilon": 0.5, "gamma": 0.9}),
    ("ucb1", {}),
    ("ucb1", {"exploration": 0.0}),  # ties between equal means: each episode's own tie-break draws
    ("epsilon-greedy", {"epsilon": 0.3}),
    ("gaussian-ts", {}),
    ("r-ed-ucb", {}),
    ("r-ed-ucb", {"epsilon": 0.5, "sigma": 0.0}),
    ("cure-ucb", {}),
    ("cure-ucb", {"reward_max": None, "epsilon": 0.25}),
    ("cure-ucb", {"reward_max": 0.3, "sigma": 0.5}),  # the cap binds
    ("navigator", {}),
    ("navigator", {"n_particles": 256, "n_posterior": 64, "n_hypotheses": 16}),
    ("navigator", {"n_particles": 128, "n_posterior": 32, "n_hypotheses": 8, "block": 0.05, "early_look": True,
                   "confident": 0.999}),
]


def play(name: str, settings: dict, envs: gym.vector.VectorEnv, seeds: list[int], batched: bool) -> list[pd.DataFrame]:
    return play_with_agents(name, settings, envs, seeds, batched)[0]


def play_with_agents(
    name: str, settings: dict, envs: gym.vector.VectorEnv, seeds: list[int], batched: bool
) -> tuple[list[pd.DataFrame], list]:
    sub_envs = getattr(envs, "envs", None)
    agents = [make_agent(name, sub_envs[k] if sub_envs else envs.sub_env(k), **settings) for k in range(len(seeds))]
    return run_episodes(envs, agents, seeds, batched=batched), agents


# What each agent has learned at the end of an episode: a batch must leave it bit for bit as the agent alone does
# (equal actions could hide a last-bit difference that a longer episode would act on).
LEARNED = {
    "meta-learner": lambda agent: [agent.model.particles.numpy(), agent.model.sigma],
    "sagiv": lambda agent: [agent.beta],
    "navigator": lambda agent: [agent.logw, agent.theta, agent.stats],
    "ucb1": lambda agent: [agent.means],
    "epsilon-greedy": lambda agent: [agent.means],
    "gaussian-ts": lambda agent: [agent.means],
    "r-ed-ucb": lambda agent: [agent.prefix, agent.weighted],
    "cure-ucb": lambda agent: [agent.prefix, agent.weighted],
}


@pytest.mark.parametrize(("name", "settings"), BATCHED)
def test_batch_plays_the_actions_of_the_agents_played_one_by_one(name, settings, monkeypatch):
    seeds = [3, 17, 4, 99, 5, 1234]
    calls = []
    original = EpisodeBatch.reset_batch
    monkeypatch.setattr(EpisodeBatch, "reset_batch", lambda self, *a: (calls.append(type(self)), original(self, *a)))
    alone, alone_agents = play_with_agents(name, settings, noisy_vector_env(), seeds, batched=False)
    assert calls == []
    together, batch_agents = play_with_agents(name, settings, noisy_vector_env(), seeds, batched=True)
    assert len(calls) == 1 and calls[0] is not EpisodeBatch  # the agent's own batch ran, not the fallback
    assert len({tuple(frame.action) for frame in alone}) > 1  # the episodes differ from one another
    for one, other in zip(alone, together):
        pd.testing.assert_frame_equal(one, other)
    for one, other in zip(alone_agents, batch_agents):
        for mine, theirs in zip(LEARNED[name](one), LEARNED[name](other), strict=True):
            assert np.array_equal(mine, theirs)


def test_meta_learner_batch_runs_the_episodes_refits_as_one_svgd_program(monkeypatch):
    runs, widths = [], []
    run, blocked = SVGD.run, CurveModel._blocked_score
    monkeypatch.setattr(SVGD, "run", lambda self, particles, *a, **kw: (
        runs.append(particles.shape[0]), run(self, particles, *a, **kw))[1])
    monkeypatch.setattr(CurveModel, "_blocked_score", lambda self, theta, blocks, padded: (
        widths.append(len(blocks)), blocked(self, theta, blocks, padded))[1])
    play("meta-learner", {"n_particles": 8}, noisy_vector_env(), list(range(K)), batched=True)
    curves = 2 * 4  # strategies × tasks of one episode
    assert set(runs) == {K * curves}  # every refit: all K episodes in one SVGD run
    assert max(widths) > 2  # episodes whose data differ in width: their sums over bins apart


def test_meta_learner_batch_on_the_serial_parallel_vector_env():
    def run(batched: bool) -> list[pd.DataFrame]:
        envs = gym.make_vec(
            "tradeoff/SerialParallel-v0", num_envs=3, vectorization_mode="vector_entry_point", horizon=12,
            costs=[0.1, 0.5, 0.9],
        )
        agents = [MetaLearnerAgent(refit_every=2, n_particles=8) for _ in range(3)]
        return run_episodes(envs, agents, [0, 1, 2], batched=batched)

    for one, other in zip(run(False), run(True)):
        pd.testing.assert_frame_equal(one, other)


class UserAgent(MetaLearnerAgent):
    """A user's subclass: it may change what the batch would vectorise, so it plays one by one."""

    name = "user"


def test_batch_only_when_every_agent_is_one_class_with_a_batch_and_the_same_settings():
    same = [MetaLearnerAgent() for _ in range(3)]
    assert isinstance(batch_agent(same), MetaLearnerBatch)
    assert batch_agent([MetaLearnerAgent(), MetaLearnerAgent(), UserAgent()]) is None
    assert batch_agent([UserAgent(), UserAgent()]) is None
    assert batch_agent([MetaLearnerAgent(), MetaLearnerAgent(refit_every=3)]) is None
    assert batch_agent([make_agent("ucb1", None)] * 1 + [make_agent("random", None)]) is None


def test_run_loop_steps_a_mixed_batch_one_by_one(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a batch was built for a batch holding a user's agent")

    monkeypatch.setattr(MetaLearnerBatch, "act_batch", refuse)
    envs = noisy_vector_env(horizon=15)
    agents = [MetaLearnerAgent(n_particles=8) for _ in range(K - 1)] + [UserAgent(n_particles=8)]
    frames = run_episodes(envs, agents, list(range(K)))
    assert [len(frame) for frame in frames] == [15] * K


class BadBatch(EpisodeBatch):
    def act_batch(self, obs, infos, active):
        return np.full(len(self.agents), 0.5)


class BadAgent(MetaLearnerAgent):
    @classmethod
    def batched(cls, agents):
        return BadBatch(agents)


def test_a_batch_returning_non_integer_actions_is_refused():
    with pytest.raises(ValueError, match=r"returned action .*0\.5"):
        run_episodes(noisy_vector_env(horizon=5), [BadAgent(n_particles=4) for _ in range(K)], list(range(K)))


def reference_fit_logistic_map(x, successes, trials, beta, prior_std, *, max_iter=25, tol=1e-8):
    """fit_logistic_map as it was written with np.linalg (the yardstick of the faster one)."""
    design = np.stack((np.ones_like(x), x), axis=-1)
    precision = np.eye(2) / prior_std**2
    beta = beta.copy()
    for _ in range(max_iter):
        p = expit(beta @ design.T)
        grad = (successes - trials * p) @ design - beta @ precision
        weight = trials * p * (1.0 - p)
        hessian = np.einsum("sm,mi,mj->sij", weight, design, design) + precision
        step = np.linalg.solve(hessian, grad[..., None])[..., 0]
        norm = np.linalg.norm(step, axis=-1, keepdims=True)
        step *= np.minimum(1.0, 10.0 / np.maximum(norm, 1e-300))
        beta += step
        if np.max(np.abs(step)) < tol:
            break
    return beta


def test_sagiv_fit_is_bit_identical_to_the_np_linalg_version():
    rng = np.random.default_rng(0)
    for _ in range(300):
        s, m = int(rng.integers(1, 4)), int(rng.integers(2, 60))
        x = np.sort(rng.random(m))
        trials = rng.integers(0, 5, size=(s, m)).astype(float)
        successes = trials * rng.random((s, m))
        beta = rng.normal(0, 3, size=(s, 2))
        prior_std = float(rng.choice([1.0, 30.0]))
        want = reference_fit_logistic_map(x, successes, trials, beta, prior_std)
        got = fit_logistic_map(x, successes, trials, beta, prior_std)
        assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_svgd_bandwidth_median_is_torchs_median(dtype):
    gen = torch.Generator().manual_seed(0)
    for n in (1, 2, 3, 28, 496, 497):
        values = torch.rand(7, 5, n, generator=gen, dtype=dtype)
        values[0, 0, 0] = float("nan")  # a row with NaN: NaN, as torch's median
        values[1, 1] = values[1, 1].round(decimals=1)  # ties
        values[2, 2, -1] = float("inf")
        want = values.median(dim=-1).values
        got = _lower_median(values)
        assert got.dtype == dtype and torch.equal(got.isnan(), want.isnan())
        assert torch.equal(got.nan_to_num(0.0), want.nan_to_num(0.0))


@pytest.mark.parametrize(("name", "settings"), [
    ("meta-learner", {"n_particles": 8}), ("sagiv", {}), ("ucb1", {}), ("gaussian-ts", {}), ("cure-ucb", {}),
    ("navigator", {"n_particles": 128, "n_posterior": 32, "n_hypotheses": 8}),
])
def test_batch_equals_one_by_one_when_episodes_end_at_different_trials(name, settings):
    horizons = [30, 45, 30, 60]

    def envs() -> gym.vector.SyncVectorEnv:
        return gym.vector.SyncVectorEnv([
            (lambda k=k: gym.make("tradeoff/LearningCurves-v0", horizon=horizons[k], cost=0.2 * k,
                                  curves=CURVES[k], batch_size=16))
            for k in range(len(horizons))
        ])

    alone = play(name, settings, envs(), [5, 6, 7, 8], batched=False)
    together = play(name, settings, envs(), [5, 6, 7, 8], batched=True)
    assert [len(frame) for frame in together] == horizons
    for one, other in zip(alone, together):
        pd.testing.assert_frame_equal(one, other)


def test_capped_linear_sums_equal_the_scalar_sum_in_every_branch():
    rng = np.random.default_rng(1)
    first = rng.uniform(-0.5, 1.5, size=2000)
    step = np.where(rng.random(2000) < 0.1, 0.0, rng.uniform(0, 0.01, size=2000))
    for cap in (None, 1.0, 0.3):
        for count in (1, 7, 400):
            got = _capped_linear_sums(first, step, count, cap)
            want = np.array([_capped_linear_sum(f, s, count, cap) for f, s in zip(first, step)])
            assert np.array_equal(got, want), (cap, count)


def test_fit_together_moves_every_model_as_its_own_fit_does():
    rng = np.random.default_rng(0)
    for family, prior in (("shape", CurvePrior()), ("paper", PAPER_PRIOR)):
        models = []
        for _ in range(7):
            model = CurveModel(
                8, 1500, n_particles=16, svgd=SVGD(steps=5), family=family, prior=prior,
                generator=torch.Generator().manual_seed(int(rng.integers(1 << 30))),
            )
            for _ in range(int(rng.integers(1, 200))):  # picks up to a random count: data of different widths
                model.observe(np.arange(8), int(rng.integers(0, int(rng.integers(1, 1500)))),
                              np.where(rng.random(8) < 0.2, np.nan, rng.random(8)))
            models.append(model)
        alone = copy.deepcopy(models)
        for model in alone:
            model.fit()
        CurveModel.fit_together(models)
        assert len({model._binned_data()[0].shape[-1] for model in models}) > 2
        for one, other in zip(alone, models):
            assert torch.equal(one.particles, other.particles)
