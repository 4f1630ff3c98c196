"""Data-parallel training (physdl.distributed): the split of a global batch, and two gloo
processes under torchrun that train exactly as one process does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from physdl import distributed

WORKER = Path(__file__).with_name("distributed_worker.py")


@pytest.mark.parametrize("ranks", [1, 2, 3, 5])
def test_the_slices_of_a_batch_are_disjoint_cover_it_and_weigh_it_evenly(ranks):
    for size in range(ranks, 24):
        pieces = [distributed.shard(size, r, ranks) for r in range(ranks)]
        covered = [i for p in pieces for i in range(p.start, p.stop)]
        assert covered == list(range(size))  # contiguous, disjoint, in rank order
        assert max(p.stop - p.start for p in pieces) - min(p.stop - p.start for p in pieces) <= 1
        # the mean over ranks of weight * (mean over the slice) is the mean over the batch
        values = torch.rand(size, dtype=torch.float64)
        weighted = sum(p.weight * values[p.slice].mean() for p in pieces) / ranks
        torch.testing.assert_close(weighted, values.mean(), rtol=1e-12, atol=0)


def test_outside_a_process_group_everything_is_one_process():
    batch = torch.arange(5)
    local, weight = distributed.local_batch(batch)
    assert local is batch and weight == 1.0
    assert distributed.world_size() == 1 and distributed.rank() == 0 and distributed.is_main()
    assert not distributed.init()  # no WORLD_SIZE: nothing to join
    with pytest.raises(ValueError, match="size=2 cannot give each of 3 ranks"):
        distributed.shard(2, 0, 3)
    with pytest.raises(ValueError, match="rank must be between 0 and 1"):
        distributed.shard(4, 2, 2)
    with pytest.raises(TypeError, match="batch must be a tensor"):
        distributed.local_batch([1, 2])


def _run(tmp_path: Path, ranks: int, case: str, steps: int, name: str, checkpoint: Path | None = None) -> dict:
    out = tmp_path / f"{name}.json"
    args = [str(WORKER), case, str(steps), str(out), *([str(checkpoint)] if checkpoint else [])]
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ranks}"]
                if ranks > 1 else [sys.executable])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PHYSDL_PROGRESS": "0", "PHYSDL_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([*launcher, *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def _relative(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b) and a
    return max(abs(x - y) / abs(x) for x, y in zip(a, b))


def test_two_gloo_ranks_train_as_one_process_and_resume_on_one(tmp_path):
    one = _run(tmp_path, 1, "all", 6, "one")  # also fills the data cache the ranks then share
    two = _run(tmp_path, 2, "all", 6, "two")
    for case in ("regression", "surrogate", "crnn"):
        assert two[case]["ranks"] == 2 and len(two[case]["loss"]) == 6
        # float64 MLP and U-Net, float32 CRNN: only the order of the sums differs
        assert _relative(one[case]["loss"], two[case]["loss"]) <= 1e-5, case
        assert _relative(one[case]["val"], two[case]["val"]) <= 1e-5, case
    # the two ranks took disjoint slices (4 + 3) whose union is the one-process batch
    first, second = two["regression"]["slices"]
    assert len(first) == 4 and len(second) == 3 and not set(first) & set(second)
    assert first + second == one["regression"]["slices"][0]
    # two ranks stop after 3 steps (as a kill right after that checkpoint); one process resumes
    checkpoint = tmp_path / "run.ckpt"
    _run(tmp_path, 2, "regression", 3, "first-half", checkpoint)
    resumed = _run(tmp_path, 1, "regression", 6, "resumed", checkpoint)["regression"]
    assert _relative(one["regression"]["loss"], resumed["loss"]) <= 1e-5
    # the stopped run validated at its last step (3) as well: compare the steps both validated
    whole = dict(zip(one["regression"]["val_steps"], one["regression"]["val"]))
    again = dict(zip(resumed["val_steps"], resumed["val"]))
    assert set(whole) <= set(again)
    assert _relative([whole[k] for k in whole], [again[k] for k in whole]) <= 1e-5


def test_the_dry_run_sizes_the_paper_run_without_touching_data(tmp_path, monkeypatch, capsys):
    import dataclasses

    from physdl import sizes
    from physdl.crnn import training

    paper = sizes.run("crnn-training", "paper")
    assert paper.shards == "cache" and training.plan(paper, 1).streamed  # 97 GB is never loaded whole
    assert training.plan(paper, 1).memory_bytes_per_rank == 4 * paper.batch * paper.window * 32**3
    paper = dataclasses.replace(paper, shards=None)  # as if loaded from the data cache
    one = training.plan(paper, 1)
    # 1295 + 555 sequences x 50 frames x 64^3 float32 on disk, at 32^3 in memory
    assert one.sequences + one.validation_sequences == 1850
    assert one.disk_bytes == 4 * 1850 * 50 * 64**3 and one.memory_bytes_per_rank == 4 * 1850 * 50 * 32**3
    assert 7e7 < one.solver_steps < 8e7 and one.seconds is None
    eight = training.plan(dataclasses.replace(paper, batch=8), 8)
    assert eight.local_batch == 1 and eight.memory_bytes_per_rank == one.memory_bytes_per_rank
    with pytest.raises(ValueError, match="global batch of 2 windows cannot give each of 8 ranks"):
        training.plan(paper, 8)
    monkeypatch.setenv("PHYSDL_PROFILE", "paper")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    training.main(["--out", str(tmp_path / "w.pt"), "--dry-run", "--batch", "4"])
    printed = capsys.readouterr().out
    assert "ranks: 4" in printed and "data on disk: 97.0 GB" in printed and "unknown" in printed
    assert not any(tmp_path.iterdir())  # nothing generated, nothing written
    with pytest.raises(SystemExit):
        training.main(["--out", str(tmp_path / "w.pt"), "--dry-run"])  # a batch of 2 for 4 ranks


def test_the_training_command_runs_under_torchrun_and_rank_0_writes_once(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PHYSDL_PROFILE": "quick", "PHYSDL_PROGRESS": "0",
           "PHYSDL_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "w.pt"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "physdl.crnn.training", "--batch", "4", "--steps", "3", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("wrote ") == 1 and out.exists() and out.with_suffix(".ckpt").exists()
    log = json.loads(out.with_suffix(".log.json").read_text())
    assert len(log["loss"]) == 3
    from physdl.crnn.training import load_weights

    model, config = load_weights(out)  # a checkpoint of two ranks loads in one process
    assert config["batch"] == 4 and not any(k.startswith("module.") for k in model.state_dict())
