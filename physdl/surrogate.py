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
from physdl.pde.flow import face_average, random_forces, random_obstacles, solve_stokes
from physdl.train import History, batches, fit

INPUTS = ("f_x", "f_y", "mask")
OUTPUTS = ("p", "u_x", "u_y")
# Bump when the data generator changes, so that stale cache files are not reused.
DATA_VERSION = "stokes-mac-fluid-force-2"
# Where each channel lives on the staggered grid: "x"/"y" = the x/y component of a vector on
# the x/y faces, "s" = a scalar at the nodes.
INPUT_ROLES = ("x", "y", "s")
OUTPUT_ROLES = ("s", "x", "y")


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
        augment: train on randomly rotated and reflected batches (:func:`symmetry`).
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
    steps: int = 8000
    augment: bool = True
    batch_size: int = 32
    lr: float = 1e-3
    mlp_lr: float = 1e-3
    overfit_steps: int = 500

    def data_config(self) -> dict:
        """The part of the config that determines the data set (the cache key)."""
        keys = ("n", "samples", "nu", "penalty", "edge", "seed")
        return {"generator": DATA_VERSION, **{k: v for k, v in asdict(self).items() if k in keys}}


def chapter_config(profile: str | None = None) -> SurrogateConfig:
    """The chapter's sizes for the active (or named) profile."""
    return _config.by_profile(
        quick=SurrogateConfig(samples=400, steps=600, augment=False, mlp_hidden=(64, 64)),
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
    # The body force drives the fluid only; the obstacles are held in place. The force lives
    # on the faces, so it is masked by the mask averaged onto the faces, which keeps the data
    # set exactly symmetric under the reflections and rotations of the grid (see symmetry).
    force = random_forces(samples, n, generator=gen) * (1 - face_average(mask))
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


def _transform_channels(t: torch.Tensor, roles: tuple[str, ...], transpose: bool,
                        flip_x: bool, flip_y: bool) -> torch.Tensor:
    """Apply one element of the square's symmetry group to fields on the staggered grid."""
    if t.dim() != 4 or t.shape[1] != len(roles):
        raise ValueError(f"expected (batch, {len(roles)}, nx, ny), got {tuple(t.shape)}")
    chans = [c.transpose(-2, -1) if transpose else c for c in t.unbind(dim=1)]
    if transpose:
        # The transposed x-component is the y-component of the transposed field, and back.
        ix, iy = roles.index("x"), roles.index("y")
        chans[ix], chans[iy] = chans[iy], chans[ix]
    for flip, axis, comp in ((flip_x, -2, "x"), (flip_y, -1, "y")):
        if not flip:
            continue
        for k, r in enumerate(roles):
            c = chans[k].flip(axis)
            # x -> -x maps face i + 1/2 to face n - 1 - i (a plain flip) but node i to node
            # n - i (a flip and a shift by one); the component along the axis changes sign.
            chans[k] = -c if r == comp else torch.roll(c, 1, dims=axis)
    return torch.stack(chans, dim=1)


def symmetry(inputs: torch.Tensor, targets: torch.Tensor, element: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One of the 8 symmetries of the periodic square applied to a data pair.

    ``element`` in ``0..7`` encodes (transpose, flip x, flip y) as bits 2, 1, 0; element 0 is the
    identity. Fields are treated where they live on the staggered grid (``INPUT_ROLES``,
    ``OUTPUT_ROLES``), so the transformed pair is again an exact solution of the discrete
    problem: a free, exact data augmentation. ``inputs`` and ``targets`` are
    ``(batch, 3, n, n)``; the grid must be square for a transpose.
    """
    if not 0 <= element < 8:
        raise ValueError(f"element must be in 0..7, got {element}")
    transpose, flip_x, flip_y = bool(element & 4), bool(element & 2), bool(element & 1)
    if transpose and inputs.shape[-1] != inputs.shape[-2]:
        raise ValueError(f"a transpose needs a square grid, got {tuple(inputs.shape[-2:])}")
    return (_transform_channels(inputs, INPUT_ROLES, transpose, flip_x, flip_y),
            _transform_channels(targets, OUTPUT_ROLES, transpose, flip_x, flip_y))


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

    @staticmethod
    def normalise_inputs(inputs: torch.Tensor) -> torch.Tensor:
        """Force channels divided by the sample's force magnitude; the mask unchanged."""
        return torch.cat([inputs[:, :2] / force_magnitude(inputs), inputs[:, 2:]], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalise_inputs(x)) * self.scale * force_magnitude(x)


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
    augment: bool = False,
) -> History:
    """Adam with cosine decay on the MSE of scaled outputs; validation = mean relative L2.

    ``model`` is a :class:`Scaled` network: the loss is the MSE of normalised values, so
    that channels and samples weigh equally. The weights with the best validation error are
    kept. With ``augment``, each batch is moved by a random one of the 8 symmetries of the
    square (:func:`symmetry`), which multiplies the data at no cost and is exact.
    """
    if not isinstance(model, Scaled):
        raise TypeError("train_surrogate expects a Scaled network (see Scaled)")
    dev = next(model.parameters()).device
    x, y = train["inputs"].to(dev), train["targets"].to(dev)
    gen = torch.Generator().manual_seed(seed)
    order = batches(len(x), batch_size, gen)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))

    def loss_fn(step: int) -> torch.Tensor:
        idx = next(order).to(dev)
        xb, yb = x[idx], y[idx]
        if augment:
            xb, yb = symmetry(xb, yb, int(torch.randint(8, (), generator=gen)))
        return (model.net(model.normalise_inputs(xb)) - model.normalise(yb, xb)).pow(2).mean()

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
    x_norm = model.normalise_inputs(x)
    return fit(model, lambda _: (model.net(x_norm) - y_norm).pow(2).mean(), opt, steps, desc="overfit 1 sample")


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
