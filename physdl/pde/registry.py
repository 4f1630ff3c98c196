"""A registry of steppers, each with a small instance, for tests and tools that sweep them all.

An entry is a factory ``make(n, dt, dtype) -> Stepper`` (``n`` nodes per axis on a fixed
physical domain, ``dt`` the time step, either ``None`` for the entry's default) and
``initial(stepper, batch, generator, dtype) -> state``, a smooth state ``(batch, channel, *space)``
on the stepper's grid. Smooth states defined on the physical domain let a test refine the grid
(spatial order) or the time step (temporal order) with the same problem.

The solvers of :mod:`physdl.pde` register below; learned steppers register from their own
modules (:mod:`physdl.crnn.model`, :mod:`physdl.neuradiff.model`, :mod:`physdl.safe.model`),
so ``pde`` imports no network. :func:`load_all` imports those modules.

Which properties each stepper must have is not stored here: the property suite
(``tests/test_stepper_properties.py``) holds that table.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from physdl.config import generator_device
from physdl.ops.checks import check_dtype, check_int
from physdl.ops.grid import Grid
from physdl.pde import advection, allen_cahn, burgers, cahn_hilliard, heat, voids
from physdl.pde.stepper import Stepper

LEARNED_MODULES = ("physdl.crnn.model", "physdl.neuradiff.model", "physdl.safe.model")

Factory = Callable[..., Stepper]
Initial = Callable[[Stepper, int, torch.Generator, torch.dtype], torch.Tensor]


@dataclass(frozen=True)
class Entry:
    """One registered stepper: its factory, a smooth initial state and a one-line description."""

    name: str
    make: Factory
    initial: Initial
    description: str = ""


_ENTRIES: dict[str, Entry] = {}


class UnknownStepperError(KeyError, ValueError):
    """No stepper is registered under the name asked for.

    A ``KeyError`` (it is a failed look-up, and code written against earlier releases catches
    that) and a ``ValueError`` (it is bad input, which physdl reports as ``ValueError``).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # KeyError would quote the message


def register(name: str, make: Factory, initial: Initial, description: str = "") -> None:
    """Add a stepper under ``name``, a non-empty string (``ValueError`` if the name is taken by
    another factory); ``make`` and ``initial`` must be callable (``TypeError`` otherwise)."""
    if not isinstance(name, str):
        raise TypeError(f"a stepper's name must be a string, got {type(name).__name__} {name!r}")
    if not name.strip():
        raise ValueError("a stepper's name must not be empty")
    for what, f in (("make", make), ("initial", initial)):
        if not callable(f):
            raise TypeError(f"{what} must be callable, got {type(f).__name__} {f!r} (registering stepper {name!r})")
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, got {type(description).__name__}")
    if name in _ENTRIES and _ENTRIES[name].make is not make:
        raise ValueError(f"a stepper named {name!r} is already registered")
    _ENTRIES[name] = Entry(name, make, initial, description)


def load_all() -> None:
    """Import the modules whose learned steppers register themselves."""
    for module in LEARNED_MODULES:
        importlib.import_module(module)


def names() -> tuple[str, ...]:
    """Registered names, sorted."""
    return tuple(sorted(_ENTRIES))


def entry(name: str) -> Entry:
    """The entry registered as ``name`` (:class:`UnknownStepperError` for any other name)."""
    if not isinstance(name, str):
        raise TypeError(f"a stepper's name must be a string, got {type(name).__name__} {name!r}")
    if name not in _ENTRIES:
        raise UnknownStepperError(f"no stepper registered as {name!r}; registered: {', '.join(names())}")
    return _ENTRIES[name]


def smooth_field(grid: Grid, batch: int, generator: torch.Generator, dtype: torch.dtype,
                 modes: int = 2) -> torch.Tensor:
    """A random smooth periodic field ``(batch, 1, *shape)`` with zero mean and values in about [-1, 1].

    A sum of sines and cosines of the first ``modes`` wavenumbers along each axis, with the
    domain length ``n dx`` as the period, so that the same field is sampled on any refinement.
    ``batch`` and ``modes`` are positive integers, ``2 modes`` below the nodes of every axis
    (a coarser axis would alias the highest mode onto lower ones, the mean included);
    ``dtype`` a floating-point dtype.
    """
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a physdl.ops.Grid, got {type(grid).__name__}")
    batch, modes = check_int(batch, "batch", 1), check_int(modes, "modes", 1)
    if 2 * modes >= min(grid.shape):
        raise ValueError(f"modes = {modes} is not resolved on a grid of shape {grid.shape}: "
                         f"need 2 modes < the nodes of every axis")
    check_dtype(dtype)
    device = generator_device(generator) or torch.device("cpu")  # drawn where the generator lives
    mesh = grid.mesh("node", torch.float64, device)
    out = torch.zeros(batch, *grid.shape, dtype=torch.float64, device=device)
    for a, (x, length) in enumerate(zip(mesh, grid.lengths)):
        for k in range(1, modes + 1):
            c = torch.randn(batch, 2, generator=generator, device=generator_device(generator), dtype=torch.float64) / (k * math.sqrt(grid.dims * modes))
            phase = 2 * math.pi * k * x / length
            a_cos, a_sin = (c[:, j].reshape(batch, *[1] * grid.dims) for j in range(2))
            out = out + a_cos * torch.cos(phase) + a_sin * torch.sin(phase)
    return out[:, None].to(dtype)


