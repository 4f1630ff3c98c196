"""Hypothesis strategies and the one contract of the fuzzing suite (tests/test_fuzz.py).

Every strategy draws an :class:`Arg`: a value and whether it is *bad*, that is outside what
the documented signature accepts (NaN, Inf, a zero or negative step, a wrong shape or dtype,
an empty batch, a wrong type). Good numbers come in every form a user passes: Python floats,
NumPy scalars and 0-d tensors. Good finite inputs are bounded, so that a correct float32
result exists.

:func:`call` applies the contract: the call either returns a finite result (then
``expect`` checks its shape and the properties its docstring states), or raises
``ValueError`` / ``TypeError`` whose message names a bad argument. Any other exception,
NaN out of good input, or a bad argument accepted, fails the example.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st


@dataclasses.dataclass(frozen=True)
class Arg:
    """One drawn argument: its value and whether the signature rejects it."""

    value: Any
    bad: bool = False
    why: str = ""

    def __repr__(self) -> str:
        v = self.value
        if isinstance(v, torch.Tensor):
            text = f"tensor{tuple(v.shape)}:{v.dtype}"
        elif isinstance(v, np.ndarray):
            text = f"ndarray{v.shape}"
        else:
            text = repr(v)
        return f"{text}{' BAD(' + self.why + ')' if self.bad else ''}"


def good(value: Any) -> Arg:
    return Arg(value)


def bad(value: Any, why: str) -> Arg:
    return Arg(value, True, why)


# -- numbers ---------------------------------------------------------------------------------

def _forms(x: float) -> st.SearchStrategy[Any]:
    """``x`` as a Python float, a NumPy float64 / float32 scalar or a 0-d tensor."""
    return st.sampled_from([float(x), np.float64(x), np.float32(x) if abs(x) < 1e30 else float(x),
                            torch.tensor(float(x), dtype=torch.float64)])


@st.composite
def number(draw, lo: float, hi: float, *, lower_open: bool = False, bad_values: Sequence[float] = (),
           bad_chance: float = 0.35) -> Arg:
    """A real number in ``[lo, hi]`` (``(lo, hi]`` with ``lower_open``) in any form, or a bad one:
    NaN, +-Inf, the listed ``bad_values``, a string or a tensor with more than one element."""
    if draw(st.floats(0, 1)) < bad_chance:
        kind = draw(st.sampled_from(["nan", "inf", "-inf", "listed", "type", "vector"]))
        if kind == "listed" and bad_values:
            return bad(draw(_forms(draw(st.sampled_from(list(bad_values))))), "out of range")
        if kind == "type":
            return bad("1.0", "a string")
        if kind == "vector":
            return bad(torch.tensor([lo, hi], dtype=torch.float64) if math.isfinite(lo) else torch.ones(2), "a vector")
        special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(kind, math.nan)
        return bad(draw(_forms(special)), "not finite")
    x = draw(st.floats(lo, hi, exclude_min=lower_open, allow_nan=False, allow_infinity=False))
    if lower_open and x == lo:  # float32 rounding can land on the open end
        x = hi
    form = draw(_forms(x))
    if isinstance(form, np.float32) and lower_open and float(form) <= lo:
        form = float(x)
    return good(form)


def positive(lo: float = 1e-3, hi: float = 1e3, **kwargs) -> st.SearchStrategy[Arg]:
    """A positive finite number in ``[lo, hi]``; bad: 0, negative, NaN, Inf, wrong types."""
    return number(lo, hi, bad_values=(0.0, -lo, -1.0, -hi), **kwargs)


def axes(u: Arg) -> int:
    """Spatial axes of a drawn ``(batch, channel, *space)`` field; 0 when it is not a tensor."""
    return u.value.dim() - 2 if isinstance(u.value, torch.Tensor) else 0


def per_axis(dx: Arg, dims: int) -> Arg:
    """``dx`` for a function that takes one spacing per axis (:func:`physdl.ops.grid.as_spacing`):
    the two-entry vector that :func:`number` draws as bad is a valid spacing on a 2D grid."""
    return good(dx.value) if dx.why == "a vector" and dims == 2 else dx


def smallest(a: Arg) -> float:
    """The smallest entry of a drawn number or per-axis spacing, as a float."""
    v = a.value
    return float(torch.as_tensor(v, dtype=torch.float64).min()) if not isinstance(v, str) else math.nan


@st.composite
def integer(draw, lo: int, hi: int, *, bad_values: Sequence[Any] | None = None, bad_chance: float = 0.3) -> Arg:
    """An integer in ``[lo, hi]`` as ``int`` or NumPy integer; bad: below ``lo``, a float."""
    if draw(st.floats(0, 1)) < bad_chance:
        listed = list(bad_values) if bad_values is not None else [lo - 1, lo - 7, 2.5, "3"]
        return bad(draw(st.sampled_from(listed)), "not an integer in range")
    n = draw(st.integers(lo, hi))
    return good(draw(st.sampled_from([n, np.int64(n)])))


def choice(options: Sequence[Any], bad_options: Sequence[Any] = ("unknown",), bad_chance: float = 0.2):
    """One of ``options``, or (bad) one of ``bad_options``."""
    @st.composite
    def draw_choice(draw) -> Arg:
        if bad_options and draw(st.floats(0, 1)) < bad_chance:
            return bad(draw(st.sampled_from(list(bad_options))), "not an option")
        return good(draw(st.sampled_from(list(options))))
    return draw_choice()


def pick(goods: Sequence[Any], bads: Sequence[tuple[Any, str]] = (), bad_chance: float = 0.2):
    """One of the good values ``goods``, or with ``bad_chance`` one of ``bads`` (value, why)."""
    @st.composite
    def draw_pick(draw) -> Arg:
        if bads and draw(st.floats(0, 1)) < bad_chance:
            value, why = draw(st.sampled_from(list(bads)))
            return bad(value, why)
        return good(draw(st.sampled_from(list(goods))))
    return draw_pick()


def bad_rate(clean: float = 0.4) -> st.SearchStrategy[float]:
    """How often each argument of one example is drawn bad: never in a share ``clean`` of the
    examples (so that calls with many arguments still reach their result), else rarely or often."""
    @st.composite
    def draw_rate(draw) -> float:
        return 0.0 if draw(st.floats(0, 1)) < clean else draw(st.sampled_from([0.05, 0.1, 0.3]))
    return draw_rate()


def fixed(value: Any) -> st.SearchStrategy[Arg]:
    return st.just(good(value))


# -- tensors ---------------------------------------------------------------------------------

@st.composite
def shapes(draw, dims: Sequence[int] = (1, 2, 3), lo: int = 2, hi: int = 8) -> tuple[int, ...]:
    d = draw(st.sampled_from(list(dims)))
    return tuple(draw(st.integers(lo, hi)) for _ in range(d))


def _values(draw, shape: tuple[int, ...], dtype: torch.dtype, lo: float, hi: float) -> torch.Tensor:
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    return (lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float64)).to(dtype)


@st.composite
def tensor(draw, shape: tuple[int, ...], *, lo: float = -1.0, hi: float = 1.0,
           dtypes: Sequence[torch.dtype] = (torch.float32, torch.float64), bad_chance: float = 0.3,
           corrupt: Sequence[str] = ("nan", "inf", "int", "numpy", "scalar")) -> Arg:
    """A tensor of exactly ``shape`` with values in ``[lo, hi]``, or a bad one: a NaN or Inf
    entry, an integer dtype, a NumPy array, a Python float."""
    dtype = draw(st.sampled_from(list(dtypes)))
    x = _values(draw, shape, dtype, lo, hi)
    if corrupt and draw(st.floats(0, 1)) < bad_chance:
        kind = draw(st.sampled_from(list(corrupt)))
        if kind in ("nan", "inf"):
            flat = x.flatten().clone()
            flat[draw(st.integers(0, flat.numel() - 1))] = math.nan if kind == "nan" else -math.inf
            return bad(flat.reshape(shape), kind)
        if kind == "int":
            return bad(x.round().to(torch.int64), "an integer tensor")
        if kind == "numpy":
            return bad(x.numpy(), "a NumPy array")
        return bad(0.5, "a float, not a tensor")
    return good(x)


@st.composite
def field(draw, *, dims: Sequence[int] = (1, 2, 3), channels: int | Sequence[int] = 1, batch: tuple[int, int] = (1, 3),
          lo: float = -1.0, hi: float = 1.0, size: tuple[int, int] = (2, 8),
          dtypes: Sequence[torch.dtype] = (torch.float32, torch.float64), bad_chance: float = 0.3,
          space: tuple[int, ...] | None = None) -> Arg:
    """A field ``(batch, channel, *space)``, or a bad one: every corruption of :func:`tensor`,
    plus no batch or channel axis, an empty batch and four spatial axes."""
    chans = channels if isinstance(channels, int) else draw(st.sampled_from(list(channels)))
    sp = space if space is not None else draw(shapes(dims, *size))
    shape = (draw(st.integers(*batch)), chans, *sp)
    if draw(st.floats(0, 1)) < bad_chance / 3:
        kind = draw(st.sampled_from(["unbatched", "empty", "4d"]))
        dtype = draw(st.sampled_from(list(dtypes)))
        if kind == "unbatched":  # dropping one axis can leave a valid field of fewer dimensions
            return bad(torch.zeros(shape[-1:], dtype=dtype), "no batch or channel axis")
        if kind == "empty":
            return bad(torch.zeros((0, *shape[1:]), dtype=dtype), "empty batch")
        return bad(torch.zeros((1, chans, 2, 2, 2, 2), dtype=dtype), "four spatial axes")
    return draw(tensor(shape, lo=lo, hi=hi, dtypes=dtypes, bad_chance=bad_chance))


# -- the contract ----------------------------------------------------------------------------

#: exceptions a physdl function may raise for bad input
ALLOWED = (ValueError, TypeError)


def _names(message: str, name: str, aliases: Mapping[str, Sequence[str]]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in (name, *aliases.get(name, ())))


def _tensors(x: Any, seen: set[int] | None = None) -> list[torch.Tensor]:
    """Every tensor inside a result (tuples, lists, dicts, dataclasses, named tuples)."""
    seen = set() if seen is None else seen
    if id(x) in seen:
        return []
    seen.add(id(x))
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (float, np.floating)):
        return [torch.tensor(float(x))]
    if isinstance(x, Mapping):
        return [t for v in x.values() for t in _tensors(v, seen)]
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in _tensors(v, seen)]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [t for f in dataclasses.fields(x) for t in _tensors(getattr(x, f.name), seen)]
    if isinstance(x, torch.nn.Module):
        return [p.detach() for p in x.parameters()]
    return []


def assert_finite(result: Any, what: str) -> None:
    for t in _tensors(result):
        if t.is_floating_point() or t.is_complex():
            assert bool(torch.isfinite(t).all()), f"{what} returned NaN or Inf from good input"


def call(fn: Callable[..., Any], args: Mapping[str, Arg], expect: Callable[..., None] | None = None, *,
         may_reject: Sequence[str] = (), aliases: Mapping[str, Sequence[str]] | None = None,
         name: str | None = None) -> str:
    """Apply the contract to ``fn(**args)``; return ``"ok"``, ``"rejected"`` or ``"raised"``.

    Args:
        fn: the public function or class.
        args: the drawn arguments by keyword.
        expect: ``expect(result, **values)`` asserts the documented shape and properties.
        may_reject: good arguments whose combination the function may still refuse (a time
            step above a stability limit that depends on other arguments); the error must name one.
        aliases: other words by which a message may name an argument (``{"u": ["field"]}``).
    """
    aliases = aliases or {}
    what = name or getattr(fn, "__qualname__", repr(fn))
    values = {k: a.value for k, a in args.items()}
    bad_names = [k for k, a in args.items() if a.bad]
    try:
        result = fn(**values)
    except ALLOWED as error:
        message = str(error)
        if bad_names:  # a bad argument, or one that its combination with the others rules out
            assert any(_names(message, k, aliases) for k in [*bad_names, *may_reject]), \
                f"{what}: the error does not name the bad argument {bad_names}: {type(error).__name__}: {message}"
            return "raised"
        assert any(_names(message, k, aliases) for k in may_reject), \
            f"{what} refused good input {args}: {type(error).__name__}: {message}"
        return "rejected"
    assert not bad_names, f"{what} accepted bad input {[f'{k}={args[k]!r}' for k in bad_names]}"
    assert_finite(result, what)
    if expect is not None:
        expect(result, **values)
    return "ok"
