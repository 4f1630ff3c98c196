"""The heat equation on a periodic grid with one transport coefficient ``alpha``.

Sign convention (used everywhere in physdl)::

    du/dt = alpha * L u,      L = -lap_h,

where ``lap_h`` is the five-point (in 2D) periodic laplacian of :func:`physdl.ops.laplacian`,
so ``L`` is positive semi-definite with eigenvalues ``lambda_k`` in ``[0, 4 d / dx^2]``.
Then ``alpha = -D < 0`` is diffusion (smoothing) and ``alpha = kappa > 0`` is mobility
(anti-diffusion, sharpening), the labels of Hovad's SAFE-PIT-CM paper. A forward Euler step
multiplies mode ``k`` by ``1 + dt alpha lambda_k``; it is stable (von Neumann) only for
``alpha <= 0`` and ``dt |alpha| lambda_max <= 2``. Mobility is therefore never integrated
forwards: a mobility sequence is a diffusion sequence read backwards in time.

Steppers: :class:`HeatEuler` (forward Euler) and :class:`HeatSpectral` (exact in time), on
fields ``(batch, 1, *space)``; ``dx`` is the grid spacing (length),
``dt`` the time step (time), ``alpha`` a number or a tensor broadcasting against the leading
axes (length^2 / time).
"""

from __future__ import annotations

import math

import torch

from physdl.config import generator_device
from physdl.ops.checks import check_grid_shape, check_int, check_tensor, finite_tensor
from physdl.ops.grid import Grid, finite_float, positive_float
from physdl.ops.stencils import laplacian
from physdl.ops.symbols import laplacian_symbol
from physdl.ops.transport import periodic_distance
from physdl.pde.stepper import Stepper, as_dt


def max_eigenvalue(dx: float, dims: int = 2) -> float:
    """Largest eigenvalue ``4 d / dx^2`` of ``L = -lap_h`` on a periodic grid (1 / length^2).

    Used in :ref:`05-safe-von-neumann-stability-of-the-frozen-operator`.
    """
    dx, dims = positive_float(dx, "dx"), check_int(dims, "dims", 1, 3)
    return 4 * dims / dx**2


def von_neumann_number(alpha: float, dt: float, dx: float, dims: int = 2) -> float:
    """``sigma = dt |alpha| lambda_max``; forward Euler diffusion is stable for ``sigma <= 2``."""
    return positive_float(dt, "dt") * abs(finite_float(alpha, "alpha")) * max_eigenvalue(dx, dims)


def von_neumann_limit(dt: float, dx: float, dims: int = 2) -> float:
    """The largest ``|alpha|`` a diffusion step of size ``dt`` can take: ``2 / (dt lambda_max)``.

    Used in :ref:`05-safe-the-data`.
    """
    return 2 / (positive_float(dt, "dt") * max_eigenvalue(dx, dims))


def check_stability(alpha: float, dt: float, dx: float, dims: int = 2) -> None:
    """Raise ``ValueError`` unless a forward Euler run with these settings is stable.

    Stable means diffusion (``alpha <= 0``) within the von Neumann bound
    ``dt |alpha| 4 d / dx^2 <= 2``. Positive ``alpha`` (mobility) is unstable at any ``dt``.
    ``dt`` and ``dx`` must be positive and finite, ``alpha`` finite (``ValueError`` naming the
    argument otherwise).
    """
    alpha = finite_float(alpha, "alpha")
    dt, dx = positive_float(dt, "dt"), positive_float(dx, "dx")
    if alpha > 0:
        raise ValueError(
            f"alpha = {alpha} > 0 is mobility (anti-diffusion): forward Euler amplifies every "
            "non-constant mode at any time step. Simulate the diffusion run with -alpha and "
            "reverse it in time (physdl.pde.heat.time_reversed)."
        )
    sigma = von_neumann_number(alpha, dt, dx, dims)
    if sigma > 2:
        raise ValueError(
            f"unstable time step: dt |alpha| lambda_max = {dt} * {abs(alpha)} * {max_eigenvalue(dx, dims):g} "
            f"= {sigma:.3g} exceeds the von Neumann bound 2 (lambda_max = 4 d / dx^2); use "
            f"dt <= {2 / (abs(alpha) * max_eigenvalue(dx, dims)):.3g} or |alpha| <= {von_neumann_limit(dt, dx, dims):.3g}"
        )


