"""Catch device bugs on a CPU: run physdl's entry points with the default device set to ``meta``.

On a GPU a chapter passes CUDA tensors to physdl while PyTorch's default device stays the CPU;
any tensor physdl creates without naming a device (``torch.zeros(n)``, ``torch.randn(...,
generator=cpu_generator)``) then lands on the wrong device and the call fails. The same bug
shows on a CPU-only machine if the default device is ``meta`` while the inputs are CPU tensors:
a stray tensor is then a meta tensor, and mixing it with a CPU tensor raises.

:func:`enable` wraps every public function, class and method of physdl so that a call coming
from outside physdl runs under ``torch.device("meta")``; calls physdl makes to itself run as
they are, and so does every call of an entry point after its first passing one (the check is
per entry point; the meta context slows every torch call, and chapters call their training
loops more than once). Computation is unchanged (every correct tensor is made where its inputs are), so a
notebook runs as usual and fails at the first device bug. Networks are the exception, as in
PyTorch's own convention: a module's ``__init__`` (and ``reset_parameters``) makes its
parameters on the CPU, the default device of a GPU session, to be moved with ``.to``; so a
module that physdl builds and forgets to move is not caught here (``benchmarks/gpu_check.py``
catches it on a GPU).

It is a test tool, switched on by the environment (``make notebooks`` sets it)::

    PHYSDL_DEVICE_CHECK=/path/to/log   # one line per entry point checked, written on first call

and :func:`coverage` compares that log with the entry points the chapters call, found by
parsing their code. Written here because no library offers it: PyTorch's default-device
context is the mechanism, the wrapping is physdl's.
"""

from __future__ import annotations

import ast
import contextvars
import functools
import importlib
import inspect
import os
import pkgutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch.utils._device import DeviceContext, _device_constructors

import physdl

ENV = "PHYSDL_DEVICE_CHECK"
#: modules that are not entry points: the check itself, and command-line or deprecated shims
SKIP_MODULES = ("physdl.devicecheck", "physdl.deprecation")
_inside = contextvars.ContextVar("physdl_device_check_inside", default=False)


_BUILDERS = ("__init__", "reset_parameters", "_reset_parameters")


def _building_module(depth: int = 40) -> bool:
    """Whether a ``torch.nn.Module`` is being constructed somewhere up the call stack."""
    frame = sys._getframe(2)
    for _ in range(depth):
        if frame is None:
            return False
        if frame.f_code.co_name in _BUILDERS and isinstance(frame.f_locals.get("self"), torch.nn.Module):
            return True
        frame = frame.f_back
    return False


class MetaDefault(DeviceContext):
    """``torch.device("meta")`` as a context, except while a module builds its parameters.

    Built on PyTorch's own default-device context (``torch.utils._device.DeviceContext``),
    changing only which factory calls it redirects.
    """

    def __init__(self) -> None:
        super().__init__("meta")

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _device_constructors() and kwargs.get("device") is None and not _converts_a_tensor(func, args) \
                and not _building_module():
            kwargs["device"] = self.device
        return func(*args, **kwargs)


def _converts_a_tensor(func, args) -> bool:
    """``torch.as_tensor(t)`` of a tensor keeps its device when no default device is set."""
    return func in (torch.as_tensor, torch.asarray) and bool(args) and isinstance(args[0], torch.Tensor)


def modules() -> list[str]:
    """Every physdl module, by dotted name (deprecated aliases left out)."""
    names = [physdl.__name__]
    for info in pkgutil.walk_packages(physdl.__path__, prefix="physdl."):
        if info.name in SKIP_MODULES:
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "__deprecated__"):
            continue
        names.append(info.name)
    return names


def _record(log: Path | None, name: str, seen: set[str]) -> None:
    if name in seen:
        return
    seen.add(name)
    if log is not None:
        with open(log, "a") as f:
            f.write(name + "\n")


