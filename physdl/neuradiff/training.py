"""Training NeuraDiff: the masked loss on annotated pixels, pre-training, the triage loss that
couples recognition and physics, and the baselines' training."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from physdl import config as _config
from physdl.neuradiff.config import NeuraDiffConfig, check_config
from physdl.neuradiff.data import VoidVideo, check_labels, known
from physdl.neuradiff.model import (
    NeuralPhaseField,
    NextFrameUNet,
    RecognitionNet,
    TrackingUNet,
)
from physdl.ops.checks import (
    check_instance,
    check_int,
    check_integer_tensor,
    check_progress,
    check_tensor,
    checking,
    finite_tensor,
)
from physdl.sampling import step_generator
from physdl.train import History, fit


def masked_mse(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of ``(pred - label)^2`` over annotated pixels (zero when none is annotated).

    ``pred`` is a floating tensor and ``labels`` an annotation map of the same shape.
    """
    check_tensor(pred, "pred")
    check_labels(labels)
    if pred.shape != labels.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and annotations {tuple(labels.shape)} differ in shape")
    mask = known(labels)
    if not mask.any():
        return pred.sum() * 0
    return (pred[mask] - labels[mask].to(pred.dtype)).pow(2).mean()


def _check_frames(frames: object, least: int = 1, name: str = "frames") -> torch.Tensor:
    """``frames`` if it is a finite ``(frames, 1, nx, ny)`` video of at least ``least`` frames."""
    frames = finite_tensor(frames, name)
    if frames.dim() != 4 or frames.shape[1] != 1 or frames.shape[0] < least or 0 in frames.shape:
        raise ValueError(f"{name} must be a video (frames, 1, nx, ny) of at least {least} frame(s), "
                         f"got {tuple(frames.shape)}")
    return frames


def _check_annotations(labels: object, frames: torch.Tensor, name: str = "labels") -> torch.Tensor:
    """``labels`` if it annotates ``frames`` ``(T, 1, nx, ny)``: shape ``(T, nx, ny)``, one annotated pixel at least."""
    labels = check_labels(labels, name, dims=3)
    expected = (frames.shape[0], *frames.shape[2:])
    if tuple(labels.shape) != expected:
        raise ValueError(f"{name} must be (frames, nx, ny) = {expected} like the video, got {tuple(labels.shape)}")
    if not bool(known(labels).any()):
        raise ValueError(f"{name} holds no annotated pixel: annotate a few frames (1 void, 0 solid)")
    return labels


def _check_inputs(video: object, labels: object) -> None:
    check_instance(video, VoidVideo, "video")
    _check_annotations(labels, video.frames)


def _training_device(device: object) -> torch.device:
    return _config.device() if device is None else _config.as_device(device)


@dataclass
class NeuraDiffResult:
    """A trained NeuraDiff model and its training record."""

    recognition: RecognitionNet
    physics: NeuralPhaseField
    pretrain_history: History
    history: History
    parameter_history: list[dict[str, float]]


def pretrain(net: RecognitionNet, frames: torch.Tensor, labels: torch.Tensor, cfg: NeuraDiffConfig,
             progress: bool | None = None) -> History:
    """Fit ``eta`` to the annotations, and ``c_v``, ``c_i`` to a prior built from ``eta``.

    The prior is ``c_v = eta + (1 - eta) c_v_prior``, ``c_i = (1 - eta) c_i_prior`` with the
    net's own (detached) ``eta``, weighted 0.1: it only gives the hidden fields a sensible
    start for the joint training.

    Args:
        net: the recognition net (trained in place).
        frames: ``(T, 1, nx, ny)`` video; ``labels``: its ``(T, nx, ny)`` annotations.
        cfg: the settings (``pretrain_steps``, ``batch_size``, ``lr_net``, priors, ``seed``).
    """
    check_instance(net, RecognitionNet, "net")
    _check_annotations(labels, _check_frames(frames))
    check_config(cfg)
    progress = check_progress(progress)
    device = next(net.parameters()).device
    frames, labels = frames.to(device), labels.to(device)
    index = torch.arange(len(frames), device=device)
    labelled = torch.nonzero(known(labels).flatten(1).any(1)).flatten()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr_net)

    def loss_fn(step: int) -> torch.Tensor:
        gen = step_generator(cfg.seed, step, "pre-train")
        pick = labelled[torch.randint(len(labelled), (cfg.batch_size,), generator=gen, device=gen.device)]
        other = torch.randint(len(frames), (cfg.batch_size,), generator=gen, device=gen.device).to(device)
        pick = torch.cat([pick, other])
        out = net(frames[pick], index[pick])
        eta = out[:, 2]
        e = eta.detach()
        prior = torch.stack([e + (1 - e) * cfg.c_v_prior, (1 - e) * cfg.c_i_prior], dim=1)
        return masked_mse(eta, labels[pick]) + 0.1 * (out[:, :2] - prior).pow(2).mean()

    return fit(net, loss_fn, opt, cfg.pretrain_steps, progress=progress, desc="pre-train")


