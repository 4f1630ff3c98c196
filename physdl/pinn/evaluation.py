"""Evaluating a PINN: batched evaluation and timing."""

from __future__ import annotations

import torch
from torch import nn

from physdl.nn.inference import batched, check_model, model_device
from physdl.ops.checks import check_int
from physdl.pinn.data import check_points
from physdl.timing import median_seconds


@torch.no_grad()
def evaluate(model: nn.Module, points: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
    """The model's values at ``points`` ``(n, 2)`` in batches, ``(n, 1)`` on the points' device."""
    check_model(model)
    check_points(points)
    return batched(model, points, batch_size, out_device=None)


def evaluation_seconds(model: nn.Module, points: torch.Tensor, repeats: int = 3) -> float:
    """Median wall time of :func:`evaluate` on ``points`` (after one warm-up), in seconds.

    Used in :ref:`02-burgers-pinn-4-what-pinns-cost-and-what-they-are-good-for`.
    """
    check_model(model)
    check_points(points)
    repeats = check_int(repeats, "repeats", 1)
    points = points.to(model_device(model))
    return median_seconds(lambda: evaluate(model, points), repeats)
