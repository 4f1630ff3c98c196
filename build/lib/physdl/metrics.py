"""Error measures shared by the chapters.

Every function takes a prediction and a reference of the same shape and reduces over
``dims`` (all axes by default), returning a tensor (a 0-d tensor for a full reduction).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Dims = int | Sequence[int] | None


def _check(pred: torch.Tensor, true: torch.Tensor) -> None:
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} differs from reference shape {tuple(true.shape)}")


def _dims(x: torch.Tensor, dims: Dims) -> tuple[int, ...]:
    if dims is None:
        return tuple(range(x.dim()))
    return (dims,) if isinstance(dims, int) else tuple(dims)


def relative_l2(pred: torch.Tensor, true: torch.Tensor, dims: Dims = None) -> torch.Tensor:
    """``||pred - true||_2 / ||true||_2`` over ``dims``."""
    _check(pred, true)
    d = _dims(true, dims)
    num = torch.linalg.vector_norm(pred - true, dim=d)
    den = torch.linalg.vector_norm(true, dim=d)
    if torch.any(den == 0):
        raise ValueError("relative_l2 is undefined where the reference is identically zero")
    return num / den


def mae(pred: torch.Tensor, true: torch.Tensor, dims: Dims = None) -> torch.Tensor:
    """Mean absolute error over ``dims``."""
    _check(pred, true)
    return (pred - true).abs().mean(dim=_dims(true, dims))


def rmse(pred: torch.Tensor, true: torch.Tensor, dims: Dims = None) -> torch.Tensor:
    """Root-mean-square error over ``dims``."""
    _check(pred, true)
    return (pred - true).pow(2).mean(dim=_dims(true, dims)).sqrt()


def r2(pred: torch.Tensor, true: torch.Tensor, dims: Dims = None) -> torch.Tensor:
    """Coefficient of determination ``1 - SS_res / SS_tot`` over ``dims``."""
    _check(pred, true)
    d = _dims(true, dims)
    ss_res = (true - pred).pow(2).sum(dim=d)
    ss_tot = (true - true.mean(dim=d, keepdim=True)).pow(2).sum(dim=d)
    if torch.any(ss_tot == 0):
        raise ValueError("r2 is undefined for a constant reference")
    return 1 - ss_res / ss_tot


def pixel_accuracy(
    pred: torch.Tensor,
    true: torch.Tensor,
    threshold: float = 0.5,
    known: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fraction of pixels where ``pred >= threshold`` agrees with ``true >= threshold``.

    ``known`` (boolean, same shape) restricts the count to annotated pixels.
    """
    _check(pred, true)
    agree = (pred >= threshold) == (true >= threshold)
    if known is not None:
        if known.shape != true.shape:
            raise ValueError(f"mask shape {tuple(known.shape)} differs from {tuple(true.shape)}")
        known = known.bool()
        if not known.any():
            raise ValueError("pixel_accuracy needs at least one known pixel")
        return agree[known].float().mean()
    return agree.float().mean()