def triage_loss(net: RecognitionNet, physics: NeuralPhaseField, frames: torch.Tensor, labels: torch.Tensor,
                t: torch.Tensor, gap: int, steps_per_frame: int, cfg: NeuraDiffConfig) -> dict[str, torch.Tensor]:
    """The three terms and the total of the triage loss for the pairs ``(t, t + gap)``.

    Args:
        net, physics: the recognition net and the neural phase-field net.
        frames: ``(T, 1, nx, ny)`` video; ``labels``: its ``(T, nx, ny)`` annotations.
        t: ``(batch,)`` integer first frames of the pairs, each in ``[0, T - gap)``.
        gap: frames between the two frames of a pair; ``steps_per_frame``: simulation steps per frame.

    Explained in :ref:`06-neuradiff-training`.
    """
    gap, steps_per_frame = _check_triage(net, physics, frames, labels, t, gap, steps_per_frame, cfg)
    t1 = t + gap
    rec0 = net(frames[t], t)
    rec1 = net(frames[t1], t1)
    a0, a1 = labels[t], labels[t1]
    mask0 = known(a0)
    eta0 = torch.where(mask0, a0.to(rec0.dtype), rec0[:, 2])
    state0 = torch.cat([rec0[:, :2], eta0[:, None]], dim=1)
    sim = physics(state0, gap * steps_per_frame)
    l_sim = masked_mse(sim[:, 2], a1)
    l_rec = masked_mse(torch.cat([rec0[:, 2], rec1[:, 2]]), torch.cat([a0, a1]))
    l_sim_rec = (sim - rec1).pow(2).mean()
    total = l_sim + cfg.lambda_rec * l_rec + cfg.lambda_sim_rec * l_sim_rec
    return {"total": total, "sim": l_sim, "rec": l_rec, "sim_rec": l_sim_rec}


def _check_triage(net: object, physics: object, frames: object, labels: object, t: object, gap: object,
                  steps_per_frame: object, cfg: object) -> tuple[int, int]:
    """The checks of :func:`triage_loss`'s arguments; returns ``gap`` and ``steps_per_frame`` as ints."""
    check_instance(net, RecognitionNet, "net")
    check_instance(physics, NeuralPhaseField, "physics")
    frames = _check_frames(frames, 2)
    labels = check_labels(labels, dims=3)
    if tuple(labels.shape) != (frames.shape[0], *frames.shape[2:]):
        raise ValueError(f"labels must be (frames, nx, ny) like the video {tuple(frames.shape)}, got {tuple(labels.shape)}")
    gap = check_int(gap, "gap", 1, frames.shape[0] - 1)
    _check_pair_starts(t, frames.shape[0] - gap)
    check_config(cfg)
    return gap, check_int(steps_per_frame, "steps_per_frame", 1)


def _check_pair_starts(t: object, end: int) -> None:
    """``t`` must be a non-empty 1-D integer tensor of first frames in ``[0, end)``."""
    check_integer_tensor(t, "t", "of first frames")
    if t.dim() != 1 or len(t) == 0:
        raise ValueError(f"t must be (batch,) first frames with batch >= 1, got shape {tuple(t.shape)}")
    if checking() and (bool((t < 0).any()) or bool((t >= end).any())):  # one sync: not in training steps
        raise ValueError(f"t must lie in [0, {end}) so that t + gap is a frame of the video, "
                         f"got {int(t.min())} to {int(t.max())}")


