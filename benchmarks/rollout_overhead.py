"""What :func:`physdl.rollout` costs against a hand-written time loop, on three workloads.

Each workload runs the same stepper twice per repetition, interleaved: once through a plain
``for`` loop that stacks its states as the solvers did before the stepper interface (the
baseline), once through ``rollout``. The overhead is the ratio of the two medians minus one.

- differentiable Burgers: 50 gradient updates of the initial state through 16 solver steps on
  128 periodic nodes (chapter 4's setting as in ``burgers_dp.py``), eager and compiled;
- Cahn-Hilliard, explicit, 32^3, 400 solver steps without gradients;
- the shipped CRNN, a 100-step rollout at 16^3.

Usage::

    python benchmarks/rollout_overhead.py [--threads 2] [--repeats 7] [--no-compile]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

from physdl.crnn.training import load_weights, shipped_weights
from physdl.pde import burgers
from physdl.pde import cahn_hilliard as ch
from physdl.pde.stepper import Stepper, rollout


def hand_loop(stepper: Stepper, state: torch.Tensor, steps: int, save_every: int = 1) -> torch.Tensor:
    """The baseline: ``steps`` calls in a Python loop keeping every ``save_every``-th state, stacked
    ``(batch, frames, ...)``, as the solvers' own loops did before the stepper interface."""
    states, carry = [state], stepper.init_carry(state)
    for k in range(1, steps + 1):
        state, carry = stepper.advance(state, carry)
        if k % save_every == 0:
            states.append(state)
    return torch.stack(states, dim=1)


def interleaved(first: Callable[[], object], second: Callable[[], object], repeats: int,
                warmup: int = 1) -> tuple[float, float]:
    """Median seconds of ``first()`` and ``second()``, timed alternately ``repeats`` times each."""
    for _ in range(warmup):
        first(), second()
    a, b = [], []
    for _ in range(repeats):
        for fn, out in ((first, a), (second, b)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(a), statistics.median(b)


def burgers_updates(updates: int, compile: bool, n: int = 128, steps: int = 16) -> Callable[[Callable], Callable]:
    """A function that runs ``updates`` gradient updates with a given time loop."""
    grid = burgers.domain(n, "periodic")
    solver = burgers.solver(grid, 1 / 32, 0.01 / (n * math.pi))
    x = grid.coordinates("cell")[0]
    with torch.no_grad():
        target = rollout(solver, -torch.sin(math.pi * x).float()[None, None], steps)[:, -1]

    def make(loop: Callable) -> Callable[[], None]:
        def loss(u: torch.Tensor) -> torch.Tensor:
            return (loop(solver, u, steps)[:, -1] - target).pow(2).mean()

        loss_fn = torch.compile(loss, dynamic=False) if compile else loss

        def run() -> None:
            u = torch.zeros(1, 1, n).requires_grad_(True)
            for _ in range(updates):
                (grad,) = torch.autograd.grad(loss_fn(u), u)
                with torch.no_grad():
                    u -= 5.0 * grad

        return run

    return make


def through_rollout(stepper: Stepper, state: torch.Tensor, steps: int) -> torch.Tensor:
    """Every state, as the hand loop; no finiteness check, as :func:`physdl.diffphys.final_state` runs it
    inside a training loop (each check is a host synchronisation)."""
    return rollout(stepper, state, steps, check_finite=False)


def run(threads: int = 2, repeats: int = 7, compile: bool = True, updates: int = 50, ch_steps: int = 400,
        ch_grid: int = 32, crnn_steps: int = 100, crnn_grid: int = 16) -> dict[str, Any]:
    """All workloads; a dict for the results file."""
    common.set_threads(threads)
    rows = {}

    def record(name: str, baseline: Callable[[], object], candidate: Callable[[], object]) -> None:
        base, new = interleaved(baseline, candidate, repeats)
        rows[name] = {"hand loop s": base, "rollout s": new, "overhead %": 100 * (new / base - 1)}
        print(f"{name:<44} hand loop {base:9.4f} s   rollout {new:9.4f} s   overhead {rows[name]['overhead %']:+.1f} %",
              flush=True)

    modes = (False, True) if compile else (False,)
    for compiled in modes:
        make = burgers_updates(updates, compiled)
        record(f"Burgers DP, {updates} updates, {'compiled' if compiled else 'eager'}",
               make(hand_loop), make(through_rollout))

    phi = ch.perlin_state((ch_grid,) * 3, 0.5, 4, 0.2, 1, torch.Generator().manual_seed(0))
    explicit = ch.ExplicitStepper((ch_grid,) * 3, 1.25e-3)
    with torch.no_grad():
        record(f"Cahn-Hilliard explicit {ch_grid}^3, {ch_steps} steps",
               lambda: hand_loop(explicit, phi, ch_steps, save_every=ch_steps)[:, -1],
               lambda: rollout(explicit, phi, ch_steps, save_every=ch_steps)[:, -1])

        net, _ = load_weights(shipped_weights("ch3d"))
        phi16 = ch.perlin_state((crnn_grid,) * 3, 0.5, 2, 0.2, 1, torch.Generator().manual_seed(1))
        record(f"CRNN rollout {crnn_grid}^3, {crnn_steps} steps",
               lambda: hand_loop(net, phi16, crnn_steps), lambda: net.rollout(phi16, crnn_steps))
    return {"settings": {"repeats": repeats, "updates": updates, "threads": threads}, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled Burgers workload")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    result = run(args.threads, args.repeats, compile=not args.no_compile)
    path = common.write_result("rollout_overhead", result, args.threads)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
