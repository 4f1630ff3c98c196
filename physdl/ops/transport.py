"""Transport and flux building blocks shared by the solvers: upwind differences,
semi-Lagrangian transport, face averages, flux divergences, the gradient energy and
periodic distances.

Fields are ``(batch, channel, *space)``; ``axis`` counts spatial axes from 0. Every function
is differentiable and keeps the device and dtype of its input.
"""

from __future__ import annotations

import torch

from physdl.ops.checks import broadcast_field, check_axis, check_choice, check_finite
from physdl.ops.grid import BoundaryLike, Dirichlet, as_boundary, as_spacing, finite_float, positive_float
from physdl.ops.stencils import shift, spatial_dims

UPWIND_SCHEMES = ("upwind", "forward")
WALLS = ("constant", "odd")


def _bc(bc: BoundaryLike) -> tuple[str, float]:
    b = as_boundary(bc)
    return b.name, (b.value if isinstance(b, Dirichlet) else 0.0)


_broadcast_to = broadcast_field


def upwind_difference(d: torch.Tensor, velocity: torch.Tensor, dx: float, axis: int,
                      bc: BoundaryLike = "periodic", scheme: str = "upwind") -> torch.Tensor:
    """One-sided difference quotient of ``d`` along ``axis`` (1 / length times units of d).

    ``scheme="upwind"``: backward ``(d_i - d_{i-1}) / dx`` where ``velocity > 0``, forward
    ``(d_{i+1} - d_i) / dx`` elsewhere, so information is taken from where it comes from.
    ``scheme="forward"``: the forward difference everywhere (the lecture's scheme, upwind only
    for ``velocity < 0``). ``velocity`` broadcasts against ``d``.

    Explained in :ref:`03-advection-the-scheme`.
    """
    check_choice(scheme, "scheme", UPWIND_SCHEMES)
    axis = check_axis(axis, spatial_dims(d, "d"))
    dx = positive_float(dx, "dx")
    velocity = _broadcast_to(velocity, d, "velocity")
    name, value = _bc(bc)
    forward = (shift(d, axis, 1, name, value) - d) / dx
    if scheme == "forward":
        return forward
    return torch.where(velocity > 0, (d - shift(d, axis, -1, name, value)) / dx, forward)


def semi_lagrangian(q: torch.Tensor, velocity: torch.Tensor, dt: float, dx: float, axis: int = 0,
                    bc: BoundaryLike = "periodic", walls: str = "constant") -> torch.Tensor:
    """Transport ``q`` along ``axis`` for one step: each node takes the value at its departure point.

    The departure point of node ``x_i`` is ``x_i - dt velocity_i``; ``q`` there is linearly
    interpolated from its two neighbouring nodes. Stable for any ``dt``: the result is a convex
    combination of values of ``q`` (first order in time; upwind when the Courant number is
    below 1). The interpolation weights are differentiable in ``velocity``; the choice of the
    two nodes is not (it is piecewise constant).

    Boundaries: periodic axes wrap. On Dirichlet axes ``walls`` says what lies beyond the array:
    ``"constant"``, the Dirichlet value; ``"odd"``, the field reflected oddly about the end nodes
    (walls on the first and last node, kept at zero: Burgers' walls), in which case the end
    nodes are set to zero after the step.

    Args:
        q: transported field ``(batch, channel, *space)``.
        velocity: velocity along ``axis`` (length / time), broadcastable to ``q``.
        dt: time step (time); dx: spacing along ``axis`` (length).
    """
    axis = check_axis(axis, spatial_dims(q, "q"))
    check_choice(walls, "walls", WALLS)
    dt, dx = positive_float(dt, "dt"), positive_float(dx, "dx")
    name, value = _bc(bc)
    dim = 2 + axis
    shift_cells = (dt / dx * _broadcast_to(velocity, q, "velocity")).movedim(dim, -1)
    q = q.movedim(dim, -1)
    n = q.shape[-1]
    index = torch.arange(n, dtype=q.dtype, device=q.device)
    if name == "periodic":
        # Wrap the two neighbours of each departure point: no ghost layer whose width depends
        # on the data, so the step traces into one static graph (torch.compile).
        pos = index - shift_cells
        left = pos.detach().floor()
        w = pos - left
        i0 = left.long().remainder(n)
        out = torch.gather(q, -1, i0) * (1 - w) + torch.gather(q, -1, (i0 + 1).remainder(n)) * w
        return out.movedim(-1, dim)
    if n < 4:
        raise ValueError(f"semi-Lagrangian transport on a Dirichlet axis needs at least 4 nodes, got {n}")
    pos = index - shift_cells
    if walls == "odd":
        # The odd continuation about both end nodes is periodic with period 2 (n - 1): one
        # period holds q and its odd mirror image, so a departure point any number of cells
        # away (any dt) is read off it without a data-dependent ghost layer.
        period = 2 * (n - 1)
        ext = torch.cat([q, -q[..., 1:-1].flip(-1)], dim=-1)
        left = pos.detach().floor()
        w = pos - left
        i0 = left.long().remainder(period)
        out = torch.gather(ext, -1, i0) * (1 - w) + torch.gather(ext, -1, (i0 + 1).remainder(period)) * w
        zero = torch.zeros_like(out[..., :1])
        out = torch.cat([zero, out[..., 1:-1], zero], dim=-1)
    else:
        # Beyond a wall lies the Dirichlet value: departure points are clamped to one ghost node.
        ghost = torch.full_like(q[..., :1], value)
        ext = torch.cat([ghost, q, ghost], dim=-1)
        pos = pos.clamp(-1, n) + 1
        i0 = pos.detach().floor().clamp(max=n)
        w = pos - i0
        i0 = i0.long()
        out = torch.gather(ext, -1, i0) * (1 - w) + torch.gather(ext, -1, i0 + 1) * w
    return out.movedim(-1, dim)