# ------------------------------------------------------------------------------------ pde entries
# Fixed physical domains; ``n`` nodes per axis.

def _advection(scheme: str) -> Factory:
    def make(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> Stepper:
        n = n or 32
        grid = Grid(n, 1.0 / n)
        # The forward difference is the upwind one for a velocity that points to -x.
        speed = -0.7 if scheme == "forward" else 0.7
        velocity = torch.full((1, n), speed, dtype=dtype, device="cpu")
        dt = 0.5 * grid.dx / abs(speed) if dt is None else dt
        if scheme == "semi-lagrangian":
            return advection.SemiLagrangianAdvection(grid, dt, velocity)
        return advection.Advection(grid, dt, velocity, scheme)
    return make


def _scalar_initial(offset: float = 0.0, scale: float = 1.0) -> Initial:
    def initial(stepper: Stepper, batch: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
        return offset + scale * smooth_field(stepper.grid, batch, generator, dtype)
    return initial


def _burgers(bc: str) -> Factory:
    def make(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> Stepper:
        grid = burgers.domain(n or 32, bc)
        dt = 0.2 * grid.dx if dt is None else dt
        return burgers.solver(grid, dt, nu=0.02)
    return make


def _burgers_initial(stepper: Stepper, batch: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    (x,) = stepper.grid.coordinates("node")
    amplitude = 0.5 + 0.5 * torch.rand(batch, 1, 1, generator=generator, device=generator_device(generator), dtype=torch.float64)
    u = -amplitude * torch.sin(math.pi * x)  # zero on the walls, periodic on [-1, 1)
    return u.to(dtype)


def _heat(kind: type) -> Factory:
    def make(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> Stepper:
        n = n or 16
        grid = Grid((n, n), 16.0 / n)
        alpha = -0.5
        dt = 0.2 * heat.von_neumann_limit(1.0, grid.dx) / abs(alpha) if dt is None else dt
        return kind(grid, dt, alpha)
    return make


def _cahn_hilliard(method: str) -> Factory:
    def make(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> Stepper:
        n = n or 16
        model = cahn_hilliard.CahnHilliard(dx=32.0 / n)
        grid = Grid((n, n), model.dx)
        if dt is None:
            dt = 0.2 * cahn_hilliard.stability_limit(model, 2)
        return cahn_hilliard.stepper(grid, dt, model, method)
    return make


def _void_model(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> Stepper:
    n = n or 16
    grid = Grid((n, n), 16.0 / n)
    p = voids.VoidParameters()
    dt = 0.2 * voids.stability_limit(p, grid.dx) if dt is None else dt
    no_sources = voids.Irradiation(r_bulk=0.0, r_surf=0.0)
    return voids.VoidStepper(grid, dt, p, no_sources)


def _void_initial(stepper: Stepper, batch: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    g = stepper.grid
    # tanh keeps every field strictly inside (0, 1), the model's range.
    c_v = 0.25 + 0.08 * torch.tanh(smooth_field(g, batch, generator, torch.float64))
    c_i = 0.1 + 0.04 * torch.tanh(smooth_field(g, batch, generator, torch.float64))
    eta = 0.5 + 0.3 * torch.tanh(smooth_field(g, batch, generator, torch.float64))
    return torch.cat([c_v, c_i, eta], dim=1).to(dtype)


def _allen_cahn(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> Stepper:
    n = n or 16
    grid = Grid((n, n), 16.0 / n)
    limit = allen_cahn.AllenCahn(grid, 1e-12).stability_limit()
    return allen_cahn.AllenCahn(grid, 0.2 * limit if dt is None else dt)


register("advection-upwind", _advection("upwind"), _scalar_initial(), "upwind advection, constant velocity, 1D")
register("advection-forward", _advection("forward"), _scalar_initial(),
         "the lecture's forward difference (upwind for u < 0), 1D")
register("advection-semi-lagrangian", _advection("semi-lagrangian"), _scalar_initial(),
         "semi-Lagrangian advection, 1D")
register("burgers-dirichlet", _burgers("dirichlet"), _burgers_initial, "Burgers splitting, walls at x = +-1")
register("burgers-periodic", _burgers("periodic"), _burgers_initial, "Burgers splitting, periodic")
register("heat-euler", _heat(heat.HeatEuler), _scalar_initial(), "heat equation, forward Euler, 2D")
register("heat-spectral", _heat(heat.HeatSpectral), _scalar_initial(), "heat equation, exact in time, 2D")
register("cahn-hilliard-explicit", _cahn_hilliard("explicit"), _scalar_initial(0.5, 0.1),
         "Cahn-Hilliard, forward Euler, 2D")
register("cahn-hilliard-semi-implicit", _cahn_hilliard("semi-implicit"), _scalar_initial(0.5, 0.1),
         "Cahn-Hilliard, semi-implicit spectral, 2D")
register("voids", _void_model, _void_initial, "void phase-field model, deterministic, no sinks, 2D")
register("allen-cahn", _allen_cahn, _scalar_initial(0.0, 0.5), "Allen-Cahn, forward Euler, 2D (the Extending physdl page)")
