"""Evaluating SAFE-PIT-CM: predictions, recovery metrics, the loss landscape in alpha, a
least-squares reference and the per-video field report."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from physdl.metrics import mae, r2
from physdl.nn.inference import model_device
from physdl.safe.data import Videos
from physdl.safe.model import (
    SafeAutoencoder,
    SafeOperator,
    SpectralPairs,
)
from physdl.ops.checks import check_choice, check_int, check_real, finite_tensor
from physdl.safe.model import DIRECTIONS, check_operator, check_sign_value
from physdl.safe.training import _as_video, _check_model, _check_videos


@torch.no_grad()
def predict(model: SafeAutoencoder, videos: Videos) -> torch.Tensor:
    """The trained model's amortised estimates ``(sims,)`` on the CPU, one forward pass each on
    the model's device.

    Used in :ref:`05-safe-the-trained-model`.
    """
    _check_model(model)
    _check_videos(videos)
    model.eval()
    device = model_device(model)
    return torch.stack([model(videos.frames[i:i + 1].to(device), videos.sign[i:i + 1].to(device)).alpha[0].cpu()
                        for i in range(len(videos))])


def _vector(x: object, name: str) -> torch.Tensor:
    """``x`` (a tensor or a sequence of numbers) as a finite float64 CPU tensor."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a vector of numbers, got a string")
    try:
        t = torch.as_tensor(x, dtype=torch.float64, device="cpu") if not isinstance(x, torch.Tensor) else x
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a vector of numbers, got {type(x).__name__}") from None
    return finite_tensor(t, name).to("cpu", torch.float64)


def recovery_metrics(pred: torch.Tensor, true: torch.Tensor) -> dict[str, dict[str, float]]:
    """MAE and R^2 of ``pred`` against ``true`` overall and per sign.

    Returns ``{"all" | "diffusion" | "mobility": {"mae", "r2", "n"}}``.

    Used in :ref:`05-safe-zero-shot-recovery`.
    """
    pred, true = _vector(pred, "pred"), _vector(true, "true")
    if pred.shape != true.shape or pred.dim() != 1:
        raise ValueError(f"pred and true must be matching vectors, got {tuple(pred.shape)} and {tuple(true.shape)}")
    out = {}
    for name, keep in (("all", torch.ones_like(true, dtype=torch.bool)), ("diffusion", true < 0), ("mobility", true > 0)):
        if keep.sum() >= 2:
            out[name] = {"mae": float(mae(pred[keep], true[keep])), "r2": float(r2(pred[keep], true[keep])),
                         "n": int(keep.sum())}
    return out


def alpha_landscape(latent: torch.Tensor, sign: int, operator: SafeOperator, magnitudes: torch.Tensor,
                    direction: str = "stable") -> torch.Tensor:
    """SAFE loss of a fixed latent video ``(time, 1, nx, ny)`` at each ``|alpha|`` in ``magnitudes``.

    Explained in :ref:`05-safe-what-the-method-reduces-to`.
    """
    sign = check_sign_value(sign)
    check_operator(operator)
    check_choice(direction, "direction", DIRECTIONS)
    magnitudes = finite_tensor(magnitudes, "magnitudes")
    if magnitudes.dim() != 1 or not len(magnitudes) or torch.any(magnitudes < 0):
        raise ValueError("magnitudes must be a non-empty vector of non-negative |alpha| values")
    video = _as_video(latent, "latent")
    sgn = torch.tensor([float(sign)], dtype=video.dtype, device=video.device)
    pairs = SpectralPairs(operator, video, sgn, direction)
    with torch.no_grad():
        return torch.stack([pairs.loss(sgn * m) for m in magnitudes.to(video.dtype)])


