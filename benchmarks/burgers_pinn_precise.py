"""Burgers PINN at high precision: float64, residual-adaptive points, self-scaled Broyden.

The problem of chapter 2 (:mod:`physdl.burgers_pinn`): ``u_t + u u_x = (0.01 / pi) u_xx`` on
``x in [-1, 1]``, ``t in [0, 1]``, ``u(x, 0) = -sin(pi x)``, zero walls, the lecture's
2-[20]x8-1 tanh network. The forward problem only: the initial and wall values are met
exactly by the ansatz, the loss is the residual alone, no solution value is given anywhere.

For each seed: :func:`physdl.burgers_pinn.precise_problem`, :func:`~physdl.burgers_pinn.warm_up`
(Adam) and :func:`~physdl.burgers_pinn.refine` (SSBroyden), all in float64 on the CPU, with
an :class:`~physdl.burgers_pinn.ErrorTrace` reading the relative L2 error on the 128 x 33 and
512 x 201 grids after every quasi-Newton step (the clock pauses while it scores). Reported:
per-seed errors and wall times, the time until both errors are at most 1e-2 ... 1e-7.

``--jobs 2 --threads 1`` runs two seeds at a time, one core each: each run then shares the
machine, so its wall time is an upper bound of what it takes alone with both cores. Every run
records its date, threads and jobs. ``--rerun 0 1`` measures those seeds again and replaces
them in the existing results file (the summary is recomputed from all runs), for a run that
was disturbed.

Usage::

    python benchmarks/burgers_pinn_precise.py [--seeds 5] [--threads 2] [--jobs 1] [--steps 300] [--rerun S ...]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any

import torch

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

from physdl import burgers_pinn as BP
from physdl import config

LEVELS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
TARGET, TARGET_SECONDS = 1e-5, 15 * 60


def one_seed(cfg: BP.BurgersPINNConfig, threads: int, optimizer: str = "ssbroyden") -> dict[str, Any]:
    """The recipe for one configuration (its seed): errors, times and the error trace."""
    torch.set_num_threads(threads)
    seed = cfg.seed
    config.seed_everything(seed)
    wall = time.perf_counter()
    loss = BP.precise_problem(cfg, torch.float64)
    trace = BP.ErrorTrace(loss.model).start()
    BP.warm_up(loss, cfg, validate=trace, progress=False)
    trace()
    adam_seconds = trace.seconds[-1]
    BP.refine(loss, cfg, optimizer, validate=trace, progress=False)
    errors = BP.scoring_errors(loss.model)
    return {"seed": seed, "date": time.strftime("%Y-%m-%d"), "threads": threads, "errors": {f"{nx}x{nt}": e for (nx, nt), e in zip(BP.SCORING_GRIDS, errors)},
            "training_seconds": trace.seconds[-1], "wall_seconds": time.perf_counter() - wall,
            "adam_seconds": adam_seconds,
            "time_to": {f"{level:g}": trace.time_to(level) for level in LEVELS},
            "trace": {"seconds": trace.seconds, "errors": trace.errors}}


def measure(seeds: list[int], threads: int, jobs: int, steps: int) -> list[dict[str, Any]]:
    """One run per seed, ``jobs`` at a time."""
    args = [(BP.BurgersPINNConfig(seed=s, precise_steps=steps), threads) for s in seeds]
    if jobs == 1:
        runs = [one_seed(*a) for a in args]
    else:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(pool.map(one_seed, *zip(*args)))
    for r in runs:
        r["jobs"] = jobs
    return runs


def summarise(runs: list[dict[str, Any]], threads: int, jobs: int, steps: int) -> dict[str, Any]:
    """Settings, summary and runs (the results file's content)."""
    met = [r for r in runs if max(r["errors"].values()) <= TARGET and r["wall_seconds"] <= TARGET_SECONDS]
    summary = {
        "errors": {grid: common.spread([r["errors"][grid] for r in runs]) for grid in runs[0]["errors"]},
        "wall_seconds": common.spread([r["wall_seconds"] for r in runs]),
        "seeds_meeting_target": len(met),
        "time_to": {level: [r["time_to"][level] for r in runs] for level in runs[0]["time_to"]},
    }
    cfg = asdict(BP.BurgersPINNConfig(precise_steps=steps))
    settings = {"seeds": len(runs), "threads": threads, "jobs": jobs, "dtype": "float64", "optimizer": "ssbroyden",
                "target": TARGET, "target_seconds": TARGET_SECONDS,
                "config": {k: v for k, v in cfg.items() if k.startswith("precise") or k in ("hidden", "lr")}}
    return {"settings": settings, "summary": summary, "runs": runs}


def run(seeds: int = 5, threads: int = 2, jobs: int = 1, steps: int = 300) -> dict[str, Any]:
    """All seeds (``jobs`` at a time), with the summary the appendix shows."""
    return summarise(measure(list(range(seeds)), threads, jobs, steps), threads, jobs, steps)


def rerun(seeds: list[int], threads: int, jobs: int) -> dict[str, Any]:
    """Measure ``seeds`` again and put them in place of their runs in the results file."""
    old = json.loads((common.RESULTS / "burgers_pinn_precise.json").read_text())
    steps = old["settings"]["config"]["precise_steps"]
    fresh = {r["seed"]: r for r in measure(seeds, threads, jobs, steps)}
    runs = [fresh.get(r["seed"], r) for r in old["runs"]]
    return summarise(runs, old["settings"]["threads"], old["settings"]["jobs"], steps)


def report(result: dict[str, Any]) -> None:
    """Print one line per seed and the summary."""
    s = result["settings"]
    print(f"Burgers PINN, float64 SSBroyden, {s['seeds']} seeds, {s['jobs']} at a time on {s['threads']} thread(s)")
    for r in result["runs"]:
        times = " ".join(f"{k}:{'-' if v is None else f'{v:.0f}s'}" for k, v in r["time_to"].items())
        print(f"  seed {r['seed']}: " + ", ".join(f"{g} {e:.2e}" for g, e in r["errors"].items())
              + f" | {r['wall_seconds']:.0f} s wall | time to {times}")
    print(f"  seeds at rel. L2 <= {TARGET:g} on both grids within {TARGET_SECONDS // 60} min: "
          f"{result['summary']['seeds_meeting_target']} of {s['seeds']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=BP.BurgersPINNConfig().precise_steps)
    parser.add_argument("--rerun", type=int, nargs="*", default=None, help="measure these seeds again")
    parser.add_argument("--no-write", action="store_true", help="print only, write no results file")
    args = parser.parse_args()
    result = rerun(args.rerun, args.threads, args.jobs) if args.rerun else run(args.seeds, args.threads, args.jobs, args.steps)
    report(result)
    if not args.no_write:
        print("wrote", common.write_result("burgers_pinn_precise", result, args.threads))


if __name__ == "__main__":
    main()
