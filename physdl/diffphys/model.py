"""What differentiable physics optimises through: the unrolled solver, and a network that
proposes initial states."""

from __future__ import annotations

import torch
from torch import nn

from physdl.nn import MLP
from physdl.nn.inference import check_input
from physdl.ops.checks import check_int, finite_tensor
from physdl.pde.stepper import Stepper, rollout


def check_states(u: object, name: str, n: int | None = None) -> torch.Tensor:
    """``u`` if it is a finite floating-point vector ``(n,)`` or batch of vectors ``(batch, n)``
    (or ``(batch, 1, n)``) with at least one entry; ``TypeError`` / ``ValueError`` naming ``name``."""
    u = finite_tensor(u, name)
    if u.dim() not in (1, 2, 3) or (u.dim() == 3 and u.shape[1] != 1) or not u.numel():
        raise ValueError(f"{name} must be a state (n,), a batch (batch, n) or (batch, 1, n), got shape {tuple(u.shape)}")
    if n is not None and u.shape[-1] != n:
        raise ValueError(f"{name} must have {n} nodes, got shape {tuple(u.shape)}")
    return u


def final_state(solver, u0: torch.Tensor, steps: int) -> torch.Tensor:
    """The state after ``steps`` solver steps from a vector ``u0 (n,)`` or a batch ``(batch, n)``, same shape.

    Used in :ref:`03-advection-the-gradient-by-the-chain-rule`,
    :ref:`04-burgers-dp-a-network-trained-through-the-solver`.
    """
    if not isinstance(solver, Stepper):
        raise TypeError(f"solver must be a Stepper, got {type(solver).__name__}")
    check_states(u0, "u0")
    steps = check_int(steps, "steps", 1)
    state = u0.reshape(-1, 1, u0.shape[-1])
    solver.check_state(state, "u0")
    return rollout(solver, state, steps, save_every=steps, include_initial=False, check_finite=False)[:, -1].reshape(u0.shape)


class InitialStateNet(nn.Module):
    """Maps a target state ``(batch, n)`` to a proposed initial state ``(batch, n)``.

    A dense network (:class:`physdl.nn.MLP`) with a residual connection from its input: it
    starts from "the initial state looks like the target" and learns the correction. The end
    values are set to zero so that the proposal satisfies the walls.

    Used in :ref:`04-burgers-dp-a-network-trained-through-the-solver`.
    """

    def __init__(self, n: int, hidden: tuple[int, ...] = (128, 128)) -> None:
        n = check_int(n, "n", 3)
        super().__init__()
        self.mlp = MLP(n, n, hidden, activation="tanh")

    def forward(self, target: torch.Tensor) -> torch.Tensor:
        check_input(self, target, "target")
        if target.dim() != 2 or target.shape[1] != self.mlp.in_features:
            raise ValueError(f"target must be shaped (batch, {self.mlp.in_features}), got {tuple(target.shape)}")
        u = target + self.mlp(target)
        return torch.cat([torch.zeros_like(u[:, :1]), u[:, 1:-1], torch.zeros_like(u[:, :1])], dim=1)
