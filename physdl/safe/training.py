"""Training SAFE-PIT-CM: the SAFE and bounds losses, the per-video estimator fit (zero-shot and
fine-tuning) and the two-phase training of the autoencoder."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from physdl import config as _config
from physdl.nn.inference import model_device
from physdl.progress import progress
from physdl.config import as_device
from physdl.ops.checks import check_bool, check_int, check_real, finite_tensor
from physdl.safe.config import SafeConfig, check_config
from physdl.safe.data import Videos
from physdl.safe.model import (
    SafeAutoencoder,
    SafeOperator,
    SafeOutput,
    SpectralPairs,
    _check_video,
    check_sign,
    check_sign_value,
    safe_loss,
)
from physdl.sampling import EpochBatches
from physdl.train import History, fit


def build_model(dt_save: float, dx: float, cfg: SafeConfig = SafeConfig()) -> SafeAutoencoder:
    """A fresh SAFE-PIT-CM model seeded with ``cfg.seed``.

    Used in :ref:`05-safe-the-trained-model`.
    """
    check_config(cfg)
    _config.seed_everything(cfg.seed)
    operator = SafeOperator(dt_save, dx, cfg.substeps, unstable=cfg.unstable)
    return SafeAutoencoder(operator, cfg.channels, cfg.d_model, cfg.heads, cfg.pool)


def bounds_loss(alpha: torch.Tensor, alpha_min: float, alpha_max: float) -> torch.Tensor:
    """``relu(alpha_min - |alpha|)^2 + relu(|alpha| - alpha_max)^2``, averaged over the batch.

    The paper writes the bounds on the signed ``alpha``, which would penalise every diffusion
    estimate; physdl bounds the magnitude.
    """
    alpha = finite_tensor(alpha, "alpha")
    alpha_min, alpha_max = check_real(alpha_min, "alpha_min", 0), check_real(alpha_max, "alpha_max", 0)
    if alpha_min > alpha_max:
        raise ValueError(f"need alpha_min <= alpha_max, got {alpha_min} and {alpha_max}")
    if not alpha.numel():
        raise ValueError("alpha is empty; bounds_loss needs at least one estimate")
    mag = alpha.abs()
    return (torch.relu(alpha_min - mag).pow(2) + torch.relu(mag - alpha_max).pow(2)).mean()


def losses(model: SafeAutoencoder, out: SafeOutput, video: torch.Tensor, sign: torch.Tensor,
           cfg: SafeConfig) -> dict[str, torch.Tensor]:
    """The four loss terms and their weighted sum ``"total"``."""
    _check_model(model)
    check_config(cfg)
    if not isinstance(out, SafeOutput):
        raise TypeError(f"out must be a SafeOutput (the model's output), got {type(out).__name__}")
    _check_video(video)
    if out.latent.shape != video.shape or out.reconstruction.shape != video.shape:
        raise ValueError(f"out is the output for a video of shape {tuple(out.latent.shape)}, not {tuple(video.shape)}")
    sign = check_sign(sign, video.shape[0], video)
    terms = {
        "safe": safe_loss(model.operator, out.latent, out.alpha, sign, cfg.direction),
        "recon": (out.reconstruction - video).pow(2).mean(),
        "identity": (out.latent - video).pow(2).mean(),
        "bounds": bounds_loss(out.alpha, cfg.alpha_min, cfg.alpha_max),
    }
    terms["total"] = (cfg.w_phys * terms["safe"] + cfg.w_recon * terms["recon"]
                      + cfg.w_identity * terms["identity"] + cfg.w_bounds * terms["bounds"])
    return terms


def _check_model(model: object) -> SafeAutoencoder:
    if not isinstance(model, SafeAutoencoder):
        raise TypeError(f"model must be a SafeAutoencoder, got {type(model).__name__}")
    return model


def _as_video(frames: torch.Tensor, name: str = "frames") -> torch.Tensor:
    """Accept ``(time, nx, ny)``, ``(time, 1, nx, ny)`` or ``(1, time, 1, nx, ny)``."""
    finite_tensor(frames, name)
    if frames.dim() == 3:
        frames = frames[:, None]
    if frames.dim() == 4:
        frames = frames[None]
    _check_video(frames, name)
    if frames.shape[0] != 1:
        raise ValueError(f"{name} must be one simulation, got a batch of {frames.shape[0]}")
    return frames


@dataclass
class Estimate:
    """The result of fitting ``alpha`` to one simulation.

    Attributes:
        alpha: final signed estimate.
        trace: the estimate after each step.
        loss: the SAFE loss at each step.
        seconds: wall time.
    """

    alpha: float
    trace: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def fit_estimator(model: SafeAutoencoder, frames: torch.Tensor, sign: int, steps: int, lr: float,
                  cfg: SafeConfig, show_progress: bool = False) -> Estimate:
    """Optimise ``model.estimator`` on one simulation with the encoder frozen (in place).

    The latent video ``F = encoder(V)`` is computed once; the loss is the SAFE loss plus the
    bounds penalty, evaluated through :class:`SpectralPairs` (one multiplication per step).
    Adam with cosine decay to zero over ``steps``.

    Args:
        frames: one simulation, ``(time, nx, ny)`` or ``(time, 1, nx, ny)``.
        sign: -1 (diffusion) or +1 (mobility).

    Runs on the model's device (``frames`` are moved there).
    """
    _check_model(model)
    sign = check_sign_value(sign)
    steps, lr = check_int(steps, "steps", 0), check_real(lr, "lr", 0, lo_open=True)
    check_config(cfg)
    if show_progress is not None:
        check_bool(show_progress, "show_progress")
    video = _as_video(frames).to(model_device(model))
    sgn = torch.tensor([float(sign)], dtype=video.dtype, device=video.device)
    model.eval()
    with torch.no_grad():
        latent = model.encoder(video)
    pairs = SpectralPairs(model.operator, latent, sgn, cfg.direction)
    est = model.estimator
    with torch.no_grad():
        pooled = est.pooled(latent)  # the latent video is fixed: pool it once
    opt = torch.optim.Adam(est.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    result = Estimate(alpha=float("nan"))
    safe_values: list[float] = []

    def loss_fn(_: int) -> torch.Tensor:
        alpha = sgn * est.from_pooled(pooled)
        safe = pairs.loss(alpha)
        result.trace.append(float(alpha.detach()))
        safe_values.append(float(safe.detach()))
        return cfg.w_phys * safe + cfg.w_bounds * bounds_loss(alpha, cfg.alpha_min, cfg.alpha_max)

    hist = fit(est, loss_fn, opt, steps, scheduler=sched, progress=show_progress, desc="fit alpha")
    with torch.no_grad():
        result.alpha = float(sgn * est(latent))
    result.loss, result.seconds = safe_values, hist.seconds
    return result


def zero_shot(frames: torch.Tensor, sign: int, dt_save: float, dx: float, cfg: SafeConfig = SafeConfig(),
              show_progress: bool = False, device: torch.device | str | None = None) -> Estimate:
    """Recover ``alpha`` of one simulation with a fresh model and no training data.

    A new model (seed ``cfg.seed``) keeps its zero-initialised encoder, so ``F = V``; only the
    estimator is optimised, for ``cfg.zero_shot_steps`` steps at ``cfg.lr_estimator``, on
    ``device`` (default: where ``frames`` are).

    Explained in :ref:`05-safe-zero-shot-recovery`.
    """
    frames = finite_tensor(frames, "frames")
    model = build_model(dt_save, dx, cfg).to(frames.device if device is None else as_device(device, "device"))
    return fit_estimator(model, frames, sign, cfg.zero_shot_steps, cfg.lr_estimator, cfg, show_progress)


def fine_tune(model: SafeAutoencoder, frames: torch.Tensor, sign: int, cfg: SafeConfig = SafeConfig()) -> Estimate:
    """Test-time refinement of a trained model on one held-out simulation (model untouched).

    A copy of the model runs ``cfg.fine_tune_steps`` estimator steps with its trained
    encoder frozen.
    """
    _check_model(model)
    check_config(cfg)
    return fit_estimator(copy.deepcopy(model), frames, sign, cfg.fine_tune_steps, cfg.lr_estimator, cfg)


@dataclass
class TrainingRun:
    """Histories of the two phases of :func:`train`."""

    phase1: History
    phase2: History


def train(model: SafeAutoencoder, videos: Videos, cfg: SafeConfig = SafeConfig(),
          show_progress: bool | None = None) -> TrainingRun:
    """Two-phase training on the simulations in ``videos`` (in place).

    Phase 1 freezes encoder and decoder (``F = V`` from their zero initialisation) and trains
    the estimator on the SAFE and bounds losses, ``cfg.batch_size`` simulations per step.
    Phase 2 trains everything on all four losses, one simulation per step, with
    ``w_phys >> w_recon`` so that the learned ``alpha`` is kept. Adam with cosine decay. Runs
    on the model's device (the videos are moved there).

    Explained in :ref:`05-safe-the-trained-model`.
    """
    _check_model(model)
    _check_videos(videos)
    check_config(cfg)
    if len(videos) < 1:
        raise ValueError("videos: train needs at least one simulation")
    device = model_device(model)
    frames, sign = videos.frames.to(device), videos.sign.to(device)
    for part in (model.encoder, model.decoder):
        part.requires_grad_(False)
    order = EpochBatches(len(videos), cfg.batch_size, cfg.seed, stream="phase 1")
    with torch.no_grad():  # the frozen encoder's output does not change during phase 1
        model.encoder.eval()
        latents = torch.cat([model.encoder(frames[i:i + 1]) for i in range(len(videos))])
    pairs = SpectralPairs(model.operator, latents, sign, cfg.direction)
    with torch.no_grad():
        pooled = model.estimator.pooled(latents)

    def phase1_loss(step: int) -> torch.Tensor:
        idx = order(step)
        sgn = sign[idx]
        alpha = sgn * model.estimator.from_pooled(pooled[idx])
        return (cfg.w_phys * pairs.loss(alpha, idx)
                + cfg.w_bounds * bounds_loss(alpha, cfg.alpha_min, cfg.alpha_max))

    opt1 = torch.optim.Adam(model.estimator.parameters(), lr=cfg.lr_estimator)
    sched1 = torch.optim.lr_scheduler.CosineAnnealingLR(opt1, T_max=max(cfg.phase1_steps, 1))
    h1 = fit(model.estimator, phase1_loss, opt1, cfg.phase1_steps, scheduler=sched1,
             progress=show_progress, desc="phase 1 (estimator)")

    for part in (model.encoder, model.decoder):
        part.requires_grad_(True)
    single = EpochBatches(len(videos), 1, cfg.seed, stream="phase 2")

    def phase2_loss(step: int) -> torch.Tensor:
        idx = single(step)
        video, sgn = frames[idx], sign[idx]
        return losses(model, model(video, sgn), video, sgn, cfg)["total"]

    opt2 = torch.optim.Adam([
        {"params": model.estimator.parameters(), "lr": cfg.lr_estimator},
        {"params": list(model.encoder.parameters()) + list(model.decoder.parameters()), "lr": cfg.lr_autoencoder},
    ])
    sched2 = torch.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=max(cfg.phase2_steps, 1))
    h2 = fit(model, phase2_loss, opt2, cfg.phase2_steps, scheduler=sched2,
             progress=show_progress, desc="phase 2 (all)")
    model.eval()
    return TrainingRun(h1, h2)


def _check_videos(videos: object) -> Videos:
    if not isinstance(videos, Videos):
        raise TypeError(f"videos must be a physdl.safe.Videos, got {type(videos).__name__}")
    return videos


def estimate_all(estimator, videos: Videos, show_progress: bool | None = None, desc: str = "simulations") -> list[Estimate]:
    """Apply ``estimator(frames, sign) -> Estimate`` to every simulation, with a progress bar.

    Used in :ref:`05-safe-zero-shot-recovery`.
    """
    if not callable(estimator):
        raise TypeError(f"estimator must be callable (frames, sign) -> Estimate, got {type(estimator).__name__}")
    _check_videos(videos)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {type(desc).__name__}")
    if show_progress is not None:
        check_bool(show_progress, "show_progress")
    return [estimator(videos.frames[i], int(videos.sign[i])) for i in progress(range(len(videos)), desc, show_progress)]


def zero_shot_all(videos: Videos, cfg: SafeConfig = SafeConfig(), show_progress: bool | None = None,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Zero-shot estimates ``(sims,)`` for every simulation in ``videos`` (a fresh model each, on
    ``device``; default: where the videos are).

    Used in :ref:`05-safe-ablations`.
    """
    _check_videos(videos)
    check_config(cfg)
    estimates = estimate_all(lambda frames, sign: zero_shot(frames, sign, videos.dt_save, videos.dx, cfg,
                                                            device=device),
                             videos, show_progress, desc="zero-shot")
    return torch.tensor([e.alpha for e in estimates], device="cpu")


def fine_tune_all(model: SafeAutoencoder, videos: Videos, cfg: SafeConfig = SafeConfig(),
                  show_progress: bool | None = None) -> torch.Tensor:
    """Test-time estimates ``(sims,)`` of a trained ``model`` for every simulation (model untouched).

    Used in :ref:`05-safe-the-trained-model`.
    """
    _check_model(model)
    check_config(cfg)
    estimates = estimate_all(lambda frames, sign: fine_tune(model, frames, sign, cfg), videos, show_progress,
                             desc="fine-tune")
    return torch.tensor([e.alpha for e in estimates], device="cpu")
