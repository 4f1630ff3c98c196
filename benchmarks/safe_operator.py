"""SAFE operator: exact spectral form against the sub-stepped stencil, measured side by side.

Propagates a batch of frame pairs (default: 100 frames of 128 x 128, the paper's video) by one
frame interval with N_sub = 50 sub-steps and back-propagates a scalar loss to ``alpha`` and the
field, as one training step does. Three implementations:

- ``spectral``: physdl's default, one multiplication in Fourier space;
- ``stencil (roll)``: physdl's sub-stepped five-point stencil (``method="stencil"``);
- ``stencil (conv2d)``: the paper's form, a frozen 3x3 convolution with circular padding.

Prints the median time of each and the ratios, from one run, plus the largest difference
between the spectral and stencil results. Usage::

    python benchmarks/safe_operator.py [--frames 100] [--n 128] [--substeps 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from physdl.safe import SafeOperator


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--substeps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    field = torch.rand(1, args.frames, 1, args.n, args.n)
    dt_save, dx = 0.25, 0.5
    alpha = torch.tensor([-0.4])

    def run(kind: str):
        def step():
            a = alpha.clone().requires_grad_(True)
            f = field.clone().requires_grad_(True)
            if kind == "conv2d":
                out = conv2d_substeps(f, a, dt_save / args.substeps, dx, args.substeps)
            else:
                out = SafeOperator(dt_save, dx, args.substeps, method=kind)(f, a)
            out.pow(2).mean().backward()
            return out.detach()
        return step

    results = {name: timed(run(kind), args.repeat)
               for name, kind in (("spectral", "spectral"), ("stencil (roll)", "stencil"),
                                  ("stencil (conv2d)", "conv2d"))}
    print(f"{args.frames} frames of {args.n}x{args.n}, N_sub = {args.substeps}, forward + backward, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    base = results["spectral"][0]
    for name, (seconds, _) in results.items():
        print(f"  {name:18s} {seconds * 1e3:9.1f} ms   {seconds / base:6.1f}x the spectral time")
    ref = results["stencil (roll)"][1]
    diff = (results["spectral"][1] - ref).abs().max().item()
    print(f"  max |spectral - stencil| = {diff:.2e} (float32, fields of order 1)")


if __name__ == "__main__":
    main()