def _checked(fn: Callable, name: str, log: Path | None, seen: set[str]) -> Callable:
    """``fn`` run under the meta default device when called from outside physdl."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _inside.get():  # already under the check, started by the outer call
            result = fn(*args, **kwargs)
            _record(log, name, seen)
            return result
        if name in seen:  # one passing call per entry point is the check
            return fn(*args, **kwargs)
        token = _inside.set(True)
        try:
            with MetaDefault():
                result = fn(*args, **kwargs)
        except (RuntimeError, NotImplementedError, TypeError) as err:  # what a device mismatch raises
            err.add_note(f"physdl device check: {name} was called with the default device set to "
                         "'meta'; a tensor it made without a device is the likely cause")
            raise
        finally:
            _inside.reset(token)
        _record(log, name, seen)
        return result

    wrapper.__physdl_checked__ = True
    return wrapper


def _own(obj, module: str) -> bool:
    return getattr(obj, "__module__", None) == module


def _wrap_class(cls: type, name: str, log: Path | None, seen: set[str]) -> None:
    is_module = issubclass(cls, torch.nn.Module)
    for attr, value in list(vars(cls).items()):
        if attr.startswith("_") and attr not in ("__init__", "__call__"):
            continue
        if attr == "__init__" and is_module:
            continue  # parameters are made on the default device, then moved
        if attr == "__call__" and is_module:
            continue  # nn.Module.__call__ runs forward, which is checked
        if isinstance(value, staticmethod):
            setattr(cls, attr, staticmethod(_checked(value.__func__, name, log, seen)))
        elif isinstance(value, classmethod):
            setattr(cls, attr, classmethod(_checked(value.__func__, name, log, seen)))
        elif inspect.isfunction(value) and not getattr(value, "__physdl_checked__", False):
            setattr(cls, attr, _checked(value, name, log, seen))


def enable(log: str | os.PathLike | None = None) -> list[str]:
    """Wrap every public function, class and method of physdl; returns the names wrapped.

    ``log``: a file that gets the name of each entry point the first time a checked call of it
    returns (classes are named once for any of their methods).
    """
    log_path = Path(log) if log else None
    seen: set[str] = set()
    wrapped: dict[int, Callable] = {}
    names = []
    for module_name in modules():
        module = importlib.import_module(module_name)
        for attr, value in list(vars(module).items()):
            if attr.startswith("_") or not _own(value, module_name):
                continue
            name = f"{module_name}.{attr}"
            if inspect.isclass(value):
                if id(value) not in wrapped:
                    _wrap_class(value, name, log_path, seen)
                    wrapped[id(value)] = value
                names.append(name)
            elif inspect.isfunction(value) and not getattr(value, "__physdl_checked__", False):
                wrapped.setdefault(id(value), _checked(value, name, log_path, seen))
                setattr(module, attr, wrapped[id(value)])
                names.append(name)
    # the same objects under the names other modules re-export them with
    for module_name in modules():
        module = importlib.import_module(module_name)
        for attr, value in list(vars(module).items()):
            # keyed by the object itself: a decorated function (torch.no_grad) has a __wrapped__
            if inspect.isfunction(value) and id(value) in wrapped and value is not wrapped[id(value)]:
                setattr(module, attr, wrapped[id(value)])
    return names


def enable_from_environment() -> bool:
    """Call :func:`enable` when ``PHYSDL_DEVICE_CHECK`` is set (its value is the log file)."""
    log = os.environ.get(ENV)
    if not log:
        return False
    enable(None if log == "1" else log)
    return True


# --- what the chapters call ---------------------------------------------------------------------


def _physdl_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> physdl dotted path, from the imports of one chapter."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "physdl":
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "physdl":
                    names[alias.asname or alias.name.split(".")[0]] = alias.asname and alias.name or "physdl"
    return names


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _resolve(path: str) -> tuple[str, object] | None:
    """``(canonical name, object)`` of a dotted physdl path, or None if it is not an entry point."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        obj = getattr(obj, "__wrapped__", obj)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            return f"{obj.__module__}.{obj.__qualname__.split('.')[0]}", obj
        return None
    return None


def chapter_calls(code: str) -> set[str]:
    """The physdl functions and classes one chapter's code calls, by canonical dotted name."""
    tree = ast.parse(code)
    local = _physdl_names(tree)
    called = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        dotted = _dotted(node.func)
        if dotted is None or dotted.split(".")[0] not in local:
            continue
        head, _, rest = dotted.partition(".")
        resolved = _resolve(".".join(filter(None, [local[head], rest])))
        if resolved is not None and resolved[0].split(".")[0] == "physdl":
            called.add(resolved[0])
    return called


def chapter_code(path: Path) -> str:
    """The code cells of a MyST chapter, joined (IPython magics left out)."""
    import jupytext

    cells = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    return "\n".join(line for cell in cells for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


def checkable(names: Iterable[str]) -> set[str]:
    """The names among ``names`` that :func:`enable` checks: physdl functions and classes."""
    return {n for n in names if _resolve(n) is not None and not n.startswith(SKIP_MODULES)}


def coverage(log: Path, chapters: Iterable[Path]) -> dict[str, set[str]]:
    """For each chapter, the entry points it calls that never ran under the check (from ``log``)."""
    checked = set(log.read_text().split()) if log.exists() else set()
    return {path.stem: checkable(chapter_calls(chapter_code(path))) - checked for path in chapters}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Report which chapter entry points ran under the device check.")
    parser.add_argument("log", type=Path, help=f"the file {ENV} pointed at")
    parser.add_argument("chapters", type=Path, nargs="+", help="MyST chapter sources")
    args = parser.parse_args(argv)
    missing = coverage(args.log, args.chapters)
    total = sum(len(checkable(chapter_calls(chapter_code(p)))) for p in args.chapters)
    unchecked = sorted(set().union(*missing.values()))
    print(f"device check: {total - sum(map(len, missing.values()))} of {total} chapter calls "
          f"({len(unchecked)} distinct entry points unchecked)")
    for name in unchecked:
        print(f"  not checked: {name}")
    return 1 if unchecked else 0


if __name__ == "__main__":
    raise SystemExit(main())
