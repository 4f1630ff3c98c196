"""Synthetic TEM videos of voids and partial annotations.

The intensity model follows the NeuraDiff authors' code: a pixel is drawn from
``N(0.056, 0.253)`` inside a void and from ``N(-0.208, 0.214)`` in the solid, mixed by ``eta``;
the frames are then averaged by a box filter over ``19`` frames in time and ``3 x 3`` pixels,
and the whole video is scaled to 8 bits. The temporal box filter is what makes the noise
small enough to track the voids by eye.

Annotations are integer maps with ``1`` (void), ``0`` (solid) and :data:`UNKNOWN` (not
annotated): a chosen fraction of frames is annotated, and in those a chosen fraction of the
pixels, as in the paper's partial-annotation setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

UNKNOWN = -1


@dataclass(frozen=True)
class IntensityModel:
    """Grey levels of the two phases (mean and standard deviation) and the blur of the camera."""

    void_mean: float = 0.056
    void_std: float = 0.253
    solid_mean: float = -0.208
    solid_std: float = 0.214
    blur_frames: int = 19
    blur_pixels: int = 3

    def __post_init__(self) -> None:
        if self.void_std < 0 or self.solid_std < 0:
            raise ValueError("standard deviations must be non-negative")
        if self.blur_frames < 1 or self.blur_pixels < 1 or self.blur_pixels % 2 == 0:
            raise ValueError("blur_frames must be >= 1 and blur_pixels a positive odd number")


def _check_eta(eta: torch.Tensor) -> None:
    if eta.dim() != 3:
        raise ValueError(f"eta must be (frames, nx, ny), got {tuple(eta.shape)}")
    if eta.min() < 0 or eta.max() > 1:
        raise ValueError(f"eta must lie in [0, 1], got [{float(eta.min()):.3g}, {float(eta.max()):.3g}]")


def box_blur(video: torch.Tensor, frames: int, pixels: int) -> torch.Tensor:
    """Moving average over ``frames`` in time (centred, replicated ends) and ``pixels``^2 in space
    (periodic). ``video`` is ``(frames, nx, ny)``; the result has the same shape."""
    if video.dim() != 3:
        raise ValueError(f"video must be (frames, nx, ny), got {tuple(video.shape)}")
    if frames < 1 or pixels < 1 or pixels % 2 == 0:
        raise ValueError(f"need frames >= 1 and an odd pixels >= 1, got {frames}, {pixels}")
    v = video[None, None]  # (1, 1, T, nx, ny)
    pt, px = frames // 2, pixels // 2
    v = F.pad(v, (px, px, px, px, 0, 0), mode="circular")
    v = F.pad(v, (0, 0, 0, 0, pt, frames - 1 - pt), mode="replicate")
    return F.avg_pool3d(v, (frames, pixels, pixels), stride=1)[0, 0]


def tem_video(eta: torch.Tensor, model: IntensityModel | None = None,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``eta`` as a TEM-like 8-bit video.

    Args:
        eta: ``(frames, nx, ny)`` order parameter in [0, 1].
        model: grey levels and blur (defaults: :class:`IntensityModel`).
        generator: random generator for the pixel noise.

    Returns:
        ``(frames_uint8, frames)``: the 8-bit video ``(frames, nx, ny)`` and the same as float32
        in [0, 1] shaped ``(frames, 1, nx, ny)``, the input of the recognition net.
    """
    _check_eta(eta)
    model = model or IntensityModel()
    eta = eta.detach().to("cpu", torch.float32)
    noise_v = torch.randn(eta.shape, generator=generator)
    noise_s = torch.randn(eta.shape, generator=generator)
    raw = (eta * (model.void_mean + model.void_std * noise_v)
           + (1 - eta) * (model.solid_mean + model.solid_std * noise_s))
    blurred = box_blur(raw, model.blur_frames, model.blur_pixels)
    lo, hi = blurred.min(), blurred.max()
    as_uint8 = torch.round((blurred - lo) / (hi - lo).clamp_min(1e-12) * 255).to(torch.uint8)
    return as_uint8, (as_uint8.float() / 255)[:, None]


def annotate(eta: torch.Tensor, frame_fraction: float, pixel_fraction: float,
             generator: torch.Generator | None = None, always: tuple[int, ...] = ()) -> torch.Tensor:
    """Partial annotations of ``eta >= 0.5``.

    Args:
        eta: ``(frames, nx, ny)`` true order parameter.
        frame_fraction: share of frames that carry annotations (at least one frame).
        pixel_fraction: share of pixels annotated within an annotated frame.
        generator: random generator for the choice of frames and pixels.
        always: frames to annotate in any case (counted in the fraction).

    Returns:
        ``(frames, nx, ny)`` int8 tensor of ``1`` (void), ``0`` (solid), :data:`UNKNOWN`.
    """
    _check_eta(eta)
    for name, value in (("frame_fraction", frame_fraction), ("pixel_fraction", pixel_fraction)):
        if not 0 < value <= 1:
            raise ValueError(f"{name} must lie in (0, 1], got {value}")
    frames = eta.shape[0]
    count = max(1, round(frame_fraction * frames))
    chosen = [f for f in always if 0 <= f < frames]
    for f in torch.randperm(frames, generator=generator).tolist():
        if len(chosen) >= count:
            break
        if f not in chosen:
            chosen.append(f)
    labels = torch.full(eta.shape, UNKNOWN, dtype=torch.int8)
    truth = (eta >= 0.5).to(torch.int8).cpu()
    for f in sorted(chosen):
        pick = torch.rand(eta.shape[1:], generator=generator) < pixel_fraction
        labels[f][pick] = truth[f][pick]
    return labels


def known(labels: torch.Tensor) -> torch.Tensor:
    """Boolean mask of annotated pixels."""
    return labels != UNKNOWN


def annotated_frames(labels: torch.Tensor) -> torch.Tensor:
    """Indices of the frames that carry at least one annotation, shape ``(k,)``."""
    return torch.nonzero(known(labels).flatten(1).any(1)).flatten()
