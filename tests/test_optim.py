"""The dense quasi-Newton optimisers of physdl.optim against exact results."""

from __future__ import annotations

import math

import pytest
import torch

from physdl.optim import UPDATES, Factors, QuasiNewton, inverse_update, ssbfgs_factors, ssbroyden_factors, update_factors

F64 = torch.float64


def quadratic(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A symmetric positive definite ``A`` (condition number about 100) and a right-hand side."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=F64))
    eig = torch.logspace(0, 2, n, dtype=F64)
    return q @ torch.diag(eig) @ q.T, torch.randn(n, generator=gen, dtype=F64)


@pytest.mark.parametrize("update", UPDATES)
def test_quadratic_converges_in_n_steps_with_an_exact_line_search(update: str) -> None:
    n = 12
    A, b = quadratic(n)
    exact = torch.linalg.solve(A, b)

    def solve(iterations: int) -> tuple[torch.Tensor, int]:
        x = torch.zeros(n, dtype=F64, requires_grad=True)
        opt = QuasiNewton([x], update=update, max_iter=iterations, line_search="exact",
                          tolerance_grad=0, tolerance_change=0)

        def closure() -> torch.Tensor:
            opt.zero_grad()
            f = 0.5 * x @ A @ x - b @ x
            f.backward()
            return f

        opt.step(closure)
        return x.detach(), opt.state[x]["iterations"]

    x, iterations = solve(n)
    assert iterations == n
    assert float((x - exact).norm() / exact.norm()) < 1e-10
    x, _ = solve(n - 1)  # one step short, the quadratic is not solved yet
    assert float((x - exact).norm() / exact.norm()) > 1e-6


@pytest.mark.parametrize("update", UPDATES)
def test_rosenbrock_is_solved_to_1e_10(update: str) -> None:
    x = torch.tensor([-1.2, 1.0], dtype=F64, requires_grad=True)
    opt = QuasiNewton([x], update=update, max_iter=500)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        f.backward()
        return f

    opt.step(closure)
    assert float((x.detach() - 1).abs().max()) < 1e-10
    assert opt.state[x]["iterations"] < 100


def test_self_scaling_factors_against_a_hand_computed_step() -> None:
    # H = I, g = (1, 0), so d = (-1, 0); a step t = 1/2 gives s = (-1/2, 0); the new gradient
    # (0, 1) gives y = (-1, 1).  Then y.s = 1/2, s.B s = -t s.g = 1/4, b = 1/2, y.H y = 2, h = 4.
    s, y, g, t = torch.tensor([-0.5, 0.0], dtype=F64), torch.tensor([-1.0, 1.0], dtype=F64), \
        torch.tensor([1.0, 0.0], dtype=F64), 0.5
    ys = float(y @ s)
    b, h = -t * float(s @ g) / ys, float(y @ y) / ys
    assert (b, h) == (0.5, 4.0)
    assert ssbfgs_factors(b) == Factors(tau=1.0, phi=1.0)  # b < 1: no scaling
    assert ssbfgs_factors(4.0) == Factors(tau=0.25, phi=1.0)
    # SSBroyden by hand: a = b h - 1 = 1, c = sqrt(1/2), rho- = min(1, 4 (1 - c)) = 1 (4 (1 - c) = 1.17),
    # theta- = 0, theta+ = 1, (1 - b) / b = 1, so theta = max(0, min(1, 1)) = 1 (DFP);
    # sigma = 2, tau = min(1, 2) * min(2^(1/(1-n)), 1) = 2^-1 for n = 2, phi = 0.
    f = ssbroyden_factors(b, h, 2)
    assert math.isclose(f.tau, 0.5, rel_tol=1e-15) and f.phi == 0.0
    # a second case on the other branch: b = 2, h = 1: a = 1, rho- = min(1, 1 - c) = 1 - c,
    # theta- = -c, theta+ = 1 / (1 - c), (1 - b) / b = -1/2, theta = max(-c, -1/2) = -1/2,
    # sigma = 1/2, tau = min(1/2 * (1/2)^(1/(1-n)), 1/2) = 1/2 for n = 2 (0.5 * 2 = 1 > 1/2),
    # phi = (1 + 1/2) / (1/2) = 3.
    f = ssbroyden_factors(2.0, 1.0, 2)
    assert math.isclose(f.tau, 0.5, rel_tol=1e-15) and math.isclose(f.phi, 3.0, rel_tol=1e-15)
    assert update_factors("bfgs", b, h, 2) == Factors(1.0, 1.0)


@pytest.mark.parametrize("phi", [0.0, 1.0, 3.0])
def test_inverse_update_meets_the_secant_equation_and_matches_the_textbook_forms(phi: float) -> None:
    gen = torch.Generator().manual_seed(1)
    n = 7
    A = torch.randn(n, n, generator=gen, dtype=F64)
    H = A @ A.T + torch.eye(n, dtype=F64)
    s, y = torch.randn(n, generator=gen, dtype=F64), torch.randn(n, generator=gen, dtype=F64)
    y = y if float(y @ s) > 0 else -y
    tau = 0.7
    new = inverse_update(H.clone(), s, y, Factors(tau, phi))
    torch.testing.assert_close(new @ y, s, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(new, new.T, rtol=1e-12, atol=1e-12)
    rho, hy = 1 / float(y @ s), H @ y
    yhy = float(y @ hy)
    v = rho * s - hy / yhy
    textbook = (H - torch.outer(hy, hy) / yhy + phi * yhy * torch.outer(v, v)) / tau + rho * torch.outer(s, s)
    torch.testing.assert_close(new, textbook, rtol=1e-12, atol=1e-12)
    eye = torch.eye(n, dtype=F64)
    bfgs = (eye - rho * torch.outer(s, y)) @ H @ (eye - rho * torch.outer(y, s)) + rho * torch.outer(s, s)
    torch.testing.assert_close(inverse_update(H.clone(), s, y, Factors(1.0, 1.0)), bfgs, rtol=1e-12, atol=1e-12)


def test_matches_torch_lbfgs_direction_on_the_first_step() -> None:
    """The first iteration is a gradient step with torch's line search, as in torch's L-BFGS."""
    A, b = quadratic(5, seed=3)
    xs = [torch.zeros(5, dtype=F64, requires_grad=True) for _ in range(2)]
    opts = [QuasiNewton([xs[0]], update="bfgs", max_iter=1),
            torch.optim.LBFGS([xs[1]], max_iter=1, line_search_fn="strong_wolfe")]
    for x, opt in zip(xs, opts):
        def closure(x=x, opt=opt) -> torch.Tensor:
            opt.zero_grad()
            f = 0.5 * x @ A @ x - b @ x
            f.backward()
            return f
        opt.step(closure)
    torch.testing.assert_close(xs[0].detach(), xs[1].detach(), rtol=1e-14, atol=1e-14)


def test_bad_arguments_are_refused() -> None:
    x = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="update"):
        QuasiNewton([x], update="newton")
    with pytest.raises(ValueError, match="line_search"):
        QuasiNewton([x], line_search="armijo")
    with pytest.raises(ValueError, match="max_iter"):
        QuasiNewton([x], max_iter=0)
    with pytest.raises(ValueError, match="one parameter group"):
        QuasiNewton([{"params": [x]}, {"params": [torch.zeros(1, requires_grad=True)]}])
    with pytest.raises(TypeError, match="closure"):
        QuasiNewton([x]).step(None)  # type: ignore[arg-type]
