"""Progress bars for long loops: data generation, rollouts, training."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

from physdl.config import progress_enabled

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, enabled: bool | None = None) -> Iterable[T]:
    """Iterate over ``items`` with a tqdm bar labelled ``desc``.

    Shown when ``enabled`` is true; ``None`` follows :func:`physdl.config.progress_enabled`
    (``PHYSDL_PROGRESS=0`` hides every bar, as book builds and CI do).
    """
    return tqdm(items, desc=desc, disable=not (progress_enabled() if enabled is None else enabled))
