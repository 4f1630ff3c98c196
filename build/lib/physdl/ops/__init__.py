"""Finite-difference operators and their Fourier symbols.

Fields follow the library convention ``(batch, channel, *space)`` with one, two or three
spatial axes. Grid spacing is always an explicit argument. Two boundary conditions are
supported, defined once in :mod:`physdl.ops.grid` (with the :class:`Grid` value that the
solvers are made from):

``"periodic"``
    the grid wraps around (node ``n`` is node ``0``);
``"dirichlet"``
    the array holds the interior nodes and the nodes just outside it hold a fixed value
    (``value``, zero by default), as for a field that vanishes on the boundary.
"""

from physdl.ops.grid import BOUNDARIES, Boundary, Dirichlet, Grid, Periodic, as_boundary
from physdl.ops.stencils import (
    SCHEMES,
    divergence,
    gradient,
    laplacian,
)
from physdl.ops.symbols import (
    dirichlet_laplacian_eigenvalues,
    gradient_symbol,
    laplacian_symbol,
    wavenumbers,
)
from physdl.ops.transport import (
    face_average,
    flux_divergence,
    gradient_energy,
    periodic_distance,
    periodic_offset,
    semi_lagrangian,
    upwind_difference,
)

__all__ = [
    "BOUNDARIES",
    "Boundary",
    "Dirichlet",
    "Grid",
    "Periodic",
    "as_boundary",
    "face_average",
    "flux_divergence",
    "gradient_energy",
    "periodic_distance",
    "periodic_offset",
    "semi_lagrangian",
    "upwind_difference",
    "SCHEMES",
    "divergence",
    "gradient",
    "laplacian",
    "dirichlet_laplacian_eigenvalues",
    "gradient_symbol",
    "laplacian_symbol",
    "wavenumbers",
]
