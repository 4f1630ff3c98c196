"""The CPU-side device check (physdl.devicecheck): it catches tensors made without a device,
passes device-correct code, and finds what the chapters call."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from physdl import devicecheck

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))


def test_checked_call_fails_on_a_tensor_made_without_a_device():
    def leaky(x):
        return x + torch.ones(x.shape)  # a bug on a GPU: torch.ones lands on the default device

    def correct(x):
        return x + torch.ones(x.shape, device=x.device)

    seen = set()
    with pytest.raises(Exception) as info:
        devicecheck._checked(leaky, "leaky", None, seen)(torch.zeros(3))
    assert any("device check: leaky" in note for note in getattr(info.value, "__notes__", []))
    checked = devicecheck._checked(correct, "correct", None, seen)
    assert torch.equal(checked(torch.zeros(3)), torch.ones(3))
    assert seen == {"correct"}
    inner = devicecheck._checked(lambda: torch.zeros(1).device, "again", None, seen)
    assert inner().type == "meta" and inner().type == "cpu"  # checked once, then run as it is


def test_nested_calls_run_under_the_outer_check_and_count_as_checked():
    seen = set()
    inner = devicecheck._checked(lambda: torch.zeros(2).device, "inner", None, seen)
    outer = devicecheck._checked(lambda: inner(), "outer", None, seen)
    assert outer().type == "meta"  # the outer call sets meta once; the inner one runs inside it
    assert seen == {"inner", "outer"}


def test_chapter_calls_are_found_by_parsing():
    code = textwrap.dedent("""
        from physdl import rollout, viz
        from physdl.pde import advection
        import physdl
        s = advection.Advection(g, 0.1, u)
        rollout(s, x, 3)
        viz.glue("a", 1)
        physdl.ops.laplacian(x, 1.0)
        other.call()
    """)
    assert devicecheck.chapter_calls(code) == {
        "physdl.pde.advection.Advection", "physdl.pde.stepper.rollout", "physdl.viz.glue",
        "physdl.ops.stencils.laplacian"}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_calls_physdl(chapter):
    calls = devicecheck.chapter_calls(devicecheck.chapter_code(chapter))
    assert len(calls) >= 5, calls


def test_enable_wraps_every_entry_point_the_chapters_call(tmp_path):
    """In a fresh process (wrapping is process-wide): every chapter entry point is wrapped, and
    a wrapped solver still computes on the CPU."""
    code = textwrap.dedent(f"""
        import sys, torch
        from pathlib import Path
        from physdl import devicecheck
        names = set(devicecheck.enable({str(tmp_path / 'log')!r}))
        chapters = sorted(Path({str(ROOT / 'book')!r}).glob("[0-9][0-9]_*.md"))
        wanted = set().union(*(devicecheck.checkable(devicecheck.chapter_calls(devicecheck.chapter_code(p)))
                               for p in chapters))
        missing = wanted - names
        assert not missing, sorted(missing)
        import importlib, inspect
        for module_name in devicecheck.modules():  # re-exports too, decorated functions included
            module = importlib.import_module(module_name)
            for attr, value in vars(module).items():
                if inspect.isfunction(value) and not attr.startswith("_") and \
                        getattr(value, "__module__", "").startswith("physdl.") and \
                        not value.__module__.startswith(devicecheck.SKIP_MODULES):
                    assert getattr(value, "__physdl_checked__", False), f"{{module_name}}.{{attr}}"
        from physdl import ops, rollout
        from physdl.pde import advection
        x = torch.rand(1, 1, 16, dtype=torch.float64)
        out = rollout(advection.Advection(ops.Grid(16, 1 / 16), 0.01, torch.ones(16, dtype=torch.float64)), x, 3)
        assert out.device.type == "cpu", out.device
        print(len(wanted))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) > 50
    log = (tmp_path / "log").read_text().split()
    assert "physdl.pde.stepper.rollout" in log and "physdl.pde.advection.Advection" in log


def test_coverage_report_names_what_was_not_checked(tmp_path):
    log = tmp_path / "log"
    log.write_text("physdl.viz.glue\n")
    missing = devicecheck.coverage(log, [CHAPTERS[2]])
    assert "physdl.pde.stepper.rollout" in missing[CHAPTERS[2].stem]
    assert "physdl.viz.glue" not in missing[CHAPTERS[2].stem]
    assert devicecheck.main([str(log), str(CHAPTERS[2])]) == 1


def test_modules_are_built_on_the_cpu_and_conversions_keep_their_device():
    """Inside a checked call a network's parameters are made on the CPU (PyTorch's convention on
    a GPU session), and ``as_tensor`` of a CPU tensor stays on the CPU; bare factories go to meta."""

    def build_and_convert(x):
        net = torch.nn.Linear(2, 2)
        return net.weight.device, torch.as_tensor(x).device, torch.zeros(1).device

    weight, converted, bare = devicecheck._checked(build_and_convert, "f", None, set())(torch.ones(2))
    assert (weight.type, converted.type, bare.type) == ("cpu", "cpu", "meta")
