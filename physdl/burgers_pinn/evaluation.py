"""Evaluating a Burgers PINN on the lecture's grid against the exact solution."""

from __future__ import annotations

import functools
import time

import torch

from physdl import pinn as P
from physdl.nn.inference import check_model, model_device
from physdl.ops.checks import check_int, check_real
from physdl.pde import burgers as B


def predicted_field(model: torch.nn.Module, nx: int = 128, nt: int = 33) -> torch.Tensor:
    """The model's ``u`` on the lecture grid, ``(nt, nx)`` float64 on the CPU.

    Used in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`,
    :ref:`04-burgers-dp-pinn-or-differentiable-physics`.
    """
    check_model(model)
    nx, nt = check_int(nx, "nx", 2), check_int(nt, "nt", 2)
    x, t = B.lecture_grid(nx, nt)
    dtype = next(iter(model.parameters()), torch.zeros(())).dtype
    return P.evaluate(model, P.grid_points(x, t).to(dtype)).double().cpu().reshape(nt, nx)


def grid_error(model: torch.nn.Module) -> float:
    """Relative L2 error of ``model`` against the exact solution on the lecture's 128 x 33 grid.

    Used in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`.
    """
    exact = B.exact_field()
    return float((predicted_field(model) - exact).norm() / exact.norm())


#: The scoring grids of the high-precision PINN: the lecture's 128 x 33 and a 512 x 201 grid.
SCORING_GRIDS = ((128, 33), (512, 201))


def scoring_errors(model: torch.nn.Module) -> tuple[float, ...]:
    """Relative L2 errors of ``model`` on each grid of :data:`SCORING_GRIDS` (x in [-1, 1],
    t in [0, 1], endpoints included), against the exact solution.

    The collocation points are drawn at random, so no grid point is one of them (almost surely).

    Used in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """
    return tuple(_grid_error(model, nx, nt) for nx, nt in SCORING_GRIDS)


def _grid_error(model: torch.nn.Module, nx: int, nt: int) -> float:
    exact = _exact_field(nx, nt)
    return float((predicted_field(model, nx, nt) - exact).norm() / exact.norm())


@functools.lru_cache(maxsize=len(SCORING_GRIDS))
def _exact_field(nx: int, nt: int) -> torch.Tensor:
    """The exact field on a scoring grid, computed once per process (seconds for 512 x 201);
    callers only read it."""
    return B.exact_field(nx, nt)


class ErrorTrace:
    """Relative L2 errors against training time: a ``validate`` callback for a fit.

    Each call scores the model on :data:`SCORING_GRIDS` and records the seconds since
    :meth:`start` without the time spent scoring, so ``seconds`` is training time only. It
    returns the error on the lecture grid (what :class:`physdl.train.History` keeps).

    Attributes:
        seconds: training seconds at each call.
        errors: ``(lecture grid, fine grid)`` errors at each call.

    Used in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = check_model(model)
        self.seconds: list[float] = []
        self.errors: list[tuple[float, ...]] = []
        self._origin: float | None = None
        self._fine = [(P.grid_points(*B.lecture_grid(nx, nt)), _exact_field(nx, nt).reshape(-1)) for nx, nt in SCORING_GRIDS]

    def start(self) -> "ErrorTrace":
        """Start the clock (and score the model once, at time 0)."""
        self._origin = time.perf_counter()
        self()
        return self

    def resume(self) -> "ErrorTrace":
        """Continue the clock from the last reading (after a pause, e.g. in a copy of a trace)."""
        if not self.seconds:
            raise RuntimeError("call ErrorTrace.start() first")
        self._origin = time.perf_counter() - self.seconds[-1]
        return self

    def __call__(self) -> float:
        if self._origin is None:
            raise RuntimeError("call ErrorTrace.start() before training")
        now = time.perf_counter()
        dtype = next(iter(self.model.parameters())).dtype
        with torch.no_grad():
            errors = tuple(float((P.evaluate(self.model, pts.to(model_device(self.model), dtype)).double().cpu()[:, 0] - exact).norm() / exact.norm())
                           for pts, exact in self._fine)
        self.seconds.append(now - self._origin)
        self.errors.append(errors)
        self._origin += time.perf_counter() - now  # scoring does not count as training
        return errors[0]

    def time_to(self, level: float) -> float | None:
        """Training seconds until both errors were first at most ``level`` (``None``: never)."""
        level = check_real(level, "level", 0, lo_open=True)
        for seconds, errors in zip(self.seconds, self.errors):
            if max(errors) <= level:
                return seconds
        return None
