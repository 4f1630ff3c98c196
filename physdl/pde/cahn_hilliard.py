"""Cahn-Hilliard equation on periodic 2D and 3D grids: spinodal decomposition and coarsening.

The model is the one of Lanzoni et al. (2024)::

    F[phi] = integral of g(phi) + (epsilon / 2) |grad phi|^2,
    g(phi) = (18 / epsilon) phi^2 (1 - phi)^2,
    mu = g'(phi) - epsilon lap(phi),
    d phi / dt = M lap(mu).

Lengths are in grid units (``dx`` explicit, 1 by default), so ``epsilon = 3`` means an
interface about three cells wide. The two pure phases are ``phi = 0`` and ``phi = 1``.

Two time steppers solve the same discrete equation (the compact finite-difference
laplacian, or equivalently its Fourier symbol):

- :func:`explicit_step`, forward Euler, as the paper generates its data. Stable only for
  ``dt`` below :func:`stability_limit` (``1.25e-3`` in the paper, limit about ``3.5e-3`` in 3D).
- :class:`ExplicitStepper` wraps it as a :class:`~physdl.pde.stepper.Stepper`.
- :class:`SemiImplicitStepper`, the linear fourth-order term implicit in Fourier space and
  the nonlinear term explicit (Chen and Shen, 1998), with an optional stabilising term. It is
  stable at any ``dt``, but its error grows with ``dt``.

Fields are shaped ``(batch, 1, *space)``; stacked frames ``(batch, time, 1, *space)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from physdl.config import generator_device
from physdl.ops import laplacian, laplacian_symbol
from physdl.ops.checks import (check_axis, check_choice, check_dtype, check_generator, check_grid_shape, check_int, field_dims,
                               finite_tensor)
from physdl.ops.grid import Grid, finite_float, positive_float
from physdl.ops.transport import gradient_energy
from physdl.pde.stepper import Stepper, Substepped, Switched, as_dt, rollout

METHODS = ("explicit", "semi-implicit")


@dataclass(frozen=True)
class CahnHilliard:
    """Parameters of the model.

    Attributes:
        epsilon: interface parameter (length, grid units when ``dx = 1``); sets the gradient
            energy and the height ``18 / epsilon`` of the double well.
        mobility: ``M`` (length^2 per energy per time).
        dx: grid spacing (length).

    Used in :ref:`07-crnn-cahn-hilliard-flow`.
    """

    epsilon: float = 3.0
    mobility: float = 1.0
    dx: float = 1.0

    def __post_init__(self) -> None:
        for name in ("epsilon", "mobility", "dx"):  # numbers, NumPy scalars or 0-d tensors
            object.__setattr__(self, name, positive_float(getattr(self, name), f"CahnHilliard.{name}"))


def _check_model(model: object) -> CahnHilliard:
    if not isinstance(model, CahnHilliard):
        raise TypeError(f"model must be a CahnHilliard, got {type(model).__name__}")
    return model


def _check_field(phi: object, name: str = "phi") -> int:
    """Spatial axes (2 or 3) of a finite one-channel field ``(batch, 1, *space)``."""
    d = field_dims(phi, name, dims=(2, 3))
    if phi.shape[1] != 1:
        raise ValueError(f"{name} must have one channel, shaped (batch, 1, *space); got {tuple(phi.shape)}")
    return d


def bulk_energy(phi: torch.Tensor, epsilon: float = 3.0) -> torch.Tensor:
    """Double well ``g(phi) = (18 / epsilon) phi^2 (1 - phi)^2`` (energy per volume), elementwise."""
    phi, epsilon = finite_tensor(phi, "phi"), positive_float(epsilon, "epsilon")
    return (18.0 / epsilon) * phi**2 * (1 - phi) ** 2


def bulk_derivative(phi: torch.Tensor, epsilon: float = 3.0) -> torch.Tensor:
    """``g'(phi) = (36 / epsilon) phi (1 - phi) (1 - 2 phi)``, elementwise."""
    phi, epsilon = finite_tensor(phi, "phi"), positive_float(epsilon, "epsilon")
    return (36.0 / epsilon) * phi * (1 - phi) * (1 - 2 * phi)


