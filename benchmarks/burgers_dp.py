"""Differentiable Burgers: physdl against PhiFlow 3.4 on the pbdl-book's experiment.

The experiment (pbdl-book, "Burgers optimization with a differentiable physics gradient"):
a periodic grid of 128 cells on [-1, 1] (values at the cell centres), ``nu = 0.01 / (128 pi)``
as that book sets it (128 times smaller than the PINN chapter's ``0.01 / pi``), steps of
``dt = 1/32``, each explicit diffusion followed by semi-Lagrangian advection with linear
interpolation. The target is the state after 16 steps from ``-sin(pi x)``, made by each
side's own solver. Starting from zero, 50 updates of plain gradient descent (lr 5) on the
initial state minimise the mean squared difference at step 16. The book's loss function
simulates all 32 steps and reads step 16; both sides here simulate the 16 steps the loss
depends on, so they do the same work.

Sides: physdl eager (:func:`physdl.diffphys.fit_initial_state`), physdl with
``compile=True`` (torch.compile), PhiFlow eager and PhiFlow with ``math.jit_compile``.
The loss curves of all sides must agree to 4 significant digits: that checks that the
comparison compares the same computation. Per-update times are medians over the updates
after a warm-up; compilation and tracing are reported on their own line.

Usage::

    python benchmarks/burgers_dp.py [--threads 2] [--updates 50] [--no-peer] [--no-compile]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import torch

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

from physdl import diffphys
from physdl.pde import burgers

N = 128
STEPS_TO_LOSS = 16
DT = 1 / 32
LR = 5.0


def viscosity(n: int = N) -> float:
    """The pbdl-book's ``nu = 0.01 / (n pi)``."""
    return 0.01 / (n * math.pi)


def cell_centres(n: int = N) -> torch.Tensor:
    """Cell centres of ``n`` cells on [-1, 1] (the pbdl-book's points), float64 ``(n,)``."""
    return burgers.domain(n, "periodic").coordinates("cell")[0]


def physdl_side(updates: int, compile: bool, n: int = N, warmup: int = 2) -> dict[str, Any]:
    """physdl's run: loss curve, median seconds per update, compile seconds."""
    dx, nu = 2 / n, viscosity(n)
    u_init = -torch.sin(math.pi * cell_centres(n)).float()
    with torch.no_grad():
        target = diffphys.final_state(burgers.solver(burgers.domain(n, "periodic"), DT, nu), u_init, STEPS_TO_LOSS)
    fit = diffphys.fit_initial_state(target, STEPS_TO_LOSS, updates, LR, DT, dx, nu, bc="periodic",
                                     compile=compile)
    timed = fit.update_seconds[warmup:] or fit.update_seconds
    return {"loss": fit.loss[:updates], "seconds_per_update": statistics.median(timed),
            "compile_seconds": fit.compile_seconds}


def phiflow_side(updates: int, jit: bool, n: int = N, warmup: int = 2) -> dict[str, Any]:
    """PhiFlow's run (torch backend), the pbdl-book's code with the loss at step 16."""
    from phi.torch import flow as phi  # noqa: PLC0415  (optional peer)

    math_ = phi.math
    nu, box = viscosity(n), phi.Box(x=(-1, 1))
    values = (-torch.sin(math.pi * cell_centres(n))).float().numpy()
    initial = phi.CenteredGrid(math_.tensor(values, phi.spatial("x")), phi.extrapolation.PERIODIC, x=n,
                               bounds=box)

    def simulate(v: Any, steps: int) -> Any:
        for _ in range(steps):
            v1 = phi.diffuse.explicit(1.0 * v, nu, DT)
            v = phi.advect.semi_lagrangian(v1, v1, DT)
        return v

    target = simulate(initial, STEPS_TO_LOSS)

    def loss_function(velocity: Any) -> Any:
        return math_.mean((simulate(velocity, STEPS_TO_LOSS).values - target.values) ** 2, "x")

    gradient = math_.gradient(loss_function, "velocity", get_output=True)
    step_fn = math_.jit_compile(gradient) if jit else gradient
    velocity = phi.CenteredGrid(math_.tensor(values * 0, phi.spatial("x")), phi.extrapolation.PERIODIC,
                                x=n, bounds=box)
    t0 = time.perf_counter()
    step_fn(velocity)  # traces (jit) or warms up (eager)
    trace = time.perf_counter() - t0
    losses, times = [], []
    for _ in range(updates):
        t0 = time.perf_counter()
        loss, grad = step_fn(velocity)
        velocity = velocity - LR * grad
        times.append(time.perf_counter() - t0)
        losses.append(float(loss.native().detach()))
    timed = times[warmup:] or times
    return {"loss": losses, "seconds_per_update": statistics.median(timed),
            "compile_seconds": trace if jit else 0.0}


