"""The surrogate's data set: random forces and obstacles, the Stokes flow they drive, and the
eight symmetries of the square that map one sample to another."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from physdl.data import cached
from physdl.ops import checks
from physdl.pde.flow import face_average, random_forces, random_obstacles, solve_stokes
from physdl.surrogate.config import SurrogateConfig

INPUTS = ("f_x", "f_y", "mask")


OUTPUTS = ("p", "u_x", "u_y")


# Bump when the data generator changes, so that stale cache files are not reused.


# Where each channel lives on the staggered grid: "x"/"y" = the x/y component of a vector on
# the x/y faces, "s" = a scalar at the nodes.
INPUT_ROLES = ("x", "y", "s")


OUTPUT_ROLES = ("s", "x", "y")


def generate_flows(n: int, samples: int, nu: float, penalty: float, seed: int, edge: float = 0.0,
                   chunk: int = 500, device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """Random obstacles and uniform body forces acting on the fluid, and their Stokes flows.

    The obstacles and forces are drawn on the CPU (the same for a seed on every machine); the
    flows are solved on ``device`` (default: the CPU) in float64. A set solved on a GPU matches
    a CPU-made one within 1e-6 relative to each target's largest value (the solver's float64
    tolerance is far below the float32 rounding of the stored arrays); ``benchmarks/gpu_check.py``
    checks it. The cache key holds no device.

    Returns ``{"inputs": (samples, 3, n, n), "targets": (samples, 3, n, n)}`` in float32 on the
    CPU, channels :data:`INPUTS` and :data:`OUTPUTS`.
    """
    n, samples = checks.check_int(n, "n", 4), checks.check_int(samples, "samples", 1)
    nu, penalty = checks.check_real(nu, "nu", 0, lo_open=True), checks.check_real(penalty, "penalty", 0, lo_open=True)
    seed, chunk = checks.check_int(seed, "seed", 0), checks.check_int(chunk, "chunk", 1)
    edge = checks.check_real(edge, "edge", 0)
    device = torch.device(device) if device is not None else torch.device("cpu")
    gen = torch.Generator().manual_seed(seed)
    mask = random_obstacles(samples, n, generator=gen, edge=edge)
    # The body force drives the fluid only; the obstacles are held in place. The force lives
    # on the faces, so it is masked by the mask averaged onto the faces, which keeps the data
    # set exactly symmetric under the reflections and rotations of the grid (see symmetry).
    force = random_forces(samples, n, generator=gen) * (1 - face_average(mask))
    p, u = [], []
    for i in range(0, samples, chunk):
        sol = solve_stokes(force[i : i + chunk].to(device), mask[i : i + chunk].to(device), 1.0 / n, nu=nu,
                           penalty=penalty)
        p.append(sol.pressure.cpu())
        u.append(sol.velocity.cpu())
    inputs = torch.cat([force, mask], dim=1).float()
    targets = torch.cat([torch.cat(p), torch.cat(u)], dim=1).float()
    return {"inputs": inputs, "targets": targets}


def flow_dataset(cfg: SurrogateConfig, device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """The chapter's data set (CPU tensors), generated once on ``device`` and then read from the
    cache; see :func:`generate_flows` for how a GPU-made set compares with a CPU-made one.

    Explained in :ref:`01-surrogates-the-data-set`.
    """
    if not isinstance(cfg, SurrogateConfig):
        raise TypeError(f"cfg must be a SurrogateConfig, got {type(cfg).__name__}")
    d = cfg.data_config()
    args = {k: v for k, v in d.items() if k != "generator"}
    return cached("stokes-obstacles", d, lambda: generate_flows(**args, device=device))


def split(data: dict[str, torch.Tensor], test_fraction: float) -> tuple[dict, dict]:
    """First ``1 - test_fraction`` of the samples for training, the rest for testing.

    Used in :ref:`01-surrogates-the-data-set`.
    """
    test_fraction = checks.check_real(test_fraction, "test_fraction", 0, 1, lo_open=True, hi_open=True)
    if not isinstance(data, Mapping) or "inputs" not in data:
        raise TypeError(f"data must be a mapping of tensors with an 'inputs' entry, got {type(data).__name__}")
    for key, value in data.items():
        checks.check_tensor(value, f"data[{key!r}]")
    n = len(data["inputs"])
    if n < 2 or any(len(v) != n for v in data.values()):
        raise ValueError(f"data needs at least 2 samples and the same number in every entry, got "
                         f"{ {k: len(v) for k, v in data.items()} }")
    cut = min(max(1, n - round(n * test_fraction)), n - 1)  # at least one sample in each part
    return ({k: v[:cut] for k, v in data.items()}, {k: v[cut:] for k, v in data.items()})


def _transform_channels(t: torch.Tensor, roles: tuple[str, ...], transpose: bool,
                        flip_x: bool, flip_y: bool, name: str) -> torch.Tensor:
    """Apply one element of the square's symmetry group to fields on the staggered grid."""
    if t.dim() != 4 or t.shape[1] != len(roles) or not t.shape[0]:
        raise ValueError(f"{name} must be shaped (batch, {len(roles)}, nx, ny), got {tuple(t.shape)}")
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

    Explained in :ref:`01-surrogates-training-on-the-data-set`.
    """
    element = checks.check_int(element, "element", 0, 7)
    checks.finite_tensor(inputs, "inputs")
    checks.finite_tensor(targets, "targets")
    if inputs.shape[:1] != targets.shape[:1] or inputs.shape[2:] != targets.shape[2:]:
        raise ValueError(f"inputs {tuple(inputs.shape)} and targets {tuple(targets.shape)} must have the same "
                         "batch and grid")
    transpose, flip_x, flip_y = bool(element & 4), bool(element & 2), bool(element & 1)
    if transpose and inputs.shape[-1] != inputs.shape[-2]:
        raise ValueError(f"a transpose needs a square grid, got {tuple(inputs.shape[-2:])}")
    return (_transform_channels(inputs, INPUT_ROLES, transpose, flip_x, flip_y, "inputs"),
            _transform_channels(targets, OUTPUT_ROLES, transpose, flip_x, flip_y, "targets"))


def force_magnitude(inputs: torch.Tensor) -> torch.Tensor:
    """Largest body-force magnitude of each sample, ``(batch, 1, 1, 1)``, from channels f_x, f_y.

    ``inputs`` is ``(batch, channel >= 2, nx, ny)``; a force-free sample counts as magnitude
    1e-12, so that dividing by it stays finite.
    """
    checks.finite_tensor(inputs, "inputs")
    if inputs.dim() != 4 or inputs.shape[1] < 2 or not inputs.numel():
        raise ValueError(f"inputs must be shaped (batch, channel >= 2, nx, ny), got {tuple(inputs.shape)}")
    return torch.linalg.vector_norm(inputs[:, :2], dim=1).amax(dim=(1, 2), keepdim=True)[:, None].clamp_min(1e-12)
