"""Linear advection ``d_t + u . grad(d) = 0`` of a density ``d`` by a steady velocity ``u(x)``.

The lecture's explicit scheme in 1D is

    d_i <- d_i - dt u_i (d_{i+1} - d_i) / dx,

a forward difference, which is the upwind (stable) choice only where ``u < 0``: information
travels against the flow's direction there. Where ``u > 0`` the upwind difference is the
backward one, ``(d_i - d_{i-1}) / dx``. :func:`step` picks the difference by the sign of ``u``
at each point (``scheme="upwind"``, the default) or uses the lecture's forward difference
everywhere (``scheme="forward"``). Either way the step is stable only under the CFL bound
``dt max|u| / dx <= 1`` in 1D (the sum over the axes in 2D); a larger ``dt`` raises.

Shapes: in 1D ``d`` is ``(..., n)`` and ``u`` broadcasts against it; in 2D (``dims=2``) ``d`` is
``(..., nx, ny)`` and ``u`` is ``(..., 2, nx, ny)``. Boundaries: ``"periodic"`` or ``"dirichlet"``
(the density outside the domain is ``value``, which flows in where ``u`` points inwards).
Every function is a plain function of tensors: autograd differentiates through it with respect
to ``d`` and ``u``. :func:`adjoint_gradient` computes the same gradient by hand, as the lecture
derives it.
"""

from __future__ import annotations

import torch

BOUNDARIES = ("periodic", "dirichlet")
SCHEMES = ("upwind", "forward")


