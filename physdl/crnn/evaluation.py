"""Measures for comparing a CRNN rollout with the solver.

- :func:`interface_displacement`: the paper's ``delta``, the root-mean-square distance
  between the predicted and the true interface (grid units, Eq. 4 of Lanzoni et al.).
- :func:`rmse_per_frame`, :func:`mean_drift`: per-frame error and change of the mean of phi.
- :func:`power_law_exponent`: least-squares slope of ``log F`` against ``log t``.

Sequences are ``(batch, time, 1, *space)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from physdl import deprecation
from physdl.metrics import rmse
from physdl.pde.stepper import rollout
from physdl.timing import median_seconds


def _check_pair(pred: torch.Tensor, true: torch.Tensor) -> None:
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} differs from reference shape {tuple(true.shape)}")
    if pred.dim() not in (5, 6):
        raise ValueError(f"expected sequences (batch, time, 1, *space) in 2D or 3D, got {tuple(pred.shape)}")


def rmse_per_frame(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """RMSE of each frame, ``(batch, time)``.

    Used in :ref:`07-crnn-validation-against-the-solver`.
    """
    _check_pair(pred, true)
    return rmse(pred, true, dims=tuple(range(2, pred.dim())))


def interface_displacement(pred: torch.Tensor, true: torch.Tensor, dx: float = 1.0) -> torch.Tensor:
    """``delta = sqrt( sum (phi - phi_hat)^2 / sum |grad phi|^2 )`` per frame, ``(batch, time)``.

    For a small shift ``delta`` of the interface along its normal, ``phi - phi_hat`` is about
    ``delta |grad phi|``, so the ratio is the mean squared displacement (in units of ``dx``
    times ``dx``: the result is in length units). ``|grad phi|`` uses central differences of
    the true field.

    Used in :ref:`07-crnn-validation-against-the-solver`.
    """
    _check_pair(pred, true)
    space = tuple(range(3, true.dim()))
    grad_sq = sum(((torch.roll(true, -1, a) - torch.roll(true, 1, a)) / (2 * dx)) ** 2 for a in space)
    num = ((pred - true) ** 2).sum(dim=(2, *space))
    den = grad_sq.sum(dim=(2, *space)).clamp_min(torch.finfo(true.dtype).tiny)
    return (num / den).sqrt()


def mean_drift(sequence: torch.Tensor) -> torch.Tensor:
    """``mean(phi_t) - mean(phi_0)`` for every frame, ``(batch, time)``, computed in float64.

    Used in :ref:`07-crnn-cahn-hilliard-flow`.
    """
    if sequence.dim() not in (5, 6):
        raise ValueError(f"expected a sequence (batch, time, 1, *space), got {tuple(sequence.shape)}")
    means = sequence.double().flatten(2).mean(dim=2)
    return means - means[:, :1]


def power_law_exponent(t: torch.Tensor, f: torch.Tensor, t_min: float, t_max: float) -> float:
    """Slope ``a`` of the least-squares fit ``log f = a log t + b`` over ``t_min <= t <= t_max``.

    Used in :ref:`07-crnn-far-past-the-training-length`.
    """
    t = torch.as_tensor(t, dtype=torch.float64, device="cpu")
    f = torch.as_tensor(f, dtype=torch.float64, device="cpu")
    if t.shape != f.shape or t.dim() != 1:
        raise ValueError(f"t and f must be 1D and of equal length, got {tuple(t.shape)} and {tuple(f.shape)}")
    keep = (t >= t_min) & (t <= t_max) & (t > 0) & (f > 0)
    if keep.sum() < 3:
        raise ValueError(f"fewer than 3 points with positive t and f in [{t_min}, {t_max}]")
    x, y = t[keep].log(), f[keep].log()
    xm, ym = x.mean(), y.mean()
    return float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())


def seconds_per_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Deprecated alias of :func:`physdl.timing.median_seconds` (goes in 0.3.0)."""
    deprecation.warn_moved("crnn.evaluation.seconds_per_call", "physdl.timing.median_seconds")
    return median_seconds(fn, repeats, warmup)


def matched_time_step(phi0: torch.Tensor, truth: torch.Tensor, target: float, candidates: Sequence[float],
                      tau: float = 0.5, factor: int = 2) -> tuple[float, dict[float, float]]:
    """The largest semi-implicit time step whose error is at most ``target``.

    Args:
        phi0: ``(batch, 1, *space)`` solver-grid start.
        truth: ``(batch, frames, 1, *space/factor)`` reference frames ``tau`` apart on the
            network grid (frame 0 is ``phi0`` downsampled).
        target: RMSE to match at the last frame (for example the CRNN's).
        candidates: time steps to try; each must divide ``tau``.

    Returns:
        ``(dt, errors)``: the chosen step (the smallest candidate when none is good enough)
        and the RMSE at the last frame of every candidate (``inf`` where the run blew up).

    Used in :ref:`07-crnn-speed-measured-side-by-side`.
    """
    from physdl.crnn.data import downsample
    from physdl.pde.cahn_hilliard import SemiImplicitStepper

    frames = truth.shape[1]
    errors = {}
    for dt in candidates:
        try:
            with torch.no_grad():
                run = rollout(SemiImplicitStepper(tuple(phi0.shape[2:]), dt), phi0, (frames - 1) * round(tau / dt),
                              round(tau / dt), check_every=round(tau / dt))
        except FloatingPointError:  # the nonlinear term is explicit: too large a step can blow up
            errors[dt] = math.inf
            continue
        errors[dt] = float(rmse_per_frame(downsample(run, factor, phi0.dim() - 2), truth)[:, -1].mean())
    good = [dt for dt, e in errors.items() if e <= target]
    return (max(good) if good else min(candidates)), errors


def cost_per_interval(net: torch.nn.Module, phi: torch.Tensor, dt_semi: float, tau: float = 0.5,
                      dt_explicit: float = 1.25e-3, factor: int = 2, repeats: int = 5) -> dict[str, float]:
    """Wall time (s) to advance ``phi`` by one interval ``tau`` three ways, median of ``repeats``.

    ``explicit``: ``tau / dt_explicit`` forward-Euler steps on the solver grid;
    ``semi-implicit``: ``tau / dt_semi`` semi-implicit steps on the solver grid;
    ``crnn``: one network step on the grid downsampled by ``factor`` (hidden state warm).

    Used in :ref:`07-crnn-speed-measured-side-by-side`.
    """
    from physdl.crnn.data import downsample
    from physdl.pde.cahn_hilliard import ExplicitStepper, SemiImplicitStepper
    from physdl.pde.stepper import Substepped

    dims = phi.dim() - 2
    coarse = downsample(phi, factor, dims)
    shape = tuple(phi.shape[2:])
    explicit = Substepped(ExplicitStepper(shape, dt_explicit), round(tau / dt_explicit))
    semi = Substepped(SemiImplicitStepper(shape, dt_semi), round(tau / dt_semi))
    with torch.no_grad():
        _, hidden = net.advance(coarse)
        return {
            "explicit": median_seconds(lambda: explicit(phi), repeats),
            "semi-implicit": median_seconds(lambda: semi(phi), repeats),
            "crnn": median_seconds(lambda: net.advance(coarse, hidden), repeats),
        }
