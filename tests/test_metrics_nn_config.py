"""Metrics, networks, configuration and the package's import cost."""

import subprocess
import sys

import pytest
import torch

from physdl import config, metrics
from physdl.nn import MLP, FieldMLP, UNet, count_parameters


def test_metrics_on_known_values():
    true = torch.tensor([1.0, 2.0, 3.0, 4.0])
    pred = torch.tensor([1.0, 2.0, 3.0, 5.0])
    assert float(metrics.mae(pred, true)) == pytest.approx(0.25)
    assert float(metrics.rmse(pred, true)) == pytest.approx(0.5)
    assert float(metrics.relative_l2(pred, true)) == pytest.approx(1 / 30**0.5)
    assert float(metrics.r2(pred, true)) == pytest.approx(1 - 1 / 5)
    assert float(metrics.r2(true, true)) == 1.0


def test_metrics_reduce_over_dims():
    true = torch.ones(2, 3)
    pred = torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    torch.testing.assert_close(metrics.relative_l2(pred, true, dims=1), torch.tensor([0.0, 1.0]))


def test_pixel_accuracy():
    true = torch.tensor([0.0, 1.0, 1.0, 0.0])
    pred = torch.tensor([0.2, 0.7, 0.4, 0.9])
    assert float(metrics.pixel_accuracy(pred, true)) == 0.5
    known = torch.tensor([True, True, False, False])
    assert float(metrics.pixel_accuracy(pred, true, known=known)) == 1.0


def test_metric_errors():
    with pytest.raises(ValueError, match="shape"):
        metrics.mae(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="zero"):
        metrics.relative_l2(torch.ones(2), torch.zeros(2))
    with pytest.raises(ValueError, match="constant"):
        metrics.r2(torch.ones(2), torch.ones(2))


@pytest.mark.parametrize("dims, shape", [(2, (2, 3, 16, 16)), (3, (1, 2, 8, 8, 8))])
def test_unet_shapes_and_periodicity(dims, shape):
    net = UNet(shape[1], 4, base=4, levels=3, dims=dims)
    x = torch.randn(*shape)
    y = net(x)
    assert y.shape == (shape[0], 4, *shape[2:])
    # circular padding + pooling by 2: shifting the input by 4 cells shifts the output
    rolled = net(torch.roll(x, 4, dims=2))
    torch.testing.assert_close(rolled, torch.roll(y, 4, dims=2), atol=1e-5, rtol=1e-5)


def test_unet_rejects_bad_shapes():
    net = UNet(3, 3, base=4, levels=3)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.zeros(1, 3, 10, 10))
    with pytest.raises(ValueError, match="expected input"):
        net(torch.zeros(1, 2, 16, 16))


def test_mlp_and_field_mlp():
    mlp = MLP(2, 1, [20] * 8)
    assert count_parameters(mlp) == 2 * 20 + 20 + 7 * (20 * 20 + 20) + 21
    assert mlp(torch.zeros(5, 2)).shape == (5, 1)
    fm = FieldMLP(3, 3, (8, 8), [16])
    assert fm(torch.zeros(2, 3, 8, 8)).shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="expected input"):
        fm(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="activation"):
        MLP(1, 1, [4], activation="swish2")


def test_profiles(monkeypatch):
    monkeypatch.setenv("PHYSDL_PROFILE", "quick")
    assert config.profile() == "quick" and config.by_profile(1, 2, 3) == 1
    monkeypatch.setenv("PHYSDL_PROFILE", "paper")
    assert config.by_profile(1, 2, 3) == 3 and config.by_profile(1, 2) == 2
    monkeypatch.delenv("PHYSDL_PROFILE")
    assert config.profile() == "default" and config.by_profile(1, 2, 3) == 2
    monkeypatch.setenv("PHYSDL_PROFILE", "huge")
    with pytest.raises(ValueError, match="not a profile"):
        config.profile()


