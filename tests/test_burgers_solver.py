"""The differentiable Burgers solver against the exact solution; stability; gradients."""

import math

import pytest
import torch

from physdl.pde import burgers as B


def run(n: int, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, dx = B.grid(n)
    traj = B.simulate(-torch.sin(math.pi * x), 1.0 / steps, dx, steps)
    t = torch.tensor([0.5, 1.0], dtype=torch.float64)
    exact = B.exact_solution(x[None], t[:, None])
    return traj[[steps // 2, steps]], exact


def test_lecture_configuration_against_the_exact_solution():
    sim, exact = run(128, 32)
    rel = (sim - exact).norm(dim=1) / exact.norm(dim=1)
    assert rel.max() < 0.08  # first-order splitting and interpolation on 128 nodes


def test_refinement_reduces_the_error():
    coarse = run(128, 32)
    fine = run(256, 128)  # dt ~ dx^2 keeps the diffusion number within bounds
    err = [float((s - e).norm() / e.norm()) for s, e in (coarse, fine)]
    assert err[1] < 0.6 * err[0]


def test_walls_and_maximum_principle():
    x, dx = B.grid(128)
    traj = B.simulate(-torch.sin(math.pi * x), 1 / 32, dx, 64)
    assert torch.all(traj[1:, 0] == 0) and torch.all(traj[1:, -1] == 0)
    assert traj.abs().max() <= 1 + 1e-12
    torch.testing.assert_close(traj, -traj.flip(-1), atol=1e-12, rtol=0)  # odd in x


def test_periodic_configuration_runs_and_conserves_symmetry():
    x, dx = B.grid(128, bc="periodic")
    traj = B.simulate(-torch.sin(math.pi * x), 1 / 32, dx, 32, nu=0.01 / (128 * math.pi), bc="periodic")
    assert torch.isfinite(traj).all() and traj.abs().max() <= 1 + 1e-12


def test_gradient_check():
    x, dx = B.grid(10)
    u0 = (-torch.sin(math.pi * x) * 0.7).requires_grad_()
    assert torch.autograd.gradcheck(lambda u: B.simulate(u, 0.05, dx, 4, nu=0.01)[-1], (u0,))


def test_stability_limit_is_reported():
    x, dx = B.grid(128)
    with pytest.raises(ValueError, match=r"nu dt / dx\^2 = .* > 1/2"):
        B.simulate(torch.zeros(128, dtype=torch.float64), 0.5, dx, 2, nu=0.01)
    with pytest.raises(ValueError, match="nu"):
        B.simulate(torch.zeros(128, dtype=torch.float64), 0.01, dx, 2, nu=-1.0)
    with pytest.raises(ValueError, match="bc"):
        B.grid(16, bc="open")


def test_step_checks_its_input():
    x, dx = B.grid(16)
    with pytest.raises(ValueError, match="1/2"):
        B.step(torch.zeros(16, dtype=torch.float64), 10.0, dx)
    with pytest.raises(ValueError, match="at least 4 nodes"):
        B.step(torch.zeros(3, dtype=torch.float64), 0.01, dx)
