"""The network of the Burgers PINNs."""

from __future__ import annotations

import torch

from physdl.nn import MLP
from physdl.ops.checks import check_dtype


def network(hidden: tuple[int, ...], dtype: torch.dtype) -> MLP:
    """A tanh MLP from ``(x, t)`` to ``u`` with the given hidden widths, in ``dtype``."""
    check_dtype(dtype)
    return MLP(2, 1, hidden, activation="tanh").to(dtype)