def test_device_and_seed(monkeypatch):
    monkeypatch.delenv("PHYSDL_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert config.device().type == expected
    assert config.device("cpu").type == "cpu"
    a = config.seed_everything(7)
    x = torch.rand(3), torch.rand(3, generator=a)
    b = config.seed_everything(7)
    y = torch.rand(3), torch.rand(3, generator=b)
    assert torch.equal(x[0], y[0]) and torch.equal(x[1], y[1])
    with pytest.raises(ValueError):
        config.seed_everything(-1)


def test_import_is_light():
    """`import physdl` loads no heavy dependency; submodules load on first use."""
    code = "import sys, physdl; assert 'torch' not in sys.modules, 'torch imported'; physdl.ops; assert 'torch' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_has_one_source():
    """The package metadata, the citation file and the changelog's policy agree with physdl.__version__."""
    import importlib.metadata
    import re
    from pathlib import Path

    import physdl

    root = Path(__file__).resolve().parents[1]
    assert re.fullmatch(r"\d+\.\d+\.\d+", physdl.__version__)
    assert importlib.metadata.version("physdl") == physdl.__version__
    assert f"version: {physdl.__version__}" in (root / "CITATION.cff").read_text()
    assert 'version = "' not in (root / "pyproject.toml").read_text()


def test_install_cells_pin_this_release():
    """Every install (the Colab notebooks, the book's pages) takes the tagged release of this
    version, never the moving main branch."""
    import re
    from pathlib import Path

    import physdl

    root = Path(__file__).resolve().parent.parent
    pinned = f"physdl @ git+{physdl.__repository__}@v{physdl.__version__}"
    pinned_notebooks = pinned.replace("physdl @", "physdl[notebooks] @")
    pages = [*root.glob("book/*.md"), *root.glob("notebooks/*.ipynb"), root / "README.md"]
    for page in pages:
        installs = re.findall(r'physdl(?:\[\w+\])? @ git\+[^"\\\s]*', page.read_text())
        assert all(spec in (pinned, pinned_notebooks) for spec in installs), f"{page.name}: {installs} is not {pinned}"
    assert len([p for p in pages if pinned_notebooks in p.read_text()]) >= 7


def test_repository_url_has_one_source():
    """Every copy of the repository address in the book, its configuration and the README is
    ``physdl.__repository__``."""
    import re
    from pathlib import Path

    import physdl

    root = Path(__file__).resolve().parent.parent
    files = [*root.joinpath("book").glob("*.md"), *root.joinpath("notebooks").glob("*.ipynb"),
             root / "_config.yml", root / "README.md", root / "CITATION.cff"]
    for path in files:
        text = path.read_text()
        for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", text):
            assert url == physdl.__repository__, f"{path.name}: {url} is not {physdl.__repository__}"
        for url in re.findall(r"https://[\w.-]+\.github\.io/[\w.-]+", text):
            assert url == physdl.__documentation__, f"{path.name}: {url} is not {physdl.__documentation__}"
    assert f"baseurl: {physdl.__documentation__}" in (root / "_config.yml").read_text()


def test_optional_dependency_names_the_extra(monkeypatch):
    from physdl import config

    monkeypatch.setitem(config.OPTIONAL, "physdl_absent_pkg", ("physdl-absent-pkg", "book"))
    with pytest.raises(ImportError, match=r'isosurface needs physdl-absent-pkg.*physdl\[book\]'):
        config.require("physdl_absent_pkg.measure", "isosurface")
    assert config.OPTIONAL["skimage"] == ("scikit-image", "notebooks")
    assert config.OPTIONAL["ipywidgets"] == ("ipywidgets", "notebooks")
    assert config.require("math", "arithmetic").sqrt(4.0) == 2.0


def test_unavailable_mps_is_named(monkeypatch):
    import torch

    from physdl import config

    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ValueError, match=r"prefer='mps', but torch.backends.mps.is_available\(\) is False"):
        config.device("mps")
    monkeypatch.setenv("PHYSDL_DEVICE", "mps")
    with pytest.raises(ValueError, match="PHYSDL_DEVICE='mps'"):
        config.device()


@pytest.mark.parametrize("choice,message", [("bogus", "is not a device"), ("cuda:x", "is not a device"),
                                            ("xla", "not 'xla'"), ("meta", "not 'meta'")])
def test_bad_device_names_the_variable(monkeypatch, choice, message):
    from physdl import config

    monkeypatch.setenv("PHYSDL_DEVICE", choice)
    with pytest.raises(ValueError, match=f"PHYSDL_DEVICE='{choice}'.*{message}"):
        config.device()


@pytest.mark.parametrize("kind", ["file", "unwritable"])
def test_bad_cache_folder_names_the_variable(monkeypatch, tmp_path, kind):
    import os

    from physdl import data

    target = tmp_path / "cache"
    if kind == "file":
        target.write_text("not a folder")
        message = "is not a directory"
    else:
        target.mkdir()
        target.chmod(0o500)  # root may write anyway: answer as the file system would for a user
        monkeypatch.setattr(data.os, "access", lambda path, mode: os.stat(path).st_mode & 0o200 != 0)
        message = "is not writable"
    monkeypatch.setenv("PHYSDL_CACHE", str(target))
    with pytest.raises(ValueError, match=f"PHYSDL_CACHE={target} {message}"):
        data.cache_dir()