def _coefficient(alpha: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """``alpha`` as a number or a tensor broadcasting against ``(batch, 1, *space)``."""
    if isinstance(alpha, torch.Tensor) and alpha.dim() > 0:
        return alpha.reshape(-1, *[1] * (dims + 1))
    return alpha


def _alpha_values(alpha: float | torch.Tensor) -> torch.Tensor:
    return alpha.detach().reshape(-1) if isinstance(alpha, torch.Tensor) else torch.tensor([float(alpha)], device="cpu")


class _HeatStepper(Stepper):
    channels = 1

    def __init__(self, grid: Grid, dt: float, alpha: float | torch.Tensor, check: bool = True) -> None:
        if not grid.periodic:
            raise ValueError("the heat steppers work on periodic grids")
        self.grid, self.dt = grid, as_dt(dt)
        alpha = check_tensor(alpha, "alpha") if isinstance(alpha, torch.Tensor) and alpha.dim() else \
            finite_float(alpha, "alpha")
        values = _alpha_values(alpha)
        if not bool(torch.isfinite(values).all()):
            raise ValueError("alpha contains NaN or infinite values")
        self.alpha = _coefficient(alpha, grid.dims)
        self.recheck_time_step = isinstance(alpha, torch.Tensor) and alpha.requires_grad
        if check:
            self.check_time_step()

    def check_time_step(self, state: torch.Tensor | None = None) -> None:
        if bool((_alpha_values(self.alpha) > 0).any()):
            raise ValueError(
                "alpha > 0 is mobility (anti-diffusion), which amplifies every non-constant mode at any "
                "time step; simulate the diffusion run with -alpha and reverse it in time "
                "(physdl.pde.heat.time_reversed)")
        super().check_time_step(state)

    def per_sample(self) -> dict[str, torch.Tensor]:
        return {"alpha": self.alpha} if isinstance(self.alpha, torch.Tensor) and self.alpha.dim() else {}


class HeatEuler(_HeatStepper):
    """Forward Euler step ``u + dt alpha L u`` (``L = -lap_h``) on a periodic grid.

    Args:
        grid: periodic grid, 1 to 3 axes (isotropic spacing).
        dt: time step (time units).
        alpha: ``<= 0`` (diffusion, length^2 / time); a number or one value per sample.
        check: check the von Neumann bound ``dt |alpha| 4 d / dx^2 <= 2`` and the sign of
            ``alpha`` (``False`` for frozen operators that run any ``alpha``, as SAFE's).
    """

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        largest = float(_alpha_values(self.alpha).abs().max())
        return 2 / (largest * max_eigenvalue(self.grid.dx, self.grid.dims)) if largest > 0 else None

    def limit_description(self) -> str:
        return "von Neumann: dt |alpha| 4 d / dx^2 <= 2"

    def step(self, state: torch.Tensor) -> torch.Tensor:
        return state - self.dt * self.alpha * laplacian(state, self.grid.dx)


class HeatSpectral(_HeatStepper):
    """Exact step of the semi-discrete equation ``du/dt = alpha L u``: mode ``k`` times ``exp(dt alpha lambda_k)``.

    Unconditionally stable for ``alpha <= 0``; the spatial error is that of the five-point
    laplacian, the time integration is exact. Arguments as for :class:`HeatEuler`.
    """

    def __init__(self, grid: Grid, dt: float, alpha: float | torch.Tensor, check: bool = True) -> None:
        super().__init__(grid, dt, alpha, check)
        lam = -laplacian_symbol(grid.shape, grid.dx, dtype=torch.float64)
        self._lam = lam[..., : grid.shape[-1] // 2 + 1].contiguous()
        self._moved: dict[tuple, torch.Tensor] = {}  # (device, dtype) -> the symbol there

    def step(self, state: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, state.dim()))
        key = (state.device, state.dtype)
        if key not in self._moved:  # copied to a device once, not at every step
            self._moved[key] = self._lam.to(state.device, state.dtype)
        lam = self._moved[key]
        gain = torch.exp(self.dt * self.alpha * lam)
        return torch.fft.irfftn(torch.fft.rfftn(state, dim=dims) * gain, s=self.grid.shape, dim=dims)


def time_reversed(frames: torch.Tensor) -> torch.Tensor:
    """Frames ``(..., time, nx, ny)`` in reverse order: a diffusion run becomes a mobility run."""
    frames = finite_tensor(frames, "frames")
    if frames.dim() < 3:
        raise ValueError(f"frames must be shaped (..., time, nx, ny), got {tuple(frames.shape)}")
    return frames.flip(-3)


def euler_multiplier(alpha: torch.Tensor | float, dt: float, dx: float, shape: tuple[int, int],
                     substeps: int = 1, dtype: torch.dtype = torch.float32, device="cpu") -> torch.Tensor:
    """Fourier multiplier ``(1 + dt alpha lambda_k)^substeps`` of ``substeps`` Euler steps.

    Laid out for ``torch.fft.rfft2`` of a field shaped ``shape``: the result is
    ``(*alpha.shape, nx, ny // 2 + 1)`` on ``device`` (on ``alpha``'s device for a tensor). Exactly equal (up to rounding) to ``substeps``
    calls of :func:`euler_step`, at any ``dt``, stable or not.
    """
    if isinstance(alpha, torch.Tensor) and alpha.dim():
        alpha = finite_tensor(alpha, "alpha")
    else:
        alpha = finite_float(alpha, "alpha")
    dt, substeps = positive_float(dt, "dt"), check_int(substeps, "substeps", 1)
    shape = check_grid_shape(shape, "shape", dims=(2,))
    if isinstance(alpha, torch.Tensor):
        device = alpha.device  # a tensor alpha decides where the multiplier lives
    lam = -laplacian_symbol(shape, dx, dtype=dtype, device=device)[..., : shape[-1] // 2 + 1]
    alpha = torch.as_tensor(alpha, dtype=dtype, device=lam.device)
    growth = 1 + dt * alpha.reshape(*alpha.shape, 1, 1) * lam
    return growth ** substeps


def voronoi_grains(n: int, dx: float, grains: int, width: float = 2.5, roughness: float = 0.5,
                   roughness_modes: int = 6, generator: torch.Generator | None = None,
                   dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A periodic Voronoi microstructure with smooth, rough grain boundaries, ``(n, n)``.

    Grain centres are uniform on the periodic square of side ``n dx``. At each node, with
    ``d1 <= d2`` the (periodic) distances to the two nearest centres,
    ``u = (1 + tanh((d2 - d1) / width)) / 2``: about 1 inside a grain, 1/2 on its boundary.
    The distances are measured from a warped position ``x + xi(x)``, where ``xi`` is a smooth
    periodic random displacement (Fourier modes up to ``roughness_modes``, standard deviation
    ``roughness`` in length units per axis), so the boundaries wander with position while
    ``u`` stays in ``[1/2, 1)``.

    Args:
        n: nodes per side; dx: grid spacing (length).
        grains: number of grain centres (at least 2).
        width: interface width (length).
        roughness, roughness_modes: amplitude (length) and largest wavenumber index of ``xi``.
        generator: torch random generator for reproducibility.
    """
    n, dx, grains = check_int(n, "n", 2), positive_float(dx, "dx"), check_int(grains, "grains", 2)
    width, roughness_modes = positive_float(width, "width"), check_int(roughness_modes, "roughness_modes", 1)
    roughness = finite_float(roughness, "roughness")
    if roughness < 0:
        raise ValueError(f"roughness must be non-negative, got {roughness}")
    size = n * dx
    device = generator_device(generator)
    coords = torch.arange(n, dtype=dtype, device=device) * dx
    x0, y0 = torch.meshgrid(coords, coords, indexing="ij")
    centres = torch.rand(grains, 2, generator=generator, dtype=dtype, device=device) * size
    x = x0 + _periodic_noise(x0, y0, size, roughness, roughness_modes, generator, dtype)
    y = y0 + _periodic_noise(x0, y0, size, roughness, roughness_modes, generator, dtype)
    ddx = periodic_distance(x[None], centres[:, 0, None, None], size)
    ddy = periodic_distance(y[None], centres[:, 1, None, None], size)
    dist = torch.sqrt(ddx**2 + ddy**2)
    nearest = dist.topk(2, dim=0, largest=False).values
    return 0.5 * (1 + torch.tanh((nearest[1] - nearest[0]) / width))


def _periodic_noise(x: torch.Tensor, y: torch.Tensor, size: float, amplitude: float, modes: int,
                    generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
    """Smooth periodic random field with standard deviation ``amplitude``."""
    field = torch.zeros_like(x)
    if amplitude == 0 or modes < 1:
        return field
    count = 0
    for kx in range(-modes, modes + 1):
        for ky in range(0, modes + 1):
            if (ky == 0 and kx <= 0) or kx * kx + ky * ky > modes * modes:
                continue
            a, b = torch.randn(2, generator=generator, dtype=dtype, device=x.device)
            phase = 2 * math.pi * (kx * x + ky * y) / size
            field = field + a * torch.cos(phase) + b * torch.sin(phase)
            count += 1
    return amplitude * field / math.sqrt(count)
