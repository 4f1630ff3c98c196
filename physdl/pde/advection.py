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

from physdl.ops.grid import BOUNDARIES, Grid, as_boundary
from physdl.ops.transport import UPWIND_SCHEMES, semi_lagrangian, upwind_difference
from physdl.pde.stepper import Stepper, as_dt, rollout

SCHEMES = UPWIND_SCHEMES


class Advection(Stepper):
    """Explicit advection step ``d - dt u . grad(d)`` of a density by a steady velocity.

    Args:
        grid: the grid (1D or 2D; periodic or Dirichlet, the inflow value is the Dirichlet value).
        dt: time step (time units).
        velocity: ``(d, *shape)`` or ``(batch, d, *shape)`` (length / time), one component per
            axis; in 1D a ``(n,)`` vector is accepted.
        scheme: ``"upwind"`` (difference chosen by the sign of ``u``) or ``"forward"`` (the
            lecture's forward difference everywhere).

    Stable under the CFL bound ``dt sum_a max|u_a| / dx <= 1``, checked when the stepper is
    made. The state is ``(batch, 1, *shape)``.
    """

    channels = 1

    def __init__(self, grid: Grid, dt: float, velocity: torch.Tensor, scheme: str = "upwind") -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        if grid.dims not in (1, 2):
            raise ValueError(f"advection works in 1D and 2D, got a {grid.dims}D grid")
        self.grid, self.dt, self.scheme = grid, as_dt(dt), scheme
        self.velocity = _velocity_field(velocity, grid)
        self.check_time_step()

    def courant_number(self) -> float:
        """``dt sum_a max|u_a| / dx_a`` (the CFL number)."""
        v = self.velocity.detach().abs()
        return sum(float(v[:, a].max()) / h for a, h in enumerate(self.grid.spacing)) * self.dt

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        c = self.courant_number() / self.dt
        return 1.0 / c if c > 0 else None

    def limit_description(self) -> str:
        return "CFL: dt sum_a max|u_a| / dx_a <= 1"

    def check_time_step(self, state: torch.Tensor | None = None) -> None:
        if not bool(torch.isfinite(self.velocity).all()):
            raise ValueError("the velocity field contains NaN or infinite values")
        super().check_time_step(state)

    def step(self, state: torch.Tensor) -> torch.Tensor:
        change = 0
        for a, h in enumerate(self.grid.spacing):
            u = self.velocity[:, a : a + 1]
            change = change + u * upwind_difference(state, u, h, a, self.grid.boundary[a], self.scheme)
        return state - self.dt * change


class SemiLagrangianAdvection(Stepper):
    """Semi-Lagrangian advection of a density by a steady velocity: stable for any ``dt``.

    Each axis in turn (dimensional splitting), the density at a node is the linearly
    interpolated density at its departure point ``x - dt u``. First order in time; below
    a Courant number of 1 it equals the upwind scheme. Arguments as for :class:`Advection`.
    """

    channels = 1

    def __init__(self, grid: Grid, dt: float, velocity: torch.Tensor) -> None:
        self.grid, self.dt = grid, as_dt(dt)
        self.velocity = _velocity_field(velocity, grid)
        if not bool(torch.isfinite(self.velocity).all()):
            raise ValueError("the velocity field contains NaN or infinite values")

    def step(self, state: torch.Tensor) -> torch.Tensor:
        for a, h in enumerate(self.grid.spacing):
            state = semi_lagrangian(state, self.velocity[:, a : a + 1], self.dt, h, a, self.grid.boundary[a])
        return state


def _velocity_field(velocity: torch.Tensor, grid: Grid) -> torch.Tensor:
    """``velocity`` as ``(batch or 1, d, *shape)``."""
    if not isinstance(velocity, torch.Tensor):
        raise TypeError(f"velocity must be a tensor, got {type(velocity).__name__}")
    d = grid.dims
    v = velocity
    if d == 1 and v.dim() == 1:
        v = v[None, None]
    elif v.dim() == d + 1:
        v = v[None]
    if v.dim() != d + 2 or v.shape[1] != d or tuple(v.shape[2:]) != grid.shape:
        raise ValueError(f"velocity must be ({d}, {', '.join(map(str, grid.shape))}) or (batch, {d}, ...) "
                         f"on the grid, got {tuple(velocity.shape)}")
    return v


