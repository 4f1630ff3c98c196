"""Surrogate models of a PDE solution operator (chapter 1).

The task follows the lecture's example: from a body force and an obstacle mask,
``x = [f_x, f_y, mask]``, predict the steady flow ``y = [p, u_x, u_y]``. The data come from
:func:`physdl.pde.flow.solve_stokes`; networks come from :mod:`physdl.nn`; training runs
through :func:`physdl.train.fit`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from physdl import config as _config
from physdl.data import cached
from physdl.pde.flow import random_forces, random_obstacles, solve_stokes
from physdl.train import History, batches, fit

INPUTS = ("f_x", "f_y", "mask")
OUTPUTS = ("p", "u_x", "u_y")
# Bump when the data generator changes, so that stale cache files are not reused.
DATA_VERSION = "stokes-mac-fluid-force-1"


@dataclass(frozen=True)
class SurrogateConfig:
    """Sizes of the surrogate chapter for one profile.

    Attributes:
        n: grid points per side of the periodic unit square.
        samples: number of (input, output) pairs generated.
        test_fraction: share of the samples held out for testing.
        nu: kinematic viscosity of the flow solver.
        penalty: Brinkman penalty inside obstacles.
        edge: width (grid cells) of the anti-aliased rim of the obstacles; 0 for binary masks.
        seed: seed of the data and of the weight initialisation.
        unet_base, unet_levels: U-Net width and depth.
        mlp_hidden: hidden widths of the fully connected baseline.
        steps, batch_size, lr: training schedule (Adam, cosine decay to zero).
        mlp_lr: learning rate of the fully connected baseline.
        overfit_steps: steps of the 1-sample overfitting test.
    """

    n: int = 32
    samples: int = 2000
    test_fraction: float = 0.2
    nu: float = 1.0
    penalty: float = 1e6
    edge: float = 0.0
    seed: int = 0
    unet_base: int = 16
    unet_levels: int = 4
    mlp_hidden: tuple[int, ...] = (64, 64)
    steps: int = 4000
    batch_size: int = 32
    lr: float = 1e-3
    mlp_lr: float = 1e-3
    overfit_steps: int = 300

    def data_config(self) -> dict:
        """The part of the config that determines the data set (the cache key)."""
        keys = ("n", "samples", "nu", "penalty", "edge", "seed")
        return {"generator": DATA_VERSION, **{k: v for k, v in asdict(self).items() if k in keys}}


def chapter_config(profile: str | None = None) -> SurrogateConfig:
    """The chapter's sizes for the active (or named) profile."""
    return _config.by_profile(
        quick=SurrogateConfig(samples=400, steps=600, mlp_hidden=(64, 64), overfit_steps=200),
        default=SurrogateConfig(),
        name=profile,
    )


def generate_flows(n: int, samples: int, nu: float, penalty: float, seed: int, edge: float = 0.0,
                   chunk: int = 500) -> dict[str, torch.Tensor]:
    """Random obstacles and uniform body forces acting on the fluid, and their Stokes flows.

    Returns ``{"inputs": (samples, 3, n, n), "targets": (samples, 3, n, n)}`` in float32,
    channels :data:`INPUTS` and :data:`OUTPUTS`; solved in float64.
    """
    gen = torch.Generator().manual_seed(seed)
    mask = random_obstacles(samples, n, generator=gen, edge=edge)
    # The body force drives the fluid only; the obstacles are held in place.
    force = random_forces(samples, n, generator=gen) * (1 - mask)
    p, u = [], []
    for i in range(0, samples, chunk):
        sol = solve_stokes(force[i : i + chunk], mask[i : i + chunk], 1.0 / n, nu=nu, penalty=penalty)
        p.append(sol.pressure)
        u.append(sol.velocity)
    inputs = torch.cat([force, mask], dim=1).float()
    targets = torch.cat([torch.cat(p), torch.cat(u)], dim=1).float()
    return {"inputs": inputs, "targets": targets}


def flow_dataset(cfg: SurrogateConfig) -> dict[str, torch.Tensor]:
    """The chapter's data set, generated once and then read from the cache."""
    d = cfg.data_config()
    args = {k: v for k, v in d.items() if k != "generator"}
    return cached("stokes-obstacles", d, lambda: generate_flows(**args))