def chemical_potential(phi: torch.Tensor, model: CahnHilliard = CahnHilliard()) -> torch.Tensor:
    """``mu = g'(phi) - epsilon lap(phi)``, shaped like ``phi`` ``(batch, 1, *space)``."""
    _check_field(phi)
    model = _check_model(model)
    return bulk_derivative(phi, model.epsilon) - model.epsilon * laplacian(phi, model.dx)


def free_energy(phi: torch.Tensor, model: CahnHilliard = CahnHilliard(), density: bool = True) -> torch.Tensor:
    """Discrete free energy of each sample.

    The gradient term uses forward differences, the pair of the compact laplacian, so that
    ``dF/dphi = dx^d * mu`` exactly on the grid.

    Args:
        phi: ``(batch, 1, *space)`` or stacked frames ``(batch, time, 1, *space)``.
        model: the parameters.
        density: return ``F / V`` (energy per volume, the paper's F/N) instead of ``F``.

    Returns:
        ``(batch,)`` or ``(batch, time)``.

    Used in :ref:`07-crnn-cahn-hilliard-flow`.
    """
    model = _check_model(model)
    if not isinstance(density, bool):
        raise TypeError(f"density must be True or False, got {density!r}")
    stacked = isinstance(phi, torch.Tensor) and phi.dim() >= 5 and phi.shape[2] == 1 and phi.dim() - 3 in (2, 3)
    if stacked:
        b, t = phi.shape[:2]
        return free_energy(phi.flatten(0, 1), model, density).reshape(b, t)
    d = _check_field(phi)
    density_field = bulk_energy(phi, model.epsilon) + model.epsilon * gradient_energy(phi, model.dx)
    mean = density_field.flatten(1).mean(dim=1)
    if density:
        return mean
    return mean * phi[0, 0].numel() * model.dx**d


def stability_limit(model: CahnHilliard = CahnHilliard(), dims: int = 3) -> float:
    """Largest stable forward-Euler step (time units) for ``phi`` within ``[0, 1]``.

    Linearising about a state with curvature ``g''`` gives the Fourier factor
    ``1 - dt M (epsilon lambda^2 + g'' lambda)`` with ``lambda`` the magnitude of the
    laplacian symbol, at most ``4 dims / dx^2``. On ``[0, 1]``, ``g''`` is at most
    ``36 / epsilon`` (at the pure phases), so the factor stays in ``[-1, 1]`` when
    ``dt <= 2 / (M (epsilon lambda_max^2 + (36 / epsilon) lambda_max))``.

    Used in :ref:`07-crnn-cahn-hilliard-flow`.
    """
    model, dims = _check_model(model), check_int(dims, "dims", 2, 3)
    lam = 4 * dims / model.dx**2
    return 2.0 / (model.mobility * (model.epsilon * lam**2 + 36.0 / model.epsilon * lam))


def check_stability(dt: float, model: CahnHilliard = CahnHilliard(), dims: int = 3) -> None:
    """Raise ``ValueError`` naming the bound when ``dt`` breaks :func:`stability_limit`."""
    dt = as_dt(dt)
    limit = stability_limit(model, dims)
    if dt > limit:
        raise ValueError(
            f"dt = {dt:g} breaks the explicit Cahn-Hilliard stability limit {limit:.4g} "
            f"(2 / (M (epsilon lambda^2 + 36/epsilon lambda)), lambda = {4 * dims}/dx^2, "
            f"M = {model.mobility:g}, epsilon = {model.epsilon:g}, dx = {model.dx:g}); "
            f"use dt <= {limit:.4g} or the semi-implicit solver"
        )


def _grid_for(grid: Grid | Sequence[int], model: CahnHilliard) -> Grid:
    """The stepper's grid: a :class:`Grid` whose spacing must be ``model.dx``, or a shape."""
    model = _check_model(model)
    if not isinstance(grid, Grid):
        return Grid(check_grid_shape(grid, "grid", dims=(2, 3)), model.dx)
    if grid.dims not in (2, 3) or not grid.periodic:
        raise ValueError(f"the Cahn-Hilliard steppers need a periodic 2D or 3D grid, got {grid}")
    if any(abs(h - model.dx) > 1e-12 * model.dx for h in grid.spacing):
        raise ValueError(f"the grid spacing {grid.spacing} differs from the model's dx = {model.dx}")
    return grid


