"""Cahn-Hilliard: explicit solver, semi-implicit solver and the CRNN per unit of simulated time.

The three ways to advance a coarsening state, at matched error:

- **explicit**: the paper's forward Euler, ``dt = 1.25e-3`` (400 steps per frame interval
  ``tau = 0.5``), the reference;
- **semi-implicit**: physdl's Fourier-spectral solver with the largest ``dt`` whose RMSE
  against the reference, after the matching horizon, is no worse than the CRNN's;
- **CRNN**: one step of the shipped 3D network (:func:`physdl.crnn.training.shipped_weights`)
  per interval, on the grid downsampled by 2 (hidden state warm).

In 3D, on 32^3 and 64^3 solver grids (the network sees 16^3 and 32^3); the matched ``dt``
is found on 32^3 from the validation protocol of chapter 7 (start at ``t = 5``, 15 network
steps). In 2D there is no trained network: the two solvers are compared on 64^2 and 128^2
with the semi-implicit ``dt`` matched to the same error level. Times are medians after a
warm-up, in float32, per unit of simulated time.

Usage::

    python benchmarks/cahn_hilliard.py [--threads 2] [--repeats 5] [--frames 16]
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

from physdl.crnn import evaluation as ev
from physdl.crnn.data import SequenceConfig, downsample, initial_states
from physdl.crnn.training import load_weights, shipped_weights
from physdl.pde import cahn_hilliard as ch
from physdl.pde.stepper import Substepped, rollout
from physdl.timing import median_seconds

TAU = 0.5
DT_EXPLICIT = 1.25e-3
CANDIDATES = (0.5, 0.25, 0.1, 0.05, 0.025, 0.0125)


def coarsening_state(grid: int, dims: int, count: int, seed: int, start_time: float) -> torch.Tensor:
    """``count`` Perlin states run by the explicit solver to ``start_time``, float32."""
    cfg = SequenceConfig(grid=grid, dims=dims, sequences=count, seed=seed)
    phi = initial_states(cfg, count, torch.Generator().manual_seed(seed)).float()
    frames = round(start_time / TAU)
    return explicit_frames(phi, frames + 1)[:, -1] if frames else phi


def explicit_frames(phi0: torch.Tensor, frames: int) -> torch.Tensor:
    """``frames`` frames ``TAU`` apart from the explicit solver, ``(batch, frames, 1, *space)``."""
    spf = round(TAU / DT_EXPLICIT)
    return rollout(ch.ExplicitStepper(tuple(phi0.shape[2:]), DT_EXPLICIT), phi0, (frames - 1) * spf, spf)


def match_3d(net: torch.nn.Module, frames: int, start_time: float, runs: int) -> dict[str, Any]:
    """CRNN error after ``frames - 1`` steps from ``start_time`` (32^3) and the matched ``dt``."""
    phi0 = coarsening_state(32, 3, runs, seed=2, start_time=start_time)
    truth = downsample(explicit_frames(phi0, frames), 2)
    pred, _ = net.rollout(truth[:, 0], frames - 1)
    crnn_error = float(ev.rmse_per_frame(pred, truth)[:, -1].mean())
    dt, errors = ev.matched_time_step(phi0, truth, crnn_error, CANDIDATES, TAU)
    return {"crnn_error": crnn_error, "matched_dt": dt, "semi_implicit_errors": {str(k): v for k, v in errors.items()}}


def match_2d(grid: int, frames: int, target: float, start_time: float, runs: int) -> dict[str, Any]:
    """The largest semi-implicit ``dt`` within ``target`` RMSE of the explicit solver in 2D."""
    phi0 = coarsening_state(grid, 2, runs, seed=3, start_time=start_time)
    truth = explicit_frames(phi0, frames)
    dt, errors = ev.matched_time_step(phi0, truth, target, CANDIDATES, TAU, factor=1)
    return {"matched_dt": dt, "semi_implicit_errors": {str(k): v for k, v in errors.items()}}


def per_time_3d(net: torch.nn.Module, grid: int, dt_semi: float, repeats: int) -> dict[str, float]:
    """Seconds per unit of simulated time in 3D on a ``grid^3`` solver grid."""
    phi = coarsening_state(grid, 3, 1, seed=5, start_time=1.0)
    cost = ev.cost_per_interval(net, phi, dt_semi, TAU, DT_EXPLICIT, repeats=repeats)
    return {k: v / TAU for k, v in cost.items()}


def per_time_2d(grid: int, dt_semi: float, repeats: int) -> dict[str, float]:
    """Seconds per unit of simulated time of the two solvers on a ``grid^2`` grid."""
    phi = coarsening_state(grid, 2, 1, seed=5, start_time=1.0)
    explicit_step = Substepped(ch.ExplicitStepper(tuple(phi.shape[2:]), DT_EXPLICIT), round(TAU / DT_EXPLICIT))
    semi_step = Substepped(ch.SemiImplicitStepper(tuple(phi.shape[2:]), dt_semi), round(TAU / dt_semi))
    explicit = median_seconds(lambda: explicit_step(phi), repeats)
    semi = median_seconds(lambda: semi_step(phi), repeats)
    return {"explicit": explicit / TAU, "semi-implicit": semi / TAU}


def run(threads: int = 2, repeats: int = 5, frames: int = 16, start_time: float = 5.0, runs: int = 2,
        grids_3d: tuple[int, ...] = (32, 64), grids_2d: tuple[int, ...] = (64, 128)) -> dict[str, Any]:
    """The whole comparison (a dict for the results file)."""
    common.set_threads(threads)
    net, _ = load_weights(shipped_weights("ch3d"))
    with torch.no_grad():
        matched = match_3d(net, frames, start_time, runs)
        rows = []
        for n in grids_3d:
            t = per_time_3d(net, n, matched["matched_dt"], repeats)
            rows.append({"dims": 3, "grid": n, **t, "dt_semi": matched["matched_dt"],
                         "explicit / crnn": t["explicit"] / t["crnn"],
                         "semi-implicit / crnn": t["semi-implicit"] / t["crnn"]})
        matched_2d = {}
        for n in grids_2d:
            m = match_2d(n, frames, matched["crnn_error"], start_time, runs)
            matched_2d[str(n)] = m
            t = per_time_2d(n, m["matched_dt"], repeats)
            rows.append({"dims": 2, "grid": n, **t, "crnn": None, "dt_semi": m["matched_dt"],
                         "explicit / semi-implicit": t["explicit"] / t["semi-implicit"]})
    settings = {"tau": TAU, "dt_explicit": DT_EXPLICIT, "frames": frames, "start_time": start_time,
                "runs": runs, "repeats": repeats, "dtype": "float32"}
    return {"settings": settings, "match_3d": matched, "match_2d": matched_2d, "rows": rows}


def report(result: dict[str, Any]) -> None:
    """Print the table of one run."""
    m = result["match_3d"]
    print(f"Cahn-Hilliard, seconds per unit of simulated time. CRNN RMSE after {result['settings']['frames'] - 1} "
          f"steps: {m['crnn_error']:.3f}; matched semi-implicit dt = {m['matched_dt']:g}")
    for r in result["rows"]:
        crnn = f"{r['crnn']:9.4f}" if r["crnn"] is not None else "      n/a"
        ratio = (f"CRNN {r['explicit / crnn']:6.1f}x faster than explicit, {r['semi-implicit / crnn']:5.2f}x "
                 f"the semi-implicit speed" if r["dims"] == 3 else
                 f"semi-implicit {r['explicit / semi-implicit']:6.1f}x faster than explicit")
        print(f"  {r['dims']}D {r['grid']:4d}: explicit {r['explicit']:9.4f}  semi-implicit (dt {r['dt_semi']:g}) "
              f"{r['semi-implicit']:9.4f}  CRNN {crnn}   {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--no-write", action="store_true", help="print only, write no results file")
    args = parser.parse_args()
    result = run(args.threads, args.repeats, args.frames)
    report(result)
    if not args.no_write:
        print("wrote", common.write_result("cahn_hilliard", result, args.threads))


if __name__ == "__main__":
    main()
