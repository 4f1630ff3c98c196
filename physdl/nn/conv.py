"""The convolution layer of a given spatial dimension, shared by the networks of physdl.

The layers are ``torch.nn.Conv1d/2d/3d`` with one change: with ``padding_mode="circular"``
(periodic domains) the input is padded by concatenating its opposite edges, two ``torch.cat``
per axis, instead of PyTorch's circular pad. The result is identical to the bit (same values
in, same convolution); on a 2-core CPU a training step of chapter 1's U-Net is about 20 %
faster, because PyTorch's circular pad costs hundreds of small copies per step. Parameters and
``state_dict`` keys are those of the ``torch.nn`` class, so saved weights load either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def periodic_pad(x: torch.Tensor, padding: tuple[int, ...]) -> torch.Tensor:
    """``x`` padded periodically; ``padding`` as for ``F.pad``: ``(left, right)`` of the last
    axis first, then of the axis before it, and so on."""
    for i in range(len(padding) // 2):
        axis = x.dim() - 1 - i
        left, right = padding[2 * i], padding[2 * i + 1]
        n = x.shape[axis]
        if left > n or right > n:
            raise ValueError(f"periodic padding of {left, right} cells needs at least that many cells, got {n}")
        parts = [x.narrow(axis, n - left, left)] if left else []
        parts.append(x)
        if right:
            parts.append(x.narrow(axis, 0, right))
        x = torch.cat(parts, axis) if len(parts) > 1 else x
    return x


class _Periodic:
    """Mixin: the circular padding of a ``torch.nn`` convolution done by :func:`periodic_pad`."""

    _functional = None  # F.conv1d, F.conv2d or F.conv3d

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.padding_mode != "circular":
            return super()._conv_forward(input, weight, bias)
        padded = periodic_pad(input, tuple(self._reversed_padding_repeated_twice))
        return type(self)._functional(padded, weight, bias, self.stride, 0, self.dilation, self.groups)


class Conv1d(_Periodic, nn.Conv1d):
    """``torch.nn.Conv1d`` with the faster circular padding of :func:`periodic_pad`."""

    _functional = staticmethod(F.conv1d)


class Conv2d(_Periodic, nn.Conv2d):
    """``torch.nn.Conv2d`` with the faster circular padding of :func:`periodic_pad`."""

    _functional = staticmethod(F.conv2d)


class Conv3d(_Periodic, nn.Conv3d):
    """``torch.nn.Conv3d`` with the faster circular padding of :func:`periodic_pad`."""

    _functional = staticmethod(F.conv3d)


#: convolution class by number of spatial dimensions.
CONVOLUTIONS: dict[int, type[nn.Module]] = {1: Conv1d, 2: Conv2d, 3: Conv3d}


def convolution(dims: int) -> type[nn.Module]:
    """The convolution class (:class:`Conv1d`, :class:`Conv2d` or :class:`Conv3d`) for ``dims``
    spatial dimensions."""
    from physdl.ops.checks import check_int

    return CONVOLUTIONS[check_int(dims, "dims", 1, 3)]
