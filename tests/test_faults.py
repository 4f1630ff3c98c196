"""Fault injection: training killed inside checkpoint writes and at random times resumes to
the bit-identical weights of an uninterrupted run, leaving no stray files (issue: nothing silent).

Budget: about a minute (32 worker processes; each resume runs in this process).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import fault_worker  # noqa: E402

WORKER = Path(__file__).parent / "fault_worker.py"


@pytest.fixture(scope="module")
def reference() -> dict[str, torch.Tensor]:
    torch.set_num_threads(1)
    return fault_worker.train(None)


def launch(folder: Path, fault: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    env.pop("PHYSDL_FAULT", None)
    if fault:
        env["PHYSDL_FAULT"] = fault
    return subprocess.Popen([sys.executable, str(WORKER), str(folder)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def resume_and_compare(folder: Path, reference: dict[str, torch.Tensor]) -> None:
    """Resume in this process, then demand bit-identical weights and a clean folder."""
    torch.set_num_threads(1)
    state = fault_worker.train(folder)
    for name, value in reference.items():
        assert torch.equal(state[name], value), f"{name} differs after resuming in {folder}"
    assert sorted(p.name for p in folder.iterdir()) == ["run.ckpt"], list(folder.iterdir())


CASES = [(point, k) for point in fault_worker.POINTS for k in (1, 7, 31)]


@pytest.mark.parametrize("point,k", CASES)
def test_death_inside_a_checkpoint_write(tmp_path, reference, point, k):
    worker = launch(tmp_path, f"{point}:{k}")
    _, err = worker.communicate(timeout=120)
    assert worker.returncode == 9, err
    if point in ("partial", "synced", "before-rename"):
        assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the fault left its temporary
    resume_and_compare(tmp_path, reference)


def test_seeded_kills(tmp_path, reference):
    """20 SIGKILLs at seeded random times of one run, each resumed by the next process; after
    every kill a copy of the folder is also resumed to the end here and compared."""
    rng = random.Random(2026)
    folder = tmp_path / "run"
    folder.mkdir()
    kills = 0
    for i in range(20):
        worker = launch(folder)
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.3))
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=60)
        kills += worker.returncode == -signal.SIGKILL
        copy = tmp_path / f"after-kill-{i}"
        shutil.copytree(folder, copy)
        resume_and_compare(copy, reference)
    assert kills >= 15  # most kills landed before the run could finish by itself
    resume_and_compare(folder, reference)
