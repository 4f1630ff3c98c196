"""Training and evaluation of NeuraDiff and of its two baselines.

Shapes: frames ``(frames, 1, nx, ny)``; states ``(frames, 3, nx, ny)``; annotations
``(frames, nx, ny)`` int8 with ``1`` / ``0`` / :data:`~physdl.neuradiff.video.UNKNOWN`.

The triage loss of a frame pair ``(t, t + g)``, with ``x* = sim(rec(t) with eta annotated)``
and ``x^ = rec(t + g)``::

    L = L_sim + lambda_1 L_rec + lambda_2 L_sim-rec
    L_sim     = || 1_A (eta* - A) ||^2          (annotations at t + g)
    L_rec     = || 1_A (eta^ - A) ||^2          (annotations at t and t + g)
    L_sim-rec = || x* - x^ ||^2                  (all three fields)

Each norm is a mean over the pixels it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from physdl import config as _config
from physdl.metrics import pixel_accuracy
from physdl.neuradiff.data import VoidScenario, VoidVideo
from physdl.ops.grid import Grid
from physdl.pde.stepper import Substepped
from physdl.neuradiff.model import NeuralPhaseField, NextFrameUNet, RecognitionNet, TrackingUNet
from physdl.neuradiff.video import known
from physdl.pde import voids
from physdl.train import History, fit


def _default_guess() -> voids.VoidParameters:
    """A first guess of ``P`` away from the truth (each value off by a factor 1.5 to 2)."""
    return voids.VoidParameters(E_v=5.0, E_i=12.0, kT=3.0, kappa_v=2.0, kappa_i=0.5, kappa_eta=2.0,
                                D_v=0.5, D_i=2.0, L=0.5)


@dataclass(frozen=True)
class NeuraDiffConfig:
    """Method settings.

    Attributes:
        frame_fraction, pixel_fraction: annotated share of frames, and of pixels in them.
        embedding, base, levels: recognition net (embedding length, U-Net width and depth).
        pretrain_steps: steps of recognition-net pre-training on the annotations.
        steps: steps of joint (triage) training.
        batch_size: frame pairs per step.
        gap: largest number of frames between the two frames of a pair; each step draws one
            gap uniformly from ``1..gap`` (``gap * steps_per_frame`` simulation steps).
        lr_net, lr_physics: Adam learning rates of the recognition net and of ``log P``.
        lambda_rec, lambda_sim_rec: weights ``lambda_1`` and ``lambda_2``.
        c_v_prior, c_i_prior: solid-phase concentrations the pre-training starts from.
        initial: the first guess of ``P``.
        baseline_steps: steps of each baseline U-Net.
        seed: annotations, weights and batches.
    """

    frame_fraction: float = 0.2
    pixel_fraction: float = 0.5
    embedding: int = 8
    base: int = 16
    levels: int = 4
    pretrain_steps: int = 300
    steps: int = 300
    batch_size: int = 4
    gap: int = 4
    lr_net: float = 1e-3
    lr_physics: float = 0.1
    lambda_rec: float = 10.0
    lambda_sim_rec: float = 10.0
    c_v_prior: float = 0.3
    c_i_prior: float = 0.01
    initial: voids.VoidParameters = field(default_factory=_default_guess)
    baseline_steps: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        if self.gap < 1 or self.batch_size < 1:
            raise ValueError(f"gap and batch_size must be positive, got {self.gap}, {self.batch_size}")


def masked_mse(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of ``(pred - label)^2`` over annotated pixels (zero when none is annotated)."""
    if pred.shape != labels.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and annotations {tuple(labels.shape)} differ in shape")
    mask = known(labels)
    if not mask.any():
        return pred.sum() * 0
    return (pred[mask] - labels[mask].to(pred.dtype)).pow(2).mean()


