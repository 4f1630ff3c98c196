"""The Brinkman-penalised Stokes solver: analytic cases, residual, incompressibility."""

import math

import pytest
import torch

from physdl import ops
from physdl.pde import flow

# Every test here works in double precision (fixture in conftest.py).
pytestmark = pytest.mark.usefixtures("float64")


def test_random_flows_are_divergence_free_and_satisfy_momentum():
    g = torch.Generator().manual_seed(0)
    n, nu, penalty = 32, 1.0, 1e6
    mask = flow.random_obstacles(6, n, generator=g)
    force = flow.random_forces(6, n, generator=g)
    sol = flow.solve_stokes(force, mask, 1 / n, nu=nu, penalty=penalty, tol=1e-10)
    u, p = sol.velocity, sol.pressure
    assert sol.residual < 1e-10
    # independent check in real space with the stencils of physdl.ops
    K = penalty * flow.face_average(mask)
    grad_p = ops.gradient(p, 1 / n, scheme="forward")
    residual = -nu * ops.laplacian(u, 1 / n) + grad_p + K * u - force
    assert float(residual.norm() / force.norm()) < 1e-8
    div = ops.divergence(u, 1 / n, scheme="backward")
    assert float(div.abs().max() / (u.abs().max() * n)) < 1e-12
    assert float(p.mean(dim=(2, 3)).abs().max()) < 1e-12
    # velocity nearly vanishes inside the solid, not in the fluid
    solid = flow.face_average(mask) == 1
    assert float(u[solid].abs().max()) < 1e-3 * float(u.abs().max())


def test_pressure_has_no_checkerboard():
    """The staggered pairing leaves no odd-even pressure mode: p is smooth away from walls."""
    g = torch.Generator().manual_seed(1)
    n = 32
    mask = flow.random_obstacles(4, n, generator=g)
    force = flow.random_forces(4, n, generator=g) * (1 - mask)
    p = flow.solve_stokes(force, mask, 1 / n, penalty=1e4).pressure
    checker = (-1.0) ** (torch.arange(n)[:, None] + torch.arange(n)[None, :])
    amplitude = (p * checker).mean(dim=(2, 3)).abs() / p.abs().mean(dim=(2, 3))
    assert float(amplitude.max()) < 1e-3


@pytest.mark.parametrize("n", [32, 64, 128])
def test_plane_poiseuille_flow(n):
    """Walls at |y - 1/2| >= 1/4 and a force along x give the parabolic profile."""
    y = torch.arange(n) / n
    mask = ((y - 0.5).abs() >= 0.25).double()[None, None, None, :].expand(1, 1, n, n).contiguous()
    force = torch.zeros(1, 2, n, n)
    force[:, 0] = 3.0
    sol = flow.solve_stokes(force, mask, 1 / n, nu=0.5, penalty=1e8)
    exact = flow.poiseuille_profile(y, 0.25, 0.5, 3.0, 0.5)
    err = (sol.velocity[0, 0] - exact).norm() / (exact.norm() * math.sqrt(n))
    assert float(err) < 2e-5
    assert float(sol.velocity[0, 1].abs().max()) < 1e-12


def test_shear_flow_converges_at_second_order():
    """No obstacle, f = (sin 2 pi y, 0): u_x = sin(2 pi y) / (4 pi^2 nu)."""
    errs = []
    for n in (16, 32):
        y = torch.arange(n) / n
        force = torch.zeros(1, 2, n, n)
        force[:, 0] = torch.sin(2 * math.pi * y)[None, :]
        sol = flow.solve_stokes(force, torch.zeros(1, 1, n, n), 1 / n, nu=2.0)
        exact = torch.sin(2 * math.pi * y) / (4 * math.pi**2 * 2.0)
        errs.append(float((sol.velocity[0, 0] - exact).abs().max()))
    order = math.log(errs[0] / errs[1]) / math.log(2)
    assert 1.9 < order < 2.1


def test_uniform_porous_medium_is_darcy():
    """Mask 1 everywhere and a uniform force: Darcy's law u = f / K, p = 0."""
    n = 16
    force = torch.zeros(1, 2, n, n)
    force[:, 1] = 2.0
    sol = flow.solve_stokes(force, torch.ones(1, 1, n, n), 1 / n, penalty=100.0)
    torch.testing.assert_close(sol.velocity[:, 1], torch.full((1, n, n), 0.02))
    assert float(sol.pressure.abs().max()) < 1e-12


def test_batch_equals_single_solves():
    g = torch.Generator().manual_seed(3)
    mask = flow.random_obstacles(3, 16, generator=g)
    force = flow.random_forces(3, 16, generator=g)
    both = flow.solve_stokes(force, mask, 1 / 16, tol=1e-11)
    one = flow.solve_stokes(force[1:2], mask[1:2], 1 / 16, tol=1e-11)
    torch.testing.assert_close(both.velocity[1:2], one.velocity, rtol=1e-8, atol=1e-12)


def test_generators():
    g = torch.Generator().manual_seed(0)
    mask = flow.random_obstacles(50, 32, count=(2, 3), generator=g)
    assert mask.shape == (50, 1, 32, 32)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    frac = mask.mean(dim=(1, 2, 3))
    assert float(frac.min()) > 0
    soft = flow.random_obstacles(50, 32, count=(2, 3), generator=torch.Generator().manual_seed(0), edge=1.5)
    assert float(soft.min()) >= 0 and float(soft.max()) <= 1
    rim = (soft > 0) & (soft < 1)
    assert rim.any(), "an anti-aliased mask has fractional values on the rims"
    # same discs: the binary mask is the soft one thresholded at one half, up to rim nodes
    assert float(((soft >= 0.5).double() - mask).abs().mean()) < 0.02
    with pytest.raises(ValueError, match="positive"):
        flow.poiseuille_profile(torch.zeros(3), 0.0, 0.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="batch"):
        flow.random_forces(0, 8)
    with pytest.raises(ValueError, match="edge"):
        flow.random_obstacles(1, 8, edge=-1.0)
    f = flow.random_forces(50, 32, magnitude=(0.5, 1.5), generator=g)
    size = f[:, :, 0, 0].norm(dim=1)
    assert float(size.min()) >= 0.5 and float(size.max()) <= 1.5
    assert torch.equal(f[:, :, 0, 0], f[:, :, 5, 7])


@pytest.mark.parametrize(
    "force, mask, message",
    [
        (torch.zeros(1, 3, 8, 8), torch.zeros(1, 1, 8, 8), "force must be shaped"),
        (torch.zeros(1, 2, 8, 8), torch.zeros(1, 8, 8), "mask must be shaped"),
        (torch.zeros(1, 2, 8, 8), torch.full((1, 1, 8, 8), 2.0), r"\[0, 1\]"),
        (torch.ones(1, 2, 8, 8), torch.zeros(1, 1, 8, 8), "accelerate"),
    ],
)
def test_bad_input(force, mask, message):
    with pytest.raises(ValueError, match=message):
        flow.solve_stokes(force, mask, 0.1)


def test_non_convergence_is_reported():
    g = torch.Generator().manual_seed(0)
    with pytest.raises(RuntimeError, match="max_iter"):
        flow.solve_stokes(flow.random_forces(1, 16, generator=g), flow.random_obstacles(1, 16, generator=g),
                          1 / 16, max_iter=2)
