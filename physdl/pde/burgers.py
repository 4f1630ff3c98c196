"""Viscous Burgers' equation ``u_t + u u_x = nu u_xx`` on ``x in [-1, 1]``, ``t >= 0``.

The course's problem (the lecture's and Raissi et al.'s) starts from ``u(x, 0) = -sin(pi x)``
with ``u(-1, t) = u(1, t) = 0`` and ``nu = 0.01 / pi``: two waves run into each other and
form a steep, stationary shock at ``x = 0``.

Exact solution (Cole-Hopf). With ``u = -2 nu phi_x / phi`` the equation becomes the heat
equation ``phi_t = nu phi_xx`` with ``phi(x, 0) = exp(-cos(pi x) / (2 pi nu))``. That initial
state is even and 2-periodic, so the heat-kernel solution on the whole line gives an odd,
2-periodic ``u`` that vanishes at ``x = +-1``: the Dirichlet problem is solved exactly. With
``eta = sqrt(4 nu t) z``,

    u(x, t) = - int sin(pi (x - eta)) w(z) dz / int w(z) dz,
    w(z) = exp(-cos(pi (x - eta)) / (2 pi nu) - z^2).

The exponent spans about ``1 / (pi nu) = 100`` units for the course's ``nu``, so the
weights are normalised by their largest value before exponentiation (log-sum-exp) and the
integrals are taken with the trapezoidal rule on ``|z| <= z_max``. The integrand is smooth
and decays like ``exp(-z^2)``, so the rule converges geometrically once the grid resolves
the narrowest feature, the peak of ``exp(-cos / (2 pi nu))`` (width ``~ sqrt(nu)`` in x).
"""

from __future__ import annotations

import math

import torch

NU = 0.01 / math.pi
"""The viscosity of the lecture's problem, shared by the PINN and differentiable-physics chapters."""


def _check_points(x: torch.Tensor, t: torch.Tensor) -> None:
    if torch.any(x < -1 - 1e-12) or torch.any(x > 1 + 1e-12):
        raise ValueError("x must lie in [-1, 1]")
    if torch.any(t < 0):
        raise ValueError("t must be non-negative")


def _check_nu(nu: float) -> None:
    if not nu > 0:
        raise ValueError(f"the viscosity nu must be positive, got {nu}")


def exact_solution(
    x: torch.Tensor,
    t: torch.Tensor,
    nu: float = NU,
    nodes: int = 2001,
    chunk: int = 512,
) -> torch.Tensor:
    """Exact ``u(x, t)`` of the course's Burgers problem, by the Cole-Hopf transformation.

    Args:
        x: positions in ``[-1, 1]``, any shape broadcastable against ``t``.
        t: times, ``t >= 0``.
        nu: viscosity (the course uses :data:`NU`).
        nodes: trapezoid nodes of the heat-kernel integral over ``|z| <= z_max``. The default
            gives about 1e-10 accuracy at the course's viscosity.
        chunk: points evaluated at a time (memory ``~ chunk * nodes`` doubles).

    Returns:
        ``u`` in float64 with the broadcast shape of ``x`` and ``t``.
    """
    _check_nu(nu)
    x, t = torch.broadcast_tensors(torch.as_tensor(x, dtype=torch.float64),
                                   torch.as_tensor(t, dtype=torch.float64))
    _check_points(x, t)
    shape = x.shape
    x, t = x.reshape(-1), t.reshape(-1)
    # Beyond z_max the Gaussian is below exp(-z_max^2) = e^-40 times the largest possible
    # gain exp(2 / (2 pi nu)) of the other factor, i.e. negligible.
    z_max = math.sqrt(40.0 + 1.0 / (math.pi * nu))
    z = torch.linspace(-z_max, z_max, nodes, dtype=torch.float64)
    out = torch.empty_like(x)
    for i in range(0, len(x), chunk):
        xs, ts = x[i : i + chunk, None], t[i : i + chunk, None]
        y = xs - torch.sqrt(4 * nu * ts) * z  # (points, nodes)
        log_w = -torch.cos(math.pi * y) / (2 * math.pi * nu) - z**2
        w = torch.exp(log_w - log_w.amax(dim=1, keepdim=True))
        # Uniform nodes: the trapezoid weights cancel in the ratio (the end weights are e^-40).
        out[i : i + chunk] = -(torch.sin(math.pi * y) * w).sum(dim=1) / w.sum(dim=1)
    return out.reshape(shape)


def lecture_grid(nx: int = 128, nt: int = 33) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's space-time grid: ``nx`` points on ``[-1, 1]``, ``nt`` times on ``[0, 1]``.

    Returns ``(x, t)``, float64 vectors of shapes ``(nx,)`` and ``(nt,)``; endpoints included.
    """
    if nx < 2 or nt < 2:
        raise ValueError(f"need nx >= 2 and nt >= 2, got nx={nx}, nt={nt}")
    return (torch.linspace(-1, 1, nx, dtype=torch.float64), torch.linspace(0, 1, nt, dtype=torch.float64))


def exact_field(nx: int = 128, nt: int = 33, nu: float = NU) -> torch.Tensor:
    """Exact ``u`` on :func:`lecture_grid`, shape ``(nt, nx)`` (rows are times)."""
    x, t = lecture_grid(nx, nt)
    return exact_solution(x[None, :], t[:, None], nu)
