"""Generate-and-cache: hits, misses, corrupt and partial files, atomic writes."""

import pytest
import torch

from physdl import data


def make(counter):
    def generate():
        counter.append(1)
        return {"x": torch.arange(6.0).reshape(2, 3), "y": torch.ones(4, dtype=torch.int64)}

    return generate


def cache_file(folder):
    files = [p for p in folder.iterdir() if p.suffix == ".pt"]
    assert len(files) == 1
    return files[0]


def test_second_call_reads_the_cache(tmp_path):
    calls = []
    a = data.cached("toy", {"n": 3}, make(calls), directory=tmp_path)
    b = data.cached("toy", {"n": 3}, make(calls), directory=tmp_path)
    assert len(calls) == 1
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])


def test_other_config_misses(tmp_path):
    calls = []
    data.cached("toy", {"n": 3}, make(calls), directory=tmp_path)
    data.cached("toy", {"n": 4}, make(calls), directory=tmp_path)
    assert len(calls) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_file_is_detected_and_regenerated(tmp_path, damage):
    calls = []
    data.cached("toy", {"n": 3}, make(calls), directory=tmp_path)
    path = cache_file(tmp_path)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file")
    else:
        # change stored tensor values but keep the archive valid: the checksum must catch it
        payload = torch.load(path, weights_only=True)
        payload["tensors"]["x"][0, 0] = 42.0
        torch.save(payload, path)
    with pytest.warns(UserWarning, match="regenerating"):
        out = data.cached("toy", {"n": 3}, make(calls), directory=tmp_path)
    assert len(calls) == 2
    assert out["x"][0, 0] == 0.0
    # the regenerated file is valid again
    data.cached("toy", {"n": 3}, make(calls), directory=tmp_path)
    assert len(calls) == 2


def test_atomic_save_leaves_no_partial_file(tmp_path):
    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    target = tmp_path / "x.pt"
    with pytest.raises(RuntimeError):
        data.atomic_save({"bad": Unpicklable()}, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path / "c"))
    assert data.cache_dir() == tmp_path / "c"
    assert (tmp_path / "c").is_dir()


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="name"):
        data.cached("bad name!", {}, lambda: {}, directory=tmp_path)
    with pytest.raises(TypeError, match="JSON"):
        data.cached("toy", {"f": object()}, lambda: {}, directory=tmp_path)
    with pytest.raises(TypeError, match="dict mapping names to tensors"):
        data.cached("toy", {}, lambda: [1, 2], directory=tmp_path)


def test_scalar_tensors_round_trip(tmp_path):
    tensors = {"alpha": torch.tensor(-0.25), "frames": torch.ones(2, 3)}
    first = data.cached("scalars", {"v": 1}, lambda: tensors, directory=tmp_path)
    again = data.cached("scalars", {"v": 1}, lambda: pytest.fail("regenerated"), directory=tmp_path)
    assert again["alpha"].item() == -0.25 and torch.equal(first["frames"], again["frames"])


def test_every_physdl_data_set_carries_its_generator_version(monkeypatch):
    """The cache key of each method's data set names the generator's version."""
    import physdl.crnn.data as crnn_data
    import physdl.data as pdata
    import physdl.neuradiff as nd
    import physdl.safe.data as safe_data
    import physdl.surrogate.data as sur_data
    from physdl import safe, surrogate

    keys: dict[str, dict] = {}

    class Recorded(Exception):
        pass

    def record(name, config, generate, directory=None):
        keys[name] = dict(config)
        raise Recorded

    for module in (crnn_data, safe_data, sur_data, pdata):
        monkeypatch.setattr(module, "cached", record)
    for make in (lambda: crnn_data.sequences(crnn_data.SequenceConfig(grid=8, dims=2, sequences=1, frames=2)),
                 lambda: safe.simulation(safe.HeatVideoConfig(n=8, steps=2, save_every=1, grains=(2, 3), runs=1), 0),
                 lambda: surrogate.flow_dataset(surrogate.SurrogateConfig()),
                 lambda: nd.synthesise(nd.VoidScenario(n=8, centers=((4.0, 4.0),), radii=(2.0,), frames=2))):
        with pytest.raises(Recorded):
            make()
    assert set(keys) == {"cahn-hilliard-sequences", "heat-video", "stokes-obstacles", "void-video"}
    for name, key in keys.items():
        assert isinstance(key.get("generator", key.get("version")), str), name