# ---------------------------------------------------------------------------------------- legacy API
# The functions below keep the original call signatures (fields ``(..., n)`` or
# ``(..., nx, ny)``) on top of the steppers above; new code should use the steppers and
# :func:`physdl.rollout`.


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
    if not bool(torch.isfinite(u).all()):
        raise ValueError("the velocity u contains NaN or infinite values")
    c = cfl_number(u, dt, dx, dims)
    if c > 1 + 1e-12:
        umax = c * dx / dt
        raise ValueError(
            f"unstable advection step: CFL number dt max|u| / dx = {c:.3g} > 1. "
            f"Use dt <= dx / max|u| = {dx / umax:.3g} (max|u| = {umax:.3g}, dx = {dx:.3g})."
        )


def _as_batch(d: torch.Tensor, u: torch.Tensor, dims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Legacy layouts ``d (..., *space)``, ``u (..., [2,] *space)`` as ``(batch, 1, *space)`` and ``(batch, d, *space)``."""
    space = tuple(d.shape[d.dim() - dims:])
    lead = tuple(d.shape[: d.dim() - dims])
    if dims == 1:
        u = u.unsqueeze(-2)  # (..., 1, n)
    return d.reshape(-1, 1, *space), u.expand(*lead, dims, *space).reshape(-1, dims, *space)


def differences(d: torch.Tensor, u: torch.Tensor, dx: float, bc: str = "periodic", value: float = 0.0,
                scheme: str = "upwind") -> torch.Tensor:
    """The 1D difference quotient the scheme uses for ``d_x`` at each point, ``(..., n)``.

    Where it is zero at every step (``d`` flat), ``u`` has no effect on the solution.
    """
    _check(bc, scheme, 1)
    n = d.shape[-1]
    velocity = u.expand_as(d).reshape(-1, 1, n)
    return upwind_difference(d.reshape(-1, 1, n), velocity, dx, 0, as_boundary(bc, value), scheme).reshape(d.shape)


def step(d: torch.Tensor, u: torch.Tensor, dt: float, dx: float, bc: str = "periodic",
         value: float = 0.0, scheme: str = "upwind", dims: int = 1, check: bool = True) -> torch.Tensor:
    """One explicit step ``d - dt u . grad(d)``; see the module docstring for shapes.

    Deprecated: use :class:`Advection` and :func:`physdl.rollout`.
    """
    return simulate(d, u, dt, dx, 1, bc, value, scheme, dims, check=check)[-1]


def simulate(d0: torch.Tensor, u: torch.Tensor, dt: float, dx: float, steps: int, bc: str = "periodic",
             value: float = 0.0, scheme: str = "upwind", dims: int = 1, check: bool = True) -> torch.Tensor:
    """``steps`` explicit steps from ``d0``; returns the trajectory ``(steps + 1, *d0.shape)``.

    A thin layer over :class:`Advection` and :func:`physdl.rollout` in the original layout.
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    _check(bc, scheme, dims)
    if check:
        check_cfl(u, dt, dx, dims)
    if dims == 1 and u.shape[-1] != d0.shape[-1]:
        raise ValueError(f"u must have the grid size of d ({d0.shape[-1]} points), got {tuple(u.shape)}")
    if dims == 2 and (u.dim() < 3 or u.shape[-3] != 2 or u.shape[-2:] != d0.shape[-2:]):
        raise ValueError(f"in 2D u must be shaped (..., 2, nx, ny) matching d {tuple(d0.shape)}, got {tuple(u.shape)}")
    grid = Grid(tuple(d0.shape[d0.dim() - dims:]), dx, as_boundary(bc, value))
    state, velocity = _as_batch(d0, u, dims)
    stepper = _unchecked(Advection, grid, dt, velocity, scheme)
    frames = rollout(stepper, state, steps, check_finite=False)  # (batch, steps + 1, 1, *space)
    return frames.movedim(1, 0).reshape(steps + 1, *d0.shape)


def _unchecked(cls, grid: Grid, dt: float, velocity: torch.Tensor, scheme: str) -> Advection:
    """An :class:`Advection` stepper without the CFL check (the legacy ``check=False``)."""
    stepper = cls.__new__(cls)
    stepper.grid, stepper.dt, stepper.scheme = grid, float(dt), scheme
    stepper.velocity = velocity
    return stepper


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
    # The forward pass is a rollout; the backward loop below is written out by hand on purpose
    # (the adjoint is what chapter 3 teaches), the one time loop in physdl outside rollout.
    states = simulate(d0, u, dt, dx, steps, bc, value, scheme, check=False)
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
        grad_u -= dt * lam * differences(states[k], u, dx, bc, value, scheme)
        lam = lam - dt * transpose(u * lam)
    return loss, grad_u, lam
