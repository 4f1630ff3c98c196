"""Finite-difference operators: analytic functions, convergence order, consistency, symbols."""

import math

import pytest
import torch

from physdl import ops

# Every test here works in double precision (fixture in conftest.py).
pytestmark = pytest.mark.usefixtures("float64")


def periodic_grid(n: int, d: int):
    """Nodes x_i = i * dx on [0, 2 pi)^d, returned as d coordinate arrays and dx."""
    dx = 2 * math.pi / n
    x = torch.arange(n) * dx
    return torch.meshgrid(*([x] * d), indexing="ij"), dx


def dirichlet_grid(n: int, d: int):
    """Interior nodes x_i = (i + 1) dx of [0, 1]^d with dx = 1 / (n + 1)."""
    dx = 1 / (n + 1)
    x = (torch.arange(n) + 1) * dx
    return torch.meshgrid(*([x] * d), indexing="ij"), dx


def periodic_case(n, d):
    X, dx = periodic_grid(n, d)
    u = torch.ones_like(X[0])
    for a, x in enumerate(X):
        u = u * torch.sin((a + 1) * x)
    lap = -sum((a + 1) ** 2 for a in range(d)) * u
    grad = []
    for a in range(d):
        g = torch.ones_like(u)
        for b, x in enumerate(X):
            g = g * ((b + 1) * torch.cos((b + 1) * x) if a == b else torch.sin((b + 1) * x))
        grad.append(g)
    return u[None, None], torch.stack(grad)[None], lap[None, None], dx


def dirichlet_case(n, d):
    X, dx = dirichlet_grid(n, d)
    u = torch.ones_like(X[0])
    for x in X:
        u = u * torch.sin(math.pi * x)
    lap = -d * math.pi**2 * u
    grad = []
    for a in range(d):
        g = torch.ones_like(u)
        for b, x in enumerate(X):
            g = g * (math.pi * torch.cos(math.pi * x) if a == b else torch.sin(math.pi * x))
        grad.append(g)
    return u[None, None], torch.stack(grad)[None], lap[None, None], dx


CASES = {"periodic": periodic_case, "dirichlet": dirichlet_case}


def max_err(a, b):
    return float((a - b).abs().max())


