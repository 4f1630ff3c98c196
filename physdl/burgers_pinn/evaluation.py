"""Evaluating a Burgers PINN on the lecture's grid against the exact solution."""

from __future__ import annotations

import torch

from physdl import pinn as P
from physdl.nn.inference import check_model
from physdl.ops.checks import check_int
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
