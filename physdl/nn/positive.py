"""Named positive numbers learned through their logarithm.

A physical coefficient (a viscosity, a diffusivity, a mobility) must stay positive while an
optimiser moves it. Storing ``log c`` and returning ``exp(log c)`` keeps it positive at every
step and makes the step relative (a step of 0.1 in ``log c`` changes ``c`` by about 10 %
whatever its scale), which suits coefficients that differ by orders of magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import torch
from torch import nn

from physdl.ops.grid import as_float


class PositiveParameters(nn.Module):
    """Positive values by name; the ones in ``learn`` are trained, the others stay fixed.

    Args:
        values: starting value of each name, positive and finite.
        learn: names to train (default: all). The others are stored as buffers, so they move
            with the module between devices and live in its state dict.

    Calling the module returns ``{name: value}`` as 0-d tensors (differentiable for the
    learned ones). The learned logarithms are ``log_values[name]``; a fixed one is the buffer
    ``log_<name>``.
    """

    def __init__(self, values: Mapping[str, float | torch.Tensor], learn: Iterable[str] | None = None) -> None:
        super().__init__()
        if not isinstance(values, Mapping):
            raise TypeError(f"values must be a mapping of names to numbers, got {type(values).__name__}")
        if not all(isinstance(k, str) and k.isidentifier() for k in values):
            raise ValueError(f"values must be keyed by names (identifiers), got {list(values)}")
        self.names = tuple(values)
        if isinstance(learn, str):
            raise TypeError(f"learn must be a collection of names, not the string {learn!r} (write [{learn!r}])")
        learn = self.names if learn is None else tuple(learn)
        unknown = set(learn) - set(self.names)
        if unknown:
            raise ValueError(f"cannot learn {sorted(unknown)}: not among {list(self.names)}")
        self.log_values = nn.ParameterDict()
        for name in self.names:
            value = as_float(values[name], name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must start positive and finite to be learned through its "
                                 f"logarithm, got {name}={value}")
            log_value = torch.tensor(value).log()
            if name in learn:
                self.log_values[name] = nn.Parameter(log_value)
            else:
                self.register_buffer(f"log_{name}", log_value)

    def log_value(self, name: str) -> torch.Tensor:
        """``log`` of the value called ``name`` (a parameter when learned, else a buffer)."""
        if name in self.log_values:
            return self.log_values[name]
        if name not in self.names:
            raise KeyError(f"no value named {name!r}; names: {list(self.names)}")
        return getattr(self, f"log_{name}")

    def forward(self) -> dict[str, torch.Tensor]:
        return {name: self.log_value(name).exp() for name in self.names}

    def as_dict(self) -> dict[str, float]:
        """The current values as floats."""
        with torch.no_grad():
            return {name: float(value) for name, value in self().items()}
