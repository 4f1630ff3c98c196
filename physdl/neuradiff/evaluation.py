"""Evaluating NeuraDiff: recognition and tracking of whole videos, per-frame accuracy and IoU
on held-out pixels, rollouts of the learned phase-field model and the loss landscape of its
parameters."""

from __future__ import annotations

import torch

from physdl.metrics import pixel_accuracy
from physdl.neuradiff.data import VoidVideo, check_labels, known
from physdl.neuradiff.model import (
    NeuralPhaseField,
    RecognitionNet,
    TrackingUNet,
)
from physdl.neuradiff.training import NeuraDiffResult, _check_frames
from physdl.nn.inference import batched
from physdl.ops.checks import check_instance, check_int, check_pair, finite_tensor
from physdl.ops.grid import Grid, positive_float
from physdl.pde import voids
from physdl.pde.stepper import Substepped


@torch.no_grad()
def recognise(net: RecognitionNet, frames: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """Fields ``(frames, 3, nx, ny)`` for every frame (frame ``k`` uses embedding ``k``).

    Used in :ref:`06-neuradiff-tracking`.
    """
    check_instance(net, RecognitionNet, "net")
    _check_frames(frames)
    batch = check_int(batch, "batch", 1)

    def with_embedding(model: RecognitionNet, chunk: torch.Tensor, start: int) -> torch.Tensor:
        return model(chunk, torch.arange(start, start + len(chunk), device=chunk.device))

    return batched(net, frames, batch, call=with_embedding)


@torch.no_grad()
def track(net: TrackingUNet, frames: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """``eta`` ``(frames, nx, ny)`` predicted by the supervised baseline.

    Used in :ref:`06-neuradiff-tracking`.
    """
    check_instance(net, TrackingUNet, "net")
    return batched(net, _check_frames(frames), check_int(batch, "batch", 1))[:, 0]


def held_out(labels: torch.Tensor) -> torch.Tensor:
    """Indices of frames without any annotation.

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """
    return torch.nonzero(~known(check_labels(labels, dims=3)).flatten(1).any(1)).flatten()


def _check_eta_pair(eta_pred: object, eta_true: object) -> None:
    """Two finite ``(frames, nx, ny)`` order parameters of one shape, with at least one frame."""
    finite_tensor(eta_pred, "eta_pred")
    finite_tensor(eta_true, "eta_true")
    if eta_pred.shape != eta_true.shape or eta_true.dim() != 3 or eta_true.numel() == 0:
        raise ValueError(f"eta_pred and eta_true must be two non-empty (frames, nx, ny) tensors of one shape, got "
                         f"{tuple(eta_pred.shape)} and {tuple(eta_true.shape)}")


def accuracy_per_frame(eta_pred: torch.Tensor, eta_true: torch.Tensor) -> torch.Tensor:
    """Pixel accuracy of ``eta >= 0.5`` per frame, ``(frames,)``.

    Used in :ref:`06-neuradiff-tracking`.
    """
    _check_eta_pair(eta_pred, eta_true)
    return torch.stack([pixel_accuracy(p, t) for p, t in zip(eta_pred, eta_true)])


def iou_per_frame(eta_pred: torch.Tensor, eta_true: torch.Tensor) -> torch.Tensor:
    """Intersection over union of the void regions ``eta >= 0.5`` per frame, ``(frames,)``.

    A frame where neither has a void scores 1.

    Used in :ref:`06-neuradiff-tracking`.
    """
    _check_eta_pair(eta_pred, eta_true)
    p, t = eta_pred >= 0.5, eta_true >= 0.5
    inter = (p & t).flatten(1).sum(1).double()
    union = (p | t).flatten(1).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter))


def _check_state0(state0: object, name: str = "state0") -> torch.Tensor:
    """``state0`` if it is one state ``(3, nx, ny)`` of ``c_v, c_i, eta`` in [0, 1]."""
    state0 = finite_tensor(state0, name)
    if state0.dim() != 3:
        raise ValueError(f"{name} must be one state (3, nx, ny), got {tuple(state0.shape)}")
    voids.check_state(state0[None], name)
    return state0


@torch.no_grad()
def rollout(physics: NeuralPhaseField, state0: torch.Tensor, frames: int, steps_per_frame: int) -> torch.Tensor:
    """Deterministic rollout ``(frames, 3, nx, ny)`` from ``state0`` ``(3, nx, ny)``.

    Used in :ref:`06-neuradiff-the-learned-parameters-and-why-they-are-not-the-true-ones`.
    """
    check_instance(physics, NeuralPhaseField, "physics")
    _check_state0(state0)
    device = next(physics.parameters()).device
    return physics.rollout(state0[None].to(device), frames, steps_per_frame)[0].cpu()


@torch.no_grad()
def rollout_from_first_frame(result: NeuraDiffResult, video: VoidVideo) -> torch.Tensor:
    """Recognise frame 0 (nothing annotated is used) and simulate the whole video, ``(frames, 3, nx, ny)``.

    Used in :ref:`06-neuradiff-physics-simulating-the-video-from-its-first-frame`.
    """
    check_instance(result, NeuraDiffResult, "result")
    check_instance(video, VoidVideo, "video")
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
    state0 = _check_state0(state0)
    eta_true = finite_tensor(eta_true, "eta_true")
    if eta_true.dim() != 3 or eta_true.shape[0] < 2 or tuple(eta_true.shape[1:]) != tuple(state0.shape[1:]):
        raise ValueError(f"eta_true must be (frames >= 2, nx, ny) on the grid of state0 {tuple(state0.shape[1:])}, "
                         f"got {tuple(eta_true.shape)}")
    voids.check_parameters(base, name="base")
    names = check_pair(names, "names")
    if any(n not in voids.VoidParameters.names() for n in names) or names[0] == names[1]:
        raise ValueError(f"names must be two different names of {voids.VoidParameters.names()}, got {names}")
    factors = finite_tensor(factors, "factors")
    if factors.dim() != 1 or len(factors) == 0 or bool((factors <= 0).any()):
        raise ValueError(f"factors must be a non-empty 1-D tensor of positive multipliers, got {factors}")
    steps_per_frame = check_int(steps_per_frame, "steps_per_frame", 1)
    dt, dx = positive_float(dt, "dt"), positive_float(dx, "dx")
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