def split(data: dict[str, torch.Tensor], test_fraction: float) -> tuple[dict, dict]:
    """First ``1 - test_fraction`` of the samples for training, the rest for testing."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    n = len(data["inputs"])
    cut = n - max(1, round(n * test_fraction))
    return ({k: v[:cut] for k, v in data.items()}, {k: v[cut:] for k, v in data.items()})


def force_magnitude(inputs: torch.Tensor) -> torch.Tensor:
    """Largest body-force magnitude of each sample, ``(batch, 1, 1, 1)``, from channels f_x, f_y."""
    return torch.linalg.vector_norm(inputs[:, :2], dim=1).amax(dim=(1, 2), keepdim=True)[:, None].clamp_min(1e-12)


class Scaled(nn.Module):
    """Wraps a network so that it works on dimensionless values of order one.

    Stokes flow is linear in the force, so the outputs are divided by the force magnitude of
    their sample and then by a fixed per-channel scale ``scale`` (``(channel,)``); the inner
    network predicts these normalised values and :meth:`forward` returns physical units.
    This is the normalisation by the driving magnitude that Thuerey et al. use for flows
    around airfoils.
    """

    def __init__(self, net: nn.Module, scale: torch.Tensor) -> None:
        super().__init__()
        if scale.dim() != 1:
            raise ValueError(f"scale must be a vector with one entry per output channel, got {tuple(scale.shape)}")
        self.net = net
        self.register_buffer("scale", scale.reshape(1, -1, 1, 1).clone())

    def normalise(self, targets: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Physical targets to the normalised values the inner network predicts."""
        return targets / (self.scale * force_magnitude(inputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * self.scale * force_magnitude(x)


def output_scale(targets: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Per-channel root-mean-square of targets divided by their force magnitude, ``(channel,)``."""
    return (targets / force_magnitude(inputs)).pow(2).mean(dim=(0, 2, 3)).sqrt()


def channel_errors(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Relative L2 error per channel over a whole set, ``(channel,)``.

    ``||pred_c - true_c|| / ||true_c||`` with the norms taken over all samples and grid
    points of channel ``c``.
    """
    if pred.shape != true.shape or pred.dim() != 4:
        raise ValueError(f"expected equal shapes (batch, channel, nx, ny), got {tuple(pred.shape)}, {tuple(true.shape)}")
    num = (pred - true).pow(2).sum(dim=(0, 2, 3)).sqrt()
    return num / true.pow(2).sum(dim=(0, 2, 3)).sqrt()


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Run ``model`` over ``inputs`` in batches on the model's device; CPU output."""
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat([model(inputs[i : i + batch_size].to(dev)).cpu() for i in range(0, len(inputs), batch_size)])


def train_surrogate(
    model: nn.Module,
    train: dict[str, torch.Tensor],
    test: dict[str, torch.Tensor],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    desc: str = "surrogate",
    validate_every: int = 200,
    progress: bool | None = None,
) -> History:
    """Adam with cosine decay on the MSE of scaled outputs; validation = mean relative L2.

    ``model`` is a :class:`Scaled` network: the loss is the MSE of normalised values, so
    that channels and samples weigh equally. The weights with the best validation error are
    kept.
    """
    if not isinstance(model, Scaled):
        raise TypeError("train_surrogate expects a Scaled network (see Scaled)")
    dev = next(model.parameters()).device
    x, y = train["inputs"].to(dev), train["targets"].to(dev)
    order = batches(len(x), batch_size, torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))

    def loss_fn(step: int) -> torch.Tensor:
        idx = next(order).to(dev)
        xb = x[idx]
        return (model.net(xb) - model.normalise(y[idx], xb)).pow(2).mean()

    def validate() -> float:
        return float(channel_errors(predict(model, test["inputs"]), test["targets"]).mean())

    return fit(model, loss_fn, opt, steps, scheduler=sched, validate=validate,
               validate_every=validate_every, desc=desc, progress=progress)


def overfit_one_sample(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                       steps: int, lr: float = 1e-3) -> History:
    """The lecture's sanity check: fit a single ``(1, c, nx, ny)`` pair with Adam."""
    if inputs.shape[0] != 1 or targets.shape[0] != 1:
        raise ValueError("the overfitting test takes exactly one sample (batch size 1)")
    if not isinstance(model, Scaled):
        raise TypeError("overfit_one_sample expects a Scaled network (see Scaled)")
    dev = next(model.parameters()).device
    x, y = inputs.to(dev), targets.to(dev)
    y_norm = model.normalise(y, x)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return fit(model, lambda _: (model.net(x) - y_norm).pow(2).mean(), opt, steps, desc="overfit 1 sample")


def time_call(fn, repeats: int = 5) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]
