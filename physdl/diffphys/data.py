"""Families of states to fit through a solver."""

from __future__ import annotations

import math

import torch

from physdl.config import generator_device
from physdl.ops.checks import check_generator, check_int, finite_tensor


def sine_family(count: int, x: torch.Tensor, generator: torch.Generator | None = None,
                modes: int = 3) -> torch.Tensor:
    """Random initial states ``sum_k a_k sin(k pi x)`` with ``a_k ~ U(-1, 1) / k``, ``(count, n)``.

    Each vanishes on the walls ``x = +-1``, like the course's ``-sin(pi x)``.

    Used in :ref:`04-burgers-dp-a-network-trained-through-the-solver`.
    """
    count, modes = check_int(count, "count", 1), check_int(modes, "modes", 1)
    x = finite_tensor(x, "x")
    if x.dim() != 1 or not len(x):
        raise ValueError(f"x must be a non-empty vector of node coordinates, got shape {tuple(x.shape)}")
    check_generator(generator)
    k = torch.arange(1, modes + 1, dtype=x.dtype, device=x.device)
    # drawn where the generator lives (the same numbers on every device), used where x is
    a = torch.rand(count, modes, generator=generator, device=generator_device(generator), dtype=x.dtype).to(x.device)
    a = (2 * a - 1) / k
    return a @ torch.sin(math.pi * k[:, None] * x[None, :])