def _check_inputs(video: VoidVideo, labels: torch.Tensor) -> None:
    if labels.shape != video.eta.shape:
        raise ValueError(f"annotations must be (frames, nx, ny) = {tuple(video.eta.shape)}, got {tuple(labels.shape)}")


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
    """
    device = next(net.parameters()).device
    frames, labels = frames.to(device), labels.to(device)
    index = torch.arange(len(frames), device=device)
    labelled = torch.nonzero(known(labels).flatten(1).any(1)).flatten()
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr_net)

    def loss_fn(step: int) -> torch.Tensor:
        pick = labelled[torch.randint(len(labelled), (cfg.batch_size,), generator=gen)]
        other = torch.randint(len(frames), (cfg.batch_size,), generator=gen).to(device)
        pick = torch.cat([pick, other])
        out = net(frames[pick], index[pick])
        eta = out[:, 2]
        e = eta.detach()
        prior = torch.stack([e + (1 - e) * cfg.c_v_prior, (1 - e) * cfg.c_i_prior], dim=1)
        return masked_mse(eta, labels[pick]) + 0.1 * (out[:, :2] - prior).pow(2).mean()

    return fit(net, loss_fn, opt, cfg.pretrain_steps, progress=progress, desc="pre-train")


def triage_loss(net: RecognitionNet, physics: NeuralPhaseField, frames: torch.Tensor, labels: torch.Tensor,
                t: torch.Tensor, gap: int, steps_per_frame: int, cfg: NeuraDiffConfig) -> dict[str, torch.Tensor]:
    """The three terms and the total of the triage loss for the pairs ``(t, t + gap)``."""
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


def train(video: VoidVideo, labels: torch.Tensor, cfg: NeuraDiffConfig = NeuraDiffConfig(),
          progress: bool | None = None, device: torch.device | None = None) -> NeuraDiffResult:
    """Pre-train the recognition net, then train it jointly with the phase-field parameters."""
    _check_inputs(video, labels)
    device = device or _config.device()
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
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    record: list[dict[str, float]] = []
    joint = torch.nn.ModuleDict({"recognition": net, "physics": physics})

    def loss_fn(step: int) -> torch.Tensor:
        gap = int(torch.randint(1, cfg.gap + 1, (), generator=gen))
        t = torch.randint(len(frames) - gap, (cfg.batch_size,), generator=gen).to(device)
        terms = triage_loss(net, physics, frames, labels, t, gap, s.steps_per_frame, cfg)
        if step % 10 == 0:
            record.append(physics.parameters_p.as_dict())
        return terms["total"]

    hist = fit(joint, loss_fn, opt, cfg.steps, scheduler=sched, progress=progress, desc="NeuraDiff")
    record.append(physics.parameters_p.as_dict())
    return NeuraDiffResult(net, physics, pre, hist, record)


@torch.no_grad()
def recognise(net: RecognitionNet, frames: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """Fields ``(frames, 3, nx, ny)`` for every frame (frame ``k`` uses embedding ``k``)."""
    net.eval()
    device = next(net.parameters()).device
    out = []
    for start in range(0, len(frames), batch):
        chunk = frames[start:start + batch].to(device)
        out.append(net(chunk, torch.arange(start, start + len(chunk), device=device)).cpu())
    return torch.cat(out)


@torch.no_grad()
def track(net: TrackingUNet, frames: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """``eta`` ``(frames, nx, ny)`` predicted by the supervised baseline."""
    net.eval()
    device = next(net.parameters()).device
    return torch.cat([net(frames[i:i + batch].to(device)).cpu()[:, 0] for i in range(0, len(frames), batch)])


def train_tracking_unet(frames: torch.Tensor, labels: torch.Tensor, cfg: NeuraDiffConfig = NeuraDiffConfig(),
                        progress: bool | None = None, device: torch.device | None = None) -> TrackingUNet:
    """The supervised baseline: a U-Net trained only on the annotated pixels."""
    device = device or _config.device()
    _config.seed_everything(cfg.seed)
    net = TrackingUNet(cfg.base, cfg.levels).to(device)
    frames, labels = frames.to(device), labels.to(device)
    labelled = torch.nonzero(known(labels).flatten(1).any(1)).flatten()
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr_net)

    def loss_fn(step: int) -> torch.Tensor:
        pick = labelled[torch.randint(len(labelled), (cfg.batch_size,), generator=gen)]
        return masked_mse(net(frames[pick])[:, 0], labels[pick])

    fit(net, loss_fn, opt, cfg.baseline_steps, progress=progress, desc="U-Net (annotations)")
    return net


def train_next_frame(frames: torch.Tensor, cfg: NeuraDiffConfig = NeuraDiffConfig(), progress: bool | None = None,
                     device: torch.device | None = None) -> NextFrameUNet:
    """The dynamics baseline: a U-Net fitted to map every frame to the next one (MSE)."""
    device = device or _config.device()
    _config.seed_everything(cfg.seed)
    net = NextFrameUNet(cfg.base, cfg.levels).to(device)
    frames = frames.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr_net)

    def loss_fn(step: int) -> torch.Tensor:
        t = torch.randint(len(frames) - 1, (cfg.batch_size,), generator=gen).to(device)
        return (net(frames[t]) - frames[t + 1]).pow(2).mean()

    fit(net, loss_fn, opt, cfg.baseline_steps, progress=progress, desc="U-Net (next frame)")
    return net


def held_out(labels: torch.Tensor) -> torch.Tensor:
    """Indices of frames without any annotation."""
    return torch.nonzero(~known(labels).flatten(1).any(1)).flatten()


def accuracy_per_frame(eta_pred: torch.Tensor, eta_true: torch.Tensor) -> torch.Tensor:
    """Pixel accuracy of ``eta >= 0.5`` per frame, ``(frames,)``."""
    if eta_pred.shape != eta_true.shape or eta_true.dim() != 3:
        raise ValueError(f"need two (frames, nx, ny) tensors of one shape, got {tuple(eta_pred.shape)} "
                         f"and {tuple(eta_true.shape)}")
    return torch.stack([pixel_accuracy(p, t) for p, t in zip(eta_pred, eta_true)])


def iou_per_frame(eta_pred: torch.Tensor, eta_true: torch.Tensor) -> torch.Tensor:
    """Intersection over union of the void regions ``eta >= 0.5`` per frame, ``(frames,)``.

    A frame where neither has a void scores 1.
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
    """Deterministic rollout ``(frames, 3, nx, ny)`` from ``state0`` ``(3, nx, ny)``."""
    device = next(physics.parameters()).device
    return physics.rollout(state0[None].to(device), frames, steps_per_frame)[0].cpu()


