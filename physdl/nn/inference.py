"""Running a network over more inputs than fit in one batch."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (or buffer); the CPU for a model with neither."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@torch.no_grad()
def batched(model: nn.Module, inputs: torch.Tensor, batch_size: int,
            call: Callable[[nn.Module, torch.Tensor, int], torch.Tensor] | None = None,
            out_device: torch.device | str | None = "cpu") -> torch.Tensor:
    """``model`` over ``inputs`` in slices of ``batch_size`` along the first axis, concatenated.

    The model is put in evaluation mode and run without gradients; each slice is moved to the
    model's device, and each output to ``out_device`` (``None``: the inputs' device).

    Args:
        model: the network.
        inputs: ``(n, ...)``.
        batch_size: largest slice run at once.
        call: ``call(model, slice, start)`` instead of ``model(slice)``, for networks that take
            more than the slice (``start`` is the slice's first index along the first axis).
        out_device: where the result goes.

    Returns ``(n, ...)``, the outputs of the slices concatenated in order.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(inputs, torch.Tensor) or inputs.dim() == 0 or len(inputs) == 0:
        raise ValueError("inputs must be a tensor with at least one sample along its first axis, got "
                         f"{tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__}")
    model.eval()
    device = model_device(model)
    target = inputs.device if out_device is None else torch.device(out_device)
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start:start + batch_size].to(device)
        out = model(chunk) if call is None else call(model, chunk, start)
        outputs.append(out.to(target))
    return torch.cat(outputs)