def train(video: VoidVideo, labels: torch.Tensor, cfg: NeuraDiffConfig = NeuraDiffConfig(),
          progress: bool | None = None, device: torch.device | None = None) -> NeuraDiffResult:
    """Pre-train the recognition net, then train it jointly with the phase-field parameters.

    Args:
        video: the experiment (its frames and scenario; ``steps_per_frame``, ``dt``, ``dx`` set
            the simulation between frames).
        labels: ``(frames, nx, ny)`` annotations with at least one annotated pixel.
        cfg: the settings; ``cfg.gap`` must be below the number of frames.
        device: where to train (default :func:`physdl.config.device`).

    Explained in :ref:`06-neuradiff-training`.
    """
    _check_inputs(video, labels)
    check_config(cfg)
    if cfg.gap >= len(video):
        raise ValueError(f"cfg.gap = {cfg.gap} leaves no frame pair in a video of {len(video)} frames; "
                         f"use gap <= {len(video) - 1}")
    progress, device = check_progress(progress), _training_device(device)
    _config.seed_everything(cfg.seed)
    s = video.scenario
    net = RecognitionNet(len(video), cfg.embedding, cfg.base, cfg.levels).to(device)
    physics = NeuralPhaseField(s.dt, s.dx, cfg.initial, irradiation=s.irradiation).to(device)
    pre = pretrain(net, video.frames, labels, cfg, progress)
    frames, labels = video.frames.to(device), labels.to(device)
    opt = torch.optim.Adam([
        {"params": net.parameters(), "lr": cfg.lr_net},
        {"params": physics.parameters(), "lr": cfg.lr_physics},
    ])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    record: list[dict[str, float]] = []
    joint = torch.nn.ModuleDict({"recognition": net, "physics": physics})

    def loss_fn(step: int) -> torch.Tensor:
        gen = step_generator(cfg.seed, step, "joint")
        gap = int(torch.randint(1, cfg.gap + 1, (), generator=gen, device=gen.device))
        t = torch.randint(len(frames) - gap, (cfg.batch_size,), generator=gen, device=gen.device).to(device)
        terms = triage_loss(net, physics, frames, labels, t, gap, s.steps_per_frame, cfg)
        if step % 10 == 0:
            record.append(physics.parameters_p.as_dict())
        return terms["total"]

    hist = fit(joint, loss_fn, opt, cfg.steps, scheduler=sched, progress=progress, desc="NeuraDiff")
    record.append(physics.parameters_p.as_dict())
    return NeuraDiffResult(net, physics, pre, hist, record)


def train_tracking_unet(frames: torch.Tensor, labels: torch.Tensor, cfg: NeuraDiffConfig = NeuraDiffConfig(),
                        progress: bool | None = None, device: torch.device | None = None) -> TrackingUNet:
    """The supervised baseline: a U-Net trained only on the annotated pixels.

    Args:
        frames: ``(T, 1, nx, ny)`` video; ``labels``: ``(T, nx, ny)`` annotations (some pixels known).
        cfg: the settings (``base``, ``levels``, ``baseline_steps``, ``batch_size``, ``lr_net``, ``seed``).

    Used in :ref:`06-neuradiff-training`.
    """
    _check_annotations(labels, _check_frames(frames))
    check_config(cfg)
    progress, device = check_progress(progress), _training_device(device)
    _config.seed_everything(cfg.seed)
    net = TrackingUNet(cfg.base, cfg.levels).to(device)
    frames, labels = frames.to(device), labels.to(device)
    labelled = torch.nonzero(known(labels).flatten(1).any(1)).flatten()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr_net)

    def loss_fn(step: int) -> torch.Tensor:
        gen = step_generator(cfg.seed, step, "annotations")
        pick = labelled[torch.randint(len(labelled), (cfg.batch_size,), generator=gen, device=gen.device)]
        return masked_mse(net(frames[pick])[:, 0], labels[pick])

    fit(net, loss_fn, opt, cfg.baseline_steps, progress=progress, desc="U-Net (annotations)")
    return net


def train_next_frame(frames: torch.Tensor, cfg: NeuraDiffConfig = NeuraDiffConfig(), progress: bool | None = None,
                     device: torch.device | None = None) -> NextFrameUNet:
    """The dynamics baseline: a U-Net fitted to map every frame to the next one (MSE).

    Args:
        frames: ``(T, 1, nx, ny)`` video of at least two frames.
        cfg: the settings (``base``, ``levels``, ``baseline_steps``, ``batch_size``, ``lr_net``, ``seed``).

    Used in :ref:`06-neuradiff-training`.
    """
    _check_frames(frames, 2)
    check_config(cfg)
    progress, device = check_progress(progress), _training_device(device)
    _config.seed_everything(cfg.seed)
    net = NextFrameUNet(cfg.base, cfg.levels).to(device)
    frames = frames.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr_net)

    def loss_fn(step: int) -> torch.Tensor:
        gen = step_generator(cfg.seed, step, "next frame")
        t = torch.randint(len(frames) - 1, (cfg.batch_size,), generator=gen, device=gen.device).to(device)
        return (net(frames[t]) - frames[t + 1]).pow(2).mean()

    fit(net, loss_fn, opt, cfg.baseline_steps, progress=progress, desc="U-Net (next frame)")
    return net
