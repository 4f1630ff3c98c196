"""Evaluating a surrogate: batched prediction, per-channel errors and timing."""

from __future__ import annotations

import torch
from torch import nn

from physdl import deprecation
from physdl.nn.inference import batched
from physdl.ops import checks
from physdl.timing import median_seconds


def channel_errors(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Relative L2 error per channel over a whole set, ``(channel,)``.

    ``||pred_c - true_c|| / ||true_c||`` with the norms taken over all samples and grid
    points of channel ``c``.

    Used in :ref:`01-surrogates-how-good-are-they`.
    """
    checks.finite_tensor(pred, "pred")
    checks.finite_tensor(true, "true")
    if pred.shape != true.shape or pred.dim() != 4 or not pred.numel():
        raise ValueError(f"pred and true must have equal shapes (batch, channel, nx, ny), got "
                         f"{tuple(pred.shape)}, {tuple(true.shape)}")
    norm = true.pow(2).sum(dim=(0, 2, 3)).sqrt()
    if not bool((norm > 0).all()):
        raise ValueError("true has a channel that is zero everywhere; its relative error is undefined")
    return (pred - true).pow(2).sum(dim=(0, 2, 3)).sqrt() / norm


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Run ``model`` over ``inputs`` in batches on the model's device; CPU output.

    Used in :ref:`01-surrogates-how-good-are-they`.
    """
    return batched(model, inputs, batch_size)


def time_call(fn, repeats: int = 5) -> float:
    """Deprecated alias of :func:`physdl.timing.median_seconds` (goes in 0.3.0)."""
    deprecation.warn_moved("surrogate.time_call", "physdl.timing.median_seconds")
    return median_seconds(fn, repeats)
