"""Sharded data sets (physdl.shards, crnn.data.write_shards): manifest, resume, checksums,
streaming, and the memory of generating at the paper's shard size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from physdl import shards


def _make(calls: list[int]):
    def make(k: int) -> dict[str, torch.Tensor]:
        calls.append(k)
        g = torch.Generator().manual_seed(k)
        return {"x": torch.rand(3 + k, 4, 5, generator=g), "label": torch.arange(3 + k)}
    return make


def test_shards_round_trip_with_their_manifest_and_slices(tmp_path):
    calls: list[int] = []
    data = shards.write(tmp_path / "set", config={"n": 4}, version="v1", count=3, make=_make(calls))
    assert calls == [0, 1, 2] and len(data) == 3 + 4 + 5 and data.rows_per_shard == [3, 4, 5]
    manifest = json.loads((tmp_path / "set" / shards.MANIFEST).read_text())
    assert manifest["version"] == "v1" and manifest["config"] == {"n": 4} and len(manifest["shards"]) == 3
    expected = torch.cat([_make([])(k)["x"] for k in range(3)])
    assert data.shape("x") == tuple(expected.shape)
    for i in range(len(data)):
        torch.testing.assert_close(data["x", i], expected[i])
        torch.testing.assert_close(data["x", i, 1:3, 2], expected[i, 1:3, 2])  # a slice, read alone
    assert data.locate(7) == (2, 0) and data.locate(-1) == (2, 4)
    data.verify()
    again = shards.write(tmp_path / "set", config={"n": 4}, version="v1", count=3, make=_make(calls))
    assert calls == [0, 1, 2] and len(again) == len(data)  # nothing redone


def test_other_data_damage_and_gaps_are_named(tmp_path):
    shards.write(tmp_path / "set", config={"n": 4}, version="v1", count=2, make=_make([]))
    for other in ({"config": {"n": 5}}, {"version": "v2"}, {"count": 3}):
        kwargs = {"config": {"n": 4}, "version": "v1", "count": 2, **other}
        with pytest.raises(ValueError, match="holds another data set"):
            shards.write(tmp_path / "set", make=_make([]), **kwargs)
    path = tmp_path / "set" / "shard-00001.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="shard-00001.safetensors does not match its checksum"):
        shards.ShardedDataset(tmp_path / "set").verify()
    path.unlink()
    with pytest.raises(ValueError, match=r"unfinished: shards \[1\]"):
        shards.ShardedDataset(tmp_path / "set")
    with pytest.raises(ValueError, match="no shard manifest"):
        shards.ShardedDataset(tmp_path)
    with pytest.raises(ValueError, match="config must be a mapping of finite JSON values"):
        shards.write(tmp_path / "nan", config={"x": float("nan")}, version="v1", count=1, make=_make([]))


def test_a_killed_generation_resumes_without_redoing_a_finished_shard(tmp_path):
    script = textwrap.dedent(f"""
        import os, torch
        from physdl import shards
        def make(k):
            if k == 2:
                os._exit(9)  # killed while making the third shard
            return {{"x": torch.full((2, 3), float(k))}}
        shards.write({str(tmp_path / "set")!r}, config={{}}, version="v1", count=4, make=make)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9
    calls: list[int] = []

    def make(k: int) -> dict[str, torch.Tensor]:
        calls.append(k)
        return {"x": torch.full((2, 3), float(k))}

    data = shards.write(tmp_path / "set", config={}, version="v1", count=4, make=make)
    assert calls == [2, 3] and [float(data["x", 2 * k, 0]) for k in range(4)] == [0.0, 1.0, 2.0, 3.0]
    assert not list((tmp_path / "set").glob(".*.tmp"))


def test_crnn_shards_are_a_function_of_the_shard_and_stream_into_training(tmp_path, monkeypatch):
    from physdl.crnn.data import SequenceConfig, downsample, write_shards
    from physdl.crnn.model import CRNNArchitecture
    from physdl.crnn.training import StreamedSequences, TrainingConfig, train

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path / "cache"))
    data = SequenceConfig(grid=8, dims=2, sequences=5, frames=5, max_start=2, tau=0.05, batch=2)
    first = write_shards(data, tmp_path / "a", sequences_per_shard=2)
    assert first.rows_per_shard == [2, 2, 1] and first.shape("phi") == (5, 5, 1, 8, 8)
    bigger = write_shards(replace(data, sequences=7), tmp_path / "b", sequences_per_shard=2)
    for i in range(4):  # a full shard k depends on (seed, k) only: a larger set begins with the same shards
        torch.testing.assert_close(bigger["phi", i], first["phi", i])
    stream = StreamedSequences(first, factor=2, dims=2)
    assert stream.shape == (5, 5, 1, 4, 4)
    torch.testing.assert_close(stream[3, 1:4], downsample(first["phi", 3, 1:4], 2, 2))
    cfg = TrainingConfig(data=(data,), validation=(replace(data, seed=1),), arch=CRNNArchitecture(hidden_channels=2, dims=2),
                         window=3, steps=3, validate_every=2, batch=2, shards=str(tmp_path / "run"), sequences_per_shard=2)
    result = train(cfg, progress=False, device=torch.device("cpu"))
    assert len(result.history.loss) == 3 and result.history.best_val is not None
    assert (tmp_path / "run" / "train" / shards.MANIFEST).exists() and not (tmp_path / "cache").exists()
    from physdl.crnn.training import shard_folder

    in_cache = replace(cfg, shards="cache")
    folder = shard_folder(in_cache)
    assert folder.parent == tmp_path / "cache" and folder.name.startswith("cahn-hilliard-shards-")
    assert shard_folder(replace(in_cache, sequences_per_shard=3)) != folder  # another layout, another folder


def test_generating_paper_sized_shards_holds_under_two_shards(tmp_path):
    """8 sequences of 50 frames at 64^3 per shard (the paper profile's size), with one solver
    step per frame instead of 40: peak RSS above the baseline after imports is measured."""
    script = textwrap.dedent(f"""
        import json, resource, torch
        torch.set_num_threads(1)
        from physdl.crnn.data import SequenceConfig, write_shards
        cfg = SequenceConfig(grid=64, dims=3, sequences=16, frames=50, max_start=50, tau=1.25e-3, dt=1.25e-3, batch=8)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        data = write_shards(cfg, {str(tmp_path / "paper")!r}, sequences_per_shard=8)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"base_kib": base, "peak_kib": peak, "shards": len(data.rows_per_shard)}}))
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    shard_kib = 8 * 50 * 64**3 * 4 / 1024
    assert measured["shards"] == 2
    assert measured["peak_kib"] - measured["base_kib"] <= 2 * shard_kib, measured
