"""Burgers PINN: physdl against DeepXDE 1.15 (PyTorch backend) on DeepXDE's Burgers example.

The problem: ``u_t + u u_x = (0.01 / pi) u_xx`` on ``x in [-1, 1]``, ``t in [0, 0.99]``,
``u(x, 0) = -sin(pi x)``, ``u(+-1, t) = 0``. DeepXDE's example: a 3 x 20 tanh network with
Glorot-normal weights, 2540 / 80 / 160 fixed collocation / boundary / initial points, Adam
at 1e-3 for 15,000 iterations, then L-BFGS (torch's, history 100, strong Wolfe, up to
15,000 iterations).

Three runs, each seed by seed:

- **DeepXDE**, the example as published (the errors are measured against physdl's exact
  solution instead of the example's data file).
- **physdl, identical configuration**: the same network, initialisation, point counts,
  float32 and threads, trained with :func:`physdl.pinn.train_pinn`; timed per Adam iteration.
- **physdl's recipe**: what the course recommends for this problem (:class:`Recipe`).

Time to accuracy: a training clock that pauses while the relative L2 error against the exact
solution (256 x 100 grid, DeepXDE's test grid) is measured, about every half second of
training. The clock reads the error after optimizer steps and, on DeepXDE's side, also
after forward calls of the network (its L-BFGS runs 1000 iterations per optimizer step; the
readings then include line-search trials). Per-iteration times are medians of the Adam
iterations (optimizer-step hooks), after a warm-up.

Usage::

    python benchmarks/burgers_pinn.py [--seeds 5] [--threads 2] [--no-peer]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

from physdl import pinn as P
from physdl.nn import MLP
from physdl.pde import burgers as B

NU = 0.01 / math.pi
DOMAIN = P.Domain(x=(-1.0, 1.0), t=(0.0, 0.99))
LEVELS = (1e-2, 5e-3)


# --------------------------------------------------------------------------- the clock


class TrainingClock:
    """Training wall time that pauses while the error is measured, with the error's trace.

    Attach :meth:`on_forward` as a forward hook of the network and :meth:`on_step` as an
    optimizer-step hook; call :meth:`start` when training starts.

    Args:
        error: returns the current relative L2 error (called under ``torch.no_grad``).
        every: seconds of training between two error measurements.
    """

    def __init__(self, error: Callable[[], float], every: float = 0.5) -> None:
        if every < 0:
            raise ValueError(f"every must be non-negative seconds, got {every}")
        self.error, self.every = error, every
        self.trace: list[tuple[float, float]] = []
        self.steps: list[float] = []
        self._t0: float | None = None
        self._paused = 0.0
        self._busy = False

    def start(self) -> None:
        self._t0, self._paused = time.perf_counter(), 0.0
        self.measure()

    def now(self) -> float:
        """Seconds of training so far (measurements excluded)."""
        assert self._t0 is not None, "start the clock first"
        return time.perf_counter() - self._t0 - self._paused

    def measure(self) -> float:
        """Measure the error now, outside the training time."""
        self._busy = True
        t_pause = time.perf_counter()
        at = self.now()
        with torch.no_grad():
            err = float(self.error())
        self.trace.append((at, err))
        self._paused += time.perf_counter() - t_pause
        self._busy = False
        return err

    def on_forward(self, *_: Any) -> None:
        if self._busy or self._t0 is None:
            return
        if self.now() - self.trace[-1][0] >= self.every:
            self.measure()

    def on_step(self, *_: Any) -> None:
        if self._t0 is not None:
            self.steps.append(self.now())
            self.on_forward()

    def time_to(self, level: float) -> float:
        """First training time with the error below ``level`` (``inf`` if never)."""
        return next((t for t, e in self.trace if e < level), math.inf)

    def median_step(self, first: int, last: int, warmup: int = 20) -> float:
        """Median seconds per optimizer step between step indices ``first`` and ``last``."""
        marks = self.steps[first + warmup:last]
        gaps = [b - a for a, b in zip(marks[:-1], marks[1:])]
        return statistics.median(gaps) if gaps else math.nan


class attached:
    """Context manager: the clock hooked to every optimizer step and, with ``forward``, to
    every forward call of ``net`` (needed where one optimizer step runs many iterations, as
    DeepXDE's L-BFGS does: 1000 per step; physdl's L-BFGS steps are 20 iterations, and a
    hook inside a compiled loss would break the compiled graph)."""

    def __init__(self, clock: TrainingClock, net: nn.Module, forward: bool = True) -> None:
        self.clock, self.net, self.forward = clock, net, forward

    def __enter__(self) -> TrainingClock:
        self._handles = [register_optimizer_step_post_hook(self.clock.on_step)]
        if self.forward:
            self._handles.append(self.net.register_forward_hook(self.clock.on_forward))
        return self.clock

    def __exit__(self, *_: Any) -> None:
        for h in self._handles:
            h.remove()


def initial(x: torch.Tensor) -> torch.Tensor:
    """The initial condition ``u(x, 0) = -sin(pi x)``."""
    return -torch.sin(math.pi * x)


def test_grid() -> tuple[torch.Tensor, torch.Tensor]:
    """DeepXDE's test grid (256 x 100 points on [-1, 1] x [0, 0.99]) and the exact ``u``."""
    x = torch.linspace(-1, 1, 256, dtype=torch.float64)
    t = torch.linspace(0, 0.99, 100, dtype=torch.float64)
    pts = P.grid_points(x, t)
    return pts.float(), B.exact_solution(pts[:, 0], pts[:, 1])[:, None].float()


