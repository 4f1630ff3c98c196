"""Finite-difference operators and their Fourier symbols.

Fields follow the library convention ``(batch, channel, *space)`` with one, two or three
spatial axes. Grid spacing is always an explicit argument. Two boundary conditions are
supported:

``"periodic"``
    the grid wraps around (node ``n`` is node ``0``);
``"dirichlet"``
    the array holds the interior nodes and the nodes just outside it hold a fixed value
    (``value``, zero by default), as for a field that vanishes on the boundary.
"""

from physdl.ops.stencils import (
    BOUNDARIES,
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

__all__ = [
    "BOUNDARIES",
    "SCHEMES",
    "divergence",
    "gradient",
    "laplacian",
    "dirichlet_laplacian_eigenvalues",
    "gradient_symbol",
    "laplacian_symbol",
    "wavenumbers",
]
