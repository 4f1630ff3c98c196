"""Boundary conditions and uniform grids: the one definition the whole library uses.

A :class:`Grid` is a value: the number of nodes along each axis, the spacing along each axis
(length units), a boundary condition per axis, and the coordinate of node 0 (``origin``).
Boundary conditions are :class:`Periodic` (node ``n`` is node ``0``) or :class:`Dirichlet`
(the field takes ``value`` just outside the array). Strings ``"periodic"`` and
``"dirichlet"`` are accepted wherever a boundary condition is asked for.

Coordinates: ``grid.coordinates("node")`` gives ``origin + i dx`` and
``grid.coordinates("cell")`` the cell centres ``origin + (i + 1/2) dx``, one vector per axis.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union

import torch

from physdl.ops.checks import as_float, check_tensor  # noqa: F401  (as_float: re-exported)

BOUNDARIES = ("periodic", "dirichlet")
LOCATIONS = ("node", "cell")


@dataclass(frozen=True)
class Periodic:
    """The grid wraps around: the node after the last one is the first one."""

    name = "periodic"


@dataclass(frozen=True)
class Dirichlet:
    """The field takes ``value`` at the nodes just outside the array."""

    value: float = 0.0
    name = "dirichlet"

    def __post_init__(self) -> None:
        # a NumPy scalar or a 0-d tensor becomes a Python float, so boundaries compare and hash
        object.__setattr__(self, "value", finite_float(self.value, "the Dirichlet value"))


Boundary = Union[Periodic, Dirichlet]
BoundaryLike = Union[str, Periodic, Dirichlet]


def as_boundary(bc: BoundaryLike, value: float = 0.0, name: str = "bc") -> Boundary:
    """A :data:`Boundary` from a string (``"periodic"``, ``"dirichlet"``) or a boundary object.

    ``value`` is the Dirichlet value used when ``bc`` is the string ``"dirichlet"``; ``name``
    is what an error calls ``bc`` (the caller's argument name).
    """
    value = finite_float(value, "value")
    if isinstance(bc, (Periodic, Dirichlet)):
        return bc
    if bc == "periodic":
        return Periodic()
    if bc == "dirichlet":
        return Dirichlet(float(value))
    raise ValueError(f"{name} must be one of {BOUNDARIES} or a Periodic/Dirichlet object (the boundary "
                     f"condition), got {bc!r}")


def finite_float(x: object, name: str) -> float:
    """:func:`as_float`, then checked to be finite (``ValueError`` naming ``name`` otherwise)."""
    value = as_float(x, name)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (not NaN or Inf), got {value!r}")
    return value


def positive_float(x: object, name: str) -> float:
    """:func:`as_float`, then checked to be positive and finite (``ValueError`` otherwise)."""
    value = as_float(x, name)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def as_spacing(dx: object, dims: int) -> tuple[float, ...]:
    """One positive finite spacing per axis from a number, a NumPy scalar, a 0-d tensor or a sequence."""
    if isinstance(dx, (Sequence, torch.Tensor)) and not (isinstance(dx, torch.Tensor) and dx.dim() == 0):
        values = tuple(positive_float(h, "dx") for h in dx)
        if len(values) != dims:
            raise ValueError(f"dx has {len(values)} entries but the grid has {dims} axes")
        return values
    h = positive_float(dx, "dx")
    return (h,) * dims


@dataclass(frozen=True)
class Grid:
    """A uniform grid with one boundary condition per axis.

    Args:
        shape: nodes per axis (an int for 1D), each at least 1.
        spacing: grid spacing (length), one number for all axes or one per axis; a Python
            float, a NumPy scalar or a 0-d tensor.
        boundary: one boundary condition for all axes or one per axis.
        origin: coordinate of node 0 along each axis (default 0).

    After construction every field holds tuples of Python values, so grids compare and hash.

    Used in :ref:`03-advection-the-scheme`, :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """

    shape: tuple[int, ...]
    spacing: tuple[float, ...] = 1.0  # type: ignore[assignment]
    boundary: tuple[Boundary, ...] = "periodic"  # type: ignore[assignment]
    origin: tuple[float, ...] = field(default=0.0)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        shape = (self.shape,) if isinstance(self.shape, numbers.Integral) else tuple(self.shape)
        if not 1 <= len(shape) <= 3:
            raise ValueError(f"a grid has 1 to 3 axes, got shape {shape}")
        if any(not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1 for n in shape):
            raise ValueError(f"grid sizes must be positive integers, got {shape}")
        d = len(shape)
        spacing = as_spacing(self.spacing, d)
        bcs = self.boundary
        if isinstance(bcs, (str, Periodic, Dirichlet)) or not isinstance(bcs, Sequence):
            bcs = (bcs,) * d
        bcs = tuple(as_boundary(b, name="boundary") for b in bcs)
        if len(bcs) != d:
            raise ValueError(f"boundary has {len(bcs)} entries but the grid has {d} axes")
        origin = self.origin
        origin = (as_float(origin, "origin"),) * d if not isinstance(origin, Sequence) else tuple(
            as_float(o, "origin") for o in origin)
        if len(origin) != d or not all(math.isfinite(o) for o in origin):
            raise ValueError(f"origin must hold {d} finite numbers, got {origin}")
        object.__setattr__(self, "shape", tuple(int(n) for n in shape))
        object.__setattr__(self, "spacing", spacing)
        object.__setattr__(self, "boundary", bcs)
        object.__setattr__(self, "origin", origin)

    @property
    def dims(self) -> int:
        """Number of spatial axes."""
        return len(self.shape)

    @property
    def dx(self) -> float:
        """The spacing of an isotropic grid (``ValueError`` if the axes differ)."""
        if len(set(self.spacing)) != 1:
            raise ValueError(f"the grid spacing differs between axes: {self.spacing}")
        return self.spacing[0]

    @property
    def periodic(self) -> bool:
        """Whether every axis is periodic."""
        return all(isinstance(b, Periodic) for b in self.boundary)

    @property
    def bc(self) -> Boundary:
        """The boundary condition shared by all axes (``ValueError`` if they differ)."""
        if len(set(self.boundary)) != 1:
            raise ValueError(f"the boundary condition differs between axes: {self.boundary}")
        return self.boundary[0]

    @property
    def lengths(self) -> tuple[float, ...]:
        """``n dx`` per axis: the period of a periodic axis (length)."""
        return tuple(n * h for n, h in zip(self.shape, self.spacing))

    def coordinates(self, location: str = "node", dtype: torch.dtype = torch.float64,
                    device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """Coordinates along each axis: ``origin + i dx`` (nodes) or ``origin + (i + 1/2) dx`` (cells),
        on ``device``."""
        if location not in LOCATIONS:
            raise ValueError(f"location must be one of {LOCATIONS}, got {location!r}")
        offset = 0.5 if location == "cell" else 0.0
        return tuple(o + (torch.arange(n, dtype=dtype, device=device) + offset) * h
                     for n, h, o in zip(self.shape, self.spacing, self.origin))

    def mesh(self, location: str = "node", dtype: torch.dtype = torch.float64,
             device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """:meth:`coordinates` broadcast to the full grid (``indexing="ij"``), each shaped ``shape``."""
        return tuple(torch.meshgrid(*self.coordinates(location, dtype, device), indexing="ij"))

    def check_field(self, u: torch.Tensor, name: str = "state", channels: int | None = None) -> None:
        """Raise ``ValueError`` unless ``u`` is ``(batch, channels, *shape)`` on this grid."""
        check_tensor(u, name)
        expected = f"(batch, {channels if channels is not None else 'channel'}, {', '.join(map(str, self.shape))})"
        if u.dim() != 2 + self.dims or tuple(u.shape[2:]) != self.shape or (
                channels is not None and u.shape[1] != channels):
            raise ValueError(f"{name} must be shaped {expected} on this grid, got {tuple(u.shape)}")
        if u.shape[0] == 0:
            raise ValueError(f"{name} has an empty batch")