def error_of(net: nn.Module, points: torch.Tensor, exact: torch.Tensor) -> Callable[[], float]:
    """Relative L2 error of ``net`` on the test grid, as a function of nothing."""
    def error() -> float:
        return float((net(points) - exact).norm() / exact.norm())
    return error


# --------------------------------------------------------------------------- DeepXDE


def deepxde_side(seed: int, adam: int = 15_000, lbfgs: int = 15_000) -> dict[str, Any]:
    """DeepXDE's Burgers example for one seed: clock trace, per-iteration time, final error."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import deepxde as dde  # noqa: PLC0415  (optional peer)
    import numpy as np  # noqa: PLC0415

    dde.config.set_random_seed(seed)
    dde.optimizers.set_LBFGS_options(maxiter=lbfgs)

    def pde(x: Any, y: Any) -> Any:
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - NU * dy_xx

    geomtime = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))
    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    points, exact = test_grid()
    clock = TrainingClock(error_of(net, points, exact))
    with attached(clock, net):
        model.compile("adam", lr=1e-3)
        clock.start()
        model.train(iterations=adam, verbose=0)
        adam_end = len(clock.steps)
        adam_seconds = clock.now()
        model.compile("L-BFGS")
        model.train(verbose=0)
        final = clock.measure()
    return {"seed": seed, "seconds_per_1000_adam": 1e3 * clock.median_step(0, adam_end),
            "adam_seconds": adam_seconds, "seconds": clock.now(), "final_error": final,
            "time_to": {str(level): clock.time_to(level) for level in LEVELS}, "trace": clock.trace}


# --------------------------------------------------------------------------- physdl


def identical_points(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """DeepXDE's point counts: 2540 inside, 80 on the walls, 160 at ``t = 0``.

    Returns ``(collocation (2780, 2), data points (240, 2), data values (240, 1))``; like
    DeepXDE, the residual is also evaluated on the wall and initial points.
    """
    sobol = torch.quasirandom.SobolEngine(2, scramble=True, seed=seed)
    inside = sobol.draw(2540, dtype=torch.float64) * torch.tensor([2.0, 0.99]) + torch.tensor([-1.0, 0.0])
    gen = torch.Generator().manual_seed(seed)
    walls = torch.stack([torch.tensor([-1.0, 1.0], dtype=torch.float64).repeat(40),
                         0.99 * torch.rand(80, generator=gen, dtype=torch.float64)], dim=1)
    start = torch.stack([2 * torch.rand(160, generator=gen, dtype=torch.float64) - 1,
                         torch.zeros(160, dtype=torch.float64)], dim=1)
    data = torch.cat([walls, start])
    values = torch.cat([torch.zeros(80, dtype=torch.float64), initial(start[:, 0])])
    return torch.cat([inside, data]).float(), data.float(), values[:, None].float()


@dataclass(frozen=True)
class Recipe:
    """physdl's recommended schedule for this problem.

    Attributes:
        hidden: hidden widths of the tanh MLP (Glorot normal).
        collocation: fixed residual points (scrambled Sobol) inside the domain.
        initial, boundary: data points on ``t = 0`` and on each wall.
        adam: Adam iterations at ``lr`` before L-BFGS.
        lbfgs: L-BFGS iterations (in steps of 20), history ``history``.
        compile: run the loss through ``torch.compile`` (compilation counts as training time).
        hard: impose the initial and wall values exactly with :func:`physdl.pinn.zero_dirichlet`
            (the loss is then the residual alone; the data points add nothing).
        refine: after Adam, add this many points where the residual is largest among 20,000
            Sobol candidates (:func:`physdl.pinn.largest_residuals`) for the L-BFGS stage.
        resample: draw fresh uniform collocation points at every Adam iteration and every
            L-BFGS step (20 iterations), instead of one fixed Sobol set.
    """

    hidden: tuple[int, ...] = (20,) * 8
    collocation: int = 2540
    initial: int = 160
    boundary: int = 40
    adam: int = 3000
    lr: float = 1e-3
    lbfgs: int = 4000
    history: int = 100
    compile: bool = True
    hard: bool = True
    refine: int = 1000
    resample: bool = False


IDENTICAL = Recipe(hidden=(20, 20, 20), adam=15_000, lbfgs=15_000, compile=True, hard=False)


def sobol_points(n: int, seed: int) -> torch.Tensor:
    """``n`` scrambled Sobol points inside ``[-1, 1] x [0, 0.99]``, float32 ``(n, 2)``."""
    sobol = torch.quasirandom.SobolEngine(2, scramble=True, seed=seed)
    return (sobol.draw(n, dtype=torch.float64) * torch.tensor([2.0, 0.99]) + torch.tensor([-1.0, 0.0])).float()


def recipe_points(recipe: Recipe, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Collocation, data points and values of a recipe (float32)."""
    inside = sobol_points(recipe.collocation, seed)
    xi = P.initial_points(recipe.initial, DOMAIN, torch.float64)
    xb = P.boundary_points(recipe.boundary, DOMAIN, torch.float64)
    data = torch.cat([xi, xb])
    values = torch.cat([initial(xi[:, 0]), torch.zeros(len(xb), dtype=torch.float64)])
    return inside, data.float(), values[:, None].float()


