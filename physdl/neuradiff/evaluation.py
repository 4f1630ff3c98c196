"""Evaluating NeuraDiff: recognition and tracking of whole videos, per-frame accuracy and IoU
on held-out pixels, rollouts of the learned phase-field model and the loss landscape of its
parameters."""

from __future__ import annotations

import torch

from physdl.metrics import pixel_accuracy
from physdl.neuradiff.data import VoidVideo, known
from physdl.neuradiff.model import (
    NeuralPhaseField,
    RecognitionNet,
    TrackingUNet,
)
from physdl.neuradiff.training import NeuraDiffResult
from physdl.nn.inference import batched
from physdl.ops.grid import Grid
from physdl.pde import voids
from physdl.pde.stepper import Substepped


@torch.no_grad()
def recognise(net: RecognitionNet, frames: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """Fields ``(frames, 3, nx, ny)`` for every frame (frame ``k`` uses embedding ``k``).

    Used in :ref:`06-neuradiff-tracking`.
    """
    def with_embedding(model: RecognitionNet, chunk: torch.Tensor, start: int) -> torch.Tensor:
        return model(chunk, torch.arange(start, start + len(chunk), device=chunk.device))

    return batched(net, frames, batch, call=with_embedding)


@torch.no_grad()
def track(net: TrackingUNet, frames: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """``eta`` ``(frames, nx, ny)`` predicted by the supervised baseline.

    Used in :ref:`06-neuradiff-tracking`.
    """
    return batched(net, frames, batch)[:, 0]


def held_out(labels: torch.Tensor) -> torch.Tensor:
    """Indices of frames without any annotation.

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """
    return torch.nonzero(~known(labels).flatten(1).any(1)).flatten()


def accuracy_per_frame(eta_pred: torch.Tensor, eta_true: torch.Tensor) -> torch.Tensor:
    """Pixel accuracy of ``eta >= 0.5`` per frame, ``(frames,)``.

    Used in :ref:`06-neuradiff-tracking`.
    """
    if eta_pred.shape != eta_true.shape or eta_true.dim() != 3:
        raise ValueError(f"need two (frames, nx, ny) tensors of one shape, got {tuple(eta_pred.shape)} "
                         f"and {tuple(eta_true.shape)}")
    return torch.stack([pixel_accuracy(p, t) for p, t in zip(eta_pred, eta_true)])


def iou_per_frame(eta_pred: torch.Tensor, eta_true: torch.Tensor) -> torch.Tensor:
    """Intersection over union of the void regions ``eta >= 0.5`` per frame, ``(frames,)``.

    A frame where neither has a void scores 1.

    Used in :ref:`06-neuradiff-tracking`.
    """
    if eta_pred.shape != eta_true.shape or eta_true.dim() != 3:
        raise ValueError(f"need two (frames, nx, ny) tensors of one shape, got {tuple(eta_pred.shape)} "
                         f"and {tuple(eta_true.shape)}")
    p, t = eta_pred >= 0.5, eta_true >= 0.5
    inter = (p & t).flatten(1).sum(1).double()
    union = (p | t).flatten(1).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter))


@torch.no_grad()
def rollout(physics: NeuralPhaseField, state0: torch.Tensor, frames: int, steps_per_frame: int) -> torch.Tensor:
    """Deterministic rollout ``(frames, 3, nx, ny)`` from ``state0`` ``(3, nx, ny)``.

    Used in :ref:`06-neuradiff-the-learned-parameters-and-why-they-are-not-the-true-ones`.
    """
    device = next(physics.parameters()).device
    return physics.rollout(state0[None].to(device), frames, steps_per_frame)[0].cpu()


@torch.no_grad()
def rollout_from_first_frame(result: NeuraDiffResult, video: VoidVideo) -> torch.Tensor:
    """Recognise frame 0 (nothing annotated is used) and simulate the whole video, ``(frames, 3, nx, ny)``.

    Used in :ref:`06-neuradiff-physics-simulating-the-video-from-its-first-frame`.
    """
    state0 = recognise(result.recognition, video.frames[:1])[0]
    return rollout(result.physics, state0, len(video), video.scenario.steps_per_frame)


@torch.no_grad()
def parameter_landscape(state0: torch.Tensor, eta_true: torch.Tensor, base: voids.VoidParameters,
                        names: tuple[str, str], factors: torch.Tensor, steps_per_frame: int, dt: float,
                        dx: float = 1.0) -> torch.Tensor:
    """Rollout mismatch over a grid of two parameters, all grid points simulated as one batch.

    Args:
        state0: ``(3, nx, ny)`` starting state.
        eta_true: ``(frames, nx, ny)`` order parameter to match (frame 0 is the start).
        base: parameters about which to scan.
        names: the two parameters scanned.
        factors: ``(k,)`` multipliers applied to each of the two base values.
        steps_per_frame, dt, dx: the simulation that made ``eta_true``.

    Returns:
        ``(k, k)`` mean squared difference of ``eta`` over frames 1.., rows for ``names[0]``.

    Used in :ref:`06-neuradiff-the-learned-parameters-and-why-they-are-not-the-true-ones`.
    """
    if len(names) != 2 or any(n not in voids.VoidParameters.names() for n in names):
        raise ValueError(f"names must be two of {voids.VoidParameters.names()}, got {names}")
    k = len(factors)
    grid_a, grid_b = torch.meshgrid(factors, factors, indexing="ij")
    values = base.as_dict()
    scanned = {names[0]: values[names[0]] * grid_a.flatten(), names[1]: values[names[1]] * grid_b.flatten()}
    p = voids.VoidParameters(**{**values, **scanned})
    voids.check_stability(p, dt, dx, state0[None])
    state = state0[None].expand(k * k, -1, -1, -1).clone()
    # One frame interval per step (a rollout inside), so only one state per scan point is held.
    frame_step = Substepped(voids.VoidStepper(Grid(tuple(state0.shape[-2:]), dx), dt, p, check=False),
                            steps_per_frame)
    error = torch.zeros(k * k, dtype=torch.float64, device=state.device)
    for frame in range(1, len(eta_true)):
        state = frame_step.step(state)
        error += (state[:, 2] - eta_true[frame]).pow(2).mean(dim=(-2, -1)).double()
    return (error / (len(eta_true) - 1)).reshape(k, k)