@torch.no_grad()
def rollout_from_first_frame(result: NeuraDiffResult, video: VoidVideo) -> torch.Tensor:
    """Recognise frame 0 (nothing annotated is used) and simulate the whole video, ``(frames, 3, nx, ny)``."""
    state0 = recognise(result.recognition, video.frames[:1])[0]
    return rollout(result.physics, state0, len(video), video.scenario.steps_per_frame)


@dataclass(frozen=True)
class ChapterConfig:
    """Sizes of chapter 6: the training experiment, the transfer experiment and the method."""

    scenario: VoidScenario
    transfer: VoidScenario
    method: NeuraDiffConfig
    landscape_points: int = 9
    landscape_frames: int = 20


def chapter_config(profile: str | None = None) -> ChapterConfig:
    """The sizes of chapter 6 for the active (or named) profile.

    The default profile trains on one void in a 64 x 64 video of 80 frames; the transfer video
    has three voids of different sizes and its own random seed. Quick halves the grid.
    """
    one = VoidScenario()
    several = replace(one, centers=((16.0, 16.0), (44.0, 22.0), (30.0, 46.0)), radii=(5.0, 8.0, 11.0), seed=1)
    small = replace(one, n=32, centers=((10.0, 16.0),), radii=(5.0,), frames=40)
    small_several = replace(small, centers=((8.0, 8.0), (22.0, 12.0), (16.0, 25.0)), radii=(3.0, 4.0, 6.0), seed=1)
    return _config.by_profile(
        quick=ChapterConfig(small, small_several, NeuraDiffConfig(levels=3, pretrain_steps=150, steps=40, gap=2,
                                                                   baseline_steps=150),
                            landscape_points=5, landscape_frames=8),
        default=ChapterConfig(one, several, NeuraDiffConfig()),
        name=profile,
    )


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
    error = torch.zeros(k * k, dtype=torch.float64)
    for frame in range(1, len(eta_true)):
        state = frame_step.step(state)
        error += (state[:, 2] - eta_true[frame]).pow(2).mean(dim=(-2, -1)).double()
    return (error / (len(eta_true) - 1)).reshape(k, k)
