"""Differentiable advection: adjoint vs autograd, gradient checks, conservation, CFL."""

import math

import pytest
import torch

from physdl import ops, rollout
from physdl.diffphys import final_state
from physdl.pde import advection as A


def solver(n: int, dt: float, dx: float, u: torch.Tensor, bc: str = "periodic", value: float = 0.0,
           scheme: str = "upwind") -> A.Advection:
    return A.Advection(ops.Grid(n, dx, ops.as_boundary(bc, value)), dt, u, scheme)


def setup(n: int = 40, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.arange(n, dtype=torch.float64) / n
    d0 = torch.exp(-((x - 0.4) / 0.1) ** 2)
    u = 0.5 * torch.sin(2 * math.pi * x) + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
    u = torch.where(u.abs() < 0.05, torch.full_like(u, 0.05), u)  # keep away from the kink at u = 0
    target = torch.exp(-((x - 0.5) / 0.1) ** 2)
    return d0, u, target, 1.0 / n


@pytest.mark.parametrize("bc", ["periodic", "dirichlet"])
@pytest.mark.parametrize("scheme", ["upwind", "forward"])
def test_hand_derived_adjoint_matches_autograd(bc, scheme):
    d0, u, target, dx = setup()
    if scheme == "forward":
        u = -u.abs()  # the lecture's scheme is stable only for u <= 0
    dt, steps = 0.5 * dx / float(u.abs().max()), 25
    loss, grad_u, grad_d0 = A.adjoint_gradient(d0, u, target, dt, dx, steps, bc=bc, value=0.2, scheme=scheme)
    d0_, u_ = d0.clone().requires_grad_(), u.clone().requires_grad_()
    auto = (final_state(solver(len(d0), dt, dx, u_, bc, 0.2, scheme), d0_, steps) - target).pow(2).sum()
    g_u, g_d0 = torch.autograd.grad(auto, (u_, d0_))
    assert float(loss) == pytest.approx(float(auto.detach()), rel=1e-14)
    torch.testing.assert_close(grad_u, g_u, atol=1e-10, rtol=0)
    torch.testing.assert_close(grad_d0, g_d0, atol=1e-10, rtol=0)


@pytest.mark.parametrize("bc", ["periodic", "dirichlet"])
def test_finite_difference_gradient_check(bc):
    d0, u, _, dx = setup(n=12)
    dt = 0.5 * dx / float(u.abs().max())
    f = lambda d, v: final_state(solver(len(d0), dt, dx, v, bc, 0.3), d, 5)  # noqa: E731
    assert torch.autograd.gradcheck(f, (d0.clone().requires_grad_(), u.clone().requires_grad_()))


def test_2d_step_and_gradient_check():
    n = 8
    gen = torch.Generator().manual_seed(1)
    d0 = torch.rand(n, n, generator=gen, dtype=torch.float64)
    u = 0.3 + 0.2 * torch.rand(2, n, n, generator=gen, dtype=torch.float64)
    u[1] *= -1
    dx = 1.0 / n
    grid = ops.Grid((n, n), dx)
    f = lambda d, v: rollout(A.Advection(grid, 0.5 * dx, v), d[None, None], 3)[0, -1, 0]  # noqa: E731
    assert torch.autograd.gradcheck(f, (d0.clone().requires_grad_(), u.clone().requires_grad_()))


@pytest.mark.parametrize("speed", [0.7, -0.7])
def test_periodic_upwind_conserves_mass_and_bounds(speed):
    d0, _, _, dx = setup()
    u = torch.full_like(d0, speed)
    traj = rollout(solver(len(d0), 0.9 * dx / abs(speed), dx, u), d0[None, None], 200)[0, :, 0]
    torch.testing.assert_close(traj.sum(dim=1), torch.full((201,), float(d0.sum()), dtype=torch.float64))
    assert traj.min() >= d0.min() - 1e-14 and traj.max() <= d0.max() + 1e-14  # no new extrema
    # 2D: a constant velocity conserves the total too.
    d2 = d0[:, None] * d0[None, :]
    u2 = torch.stack([torch.full_like(d2, speed), torch.full_like(d2, 0.3)])
    stepper = A.Advection(ops.Grid(tuple(d2.shape), dx), 0.9 * dx / (abs(speed) + 0.3), u2)
    traj2 = rollout(stepper, d2[None, None], 50)[0, :, 0]
    torch.testing.assert_close(traj2.sum(dim=(1, 2)), torch.full((51,), float(d2.sum()), dtype=torch.float64))


def test_constant_velocity_moves_the_profile():
    # With Courant number 1 the upwind scheme shifts the profile by exactly one cell per step.
    d0, _, _, dx = setup()
    out = final_state(solver(len(d0), dx, dx, torch.full_like(d0, 1.0)), d0, 7)
    torch.testing.assert_close(out, torch.roll(d0, 7))


def test_cfl_error_names_the_bound():
    d0, u, _, dx = setup()
    with pytest.raises(ValueError, match=r"stability limit .*CFL.*dt <="):
        solver(len(d0), 2 * dx / float(u.abs().max()), dx, u)
    with pytest.raises(ValueError, match="boundary condition"):
        solver(len(d0), 0.1 * dx, dx, u, bc="open")
    with pytest.raises(ValueError, match="scheme"):
        solver(len(d0), 0.1 * dx, dx, u, scheme="central")
    with pytest.raises(ValueError, match="NaN"):
        solver(len(d0), 0.1 * dx, dx, torch.full_like(u, float("nan")))


def test_stepper_checks_the_velocity_shape():
    d0, u, _, dx = setup()
    with pytest.raises(ValueError, match="velocity must be"):
        solver(len(d0), 0.1 * dx, dx, u[:-1])
