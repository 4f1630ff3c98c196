"""Where a PINN is trained: the space-time domain and its collocation, initial and wall points."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from physdl.config import generator_device
from physdl.sampling import step_generator

COORDINATES = ("x", "t")


@dataclass(frozen=True)
class Domain:
    """The space-time rectangle ``[x0, x1] x [t0, t1]``."""

    x: tuple[float, float] = (-1.0, 1.0)
    t: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if not (self.x[0] < self.x[1] and self.t[0] < self.t[1]):
            raise ValueError(f"empty domain x={self.x}, t={self.t}")

    def check(self, points: torch.Tensor, atol: float = 1e-9) -> torch.Tensor:
        """Return ``points`` after checking their shape ``(n, 2)`` and that they lie inside."""
        if points.dim() != 2 or points.shape[1] != 2:
            raise ValueError(f"points must be shaped (n, 2) with columns (x, t), got {tuple(points.shape)}")
        for k, (lo, hi) in enumerate((self.x, self.t)):
            c = points[:, k]
            if torch.any(c < lo - atol) or torch.any(c > hi + atol):
                name = COORDINATES[k]
                raise ValueError(f"points outside the domain: {name} must lie in [{lo}, {hi}], "
                                 f"got values in [{float(c.min()):.4g}, {float(c.max()):.4g}]")
        return points


def uniform_points(n: int, domain: Domain, generator: torch.Generator | None = None,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` points drawn uniformly in the domain, ``(n, 2)``."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    u = torch.rand(n, 2, generator=generator, device=generator_device(generator), dtype=dtype)
    lo = torch.tensor([domain.x[0], domain.t[0]], dtype=dtype, device=u.device)
    hi = torch.tensor([domain.x[1], domain.t[1]], dtype=dtype, device=u.device)
    return lo + (hi - lo) * u


def grid_points(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """All ``(x_i, t_j)`` of a grid, ``(len(t) * len(x), 2)``, time-major (row ``j * nx + i``).

    Used in :ref:`02-burgers-pinn-4-what-pinns-cost-and-what-they-are-good-for`.
    """
    if x.dim() != 1 or t.dim() != 1:
        raise ValueError("x and t must be vectors")
    T, X = torch.meshgrid(t, x, indexing="ij")
    return torch.stack([X.reshape(-1), T.reshape(-1)], dim=1)


def initial_points(n: int, domain: Domain, dtype: torch.dtype = torch.float32,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` evenly spaced points on the line ``t = t0``, ``(n, 2)`` on ``device``."""
    if n < 2:
        raise ValueError(f"need at least 2 initial points, got {n}")
    x = torch.linspace(*domain.x, n, dtype=dtype, device=device)
    return torch.stack([x, torch.full_like(x, domain.t[0])], dim=1)


def boundary_points(n: int, domain: Domain, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` evenly spaced times on each of the walls ``x = x0`` and ``x = x1``, ``(2 n, 2)`` on
    ``device``."""
    if n < 2:
        raise ValueError(f"need at least 2 boundary points per wall, got {n}")
    t = torch.linspace(*domain.t, n, dtype=dtype, device=device)
    return torch.cat([torch.stack([torch.full_like(t, xw), t], dim=1) for xw in domain.x])


class ResampledPoints:
    """Fresh uniform collocation points at every step, ``step -> (n, 2)``.

    The points are a function of ``(seed, step)`` (:mod:`physdl.sampling`): a closure-based
    optimiser (L-BFGS), which evaluates the loss several times per step, sees one consistent
    loss, and a resumed run draws what an uninterrupted one draws.
    """

    def __init__(self, n: int, domain: Domain, seed: int = 0, dtype: torch.dtype = torch.float32) -> None:
        if n < 1:
            raise ValueError(f"n must be positive, got {n}")
        self.n, self.domain, self.seed, self.dtype = n, domain, seed, dtype
        self._step: int | None = None
        self._points: torch.Tensor | None = None

    def __call__(self, step: int) -> torch.Tensor:
        if step != self._step:
            gen = step_generator(self.seed, step, "collocation")
            self._points = uniform_points(self.n, self.domain, gen, self.dtype)
            self._step = step
        assert self._points is not None
        return self._points


class FixedPoints:
    """The same collocation points at every step (the lecture's setup)."""

    def __init__(self, points: torch.Tensor) -> None:
        self.points = points

    def __call__(self, step: int) -> torch.Tensor:
        return self.points
