"""Steady incompressible Stokes flow around obstacles, by Brinkman penalisation.

On the periodic box ``[0, Lx) x [0, Ly)`` the velocity ``u`` and pressure ``p`` solve

    -nu lap(u) + grad(p) + K(x) u = f,      div(u) = 0,

with ``K = penalty * mask``: where ``mask = 1`` the medium is a nearly impermeable porous
solid (permeability ``nu / penalty``), so the flow goes around it; ``mask = 0`` is fluid.
This is the Brinkman penalisation of no-slip obstacles (Angot, Bruneau and Fabrie 1999); its
error at the wall scales like ``sqrt(nu / penalty)``.

Discretisation: a staggered (MAC) grid. Pressure and mask live at the nodes ``x_i = i dx``;
``u_x[i, j]`` lives on the face half a cell to the right of node ``(i, j)`` and ``u_y[i, j]``
half a cell above it (so do the components of ``f``). The pressure gradient is the forward
difference and the divergence the backward difference of :mod:`physdl.ops`, whose product
is the compact laplacian: this pairing has no checkerboard pressure modes, unlike central
differences on a collocated grid. The mask is averaged onto the faces. The velocity is
sought in the space of discretely divergence-free fields (Leray projection through the
Fourier symbols of the stencils), where ``P(-nu lap + K)`` is symmetric positive definite, so
preconditioned conjugate gradients converge; the pressure follows from the projected-out
part of ``f - K u``. All samples of a batch are solved at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from physdl.config import generator_device
from physdl.ops.checks import check_dtype, check_int, field_dims, finite_tensor
from physdl.ops.grid import as_spacing, finite_float, positive_float
from physdl.ops.symbols import gradient_symbol, laplacian_symbol


class StokesSolution(NamedTuple):
    """Result of :func:`solve_stokes`.

    Attributes:
        pressure: ``(batch, 1, nx, ny)`` at the nodes, zero mean.
        velocity: ``(batch, 2, nx, ny)``, components ``(u_x, u_y)`` on their faces.
        iterations: conjugate-gradient iterations used.
        residual: largest relative residual ``||A u - P f|| / ||P f||`` over the batch.
    """

    pressure: torch.Tensor
    velocity: torch.Tensor
    iterations: int
    residual: float


def _check_inputs(force: torch.Tensor, mask: torch.Tensor) -> None:
    for name, value in (("force", force), ("mask", mask)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not force.is_floating_point():
        raise TypeError(f"force must be a float32 or float64 tensor, got {force.dtype}")
    if force.dim() != 4 or force.shape[1] != 2 or force.shape[0] == 0:
        raise ValueError(f"force must be shaped (batch, 2, nx, ny), got {tuple(force.shape)}")
    if mask.shape != (force.shape[0], 1, *force.shape[2:]):
        raise ValueError(
            f"mask must be shaped (batch, 1, nx, ny) = {(force.shape[0], 1, *force.shape[2:])}, "
            f"got {tuple(mask.shape)}"
        )
    if not bool(torch.isfinite(force).all()):
        raise ValueError("force contains NaN or infinite values")
    if not bool(torch.isfinite(mask).all()) or torch.any(mask < 0) or torch.any(mask > 1):
        raise ValueError("mask values must lie in [0, 1] (0 fluid, 1 solid)")
    no_solid = mask.flatten(1).amax(dim=1) == 0
    mean_force = force.mean(dim=(2, 3)).abs().amax(dim=1)
    if torch.any(no_solid & (mean_force > 1e-12 * force.abs().amax().clamp_min(1e-30))):
        raise ValueError(
            "a sample without any obstacle has a non-zero mean force: on a periodic box the flow "
            "would accelerate for ever; add an obstacle or remove the mean of the force"
        )


def solve_stokes(
    force: torch.Tensor,
    mask: torch.Tensor,
    dx: float | tuple[float, float],
    nu: float = 1.0,
    penalty: float = 1e6,
    tol: float = 1e-8,
    max_iter: int = 5000,
) -> StokesSolution:
    """Solve the Brinkman-penalised Stokes problem on a periodic grid.

    Args:
        force: body force per unit mass ``(batch, 2, nx, ny)`` (length / time^2), each
            component on its face.
        mask: solid fraction ``(batch, 1, nx, ny)`` in [0, 1], at the nodes.
        dx: grid spacing (length), one value or ``(dx, dy)``.
        nu: kinematic viscosity (length^2 / time), positive.
        penalty: ``K`` in the solid (1 / time), positive; larger is closer to no-slip.
        tol: relative residual at which conjugate gradients stop.
        max_iter: iteration cap; exceeding it raises ``RuntimeError``.

    Returns:
        :class:`StokesSolution` in the dtype and on the device of ``force``.

    Explained in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    _check_inputs(force, mask)
    nu, penalty, tol = positive_float(nu, "nu"), positive_float(penalty, "penalty"), positive_float(tol, "tol")
    dx = as_spacing(dx, 2)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not tol < 1:
        raise ValueError(f"tol must lie in (0, 1), got {tol}")
    floor = 10 * torch.finfo(force.dtype).eps
    if tol < floor:
        raise ValueError(f"tol = {tol:g} is below what {force.dtype} can resolve (about {floor:.1g}): "
                         f"pass float64 force and mask, or tol >= {floor:.1g}")
    shape = tuple(force.shape[2:])
    real, dev = force.dtype, force.device
    lap = laplacian_symbol(shape, dx, dtype=real, device=dev)  # (nx, ny), <= 0
    grad = gradient_symbol(shape, dx, scheme="forward", dtype=real, device=dev)  # (2, nx, ny)
    div = gradient_symbol(shape, dx, scheme="backward", dtype=real, device=dev)  # (2, nx, ny)
    div_grad = (div * grad).sum(dim=0).real  # = lap, zero only at k = 0
    blind = div_grad.abs() <= 1e-12 * div_grad.abs().max()
    safe = torch.where(blind, torch.ones_like(div_grad), div_grad)
    K = penalty * face_average(mask.to(real))  # (batch, 2, nx, ny)
    fft = lambda v: torch.fft.fft2(v)  # noqa: E731
    ifft = lambda v: torch.fft.ifft2(v).real  # noqa: E731

    def solve_pressure_hat(vh: torch.Tensor) -> torch.Tensor:
        """Fourier coefficients of q with lap q = div v (zero mean)."""
        d = (div * vh).sum(dim=1, keepdim=True)
        return torch.where(blind, torch.zeros_like(d), d / safe)

    def project_hat(vh: torch.Tensor) -> torch.Tensor:
        return vh - grad * solve_pressure_hat(vh)

    def apply_A(v: torch.Tensor) -> torch.Tensor:
        vh = fft(v)
        return ifft(project_hat(-nu * lap * vh + fft(K * v)))

    shift = K.mean(dim=(1, 2, 3), keepdim=True)  # mean penalty, for the preconditioner
    denom = nu * (-lap) + shift
    denom = torch.where(denom == 0, torch.ones_like(denom), denom)

    def precondition(r: torch.Tensor) -> torch.Tensor:
        return ifft(project_hat(fft(r) / denom))

    def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a * b).sum(dim=(1, 2, 3), keepdim=True)

    b = ifft(project_hat(fft(force)))
    b_norm = dot(b, b).sqrt()
    scale = torch.where(b_norm == 0, torch.ones_like(b_norm), b_norm)
    u = torch.zeros_like(force)
    r = b.clone()
    z = precondition(r)
    p = z.clone()
    rz = dot(r, z)
    it, rel = 0, float((dot(r, r).sqrt() / scale).max())
    while rel > tol:
        if it >= max_iter:
            raise RuntimeError(
                f"conjugate gradients did not reach tol={tol} in {max_iter} iterations "
                f"(relative residual {rel:.2e}); raise max_iter or lower the penalty"
            )
        Ap = apply_A(p)
        pAp = dot(p, Ap)
        alpha = torch.where(pAp > 0, rz / torch.where(pAp > 0, pAp, torch.ones_like(pAp)), torch.zeros_like(pAp))
        u = u + alpha * p
        r = r - alpha * Ap
        z = precondition(r)
        rz_new = dot(r, z)
        beta = torch.where(rz > 0, rz_new / torch.where(rz > 0, rz, torch.ones_like(rz)), torch.zeros_like(rz))
        p = z + beta * p
        rz = rz_new
        it += 1
        rel = float((dot(r, r).sqrt() / scale).max())
        if not math.isfinite(rel):
            raise RuntimeError(f"conjugate gradients broke down at iteration {it} (residual {rel}); "
                               "check the penalty and the mask")
    pressure = ifft(solve_pressure_hat(fft(force - K * u)))
    return StokesSolution(pressure, u, it, rel)


