"""Fully connected networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from physdl.nn.inference import check_input, check_model
from physdl.ops.checks import check_choice, check_grid_shape, check_int

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters.

    Used in :ref:`01-surrogates-two-networks-of-comparable-size`,
    :ref:`02-burgers-pinn-1-the-lecture-s-pinn`,
    :ref:`07-crnn-the-network-a-recurrent-surrogate-with-a-divergence-head`.
    """
    return sum(p.numel() for p in check_model(model).parameters() if p.requires_grad)


def _activation(name: str) -> type[nn.Module]:
    return ACTIVATIONS[check_choice(name, "activation", tuple(sorted(ACTIVATIONS)))]


def _widths(hidden: object) -> list[int]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths, got {type(hidden).__name__}")
    return [check_int(h, "hidden", 1) for h in hidden]


class MLP(nn.Module):
    """Dense network ``in_features -> hidden... -> out_features``, activation between layers.

    Args:
        in_features, out_features: sizes of the input and output vectors.
        hidden: widths of the hidden layers, e.g. ``[20] * 8``.
        activation: ``"tanh"``, ``"relu"``, ``"gelu"`` or ``"silu"``.
        init: ``"xavier_normal"`` (Glorot normal, zero bias) or ``"default"`` (torch's).

    Input ``(..., in_features)``, output ``(..., out_features)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int],
        activation: str = "tanh",
        init: str = "xavier_normal",
    ) -> None:
        super().__init__()
        in_features, out_features = check_int(in_features, "in_features", 1), check_int(out_features, "out_features", 1)
        hidden = _widths(hidden)
        check_choice(init, "init", ("xavier_normal", "default"))
        act = _activation(activation)
        sizes = [in_features, *hidden, out_features]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(act())
        self.net = nn.Sequential(*layers)
        self.in_features = in_features
        if init == "xavier_normal":
            for m in self.net:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_normal_(m.weight)
                    nn.init.zeros_(m.bias)
        elif init != "default":
            raise ValueError(f"unknown init {init!r}; choose 'xavier_normal' or 'default'")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(self, x)
        if x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"expected input (..., {self.in_features}), got {tuple(x.shape)}")
        return self.net(x)


class FieldMLP(nn.Module):
    """Fully connected map between gridded fields: flatten, :class:`MLP`, reshape.

    The baseline against which a convolutional network is compared: it sees every grid
    value as an unrelated input, so it cannot reuse what it learns at one place elsewhere.

    Input ``(batch, in_channels, *space)``, output ``(batch, out_channels, *space)``.

    Used in :ref:`01-surrogates-two-networks-of-comparable-size`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        space: Sequence[int],
        hidden: Sequence[int],
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.space = check_grid_shape(space, "space")
        self.in_channels, self.out_channels = check_int(in_channels, "in_channels", 1), check_int(out_channels, "out_channels", 1)
        cells = 1
        for n in self.space:
            cells *= n
        self.mlp = MLP(in_channels * cells, out_channels * cells, hidden, activation, init="default")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(self, x)
        expected = (self.in_channels, *self.space)
        if x.dim() == 0 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"expected input (batch, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        y = self.mlp(x.flatten(1))
        return y.view(x.shape[0], self.out_channels, *self.space)
