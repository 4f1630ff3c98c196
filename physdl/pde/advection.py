"""Linear advection ``d_t + u . grad(d) = 0`` of a density ``d`` by a steady velocity ``u(x)``.

The lecture's explicit scheme in 1D is

    d_i <- d_i - dt u_i (d_{i+1} - d_i) / dx,

a forward difference, which is the upwind (stable) choice only where ``u < 0``: information
travels against the flow's direction there. Where ``u > 0`` the upwind difference is the
backward one, ``(d_i - d_{i-1}) / dx``. :class:`Advection` picks the difference by the sign of
``u`` at each point (``scheme="upwind"``, the default) or uses the lecture's forward difference
everywhere (``scheme="forward"``). Either way the step is stable only under the CFL bound
``dt max|u| / dx <= 1`` in 1D (the sum over the axes in 2D), checked when the stepper is made.
:class:`SemiLagrangianAdvection` is stable at any ``dt``.

Shapes: states ``(batch, 1, *space)`` in 1D or 2D; the velocity ``(d, *space)`` or
``(batch, d, *space)``. Boundaries come from the :class:`~physdl.ops.grid.Grid`: periodic or
Dirichlet (the density outside the domain is the Dirichlet value, which flows in where ``u``
points inwards). Autograd differentiates a rollout with respect to the state and the velocity;
:func:`adjoint_gradient` computes the same gradient by hand, as the lecture derives it.
"""

from __future__ import annotations

import torch

from physdl.ops.checks import check_int, check_tensor, finite_tensor
from physdl.ops.grid import BOUNDARIES, Grid, as_boundary, positive_float  # noqa: F401  (BOUNDARIES re-exported)
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

    Explained in :ref:`03-advection-the-scheme`.
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

    def per_sample(self) -> dict[str, torch.Tensor]:
        return {"velocity": self.velocity}

    def step(self, state: torch.Tensor) -> torch.Tensor:
        change = 0
        velocity = self.velocity.to(state.dtype)  # the state's dtype, as every stepper keeps
        for a, h in enumerate(self.grid.spacing):
            u = velocity[:, a : a + 1]
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
        for n, bc in zip(grid.shape, grid.boundary):
            if bc.name == "dirichlet" and n < 4:
                raise ValueError(f"grid: semi-Lagrangian transport on a Dirichlet axis needs at least 4 nodes, "
                                 f"got shape {grid.shape}")

    def per_sample(self) -> dict[str, torch.Tensor]:
        return {"velocity": self.velocity}

    def step(self, state: torch.Tensor) -> torch.Tensor:
        velocity = self.velocity.to(state.dtype)
        for a, h in enumerate(self.grid.spacing):
            state = semi_lagrangian(state, velocity[:, a : a + 1], self.dt, h, a, self.grid.boundary[a])
        return state


def _velocity_field(velocity: torch.Tensor, grid: Grid) -> torch.Tensor:
    """``velocity`` as ``(batch or 1, d, *shape)``."""
    check_tensor(velocity, "velocity")
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

    Explained in :ref:`03-advection-the-gradient-by-the-chain-rule`.
    """
    for x, name in ((d0, "d0"), (u, "u"), (target, "target")):
        finite_tensor(x, name)
    if not (d0.dim() == u.dim() == target.dim() == 1 and d0.shape == u.shape == target.shape):
        raise ValueError(f"d0, u and target must be vectors of one length, got shapes {tuple(d0.shape)}, "
                         f"{tuple(u.shape)} and {tuple(target.shape)}")
    steps, dx = check_int(steps, "steps", 0), positive_float(dx, "dx")
    boundary = as_boundary(bc, value)
    stepper = Advection(Grid(len(d0), dx, boundary), dt, u, scheme)  # checks the scheme and the CFL bound
    # The forward pass is a rollout; the backward loop below is written out by hand on purpose
    # (the adjoint is what chapter 3 teaches), the one time loop in physdl outside rollout.
    states = rollout(stepper, d0[None, None], steps)[0, :, 0]  # (steps + 1, n)
    residual = states[-1] - target
    loss = residual.pow(2).sum()
    # Weights of d_{i-1}, d_i, d_{i+1} in (D_u d)_i.
    plus = (u > 0).to(u.dtype) if scheme == "upwind" else torch.zeros_like(u)
    minus = 1 - plus
    w_left, w_centre, w_right = -plus / dx, (plus - minus) / dx, minus / dx

    def transpose(v: torch.Tensor) -> torch.Tensor:
        """``(D_u^T v)_j = w_centre_j v_j + w_left_{j+1} v_{j+1} + w_right_{j-1} v_{j-1}``."""
        a, b = w_left * v, w_right * v
        if boundary.name == "periodic":
            return w_centre * v + torch.roll(a, -1) + torch.roll(b, 1)
        zero = torch.zeros_like(v[:1])
        # Ghost values are constants: nothing flows back across the boundary.
        return w_centre * v + torch.cat([a[1:], zero]) + torch.cat([zero, b[:-1]])

    lam = 2 * residual
    grad_u = torch.zeros_like(u)
    for k in reversed(range(steps)):
        grad_u -= dt * lam * upwind_difference(states[k][None, None], u, dx, 0, boundary, scheme)[0, 0]
        lam = lam - dt * transpose(u * lam)
    return loss, grad_u, lam