def _periodic_laplacian(u: torch.Tensor, dims: int, inverse_dx2: float) -> torch.Tensor:
    """The compact laplacian of :func:`physdl.ops.laplacian` on a periodic grid with one spacing,
    summed as ``(sum of the 2 d neighbours - 2 d u) / dx^2``: about half the tensor passes of the
    general stencil, which the explicit solver's many small steps feel."""
    total = -2 * dims * u
    for axis in range(2, 2 + dims):
        total = total + u.roll(1, axis) + u.roll(-1, axis)
    return total * inverse_dx2


def _explicit_update(phi: torch.Tensor, dt_mobility: float, epsilon: float, inverse_dx2: float) -> torch.Tensor:
    """``phi + dt M lap(mu)`` with ``mu = g'(phi) - epsilon lap(phi)``, unchecked: the kernel of
    :func:`explicit_step` and of :class:`ExplicitStepper` (which may compile it)."""
    dims = phi.dim() - 2
    mu = (36.0 / epsilon) * phi * (1 - phi) * (1 - 2 * phi) - epsilon * _periodic_laplacian(phi, dims, inverse_dx2)
    return phi + dt_mobility * _periodic_laplacian(mu, dims, inverse_dx2)


def explicit_step(phi: torch.Tensor, dt: float, model: CahnHilliard = CahnHilliard()) -> torch.Tensor:
    """One forward-Euler step ``phi + dt M lap(mu)``; conserves the mean of ``phi`` exactly.

    The caller is responsible for ``dt`` (see :func:`check_stability`); :class:`ExplicitStepper`
    checks it once when it is made. ``phi`` is ``(batch, 1, *space)``, 2D or 3D. The result
    equals ``phi + dt M laplacian(chemical_potential(phi))`` up to rounding (the neighbours are
    summed in another order).
    """
    dt, model = as_dt(dt), _check_model(model)
    _check_field(phi)
    return _explicit_update(phi, dt * model.mobility, model.epsilon, 1.0 / model.dx**2)


class ExplicitStepper(Stepper):
    """Forward Euler, :func:`explicit_step`, as the paper generates its data.

    Args:
        grid: periodic 2D or 3D :class:`Grid` with spacing ``model.dx`` (or its shape).
        dt: time step, at most :func:`stability_limit` (checked here).
        model: the parameters.
        compile: step through ``torch.compile`` of the update, which fuses its dozen-odd tensor
            passes into one loop over the grid per laplacian (on a CPU about seven times faster
            for a ``(16, 1, 32, 32, 32)`` batch, 2 ms a step instead of 15, after a
            compilation of about 10 s; it needs a C++ compiler there). The result equals the
            eager step's up to rounding. Worth it for data generation (millions of steps), not
            for a few hundred.

    Explained in :ref:`07-crnn-cahn-hilliard-flow`.
    """

    channels = 1

    def __init__(self, grid: Grid | Sequence[int], dt: float, model: CahnHilliard = CahnHilliard(),
                 compile: bool = False) -> None:
        self.grid, self.dt, self.model = _grid_for(grid, model), as_dt(dt), model
        if not isinstance(compile, bool):
            raise TypeError(f"compile must be True or False, got {compile!r}")
        self.compile = compile
        self._update = torch.compile(_explicit_update, dynamic=False) if compile else _explicit_update
        self.check_time_step()

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        return stability_limit(self.model, self.grid.dims)

    def limit_description(self) -> str:
        return (f"2 / (M (epsilon lambda^2 + 36/epsilon lambda)), lambda = {4 * self.grid.dims}/dx^2, "
                f"M = {self.model.mobility:g}, epsilon = {self.model.epsilon:g}, dx = {self.model.dx:g}; "
                "or use the semi-implicit stepper")

    def step(self, state: torch.Tensor) -> torch.Tensor:
        _check_field(state, "state")
        return self._update(state, self.dt * self.model.mobility, self.model.epsilon, 1.0 / self.model.dx**2)


