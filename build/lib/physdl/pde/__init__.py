"""PDE solvers, one module per equation: steppers, initial-state generators, reference
solutions and stability limits. No networks here.

Every time-dependent solver is a :class:`Stepper` made from a :class:`~physdl.ops.grid.Grid`,
a time step and the physics; :func:`rollout` is the one time loop (also ``physdl.rollout``).
"""

from physdl.pde.stepper import (
    Split,
    Stepper,
    Substepped,
    Switched,
    rollout,
    saved_steps,
)

__all__ = ["Split", "Stepper", "Substepped", "Switched", "rollout", "saved_steps"]