def physdl_side(seed: int, recipe: Recipe, identical: bool = False, adam: int | None = None,
                lbfgs: int | None = None) -> dict[str, Any]:
    """One physdl run: the identical configuration or a recipe, with the same clock."""
    adam = recipe.adam if adam is None else adam
    lbfgs = recipe.lbfgs if lbfgs is None else lbfgs
    torch.manual_seed(seed)
    net = MLP(2, 1, recipe.hidden, activation="tanh", init="xavier_normal")
    colloc, data, values = identical_points(seed) if identical else recipe_points(recipe, seed)
    model = net
    if recipe.hard and not identical:  # the conditions hold exactly: no supervised points
        model, data, values = P.zero_dirichlet(net, initial, DOMAIN), data[:0], values[:0]
    sampler = P.ResampledPoints(len(colloc), DOMAIN, seed) if recipe.resample and not identical \
        else P.FixedPoints(colloc)
    loss = P.PINNLoss(P.PINN(model, {"nu": NU}), P.burgers, data, values, sampler, forward_mode=True)
    points, exact = test_grid()
    clock = TrainingClock(error_of(model, points, exact))
    with attached(clock, net, forward=False):
        clock.start()
        P.train_pinn(loss, adam, 0, lr=recipe.lr, progress=False, compile=recipe.compile)
        adam_end, adam_seconds = len(clock.steps), clock.now()
        if recipe.refine and not identical:
            candidates = sobol_points(20_000, seed + 1)
            loss.collocation = P.FixedPoints(torch.cat([colloc, P.largest_residuals(loss, candidates, recipe.refine)]))
        if lbfgs:
            P.train_pinn(loss, 0, max(1, lbfgs // 20), progress=False, lbfgs_history=recipe.history,
                         compile=recipe.compile)
        final = clock.measure()
    return {"seed": seed, "seconds_per_1000_adam": 1e3 * clock.median_step(0, adam_end),
            "adam_seconds": adam_seconds, "seconds": clock.now(), "final_error": final,
            "time_to": {str(level): clock.time_to(level) for level in LEVELS}, "trace": clock.trace}


# --------------------------------------------------------------------------- the comparison


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and spread of a side's seeds, and how many reached each level."""
    out: dict[str, Any] = {
        "seconds_per_1000_adam": common.spread([r["seconds_per_1000_adam"] for r in runs]),
        "final_error": common.spread([r["final_error"] for r in runs]),
        "seconds": common.spread([r["seconds"] for r in runs]),
    }
    for level in LEVELS:
        times = [r["time_to"][str(level)] for r in runs]
        out[f"time_to_{level:g}"] = {"median": statistics.median(times), "reached": sum(map(math.isfinite, times)),
                                     "values": times}
    return out


def run(seeds: int = 5, threads: int = 2, peer: bool = True, timing_iterations: int = 2000,
        recipe: Recipe = Recipe()) -> dict[str, Any]:
    """All sides over ``seeds`` seeds, summaries and ratios (a dict for the results file)."""
    common.set_threads(threads)
    sides: dict[str, list[dict[str, Any]]] = {
        "physdl identical": [physdl_side(s, IDENTICAL, identical=True, adam=timing_iterations, lbfgs=0)
                             for s in range(seeds)],
        "physdl recipe": [physdl_side(s, recipe) for s in range(seeds)],
    }
    if peer:
        sides["DeepXDE"] = [deepxde_side(s) for s in range(seeds)]
    summary = {name: summarise(runs) for name, runs in sides.items()}
    ratios = {}
    if peer:
        dx, pi = summary["DeepXDE"], summary["physdl identical"]
        ratios["DeepXDE / physdl, seconds per Adam iteration"] = (
            dx["seconds_per_1000_adam"]["median"] / pi["seconds_per_1000_adam"]["median"])
        ratios["DeepXDE / physdl recipe, median time to 1e-2"] = (
            dx["time_to_0.01"]["median"] / summary["physdl recipe"]["time_to_0.01"]["median"])
    settings = {"nu": NU, "t_max": 0.99, "seeds": seeds, "timing_iterations": timing_iterations,
                "identical": asdict(IDENTICAL), "recipe": asdict(recipe), "dtype": "float32"}
    return {"settings": settings, "summary": summary, "ratios": ratios, "runs": sides}


def report(result: dict[str, Any]) -> None:
    """Print the table of one run."""
    print(f"Burgers PINN, {result['settings']['seeds']} seeds")
    for name, s in result["summary"].items():
        t = s["time_to_0.01"]
        print(f"  {name:17s} {s['seconds_per_1000_adam']['median']:6.2f} s / 1000 Adam it. | "
              f"final rel. L2 {s['final_error']['median']:.2e} [{s['final_error']['min']:.1e}, "
              f"{s['final_error']['max']:.1e}] | time to 1e-2 {t['median']:7.1f} s ({t['reached']} seeds reached) "
              f"| <5e-3 in {s['time_to_0.005']['reached']} seeds")
    for name, ratio in result["ratios"].items():
        print(f"  {name:48s} {ratio:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timing-iterations", type=int, default=2000)
    parser.add_argument("--no-peer", action="store_true", help="physdl only (no DeepXDE installed)")
    parser.add_argument("--no-write", action="store_true", help="print only, write no results file")
    args = parser.parse_args()
    peer = not args.no_peer and common.peer_available("deepxde")
    result = run(args.seeds, args.threads, peer, args.timing_iterations)
    report(result)
    if peer and not args.no_write:
        print("wrote", common.write_result("burgers_pinn", result, args.threads))


if __name__ == "__main__":
    main()
