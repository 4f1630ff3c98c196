"""Training a PINN: derivatives of the network, PDE residuals, the loss and the fit."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from physdl.config import as_device
from physdl.nn import taylor
from physdl.nn.inference import check_model
from physdl.optim import UPDATES, QuasiNewton
from physdl.ops.checks import broadcast_field, check_bool, check_choice, check_dtype, check_int, check_real, check_tensor, finite_tensor
from physdl.pinn.data import COORDINATES, check_domain, check_points, uniform_points
from physdl.sampling import step_generator
from physdl.pinn.model import PINN, HardConstraint
from physdl.train import History, fit

Equation = Callable[..., torch.Tensor]


"""``equation(d: Derivatives, **coefficients) -> residual (n, 1)``."""


class Derivatives:
    """Derivatives of a network's output at given points, by automatic differentiation.

    ``d("t")`` is ``du/dt``, ``d("x", "x")`` is ``d2u/dx2``; each is computed once and cached.
    ``d.u`` is the value itself. All are ``(n, 1)`` and stay in the autograd graph, so a loss
    built from them can be back-propagated into the network's weights.

    Explained in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`.
    """

    def __init__(self, u: torch.Tensor, points: torch.Tensor, names: Sequence[str] = COORDINATES) -> None:
        check_tensor(points, "points")
        check_tensor(u, "u")
        names = _check_names(names, points)
        if u.shape != (points.shape[0], 1):
            raise ValueError(f"u must be shaped (n, 1) = ({points.shape[0]}, 1), got {tuple(u.shape)}")
        if not points.requires_grad:
            raise ValueError("points must require grad; build them with points.requires_grad_()")
        self.u, self.points, self.names = u, points, tuple(names)
        self._cache: dict[tuple[str, ...], torch.Tensor] = {(): u}

    def __call__(self, *names: str) -> torch.Tensor:
        _check_derivative(names, self.names)
        key = tuple(names)
        if key not in self._cache:
            lower = self(*key[:-1])
            (g,) = torch.autograd.grad(lower, self.points, torch.ones_like(lower), create_graph=True)
            k = self.names.index(key[-1])
            self._cache[key] = g[:, k : k + 1]
        return self._cache[key]


def _check_names(names: object, points: torch.Tensor) -> tuple[str, ...]:
    """One coordinate name per column of ``points``, all different."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be a sequence of coordinate names such as ('x', 't'), got {names!r}")
    names = tuple(names)
    if points.dim() != 2 or len(names) != points.shape[1] or len(set(names)) != len(names):
        raise ValueError(f"names must name each column of points {tuple(points.shape)} once, got {names}")
    return names


def _check_derivative(names: tuple, known: tuple[str, ...]) -> None:
    for n in names:
        if n not in known:
            raise ValueError(f"unknown coordinate {n!r}; the coordinates are {known}")


def _check_derivatives(d: object) -> None:
    if not (callable(d) and isinstance(getattr(d, "u", None), torch.Tensor)):
        raise TypeError(f"d must be a Derivatives (or JetDerivatives) of the network, got {type(d).__name__}")


def _coefficient(value: object, name: str, u: torch.Tensor) -> torch.Tensor | float:
    """A PDE coefficient: a non-negative number, a finite 0-d tensor (a learned one, kept in the
    graph) or a finite tensor of point-wise values that broadcasts to ``u`` ``(n, 1)`` without growing it."""
    if isinstance(value, torch.Tensor) and value.dim():
        return broadcast_field(value, u, name)
    if isinstance(value, torch.Tensor) and value.requires_grad:
        return finite_tensor(value, name)
    return check_real(value, name, 0)


def burgers(d: Derivatives, nu: torch.Tensor | float) -> torch.Tensor:
    """Residual of Burgers' equation, ``u_t + u u_x - nu u_xx``.

    Explained in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`,
    :ref:`02-burgers-pinn-4-what-pinns-cost-and-what-they-are-good-for`.
    """
    _check_derivatives(d)
    nu = _coefficient(nu, "nu", d.u)
    return d("t") + d.u * d("x") - nu * d("x", "x")


def heat(d: Derivatives, kappa: torch.Tensor | float) -> torch.Tensor:
    """Residual of the heat equation, ``u_t - kappa u_xx``."""
    _check_derivatives(d)
    kappa = _coefficient(kappa, "kappa", d.u)
    return d("t") - kappa * d("x", "x")


@dataclass
class PINNLoss:
    """The loss ``alpha_0 * data + alpha_1 * residual`` as a function of the step.

    Attributes:
        model: the :class:`PINN`.
        equation: the PDE residual, e.g. :func:`burgers`.
        data_points, data_values: supervised points ``(n, 2)`` and values ``(n, 1)`` (known
            values, initial and boundary conditions).
        collocation: ``step -> (m, 2)`` points where the residual is evaluated.
        alpha0, alpha1: weights of the supervised and residual terms.
        forward_mode: propagate the input derivatives forward through a tanh MLP
            (:func:`residual`); faster, equal to rounding.
    """

    model: PINN
    equation: Equation
    data_points: torch.Tensor
    data_values: torch.Tensor
    collocation: Callable[[int], torch.Tensor]
    alpha0: float = 1.0
    alpha1: float = 1.0
    forward_mode: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.model, PINN):
            raise TypeError(f"model must be a physdl.pinn.PINN, got {type(self.model).__name__}")
        for name in ("equation", "collocation"):
            if not callable(getattr(self, name)):
                raise TypeError(f"{name} must be callable, got {type(getattr(self, name)).__name__}")
        points = finite_tensor(self.data_points, "data_points")
        if points.dim() != 2 or points.shape[1] != 2:  # no rows at all is allowed (a hard-constrained ansatz)
            raise ValueError(f"data_points must be shaped (n, 2) with columns (x, t), got {tuple(points.shape)}")
        finite_tensor(self.data_values, "data_values")
        if self.data_values.shape != (self.data_points.shape[0], 1):
            raise ValueError(f"data_values must be shaped (n, 1) = ({self.data_points.shape[0]}, 1), "
                             f"got {tuple(self.data_values.shape)}")
        if self.data_values.dtype != points.dtype or self.data_values.device != points.device:
            raise ValueError("data_values must have the dtype and device of data_points")
        self.alpha0 = check_real(self.alpha0, "alpha0", 0)
        self.alpha1 = check_real(self.alpha1, "alpha1", 0)
        self.forward_mode = check_bool(self.forward_mode, "forward_mode")

    def residual(self, points: torch.Tensor) -> torch.Tensor:
        """PDE residual of the model at ``points``, ``(n, 1)`` (differentiable)."""
        return residual(self.model, points, self.equation, self.forward_mode)

    def terms(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(data term, residual term)`` at ``step``, both means of squares."""
        return self.terms_at(self.collocation(step).to(self.data_points.device))

    def terms_at(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(data term, residual term)`` with the residual at the given ``points``."""
        if len(self.data_points):
            data = (self.model(self.data_points) - self.data_values).pow(2).mean()
        else:  # a hard-constrained ansatz may need no supervised points
            data = torch.zeros((), dtype=points.dtype, device=points.device)
        res = self.residual(points).pow(2).mean()
        return data, res

    def at(self, points: torch.Tensor) -> torch.Tensor:
        """The loss with the residual at the given collocation ``points`` ``(m, 2)``.

        Explained in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`.
        """
        data, res = self.terms_at(points)
        return self.alpha0 * data + self.alpha1 * res

    def __call__(self, step: int) -> torch.Tensor:
        return self.at(self.collocation(step).to(self.data_points.device))


class _Recorder:
    """Stands in for :class:`Derivatives` to find out which derivatives an equation uses."""

    def __init__(self, dtype: torch.dtype, device: torch.device, names: Sequence[str] = COORDINATES) -> None:
        self.names = tuple(names)
        self.u = torch.zeros(1, 1, dtype=dtype, device=device)
        self.keys: set[tuple[str, ...]] = set()

    def __call__(self, *names: str) -> torch.Tensor:
        for n in names:
            if n not in self.names:
                raise ValueError(f"unknown coordinate {n!r}; the coordinates are {self.names}")
        self.keys.add(tuple(names))
        return self.u


class JetDerivatives:
    """The :class:`Derivatives` interface, filled by forward propagation through a tanh MLP.

    Computes ``u`` and exactly the derivatives in ``keys`` (names such as ``("x", "x")``) in
    one pass with :func:`physdl.nn.taylor.jet` (or :meth:`HardConstraint.jet`); asking for any other raises ``KeyError``.
    """

    def __init__(self, net: nn.Module, points: torch.Tensor, keys: set[tuple[str, ...]],
                 names: Sequence[str] = COORDINATES) -> None:
        check_model(net, "net")
        inner = net.net if isinstance(net, HardConstraint) else net
        if not taylor.supports(inner):
            raise TypeError(f"net must be a tanh physdl.nn.MLP (or a HardConstraint around one), got {type(inner).__name__}")
        self.names = _check_names(names, check_points(points))
        if isinstance(keys, (str, bytes)) or not all(isinstance(k, tuple) and len(k) <= 2 for k in keys):
            raise TypeError(f"keys must be a set of derivative names up to second order, such as {{('x', 'x')}}; got {keys!r}")
        for key in keys:
            _check_derivative(key, self.names)
        index = {n: i for i, n in enumerate(self.names)}
        wanted = [tuple(index[n] for n in key) for key in keys]
        values = net.jet(points, wanted) if isinstance(net, HardConstraint) else taylor.jet(net, points, wanted)
        self.u = values[()]
        self._cache = {key: values[tuple(sorted(index[n] for n in key))] for key in keys}
        self._cache[()] = self.u

    def __call__(self, *names: str) -> torch.Tensor:
        if names not in self._cache:
            raise KeyError(f"derivative {names} was not computed; computed: {sorted(self._cache)}")
        return self._cache[names]


def jet_keys(model: PINN, equation: Equation, dtype: torch.dtype = torch.float32,
             device: torch.device | str = "cpu") -> set[tuple[str, ...]] | None:
    """The derivatives ``equation`` asks of ``model``, when they can be propagated forward.

    Returns the set of derivative names (such as ``("x", "x")``) when the model's network is a
    tanh :class:`physdl.nn.MLP`, alone or inside a :class:`HardConstraint`, and no derivative
    is above second order; else ``None`` (the residual then needs autograd, which
    differentiates the network twice).
    """
    _check_residual_args(model, equation)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    inner = model.net.net if isinstance(model.net, HardConstraint) else model.net
    if not taylor.supports(inner):
        return None
    probe = _Recorder(dtype, device)
    equation(probe, **model.coefficients())
    return probe.keys if all(len(key) <= 2 for key in probe.keys) else None


def _check_residual_args(model: object, equation: object) -> None:
    """``model`` is a :class:`PINN` and ``equation`` takes its coefficients by name."""
    if not isinstance(model, PINN):
        raise TypeError(f"model must be a physdl.pinn.PINN, got {type(model).__name__}")
    if not callable(equation):
        raise TypeError(f"equation must be callable (d, **coefficients) -> residual, got {type(equation).__name__}")
    names = (*model.fixed, *model.log_coefficients.names)
    try:
        inspect.signature(equation).bind(None, **dict.fromkeys(names))
    except TypeError as err:
        raise TypeError(f"equation {getattr(equation, '__name__', equation)!r} does not take the model's coefficients "
                        f"{sorted(names)} ({err})") from None
    except ValueError:  # no signature to read (a builtin): the call itself will tell
        pass


def residual(model: PINN, points: torch.Tensor, equation: Equation, forward_mode: bool = False) -> torch.Tensor:
    """Residual of ``equation`` for ``model`` at ``points`` ``(n, 2)``, ``(n, 1)``.

    With ``forward_mode``, when the network is a tanh :class:`physdl.nn.MLP` and the
    equation needs derivatives up to second order (:func:`jet_keys`), they are propagated
    forward with the values (:mod:`physdl.nn.taylor`) instead of differentiating the network
    twice by autograd: one graph instead of three, the same numbers to rounding, and a loss
    that ``torch.compile`` can trace in one piece. ``forward_mode=True`` asks for it (autograd
    is the default, and the fallback for any other network).
    """
    _check_residual_args(model, equation)
    check_points(points)
    forward_mode = check_bool(forward_mode, "forward_mode")
    coefficients = model.coefficients()
    if forward_mode:
        keys = jet_keys(model, equation, points.dtype, points.device)
        if keys is not None:
            return equation(JetDerivatives(model.net, points.detach(), keys), **coefficients)
    pts = points.detach().clone().requires_grad_(True)
    d = Derivatives(model(pts), pts)
    return equation(d, **coefficients)


def largest_residuals(loss: PINNLoss, candidates: torch.Tensor, n: int, batch_size: int = 16384) -> torch.Tensor:
    """The ``n`` rows of ``candidates`` ``(m, 2)`` where the PDE residual is largest, ``(n, 2)``.

    Residual-based adaptive refinement (RAR, Lu et al. 2021): adding these points to the
    collocation set puts them where the network fits the PDE worst, typically around a
    shock, which a uniform set resolves poorly. The residual is evaluated in batches and
    nothing is kept for the gradient.

    Explained in :ref:`02-burgers-pinn-2-a-well-configured-pinn`.
    """
    if not isinstance(loss, PINNLoss):
        raise TypeError(f"loss must be a PINNLoss, got {type(loss).__name__}")
    check_points(candidates, "candidates")
    batch_size = check_int(batch_size, "batch_size", 1)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 < n <= len(candidates):
        raise ValueError(f"n must be between 1 and the number of candidates ({len(candidates)}), got {n}")
    dev = loss.data_points.device
    with torch.enable_grad():  # the autograd residual needs it even when no gradient is kept
        size = torch.cat([loss.residual(chunk.to(dev)).detach().abs()[:, 0]
                          for chunk in candidates.split(batch_size)])
    return candidates[size.topk(n).indices.to(candidates.device)]


class AdaptivePoints:
    """Collocation points redrawn where the residual is large: ``step -> (n, 2)``.

    Residual-based adaptive distribution (RAD, Wu, Zhu, Tan, Kartha and Lu 2023): every
    ``every`` steps, ``candidates`` uniform points of the domain are drawn, and ``n`` of them are
    kept without replacement with probability proportional to ``|R|^k / mean |R|^k + c``, where
    ``R`` is the loss's residual under the current model. ``c`` keeps a share of the points
    spread over the whole domain; ``k`` sets how strongly they gather where the residual is
    large (around the shock for Burgers). Between two redraws the set is fixed, so a closure
    optimiser sees one loss within a step and can build its curvature model over several steps.

    Draw ``j`` (steps ``j * every`` to ``(j + 1) * every - 1``) comes from the generator of
    ``(seed, j)`` (:mod:`physdl.sampling`) and the model at its first call; draw 0 is uniform.
    A run resumed between two redraws draws its current set again from the resumed model.

    Args:
        loss: the :class:`PINNLoss` whose residual guides the draw (its ``collocation`` may be
            this object).
        n: points per draw.
        domain: the :class:`physdl.pinn.Domain`.
        every: steps between two redraws.
        seed: seed of the draws.
        candidates: candidate points per draw, a multiple of ``n`` (at least ``n``).
        k, c: exponent and floor of the density (Wu et al. find ``k = 1``, ``c = 1`` robust).
        dtype: dtype of the points.

    Explained in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """

    def __init__(self, loss: PINNLoss, n: int, domain: object, every: int, seed: int = 0, candidates: int | None = None,
                 k: float = 1.0, c: float = 1.0, dtype: torch.dtype = torch.float32) -> None:
        if not isinstance(loss, PINNLoss):
            raise TypeError(f"loss must be a PINNLoss, got {type(loss).__name__}")
        self.loss, self.domain = loss, check_domain(domain)
        self.n, self.every, self.seed = check_int(n, "n", 1), check_int(every, "every", 1), check_int(seed, "seed", 0)
        self.candidates = check_int(10 * self.n if candidates is None else candidates, "candidates", self.n)
        self.k, self.c = check_real(k, "k", 0), check_real(c, "c", 0, lo_open=True)
        self.dtype = check_dtype(dtype)
        self.draws = 0  # how many draws were made (each costs one residual pass over the candidates)
        self._index: int | None = None
        self._points: torch.Tensor | None = None

    def __call__(self, step: int) -> torch.Tensor:
        index = check_int(step, "step", 0) // self.every
        if index != self._index:
            self._points, self._index = self._draw(index), index
            self.draws += 1
        assert self._points is not None
        return self._points

    def _draw(self, index: int) -> torch.Tensor:
        gen = step_generator(self.seed, index, "adaptive collocation")
        if index == 0:
            return uniform_points(self.n, self.domain, gen, self.dtype)
        pool = uniform_points(self.candidates, self.domain, gen, self.dtype)
        dev = self.loss.data_points.device
        with torch.enable_grad():
            size = torch.cat([self.loss.residual(chunk.to(dev)).detach().abs()[:, 0].double().cpu()
                              for chunk in pool.split(16384)])
        weight = size.pow(self.k)
        weight = weight / weight.mean().clamp_min(1e-300) + self.c
        keep = torch.multinomial(weight, self.n, replacement=False, generator=gen)
        return pool[keep]


def _adam(params: list[torch.Tensor], lr: float, fused: bool) -> torch.optim.Adam:
    """Adam; with ``fused=True`` the single-kernel update where this torch build has one for
    the parameters' device (CPU since torch 2.4), else the default implementation."""
    if fused:
        try:
            return torch.optim.Adam(params, lr=lr, fused=True)
        except RuntimeError:
            pass
    return torch.optim.Adam(params, lr=lr)


def train_pinn(
    loss: PINNLoss,
    adam_steps: int,
    lbfgs_steps: int = 0,
    lr: float = 1e-3,
    validate: Callable[[], float] | None = None,
    validate_every: int = 500,
    progress: bool | None = None,
    optimizer: str = "adam",
    lbfgs_collocation: Callable[[int], torch.Tensor] | None = None,
    lbfgs_history: int = 50,
    compile: bool = False,
    quasi_newton: str = "lbfgs",
) -> tuple[History, History]:
    """Adam (or plain gradient descent) for ``adam_steps``, then a quasi-Newton stage of ``lbfgs_steps``.

    ``optimizer`` is ``"adam"`` or ``"sgd"`` (the lecture's plain gradient descent) for the
    first stage. The L-BFGS stage uses torch's L-BFGS with a strong-Wolfe line search and 20
    inner iterations per step, on ``lbfgs_collocation`` when given (typically a larger, fixed
    set: L-BFGS builds its curvature model from a loss that should not change under it) and
    otherwise on the loss's own collocation points, fixed within each step; it keeps
    ``lbfgs_history`` curvature pairs. Both stages run through :func:`physdl.train.fit`.
    ``compile=True`` runs the loss through ``torch.compile`` (one compilation per number of
    collocation points, a few seconds on a CPU, counted in the histories' ``seconds``), which
    fuses the element-wise work of the forward-mode derivatives, and uses the fused Adam
    update; it needs a forward-mode loss (:func:`jet_keys`). Returns the two histories (the second is empty without L-BFGS).

    ``quasi_newton`` picks the second stage's optimiser: ``"lbfgs"`` (torch's, as above) or a
    dense one of :class:`physdl.optim.QuasiNewton` (``"bfgs"``, ``"ssbfgs"``, ``"ssbroyden"``;
    20 iterations per step, the same strong-Wolfe line search, ``lbfgs_history`` unused). The
    dense ones keep an ``n x n`` matrix for ``n`` parameters: for small networks, best in float64.

    Used in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`,
    :ref:`04-burgers-dp-pinn-or-differentiable-physics`.
    """
    if not isinstance(loss, PINNLoss):
        raise TypeError(f"loss must be a PINNLoss, got {type(loss).__name__}")
    adam_steps, lbfgs_steps = check_int(adam_steps, "adam_steps", 0), check_int(lbfgs_steps, "lbfgs_steps", 0)
    lbfgs_history, validate_every = check_int(lbfgs_history, "lbfgs_history", 1), check_int(validate_every, "validate_every", 1)
    lr, compile = check_real(lr, "lr", 0, lo_open=True), check_bool(compile, "compile")
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    check_choice(quasi_newton, "quasi_newton", ("lbfgs", *UPDATES))
    for name, fn in (("validate", validate), ("lbfgs_collocation", lbfgs_collocation)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    model = loss.model
    if compile and not (loss.forward_mode and jet_keys(model, loss.equation) is not None):
        raise ValueError("compile=True needs a loss with forward_mode=True on a tanh MLP (torch.compile "
                         "cannot differentiate the autograd residual twice); use compile=False")
    if optimizer == "adam":
        first = _adam(list(model.parameters()), lr, fused=compile)
    elif optimizer == "sgd":
        first = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    value = torch.compile(loss.at, dynamic=False) if compile else loss.at
    dev = loss.data_points.device

    def adam_loss(step: int) -> torch.Tensor:
        return value(loss.collocation(step).to(dev))

    h1 = fit(model, adam_loss, first, adam_steps, validate=validate, validate_every=validate_every,
             progress=progress, desc=f"PINN {optimizer}", restore_best=False)
    h2 = History()
    if lbfgs_steps:
        if quasi_newton == "lbfgs":
            lbfgs = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=20, history_size=lbfgs_history,
                                      line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)
        else:
            lbfgs = QuasiNewton(model.parameters(), update=quasi_newton, max_iter=20)
        # L-BFGS needs a loss that does not change within a step: fix the collocation points
        # of each step (ResampledPoints does) and offset the step index past the first stage.
        points = loss.collocation if lbfgs_collocation is None else lbfgs_collocation

        def lbfgs_loss(step: int) -> torch.Tensor:
            return value(points(adam_steps + step).to(dev))

        h2 = fit(model, lbfgs_loss, lbfgs, lbfgs_steps, validate=validate,
                 validate_every=max(1, validate_every // 20), progress=progress,
                 desc="PINN L-BFGS" if quasi_newton == "lbfgs" else f"PINN {quasi_newton.upper()}",
                 restore_best=False)
    return h1, h2
