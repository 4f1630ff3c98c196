"""Generate-and-cache for data sets made by physdl's own solvers.

A data set is a dict of tensors produced by a ``generate`` function from a JSON-able
config. :func:`cached` stores it under the cache folder in a file whose name carries a hash
of ``(name, config)``, written atomically (temporary file, then rename). On load, the stored
config and a checksum of every tensor are verified: a partial, corrupt or mismatched file is
reported with a warning, deleted and regenerated, never silently used.

The cache folder is ``$PHYSDL_CACHE`` if set, else ``~/.cache/physdl``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from physdl.io import atomic_save, remove_temporaries

CACHE_ENV = "PHYSDL_CACHE"
FORMAT_VERSION = 1


def cache_dir() -> Path:
    """The cache folder (created on demand): ``$PHYSDL_CACHE``, default ``~/.cache/physdl``.

    Raises:
        ValueError: the folder is a file, or cannot be created or written (the message
            names ``PHYSDL_CACHE``).
    """
    root = os.environ.get(CACHE_ENV)
    path = Path(root) if root else Path.home() / ".cache" / "physdl"
    origin = f"{CACHE_ENV}={root}" if root else f"the default cache folder {path} (set {CACHE_ENV} to move it)"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise ValueError(f"{origin} is not a directory") from err
    except OSError as err:
        raise ValueError(f"{origin} cannot be created: {err.strerror}") from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{origin} is not writable")
    return path


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"data set name must be a string, got {type(name).__name__}")
    if not name or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
        raise ValueError(f"data set name must use letters, digits, '-' or '_', got {name!r}")
    return name


def config_key(name: str, config: Mapping[str, Any]) -> str:
    """A stable hex digest of a data set's name and generating config.

    ``config`` is a mapping of JSON values (numbers, strings, lists, nested mappings); NaN
    and infinite numbers are refused (they would key every run alike).
    """
    _check_name(name)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    try:
        text = json.dumps({"name": name, "config": config, "v": FORMAT_VERSION}, sort_keys=True, allow_nan=False)
    except TypeError as err:
        raise TypeError(f"the config of data set {name!r} must be JSON-serialisable: {err}") from None
    except ValueError as err:
        raise ValueError(f"the config of data set {name!r} holds a NaN or infinite number: {err}") from None
    return hashlib.sha256(text.encode()).hexdigest()


def tensor_checksum(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of a dict of tensors."""
    if not isinstance(tensors, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                   for k, v in tensors.items()):
        raise TypeError("tensors must be a dict mapping names to tensors")
    digest = hashlib.sha256()
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        digest.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def _validate(tensors: Any) -> dict[str, torch.Tensor]:
    if not isinstance(tensors, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()
    ):
        raise TypeError("generate() must return a dict mapping names to tensors")
    return {k: v.detach().cpu() for k, v in tensors.items()}


def _load(path: Path, key: str) -> dict[str, torch.Tensor]:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("key") != key:
        raise ValueError("the file belongs to another config")
    tensors = payload["tensors"]
    if tensor_checksum(tensors) != payload.get("checksum"):
        raise ValueError("checksum mismatch")
    return tensors


#: Age after which a temporary file of an interrupted cache write is deleted: older than any
#: write in progress (other processes may be writing the same entry at the same time).
STALE_SECONDS = 24 * 3600.0


def cache_path(name: str, config: Mapping[str, Any], directory: str | os.PathLike | None = None) -> Path:
    """The file that holds data set ``name`` made with ``config`` (it may not exist yet)."""
    _check_name(name)
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path or None, got {type(directory).__name__}")
    folder = Path(directory) if directory is not None else cache_dir()
    return folder / f"{name}-{config_key(name, config)[:16]}.pt"


def is_cached(name: str, config: Mapping[str, Any], directory: str | os.PathLike | None = None) -> bool:
    """Whether a cache file for ``name`` and ``config`` exists (it is verified only on load)."""
    return cache_path(name, config, directory).exists()


def cached(
    name: str,
    config: Mapping[str, Any],
    generate: Callable[[], Mapping[str, torch.Tensor]],
    directory: str | os.PathLike | None = None,
) -> dict[str, torch.Tensor]:
    """Load the data set ``name`` made with ``config``, generating and caching it if needed.

    Args:
        name: a short name, used in the file name (letters, digits, ``-`` and ``_``).
        config: everything that determines the data (sizes, seeds, physical parameters).
        generate: called with no arguments when the cache misses; returns a dict of tensors.
        directory: cache folder; defaults to :func:`cache_dir`.

    Returns:
        The dict of CPU tensors.
    """
    if not callable(generate):
        raise TypeError(f"generate must be a function returning a dict of tensors, got {type(generate).__name__}")
    key = config_key(name, config)
    path = cache_path(name, config, directory)
    remove_temporaries(path, older_than=STALE_SECONDS)
    if path.exists():
        try:
            return _load(path, key)
        except Exception as err:  # noqa: BLE001 - any failure means the file cannot be trusted
            warnings.warn(f"cache file {path} is unreadable ({err}); regenerating it", stacklevel=2)
            path.unlink(missing_ok=True)
    tensors = _validate(generate())
    atomic_save(
        {"key": key, "config": json.loads(json.dumps(config)), "tensors": tensors,
         "checksum": tensor_checksum(tensors)},
        path,
    )
    return tensors
