"""What every benchmark shares: the machine description, timing, and the results files.

Each benchmark script measures physdl and a peer in one run and writes
``benchmarks/results/<name>.json`` (figures, ratios, settings and the machine) next to
``<name>.freeze.txt`` (``pip freeze`` of the interpreter that ran it). The book's
performance appendix renders those files.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from physdl.timing import time_calls

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else :func:`platform.processor`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads: int | None = None) -> dict[str, Any]:
    """The machine a result was measured on: CPU, cores, threads, torch, GPU if any."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "threads": threads if threads is not None else torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gpu": gpu,
        "platform": platform.platform(),
    }


def set_threads(threads: int) -> int:
    """Set torch's intra-op threads (both sides of a comparison run with the same number)."""
    if threads < 1:
        raise ValueError(f"threads must be positive, got {threads}")
    torch.set_num_threads(threads)
    return threads


def median_seconds(fn: Callable[[], object], repeat: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeat`` calls after ``warmup`` untimed ones.

    Returns ``(median, all timed values)`` in seconds; measured by :func:`physdl.timing.time_calls`.
    """
    timing = time_calls(fn, repeat, warmup)
    return timing.median, list(timing.times)


def spread(values: list[float]) -> dict[str, float]:
    """Median, minimum and maximum of a list of measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def pip_freeze() -> str:
    """``pip freeze`` of the running interpreter (empty when pip is unavailable)."""
    try:
        return subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True,
                              check=False, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def write_result(name: str, result: dict[str, Any], threads: int, directory: Path = RESULTS) -> Path:
    """Write ``<name>.json`` (result plus machine and date) and ``<name>.freeze.txt``.

    Returns the path of the JSON file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d"), "machine": machine(threads), **result}
    path = directory / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)
    (directory / f"{name}.freeze.txt").write_text(pip_freeze())
    return path


def load_results(directory: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """Every ``<name>.json`` in ``directory`` by name (what the appendix renders)."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def peer_available(module: str) -> bool:
    """Whether a peer package can be imported (peers come from benchmarks/requirements.txt)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None