def face_average(mask: torch.Tensor) -> torch.Tensor:
    """Node values ``(batch, 1, nx, ny)`` averaged onto the x- and y-faces, ``(batch, 2, nx, ny)``.

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    _check_plane_field(mask, "mask", 1)
    mx = 0.5 * (mask + torch.roll(mask, -1, dims=2))
    my = 0.5 * (mask + torch.roll(mask, -1, dims=3))
    return torch.cat([mx, my], dim=1)


def velocity_at_nodes(velocity: torch.Tensor) -> torch.Tensor:
    """Face velocities ``(batch, 2, nx, ny)`` averaged back onto the pressure nodes."""
    _check_plane_field(velocity, "velocity", 2)
    ux = 0.5 * (velocity[:, :1] + torch.roll(velocity[:, :1], 1, dims=2))
    uy = 0.5 * (velocity[:, 1:] + torch.roll(velocity[:, 1:], 1, dims=3))
    return torch.cat([ux, uy], dim=1)


def _check_plane_field(x: object, name: str, channels: int) -> None:
    """``x`` must be a finite field ``(batch, channels, nx, ny)``; ``TypeError`` / ``ValueError`` naming ``name``."""
    field_dims(x, name, (2,))
    if x.shape[1] != channels:
        raise ValueError(f"{name} must be shaped (batch, {channels}, nx, ny), got {tuple(x.shape)}")


def _pair(x: object, name: str, convert) -> tuple:
    """A ``(min, max)`` pair with ``min <= max``, each converted by ``convert(value, name)``."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__") or len(x) != 2:
        raise TypeError(f"{name} must be a pair (min, max), got {x!r}")
    lo, hi = convert(x[0], name), convert(x[1], name)
    if not lo <= hi:
        raise ValueError(f"{name} must satisfy min <= max, got {tuple(x)}")
    return lo, hi


