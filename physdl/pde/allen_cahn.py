"""Allen-Cahn, ``dphi/dt = -M (phi^3 - phi - epsilon^2 lap phi)``: the example of "Extending physdl".

Gradient flow of ``sum (phi^2 - 1)^2 / 4 + epsilon^2 / 2 |grad phi|^2`` (phases +-1), periodic, mean not conserved."""

from __future__ import annotations

import torch

from physdl.ops import gradient_energy, laplacian
from physdl.ops.grid import Grid, positive_float
from physdl.pde.stepper import Stepper, as_dt


class AllenCahn(Stepper):
    """Forward Euler on ``(batch, 1, *space)``; ``epsilon``: interface width (length), ``mobility``: M."""
    channels = 1

    def __init__(self, grid: Grid, dt: float, epsilon: float = 1.0, mobility: float = 1.0) -> None:
        if not grid.periodic:
            raise ValueError(f"AllenCahn needs a periodic grid, got boundaries {grid.boundary}")
        self.grid, self.dt = grid, as_dt(dt)
        self.epsilon, self.mobility = positive_float(epsilon, "epsilon"), positive_float(mobility, "mobility")
        self.check_time_step()

    def stability_limit(self, state: torch.Tensor | None = None) -> float:
        # Linearised factor 1 - dt M (epsilon^2 lambda + f''), f'' <= 2 for |phi| <= 1.
        lam = sum(4 / h**2 for h in self.grid.spacing)
        return 2 / (self.mobility * (self.epsilon**2 * lam + 2))

    def limit_description(self) -> str:
        return "dt <= 2 / (M (epsilon^2 sum 4/dx^2 + 2))"

    def step(self, state: torch.Tensor) -> torch.Tensor:
        mu = state**3 - state - self.epsilon**2 * laplacian(state, self.grid.spacing)
        return state - self.dt * self.mobility * mu

    def free_energy(self, state: torch.Tensor) -> torch.Tensor:
        """``F`` per sample, ``(batch,)``."""
        density = (state**2 - 1) ** 2 / 4 + self.epsilon**2 * gradient_energy(state, self.grid.spacing)
        return density.flatten(1).sum(1) * float(torch.tensor(self.grid.spacing, device="cpu").prod())
