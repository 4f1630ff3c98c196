"""Evaluating a PINN: batched evaluation and timing."""

from __future__ import annotations

import time

import torch
from torch import nn


@torch.no_grad()
def evaluate(model: nn.Module, points: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
    """The model's values at ``points`` ``(n, 2)`` in batches, ``(n, 1)`` on the points' device."""
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat([model(points[i : i + batch_size].to(dev)).to(points.device)
                      for i in range(0, len(points), batch_size)])


def evaluation_seconds(model: nn.Module, points: torch.Tensor, repeats: int = 3) -> float:
    """Median wall time of :func:`evaluate` on ``points`` (after one warm-up), in seconds."""
    dev = next(model.parameters()).device
    points = points.to(dev)
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        evaluate(model, points)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[repeats // 2]

