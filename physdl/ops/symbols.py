"""Fourier symbols of the finite-difference operators in :mod:`physdl.ops.stencils`.

On a periodic grid every stencil is diagonal in the discrete Fourier basis: applying it to
``exp(i k x)`` multiplies the mode by its symbol. Symbols are laid out as ``torch.fft.fftn``
orders its output over the last ``d`` axes, so ``ifftn(symbol * fftn(u))`` applies the
operator. ``kind="spectral"`` gives the exact derivative instead (``i k`` and ``-|k|^2``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from physdl.ops.checks import check_choice, check_grid_shape, check_int
from physdl.ops.grid import positive_float
from physdl.ops.stencils import SCHEMES, Spacing, spacing


def wavenumbers(n: int, dx: float, dtype: torch.dtype = torch.float64, device="cpu") -> torch.Tensor:
    """Angular wavenumbers ``2 pi m / (n dx)`` of an ``n``-point periodic grid (fft order)."""
    n, dx = check_int(n, "n", 1), positive_float(dx, "dx")
    return 2 * math.pi * torch.fft.fftfreq(n, d=dx, dtype=dtype, device=device)


def _grids(shape: Sequence[int], dx: Spacing, dtype, device) -> tuple[list[torch.Tensor], tuple[float, ...]]:
    shape = check_grid_shape(shape, "shape")
    h = spacing(dx, len(shape))
    ks = [wavenumbers(n, hi, dtype, device) for n, hi in zip(shape, h)]
    return list(torch.meshgrid(*ks, indexing="ij")), h


def laplacian_symbol(
    shape: Sequence[int], dx: Spacing, kind: str = "fd", dtype=torch.float64, device="cpu"
) -> torch.Tensor:
    """Symbol of the periodic laplacian, real and non-positive, shaped ``shape``.

    ``kind="fd"``: the compact stencil, ``-sum 4 sin^2(k dx / 2) / dx^2``.
    ``kind="spectral"``: ``-|k|^2``.
    """
    check_choice(kind, "kind", ("fd", "spectral"))
    grids, h = _grids(shape, dx, dtype, device)
    if kind == "fd":
        return -sum(4 * torch.sin(k * hi / 2) ** 2 / hi**2 for k, hi in zip(grids, h))
    if kind == "spectral":
        return -sum(k**2 for k in grids)
    raise ValueError(f"unknown kind {kind!r}; choose 'fd' or 'spectral'")


def gradient_symbol(
    shape: Sequence[int],
    dx: Spacing,
    scheme: str = "central",
    kind: str = "fd",
    dtype=torch.float64,
    device="cpu",
) -> torch.Tensor:
    """Symbols of the partial derivatives, complex, shaped ``(d, *shape)``.

    ``scheme`` picks the stencil (``central``: ``i sin(k dx)/dx``; ``forward``:
    ``(exp(i k dx) - 1)/dx``; ``backward``: ``(1 - exp(-i k dx))/dx``). ``kind="spectral"``
    ignores the scheme and returns ``i k``.
    """
    check_choice(scheme, "scheme", SCHEMES)
    check_choice(kind, "kind", ("fd", "spectral"))
    grids, h = _grids(shape, dx, dtype, device)
    parts = []
    for k, hi in zip(grids, h):
        if kind == "spectral":
            s = 1j * k.to(torch.complex128 if dtype == torch.float64 else torch.complex64)
        elif kind != "fd":
            raise ValueError(f"unknown kind {kind!r}; choose 'fd' or 'spectral'")
        elif scheme == "central":
            s = 1j * torch.sin(k * hi) / hi
        elif scheme == "forward":
            s = (torch.exp(1j * k * hi) - 1) / hi
        else:
            s = (1 - torch.exp(-1j * k * hi)) / hi
        parts.append(s)
    return torch.stack(parts)


def dirichlet_laplacian_eigenvalues(n: int, dx: float, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """Eigenvalues of the 1D compact laplacian with zero Dirichlet values, shaped ``(n,)``.

    The eigenvectors are the discrete sine modes ``sin(pi m (i + 1) / (n + 1))``,
    ``m = 1..n``, with eigenvalues ``-4 sin^2(pi m / (2 (n + 1))) / dx^2``. In more
    dimensions the eigenvalues add over axes.
    """
    n, dx = check_int(n, "n", 1), positive_float(dx, "dx")
    m = torch.arange(1, n + 1, dtype=dtype, device=device)
    return -4 * torch.sin(math.pi * m / (2 * (n + 1))) ** 2 / dx**2
