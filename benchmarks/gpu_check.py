"""The chapters on a CUDA GPU, as a Colab reader runs them: one prepared check, about 15 minutes.

1. Each data generator makes a small set on the CPU and on the GPU; the largest difference is
   printed against the tolerance its docstring states.
2. Every generated notebook (``notebooks/NN_*.ipynb``) runs in the quick profile on CUDA, in a
   fresh kernel and data cache: its wall time, or its error.
3. Chapter 1 runs in the default profile: its wall time against the 15-minute budget.

Needs a CUDA device; never part of the tests or CI. Prints one line per check and exits 1 if
any failed.

Usage::

    python benchmarks/gpu_check.py [--skip-default] [--only 01 05]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import chapters  # noqa: E402


def _largest_difference(make: Callable[[torch.device], dict[str, torch.Tensor]], keys: tuple[str, ...]) -> float:
    """max |GPU - CPU| / max |CPU| over ``keys`` of the tensors ``make(device)`` returns."""
    cpu, gpu = make(torch.device("cpu")), make(torch.device("cuda"))
    worst = 0.0
    for key in keys:
        a, b = cpu[key].double(), gpu[key].double()
        if a.shape != b.shape or b.device.type != "cpu":
            raise AssertionError(f"{key}: shape {tuple(b.shape)} on {b.device}, expected {tuple(a.shape)} on the CPU")
        worst = max(worst, float((a - b).abs().max() / a.abs().max().clamp_min(1e-30)))
    return worst


def data_checks() -> list[tuple[str, float, float]]:
    """``(data set, measured difference, stated tolerance)`` for each generator."""
    from physdl.crnn.data import SequenceConfig
    from physdl.crnn.data import generate as crnn_generate
    from physdl.neuradiff.data import VoidScenario
    from physdl.neuradiff.data import _generate as void_generate
    from physdl.safe.data import HeatVideoConfig, _diffusion_runs
    from physdl.surrogate.data import generate_flows

    heat = HeatVideoConfig(n=64, steps=500, save_every=50)
    voids = VoidScenario(n=32, frames=10)
    return [
        ("surrogate.generate_flows", _largest_difference(
            lambda d: generate_flows(32, 20, 1.0, 1e6, 0, device=d), ("inputs", "targets")), 1e-6),
        ("safe heat runs", _largest_difference(
            lambda d: {"frames": _diffusion_runs(heat, [0, 1], d)[0]}, ("frames",)), 1e-6),
        ("crnn.data.generate", _largest_difference(
            lambda d: crnn_generate(SequenceConfig(grid=16, sequences=2, frames=5), device=d), ("phi",)), 1e-5),
        ("neuradiff synthesise", _largest_difference(
            lambda d: void_generate(voids, False, d), ("states",)), 1e-6),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="chapter numbers, e.g. 01 07")
    parser.add_argument("--skip-default", action="store_true", help="leave out chapter 1 in the default profile")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing to check")
        return 1
    os.environ["PHYSDL_DEVICE"] = "cuda"
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    failed = 0
    start = time.perf_counter()
    try:
        for name, measured, tolerance in data_checks():
            ok = measured <= tolerance
            failed += not ok
            print(f"data  {name:28s} GPU vs CPU {measured:.1e} (tolerance {tolerance:.0e}) "
                  f"{'ok' if ok else 'FAILED'}", flush=True)
    except Exception as err:  # report and go on to the chapters
        failed += 1
        print(f"data  FAILED: {type(err).__name__}: {err}", flush=True)
    runs = [(nb, "quick") for nb in chapters.notebooks(args.only)]
    if not args.skip_default:
        runs += [(nb, "default") for nb in chapters.notebooks(["01"])]
    for notebook, profile in runs:
        row = chapters.execute(notebook, profile, timeout=1200)
        failed += not row["ok"]
        status = "ok" if row["ok"] else "FAILED\n" + row["error"]
        print(f"chapter {notebook.stem:16s} {profile:7s} {row['seconds']:7.1f} s  {status}", flush=True)
    print(f"gpu_check: {failed} failure(s) in {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
