"""Deprecated names kept for one minor release after they moved (see CHANGELOG.md)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

#: the release in which the deprecated names go
REMOVAL = "0.3.0"


def warn_moved(old: str, new: str) -> None:
    """Warn the caller's caller that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(f"{old} is deprecated and goes in {REMOVAL}; use {new}", DeprecationWarning, stacklevel=3)


def chapter_sizes(chapter: str, profile: str | None, attribute: str | None = None) -> Any:
    """What a deprecated ``chapter_config()`` returns: ``physdl.sizes.chapter(chapter)[.attribute]``."""
    sizes = importlib.import_module("physdl.sizes")
    new = f'physdl.sizes.chapter("{chapter}")' + (f".{attribute}" if attribute else "")
    warnings.warn(f"chapter_config() is deprecated and goes in {REMOVAL}; use {new}", DeprecationWarning,
                  stacklevel=3)
    value = sizes.chapter(chapter, profile)
    return getattr(value, attribute) if attribute else value


def moved_attributes(module: str, moved: dict[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that answers each name of ``moved`` (``name -> (new module, new
    name)``) with a deprecation warning, and raises ``AttributeError`` for anything else."""

    def __getattr__(name: str) -> Any:
        if name not in moved:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target, new_name = moved[name]
        warnings.warn(f"{module}.{name} is deprecated and goes in {REMOVAL}; use {target}.{new_name}",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(target), new_name)

    return __getattr__
