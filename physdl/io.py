"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename it into place."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save(obj, fh)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to (by any library); renamed to ``path`` when the
    block ends, after an ``fsync``, and removed if the block raises. Readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def temporaries(path: str | os.PathLike) -> list[Path]:
    """The temporary files that :func:`atomic_save` leaves for ``path`` when it is killed mid-write."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f".{glob_escape(path.name)}.*.tmp"))


def glob_escape(name: str) -> str:
    """``name`` with the glob metacharacters ``*?[`` made literal."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def remove_temporaries(path: str | os.PathLike, older_than: float = 0.0) -> int:
    """Delete the leftover temporaries of ``path`` at least ``older_than`` seconds old.

    Use ``older_than=0`` only where no other process can be writing ``path`` (a training
    run's own checkpoint); shared files such as the data cache pass an age. Returns the count.
    """
    removed, now = 0, time.time()
    for tmp in temporaries(path):
        try:
            if now - tmp.stat().st_mtime >= older_than:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:  # another process finished or removed it meanwhile
            pass
    return removed
