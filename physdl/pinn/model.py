"""PINN networks: a network of ``(x, t)`` with learnable PDE coefficients, and hard-constraint
ansatzes that meet initial and wall values exactly."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from physdl.nn import taylor
from physdl.nn.inference import check_model
from physdl.nn.positive import PositiveParameters
from physdl.ops.checks import check_real
from physdl.pinn.data import Domain, check_domain, check_points


class PINN(nn.Module):
    """A network ``(x, t) -> u`` together with the coefficients of its PDE.

    Args:
        net: maps ``(n, 2)`` points to ``(n, 1)`` values (e.g. :class:`physdl.nn.MLP`).
        coefficients: the PDE's coefficients by name, e.g. ``{"nu": 0.01 / pi}``.
        learn: names of coefficients to identify from data (the inverse problem). They are
            stored as logarithms (:class:`physdl.nn.PositiveParameters`), so they stay
            positive; start them from the given, positive value.
    """

    def __init__(self, net: nn.Module, coefficients: Mapping[str, float], learn: Sequence[str] = ()) -> None:
        super().__init__()
        check_model(net, "net")
        if not isinstance(coefficients, Mapping) or not all(isinstance(k, str) and k.isidentifier() for k in coefficients):
            raise TypeError(f"coefficients must be a mapping of names (identifiers: the equation takes them as keywords) "
                            f"to numbers, got {coefficients!r}")
        if isinstance(learn, str) or not all(isinstance(k, str) for k in learn):
            raise TypeError(f"learn must be a sequence of coefficient names (['nu'], not 'nu'), got {learn!r}")
        unknown = set(learn) - set(coefficients)
        if unknown:
            raise ValueError(f"cannot learn {sorted(unknown)}: not among the coefficients {sorted(coefficients)}")
        values = {k: check_real(v, f"coefficients[{k!r}]") for k, v in coefficients.items()}
        for k in learn:
            if values[k] <= 0:
                raise ValueError(f"coefficients[{k!r}] must be positive to be learned (it is stored as a logarithm), "
                                 f"got {values[k]}")
        self.net = net
        self.fixed = {k: v for k, v in values.items() if k not in learn}
        self.log_coefficients = PositiveParameters({k: values[k] for k in learn})

    def coefficients(self) -> dict[str, torch.Tensor | float]:
        """The PDE's coefficients, learned ones as (differentiable) tensors."""
        return {**self.fixed, **self.log_coefficients()}

    def coefficient_values(self) -> dict[str, float]:
        """The PDE's coefficients as plain numbers (for logging and reporting)."""
        return {k: float(v.detach()) if isinstance(v, torch.Tensor) else v for k, v in self.coefficients().items()}

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.net(points)


class HardConstraint(nn.Module):
    """The ansatz ``u(p) = lift(p) + envelope(p) * net(p)``.

    With a ``lift`` that meets the initial and boundary values and an ``envelope`` that
    vanishes exactly where they are imposed, every network gives a ``u`` that satisfies them,
    so training only has to drive the residual down (Lagaris et al. 1998; Lu et al. 2021).
    :func:`zero_dirichlet` builds the usual one for a 1D problem with zero walls.

    Args:
        net: the free part, ``(n, 2) -> (n, 1)``.
        lift, envelope: fixed point-wise functions ``(n, 2) -> (n, 1)`` without parameters.

    With a tanh :class:`physdl.nn.MLP` as ``net``, :meth:`jet` gives the input derivatives in
    forward mode (the product rule on the three parts), so :func:`residual` keeps its fast path.
    """

    def __init__(self, net: nn.Module, lift: Callable[[torch.Tensor], torch.Tensor],
                 envelope: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        check_model(net, "net")
        for name, fn in (("lift", lift), ("envelope", envelope)):
            if not callable(fn):
                raise TypeError(f"{name} must be callable (points (n, 2) -> (n, 1)), got {type(fn).__name__}")
        self.net, self.lift, self.envelope = net, lift, envelope
        self._last: tuple | None = None  # (points, keys, lift jet, envelope jet)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.lift(points) + self.envelope(points) * self.net(points)

    def jet(self, points: torch.Tensor, keys: Sequence[tuple[int, ...]]) -> dict[tuple[int, ...], torch.Tensor]:
        """``u`` and its input derivatives ``keys`` (as :func:`physdl.nn.taylor.jet`)."""
        net = taylor.jet(self.net, points, keys)
        lift, envelope = self._fixed_jets(points, tuple(sorted(k for k in net if k)))
        return taylor.product_jet(lift, envelope, net)

    @torch.compiler.disable
    def _fixed_jets(self, points: torch.Tensor, keys: tuple[tuple[int, ...], ...]) -> tuple[dict, dict]:
        """Jets of the lift and the envelope; kept for the last points, since they do not train."""
        cached = self._last
        if cached is not None and cached[1] == keys and cached[0].shape == points.shape \
                and cached[0].dtype == points.dtype and cached[0].device == points.device \
                and torch.equal(cached[0], points):
            return cached[2], cached[3]
        lift = taylor.pointwise_jet(self.lift, points, keys)
        envelope = taylor.pointwise_jet(self.envelope, points, keys)
        self._last = (points.detach().clone(), keys, lift, envelope)
        return lift, envelope


def zero_dirichlet(net: nn.Module, initial: Callable[[torch.Tensor], torch.Tensor], domain: Domain) -> HardConstraint:
    """A :class:`HardConstraint` for ``u(x, t0) = initial(x)`` and ``u = 0`` on both walls.

    ``lift = initial(x)`` and ``envelope = s (1 - xi^2)``, with ``s = (t - t0) / (t1 - t0)``
    and ``xi`` the position scaled to ``[-1, 1]``. ``initial`` maps ``(n,)`` positions to
    ``(n,)`` values and must vanish on the walls (checked), or the conditions would disagree.

    Explained in :ref:`02-burgers-pinn-2-a-well-configured-pinn`.
    """
    check_model(net, "net")
    if not callable(initial):
        raise TypeError(f"initial must be callable (positions (n,) -> values (n,)), got {type(initial).__name__}")
    (x0, x1), (t0, t1) = check_domain(domain).x, domain.t
    walls = initial(torch.tensor([x0, x1], dtype=torch.float64, device="cpu"))
    if not isinstance(walls, torch.Tensor) or walls.shape != (2,):
        raise ValueError(f"initial must map positions (n,) to values (n,); for 2 positions it returned {walls!r}")
    if not bool(torch.isfinite(walls).all()) or walls.abs().max() > 1e-6:
        raise ValueError(f"the initial condition must be 0 on both walls for zero Dirichlet walls, got {walls.tolist()}")

    def lift(p: torch.Tensor) -> torch.Tensor:
        return initial(p[:, 0])[:, None]

    def envelope(p: torch.Tensor) -> torch.Tensor:
        xi = (2 * p[:, :1] - (x0 + x1)) / (x1 - x0)
        return (p[:, 1:] - t0) / (t1 - t0) * (1 - xi * xi)

    return HardConstraint(net, lift, envelope)
