"""Measures for comparing a CRNN rollout with the solver.

- :func:`interface_displacement`: the paper's ``delta``, the root-mean-square distance
  between the predicted and the true interface (grid units, Eq. 4 of Lanzoni et al.).
- :func:`rmse_per_frame`, :func:`mean_drift`: per-frame error and change of the mean of phi.
- :func:`power_law_exponent`: least-squares slope of ``log F`` against ``log t``.
- :func:`minority_fraction`, :func:`centre_of_mass`, :func:`energy_rises`: what a single
  domain must keep over a long rollout (its volume, its place, a falling free energy).

Sequences are ``(batch, time, 1, *space)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from physdl import deprecation
from physdl.metrics import rmse
from physdl.ops.checks import check_int
from physdl.pde import cahn_hilliard as ch
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


def _check_sequence(sequence: object) -> torch.Tensor:
    if not isinstance(sequence, torch.Tensor) or sequence.dim() not in (5, 6) or sequence.shape[2] != 1:
        got = tuple(sequence.shape) if isinstance(sequence, torch.Tensor) else type(sequence).__name__
        raise ValueError(f"expected a sequence (batch, time, 1, *space) in 2D or 3D, got {got}")
    if not sequence.is_floating_point():
        raise TypeError(f"sequence must be floating point, got {sequence.dtype}")
    return sequence


def minority_fraction(sequence: torch.Tensor) -> torch.Tensor:
    """Volume fraction of the minority phase in each frame, ``(batch, time)``.

    The minority phase is the one of the first frame with fewer cells on its side of
    ``phi = 1/2`` (``phi > 1/2`` when the mean is below a half, else ``phi < 1/2``); it stays
    that phase in every frame, so a shrinking domain shows as a falling fraction.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    sequence = _check_sequence(sequence)
    above = (sequence > 0.5).flatten(2).double().mean(dim=2)  # (batch, time)
    return torch.where(above[:, :1] <= 0.5, above, 1.0 - above)


def centre_of_mass(sequence: torch.Tensor) -> torch.Tensor:
    """Centre of the minority phase in a periodic box, ``(batch, time, dims)`` in cells.

    Each axis is a circle: the centre is the angle of the weighted mean of
    ``exp(2 pi i x / L)`` (the circular mean), weighted by the minority phase's share of each
    cell (``phi`` or ``1 - phi``, clipped to [0, 1]; the phase as in
    :func:`minority_fraction`). Defined up to the period ``L``; meaningful for one compact
    domain (a droplet, a ball, a slab along its normal). Along an axis where the weight is
    uniform (a slab's plane) the centre is undefined and given as 0.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    sequence = _check_sequence(sequence)
    phi = sequence[:, :, 0].double().clamp(0.0, 1.0)  # (batch, time, *space)
    minority_is_one = (sequence[:, :1] > 0.5).flatten(2).double().mean(dim=2) <= 0.5  # (batch, 1)
    shape = (-1, 1) + (1,) * (phi.dim() - 2)
    weight = torch.where(minority_is_one.reshape(shape), phi, 1.0 - phi)
    space = phi.shape[2:]
    centres = []
    for axis, n in enumerate(space):
        angle = 2 * math.pi * torch.arange(n, dtype=torch.float64, device=phi.device) / n
        view = [1] * len(space)
        view[axis] = n
        others = tuple(d for d in range(2, phi.dim()))
        c = (weight * angle.cos().reshape(view)).sum(dim=others)
        s = (weight * angle.sin().reshape(view)).sum(dim=others)
        angle_mean = torch.atan2(s, c).remainder(2 * math.pi) * n / (2 * math.pi)
        # along an axis where the phase is uniform (a slab along its plane) there is no centre
        defined = c.hypot(s) > 1e-9 * weight.flatten(2).sum(dim=2)
        centres.append(torch.where(defined, angle_mean, torch.zeros_like(angle_mean)))
    return torch.stack(centres, dim=-1)


def equivariance_error(net: torch.nn.Module, phi0: torch.Tensor, steps: int = 10) -> float:
    """Largest ``|rollout(S phi0) - S rollout(phi0)|`` over the grid's symmetries ``S``
    (:func:`physdl.nn.grid_symmetries`: 48 in 3D), after ``steps`` network steps.

    Runs on a float64 copy of ``net`` on the CPU (float64 shows rounding, not the network, at
    about 1e-15; MPS has no float64), so ``net`` itself is left as it is. ``phi0`` is
    ``(1, 1, *space)`` on the network grid, best a state symmetric about no grid plane (an
    off-centre ellipsoid), so that every symmetry moves it.

    Explained in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    import copy

    from physdl.nn import apply_symmetry, grid_symmetries

    if not isinstance(phi0, torch.Tensor) or phi0.dim() not in (4, 5) or phi0.shape[:2] != (1, 1):
        raise ValueError(f"phi0 must be one state (1, 1, *space) in 2D or 3D, got {getattr(phi0, 'shape', type(phi0).__name__)}")
    steps = check_int(steps, "steps", 1)
    model = copy.deepcopy(net).double().cpu()
    state = phi0.detach().double().cpu()
    symmetries = grid_symmetries(state.dim() - 2)
    moved = model.rollout(torch.cat([apply_symmetry(state, s) for s in symmetries]), steps, save_every=steps)[0][:, -1]
    plain = model.rollout(state, steps, save_every=steps)[0][:, -1]
    return max(float((moved[i:i + 1] - apply_symmetry(plain, s)).abs().max()) for i, s in enumerate(symmetries))


