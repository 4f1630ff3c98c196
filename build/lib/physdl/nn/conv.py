"""The convolution layer of a given spatial dimension, shared by the networks of physdl."""

from __future__ import annotations

from torch import nn

#: ``torch.nn`` convolution class by number of spatial dimensions.
CONVOLUTIONS: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def convolution(dims: int) -> type[nn.Module]:
    """``nn.Conv1d``, ``nn.Conv2d`` or ``nn.Conv3d`` for ``dims`` spatial dimensions."""
    try:
        return CONVOLUTIONS[dims]
    except (KeyError, TypeError):
        raise ValueError(f"dims must be 1, 2 or 3, got {dims!r}") from None
