"""SAFE operator: exact spectral form against the sub-stepped stencil, measured side by side.

Propagates a batch of frame pairs (default: 100 frames of 128 x 128, the paper's video) by one
frame interval with N_sub = 50 sub-steps and back-propagates a scalar loss to ``alpha`` and the
field, as one training step does. Three implementations:

- ``spectral``: physdl's default, one multiplication in Fourier space;
- ``stencil (roll)``: physdl's sub-stepped five-point stencil (``method="stencil"``);
- ``stencil (conv2d)``: the paper's form, a frozen 3x3 convolution with circular padding.

Prints the median time of each and the ratios, from one run, plus the largest difference
between the spectral and stencil results. Then the zero-shot time per simulation: a fresh
model recovering ``alpha`` from one 101-frame video (200 estimator steps, the paper's), with
physdl's spectral operator; for the stencil forms, their measured per-step cost times 200
(running 200 conv2d steps would take minutes). Writes ``results/safe_operator.json``.
Usage::

    python benchmarks/safe_operator.py [--frames 100] [--n 128] [--substeps 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch
import torch.nn.functional as F

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

from physdl import safe
from physdl.safe import SafeOperator
from physdl.safe.data import HeatVideoConfig, simulation


def conv2d_substeps(field: torch.Tensor, alpha: torch.Tensor, dt_sub: float, dx: float, substeps: int) -> torch.Tensor:
    """The paper's operator: ``substeps`` Euler steps with a frozen circular 3x3 convolution."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=field.dtype) / dx**2
    kernel = kernel.reshape(1, 1, 3, 3)
    shape = field.shape
    u = field.reshape(-1, 1, *shape[-2:])
    for _ in range(substeps):
        lap = F.conv2d(F.pad(u, (1, 1, 1, 1), mode="circular"), kernel)
        u = u - dt_sub * alpha * lap
    return u.reshape(shape)


def timed(fn, repeat: int) -> tuple[float, torch.Tensor]:
    """Median seconds of forward + backward over ``repeat`` runs (after one warm-up)."""
    times, out = [], None
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        out = fn()
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def operator_times(frames: int, n: int, substeps: int, repeat: int) -> dict[str, Any]:
    """Median forward + backward seconds of the three forms and their largest difference."""
    torch.manual_seed(0)
    field = torch.rand(1, frames, 1, n, n)
    dt_save, dx = 0.25, 0.5
    alpha = torch.tensor([-0.4])

    def run(kind: str):
        def step():
            a = alpha.clone().requires_grad_(True)
            f = field.clone().requires_grad_(True)
            if kind == "conv2d":
                out = conv2d_substeps(f, a, dt_save / substeps, dx, substeps)
            else:
                out = SafeOperator(dt_save, dx, substeps, method=kind)(f, a)
            out.pow(2).mean().backward()
            return out.detach()
        return step

    results = {name: timed(run(kind), repeat)
               for name, kind in (("spectral", "spectral"), ("stencil (roll)", "stencil"),
                                  ("stencil (conv2d)", "conv2d"))}
    diff = (results["spectral"][1] - results["stencil (roll)"][1]).abs().max().item()
    return {"seconds": {name: sec for name, (sec, _) in results.items()}, "max_difference": diff}


def zero_shot_seconds(video: HeatVideoConfig = HeatVideoConfig()) -> dict[str, Any]:
    """Wall time of one zero-shot recovery with physdl's spectral operator, and its estimate."""
    sim = simulation(video, 0)
    cfg = safe.SafeConfig()
    t0 = time.perf_counter()
    est = safe.zero_shot(sim["frames"], -1, float(sim["dt_save"]), float(sim["dx"]), cfg)
    return {"seconds": time.perf_counter() - t0, "steps": cfg.zero_shot_steps, "alpha_true": float(sim["alpha"]),
            "alpha_estimate": est.alpha, "frames": int(sim["frames"].shape[0])}


def run(frames: int = 100, n: int = 128, substeps: int = 50, repeat: int = 5, threads: int = 2,
        zero_shot: bool = True) -> dict[str, Any]:
    """The operator comparison and the zero-shot time (a dict for the results file)."""
    common.set_threads(threads)
    ops = operator_times(frames, n, substeps, repeat)
    sec = ops["seconds"]
    ratios = {"roll / spectral": sec["stencil (roll)"] / sec["spectral"],
              "conv2d / spectral": sec["stencil (conv2d)"] / sec["spectral"]}
    result: dict[str, Any] = {"settings": {"frames": frames, "grid": n, "substeps": substeps, "repeat": repeat,
                                           "dtype": "float32"},
                              "operator": ops, "ratios": ratios}
    if zero_shot:
        zs = zero_shot_seconds()
        spectral_step = zs["seconds"] / zs["steps"]
        zs["estimated_seconds"] = {name: zs["steps"] * s for name, s in sec.items() if name != "spectral"}
        zs["seconds_per_step"] = spectral_step
        result["zero_shot"] = zs
    return result


def report(result: dict[str, Any]) -> None:
    """Print the table of one run."""
    s, sec = result["settings"], result["operator"]["seconds"]
    print(f"SAFE operator: {s['frames']} frames of {s['grid']}x{s['grid']}, N_sub = {s['substeps']}, "
          f"forward + backward, {torch.get_num_threads()} threads, torch {torch.__version__}")
    for name, seconds in sec.items():
        print(f"  {name:18s} {seconds * 1e3:9.1f} ms   {seconds / sec['spectral']:6.1f}x the spectral time")
    print(f"  max |spectral - stencil| = {result['operator']['max_difference']:.2e} (float32, fields of order 1)")
    if "zero_shot" in result:
        z = result["zero_shot"]
        est = ", ".join(f"{k} about {v:.0f} s" for k, v in z["estimated_seconds"].items())
        print(f"  zero-shot per simulation ({z['frames']} frames, {z['steps']} steps): {z['seconds']:.2f} s spectral "
              f"(alpha {z['alpha_estimate']:.4f} vs true {z['alpha_true']:.4f}); with the operator alone, {est}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--substeps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only, write no results file")
    args = parser.parse_args()
    result = run(args.frames, args.n, args.substeps, args.repeat, args.threads)
    report(result)
    if not args.no_write:
        print("wrote", common.write_result("safe_operator", result, args.threads))


if __name__ == "__main__":
    main()
