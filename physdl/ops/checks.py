"""physdl's finiteness policy: where tensors are checked for NaN and Inf, and where not.

Scalars, shapes and dtypes are validated eagerly by every public function (cheap, no device
work). The values of tensors are checked for NaN and Inf at public entry points with
:func:`check_finite`, which costs one host synchronisation. Hot loops switch those checks
off for everything they call with :func:`trusted`: :func:`physdl.rollout` checks its state
at the start and the end (and every ``check_every`` steps on request) and runs its steps
trusted; :func:`physdl.train.fit` checks the loss of every step and the model before every
checkpoint write and runs the loss function trusted. Under ``torch.compile`` the checks are
skipped as well, so no compiled region breaks on a synchronisation.

A context variable rather than a module flag, so threads and nested calls each see their own
setting and nothing global is left behind by an exception.
"""

from __future__ import annotations

import contextvars
import math
import numbers
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_TRUSTED: contextvars.ContextVar[bool] = contextvars.ContextVar("physdl_trusted", default=False)


@contextmanager
def trusted() -> Iterator[None]:
    """Within this block, :func:`check_finite` does nothing (the caller checks at its ends)."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def checking() -> bool:
    """Whether :func:`check_finite` checks here: not inside :func:`trusted`, not compiling."""
    return not torch.compiler.is_compiling() and not _TRUSTED.get()  # this order: dynamo cannot trace get()


def check_tensor(x: object, name: str) -> torch.Tensor:
    """``x`` if it is a floating-point tensor; ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() or x.is_complex()):
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    return x


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` unchanged; ``ValueError`` naming ``name`` if it holds NaN or Inf.

    One host synchronisation; skipped inside :func:`trusted` blocks, under ``torch.compile``
    and for tensors without data (the ``meta`` device).
    """
    if checking() and x.device.type != "meta" and x.numel() and not bool(torch.isfinite(x).all()):
        what = "NaN" if bool(torch.isnan(x).any()) else "Inf"
        raise ValueError(f"{name} contains {what}; physdl needs finite input")
    return x


def finite_tensor(x: object, name: str) -> torch.Tensor:
    """:func:`check_tensor` then :func:`check_finite`."""
    return check_finite(check_tensor(x, name), name)


def field_dims(u: object, name: str, dims: tuple[int, ...] = (1, 2, 3)) -> int:
    """Number of spatial axes of a field ``(batch, channel, *space)``, checked.

    ``u`` must be a floating-point tensor with a non-empty batch and ``len(space)`` in ``dims``,
    finite where :func:`checking`; otherwise ``TypeError`` / ``ValueError`` naming ``name``.
    """
    u = check_tensor(u, name)
    d = u.dim() - 2
    if d not in dims:
        raise ValueError(
            f"{name} must be a field shaped (batch, channel, *space) with {' or '.join(map(str, dims))} spatial "
            f"axes, got shape {tuple(u.shape)}; add batch and channel axes with {name}[None, None]")
    if u.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(u.shape)}); every axis needs at least one entry")
    check_finite(u, name)
    return d


def check_integer_tensor(x: object, name: str, what: str = "") -> torch.Tensor:
    """``x`` if it is a tensor of an integer dtype (not ``bool``); ``TypeError`` naming ``name``
    (and ``what`` it should hold, e.g. ``"of frame indices"``) otherwise."""
    integer = isinstance(x, torch.Tensor) and not (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool)
    if not integer:
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{name} must be an integer tensor{' ' + what if what else ''}, got {got}")
    return x


def check_int(x: object, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """``x`` as an ``int`` (Python or NumPy integer, not ``bool``) within ``[lo, hi]``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    value = int(x)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return value


def check_dtype(dtype: object, name: str = "dtype") -> torch.dtype:
    """``dtype`` if it is a floating-point ``torch.dtype``; ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point torch.dtype, got {dtype!r}")
    return dtype


def check_axis(axis: object, dims: int, name: str = "axis") -> int:
    """A spatial axis index in ``[0, dims)`` (negative values count from the end)."""
    a = check_int(axis, name, -dims, dims - 1)
    return a % dims


def check_choice(x: object, name: str, options: tuple) -> object:
    """``x`` if it is one of ``options``; ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(x, str) or x not in options:
        raise ValueError(f"{name} must be one of {options}, got {x!r}")
    return x


def check_grid_shape(shape: object, name: str = "shape", dims: tuple[int, ...] = (1, 2, 3)) -> tuple[int, ...]:
    """A grid shape: a sequence of ``len in dims`` positive integers."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise TypeError(f"{name} must be a sequence of integers, got {type(shape).__name__}")
    if len(shape) not in dims:
        raise ValueError(f"{name} must have {' or '.join(map(str, dims))} axes, got {tuple(shape)}")
    return tuple(check_int(n, name, 1) for n in shape)


def broadcast_field(x: object, like: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` (a finite floating-point tensor) expanded to ``like``'s shape; ``ValueError`` naming
    ``name`` when it does not broadcast to exactly that shape (no silent growth of the result)."""
    x = finite_tensor(x, name)
    try:
        if torch.broadcast_shapes(x.shape, like.shape) == like.shape:
            return x.expand_as(like)
    except RuntimeError:
        pass
    raise ValueError(f"{name} of shape {tuple(x.shape)} does not broadcast to the field's shape {tuple(like.shape)}")


def as_float(x: object, name: str) -> float:
    """A Python float from a number, a NumPy scalar or a 0-d tensor; ``TypeError`` otherwise."""
    if isinstance(x, torch.Tensor):
        if x.dim() != 0:
            raise TypeError(f"{name} must be a number or a 0-d tensor, got a tensor of shape {tuple(x.shape)}")
        return float(x.item())
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        # NumPy scalars register as numbers.Real; anything else is a caller's mistake.
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    return float(x)


def check_real(x: object, name: str, lo: float | None = None, hi: float | None = None, *,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """:func:`as_float`, then checked to be finite and within the bounds (``None``: unbounded).

    ``lo_open`` / ``hi_open`` exclude the bound itself; ``TypeError`` / ``ValueError`` naming
    ``name`` otherwise.
    """
    value = as_float(x, name)
    below = lo is not None and (value <= lo if lo_open else value < lo)
    above = hi is not None and (value >= hi if hi_open else value > hi)
    if not math.isfinite(value) or below or above:
        left = "(" if lo_open or lo is None else "["
        right = ")" if hi_open or hi is None else "]"
        span = f" in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise ValueError(f"{name} must be a finite number{span}, got {value!r}")
    return value


def check_generator(generator: object, name: str = "generator") -> None:
    """``TypeError`` naming ``name`` unless ``generator`` is a ``torch.Generator`` or ``None``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__}")


def check_pair(value: object, name: str) -> tuple:
    """``value`` as a tuple of two entries (a ``(low, high)`` range); ``ValueError`` naming ``name``
    otherwise. The entries are checked by the caller."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}")
    return tuple(value)


def check_bool(x: object, name: str) -> bool:
    """``x`` if it is a ``bool`` (or NumPy bool); ``TypeError`` naming ``name`` otherwise."""
    import numpy as np

    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(x).__name__} {x!r}")
    return bool(x)


def check_instance(x: object, kind: type | tuple[type, ...], name: str, optional: bool = False) -> object:
    """``x`` if it is an instance of ``kind`` (or ``None`` when ``optional``); ``TypeError``
    naming ``name`` and the expected type otherwise."""
    if (optional and x is None) or isinstance(x, kind):
        return x
    kinds = kind if isinstance(kind, tuple) else (kind,)
    wanted = " or ".join(k.__name__ for k in kinds) + (" or None" if optional else "")
    raise TypeError(f"{name} must be a {wanted}, got {type(x).__name__}")


def check_progress(progress: object, name: str = "progress") -> bool | None:
    """A progress-bar switch: ``True``, ``False`` or ``None`` (the session default)."""
    return None if progress is None else check_bool(progress, name)