def agreement_digits(a: list[float], b: list[float]) -> float:
    """Significant digits to which two loss curves agree: ``-log10(max relative difference)``."""
    rel = max(abs(x - y) / max(abs(x), abs(y), 1e-30) for x, y in zip(a, b))
    return math.inf if rel == 0 else -math.log10(rel)


def run(updates: int = 50, threads: int = 2, peer: bool = True, compile: bool = True,
        n: int = N) -> dict[str, Any]:
    """All sides, their ratios and the loss-curve agreement (a dict for the results file)."""
    common.set_threads(threads)
    sides: dict[str, dict[str, Any]] = {"physdl eager": physdl_side(updates, False, n)}
    if compile:
        sides["physdl compiled"] = physdl_side(updates, True, n)
    if peer:
        sides["PhiFlow eager"] = phiflow_side(updates, False, n)
        sides["PhiFlow jit"] = phiflow_side(updates, True, n)
    reference = sides["physdl eager"]["loss"]
    digits = {name: agreement_digits(reference, s["loss"]) for name, s in sides.items() if name != "physdl eager"}
    fastest = "physdl compiled" if compile else "physdl eager"
    ratios = {}
    if peer:
        best = sides[fastest]["seconds_per_update"]
        ratios = {f"PhiFlow eager / {fastest}": sides["PhiFlow eager"]["seconds_per_update"] / best,
                  f"PhiFlow jit / {fastest}": sides["PhiFlow jit"]["seconds_per_update"] / best,
                  "PhiFlow eager / physdl eager": sides["PhiFlow eager"]["seconds_per_update"]
                  / sides["physdl eager"]["seconds_per_update"]}
    settings = {"cells": n, "nu": viscosity(n), "dt": DT, "steps_to_loss": STEPS_TO_LOSS, "lr": LR,
                "updates": updates, "dtype": "float32"}
    return {"settings": settings, "sides": sides, "ratios": ratios, "agreement_digits": digits}


def report(result: dict[str, Any]) -> None:
    """Print the table of one run."""
    s = result["settings"]
    print(f"Differentiable Burgers: {s['cells']} cells, nu = {s['nu']:.3e}, {s['steps_to_loss']} steps to the "
          f"loss, {s['updates']} updates of lr {s['lr']}")
    for name, side in result["sides"].items():
        compiled = f"   (compile/trace {side['compile_seconds']:.1f} s)" if side["compile_seconds"] else ""
        print(f"  {name:16s} {side['seconds_per_update'] * 1e3:9.3f} ms per update   "
              f"loss {side['loss'][0]:.6f} -> {side['loss'][-1]:.6f}{compiled}")
    for name, ratio in result["ratios"].items():
        print(f"  {name:34s} {ratio:7.1f}x")
    for name, digits in result["agreement_digits"].items():
        print(f"  loss curve of {name} agrees with physdl eager to {digits:.1f} significant digits")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--no-peer", action="store_true", help="physdl only (no PhiFlow installed)")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--no-write", action="store_true", help="print only, write no results file")
    args = parser.parse_args()
    peer = not args.no_peer and common.peer_available("phi")
    result = run(args.updates, args.threads, peer, not args.no_compile)
    report(result)
    if peer and not args.no_write:
        print("wrote", common.write_result("burgers_dp", result, args.threads))


if __name__ == "__main__":
    main()
