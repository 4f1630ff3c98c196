"""Running a network over more inputs than fit in one batch."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from physdl.ops.checks import check_finite, check_int


def check_model(model: object, name: str = "model") -> nn.Module:
    """``model`` if it is a ``torch.nn.Module``; ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (or buffer); the CPU for a model with neither."""
    check_model(model)
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def check_input(model: nn.Module, x: object, name: str = "input") -> None:
    """Raise a clear error unless ``x`` is a finite floating tensor with ``model``'s dtype and device.

    Without it a float64 input to a float32 network fails deep inside a convolution with
    torch's "Input type (double) and bias type (float) should be the same". The finiteness
    check follows :mod:`physdl.ops.checks` (skipped inside ``trusted()`` blocks: training
    steps and rollouts).

    Raises:
        TypeError: ``x`` is not a floating-point tensor, or its dtype differs from the weights'.
        ValueError: ``x`` is empty, holds NaN or Inf, or is on another device than the weights.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if x.dim() == 0 or x.shape[0] == 0:
        raise ValueError(f"{name} must have a non-empty batch axis, got shape {tuple(x.shape)}")
    check_finite(x, name)
    for tensor in model.parameters():
        if x.dtype != tensor.dtype:
            raise TypeError(f"{name} is {x.dtype} but the network's weights are {tensor.dtype}: convert one of "
                            f"them ({name}.to({tensor.dtype}) or model.to({x.dtype}))")
        if x.device != tensor.device:
            raise ValueError(f"{name} is on {x.device} but the network is on {tensor.device}: move one of them")
        return


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
    check_model(model)
    batch_size = check_int(batch_size, "batch_size", 1)
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    if inputs.dim() == 0 or len(inputs) == 0:
        raise ValueError(f"inputs must have at least one sample along its first axis, got shape {tuple(inputs.shape)}")
    if inputs.is_floating_point() or inputs.is_complex():
        check_finite(inputs, "inputs")
    if call is not None and not callable(call):
        raise TypeError(f"call must be callable or None, got {type(call).__name__}")
    try:
        target = inputs.device if out_device is None else torch.device(out_device)
    except (RuntimeError, TypeError):
        raise ValueError(f"out_device must be a device name such as 'cpu' or None, got {out_device!r}") from None
    model.eval()
    device = model_device(model)
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start:start + batch_size].to(device)
        out = model(chunk) if call is None else call(model, chunk, start)
        outputs.append(out.to(target))
    return torch.cat(outputs)
