"""physdl: the library of the course "Physics-based deep learning".

Layers (dependencies point one way): ``ops`` (finite differences) -> ``pde`` (solvers) and
``nn`` (networks) -> methods (``surrogate``, ``pinn``, ...). Services: ``config``, ``data``, ``train``,
``metrics``, ``viz``.

Every time-dependent solver and learned model is a :class:`physdl.pde.stepper.Stepper`;
``physdl.rollout`` (:func:`physdl.pde.stepper.rollout`) is the one time loop.

Submodules load on first use, so ``import physdl`` is instant and does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.1"
#: where the source lives; a release ``X.Y.Z`` is the tag ``vX.Y.Z`` there
__repository__ = "https://github.com/physdl/physdl"
#: the rendered course; the generated Colab notebooks link to its pages
__documentation__ = "https://physdl.github.io/physdl"

_SUBMODULES = (
    "burgers_pinn", "config", "crnn", "data", "diffphys", "metrics", "neuradiff", "nn", "ops", "pde", "pinn",
    "safe", "sizes", "surrogate", "timing", "progress", "io", "train", "viz", "viz3d", "devicecheck",
)

__all__ = ["__version__", "rollout", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name == "rollout":
        from physdl.pde.stepper import rollout

        return rollout
    if name in _SUBMODULES:
        module = importlib.import_module(f"physdl.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'physdl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def _device_check() -> None:
    """Switch on :mod:`physdl.devicecheck` when ``PHYSDL_DEVICE_CHECK`` is set (a test mode)."""
    import os

    if os.environ.get("PHYSDL_DEVICE_CHECK"):
        from physdl import devicecheck

        devicecheck.enable_from_environment()


_device_check()
