"""Convolutional gated recurrent units (ConvGRU) in 1D, 2D or 3D.

A ConvGRU is a GRU whose matrix products are convolutions, so its hidden state is a field
with the spatial shape of the input (Shi et al., 2015). The cell here follows the "deeper"
gate mapping of Lanzoni et al. (2024): every input-to-gate and hidden-to-gate map is a
``k^d`` convolution, a tanh and a 1x1 convolution. With circular padding the cell is
translation-equivariant on a periodic grid and applies to any grid size.

Shapes: input ``(batch, in_channels, *space)``, hidden ``(batch, hidden_channels, *space)``.
"""

from __future__ import annotations

import torch
from torch import nn

from physdl.nn.conv import CONVOLUTIONS, convolution
from physdl.nn.inference import check_input
from physdl.nn.symmetric import SymmetricConv
from physdl.ops.checks import check_bool, check_choice, check_int

#: padding modes of torch's convolutions ("circular" for periodic grids).
PADDING_MODES = ("circular", "zeros", "reflect", "replicate")


def _gate_map(dims: int, cin: int, cout: int, kernel: int, padding_mode: str, symmetric: bool = False) -> nn.Sequential:
    conv = convolution(dims)
    spatial = (SymmetricConv(cin, cout, kernel, dims, padding_mode) if symmetric
               else conv(cin, cout, kernel, padding=kernel // 2, padding_mode=padding_mode))
    return nn.Sequential(spatial, nn.Tanh(), conv(cout, cout, 1))


class ConvGRUCell(nn.Module):
    """One ConvGRU cell.

    ``r, z = sigmoid(W_x x + W_h h)``, ``c = tanh(W_xc x + W_hc (r h))``,
    ``h_new = (1 - z) c + z h``, where every ``W`` is conv -> tanh -> 1x1 conv.

    Args:
        in_channels: channels of the input.
        hidden_channels: channels of the hidden state.
        kernel_size: odd kernel size of the spatial convolutions.
        dims: number of spatial axes (1, 2 or 3).
        padding_mode: ``"circular"`` for periodic grids, or ``"zeros"``, ``"reflect"``, ...
        symmetric: spatial kernels invariant under the grid's reflections and axis swaps
            (:class:`physdl.nn.symmetric.SymmetricConv`): the cell is then equivariant to them.
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3, dims: int = 3,
                 padding_mode: str = "circular", symmetric: bool = False) -> None:
        super().__init__()
        dims, kernel_size = check_int(dims, "dims", 1, 3), check_int(kernel_size, "kernel_size", 1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        in_channels, hidden_channels = check_int(in_channels, "in_channels", 1), check_int(hidden_channels, "hidden_channels", 1)
        check_choice(padding_mode, "padding_mode", PADDING_MODES)
        symmetric = check_bool(symmetric, "symmetric")
        self.dims, self.in_channels, self.hidden_channels = dims, in_channels, hidden_channels
        gates = lambda cin, cout: _gate_map(dims, cin, cout, kernel_size, padding_mode, symmetric)  # noqa: E731
        self.input_gates = gates(in_channels, 3 * hidden_channels)
        self.hidden_gates = gates(hidden_channels, 2 * hidden_channels)
        self.hidden_candidate = gates(hidden_channels, hidden_channels)

    def initial_state(self, x: torch.Tensor) -> torch.Tensor:
        """A zero hidden state matching the batch and grid of ``x``."""
        return x.new_zeros(x.shape[0], self.hidden_channels, *x.shape[2:])

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Return the new hidden state ``(batch, hidden_channels, *space)``."""
        check_input(self, x)
        if x.dim() != self.dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input (batch, {self.in_channels}, {self.dims} spatial axes), got {tuple(x.shape)}")
        if h is None:
            h = self.initial_state(x)
        else:
            check_input(self, h, "h")
            if h.shape != (x.shape[0], self.hidden_channels, *x.shape[2:]):
                raise ValueError(f"h must be (batch, {self.hidden_channels}, *space) like the input, got {tuple(h.shape)}")
        reset_x, update_x, candidate_x = self.input_gates(x).chunk(3, dim=1)
        reset_h, update_h = self.hidden_gates(h).chunk(2, dim=1)
        reset = torch.sigmoid(reset_x + reset_h)
        update = torch.sigmoid(update_x + update_h)
        candidate = torch.tanh(candidate_x + self.hidden_candidate(reset * h))
        return (1 - update) * candidate + update * h


class ConvGRU(nn.Module):
    """A stack of :class:`ConvGRUCell`; the first takes the input, each next one the hidden
    state of the one below.

    ``forward(x, hidden)`` advances every layer by one step and returns the list of new
    hidden states (the last one is the stack's output). Pass the returned list back in to
    continue a sequence; ``hidden=None`` starts from zeros. ``symmetric`` as for the cell.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 10, layers: int = 2, kernel_size: int = 3,
                 dims: int = 3, padding_mode: str = "circular", symmetric: bool = False) -> None:
        super().__init__()
        layers = check_int(layers, "layers", 1)
        self.cells = nn.ModuleList(
            ConvGRUCell(in_channels if i == 0 else hidden_channels, hidden_channels, kernel_size, dims, padding_mode,
                        symmetric)
            for i in range(layers)
        )

    def forward(self, x: torch.Tensor, hidden: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
        if hidden is not None and (isinstance(hidden, torch.Tensor) or not isinstance(hidden, (list, tuple))):
            raise TypeError(f"hidden must be a list of hidden states (one per layer) or None, got {type(hidden).__name__}")
        if hidden is not None and len(hidden) != len(self.cells):
            raise ValueError(f"hidden must hold {len(self.cells)} hidden states, one per layer, got {len(hidden)}")
        new = []
        inp = x
        for i, cell in enumerate(self.cells):
            h = cell(inp, None if hidden is None else hidden[i])
            new.append(h)
            inp = h
        return new