@pytest.mark.parametrize("bc", ["periodic", "dirichlet"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_laplacian_converges_at_second_order(bc, d):
    sizes = [16, 32] if d == 3 else [32, 64]
    errs = []
    for n in sizes:
        u, _, lap, dx = CASES[bc](n, d)
        errs.append(max_err(ops.laplacian(u, dx, bc=bc), lap))
    assert errs[1] < 5e-2 * float(lap.abs().max())
    assert 1.8 < observed_order(errs) < 2.3


def observed_order(errors):
    return math.log(errors[0] / errors[1]) / math.log(2)


@pytest.mark.parametrize("bc", ["periodic", "dirichlet"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_central_gradient_converges_at_second_order(bc, d):
    errs = []
    for n in ([16, 32] if d == 3 else [32, 64]):
        u, grad, _, dx = CASES[bc](n, d)
        errs.append(max_err(ops.gradient(u, dx, bc=bc), grad))
    assert 1.8 < observed_order(errs) < 2.3


@pytest.mark.parametrize("bc", ["periodic", "dirichlet"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_central_divergence_converges_at_second_order(bc, d):
    """div of v = (u, ..., u), with u vanishing on a Dirichlet boundary, is the sum of du/dx_a."""
    errs = []
    for n in ([16, 32] if d == 3 else [32, 64]):
        u, grad, _, dx = CASES[bc](n, d)
        v = u.expand(1, d, *u.shape[2:])
        errs.append(max_err(ops.divergence(v, dx, bc=bc), grad.sum(dim=1, keepdim=True)))
    assert 1.8 < observed_order(errs) < 2.3


@pytest.mark.parametrize("bc", ["periodic", "dirichlet"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_divergence_of_gradient_is_laplacian(bc, d):
    g = torch.Generator().manual_seed(d)
    u = torch.randn(2, 3, *([10] * d), generator=g)
    dx = [0.1, 0.2, 0.3][:d]
    staggered = ops.divergence(ops.gradient(u, dx, bc=bc, scheme="forward"), dx, bc=bc, scheme="backward")
    lap = ops.laplacian(u, dx, bc=bc)
    if bc == "dirichlet":
        # the backward divergence at the first node needs the flux through the boundary
        # face, which the forward gradient does not produce: compare away from it
        inner = (slice(None), slice(None), *([slice(1, None)] * d))
        staggered, lap = staggered[inner], lap[inner]
    torch.testing.assert_close(staggered, lap, rtol=0, atol=1e-10)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_central_pair_converges_to_the_same_laplacian(d):
    errs = []
    for n in ([16, 32] if d == 3 else [32, 64]):
        u, _, lap, dx = periodic_case(n, d)
        errs.append(max_err(ops.divergence(ops.gradient(u, dx), dx), lap))
    assert observed_order(errs) > 1.8


@pytest.mark.parametrize("scheme", ["central", "forward", "backward"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_symbols_match_stencils(scheme, d):
    shape = (8, 6, 4)[:d]
    dx = (0.3, 0.5, 0.7)[:d]
    u = torch.randn(1, 1, *shape, generator=torch.Generator().manual_seed(1))
    dims = tuple(range(2, 2 + d))
    uh = torch.fft.fftn(u, dim=dims)
    lap = torch.fft.ifftn(ops.laplacian_symbol(shape, dx) * uh, dim=dims).real
    torch.testing.assert_close(lap, ops.laplacian(u, dx), rtol=0, atol=1e-10)
    sym = ops.gradient_symbol(shape, dx, scheme=scheme)
    grad = torch.fft.ifftn(sym[None] * uh, dim=dims).real  # (1, d, *shape)
    torch.testing.assert_close(grad, ops.gradient(u, dx, scheme=scheme), rtol=0, atol=1e-10)


def test_spectral_symbols_are_exact_for_resolved_modes():
    n, L = 16, 2 * math.pi
    x = torch.arange(n) * L / n
    u = torch.sin(3 * x)[None, None]
    uh = torch.fft.fft(u)
    du = torch.fft.ifft(ops.gradient_symbol((n,), L / n, kind="spectral")[0] * uh).real
    torch.testing.assert_close(du, 3 * torch.cos(3 * x)[None, None], rtol=0, atol=1e-12)
    lap = torch.fft.ifft(ops.laplacian_symbol((n,), L / n, kind="spectral") * uh).real
    torch.testing.assert_close(lap, -9 * u, rtol=0, atol=1e-12)


def test_dirichlet_eigenvalues():
    n, dx = 12, 1 / 13
    lam = ops.dirichlet_laplacian_eigenvalues(n, dx)
    i = torch.arange(n)
    for m in (1, 5, 12):
        mode = torch.sin(math.pi * m * (i + 1) / (n + 1))[None, None]
        torch.testing.assert_close(ops.laplacian(mode, dx, bc="dirichlet"), lam[m - 1] * mode, rtol=0, atol=1e-9)


def test_dirichlet_boundary_value_is_used():
    u = torch.zeros(1, 1, 5)
    lap = ops.laplacian(u, 1.0, bc="dirichlet", value=2.0)
    assert lap[0, 0].tolist() == [2.0, 0.0, 0.0, 0.0, 2.0]


def test_gradient_is_differentiable():
    u = torch.randn(1, 1, 8, 8, requires_grad=True)
    ops.divergence(ops.gradient(u, 0.1), 0.1).pow(2).sum().backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()


def test_float32_and_dtype_kept():
    u = torch.randn(1, 1, 8, dtype=torch.float32)
    assert ops.laplacian(u, 0.1).dtype == torch.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ops.laplacian(torch.zeros(8), 0.1), "spatial axes"),
        (lambda: ops.laplacian(torch.zeros(1, 1, 8), -0.1), "positive"),
        (lambda: ops.laplacian(torch.zeros(1, 1, 8, 8), (0.1,)), "entries"),
        (lambda: ops.laplacian(torch.zeros(1, 1, 8), 0.1, bc="neumann"), "bc must be"),
        (lambda: ops.gradient(torch.zeros(1, 1, 8), 0.1, scheme="upwind"), "scheme must be"),
        (lambda: ops.divergence(torch.zeros(1, 3, 8, 8), 0.1), "multiple of 2"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
