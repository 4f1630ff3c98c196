"""The Burgers PINN problems of chapter 2, built from :mod:`physdl.pinn`.

Three set-ups on the course's problem (:mod:`physdl.pde.burgers`):

- :func:`lecture_problem`: the lecture's PINN. Known values at ``t = 0.5`` (the 128 grid
  positions) and on the walls, a fixed set of collocation points, 8 hidden layers of 20 tanh
  units, plain gradient descent.
- :func:`forward_problem`: a well-configured forward PINN. The initial and boundary
  conditions are the data; collocation points are redrawn every step; Adam, then L-BFGS.
- :func:`inverse_problem`: identify ``nu`` from scattered, possibly noisy samples of the
  solution (Raissi et al.'s parameter identification).
- :func:`precise_problem`, :func:`warm_up` and :func:`refine`: the forward problem in float64
  with residual-adaptive points and a dense self-scaled quasi-Newton optimiser, to relative
  errors of 1e-5 and below, scored by :func:`scoring_errors` / :class:`ErrorTrace`.

Modules: :mod:`~physdl.burgers_pinn.config`, :mod:`~physdl.burgers_pinn.data` (noisy samples,
collocation sets), :mod:`~physdl.burgers_pinn.model` (the network),
:mod:`~physdl.burgers_pinn.training` (the three problems) and
:mod:`~physdl.burgers_pinn.evaluation` (errors on the lecture grid).
"""

from __future__ import annotations

from physdl.burgers_pinn.config import DOMAIN, BurgersPINNConfig, chapter_config
from physdl.burgers_pinn.data import lbfgs_points, noisy_samples
from physdl.burgers_pinn.evaluation import SCORING_GRIDS, ErrorTrace, grid_error, predicted_field, scoring_errors
from physdl.burgers_pinn.model import network
from physdl.burgers_pinn.training import (
    forward_problem,
    inverse_problem,
    SECOND_STAGES,
    lecture_problem,
    precise_problem,
    refine,
    warm_up,
)

__all__ = ['network', 'DOMAIN', 'BurgersPINNConfig', 'chapter_config', 'lecture_problem', 'forward_problem', 'inverse_problem', 'noisy_samples', 'lbfgs_points', 'predicted_field', 'grid_error', 'precise_problem', 'warm_up', 'refine', 'SECOND_STAGES', 'SCORING_GRIDS',
           'scoring_errors', 'ErrorTrace']
