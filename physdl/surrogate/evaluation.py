"""Evaluating a surrogate: batched prediction, per-channel errors and timing."""

from __future__ import annotations

import time

import torch
from torch import nn


def channel_errors(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Relative L2 error per channel over a whole set, ``(channel,)``.

    ``||pred_c - true_c|| / ||true_c||`` with the norms taken over all samples and grid
    points of channel ``c``.
    """
    if pred.shape != true.shape or pred.dim() != 4:
        raise ValueError(f"expected equal shapes (batch, channel, nx, ny), got {tuple(pred.shape)}, {tuple(true.shape)}")
    num = (pred - true).pow(2).sum(dim=(0, 2, 3)).sqrt()
    return num / true.pow(2).sum(dim=(0, 2, 3)).sqrt()


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Run ``model`` over ``inputs`` in batches on the model's device; CPU output."""
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat([model(inputs[i : i + batch_size].to(dev)).cpu() for i in range(0, len(inputs), batch_size)])


def time_call(fn, repeats: int = 5) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]

