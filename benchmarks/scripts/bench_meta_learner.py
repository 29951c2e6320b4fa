"""Speed of the meta-learner and the Sagiv baseline, and our SVGD side by side with ``pyro.infer.SVGD``.

Prints figures only (no asserts): ``python -m tradeoff_gym.benchmarks.scripts.bench_meta_learner [--threads 1]
[--sp-trials 100]``.

1. Meta-learner on LearningCurves (default preset, τ = 1000): time per decision (``act``), per
   refit, and the amortized agent overhead per trial (all agent time / trials) at default settings and
   with ``LATE_ONSET``; the same for :class:`tradeoff_gym.agents.sagiv.SagivAgent`; their return relative to the
   oracle when the best strategy's learning starts later (the meta-learner's known weak spot), and on
   the default instance at each cost (with the share of parallel trials).
2. If ``tradeoff_gym.envs.serial_parallel`` is importable: a default SerialParallel trial's time and the agent's
   overhead on it, as a ratio (target ≤ 10 %).
3. Our :mod:`tradeoff_gym.agents.svgd` and Pyro's SVGD (multivariate mode, RBF kernel, Adam) on the same posterior,
   particle count, steps and initial particles: a correlated 4-D Gaussian (exact moments known) and
   one learning curve's posterior; plus the meta-learner's real case, 8 curves at once (one batched
   program for us, 8 Pyro runs). Target: ≥ 5× faster at the same accuracy. Skipped if pyro is absent
   (``pip install -c constraints.txt pyro-ppl``, the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from tradeoff_gym import envs  # noqa: F401  (registers the environment ids)
from tradeoff_gym.agents.curve_model import CurveModel, CurvePrior, curve_values
from tradeoff_gym.agents.meta_learner import LATE_ONSET, MetaLearnerAgent
from tradeoff_gym.agents.registry import make_agent
from tradeoff_gym.agents.svgd import SVGD
from tradeoff_gym.benchmarks.run_loop import run_episode


class TimedAgent:
    """Wraps an agent and accumulates the wall time spent in its ``act`` / ``observe`` / ``refit``."""

    def __init__(self, agent: Any) -> None:
        self.agent, self.name = agent, agent.name
        self.act_s: list[float] = []
        self.observe_s: list[float] = []
        self.refit_s: list[float] = []
        if hasattr(agent, "refit"):
            inner = agent.refit

            def timed_refit() -> None:
                start = time.perf_counter()
                inner()
                self.refit_s.append(time.perf_counter() - start)

            agent.refit = timed_refit

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Delegate."""
        self.agent.reset(info, rng)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Delegate, timed."""
        start = time.perf_counter()
        action = self.agent.act(obs, info)
        self.act_s.append(time.perf_counter() - start)
        return action

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Delegate, timed (includes any refit)."""
        start = time.perf_counter()
        self.agent.observe(action, reward, obs, info)
        self.observe_s.append(time.perf_counter() - start)

    def summary(self) -> str:
        """Per-decision, per-refit and amortized per-trial milliseconds."""
        trials = len(self.act_s)
        total = sum(self.act_s) + sum(self.observe_s)
        refit = f"refit {1e3 * np.median(self.refit_s):.2f} ms median × {len(self.refit_s)}; " if self.refit_s else ""
        return (
            f"decision {1e3 * np.median(self.act_s):.3f} ms median; {refit}"
            f"observe w/o refit {1e3 * (sum(self.observe_s) - sum(self.refit_s)) / trials:.3f} ms; "
            f"amortized overhead {1e3 * total / trials:.3f} ms/trial over {trials} trials"
        )


def agent_overhead(env_id: str, make: Callable[[gym.Env], Any], seed: int = 0, **env_settings: Any) -> TimedAgent:
    """Play one episode through the run loop with a timed agent."""
    env = gym.make(env_id, **env_settings)
    timed = TimedAgent(make(env))
    run_episode(env, timed, seed)
    return timed


def serial_parallel_ratio(n_trials: int) -> None:
    """Agent overhead on the default SerialParallel env, relative to its own trial time."""
    if importlib.util.find_spec("tradeoff_gym.envs.serial_parallel") is None:
        print("SerialParallel: envs/serial_parallel.py absent; ratio not measured")
        return
    from tradeoff_gym.envs.serial_parallel import SerialParallelEnv

    env = gym.wrappers.TimeLimit(SerialParallelEnv(), max_episode_steps=n_trials)
    timed = TimedAgent(MetaLearnerAgent())
    start = time.perf_counter()
    frame = run_episode(env, timed, seed=0, env_id="SerialParallel")
    loop_s = time.perf_counter() - start
    agent_s = sum(timed.act_s) + sum(timed.observe_s)
    trial_ms = 1e3 * (loop_s - agent_s) / len(frame)
    overhead_ms = 1e3 * agent_s / len(frame)
    print(f"SerialParallel default (τ = {env.unwrapped.config.horizon}), first {len(frame)} trials:")
    print(f"  env trial {trial_ms:.2f} ms; meta-learner {timed.summary()}")
    print(f"  overhead / trial = {100 * overhead_ms / trial_ms:.1f} % (target ≤ 10 %)")


