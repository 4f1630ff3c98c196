"""Dense quasi-Newton optimisers for small networks: BFGS and its self-scaled variants.

:class:`QuasiNewton` keeps the full inverse-Hessian approximation ``H`` (``n x n`` for ``n``
parameters) and is used like :class:`torch.optim.LBFGS`: ``optimizer.step(closure)`` with a
closure that zeroes the gradients, computes the loss, back-propagates it and returns it.

Every update belongs to the self-scaled Broyden family in the inverse form of Urbán, Stefanou
and Pons (arXiv 2405.04230, eq. 10), with ``s`` the step, ``y`` the change of gradient,
``rho = 1 / (y.s)`` and ``v = rho s - H y / (y.H y)``::

    H+ = (H - H y y^T H / (y.H y) + phi (y.H y) v v^T) / tau + rho s s^T

- ``"bfgs"``: ``tau = phi = 1``, the BFGS update (Nocedal & Wright, eq. 6.17).
- ``"ssbfgs"``: ``phi = 1`` and ``tau = min(1, 1 / b)`` with ``b = s.B s / y.s`` (Al-Baali's
  self-scaled BFGS; ``B`` is ``H``'s inverse, so ``s.B s = -t s.g`` after a step of length
  ``t`` along ``d = -H g``).
- ``"ssbroyden"``: ``theta``, ``phi`` and ``tau`` chosen every step from ``b``, ``h = y.H y / y.s``
  and ``a = b h - 1`` (Al-Baali and Khalfan; Urbán et al. eqs. 13-23, their second choice of
  ``theta``, which Kiyani et al., arXiv 2501.16371, use on Burgers): see :func:`ssbroyden_factors`.

Why physdl writes its own: pytorch-minimize 0.1.0 offers dense BFGS only (no self-scaled
variants), and its update forms ``(I - rho s y^T) H (I - rho y s^T)`` with two dense matrix
products, ``O(n^3)`` work per step (about 5e10 operations for the 3,021 parameters of
chapter 2's network); the rank-two form here is ``O(n^2)``. The strong-Wolfe line search is
the one :class:`torch.optim.LBFGS` uses (which pytorch-minimize re-exports as well).

Before the first update ``H`` is the identity scaled by ``y.s / y.y`` (Nocedal & Wright,
eq. 6.20), for every variant; Urbán et al. apply a special first step to the self-scaled ones
instead. A step whose curvature ``y.s`` is not positive leaves ``H`` as it is; a direction that
is not a descent direction resets ``H`` to that scaled identity, and so does a line search
that ends on a non-finite loss (the step is then not taken).

Explained in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch.optim.lbfgs import _strong_wolfe

from physdl.ops.checks import check_choice, check_dtype, check_int, check_real, finite_tensor

UPDATES = ("bfgs", "ssbfgs", "ssbroyden")
LINE_SEARCHES = ("strong_wolfe", "exact")


@dataclass(frozen=True)
class Factors:
    """The factors of one update: ``tau`` scales the old ``H``, ``phi`` mixes DFP and BFGS."""

    tau: float
    phi: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau", check_real(self.tau, "tau", 0, lo_open=True))
        object.__setattr__(self, "phi", check_real(self.phi, "phi"))


def ssbfgs_factors(b: float) -> Factors:
    """Al-Baali's self-scaled BFGS: ``tau = min(1, 1 / b)``, ``phi = 1``.

    ``b = s.B s / y.s`` compares the curvature the model ``B = H^-1`` predicts along the step
    with the curvature measured; ``b > 1`` (the model too curved) scales ``H`` up. ``b`` must be
    positive (it is, after a step along a descent direction with positive curvature).
    """
    b = check_real(b, "b", 0, lo_open=True)
    return Factors(tau=min(1.0, 1.0 / b), phi=1.0)


def ssbroyden_factors(b: float, h: float, n: int) -> Factors:
    """The self-scaled Broyden factors of Urbán, Stefanou and Pons (2405.04230, eqs. 13-23).

    Args:
        b: ``s.B s / y.s``.
        h: ``y.H y / y.s``.
        n: number of parameters.

    With ``a = b h - 1`` (``>= 0`` by Cauchy-Schwarz) and ``c = sqrt(a / (1 + a))``:
    ``rho- = min(1, h (1 - c))``, ``theta- = (rho- - 1) / a``, ``theta+ = 1 / rho-``,
    ``theta = max(theta-, min(theta+, (1 - b) / b))``; ``sigma = 1 + a theta``;
    ``tau = min(1, 1/b) min(sigma^(1/(1-n)), 1/theta)`` for ``theta > 0``, else
    ``min(min(1, 1/b) sigma^(1/(1-n)), sigma)``; and ``phi = (1 - theta) / (1 + a theta)``.
    ``theta = 0`` is BFGS and ``theta = 1`` DFP in the direct (``B``) form.
    """
    b, h = check_real(b, "b", 0, lo_open=True), check_real(h, "h", 0, lo_open=True)
    n = check_int(n, "n", 1)
    a = max(b * h - 1.0, 0.0)
    if a < 1e-14:  # s and H y parallel: the family collapses to one update; take BFGS
        return Factors(tau=min(1.0, 1.0 / b), phi=1.0)
    c = math.sqrt(a / (1.0 + a))
    rho_minus = min(1.0, h * (1.0 - c))
    theta_minus = (rho_minus - 1.0) / a
    theta_plus = 1.0 / rho_minus if rho_minus > 0 else math.inf
    theta = max(theta_minus, min(theta_plus, (1.0 - b) / b))
    sigma = 1.0 + a * theta
    scale = min(1.0, 1.0 / b)
    sigma_root = abs(sigma) ** (1.0 / (1.0 - n)) if n > 1 else 1.0
    if theta > 0:
        tau = scale * min(sigma_root, 1.0 / theta)
    else:
        tau = min(scale * sigma_root, sigma) if sigma > 0 else scale * sigma_root
    if not math.isfinite(tau) or tau <= 0:
        tau = 1.0
    return Factors(tau=tau, phi=(1.0 - theta) / sigma)


def update_factors(update: str, b: float, h: float, n: int) -> Factors:
    """``(tau, phi)`` of ``update`` (one of :data:`UPDATES`) for the scalars ``b``, ``h``."""
    check_choice(update, "update", UPDATES)
    if update == "bfgs":
        check_real(b, "b", 0, lo_open=True), check_real(h, "h", 0, lo_open=True), check_int(n, "n", 1)
        return Factors(1.0, 1.0)
    if update == "ssbfgs":
        return ssbfgs_factors(b)
    return ssbroyden_factors(b, h, n)


def inverse_update(H: torch.Tensor, s: torch.Tensor, y: torch.Tensor, factors: Factors) -> torch.Tensor:
    """Apply the family's update to ``H`` ``(n, n)`` in place and return it (``O(n^2)``).

    The update of the module docstring written as ``H / tau + U C U^T`` with ``U = [H y, s]``
    ``(n, 2)``, so no ``n x n`` product is formed and ``H`` is read and written once. ``H``
    stays symmetric to rounding, and ``H+ y = s`` (the secant equation). ``y.s`` and
    ``y.H y`` must be positive.
    """
    if not isinstance(factors, Factors):
        raise TypeError(f"factors must be a physdl.optim.Factors, got {type(factors).__name__}")
    H, s, y = (finite_tensor(v, name) for v, name in ((H, "H"), (s, "s"), (y, "y")))
    n = s.numel()
    if s.dim() != 1 or y.shape != s.shape or H.shape != (n, n) or not n:
        raise ValueError(f"H must be (n, n) and s, y vectors (n,), got {tuple(H.shape)}, {tuple(s.shape)}, {tuple(y.shape)}")
    if not (H.dtype == s.dtype == y.dtype) or not H.is_floating_point() or not (H.device == s.device == y.device):
        raise ValueError(f"H, s and y must share one floating dtype and device, got {H.dtype}, {s.dtype}, {y.dtype}")
    ys = float(y @ s)
    hy = H @ y
    yhy = float(y @ hy)
    if not (ys > 0 and yhy > 0):
        raise ValueError(f"the update needs positive curvature y.s > 0 and y.H y > 0, got {ys:.3g} and {yhy:.3g}")
    _rank_two_update(H, s, hy, ys, yhy, factors)
    return H


def _rank_two_update(H: torch.Tensor, s: torch.Tensor, hy: torch.Tensor, ys: float, yhy: float,
                     factors: Factors) -> tuple[torch.Tensor, torch.Tensor]:
    """``H <- H / tau + U C U^T`` in place, with ``U = [H y, s]`` ``(n, 2)`` and ``C`` ``(2, 2)``
    from the factors; returns ``(U, C)`` so a caller can apply the update to a vector whose
    product with the old ``H`` it already has, without another pass over ``H``."""
    tau, phi = factors.tau, factors.phi
    rho = 1.0 / ys
    hh, hs = (phi - 1.0) / (yhy * tau), -phi * rho / tau
    ss = phi * yhy * rho * rho / tau + rho
    U = torch.stack([hy, s], dim=1)
    C = torch.tensor([[hh, hs], [hs, ss]], dtype=H.dtype, device=H.device)
    H.addmm_(U, C @ U.T, beta=1.0 / tau)
    return U, C


def _exact_line_search(evaluate: Callable, x: torch.Tensor, t: float, d: torch.Tensor, f: float,
                       g: torch.Tensor, gtd: float, tolerance: float = 1e-14,
                       max_evals: int = 50) -> tuple[float, torch.Tensor, float, int]:
    """Minimise ``f(x + t d)`` over ``t`` by the secant method on its derivative.

    Exact in one evaluation on a quadratic (the derivative is linear in ``t``); for the test
    of finite termination. Returns ``(f, g, t, evaluations)`` like torch's line search.
    """
    t0, slope0 = 0.0, gtd
    t1 = t
    f1, g1 = evaluate(x, t1, d)
    slope1, evals = float(g1 @ d), 1
    while abs(slope1) > tolerance * abs(gtd) and evals < max_evals and slope1 != slope0:
        t0, t1, slope0 = t1, t1 - slope1 * (t1 - t0) / (slope1 - slope0), slope1
        f1, g1 = evaluate(x, t1, d)
        slope1, evals = float(g1 @ d), evals + 1
    return f1, g1, t1, evals


class QuasiNewton(torch.optim.Optimizer):
    """Dense BFGS / self-scaled BFGS / self-scaled Broyden with a line search.

    Args:
        params: the parameters (one group).
        update: one of :data:`UPDATES` (see the module docstring).
        max_iter: quasi-Newton iterations per :meth:`step` (as :class:`torch.optim.LBFGS`).
        line_search: ``"strong_wolfe"`` (torch's, ``c1 = 1e-4``, ``c2 = 0.9``) or ``"exact"``
            (secant iterations to a zero of the directional derivative; for tests).
        tolerance_grad: stop when the largest gradient entry is at most this.
        tolerance_change: stop when the loss or the step changes by less than this.
        hessian_dtype: dtype of ``H`` (default: the parameters'). float64 keeps the update
            accurate for a float32 network, at twice the memory.

    Memory is ``n^2`` numbers (73 MB in float64 for ``n = 3021``); meant for networks of up
    to about 10^4 parameters. State after a step: ``state["H"]``, ``state["iterations"]``,
    ``state["evaluations"]``, ``state["tau"]`` and ``state["phi"]`` (the last update's factors).

    Explained in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """

    #: :func:`physdl.train.fit` passes a closure to :meth:`step`
    closure_based = True

    def __init__(self, params: Iterable[torch.Tensor], update: str = "ssbroyden", max_iter: int = 20,
                 line_search: str = "strong_wolfe", tolerance_grad: float = 1e-12,
                 tolerance_change: float = 1e-16, hessian_dtype: torch.dtype | None = None) -> None:
        check_choice(update, "update", UPDATES)
        check_choice(line_search, "line_search", LINE_SEARCHES)
        defaults = dict(update=update, max_iter=check_int(max_iter, "max_iter", 1), line_search=line_search,
                        tolerance_grad=check_real(tolerance_grad, "tolerance_grad", 0),
                        tolerance_change=check_real(tolerance_change, "tolerance_change", 0))
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("QuasiNewton takes one parameter group (it builds one Hessian for all parameters)")
        self._params = self.param_groups[0]["params"]
        if any(p.is_complex() or p.is_sparse for p in self._params):
            raise ValueError("QuasiNewton needs dense real parameters")
        self._hessian_dtype = None if hessian_dtype is None else check_dtype(hessian_dtype, "hessian_dtype")

    # -- flat views of the parameters and their gradient
    def _flat_grad(self) -> torch.Tensor:
        return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self._params])

    def _flat_params(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self._params])

    @torch.no_grad()
    def _set(self, x: torch.Tensor) -> None:
        offset = 0
        for p in self._params:
            p.copy_(x[offset : offset + p.numel()].view_as(p))
            offset += p.numel()

    def _evaluate(self, closure: Callable[[], torch.Tensor], x: torch.Tensor, t: float,
                  d: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Loss and flat gradient at ``x + t d`` (in the Hessian's dtype)."""
        self._set(x + t * d.to(x.dtype))
        with torch.enable_grad():
            loss = float(closure().detach())
        return loss, self._flat_grad().to(d.dtype)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        """Up to ``max_iter`` quasi-Newton iterations; returns the loss at the start."""
        if not callable(closure):
            raise TypeError("QuasiNewton.step needs a closure that recomputes the loss and its gradient")
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        with torch.enable_grad():
            first_loss = closure()
        loss = float(first_loss.detach())
        x = self._flat_params()
        dtype = self._hessian_dtype or x.dtype
        g = self._flat_grad().to(dtype)
        n = g.numel()
        H = state.get("H")
        if H is None or H.shape != (n, n):
            H = torch.eye(n, dtype=dtype, device=g.device)
            state.update(H=H, iterations=0, evaluations=0, fresh=True)
        if float(g.abs().max()) <= group["tolerance_grad"]:
            return first_loss
        search = _strong_wolfe if group["line_search"] == "strong_wolfe" else _exact_line_search
        # H g for the next direction. Each iteration reads H once for [H y, H g_new] and
        # updates it once (H g_new then follows from the rank-two update, no third pass):
        # H (n^2 numbers) is the largest array here, and these passes are memory-bound.
        hg = H @ g
        for _ in range(group["max_iter"]):
            d = -hg
            gtd = float(g @ d)
            if not gtd < 0:  # H lost positive definiteness (rounding): restart from the gradient
                H.copy_(torch.eye(n, dtype=dtype, device=g.device))
                state["fresh"] = True
                d, gtd = -g, -float(g @ g)
            t = min(1.0, 1.0 / float(g.abs().sum())) if state["fresh"] else 1.0
            new_loss, new_g, t, evals = search(lambda x0, t0, d0: self._evaluate(closure, x0, t0, d0),
                                               x.to(dtype), t, d, loss, g, gtd)
            state["evaluations"] += evals
            state["iterations"] += 1
            if not (math.isfinite(new_loss) and bool(torch.isfinite(new_g).all())):
                # the line search ended on an overflow (float32 far from the minimum): stay
                # put and restart from the scaled identity at the next step
                H.copy_(torch.eye(n, dtype=dtype, device=g.device))
                state["fresh"] = True
                break
            s = t * d
            y = new_g - g
            ys = float(y @ s)
            if ys > 1e-300 and math.isfinite(ys):
                if state["fresh"]:
                    H.mul_(ys / float(y @ y))
                    state["fresh"] = False
                b = -t * float(s @ g) / ys
                # [y, g_new]^T H = (H [y, g_new])^T as H is symmetric: a (2, n) x (n, n) product
                # streams H once, where BLAS's (n, n) x (n, 2) reads it once per column
                hy, hg = (torch.stack([y, new_g]) @ H).unbind(0)
                yhy = float(y @ hy)
                h = yhy / ys
                if b > 0 and h > 0 and math.isfinite(b * h):  # else rounding broke H: keep it as it is
                    factors = update_factors(group["update"], b, h, n)
                    U, C = _rank_two_update(H, s, hy, ys, yhy, factors)
                    hg = hg / factors.tau + U @ (C @ (U.T @ new_g))  # the updated H times g_new
                    state["tau"], state["phi"] = factors.tau, factors.phi
            else:
                hg = H @ new_g
            x = x + s.to(x.dtype)
            change = abs(new_loss - loss)
            loss, g = new_loss, new_g
            if float(g.abs().max()) <= group["tolerance_grad"] or change < group["tolerance_change"] \
                    or float(s.abs().max()) < group["tolerance_change"]:
                break
        self._set(x)
        state["H"] = H
        return first_loss