def _neighbours(d: torch.Tensor, axis: int, bc: str, value: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(d_{i-1}, d_{i+1})`` along ``axis`` with the boundary condition applied."""
    if bc == "periodic":
        return torch.roll(d, 1, dims=axis), torch.roll(d, -1, dims=axis)
    pad = torch.full_like(d.narrow(axis, 0, 1), value)
    left = torch.cat([pad, d.narrow(axis, 0, d.shape[axis] - 1)], dim=axis)
    right = torch.cat([d.narrow(axis, 1, d.shape[axis] - 1), pad], dim=axis)
    return left, right


def _check(bc: str, scheme: str, dims: int) -> None:
    if bc not in BOUNDARIES:
        raise ValueError(f"bc must be one of {BOUNDARIES}, got {bc!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims}")


def cfl_number(u: torch.Tensor, dt: float, dx: float, dims: int = 1) -> float:
    """Courant number ``dt max|u| / dx`` (in 2D, ``dt max(|u_x| + |u_y|) / dx``)."""
    if dims == 1:
        return float(u.detach().abs().max()) * dt / dx
    return float(u.detach().abs().sum(dim=-3).max()) * dt / dx


def check_cfl(u: torch.Tensor, dt: float, dx: float, dims: int = 1) -> None:
    """Raise ``ValueError`` naming the bound when the explicit step would be unstable."""
    if not (dt > 0 and dx > 0):
        raise ValueError(f"dt and dx must be positive, got dt={dt}, dx={dx}")
    c = cfl_number(u, dt, dx, dims)
    if c > 1 + 1e-12:
        umax = c * dx / dt
        raise ValueError(
            f"unstable advection step: CFL number dt max|u| / dx = {c:.3g} > 1. "
            f"Use dt <= dx / max|u| = {dx / umax:.3g} (max|u| = {umax:.3g}, dx = {dx:.3g})."
        )


def _differences(d: torch.Tensor, u: torch.Tensor, dx: float, axis: int, bc: str, value: float,
                 scheme: str) -> torch.Tensor:
    left, right = _neighbours(d, axis, bc, value)
    forward = (right - d) / dx
    if scheme == "forward":
        return forward
    return torch.where(u > 0, (d - left) / dx, forward)


def differences(d: torch.Tensor, u: torch.Tensor, dx: float, bc: str = "periodic", value: float = 0.0,
                scheme: str = "upwind") -> torch.Tensor:
    """The 1D difference quotient the scheme uses for ``d_x`` at each point, ``(..., n)``.

    Where it is zero at every step (``d`` flat), ``u`` has no effect on the solution.
    """
    _check(bc, scheme, 1)
    return _differences(d, u, dx, -1, bc, value, scheme)


def step(d: torch.Tensor, u: torch.Tensor, dt: float, dx: float, bc: str = "periodic",
         value: float = 0.0, scheme: str = "upwind", dims: int = 1, check: bool = True) -> torch.Tensor:
    """One explicit step ``d - dt u . grad(d)``; see the module docstring for shapes."""
    _check(bc, scheme, dims)
    if check:
        check_cfl(u, dt, dx, dims)
    if dims == 1:
        if u.shape[-1] != d.shape[-1]:
            raise ValueError(f"u must have the grid size of d ({d.shape[-1]} points), got {tuple(u.shape)}")
        return d - dt * u * _differences(d, u, dx, -1, bc, value, scheme)
    if u.shape[-3] != 2 or u.shape[-2:] != d.shape[-2:]:
        raise ValueError(f"in 2D u must be shaped (..., 2, nx, ny) matching d {tuple(d.shape)}, got {tuple(u.shape)}")
    ux, uy = u[..., 0, :, :], u[..., 1, :, :]
    return d - dt * (ux * _differences(d, ux, dx, -2, bc, value, scheme)
                     + uy * _differences(d, uy, dx, -1, bc, value, scheme))


def simulate(d0: torch.Tensor, u: torch.Tensor, dt: float, dx: float, steps: int, bc: str = "periodic",
             value: float = 0.0, scheme: str = "upwind", dims: int = 1) -> torch.Tensor:
    """``steps`` explicit steps from ``d0``; returns the trajectory ``(steps + 1, *d0.shape)``."""
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    _check(bc, scheme, dims)
    check_cfl(u, dt, dx, dims)
    states = [d0]
    for _ in range(steps):
        states.append(step(states[-1], u, dt, dx, bc, value, scheme, dims, check=False))
    return torch.stack(states)


def adjoint_gradient(d0: torch.Tensor, u: torch.Tensor, target: torch.Tensor, dt: float, dx: float,
                     steps: int, bc: str = "periodic", value: float = 0.0,
                     scheme: str = "upwind") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Loss ``L = sum (d^N - target)^2`` of the 1D scheme and its gradients, by the chain rule.

    Forward: ``d^{k+1} = d^k - dt u * (D_u d^k)``, with ``D_u`` the difference operator chosen by
    the sign of ``u`` (held fixed: the gradient is that of the scheme away from ``u = 0``).
    Backward, with ``lam^N = 2 (d^N - target)``:

        dL/du     = sum_k  -dt lam^{k+1} * (D_u d^k)
        lam^k     = lam^{k+1} - dt D_u^T (u * lam^{k+1}),      dL/dd0 = lam^0.

    ``D_u^T`` is written out by hand below (a sum of shifted copies), not taken from autograd.
    Returns ``(L, dL/du, dL/dd0)``; ``d0``, ``u`` and ``target`` are vectors ``(n,)``.
    """
    _check(bc, scheme, 1)
    if not (d0.dim() == u.dim() == target.dim() == 1 and d0.shape == u.shape == target.shape):
        raise ValueError("d0, u and target must be vectors of one length")
    check_cfl(u, dt, dx)
    states = [d0]
    for _ in range(steps):
        states.append(step(states[-1], u, dt, dx, bc, value, scheme, check=False))
    residual = states[-1] - target
    loss = residual.pow(2).sum()
    # Weights of d_{i-1}, d_i, d_{i+1} in (D_u d)_i.
    plus = (u > 0).to(u.dtype) if scheme == "upwind" else torch.zeros_like(u)
    minus = 1 - plus
    w_left, w_centre, w_right = -plus / dx, (plus - minus) / dx, minus / dx

    def transpose(v: torch.Tensor) -> torch.Tensor:
        """``(D_u^T v)_j = w_centre_j v_j + w_left_{j+1} v_{j+1} + w_right_{j-1} v_{j-1}``."""
        a, b = w_left * v, w_right * v
        if bc == "periodic":
            return w_centre * v + torch.roll(a, -1) + torch.roll(b, 1)
        zero = torch.zeros_like(v[:1])
        # Ghost values are constants: nothing flows back across the boundary.
        return w_centre * v + torch.cat([a[1:], zero]) + torch.cat([zero, b[:-1]])

    lam = 2 * residual
    grad_u = torch.zeros_like(u)
    for k in reversed(range(steps)):
        grad_u -= dt * lam * _differences(states[k], u, dx, -1, bc, value, scheme)
        lam = lam - dt * transpose(u * lam)
    return loss, grad_u, lam