def least_squares_alpha(latent: torch.Tensor, sign: int, operator: SafeOperator, low: float = 1e-3,
                        high: float = 2.0, iterations: int = 60, direction: str = "stable") -> float:
    """The ``alpha`` that minimises the SAFE loss of a fixed latent video (golden-section search).

    With the encoder frozen the method reduces to this one-parameter least-squares problem.
    The search assumes one minimum of ``|alpha|`` in ``[low, high]``.

    Explained in :ref:`05-safe-what-the-method-reduces-to`.
    """
    low, high = check_real(low, "low", 0, lo_open=True), check_real(high, "high", 0, lo_open=True)
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low = {low}, high = {high}")
    sign, iterations = check_sign_value(sign), check_int(iterations, "iterations", 1)
    check_operator(operator)
    check_choice(direction, "direction", DIRECTIONS)
    video = _as_video(latent, "latent")
    sgn = torch.tensor([float(sign)], dtype=torch.float64, device=video.device)
    pairs = SpectralPairs(operator, video.double(), sgn, direction)
    ratio = (5 ** 0.5 - 1) / 2
    a, b = low, high
    with torch.no_grad():
        f = lambda m: float(pairs.loss(sgn * m))  # noqa: E731
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        fc, fd = f(c), f(d)
        for _ in range(iterations):
            if fc < fd:
                b, d, fd = d, c, fc
                c = b - ratio * (b - a)
                fc = f(c)
            else:
                a, c, fc = c, d, fd
                d = a + ratio * (b - a)
                fd = f(d)
    return sign * (a + b) / 2


@dataclass
class FieldReport:
    """Fields and per-frame errors of a model on one simulation (for figures like the paper's).

    Attributes:
        video, latent, reconstruction: ``(time, nx, ny)``.
        prediction: ``(time - 1, nx, ny)``, the operator's output for each frame pair.
        target: ``(time - 1, nx, ny)``, the latent frame it should match.
        safe_error: ``(time - 1,)`` mean squared ``prediction - target`` per pair.
        recon_error: ``(time,)`` mean squared ``reconstruction - video`` per frame.
        alpha: the model's signed estimate.
    """

    video: torch.Tensor
    latent: torch.Tensor
    reconstruction: torch.Tensor
    prediction: torch.Tensor
    target: torch.Tensor
    safe_error: torch.Tensor
    recon_error: torch.Tensor
    alpha: float


@torch.no_grad()
def field_report(model: SafeAutoencoder, frames: torch.Tensor, sign: int, direction: str = "stable",
                 alpha: float | None = None) -> FieldReport:
    """Run ``model`` on one simulation and collect its fields and errors.

    ``alpha`` overrides the estimator (for instance with a fine-tuned value).

    Used in :ref:`05-safe-inside-one-prediction`.
    """
    from physdl.safe.model import frame_pairs, propagation_alpha

    _check_model(model)
    sign = check_sign_value(sign)
    check_choice(direction, "direction", DIRECTIONS)
    if alpha is not None:
        alpha = check_real(alpha, "alpha")
    video = _as_video(frames).to(model_device(model))
    sgn = torch.tensor([float(sign)], dtype=video.dtype, device=video.device)
    model.eval()
    out = model(video, sgn)
    a = out.alpha if alpha is None else torch.tensor([alpha], dtype=video.dtype, device=video.device)
    source, target = frame_pairs(out.latent, sgn, direction)
    prediction = model.operator(source, propagation_alpha(a, direction))
    return FieldReport(  # on the CPU, for figures
        video=video[0, :, 0].cpu(), latent=out.latent[0, :, 0].cpu(), reconstruction=out.reconstruction[0, :, 0].cpu(),
        prediction=prediction[0, :, 0].cpu(), target=target[0, :, 0].cpu(),
        safe_error=(prediction - target).pow(2).mean(dim=(-1, -2))[0, :, 0].cpu(),
        recon_error=(out.reconstruction - video).pow(2).mean(dim=(-1, -2))[0, :, 0].cpu(),
        alpha=float(a[0]),
    )
