"""Losses, two-phase training, test-time fine-tuning and zero-shot inference for SAFE-PIT-CM.

Shapes: videos ``(batch, time, 1, nx, ny)``; ``alpha`` and ``sign`` ``(batch,)``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from physdl import config as _config
from physdl.metrics import mae, r2
from physdl.safe.model import SafeAutoencoder, SafeOutput, _check_video
from physdl.safe.operator import DIRECTIONS, SafeOperator, SpectralPairs, safe_loss
from physdl.safe.videos import Videos
from physdl.train import History, batches, fit, progress


@dataclass(frozen=True)
class SafeConfig:
    """Method settings (defaults: the paper's section 3.1).

    Attributes:
        substeps: SAFE sub-steps per frame interval (``N_sub``).
        channels, d_model, heads, pool: network sizes.
        w_phys, w_recon, w_identity, w_bounds: loss weights (the paper gives no value for the
            identity weight; physdl uses 1).
        alpha_min, alpha_max: soft bounds on ``|alpha|``.
        lr_estimator, lr_autoencoder: Adam learning rates.
        zero_shot_steps: optimisation steps of zero-shot inference.
        fine_tune_steps: test-time steps of the trained model.
        phase1_steps, phase2_steps: training steps of the two phases.
        batch_size: simulations per phase-1 step (phase 2 uses one).
        direction: ``"stable"`` (physdl) or ``"forward"`` (the paper's equations).
        seed: weight initialisation and batch order.
    """

    substeps: int = 50
    channels: int = 16
    d_model: int = 32
    heads: int = 4
    pool: int = 4
    w_phys: float = 100.0
    w_recon: float = 1.0
    w_identity: float = 1.0
    w_bounds: float = 10.0
    alpha_min: float = 0.05
    alpha_max: float = 0.9
    lr_estimator: float = 5e-3
    lr_autoencoder: float = 1e-3
    zero_shot_steps: int = 200
    fine_tune_steps: int = 50
    phase1_steps: int = 300
    phase2_steps: int = 10
    batch_size: int = 4
    direction: str = "stable"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if not 0 < self.alpha_min < self.alpha_max:
            raise ValueError(f"need 0 < alpha_min < alpha_max, got {self.alpha_min}, {self.alpha_max}")


def build_model(dt_save: float, dx: float, cfg: SafeConfig = SafeConfig()) -> SafeAutoencoder:
    """A fresh SAFE-PIT-CM model seeded with ``cfg.seed``."""
    _config.seed_everything(cfg.seed)
    operator = SafeOperator(dt_save, dx, cfg.substeps)
    return SafeAutoencoder(operator, cfg.channels, cfg.d_model, cfg.heads, cfg.pool)


def bounds_loss(alpha: torch.Tensor, alpha_min: float, alpha_max: float) -> torch.Tensor:
    """``relu(alpha_min - |alpha|)^2 + relu(|alpha| - alpha_max)^2``, averaged over the batch.

    The paper writes the bounds on the signed ``alpha``, which would penalise every diffusion
    estimate; physdl bounds the magnitude.
    """
    mag = alpha.abs()
    return (torch.relu(alpha_min - mag).pow(2) + torch.relu(mag - alpha_max).pow(2)).mean()


def losses(model: SafeAutoencoder, out: SafeOutput, video: torch.Tensor, sign: torch.Tensor,
           cfg: SafeConfig) -> dict[str, torch.Tensor]:
    """The four loss terms and their weighted sum ``"total"``."""
    terms = {
        "safe": safe_loss(model.operator, out.latent, out.alpha, sign, cfg.direction),
        "recon": (out.reconstruction - video).pow(2).mean(),
        "identity": (out.latent - video).pow(2).mean(),
        "bounds": bounds_loss(out.alpha, cfg.alpha_min, cfg.alpha_max),
    }
    terms["total"] = (cfg.w_phys * terms["safe"] + cfg.w_recon * terms["recon"]
                      + cfg.w_identity * terms["identity"] + cfg.w_bounds * terms["bounds"])
    return terms


def _as_video(frames: torch.Tensor) -> torch.Tensor:
    """Accept ``(time, nx, ny)``, ``(time, 1, nx, ny)`` or ``(1, time, 1, nx, ny)``."""
    if frames.dim() == 3:
        frames = frames[:, None]
    if frames.dim() == 4:
        frames = frames[None]
    _check_video(frames)
    if frames.shape[0] != 1:
        raise ValueError(f"expected one simulation, got a batch of {frames.shape[0]}")
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
    """
    if sign not in (-1, 1):
        raise ValueError(f"sign must be -1 (diffusion) or +1 (mobility), got {sign}")
    video = _as_video(frames)
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
              show_progress: bool = False) -> Estimate:
    """Recover ``alpha`` of one simulation with a fresh model and no training data.

    A new model (seed ``cfg.seed``) keeps its zero-initialised encoder, so ``F = V``; only the
    estimator is optimised, for ``cfg.zero_shot_steps`` steps at ``cfg.lr_estimator``.
    """
    model = build_model(dt_save, dx, cfg)
    return fit_estimator(model, frames, sign, cfg.zero_shot_steps, cfg.lr_estimator, cfg, show_progress)


def fine_tune(model: SafeAutoencoder, frames: torch.Tensor, sign: int, cfg: SafeConfig = SafeConfig()) -> Estimate:
    """Test-time refinement of a trained model on one held-out simulation (model untouched).

    A copy of the model runs ``cfg.fine_tune_steps`` estimator steps with its trained
    encoder frozen.
    """
    return fit_estimator(copy.deepcopy(model), frames, sign, cfg.fine_tune_steps, cfg.lr_estimator, cfg)


@torch.no_grad()
def predict(model: SafeAutoencoder, videos: Videos) -> torch.Tensor:
    """The trained model's amortised estimates ``(sims,)``, one forward pass each."""
    model.eval()
    return torch.stack([model(videos.frames[i:i + 1], videos.sign[i:i + 1]).alpha[0] for i in range(len(videos))])


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
    ``w_phys >> w_recon`` so that the learned ``alpha`` is kept. Adam with cosine decay.
    """
    if len(videos) < 1:
        raise ValueError("train needs at least one simulation")
    gen = torch.Generator().manual_seed(cfg.seed)
    frames, sign = videos.frames, videos.sign
    for part in (model.encoder, model.decoder):
        part.requires_grad_(False)
    order = batches(len(videos), cfg.batch_size, gen)
    with torch.no_grad():  # the frozen encoder's output does not change during phase 1
        model.encoder.eval()
        latents = torch.cat([model.encoder(frames[i:i + 1]) for i in range(len(videos))])
    pairs = SpectralPairs(model.operator, latents, sign, cfg.direction)
    with torch.no_grad():
        pooled = model.estimator.pooled(latents)

    def phase1_loss(_: int) -> torch.Tensor:
        idx = next(order)
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
    single = batches(len(videos), 1, gen)

    def phase2_loss(_: int) -> torch.Tensor:
        idx = next(single)
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


def recovery_metrics(pred: torch.Tensor, true: torch.Tensor) -> dict[str, dict[str, float]]:
    """MAE and R^2 of ``pred`` against ``true`` overall and per sign.

    Returns ``{"all" | "diffusion" | "mobility": {"mae", "r2", "n"}}``.
    """
    pred, true = torch.as_tensor(pred, dtype=torch.float64), torch.as_tensor(true, dtype=torch.float64)
    if pred.shape != true.shape or pred.dim() != 1:
        raise ValueError(f"pred and true must be matching vectors, got {tuple(pred.shape)} and {tuple(true.shape)}")
    out = {}
    for name, keep in (("all", torch.ones_like(true, dtype=torch.bool)), ("diffusion", true < 0), ("mobility", true > 0)):
        if keep.sum() >= 2:
            out[name] = {"mae": float(mae(pred[keep], true[keep])), "r2": float(r2(pred[keep], true[keep])),
                         "n": int(keep.sum())}
    return out


def estimate_all(estimator, videos: Videos, show_progress: bool | None = None, desc: str = "simulations") -> list[Estimate]:
    """Apply ``estimator(frames, sign) -> Estimate`` to every simulation, with a progress bar."""
    return [estimator(videos.frames[i], int(videos.sign[i])) for i in progress(range(len(videos)), desc, show_progress)]


def alpha_landscape(latent: torch.Tensor, sign: int, operator: SafeOperator, magnitudes: torch.Tensor,
                    direction: str = "stable") -> torch.Tensor:
    """SAFE loss of a fixed latent video ``(time, 1, nx, ny)`` at each ``|alpha|`` in ``magnitudes``."""
    if sign not in (-1, 1):
        raise ValueError(f"sign must be -1 (diffusion) or +1 (mobility), got {sign}")
    if magnitudes.dim() != 1 or torch.any(magnitudes < 0):
        raise ValueError("magnitudes must be a vector of non-negative |alpha| values")
    video = _as_video(latent)
    sgn = torch.tensor([float(sign)], dtype=video.dtype)
    pairs = SpectralPairs(operator, video, sgn, direction)
    with torch.no_grad():
        return torch.stack([pairs.loss(sgn * m) for m in magnitudes.to(video.dtype)])


def least_squares_alpha(latent: torch.Tensor, sign: int, operator: SafeOperator, low: float = 1e-3,
                        high: float = 2.0, iterations: int = 60, direction: str = "stable") -> float:
    """The ``alpha`` that minimises the SAFE loss of a fixed latent video (golden-section search).

    With the encoder frozen the method reduces to this one-parameter least-squares problem.
    The search assumes one minimum of ``|alpha|`` in ``[low, high]``.
    """
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low = {low}, high = {high}")
    if sign not in (-1, 1):
        raise ValueError(f"sign must be -1 (diffusion) or +1 (mobility), got {sign}")
    video = _as_video(latent)
    sgn = torch.tensor([float(sign)], dtype=torch.float64)
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
    """
    from physdl.safe.operator import frame_pairs, propagation_alpha

    video = _as_video(frames)
    sgn = torch.tensor([float(sign)], dtype=video.dtype)
    model.eval()
    out = model(video, sgn)
    a = out.alpha if alpha is None else torch.tensor([alpha], dtype=video.dtype)
    source, target = frame_pairs(out.latent, sgn, direction)
    prediction = model.operator(source, propagation_alpha(a, direction))
    return FieldReport(
        video=video[0, :, 0], latent=out.latent[0, :, 0], reconstruction=out.reconstruction[0, :, 0],
        prediction=prediction[0, :, 0], target=target[0, :, 0],
        safe_error=(prediction - target).pow(2).mean(dim=(-1, -2))[0, :, 0],
        recon_error=(out.reconstruction - video).pow(2).mean(dim=(-1, -2))[0, :, 0],
        alpha=float(a[0]),
    )


@dataclass(frozen=True)
class ChapterConfig:
    """Everything chapter 5 sizes by profile.

    Attributes:
        data: the heat-equation videos.
        method: SAFE-PIT-CM settings.
        substeps: ``N_sub`` values of the sub-step ablation.
        frame_steps: frame steps ``k`` of the temporal-resolution ablation.
    """

    data: "HeatVideoConfig"
    method: SafeConfig
    substeps: tuple[int, ...] = (1, 2, 5, 10, 25, 50)
    frame_steps: tuple[int, ...] = (1, 2, 5, 10)


def chapter_config(profile: str | None = None) -> ChapterConfig:
    """The sizes of chapter 5 for the active (or named) profile."""
    from physdl.safe.videos import HeatVideoConfig

    return _config.by_profile(
        quick=ChapterConfig(HeatVideoConfig(n=64, runs=10), SafeConfig(phase1_steps=100, phase2_steps=2)),
        default=ChapterConfig(HeatVideoConfig(), SafeConfig()),
        name=profile,
    )


def zero_shot_all(videos: Videos, cfg: SafeConfig = SafeConfig(), show_progress: bool | None = None) -> torch.Tensor:
    """Zero-shot estimates ``(sims,)`` for every simulation in ``videos`` (a fresh model each)."""
    estimates = estimate_all(lambda frames, sign: zero_shot(frames, sign, videos.dt_save, videos.dx, cfg),
                             videos, show_progress, desc="zero-shot")
    return torch.tensor([e.alpha for e in estimates])


def fine_tune_all(model: SafeAutoencoder, videos: Videos, cfg: SafeConfig = SafeConfig(),
                  show_progress: bool | None = None) -> torch.Tensor:
    """Test-time estimates ``(sims,)`` of a trained ``model`` for every simulation (model untouched)."""
    estimates = estimate_all(lambda frames, sign: fine_tune(model, frames, sign, cfg), videos, show_progress,
                             desc="fine-tune")
    return torch.tensor([e.alpha for e in estimates])
