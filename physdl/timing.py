"""Wall-clock timing of a call, the one timer of physdl, its chapters and its benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch


def synchronize() -> None:
    """Wait for queued CUDA work, so that a timer measures it; a no-op without CUDA."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@dataclass(frozen=True)
class Timing:
    """Timed calls of one function.

    Attributes:
        median: median wall time of one call, seconds.
        times: every timed call, seconds, in order.
    """

    median: float
    times: tuple[float, ...]

    @property
    def spread(self) -> dict[str, float]:
        """Median, minimum and maximum of the timed calls, seconds."""
        return {"median": self.median, "min": min(self.times), "max": max(self.times)}


def time_calls(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> Timing:
    """Time ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones.

    Each timed call ends with :func:`synchronize`, so queued GPU work is counted. The median
    resists the outliers of a shared machine better than the mean.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    for _ in range(warmup):
        fn()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), tuple(times))


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of one call of ``fn()``, seconds (see :func:`time_calls`).

    Used in :ref:`01-surrogates-is-the-surrogate-faster-than-the-solver`.
    """
    return time_calls(fn, repeats, warmup).median
