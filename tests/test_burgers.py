"""The exact Burgers solution (Cole-Hopf) against an independent finite-difference solution."""

import math

import pytest
import torch

from physdl.pde import burgers as B


def finite_difference_solution(n: int, times: list[float], nu: float = B.NU) -> tuple[torch.Tensor, torch.Tensor]:
    """Method of lines on the odd, 2-periodic extension: 4th-order central differences, RK4.

    Returns the ``n`` positions ``x_k = -1 + 2 k / n`` and ``u`` at each time, ``(len(times), n)``.
    """
    dx = 2.0 / n
    x = -1 + dx * torch.arange(n, dtype=torch.float64)
    u = -torch.sin(math.pi * x)

    def d1(f):
        return (8 * (f.roll(-1) - f.roll(1)) - (f.roll(-2) - f.roll(2))) / (12 * dx)

    def d2(f):
        return (16 * (f.roll(-1) + f.roll(1)) - (f.roll(-2) + f.roll(2)) - 30 * f) / (12 * dx * dx)

    def rhs(f):
        return -d1(0.5 * f * f) + nu * d2(f)

    # RK4 is stable on the negative real axis up to 2.78; the 4th-order laplacian reaches 16/(3 dx^2).
    dt_max = 0.5 * min(2.78 * 3 * dx * dx / (16 * nu), dx)
    out, now = [], 0.0
    for target in times:
        steps = math.ceil((target - now) / dt_max) if target > now else 0
        for _ in range(steps):
            dt = (target - now) / steps
            k1 = rhs(u)
            k2 = rhs(u + 0.5 * dt * k1)
            k3 = rhs(u + 0.5 * dt * k2)
            k4 = rhs(u + dt * k3)
            u = u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        now = target
        out.append(u.clone())
    return x, torch.stack(out)


@pytest.fixture(scope="module")
def exact():
    return B.exact_field()


def sample_fd(n: int) -> torch.Tensor:
    """The finite-difference solution on the lecture's grid (n a multiple of 127)."""
    xg, tg = B.lecture_grid()
    _, u = finite_difference_solution(n, tg.tolist())
    idx = torch.round((xg + 1) / (2.0 / n)).long() % n
    return u[:, idx]


def test_exact_matches_finite_differences_on_the_lecture_grid(exact):
    coarse, fine = sample_fd(127 * 8), sample_fd(127 * 16)
    err_coarse = float((coarse - exact).norm() / exact.norm())
    err_fine = float((fine - exact).norm() / exact.norm())
    assert err_fine < 1e-4
    # The difference shrinks at the finite-difference scheme's order: the error is the scheme's.
    assert err_fine < err_coarse / 8


def test_initial_state_boundaries_and_odd_symmetry(exact):
    x, _ = B.lecture_grid()
    torch.testing.assert_close(exact[0], -torch.sin(math.pi * x), atol=1e-14, rtol=0)
    assert exact[:, 0].abs().max() < 1e-12 and exact[:, -1].abs().max() < 1e-12
    torch.testing.assert_close(exact, -exact.flip(1), atol=1e-13, rtol=0)


def test_energy_decays_at_the_viscous_dissipation_rate():
    # d/dt int u^2 / 2 dx = -nu int u_x^2 dx (the flux terms vanish at the walls).
    x = torch.linspace(-1, 1, 8001, dtype=torch.float64)
    dx = float(x[1] - x[0])
    ts = torch.tensor([0.2, 0.2 + 1e-4, 0.6, 0.6 + 1e-4], dtype=torch.float64)
    u = B.exact_solution(x[None], ts[:, None])
    energy = 0.5 * torch.trapezoid(u * u, dx=dx, dim=1)
    for i in (0, 2):
        rate = float((energy[i + 1] - energy[i]) / 1e-4)
        ux = torch.gradient(0.5 * (u[i] + u[i + 1]), spacing=dx)[0]
        dissipation = -B.NU * float(torch.trapezoid(ux * ux, dx=dx))
        assert rate < 0
        assert rate == pytest.approx(dissipation, rel=1e-3)


def test_residual_vanishes_away_from_the_shock():
    h = 1e-4
    x = torch.linspace(-0.9, 0.9, 37, dtype=torch.float64)
    x = x[x.abs() > 0.2]
    t = torch.tensor(0.4, dtype=torch.float64)
    u = B.exact_solution(x, t)
    u_t = (B.exact_solution(x, t + h) - B.exact_solution(x, t - h)) / (2 * h)
    u_x = (B.exact_solution(x + h, t) - B.exact_solution(x - h, t)) / (2 * h)
    u_xx = (B.exact_solution(x + h, t) - 2 * u + B.exact_solution(x - h, t)) / h**2
    res = u_t + u * u_x - B.NU * u_xx
    assert res.abs().max() < 1e-5 * u_t.abs().max()


def test_the_shock_is_steep_at_late_times(exact):
    # By t = 1 the jump across x = 0 has steepened to a shock of width ~ nu / u.
    x = torch.tensor([-0.01, 0.01], dtype=torch.float64)
    u = B.exact_solution(x, torch.tensor(1.0, dtype=torch.float64))
    assert float(u[0] - u[1]) > 0.8


def test_bad_input_raises():
    with pytest.raises(ValueError, match="nu"):
        B.exact_solution(torch.zeros(3), torch.zeros(3), nu=0.0)
    with pytest.raises(ValueError, match="x must lie"):
        B.exact_solution(torch.tensor([1.5]), torch.tensor([0.1]))
    with pytest.raises(ValueError, match="t must be"):
        B.exact_solution(torch.tensor([0.5]), torch.tensor([-0.1]))
    with pytest.raises(ValueError):
        B.lecture_grid(1, 33)