def delayed_onset(seeds: int) -> None:
    """Return / oracle return when parallel's learning starts later than serial's (c = 1, τ = 400)."""
    from tradeoff_gym.agents.baselines import OracleAgent
    from tradeoff_gym.envs.learning_curves import LogisticCurve

    agents = {
        "meta-learner": lambda e: MetaLearnerAgent(),
        "meta-learner LATE_ONSET": lambda e: MetaLearnerAgent(**LATE_ONSET),
        "sagiv": partial(make_agent, "sagiv"),
    }
    print("c = 1, τ = 400, serial midpoint 40, parallel midpoint 40 + lag (rate 0.05); parallel is best:")
    for lag in (0, 20, 80):
        curves = (LogisticCurve(0.05, 40.0), LogisticCurve(0.05, 40.0 + lag))
        env = gym.make("tradeoff/LearningCurves-v0", horizon=400, cost=1.0, curves=curves)
        oracle = [run_episode(env, OracleAgent(env), s).reward.sum() for s in range(seeds)]
        ratios = {
            name: np.mean([run_episode(env, make(env), s).reward.sum() / oracle[s] for s in range(seeds)])
            for name, make in agents.items()
        }
        print(f"  lag {lag:3d}: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()) + f" (mean of {seeds} seeds)")


def default_instance(seeds: int) -> None:
    """Return / oracle return on the default LearningCurves instance (τ = 1000) at each cost."""
    from tradeoff_gym.agents.baselines import OracleAgent

    print("default LearningCurves (τ = 1000, serial midpoint 100, parallel 400, rate 0.02), per cost:")
    for cost in (0.0, 0.25, 0.5, 0.75, 1.0):
        env = gym.make("tradeoff/LearningCurves-v0", cost=cost)
        oracle = [run_episode(env, OracleAgent(env), s).reward.sum() for s in range(seeds)]
        cells = []
        for name, settings in (("meta-learner", {}), ("LATE_ONSET", LATE_ONSET)):
            frames = [run_episode(env, MetaLearnerAgent(**settings), s) for s in range(seeds)]
            ratio = np.mean([f.reward.sum() / oracle[s] for s, f in enumerate(frames)])
            share = np.mean([(f.strategy == "parallel").mean() for f in frames])
            cells.append(f"{name} {ratio:.2f} (parallel {share:.0%})")
        print(f"  c = {cost:.2f}: " + ", ".join(cells) + f" (mean of {seeds} seeds)")


# ----------------------------------------------------------------------------------------------------
# SVGD vs Pyro


def gaussian_target(dim: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """A correlated Gaussian: mean (1, −1, 2, 0.5, …), std (1, 0.5, 2, 1, …), correlation 0.5 between neighbours."""
    mean = torch.tensor([1.0, -1.0, 2.0, 0.5] * (dim // 4 + 1), dtype=torch.float64)[:dim]
    std = torch.tensor([1.0, 0.5, 2.0, 1.0] * (dim // 4 + 1), dtype=torch.float64)[:dim]
    off = torch.diag(torch.ones(dim - 1, dtype=torch.float64), 1)  # (D, D): first super-diagonal
    corr = torch.eye(dim, dtype=torch.float64) + 0.5 * (off + off.T)
    return mean, corr * std[:, None] * std[None, :]


#: θ = (log k, log m, floor logit, ceiling logit) of the curve behind :func:`curve_data`.
TRUE_CURVE = np.array([np.log(12.0), np.log(0.25), -3.0, 3.0])


def curve_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """120 noisy rewards (σ = 0.05) of a known curve at pick counts 0…119 of τ = 400: x ``(M,)``, y ``(M,)``."""
    rng = np.random.default_rng(seed)
    x = np.arange(120) / 400
    y = curve_values(TRUE_CURVE, x) + 0.05 * rng.standard_normal(120)
    return torch.from_numpy(x), torch.from_numpy(y)


def pyro_svgd(
    model: Callable[..., None], init: torch.Tensor, steps: int, lr: float, nesting: int, bandwidth_factor: float = 1.0
) -> torch.Tensor:
    """Run ``pyro.infer.SVGD`` (multivariate, RBF, Adam) from particles ``(N, D)`` (D = all latents, flattened).

    Pyro's RBF kernel takes a median-heuristic bandwidth per dimension and sums the D log-kernels, so
    its kernel is D times narrower than the isotropic one of Liu & Wang; ``bandwidth_factor = D``
    restores the isotropic width (shown for accuracy parity; the speed is the same).
    """
    import pyro
    from pyro.infer import SVGD as PyroSVGD
    from pyro.infer import RBFSteinKernel
    from pyro.optim import Adam

    pyro.clear_param_store()
    with torch.random.fork_rng():  # Pyro's guide draws a prototype from the global RNG; keep it untouched
        pyro.param("svgd_particles", init.reshape(-1).clone())  # the guide picks these up (flattened N·D)
        kernel = RBFSteinKernel(bandwidth_factor=bandwidth_factor)
        svgd = PyroSVGD(model, kernel, Adam({"lr": lr}), init.shape[0], nesting, mode="multivariate")
        for _ in range(steps):
            svgd.step()
    return pyro.param("svgd_particles").detach().reshape(init.shape[0], -1).clone()


def timed(fn: Callable[[], torch.Tensor], repeat: int) -> tuple[torch.Tensor, float]:
    """Result of ``fn`` and its best wall time over ``repeat`` runs (s)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def compare_with_pyro(n_particles: int, steps: int, gauss_steps: int, repeat: int) -> None:
    """Side-by-side speed and accuracy on the same posteriors."""
    if importlib.util.find_spec("pyro") is None:
        print("pyro not installed: SVGD comparison skipped (pip install -c constraints.txt pyro-ppl)")
        return
    import pyro
    import pyro.distributions as dist

    gen = torch.Generator().manual_seed(0)
    lr = 0.05

    # (a) correlated 4-D Gaussian, exact moments known.
    mean, cov = gaussian_target(4)
    precision = torch.linalg.inv(cov)
    init = 3.0 * torch.randn(n_particles, 4, generator=gen, dtype=torch.float64)

    def gaussian_model() -> None:
        pyro.sample("x", dist.MultivariateNormal(mean, cov))

    ours, ours_s = timed(
        lambda: SVGD(steps=gauss_steps, lr=lr).run(init, score=lambda x: -(x - mean) @ precision), repeat
    )
    theirs, pyro_s = timed(lambda: pyro_svgd(gaussian_model, init, gauss_steps, lr, nesting=0), repeat)
    wide, wide_s = timed(lambda: pyro_svgd(gaussian_model, init, gauss_steps, lr, 0, bandwidth_factor=4.0), 1)
    std = cov.diag().sqrt()
    print(f"(a) 4-D correlated Gaussian, N = {n_particles}, {gauss_steps} steps, Adam lr {lr}, same initial particles:")
    for name, x, secs in (("ours", ours, ours_s), ("pyro", theirs, pyro_s), ("pyro, bandwidth ×D", wide, wide_s)):
        mean_err = (x.mean(0) - mean).abs().max().item()
        std_err = ((x.std(0) / std) - 1).abs().max().item()
        print(f"  {name}: {1e3 * secs / gauss_steps:.3f} ms/step; max |mean error| {mean_err:.3f}; "
              f"max std rel. error {std_err:.1%}")
    print(f"  speed-up {pyro_s / ours_s:.1f}× (target ≥ 5×)")

    # (b) one learning curve's posterior (the meta-learner's model), and (c) 8 such curves at once.
    prior = CurvePrior()
    prior_mean = torch.tensor(prior.mean, dtype=torch.float64)
    prior_std = torch.tensor(prior.std, dtype=torch.float64)
    sigma = 0.05
    n_curves = 8
    data = [curve_data(seed) for seed in range(n_curves)]
    init_curves = prior_mean + prior_std * torch.randn(n_curves, n_particles, 4, generator=gen, dtype=torch.float64)

    def curve_model(x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
        def model() -> None:
            theta = pyro.sample("theta", dist.Normal(prior_mean, prior_std).to_event(1))  # (N, 1, 4)
            log_k, log_m, lo, hi = theta.unbind(-1)  # each (N, 1)
            floor, ceiling = torch.sigmoid(lo), torch.sigmoid(hi)
            f = floor + (ceiling - floor) * torch.sigmoid(log_k.exp() * (x - log_m.exp()))  # (N, M)
            with pyro.plate("data", x.shape[0], dim=-1):
                pyro.sample("y", dist.Normal(f, sigma), obs=y)

        return model

    def our_fit(curves: int) -> tuple[torch.Tensor, float]:
        """Fit the first ``curves`` posteriors in one batched program: particles ``(C, N, 4)`` and seconds."""
        model = CurveModel(curves, 400, n_particles=n_particles, noise_std=sigma, noise_prior_weight=1e9,
                           max_bins=400, svgd=SVGD(steps=steps, lr=lr), dtype=torch.float64,
                           generator=torch.Generator().manual_seed(0))
        model.particles = init_curves[:curves].clone()
        for c in range(curves):
            x, y = data[c]
            for n in range(x.shape[0]):
                model.observe(np.array([c]), n, np.array([float(y[n])]))
        start = time.perf_counter()
        model.fit()
        return model.particles, time.perf_counter() - start

    x_eval = torch.arange(400, dtype=torch.float64) / 400
    truth = curve_values(TRUE_CURVE, x_eval.numpy())

    def predictive(theta: torch.Tensor) -> np.ndarray:
        return curve_values(theta.numpy(), x_eval.numpy()[None, :]).mean(0)  # posterior-mean curve (400,)

    ours_particles, ours_s = min((our_fit(1) for _ in range(repeat)), key=lambda result: result[1])
    ours_curve = ours_particles[0]
    theirs_curve, pyro_s = timed(
        lambda: pyro_svgd(curve_model(*data[0]), init_curves[0], steps, lr, nesting=1), repeat
    )
    print(f"(b) one learning curve's posterior (120 rewards, σ = {sigma}), N = {n_particles}, {steps} steps:")
    for name, theta, secs in (("ours", ours_curve, ours_s), ("pyro", theirs_curve, pyro_s)):
        err = np.abs(predictive(theta) - truth).max()
        spread = curve_values(theta.numpy(), x_eval.numpy()[None, :]).std(0).mean()
        print(f"  {name}: {1e3 * secs / steps:.3f} ms/step; posterior-mean curve max |error| vs truth {err:.3f}; "
              f"mean predictive std {spread:.3f}")
    gap = np.abs(predictive(ours_curve) - predictive(theirs_curve)).max()
    print(f"  speed-up {pyro_s / ours_s:.1f}×; max gap between the two posterior-mean curves {gap:.3f}")

    batch_s = min(our_fit(n_curves)[1] for _ in range(repeat))
    start = time.perf_counter()
    for c in range(n_curves):
        pyro_svgd(curve_model(*data[c]), init_curves[c], steps, lr, nesting=1)
    pyro_batch_s = time.perf_counter() - start
    print(f"(c) {n_curves} curves (the meta-learner's 2 strategies × 4 tasks): ours one batched program "
          f"{1e3 * batch_s:.1f} ms, pyro {n_curves} runs {1e3 * pyro_batch_s:.1f} ms: {pyro_batch_s / batch_s:.1f}×")


@contextlib.contextmanager
def section(title: str) -> Iterator[None]:
    """Print a section header and its wall time."""
    print(f"\n== {title}")
    start = time.perf_counter()
    yield
    print(f"   ({time.perf_counter() - start:.1f} s)")


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: a shared 2-core box)")
    parser.add_argument("--horizon", type=int, default=1000, help="LearningCurves horizon for the agent timings")
    parser.add_argument("--sp-trials", type=int, default=100, help="SerialParallel trials to time (0: skip)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the decision-quality sweep")
    parser.add_argument("--particles", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300, help="SVGD steps on the curve posteriors")
    parser.add_argument("--gauss-steps", type=int, default=1500, help="SVGD steps on the Gaussian")
    parser.add_argument("--repeat", type=int, default=2, help="repeats of each SVGD timing (best kept)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPUs, load average "
          f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)")

    with section(f"agents on LearningCurves (default preset, τ = {args.horizon}), default hyperparameters"):
        meta = agent_overhead("tradeoff/LearningCurves-v0", lambda env: MetaLearnerAgent(), horizon=args.horizon)
        print(f"  meta-learner: {meta.summary()}")
        late = agent_overhead(
            "tradeoff/LearningCurves-v0", lambda env: MetaLearnerAgent(**LATE_ONSET), horizon=args.horizon
        )
        print(f"  LATE_ONSET:   {late.summary()}")
        sagiv = agent_overhead("tradeoff/LearningCurves-v0", partial(make_agent, "sagiv"), horizon=args.horizon)
        print(f"  sagiv:        {sagiv.summary()}")
        print("  target: amortized meta-learner overhead ≤ 1.5 ms/trial (10 % of a 15 ms SerialParallel trial)")
    with section("decision quality: delayed learning onset of the best strategy"):
        delayed_onset(args.seeds)
    with section("decision quality: default LearningCurves instance, per cost"):
        default_instance(args.seeds)
    if args.sp_trials > 0:
        with section("meta-learner on SerialParallel"):
            serial_parallel_ratio(args.sp_trials)
    with section("SVGD: ours vs pyro.infer.SVGD"):
        compare_with_pyro(args.particles, args.steps, args.gauss_steps, args.repeat)


if __name__ == "__main__":
    main()