class SemiImplicitStepper(Stepper):
    """Semi-implicit Fourier-spectral step on one grid.

    ``(1 + dt M (epsilon L^2 - A L)) phi_new^ = phi^ + dt M L (g'(phi)^ - A phi^)``, with
    ``L`` the symbol of the compact laplacian (so it solves the same discrete equation as
    :func:`explicit_step`) and ``A >= 0`` a stabilising constant (``A = 0``: the classic
    scheme). The mean mode is untouched, so the mean of ``phi`` is conserved. Works in the
    dtype of the field (float32 fields use single-precision FFTs). Stable at any ``dt``.

    Args:
        grid: periodic 2D or 3D :class:`Grid` with spacing ``model.dx``, or its shape.
        dt: time step (time units); any positive value is stable.
        model: the parameters.
        stabilization: ``A`` (energy per volume).

    Explained in :ref:`07-crnn-cahn-hilliard-flow`.
    """

    channels = 1

    def __init__(self, grid: Grid | Sequence[int], dt: float, model: CahnHilliard = CahnHilliard(),
                 stabilization: float = 0.0, device="cpu") -> None:
        self.grid, self.dt, self.model = _grid_for(grid, model), as_dt(dt), model
        stabilization = finite_float(stabilization, "stabilization")
        if stabilization < 0:
            raise ValueError(f"stabilization must be non-negative, got {stabilization}")
        self.shape, self.stabilization = self.grid.shape, stabilization
        # Real FFTs keep half of the last axis.
        sym = laplacian_symbol(self.shape, model.dx, dtype=torch.float64, device=device)
        sym = sym[..., : self.shape[-1] // 2 + 1]
        self._lap = sym
        self._denominator = 1 + self.dt * model.mobility * (model.epsilon * sym**2 - self.stabilization * sym)
        self._moved: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}  # (device, dtype) -> symbols there

    def step(self, state: torch.Tensor) -> torch.Tensor:
        d = _check_field(state, "state")
        if tuple(state.shape[2:]) != self.shape:
            raise ValueError(f"the stepper was built for grid {self.shape}, got a field shaped {tuple(state.shape)}")
        dims = tuple(range(2, 2 + d))
        key = (state.device, state.dtype)
        if key not in self._moved:  # copied to a device once, not at every step
            self._moved[key] = (self._lap.to(state.device, state.dtype), self._denominator.to(state.device, state.dtype))
        lap, den = self._moved[key]
        nonlinear = bulk_derivative(state, self.model.epsilon) - self.stabilization * state
        rhs = torch.fft.rfftn(state, dim=dims) + self.dt * self.model.mobility * lap * torch.fft.rfftn(nonlinear, dim=dims)
        return torch.fft.irfftn(rhs / den, s=self.shape, dim=dims)


def stepper(grid: Grid | Sequence[int], dt: float, model: CahnHilliard = CahnHilliard(), method: str = "explicit",
            stabilization: float = 0.0, compile: bool = False) -> Stepper:
    """The :class:`ExplicitStepper` or :class:`SemiImplicitStepper` for ``method``; ``compile``
    compiles the explicit one (see :class:`ExplicitStepper`; the semi-implicit one's FFTs gain little)."""
    check_choice(method, "method", METHODS)
    if method == "explicit":
        return ExplicitStepper(grid, dt, model, compile)
    return SemiImplicitStepper(grid, dt, model, stabilization)


