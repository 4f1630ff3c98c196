"""U-Net for 2D and 3D fields (Ronneberger, Fischer and Brox 2015)."""

from __future__ import annotations

import math

import torch
from torch import nn

from physdl.nn.conv import convolution
from physdl.nn.convgru import PADDING_MODES
from physdl.nn.inference import check_input
from physdl.ops.checks import check_choice, check_int

_POOL = {2: nn.AvgPool2d, 3: nn.AvgPool3d}
_NORMS = ("batch", "group", None)


def _norm(kind: str | None, channels: int, dims: int) -> nn.Module:
    if kind == "batch":
        return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm3d)(channels)
    if kind == "group":
        return nn.GroupNorm(min(8, channels), channels)
    return nn.Identity()


class ConvBlock(nn.Sequential):
    """Two ``3^d`` convolutions, each followed by a normalisation and GELU."""

    def __init__(self, cin: int, cout: int, dims: int, padding_mode: str, norm: str | None) -> None:
        conv = convolution(dims)
        super().__init__(
            conv(cin, cout, 3, padding=1, padding_mode=padding_mode),
            _norm(norm, cout, dims),
            nn.GELU(),
            conv(cout, cout, 3, padding=1, padding_mode=padding_mode),
            _norm(norm, cout, dims),
            nn.GELU(),
        )


class UNet(nn.Module):
    """Encoder-decoder with skip connections, for fields on 2D or 3D grids.

    Each level halves the grid (average pooling) and doubles the channels; the decoder
    upsamples (nearest), concatenates the skip and convolves. Spatial sizes must be
    divisible by ``2 ** (levels - 1)``.

    Args:
        in_channels, out_channels: channels of input and output fields.
        base: channels at the finest level.
        levels: number of resolutions (1 means no pooling).
        dims: 2 or 3 spatial dimensions.
        padding_mode: ``"circular"`` for periodic domains, ``"zeros"`` or ``"replicate"``.
        norm: ``"batch"``, ``"group"`` or ``None``.
        condition_channels: length of an optional per-sample vector that is broadcast over
            the coarsest grid, concatenated to the bottleneck features and mixed back by a
            ``1^d`` convolution (for example a learned per-frame embedding).

    Input ``(batch, in_channels, *space)`` (and ``condition`` ``(batch, condition_channels)``),
    output ``(batch, out_channels, *space)``.

    Used in :ref:`01-surrogates-two-networks-of-comparable-size`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base: int = 16,
        levels: int = 4,
        dims: int = 2,
        padding_mode: str = "circular",
        norm: str | None = None,
        condition_channels: int = 0,
    ) -> None:
        super().__init__()
        dims, levels, base = check_int(dims, "dims", 2, 3), check_int(levels, "levels", 1), check_int(base, "base", 1)
        in_channels, out_channels = check_int(in_channels, "in_channels", 1), check_int(out_channels, "out_channels", 1)
        condition_channels = check_int(condition_channels, "condition_channels", 0)
        check_choice(padding_mode, "padding_mode", PADDING_MODES)
        if norm not in _NORMS:
            raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
        self.dims, self.levels, self.in_channels, self.norm = dims, levels, in_channels, norm
        widths = [base * 2**i for i in range(levels)]
        self.widths = tuple(widths)
        self.down = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.down.append(ConvBlock(cin, w, dims, padding_mode, norm))
            cin = w
        self.pool = _POOL[dims](2)
        self.up = nn.ModuleList(
            ConvBlock(widths[i + 1] + widths[i], widths[i], dims, padding_mode, norm)
            for i in reversed(range(levels - 1))
        )
        self.head = convolution(dims)(widths[0], out_channels, 1)
        self.condition_channels = condition_channels
        self.fuse = (convolution(dims)(widths[-1] + condition_channels, widths[-1], 1)
                     if condition_channels > 0 else None)

    def size_problem(self, space: tuple[int, ...]) -> str | None:
        """Why this U-Net cannot take an input of spatial sizes ``space``, or ``None`` if it can.

        Each side must be divisible by ``2 ** (levels - 1)``; with group normalisation every
        group must also hold more than one value at every level (torch cannot normalise one).
        """
        factor = 2 ** (self.levels - 1)
        if any(n % factor for n in space):
            return f"spatial sizes {tuple(space)} must be divisible by {factor} for {self.levels} levels"
        if self.norm == "group":
            for level, width in enumerate(self.widths):
                pixels = math.prod(n // 2**level for n in space)
                if width // min(8, width) * pixels < 2:
                    return (f"spatial sizes {tuple(space)} leave one value per normalisation group at level "
                            f"{level} ({pixels} pixel(s), {width} channels in {min(8, width)} groups): use larger "
                            f"frames, fewer levels or a wider base")
        return None

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        check_input(self, x)
        if x.dim() != self.dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected input (batch, {self.in_channels}, *space) with {self.dims} spatial axes, "
                f"got {tuple(x.shape)}"
            )
        problem = self.size_problem(tuple(x.shape[2:]))
        if problem:
            raise ValueError(f"input: {problem}")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        if self.fuse is not None:
            if condition is not None:
                check_input(self, condition, "condition")
            if condition is None or condition.shape != (x.shape[0], self.condition_channels):
                got = None if condition is None else tuple(condition.shape)
                raise ValueError(f"expected condition (batch, {self.condition_channels}), got {got}")
            cond = condition.reshape(*condition.shape, *([1] * self.dims)).expand(-1, -1, *x.shape[2:])
            x = self.fuse(torch.cat([x, cond], dim=1))
        elif condition is not None:
            raise ValueError("this U-Net takes no condition (condition_channels=0)")
        for block in self.up:
            skip = skips.pop()
            x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)
