"""Physics-informed neural networks (chapter 2).

A PINN represents one solution ``u(x, t)`` of a PDE by a network and trains it on

    L = alpha_0 mean (u(X_i) - y_i)^2 + alpha_1 mean R(X_j)^2,

the lecture's supervised term on known values ``y_i`` plus the squared residual ``R`` of the
PDE at collocation points ``X_j`` inside the domain, with the derivatives in ``R`` taken by
automatic differentiation of the network.

A PDE is a plain function of a :class:`Derivatives` object and the PDE's coefficients, so a
new equation takes a few lines. The heat equation, for example::

    def heat(d: Derivatives, kappa: torch.Tensor) -> torch.Tensor:
        return d("t") - kappa * d("x", "x")

Points are ``(n, 2)`` tensors of ``(x, t)`` rows; values are ``(n, 1)``.

Instead of fitting the initial and wall values through the supervised term, a
:class:`HardConstraint` ansatz (:func:`zero_dirichlet` for zero walls) meets them exactly, and
the loss is the residual alone.

Modules: :mod:`~physdl.pinn.data` (the domain and its points), :mod:`~physdl.pinn.model`
(the network and hard constraints), :mod:`~physdl.pinn.training` (derivatives, residuals,
the loss and the fit) and :mod:`~physdl.pinn.evaluation`.
"""

from __future__ import annotations

from physdl.pinn.data import (
    COORDINATES,
    Domain,
    FixedPoints,
    ResampledPoints,
    boundary_points,
    grid_points,
    initial_points,
    uniform_points,
)
from physdl.pinn.evaluation import evaluate, evaluation_seconds
from physdl.pinn.model import PINN, HardConstraint, zero_dirichlet
from physdl.pinn.training import (
    AdaptivePoints,
    Derivatives,
    Equation,
    JetDerivatives,
    PINNLoss,
    burgers,
    heat,
    jet_keys,
    largest_residuals,
    residual,
    train_pinn,
)

__all__ = ['COORDINATES', 'Domain', 'uniform_points', 'grid_points', 'initial_points', 'boundary_points', 'ResampledPoints', 'FixedPoints', 'AdaptivePoints', 'Equation', 'Derivatives', 'burgers', 'heat', 'PINNLoss', 'JetDerivatives', 'jet_keys', 'residual', 'largest_residuals', 'train_pinn', 'PINN', 'HardConstraint', 'zero_dirichlet', 'evaluate', 'evaluation_seconds']
