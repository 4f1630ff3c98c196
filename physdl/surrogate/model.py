"""A network wrapped with the input and output scaling of the flow data."""

from __future__ import annotations

import torch
from torch import nn

from physdl.nn.inference import check_model
from physdl.ops import checks
from physdl.surrogate.data import force_magnitude


class Scaled(nn.Module):
    """Wraps a network so that it works on dimensionless values of order one.

    Stokes flow is linear in the force, so the outputs are divided by the force magnitude of
    their sample and then by a fixed per-channel scale ``scale`` (``(channel,)``); the inner
    network predicts these normalised values and :meth:`forward` returns physical units.
    This is the normalisation by the driving magnitude that Thuerey et al. use for flows
    around airfoils.

    Explained in :ref:`01-surrogates-the-data-set`.
    """

    def __init__(self, net: nn.Module, scale: torch.Tensor) -> None:
        super().__init__()
        check_model(net, "net")
        checks.finite_tensor(scale, "scale")
        if scale.dim() != 1 or not scale.numel() or not bool((scale > 0).all()):
            raise ValueError(f"scale must be a vector of positive entries, one per output channel, got {scale}")
        self.net = net
        self.register_buffer("scale", scale.reshape(1, -1, 1, 1).clone())

    def normalise(self, targets: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Physical targets to the normalised values the inner network predicts."""
        return targets / (self.scale * force_magnitude(inputs))

    @staticmethod
    def normalise_inputs(inputs: torch.Tensor) -> torch.Tensor:
        """Force channels divided by the sample's force magnitude; the mask unchanged."""
        return torch.cat([inputs[:, :2] / force_magnitude(inputs), inputs[:, 2:]], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalise_inputs(x)) * self.scale * force_magnitude(x)


def output_scale(targets: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Per-channel root-mean-square of targets divided by their force magnitude, ``(channel,)``.

    Used in :ref:`01-surrogates-two-networks-of-comparable-size`.
    """
    checks.finite_tensor(targets, "targets")
    magnitude = force_magnitude(inputs)
    if targets.dim() != 4 or targets.shape[:1] != inputs.shape[:1] or targets.shape[2:] != inputs.shape[2:]:
        raise ValueError(f"targets must be (batch, channel, nx, ny) like inputs {tuple(inputs.shape)}, "
                         f"got {tuple(targets.shape)}")
    return (targets / magnitude).pow(2).mean(dim=(0, 2, 3)).sqrt()