def perlin_noise(
    shape: Sequence[int],
    cells: int | Sequence[int],
    batch: int = 1,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Periodic Perlin gradient noise, normalised to zero mean and unit standard deviation.

    A random unit gradient sits at each node of a coarse periodic lattice with ``cells``
    cells per axis; the noise at a grid point is the smoothly (quintic fade) interpolated sum
    of the dot products of the corner gradients with the offsets to the point. The result
    tiles periodically, and its features have a size of about ``n / cells`` grid points.

    Args:
        shape: the grid, 2 or 3 sizes, each divisible by its number of cells.
        cells: lattice cells per axis (one number or one per axis).
        batch: number of independent samples.
        generator: random generator.

    Returns:
        ``(batch, 1, *shape)``.
    """
    shape = check_grid_shape(shape, "shape", dims=(2, 3))
    d = len(shape)
    if isinstance(cells, (str, bytes)) or not hasattr(cells, "__len__"):
        cells = (check_int(cells, "cells", 1),) * d
    else:
        cells = tuple(check_int(c, "cells", 1) for c in cells)
    if len(cells) != d:
        raise ValueError(f"cells must be one number or one per axis ({d}); got {cells}")
    if math.prod(shape) < 2:
        raise ValueError(f"shape must hold at least 2 points (the noise is normalised by its spread), got {shape}")
    batch, dtype = check_int(batch, "batch", 1), check_dtype(dtype)
    check_generator(generator)
    if any(n % c for n, c in zip(shape, cells)):
        raise ValueError(f"each grid size must be a multiple of its number of cells; got shape {shape}, cells {cells}")
    device = generator_device(generator)
    grads = torch.randn(batch, d, *cells, generator=generator, dtype=torch.float64, device=device)
    grads = grads / grads.norm(dim=1, keepdim=True).clamp_min(1e-12)
    # Lattice index and fractional position of every grid point, per axis.
    index, frac = [], []
    for n, c in zip(shape, cells):
        x = (torch.arange(n, dtype=torch.float64, device=device) + 0.5) * c / n
        index.append(x.floor().long())
        frac.append(x - x.floor())
    mesh_i = torch.meshgrid(*index, indexing="ij")
    mesh_f = torch.meshgrid(*frac, indexing="ij")
    noise = torch.zeros(batch, *shape, dtype=torch.float64, device=device)
    for corner in range(2**d):
        offs = [(corner >> a) & 1 for a in range(d)]
        idx = [(mesh_i[a] + offs[a]) % cells[a] for a in range(d)]
        g = grads[(slice(None), slice(None), *idx)]  # (batch, d, *shape)
        dot = sum(g[:, a] * (mesh_f[a] - offs[a]) for a in range(d))
        weight = 1.0
        for a in range(d):
            t = mesh_f[a]
            fade = t**3 * (t * (6 * t - 15) + 10)
            weight = weight * (fade if offs[a] else 1 - fade)
        noise = noise + weight * dot
    flat = noise.flatten(1)
    noise = (noise - flat.mean(1).view(-1, *[1] * d)) / flat.std(1).clamp_min(1e-12).view(-1, *[1] * d)
    return noise.unsqueeze(1).to(dtype)


def perlin_state(
    shape: Sequence[int],
    mean: float | torch.Tensor = 0.5,
    cells: int = 4,
    amplitude: float = 0.2,
    batch: int = 1,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Initial state ``phi = mean + amplitude * noise`` with periodic Perlin ``noise``.

    ``mean`` may be a number or a ``(batch,)`` tensor (one mean per sample); the mean of
    every sample is exact. Returns ``(batch, 1, *shape)``.

    Used in :ref:`07-crnn-cahn-hilliard-flow`.
    """
    amplitude, dtype = finite_float(amplitude, "amplitude"), check_dtype(dtype)
    if isinstance(mean, torch.Tensor) and mean.dim():
        if mean.dim() != 1:
            raise ValueError(f"mean must be a number or a (batch,) tensor, got shape {tuple(mean.shape)}")
        mean = finite_tensor(mean, "mean").detach()
    else:
        mean = finite_float(mean, "mean")
    noise = perlin_noise(shape, cells, batch, generator, torch.float64)
    mean = torch.as_tensor(mean, dtype=torch.float64, device=noise.device).reshape(-1, *[1] * (len(shape) + 1))
    if mean.shape[0] not in (1, batch):
        raise ValueError(f"mean must be a number or hold one value per sample ({batch}), got {mean.shape[0]}")
    return (mean + amplitude * noise).to(dtype)


def _centred_coordinates(shape: Sequence[int], dtype=torch.float64) -> list[torch.Tensor]:
    axes = [torch.arange(n, dtype=dtype, device="cpu") - (n - 1) / 2 for n in shape]
    return list(torch.meshgrid(*axes, indexing="ij"))


def _profile(signed_distance: torch.Tensor, epsilon: float) -> torch.Tensor:
    # Equilibrium interface of this model: phi = (1 - tanh(d / (2 w))) / 2 with w = epsilon / 6
    # (g = (18/eps) phi^2 (1-phi)^2 and the gradient coefficient eps give w = sqrt(eps^2 / 36)).
    return 0.5 * (1 - torch.tanh(3 * signed_distance / epsilon))


def sphere_state(shape: Sequence[int], radius: float, epsilon: float = 3.0, dtype=torch.float32) -> torch.Tensor:
    """A ball of phase ``phi = 1`` (radius in grid units) centred in the box: ``(1, 1, *shape)``.

    ``shape`` has 2 or 3 sizes; ``radius`` and ``epsilon`` are positive (grid units).
    """
    shape = check_grid_shape(shape, "shape", dims=(2, 3))
    radius, epsilon = positive_float(radius, "radius"), positive_float(epsilon, "epsilon")
    dtype = check_dtype(dtype)
    r = torch.sqrt(sum(x**2 for x in _centred_coordinates(shape)))
    return _profile(r - radius, epsilon).to(dtype)[None, None]


def torus_state(shape: Sequence[int], major: float, minor: float, epsilon: float = 3.0,
                dtype=torch.float32) -> torch.Tensor:
    """A torus of phase ``phi = 1`` around the last axis, centred in the 3D box: ``(1, 1, *shape)``.

    ``major``: distance from the centre to the tube's axis; ``minor``: tube radius (grid units).

    Used in :ref:`07-crnn-generalisation-a-larger-box-and-a-new-shape`.
    """
    shape = check_grid_shape(shape, "shape", dims=(3,))
    major, minor = positive_float(major, "major"), positive_float(minor, "minor")
    epsilon, dtype = positive_float(epsilon, "epsilon"), check_dtype(dtype)
    if not minor < major:
        raise ValueError(f"need 0 < minor < major, got minor={minor}, major={major}")
    x, y, z = _centred_coordinates(shape)
    ring = torch.sqrt(x**2 + y**2) - major
    return _profile(torch.sqrt(ring**2 + z**2) - minor, epsilon).to(dtype)[None, None]


def _periodic_offsets(shape: Sequence[int], centre: Sequence[float]) -> list[torch.Tensor]:
    """Per axis, the offset of every cell from ``centre`` on the periodic grid (nearest image),
    in grid units, in ``[-n/2, n/2)``."""
    axes = [torch.arange(n, dtype=torch.float64, device="cpu") for n in shape]
    grids = torch.meshgrid(*axes, indexing="ij")
    return [torch.remainder(g - c + n / 2, n) - n / 2 for g, c, n in zip(grids, centre, shape)]


def _centre(centre: object, shape: tuple[int, ...]) -> tuple[float, ...]:
    if centre is None:
        return tuple((n - 1) / 2 for n in shape)
    if isinstance(centre, (str, bytes)) or not hasattr(centre, "__len__") or len(centre) != len(shape):
        raise ValueError(f"centre must hold one coordinate per axis ({len(shape)}), got {centre!r}")
    return tuple(finite_float(c, "centre") for c in centre)


def ellipsoid_state(shape: Sequence[int], radii: Sequence[float], centre: Sequence[float] | None = None,
                    epsilon: float = 3.0, dtype=torch.float32) -> torch.Tensor:
    """An ellipsoid (2D: an ellipse) of phase ``phi = 1`` with semi-axes ``radii`` along the grid
    axes, centred at ``centre`` on the periodic grid: ``(1, 1, *shape)``.

    ``centre`` is in grid units (cell ``i`` sits at ``i``; default the box centre). The
    interface has the model's equilibrium profile across the approximate distance
    ``(rho - 1) / |grad rho|``, ``rho = |x / radii|``, exact on the axes; the flow relaxes the
    rest within a few time units. With unequal radii and an off-centre ``centre`` the state is
    symmetric about no grid plane.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    shape = check_grid_shape(shape, "shape", dims=(2, 3))
    if isinstance(radii, (str, bytes)) or not hasattr(radii, "__len__") or len(radii) != len(shape):
        raise ValueError(f"radii must hold one semi-axis per axis ({len(shape)}), got {radii!r}")
    radii = tuple(positive_float(r, "radii") for r in radii)
    centre = _centre(centre, shape)
    epsilon, dtype = positive_float(epsilon, "epsilon"), check_dtype(dtype)
    x = _periodic_offsets(shape, centre)
    rho = torch.sqrt(sum((xi / a) ** 2 for xi, a in zip(x, radii)))
    slope = torch.sqrt(sum(xi ** 2 / a ** 4 for xi, a in zip(x, radii))) / rho.clamp_min(1e-12)
    distance = torch.where(rho > 0, (rho - 1) / slope.clamp_min(1e-12), -min(radii))
    return _profile(distance, epsilon).to(dtype)[None, None]


def slab_state(shape: Sequence[int], width: float, axis: int = 0, centre: float | None = None,
               epsilon: float = 3.0, dtype=torch.float32) -> torch.Tensor:
    """A slab of phase ``phi = 1``, ``width`` cells thick across ``axis`` (two flat interfaces on
    the periodic grid), centred at ``centre`` along that axis (default the box centre):
    ``(1, 1, *shape)``. A flat slab is a steady state of Cahn-Hilliard flow.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    shape = check_grid_shape(shape, "shape", dims=(2, 3))
    axis = check_axis(axis, len(shape))
    width = positive_float(width, "width")
    if not width < shape[axis]:
        raise ValueError(f"width must be smaller than the box along axis {axis} ({shape[axis]}), got {width}")
    point = [(n - 1) / 2 for n in shape]
    if centre is not None:
        point[axis] = finite_float(centre, "centre")
    epsilon, dtype = positive_float(epsilon, "epsilon"), check_dtype(dtype)
    offset = _periodic_offsets(shape, point)[axis]
    return _profile(offset.abs() - width / 2, epsilon).to(dtype)[None, None]


def reference(phi0: torch.Tensor, frames: int, tau: float = 0.5, model: CahnHilliard = CahnHilliard(),
              dt: float = 1.25e-3, switch_time: float | None = None, dt_late: float = 0.05,
              progress: bool = False, save_every: int = 1, compile: bool = False) -> torch.Tensor:
    """Frames ``tau`` apart from the explicit solver, optionally semi-implicit after ``switch_time``.

    Long coarsening runs cost ``tau / dt = 400`` explicit steps per frame; late in the
    evolution the field changes slowly and the semi-implicit solver with ``dt_late`` is
    accurate enough for energy curves at a fraction of the cost. ``switch_time=None`` keeps
    the explicit solver throughout. The switch is a :class:`~physdl.pde.stepper.Switched`
    stepper of two frame-interval steppers.

    ``save_every`` keeps every ``save_every``-th frame (and always the last), so a long run
    need not hold all its frames. ``compile`` compiles the explicit steps
    (:class:`ExplicitStepper`).

    Returns:
        ``(batch, frames, 1, *space)`` (with ``save_every``: the first frame, every
        ``save_every``-th after it, and the last).

    Used in :ref:`07-crnn-validation-against-the-solver`.
    """
    _check_field(phi0, "phi0")
    frames, tau, dt = check_int(frames, "frames", 1), positive_float(tau, "tau"), as_dt(dt)
    save_every = check_int(save_every, "save_every", 1)
    dt_late = positive_float(dt_late, "dt_late")
    if switch_time is not None:
        switch_time = finite_float(switch_time, "switch_time")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    steps = round(tau / dt)
    if steps < 1 or abs(steps * dt - tau) > 1e-9 * tau:
        raise ValueError(f"tau = {tau:g} is not a whole number of steps dt = {dt:g}")
    shape = tuple(phi0.shape[2:])
    explicit = Substepped(ExplicitStepper(shape, dt, model, compile), steps)
    if switch_time is None or switch_time >= (frames - 1) * tau:
        schedule = [(explicit, None)]
    else:
        late_steps = round(tau / dt_late)
        if abs(late_steps * dt_late - tau) > 1e-9 * tau:
            raise ValueError(f"tau = {tau} is not a whole number of late steps dt_late = {dt_late}")
        late = Substepped(SemiImplicitStepper(shape, dt_late, model), late_steps)
        schedule = [(explicit, max(1, round(switch_time / tau))), (late, None)]
    with torch.no_grad():
        return rollout(Switched(schedule), phi0, frames - 1, save_every, check_every=1, progress=progress,
                       description="Cahn-Hilliard", keep_last=True)
