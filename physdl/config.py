"""Run-time configuration: device, seeds and the size profile.

The profile is read from the environment variable ``PHYSDL_PROFILE``:

``quick``
    small sizes for continuous integration (a few minutes per chapter); the chapters still
    assert a meaningful, looser bound.
``default``
    what the rendered book and a reader get (each chapter within about 15 minutes on a
    2-core CPU, faster on a GPU); reproduces the chapter's claims.
``paper``
    a paper's own scale where that differs (may take GPU hours).

A chapter's sizes live in one object per profile, chosen with :func:`by_profile`.
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

PROFILES = ("quick", "default", "paper")
PROFILE_ENV = "PHYSDL_PROFILE"

T = TypeVar("T")


def profile() -> str:
    """The active profile name, from ``PHYSDL_PROFILE`` (``default`` when unset)."""
    name = os.environ.get(PROFILE_ENV, "default").strip().lower() or "default"
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_ENV}={name!r} is not a profile; choose one of {PROFILES}")
    return name


def by_profile(quick: T, default: T, paper: T | None = None, name: str | None = None) -> T:
    """Pick the value for the active profile (``paper`` falls back to ``default``)."""
    name = profile() if name is None else name
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {PROFILES}")
    if name == "quick":
        return quick
    if name == "paper" and paper is not None:
        return paper
    return default


def progress_enabled() -> bool:
    """Whether progress bars are shown: ``PHYSDL_PROGRESS=0`` hides them (book builds, CI)."""
    return os.environ.get("PHYSDL_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off")


#: Device types physdl runs on (``PHYSDL_DEVICE`` accepts these, with an index for CUDA).
DEVICE_TYPES = ("cpu", "cuda", "mps")


def device(prefer: str | None = None) -> torch.device:
    """The compute device: CUDA when available, else CPU.

    ``prefer`` (or the environment variable ``PHYSDL_DEVICE``) forces a device, for
    example ``"cpu"`` on a GPU machine, ``"cuda:1"``, or ``"mps"`` on Apple silicon. MPS has no
    float64, so the chapters that compute references in double precision (2, 4 and 7) need
    CUDA or the CPU.

    Raises:
        ValueError: the choice is not a device of :data:`DEVICE_TYPES` (the message names
            ``PHYSDL_DEVICE`` when the choice came from it), or that device is not available.
    """
    origin = "prefer" if prefer else "PHYSDL_DEVICE"
    choice = prefer or os.environ.get("PHYSDL_DEVICE")
    if choice:
        return as_device(choice, origin)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def as_device(choice: object, name: str = "device") -> torch.device:
    """``choice`` (a ``torch.device`` or a name such as ``"cuda:1"``) as an available device of
    :data:`DEVICE_TYPES`; ``ValueError`` naming ``name`` otherwise."""
    try:
        dev = torch.device(choice)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{name}={choice!r} is not a device; use one of {DEVICE_TYPES} "
                         "(CUDA with an optional index, e.g. cuda:1)") from err
    if dev.type not in DEVICE_TYPES:
        raise ValueError(f"{name}={choice!r}: physdl runs on {DEVICE_TYPES}, not {dev.type!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}={choice!r}, but torch.cuda.is_available() is False; unset it or use cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{name}={choice!r}, but only {torch.cuda.device_count()} CUDA device(s) exist")
    mps = getattr(torch.backends, "mps", None)
    if dev.type == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError(f"{name}={choice!r}, but torch.backends.mps.is_available() is False "
                         "(it needs Apple silicon and a macOS build of torch); unset it or use cpu")
    return dev


def generator_device(generator: torch.Generator | None) -> torch.device | None:
    """Where random numbers drawn with ``generator`` are made: its own device, or ``None`` (the
    default device) without one.

    physdl draws initial states with a CPU generator wherever the computation runs, so that a
    seed gives the same data on every device; pass ``device=generator_device(g)`` to each
    factory call that uses ``g``, then move the result to the compute device.
    """
    return generator.device if generator is not None else None


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a CPU generator with that seed.

    The same seed gives the same numbers on the CPU. Prefer passing the returned
    generator to functions that draw random numbers over relying on global state.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def describe() -> dict[str, str]:
    """Facts about this run (profile, device, torch version, threads) for a chapter header."""
    dev = device()
    info = {
        "profile": profile(),
        "device": str(dev),
        "torch": torch.__version__,
        "threads": str(torch.get_num_threads()),
    }
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


#: optional packages -> the extra of physdl that installs them
OPTIONAL = {"skimage": ("scikit-image", "notebooks"), "ipywidgets": ("ipywidgets", "notebooks")}


def require(module: str, purpose: str):
    """Import the optional ``module`` for ``purpose``, or raise an ``ImportError`` that names the
    package and the physdl extra that installs it (``pip install "physdl[notebooks]"``)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        package, extra = OPTIONAL.get(module.split(".")[0], (module.split(".")[0], None))
        hint = f'pip install "physdl[{extra}]" (or pip install {package})' if extra else f"pip install {package}"
        raise ImportError(f"{purpose} needs {package}, which is not installed: {hint}") from err
