"""SVGD (tradeoff_gym.agents.svgd): recovers known posteriors, batches independent problems, validates its config."""

import math

import pytest
import torch

from tradeoff_gym.agents.svgd import SVGD, RBFKernel, autograd_score, stein_direction, svgd

MEAN = torch.tensor([1.0, -2.0], dtype=torch.float64)
COV = torch.tensor([[1.0, 0.6], [0.6, 0.64]], dtype=torch.float64)  # std (1, 0.8), correlation 0.75
PRECISION = torch.linalg.inv(COV)


def gaussian_log_prob(x: torch.Tensor) -> torch.Tensor:
    """Log density (up to a constant) of N(MEAN, COV) at x (..., N, 2)."""
    d = x - MEAN
    return -0.5 * ((d @ PRECISION) * d).sum(-1)


def initial(n: int, seed: int, batch: tuple[int, ...] = ()) -> torch.Tensor:
    """Particles far from the target: N(0, 3²) in each coordinate."""
    g = torch.Generator().manual_seed(seed)
    return 3.0 * torch.randn(*batch, n, 2, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.05), ("adagrad", 0.5)])
def test_recovers_mean_and_std_of_a_correlated_gaussian(optimizer: str, lr: float) -> None:
    x = svgd(gaussian_log_prob, initial(100, seed=0), steps=800, lr=lr, optimizer=optimizer)
    assert torch.allclose(x.mean(0), MEAN, atol=0.05), x.mean(0)
    std = x.std(0)
    assert torch.all((std / COV.diag().sqrt() - 1).abs() < 0.15), std
    corr = torch.corrcoef(x.T)[0, 1]
    assert abs(corr - 0.75) < 0.1, corr


def test_batch_elements_are_independent_problems() -> None:
    batch = initial(20, seed=1, batch=(3,))
    shifted = batch.clone()
    shifted[1] += 5.0  # moving one problem's particles must not change the others' updates
    run = SVGD(steps=30)
    a, b = run.run(batch, gaussian_log_prob), run.run(shifted, gaussian_log_prob)
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[2], b[2])
    torch.testing.assert_close(a[0], run.run(batch[0], gaussian_log_prob))


def test_analytic_score_gives_the_same_particles_as_autograd() -> None:
    x0 = initial(16, seed=2)
    run = SVGD(steps=20)
    by_autograd = run.run(x0, gaussian_log_prob)
    by_score = run.run(x0, score=lambda x: -(x - MEAN) @ PRECISION)
    torch.testing.assert_close(by_autograd, by_score)
    torch.testing.assert_close(autograd_score(gaussian_log_prob)(x0), -(x0 - MEAN) @ PRECISION)


def test_rbf_repulsion_is_the_gradient_of_the_kernel_and_bandwidth_is_the_median_heuristic() -> None:
    x = initial(7, seed=3, batch=(2,))
    kernel = RBFKernel()
    k, repulsion = kernel.kernel_and_repulsion(x)
    assert k.shape == (2, 7, 7) and repulsion.shape == (2, 7, 2)
    sq = torch.cdist(x, x) ** 2
    rows, cols = torch.triu_indices(7, 7, 1)
    h = sq[:, rows, cols].median(-1).values / math.log(8)  # median over the 21 distinct pairs
    torch.testing.assert_close(k, torch.exp(-sq / h[:, None, None]))
    # Σ_j ∇_{x_j} k(x_j, x_i) with h held fixed, by autograd.
    fixed = RBFKernel(bandwidth=float(h[0]))
    xj = x[0].clone().requires_grad_(True)
    for i in range(7):
        kij = torch.exp(-((xj - x[0, i]) ** 2).sum(-1) / h[0])
        (grad,) = torch.autograd.grad(kij.sum(), xj)
        torch.testing.assert_close(grad.sum(0), fixed.kernel_and_repulsion(x[0])[1][i])
    # With a flat target, two particles repel each other.
    phi = stein_direction(x[0, :2], torch.zeros(2, 2, dtype=torch.float64), kernel)
    assert (phi[0] - phi[1]) @ (x[0, 0] - x[0, 1]) > 0


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"steps": 0}, "steps must be an integer >= 1, got 0"),
        ({"lr": -1.0}, r"lr must lie in \(0.0, inf\), got -1.0"),
        ({"lr": float("nan")}, r"lr must lie in \(0.0, inf\), got nan"),
        ({"optimizer": "sgd"}, r"optimizer must be one of \['adam', 'adagrad'\], got 'sgd'"),
        ({"kernel": object()}, "kernel must have a kernel_and_repulsion method"),
    ],
)
def test_invalid_settings_raise_naming_field_and_value(settings: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SVGD(**settings)


def test_invalid_calls_raise() -> None:
    with pytest.raises(ValueError, match="bandwidth must be a positive number"):
        RBFKernel(bandwidth=0.0)
    with pytest.raises(ValueError, match="exactly one of log_prob or score"):
        SVGD().run(initial(4, 0))
    with pytest.raises(ValueError, match="N >= 2"):
        SVGD().run(initial(1, 0), gaussian_log_prob)
