"""The physdl side of every benchmark, at a tiny size, so that the scripts cannot rot.

The peers (DeepXDE, PhiFlow) are not installed here; their sides run only under
``make bench``.
"""

import json
import math
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    burgers_dp,
    burgers_pinn,
    burgers_pinn_precise,
    cahn_hilliard,
    chapters,
    common,
    safe_operator,
    summary,
)


def test_burgers_dp_physdl_side_reduces_the_loss():
    result = burgers_dp.run(updates=4, threads=1, peer=False, compile=False, n=32)
    loss = result["sides"]["physdl eager"]["loss"]
    assert len(loss) == 4 and loss[-1] < loss[0]
    assert result["sides"]["physdl eager"]["seconds_per_update"] > 0
    assert burgers_dp.agreement_digits(loss, loss) == math.inf
    assert burgers_dp.agreement_digits([1.0], [1.001]) == pytest.approx(3.0, abs=0.01)


def test_compiled_fit_matches_eager_fit():
    pytest.importorskip("torch._inductor")
    n, dt, steps = 16, 1 / 32, 2
    x = burgers_dp.cell_centres(n)
    target = -torch.sin(torch.pi * x).float()
    from physdl import diffphys

    eager = diffphys.fit_initial_state(target, steps, 3, 5.0, dt, 2 / n, 1e-3, bc="periodic")
    compiled = diffphys.fit_initial_state(target, steps, 3, 5.0, dt, 2 / n, 1e-3, bc="periodic", compile=True)
    assert compiled.compile_seconds > 0
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-5)


def test_pinn_points_and_clock():
    colloc, data, values = burgers_pinn.identical_points(0)
    assert colloc.shape == (2780, 2) and data.shape == (240, 2) and values.shape == (240, 1)
    assert float(colloc[:, 1].max()) <= 0.99 and float(colloc[:, 0].abs().max()) <= 1
    errors = iter([1.0, 0.5, 0.004])
    clock = burgers_pinn.TrainingClock(lambda: next(errors), every=0.0)
    clock.start()
    clock.measure()
    clock.measure()
    assert clock.time_to(1e-2) == clock.trace[2][0]
    assert clock.time_to(1e-3) == math.inf


def test_pinn_physdl_side_runs_at_a_tiny_size():
    for hard in (True, False):
        recipe = burgers_pinn.Recipe(hidden=(8, 8), collocation=64, initial=16, boundary=8, adam=30, lbfgs=40,
                                     compile=False, hard=hard)
        run = burgers_pinn.physdl_side(0, recipe)
        assert run["trace"][-1][1] < run["trace"][0][1]  # the error fell
        assert run["seconds_per_1000_adam"] > 0 and math.isfinite(run["final_error"])
    summary_ = burgers_pinn.summarise([run, run])
    assert summary_["time_to_0.01"]["reached"] in (0, 2)


def test_pinn_precise_seed_runs_at_a_tiny_size():
    from physdl import burgers_pinn as BP

    cfg = BP.BurgersPINNConfig(hidden=(4,), precise_collocation=16, precise_adam_steps=3, precise_steps=2,
                               precise_every=1)
    run = burgers_pinn_precise.one_seed(cfg, threads=1)
    assert set(run["errors"]) == {"128x33", "512x201"} and all(e > 0 for e in run["errors"].values())
    assert set(run["time_to"]) == {f"{level:g}" for level in burgers_pinn_precise.LEVELS}
    seconds = run["trace"]["seconds"]
    assert seconds == sorted(seconds) and len(seconds) == len(run["trace"]["errors"]) >= 3
    # the appendix rows, beside a DeepXDE run that reached 1e-2 at 5 s and nothing below
    fake = {"settings": {"seeds": 1, "target": 1e-5, "target_seconds": 900},
            "summary": {"errors": {g: {"max": e} for g, e in run["errors"].items()}, "wall_seconds": {"max": 1.0},
                        "seeds_meeting_target": 0,
                        "time_to": {k: [v] for k, v in {**run["time_to"], "0.01": 2.0}.items()}}}
    peer = {"runs": {"DeepXDE": [{"trace": [(1.0, 0.5), (5.0, 0.009), (9.0, 0.002)]}]}}
    rows = summary.burgers_pinn_precise_rows(fake, peer)
    assert rows[0]["ratio"] == pytest.approx(2.5) and rows[-1]["met"] is False
    assert summary.first_time_below(peer["runs"]["DeepXDE"][0]["trace"], 1e-3) == math.inf


def test_safe_operator_forms_agree():
    ops = safe_operator.operator_times(frames=2, n=16, substeps=5, repeat=1)
    assert set(ops["seconds"]) == {"spectral", "stencil (roll)", "stencil (conv2d)"}
    assert ops["max_difference"] < 1e-5


@pytest.mark.slow
def test_cahn_hilliard_benchmark_runs_at_a_tiny_size():
    result = cahn_hilliard.run(threads=1, repeats=1, frames=3, start_time=0.5, runs=1, grids_3d=(32,), grids_2d=(32,))
    (r3,) = [r for r in result["rows"] if r["dims"] == 3]
    assert r3["crnn"] > 0 and r3["explicit"] > 0 and r3["dt_semi"] in cahn_hilliard.CANDIDATES
    assert result["match_3d"]["crnn_error"] < 0.2


def test_chapter_list_and_merge():
    found = chapters.notebooks()
    assert [p.name[:2] for p in found] == sorted(p.name[:2] for p in found) and len(found) >= 7
    old = {"rows": [{"notebook": "a", "profile": "quick", "seconds": 1.0, "ok": True}]}
    new = [{"notebook": "a", "profile": "quick", "seconds": 2.0, "ok": True},
           {"notebook": "a", "profile": "default", "seconds": 5.0, "ok": True}]
    rows = chapters.merge(old, new)
    assert [(r["profile"], r["seconds"]) for r in rows] == [("default", 5.0), ("quick", 2.0)]
    with pytest.raises(ValueError):
        chapters.execute(found[0], "paper")


def test_results_files_render(tmp_path):
    results = common.load_results()
    table = summary.table(results)
    assert table.startswith("| comparison")
    path = common.write_result("probe", {"x": 1}, threads=1, directory=tmp_path)
    stored = json.loads(path.read_text())
    assert stored["x"] == 1 and stored["machine"]["threads"] == 1 and (tmp_path / "probe.freeze.txt").exists()


def test_rollout_overhead_runs_at_a_tiny_size():
    from benchmarks import rollout_overhead

    result = rollout_overhead.run(threads=1, repeats=1, compile=False, updates=2, ch_steps=4, ch_grid=8,
                                  crnn_steps=3, crnn_grid=8)
    assert len(result["rows"]) == 3
    assert all(r["hand loop s"] > 0 and r["rollout s"] > 0 for r in result["rows"].values())