def periodic_distance(a: torch.Tensor, b: torch.Tensor, period: Sequence[int]) -> torch.Tensor:
    """Euclidean distance between points ``(..., dims)`` on a periodic box (nearest images).

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        raise ValueError("a and b must be tensors of one shape (..., dims)")
    length = torch.as_tensor([float(p) for p in period], dtype=a.dtype, device=a.device)
    if length.numel() != a.shape[-1] or not bool((length > 0).all()):
        raise ValueError(f"period must give one positive length per axis ({a.shape[-1]}), got {tuple(period)}")
    d = (a - b).remainder(length)
    return torch.minimum(d, length - d).norm(dim=-1)


def energy_rises(energy: torch.Tensor) -> torch.Tensor:
    """Relative rise of the free energy between consecutive frames, ``(batch, time - 1)``.

    ``(F_{k+1} - F_k) / |F_k|``: positive where the energy rose. A Cahn-Hilliard flow
    never raises it, so the largest entry measures how far a rollout is from a gradient flow.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    if not isinstance(energy, torch.Tensor) or energy.dim() != 2 or energy.shape[1] < 2:
        raise ValueError("energy must be (batch, time) with at least two frames")
    e = energy.double()
    return (e[:, 1:] - e[:, :-1]) / e[:, :-1].abs().clamp_min(torch.finfo(torch.float64).tiny)