def _periodic_distance(x: torch.Tensor, c: torch.Tensor, length: float) -> torch.Tensor:
    d = (x - c).abs()
    return torch.minimum(d, length - d)


def random_obstacles(
    batch: int,
    n: int,
    count: tuple[int, int] = (1, 4),
    radius: tuple[float, float] = (0.06, 0.16),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    edge: float = 0.0,
) -> torch.Tensor:
    """Random discs on the periodic unit square, as a solid mask ``(batch, 1, n, n)``.

    Each sample holds between ``count[0]`` and ``count[1]`` discs (inclusive) with radii
    drawn uniformly from ``radius`` (fractions of the box side); discs may overlap.
    Node ``i`` sits at ``x = i / n``. ``edge = 0`` gives a binary mask; ``edge > 0`` ramps
    the mask linearly from 1 to 0 over ``edge`` grid cells across each disc's rim
    (anti-aliasing), so the obstacle's shape is not rounded to whole cells.

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    edge = finite_float(edge, "edge")
    if edge < 0:
        raise ValueError(f"edge must be non-negative (grid cells), got {edge}")
    batch, n, dtype = check_int(batch, "batch", 1), check_int(n, "n", 4), check_dtype(dtype)
    lo, hi = _pair(count, "count", lambda v, name: check_int(v, name, 1))
    radius = _pair(radius, "radius", positive_float)
    if not radius[1] < 0.5:
        raise ValueError(f"radius must satisfy 0 < min <= max < 0.5 (fractions of the box), got {radius}")
    device = generator_device(generator)  # made where the generator draws (the CPU for a CPU one)
    x = torch.arange(n, dtype=dtype, device=device) / n
    X, Y = torch.meshgrid(x, x, indexing="ij")
    mask = torch.zeros(batch, 1, n, n, dtype=dtype, device=device)
    k = torch.randint(lo, hi + 1, (batch,), generator=generator, device=device)
    centres = torch.rand(batch, hi, 2, generator=generator, dtype=dtype, device=device)
    radii = radius[0] + (radius[1] - radius[0]) * torch.rand(batch, hi, generator=generator, dtype=dtype,
                                                             device=device)
    for j in range(hi):
        active = (j < k).to(dtype)[:, None, None]
        dist = torch.hypot(
            _periodic_distance(X, centres[:, j, 0, None, None], 1.0),
            _periodic_distance(Y, centres[:, j, 1, None, None], 1.0),
        )
        if edge > 0:
            disc = ((radii[:, j, None, None] - dist) * n / edge + 0.5).clamp(0, 1) * active
        else:
            disc = (dist <= radii[:, j, None, None]).to(dtype) * active
        mask[:, 0] = torch.maximum(mask[:, 0], disc)
    return mask


def random_forces(
    batch: int,
    n: int,
    magnitude: tuple[float, float] = (0.5, 1.5),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Uniform body forces of random direction and magnitude, ``(batch, 2, n, n)``.

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    batch, n, dtype = check_int(batch, "batch", 1), check_int(n, "n", 1), check_dtype(dtype)
    magnitude = _pair(magnitude, "magnitude", finite_float)
    if not magnitude[0] >= 0:
        raise ValueError(f"magnitude must satisfy 0 <= min <= max, got {magnitude}")
    device = generator_device(generator)
    angle = 2 * math.pi * torch.rand(batch, generator=generator, dtype=dtype, device=device)
    size = magnitude[0] + (magnitude[1] - magnitude[0]) * torch.rand(batch, generator=generator, dtype=dtype,
                                                                     device=device)
    f = torch.stack([size * torch.cos(angle), size * torch.sin(angle)], dim=1)
    return f[:, :, None, None].expand(batch, 2, n, n).contiguous()


def poiseuille_profile(y: torch.Tensor, half_width: float, centre: float, force: float, nu: float) -> torch.Tensor:
    """Plane Poiseuille velocity ``f / (2 nu) (h^2 - (y - y_c)^2)`` inside the gap, 0 outside.

    Args:
        y: positions across the channel (length), any shape.
        half_width: ``h``, half the gap (length), positive; centre: ``y_c`` (length).
        force: ``f``, body force per unit mass along the channel (length / time^2).
        nu: kinematic viscosity (length^2 / time), positive.

    Returns:
        The velocity along the channel (length / time), shaped like ``y``.

    Used in :ref:`01-surrogates-the-solver-stokes-flow-around-obstacles`.
    """
    y = finite_tensor(y, "y")
    half_width, nu = positive_float(half_width, "half_width"), positive_float(nu, "nu")
    centre, force = finite_float(centre, "centre"), finite_float(force, "force")
    s = half_width**2 - (y - centre) ** 2
    return force / (2 * nu) * s.clamp_min(0)
