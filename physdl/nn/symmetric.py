"""Convolutions that commute with the mirror reflections and axis permutations of the grid.

A convolution commutes with a reflection ``x_i -> -x_i`` or a swap of two axes exactly when
its kernel is unchanged by that map. The maps of a square (cubic) grid that keep the grid, the
``2^d d!`` signed permutations of the axes (8 in 2D, 48 in 3D), split a ``k^d`` kernel into
orbits: a cell at offset ``o`` is in the orbit of every offset with the same sorted absolute
values ``sorted(|o_1|, ..., |o_d|)``. :class:`SymmetricConv` stores one weight per orbit (for
``k = 3`` in 3D: the centre, the 6 faces, the 12 edges and the 8 corners, 4 weights instead
of 27) and builds the kernel by gathering them, so the layer is equivariant by construction,
for every weight value, on any periodic grid.

Stacking such layers with point-wise non-linearities and 1x1 convolutions (which mix only
channels) keeps the equivariance, for scalar channels: this is how
:class:`physdl.crnn.model.PotentialCRNN` is built.

Written here rather than taken from escnn (last release 1.0.11, 2023), the library of
equivariant CNNs: escnn builds steerable kernels for continuous and finite groups from a
general basis and needs packages of its own (lie_learn among them); scalar fields under the
grid's own 48 symmetries need only this gather of orbit weights.

Shapes: input ``(batch, in_channels, *space)`` with ``dims`` spatial axes.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from physdl.nn.conv import periodic_pad
from physdl.nn.inference import check_input
from physdl.ops.checks import check_bool, check_choice, check_int

_FUNCTIONAL = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
#: padding modes of :class:`SymmetricConv` (those of torch's convolutions).
PADDING_MODES = ("circular", "zeros", "reflect", "replicate")


def kernel_orbits(kernel_size: int, dims: int) -> tuple[torch.Tensor, int]:
    """Orbit of every cell of a ``kernel_size^dims`` kernel under the signed axis permutations.

    Returns:
        ``(index, count)``: ``index`` is a ``(kernel_size,) * dims`` long tensor, the orbit
        number of each cell (0 is the centre), and ``count`` the number of orbits.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    kernel_size, dims = check_int(kernel_size, "kernel_size", 1), check_int(dims, "dims", 1, 3)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a centred kernel), got {kernel_size}")
    r = kernel_size // 2
    keys: dict[tuple[int, ...], int] = {(0,) * dims: 0}  # the centre is orbit 0
    index = torch.empty((kernel_size,) * dims, dtype=torch.long)
    for offset in itertools.product(range(-r, r + 1), repeat=dims):
        key = tuple(sorted(abs(o) for o in offset))
        index[tuple(o + r for o in offset)] = keys.setdefault(key, len(keys))
    return index, len(keys)


class SymmetricConv(nn.Module):
    """A convolution whose ``k^d`` kernel is invariant under every reflection and permutation of
    the axes (one weight per orbit, :func:`kernel_orbits`), padded to keep the grid.

    Args:
        in_channels, out_channels: channels.
        kernel_size: odd kernel size.
        dims: spatial axes (1, 2 or 3).
        padding_mode: ``"circular"`` for periodic grids (equivariant to the grid's reflections
            and axis swaps), or one of torch's other modes.
        bias: add a learned bias per output channel.

    The weights are drawn like torch's default for a convolution with the same fan-in
    (uniform in ``+-1/sqrt(in_channels k^d)``), so a symmetric network starts at the scale of
    an unconstrained one.

    Explained in :ref:`07-crnn-long-horizon-new-shapes`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, dims: int = 3,
                 padding_mode: str = "circular", bias: bool = True) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", 1)
        self.out_channels = check_int(out_channels, "out_channels", 1)
        self.dims = check_int(dims, "dims", 1, 3)
        self.padding_mode = check_choice(padding_mode, "padding_mode", PADDING_MODES)
        index, count = kernel_orbits(kernel_size, self.dims)
        self.kernel_size = check_int(kernel_size, "kernel_size", 1)
        self.register_buffer("orbit_index", index.flatten(), persistent=False)
        bound = 1.0 / math.sqrt(self.in_channels * kernel_size ** self.dims)
        self.orbit_weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels, count).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(self.out_channels).uniform_(-bound, bound)) if check_bool(bias, "bias") else None

    @property
    def weight(self) -> torch.Tensor:
        """The full kernel ``(out_channels, in_channels, *(kernel_size,) * dims)``."""
        full = self.orbit_weight.index_select(2, self.orbit_index)
        return full.reshape(self.out_channels, self.in_channels, *(self.kernel_size,) * self.dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, out_channels, *space)`` from ``(batch, in_channels, *space)``, same grid."""
        check_input(self, x)
        if x.dim() != self.dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input (batch, {self.in_channels}, {self.dims} spatial axes), got {tuple(x.shape)}")
        r = self.kernel_size // 2
        if self.padding_mode == "reflect" and min(x.shape[2:]) <= r:
            raise ValueError(f"reflect padding of {r} cells needs more than {r} cells per axis, got {tuple(x.shape[2:])}")
        if self.padding_mode == "circular":
            x = periodic_pad(x, (r, r) * self.dims)
        elif self.padding_mode != "zeros":
            x = F.pad(x, (r, r) * self.dims, mode=self.padding_mode)
        else:
            return _FUNCTIONAL[self.dims](x, self.weight, self.bias, padding=r)
        return _FUNCTIONAL[self.dims](x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, dims={self.dims}, "
                f"orbits={self.orbit_weight.shape[2]}, padding_mode={self.padding_mode}")


def grid_symmetries(dims: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The ``2^d d!`` signed axis permutations as ``(permutation, flipped axes)``, identity first.

    Apply one to a field ``(batch, channels, *space)`` with :func:`apply_symmetry`.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    dims = check_int(dims, "dims", 1, 3)
    out = []
    for perm in itertools.permutations(range(dims)):
        for flips in itertools.product((False, True), repeat=dims):
            out.append((perm, tuple(a for a, f in enumerate(flips) if f)))
    return out


def apply_symmetry(field: torch.Tensor, symmetry: tuple[tuple[int, ...], tuple[int, ...]]) -> torch.Tensor:
    """``field`` ``(batch, channels, *space)`` with its spatial axes permuted, then flipped
    (``symmetry`` from :func:`grid_symmetries`). A flip maps cell ``i`` to ``n - 1 - i``.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    if not isinstance(field, torch.Tensor):
        raise TypeError(f"field must be a torch.Tensor, got {type(field).__name__}")
    if not (isinstance(symmetry, tuple) and len(symmetry) == 2 and all(isinstance(p, tuple) for p in symmetry)):
        raise TypeError(f"symmetry must be a pair (permutation, flipped axes) from grid_symmetries, got {symmetry!r}")
    perm, flips = symmetry
    dims = len(perm)
    if sorted(perm) != list(range(dims)) or not all(isinstance(a, int) and 0 <= a < dims for a in flips):
        raise ValueError(f"symmetry must permute the axes 0..{dims - 1} and flip some of them, got {symmetry!r}")
    if field.dim() != dims + 2:
        raise ValueError(f"field must be shaped (batch, channels, {dims} spatial axes) for this symmetry, "
                         f"got {tuple(field.shape)}")
    out = field.permute(0, 1, *(2 + p for p in perm))
    return out.flip([2 + a for a in flips]) if flips else out
