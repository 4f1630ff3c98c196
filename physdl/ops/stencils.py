"""Second-order finite-difference stencils: laplacian, gradient and divergence.

All functions take fields shaped ``(batch, channel, *space)`` with 1 to 3 spatial axes, are
differentiable, and keep the device and dtype of their input.

The discrete operators fit together: with ``scheme="forward"`` for the gradient and
``scheme="backward"`` for the divergence (a staggered pair), ``divergence(gradient(u))``
equals ``laplacian(u)`` to round-off on periodic grids, and on Dirichlet grids at every
node but the first along each axis (whose boundary-face flux the forward gradient does not
produce). The central pair gives the wide (2 dx) laplacian instead. Central stencils are
second-order accurate, one-sided ones first-order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from physdl.ops.checks import check_choice, field_dims
from physdl.ops.grid import BOUNDARIES, Dirichlet, as_boundary, as_spacing, finite_float

SCHEMES = ("central", "forward", "backward")

Spacing = float | Sequence[float]


def spatial_dims(u: torch.Tensor, name: str = "u") -> int:
    """Number of spatial axes of a ``(batch, channel, *space)`` tensor (1, 2 or 3).

    Checks ``u`` on the way (:func:`physdl.ops.checks.field_dims`): a non-empty floating-point
    tensor, finite unless inside :func:`physdl.ops.checks.trusted`; errors name ``name``.
    """
    return field_dims(u, name)


def spacing(dx: Spacing, d: int) -> tuple[float, ...]:
    """Expand ``dx`` (a number, NumPy scalar, 0-d tensor or sequence) to one positive spacing per axis."""
    return as_spacing(dx, d)


def _resolve_bc(bc, value: float) -> tuple[str, float]:
    """``(name, value)`` of a boundary given as a string or a :mod:`physdl.ops.grid` object."""
    if isinstance(bc, str) and bc in BOUNDARIES and type(value) is float:
        return bc, value  # the fast path of the hot loops
    b = as_boundary(bc, finite_float(value, "value"))
    return b.name, (b.value if isinstance(b, Dirichlet) else value)


def shift(u: torch.Tensor, axis: int, offset: int, bc="periodic", value: float = 0.0) -> torch.Tensor:
    """Return ``v`` with ``v[..., i, ...] = u[..., i + offset, ...]`` along spatial ``axis``.

    ``axis`` counts spatial axes from 0. Off-grid nodes wrap around (periodic) or take
    ``value`` (Dirichlet; a :class:`~physdl.ops.grid.Dirichlet` object brings its own value).
    ``|offset|`` must be at most 1 for Dirichlet grids.
    """
    bc, value = _resolve_bc(bc, value)
    dim = 2 + axis
    if bc == "periodic":
        return torch.roll(u, shifts=-offset, dims=dim)
    if abs(offset) > 1:
        raise ValueError("Dirichlet shifts are limited to one node")
    n = u.shape[dim]
    pad = [0, 0] * (u.dim() - 2)
    # F.pad lists pads from the last axis backwards.
    k = 2 * (u.dim() - 1 - dim)
    pad[k], pad[k + 1] = 1, 1
    padded = F.pad(u, pad, mode="constant", value=value)
    return padded.narrow(dim, 1 + offset, n)


def laplacian(u: torch.Tensor, dx: Spacing, bc: str = "periodic", value: float = 0.0) -> torch.Tensor:
    """Compact (2d+1)-point laplacian, sum over axes of (u[i+1] - 2u[i] + u[i-1]) / dx^2.

    Args:
        u: field ``(batch, channel, *space)``.
        dx: grid spacing, one number or one per spatial axis (length units).
        bc: ``"periodic"`` or ``"dirichlet"``.
        value: boundary value for Dirichlet grids.

    Returns:
        Tensor shaped like ``u`` (units of u per length^2).

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    d = spatial_dims(u, "u")
    h = spacing(dx, d)
    _resolve_bc(bc, value)
    out = torch.zeros_like(u)
    for axis in range(d):
        out = out + (shift(u, axis, 1, bc, value) - 2 * u + shift(u, axis, -1, bc, value)) / h[axis] ** 2
    return out


def _difference(u: torch.Tensor, axis: int, h: float, scheme: str, bc: str, value: float) -> torch.Tensor:
    if scheme == "central":
        return (shift(u, axis, 1, bc, value) - shift(u, axis, -1, bc, value)) / (2 * h)
    if scheme == "forward":
        return (shift(u, axis, 1, bc, value) - u) / h
    if scheme == "backward":
        return (u - shift(u, axis, -1, bc, value)) / h
    raise ValueError(f"unknown scheme {scheme!r}; choose one of {SCHEMES}")


def gradient(
    u: torch.Tensor, dx: Spacing, bc: str = "periodic", scheme: str = "central", value: float = 0.0
) -> torch.Tensor:
    """Finite-difference gradient.

    Args:
        u: field ``(batch, channel, *space)`` with ``d`` spatial axes.
        dx: grid spacing, one number or one per axis.
        bc: ``"periodic"`` or ``"dirichlet"``.
        scheme: ``"central"`` (second order), ``"forward"`` or ``"backward"``.
        value: boundary value for Dirichlet grids.

    Returns:
        ``(batch, channel * d, *space)``: for each input channel, its ``d`` partial
        derivatives in axis order (for a 2D scalar field: ``[du/dx0, du/dx1]``).

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    d = spatial_dims(u, "u")
    h = spacing(dx, d)
    check_choice(scheme, "scheme", SCHEMES)
    _resolve_bc(bc, value)
    parts = [_difference(u, a, h[a], scheme, bc, value) for a in range(d)]
    stacked = torch.stack(parts, dim=2)  # (batch, channel, d, *space)
    return stacked.flatten(1, 2)


def divergence(
    v: torch.Tensor, dx: Spacing, bc: str = "periodic", scheme: str = "central", value: float = 0.0
) -> torch.Tensor:
    """Finite-difference divergence of vector fields.

    Args:
        v: ``(batch, channel * d, *space)``, the ``d`` components of each vector field in
            axis order (the layout :func:`gradient` returns).
        dx, bc, scheme, value: as for :func:`gradient`.

    Returns:
        ``(batch, channel, *space)``.

    Explained in :ref:`07-crnn-the-network-a-recurrent-surrogate-with-a-divergence-head`.

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    d = spatial_dims(v, "v")
    h = spacing(dx, d)
    check_choice(scheme, "scheme", SCHEMES)
    _resolve_bc(bc, value)
    if v.shape[1] % d:
        raise ValueError(
            f"v: a {d}D vector field needs a multiple of {d} channels (one per axis), "
            f"got shape {tuple(v.shape)}"
        )
    comps = v.unflatten(1, (v.shape[1] // d, d))
    return sum(_difference(comps[:, :, a], a, h[a], scheme, bc, value) for a in range(d))
