"""Where a PINN is trained: the space-time domain and its collocation, initial and wall points."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from physdl.config import as_device, generator_device
from physdl.ops.checks import check_dtype, check_generator, check_int, check_pair, check_real, finite_tensor
from physdl.sampling import step_generator

COORDINATES = ("x", "t")


@dataclass(frozen=True)
class Domain:
    """The space-time rectangle ``[x0, x1] x [t0, t1]``."""

    x: tuple[float, float] = (-1.0, 1.0)
    t: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        for name in COORDINATES:  # stored as a pair of plain floats
            span = check_pair(getattr(self, name), name)
            object.__setattr__(self, name, (check_real(span[0], name), check_real(span[1], name)))
        if not (self.x[0] < self.x[1] and self.t[0] < self.t[1]):
            raise ValueError(f"empty domain x={self.x}, t={self.t}")

    def check(self, points: torch.Tensor, atol: float = 1e-9) -> torch.Tensor:
        """Return ``points`` after checking their shape ``(n, 2)`` and that they lie inside."""
        check_points(points)
        atol = check_real(atol, "atol", 0)
        for k, (lo, hi) in enumerate((self.x, self.t)):
            c = points[:, k]
            if torch.any(c < lo - atol) or torch.any(c > hi + atol):
                name = COORDINATES[k]
                raise ValueError(f"points outside the domain: {name} must lie in [{lo}, {hi}], "
                                 f"got values in [{float(c.min()):.4g}, {float(c.max()):.4g}]")
        return points


def check_points(points: object, name: str = "points") -> torch.Tensor:
    """``points`` if it is a finite floating-point ``(n, 2)`` tensor with ``n >= 1`` (columns
    ``x, t``); ``TypeError`` / ``ValueError`` naming ``name`` otherwise."""
    points = finite_tensor(points, name)
    if points.dim() != 2 or points.shape[1] != 2 or not len(points):
        raise ValueError(f"{name} must be shaped (n, 2) with columns (x, t) and n >= 1, got {tuple(points.shape)}")
    return points


def check_domain(domain: object) -> Domain:
    if not isinstance(domain, Domain):
        raise TypeError(f"domain must be a physdl.pinn.Domain, got {type(domain).__name__}")
    return domain


def uniform_points(n: int, domain: Domain, generator: torch.Generator | None = None,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` points drawn uniformly in the domain, ``(n, 2)``."""
    n, dtype = check_int(n, "n", 1), check_dtype(dtype)
    check_domain(domain)
    check_generator(generator)
    u = torch.rand(n, 2, generator=generator, device=generator_device(generator), dtype=dtype)
    lo = torch.tensor([domain.x[0], domain.t[0]], dtype=dtype, device=u.device)
    hi = torch.tensor([domain.x[1], domain.t[1]], dtype=dtype, device=u.device)
    return lo + (hi - lo) * u


def grid_points(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """All ``(x_i, t_j)`` of a grid, ``(len(t) * len(x), 2)``, time-major (row ``j * nx + i``).

    Used in :ref:`02-burgers-pinn-4-what-pinns-cost-and-what-they-are-good-for`.
    """
    for name, v in (("x", x), ("t", t)):
        if finite_tensor(v, name).dim() != 1 or not len(v):
            raise ValueError(f"{name} must be a non-empty vector, got shape {tuple(v.shape)}")
    if x.dtype != t.dtype or x.device != t.device:
        raise ValueError(f"x and t must share a dtype and device, got {x.dtype} on {x.device} and {t.dtype} on {t.device}")
    T, X = torch.meshgrid(t, x, indexing="ij")
    return torch.stack([X.reshape(-1), T.reshape(-1)], dim=1)


def initial_points(n: int, domain: Domain, dtype: torch.dtype = torch.float32,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` evenly spaced points on the line ``t = t0``, ``(n, 2)`` on ``device``."""
    n, dtype, device = check_int(n, "n", 2), check_dtype(dtype), as_device(device, "device")
    check_domain(domain)
    x = torch.linspace(*domain.x, n, dtype=dtype, device=device)
    return torch.stack([x, torch.full_like(x, domain.t[0])], dim=1)


def boundary_points(n: int, domain: Domain, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` evenly spaced times on each of the walls ``x = x0`` and ``x = x1``, ``(2 n, 2)`` on
    ``device``."""
    n, dtype, device = check_int(n, "n", 2), check_dtype(dtype), as_device(device, "device")
    check_domain(domain)
    t = torch.linspace(*domain.t, n, dtype=dtype, device=device)
    return torch.cat([torch.stack([torch.full_like(t, xw), t], dim=1) for xw in domain.x])


class ResampledPoints:
    """Fresh uniform collocation points at every step, ``step -> (n, 2)``.

    The points are a function of ``(seed, step)`` (:mod:`physdl.sampling`): a closure-based
    optimiser (L-BFGS), which evaluates the loss several times per step, sees one consistent
    loss, and a resumed run draws what an uninterrupted one draws.
    """

    def __init__(self, n: int, domain: Domain, seed: int = 0, dtype: torch.dtype = torch.float32) -> None:
        self.n, self.domain = check_int(n, "n", 1), check_domain(domain)
        self.seed, self.dtype = check_int(seed, "seed", 0), check_dtype(dtype)
        self._step: int | None = None
        self._points: torch.Tensor | None = None

    def __call__(self, step: int) -> torch.Tensor:
        step = check_int(step, "step", 0)
        if step != self._step:
            gen = step_generator(self.seed, step, "collocation")
            self._points = uniform_points(self.n, self.domain, gen, self.dtype)
            self._step = step
        assert self._points is not None
        return self._points


class FixedPoints:
    """The same collocation points at every step (the lecture's setup)."""

    def __init__(self, points: torch.Tensor) -> None:
        self.points = check_points(points)

    def __call__(self, step: int) -> torch.Tensor:
        return self.points
