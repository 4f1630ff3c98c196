"""Differentiable physics (chapters 3 and 4): optimise what goes into a solver by its gradient.

Three tasks, all plain gradient-based loops around the solvers of :mod:`physdl.pde`:

- :func:`fit_velocity`: find the velocity ``u(x)`` that advects ``d0`` into a target.
- :func:`fit_initial_state`: find the Burgers initial state whose simulation matches a
  target state after some steps (the lecture's experiment).
- :class:`InitialStateNet` and :func:`train_through_solver`: a network that proposes the
  initial state for any target of a family, trained through the solver.

Modules: :mod:`~physdl.diffphys.data` (families of targets), :mod:`~physdl.diffphys.model`
(the unrolled solver and the initial-state network) and :mod:`~physdl.diffphys.training`
(the losses through the solver and the fits).
"""

from __future__ import annotations

from physdl.diffphys.data import sine_family
from physdl.diffphys.model import InitialStateNet, final_state
from physdl.diffphys.training import (
    InitialStateFit,
    fit_initial_state,
    fit_velocity,
    gradient_step,
    train_through_solver,
    unrolled_loss,
)

__all__ = ['final_state', 'InitialStateNet', 'fit_velocity', 'InitialStateFit', 'fit_initial_state', 'train_through_solver', 'gradient_step', 'unrolled_loss', 'sine_family']