def face_average(m: torch.Tensor, axis: int, bc: BoundaryLike = "periodic") -> torch.Tensor:
    """``(m_i + m_{i+1}) / 2``: ``m`` on the face between node ``i`` and ``i + 1`` along ``axis``."""
    axis = check_axis(axis, spatial_dims(m, "m"))
    name, value = _bc(bc)
    return 0.5 * (m + shift(m, axis, 1, name, value))


def flux_divergence(mobility: torch.Tensor, potential: torch.Tensor, dx: object,
                    bc: BoundaryLike = "periodic") -> torch.Tensor:
    """``div(M grad mu)`` in conservative form, with ``M`` averaged onto the faces.

    ``sum_a [M_{i+1/2} (mu_{i+1} - mu_i) - M_{i-1/2} (mu_i - mu_{i-1})] / dx_a^2``. On a periodic
    grid the face fluxes cancel in the sum over nodes, so the result sums to zero (mass is
    conserved to round-off). ``mobility`` broadcasts against ``potential``.
    """
    d = spatial_dims(potential, "potential")
    h = as_spacing(dx, d)
    name, value = _bc(bc)
    mobility = _broadcast_to(mobility, potential, "mobility")
    out = torch.zeros_like(potential)
    for a in range(d):
        # Written with the face i - 1/2 (flux into node i from the left), in this order, so that
        # the forward and the backward pass round exactly as the void model always has.
        m_face = 0.5 * (mobility + shift(mobility, a, -1, name, value))
        flux = m_face * (shift(potential, a, -1, name, value) - potential) / h[a]
        out = out + (flux - shift(flux, a, 1, name, value)) / h[a]
    return out


def gradient_energy(u: torch.Tensor, dx: object) -> torch.Tensor:
    """``|grad u|^2 / 2`` at each node with forward differences on a periodic grid.

    Forward differences pair with the compact laplacian: the derivative of
    ``sum gradient_energy(u) dx^d`` with respect to ``u_i`` is ``-lap_h(u)_i dx^d``.
    Returns a tensor shaped like ``u`` (units of u^2 / length^2).
    """
    d = spatial_dims(u, "u")
    h = as_spacing(dx, d)
    return 0.5 * sum(((shift(u, a, 1) - u) / h[a]) ** 2 for a in range(d))


def periodic_offset(a: torch.Tensor, b: torch.Tensor | float, period: float) -> torch.Tensor:
    """Signed shortest offset ``a - b`` on a circle of circumference ``period``, in ``[-period/2, period/2)``."""
    a, b, period = _circle_args(a, b, period)
    return torch.remainder(a - b + period / 2, period) - period / 2


def periodic_distance(a: torch.Tensor, b: torch.Tensor | float, period: float) -> torch.Tensor:
    """Shortest distance ``|a - b|`` on a circle of circumference ``period``, in ``[0, period/2]``."""
    a, b, period = _circle_args(a, b, period)
    r = torch.remainder(a - b, period)
    return torch.minimum(r, period - r)


def _circle_args(a: object, b: object, period: object) -> tuple[torch.Tensor, torch.Tensor | float, float]:
    """Checked arguments of :func:`periodic_offset` / :func:`periodic_distance`: ``a`` a finite
    floating-point tensor, ``b`` a finite number or a tensor that broadcasts against ``a``."""
    from physdl.ops.checks import finite_tensor

    a = finite_tensor(a, "a")
    if isinstance(b, torch.Tensor) and b.dim():
        b = finite_tensor(b, "b")
        try:
            torch.broadcast_shapes(a.shape, b.shape)
        except RuntimeError:
            raise ValueError(f"b of shape {tuple(b.shape)} does not broadcast against a of shape {tuple(a.shape)}") from None
    else:
        b = finite_float(b, "b")
    return a, b, positive_float(period, "period")
