"""The differentiable Burgers solver against the exact solution; stability; gradients."""

import math

import pytest
import torch

from physdl import rollout
from physdl.diffphys import final_state
from physdl.pde import burgers as B


def trajectory(u0: torch.Tensor, dt: float, steps: int, nu: float = B.NU, bc: str = "dirichlet") -> torch.Tensor:
    """``(steps + 1, n)`` from a vector ``u0``."""
    return rollout(B.solver(B.domain(len(u0), bc), dt, nu), u0[None, None], steps)[0, :, 0]


def run(n: int, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, dx = B.grid(n)
    traj = trajectory(-torch.sin(math.pi * x), 1.0 / steps, steps)
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
    traj = trajectory(-torch.sin(math.pi * x), 1 / 32, 64)
    assert torch.all(traj[1:, 0] == 0) and torch.all(traj[1:, -1] == 0)
    assert traj.abs().max() <= 1 + 1e-12
    torch.testing.assert_close(traj, -traj.flip(-1), atol=1e-12, rtol=0)  # odd in x


def test_periodic_configuration_runs_and_conserves_symmetry():
    x, dx = B.grid(128, bc="periodic")
    traj = trajectory(-torch.sin(math.pi * x), 1 / 32, 32, nu=0.01 / (128 * math.pi), bc="periodic")
    assert torch.isfinite(traj).all() and traj.abs().max() <= 1 + 1e-12


def test_gradient_check():
    x, dx = B.grid(10)
    u0 = (-torch.sin(math.pi * x) * 0.7).requires_grad_()
    solver = B.solver(B.domain(10), 0.05, nu=0.01)
    assert torch.autograd.gradcheck(lambda u: final_state(solver, u, 4), (u0,))


def test_stability_limit_is_reported():
    x, dx = B.grid(128)
    with pytest.raises(ValueError, match=r"stability limit .*nu dt / dx\^2 <= 1/2"):
        B.solver(B.domain(128), 0.5, nu=0.01)
    with pytest.raises(ValueError, match="nu"):
        B.solver(B.domain(128), 0.01, nu=-1.0)
    with pytest.raises(ValueError, match="bc"):
        B.grid(16, bc="open")


def test_solver_checks_its_input():
    with pytest.raises(ValueError, match="1/2"):
        B.solver(B.domain(16), 10.0)
    with pytest.raises(ValueError, match="n must be at least 4"):
        B.domain(3)
    with pytest.raises(ValueError, match="shaped"):
        rollout(B.solver(B.domain(16), 0.01), torch.zeros(1, 1, 15, dtype=torch.float64), 1)
