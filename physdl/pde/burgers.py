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


# --------------------------------------------------------------------------- differentiable solver

BOUNDARIES = ("dirichlet", "periodic")


def grid(n: int, bc: str = "dirichlet") -> tuple[torch.Tensor, float]:
    """Solver nodes on ``[-1, 1]`` and their spacing ``dx``.

    ``"dirichlet"``: ``n`` nodes ``linspace(-1, 1, n)`` with the walls on the first and last
    node (the lecture's grid, so the solver's values and :func:`lecture_grid` coincide).
    ``"periodic"``: ``n`` nodes ``-1 + i dx`` with ``dx = 2 / n`` (node ``n`` is node 0).
    """
    if bc not in BOUNDARIES:
        raise ValueError(f"bc must be one of {BOUNDARIES}, got {bc!r}")
    if n < 4:
        raise ValueError(f"need at least 4 nodes, got {n}")
    if bc == "dirichlet":
        return torch.linspace(-1, 1, n, dtype=torch.float64), 2.0 / (n - 1)
    dx = 2.0 / n
    return -1 + dx * torch.arange(n, dtype=torch.float64), dx


def diffusion_number(dt: float, dx: float, nu: float) -> float:
    """``nu dt / dx^2``; explicit diffusion is stable for values up to 1/2."""
    return nu * dt / dx**2


def check_stability(dt: float, dx: float, nu: float) -> None:
    """Raise ``ValueError`` naming the bound when the explicit diffusion step is unstable."""
    _check_nu(nu)
    if not (dt > 0 and dx > 0):
        raise ValueError(f"dt and dx must be positive, got dt={dt}, dx={dx}")
    r = diffusion_number(dt, dx, nu)
    if r > 0.5:
        raise ValueError(f"unstable diffusion step: nu dt / dx^2 = {r:.3g} > 1/2. "
                         f"Use dt <= dx^2 / (2 nu) = {dx * dx / (2 * nu):.3g}.")


def _extend(u: torch.Tensor, pad: int, bc: str) -> torch.Tensor:
    """``u`` with ``pad`` ghost nodes on each side: wrapped, or odd about the wall nodes."""
    if bc == "periodic":
        return torch.cat([u[..., -pad:], u, u[..., :pad]], dim=-1)
    # u(-1 - s) = -u(-1 + s): the odd reflection keeps u = 0 on the walls.
    left = -u[..., 1 : pad + 1].flip(-1)
    right = -u[..., -pad - 1 : -1].flip(-1)
    return torch.cat([left, u, right], dim=-1)


def step(u: torch.Tensor, dt: float, dx: float, nu: float = NU, bc: str = "dirichlet",
         check: bool = True) -> torch.Tensor:
    """One step: explicit diffusion, then semi-Lagrangian advection (the pbdl-book's splitting).

    Diffusion: ``u + dt nu (u_{i+1} - 2 u_i + u_{i-1}) / dx^2``. Advection: each node takes the
    value, linearly interpolated, at its departure point ``x_i - dt u_i``; this is stable for
    any ``dt`` (the lecture's 128 nodes and 32 steps have Courant numbers up to about 2).
    ``u`` is ``(..., n)`` on :func:`grid`'s nodes; with ``"dirichlet"`` the end nodes stay 0.
    ``check`` verifies the diffusion bound (:func:`check_stability`) first.
    """
    if bc not in BOUNDARIES:
        raise ValueError(f"bc must be one of {BOUNDARIES}, got {bc!r}")
    if check:
        check_stability(dt, dx, float(nu))
    n = u.shape[-1]
    if n < 4:
        raise ValueError(f"need at least 4 nodes, got u of shape {tuple(u.shape)}")
    ext = _extend(u, 1, bc)
    u = u + (dt * nu / dx**2) * (ext[..., 2:] - 2 * u + ext[..., :-2])
    # Departure points in index units.
    shift = dt / dx * u
    if bc == "periodic":
        # Wrap the two neighbours of each departure point: no ghost layer whose width depends
        # on the data, so the step traces into one static graph (torch.compile).
        pos = torch.arange(n, dtype=u.dtype, device=u.device) - shift
        left = pos.detach().floor()
        w = pos - left
        i0 = left.long().remainder(n)
        return torch.gather(u, -1, i0) * (1 - w) + torch.gather(u, -1, (i0 + 1).remainder(n)) * w
    # Dirichlet: a ghost layer, odd about the walls, wide enough for the longest departure
    # (at most one reflection).
    pad = min(int(shift.detach().abs().max().ceil()) + 1, n - 2)
    ext = _extend(u, pad, bc)
    pos = torch.arange(n, dtype=u.dtype, device=u.device) + pad - shift
    i0 = pos.detach().floor().clamp(0, n + 2 * pad - 2)
    w = pos - i0
    i0 = i0.long()
    u_new = torch.gather(ext, -1, i0) * (1 - w) + torch.gather(ext, -1, i0 + 1) * w
    return torch.cat([torch.zeros_like(u_new[..., :1]), u_new[..., 1:-1], torch.zeros_like(u_new[..., :1])], -1)


def simulate(u0: torch.Tensor, dt: float, dx: float, steps: int, nu: float = NU,
             bc: str = "dirichlet") -> torch.Tensor:
    """``steps`` solver steps from ``u0`` ``(..., n)``; trajectory ``(steps + 1, ..., n)``.

    Differentiable with respect to ``u0`` (and ``nu`` if a tensor is passed).
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    check_stability(dt, dx, float(nu))
    states = [u0]
    for _ in range(steps):
        states.append(step(states[-1], dt, dx, nu, bc, check=False))
    return torch.stack(states)