@dataclass(frozen=True)
class LongHorizon:
    """A network rollout beside the solver from one state, on the network grid.

    Attributes:
        steps: ``(frames,)`` network step of each saved frame (``0`` first).
        network, solver: ``(batch, frames, 1, *space)``, the solver's frames downsampled.
        dx: grid spacing of the network grid (solver units), for the free energy.
    """

    steps: torch.Tensor
    network: torch.Tensor
    solver: torch.Tensor
    dx: float

    def energy(self, model: ch.CahnHilliard = ch.CahnHilliard()) -> tuple[torch.Tensor, torch.Tensor]:
        """Free energy per volume of every frame, ``(batch, frames)`` for network and solver,
        on the network grid (spacing :attr:`dx`)."""
        coarse = ch.CahnHilliard(epsilon=model.epsilon, mobility=model.mobility, dx=self.dx)
        return ch.free_energy(self.network.double(), coarse), ch.free_energy(self.solver.double(), coarse)

    def scores(self, start: int = 5, model: ch.CahnHilliard = ch.CahnHilliard()) -> dict[str, torch.Tensor]:
        """The long-horizon targets, per sample ``(batch,)``, over the frames from network step
        ``start`` on:

        - ``energy_rise``: largest relative rise of the network's free energy between saved
          frames (:func:`energy_rises`; a gradient flow has none);
        - ``energy_error``: relative difference of the final free energies;
        - ``centre_error``: largest distance between the centres of the minority phase
          (:func:`centre_of_mass`), in network cells;
        - ``fraction_error``: largest relative difference of the minority volume fractions;
        - ``mean_drift``: largest change of the network's mean of phi.

        Used in :ref:`07-crnn-long-horizon-new-shapes`.
        """
        start = check_int(start, "start", 0)
        keep = self.steps >= start
        if int(keep.sum()) < 2:
            raise ValueError(f"start = {start} leaves fewer than two saved frames")
        e_net, e_sol = (e[:, keep] for e in self.energy(model))
        c_net, c_sol = (centre_of_mass(x[:, keep]) for x in (self.network, self.solver))
        f_net, f_sol = (minority_fraction(x[:, keep]) for x in (self.network, self.solver))
        return {
            "energy_rise": energy_rises(e_net).max(dim=1).values.clamp_min(0.0),
            "energy_error": ((e_net[:, -1] - e_sol[:, -1]) / e_sol[:, -1].abs()).abs(),
            "centre_error": periodic_distance(c_net, c_sol, self.network.shape[3:]).max(dim=1).values,
            "fraction_error": ((f_net - f_sol).abs() / f_sol.clamp_min(1e-12)).max(dim=1).values,
            "mean_drift": mean_drift(self.network).abs().max(dim=1).values,
        }


def long_horizon(net: torch.nn.Module, phi0: torch.Tensor, steps: int, save_every: int = 10, factor: int = 2,
                 model: ch.CahnHilliard = ch.CahnHilliard(), switch_time: float = 5.0, dt_late: float = 0.05,
                 progress: bool = False, solver: LongHorizon | None = None) -> LongHorizon:
    """Roll ``net`` out for ``steps`` network steps (each ``net.dt``, the frame interval) from
    the solver-grid state ``phi0`` ``(batch, 1, *space)`` downsampled by ``factor``, beside the
    solver from ``phi0`` (explicit up to ``switch_time``, then semi-implicit with ``dt_late``:
    :func:`physdl.pde.cahn_hilliard.reference`), keeping every ``save_every``-th frame of both.

    Runs on ``phi0``'s device; the frames come back on the CPU. ``solver``: an earlier run
    from the same ``phi0`` and sizes whose solver frames are reused (another network beside
    the same reference, at the cost of the network alone).

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    from physdl.crnn.data import downsample

    steps, save_every, factor = check_int(steps, "steps", 1), check_int(save_every, "save_every", 1), check_int(factor, "factor", 1)
    if not isinstance(phi0, torch.Tensor) or phi0.dim() not in (4, 5) or phi0.shape[1] != 1:
        raise ValueError(f"phi0 must be (batch, 1, *space) in 2D or 3D, got {getattr(phi0, 'shape', type(phi0).__name__)}")
    dims = phi0.dim() - 2
    tau = float(net.dt)
    start = downsample(phi0[:, None], factor, dims)[:, 0]
    frames, index = net.rollout(start, steps, save_every=save_every, progress=progress)
    index = torch.as_tensor(index)
    if solver is not None:
        if not isinstance(solver, LongHorizon) or not torch.equal(solver.steps, index) \
                or solver.solver.shape != frames.shape or solver.dx != model.dx * factor \
                or not torch.allclose(solver.solver[:, 0].double(), start.detach().cpu().double(), atol=1e-6):
            raise ValueError("solver must be a LongHorizon of the same start, steps, save_every and factor")
        return LongHorizon(index, frames.cpu(), solver.solver, solver.dx)
    reference = ch.reference(phi0, steps + 1, tau, model, switch_time=switch_time, dt_late=dt_late,
                             progress=progress, save_every=save_every)
    return LongHorizon(index, frames.cpu(), downsample(reference, factor, dims).cpu(), model.dx * factor)

