"""NeuraDiff: camera model, annotations, loader, networks and training."""

import math

import pytest
import torch
import torch.nn.functional as F

import physdl.neuradiff as nd
from physdl import rollout
from physdl.nn.unet import UNet
from physdl.ops import Grid, laplacian
from physdl.pde import voids as V


def _eta(frames: int = 4, n: int = 32) -> torch.Tensor:
    return torch.stack([V.disc(n, (16.0, 10.0 + k), 6.0) for k in range(frames)])


# -- camera model -------------------------------------------------------------------------------

def test_video_contrast_to_noise_matches_the_intensity_model():
    eta = torch.zeros(2, 64, 64)
    eta[:, :, :32] = 1.0
    model = nd.IntensityModel(blur_frames=1, blur_pixels=1)
    as_uint8, frames = nd.tem_video(eta, model, torch.Generator().manual_seed(0))
    assert as_uint8.dtype == torch.uint8 and frames.shape == (2, 1, 64, 64)
    assert int(as_uint8.min()) == 0 and int(as_uint8.max()) == 255
    void, solid = frames[:, 0, :, :32], frames[:, 0, :, 32:]
    cnr = float((void.mean() - solid.mean()) / solid.std())
    expected = (model.void_mean - model.solid_mean) / model.solid_std
    assert abs(cnr - expected) < 0.05 * expected
    assert abs(float(void.std() / solid.std()) - model.void_std / model.solid_std) < 0.05


def test_box_blur_averages_the_noise_down():
    noise = torch.randn(60, 48, 48, generator=torch.Generator().manual_seed(1))
    blurred = nd.data.box_blur(noise, 19, 3)
    assert blurred.shape == noise.shape
    interior = blurred[10:-10]
    assert abs(float(interior.std()) * math.sqrt(19 * 9) - 1) < 0.15
    constant = torch.full((5, 8, 8), 0.3)
    torch.testing.assert_close(nd.data.box_blur(constant, 19, 3), constant)


def test_video_refuses_bad_eta():
    with pytest.raises(ValueError, match=r"\(frames, nx, ny\)"):
        nd.tem_video(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nd.tem_video(torch.full((2, 8, 8), 1.2))


# -- annotations -------------------------------------------------------------------------------

def test_annotations_have_the_requested_coverage_and_agree_with_the_truth():
    eta = _eta(frames=20)
    labels = nd.annotate(eta, 0.2, 0.5, torch.Generator().manual_seed(0), always=(3,))
    assert labels.dtype == torch.int8 and labels.shape == eta.shape
    assert set(labels.unique().tolist()) <= {nd.UNKNOWN, 0, 1}
    frames = nd.annotated_frames(labels)
    assert len(frames) == 4 and 3 in frames.tolist()
    mask = nd.known(labels)
    for f in range(20):
        share = float(mask[f].float().mean())
        if f in frames.tolist():
            assert 0.4 < share < 0.6
        else:
            assert share == 0
    truth = (eta >= 0.5).to(torch.int8)
    assert torch.equal(labels[mask], truth[mask])
    assert torch.equal(nd.held_out(labels), torch.tensor([f for f in range(20) if f not in frames.tolist()]))


@pytest.mark.parametrize("fractions", [(0.0, 0.5), (0.5, 1.5)])
def test_annotation_fractions_are_checked(fractions):
    with pytest.raises(ValueError, match="fraction"):
        nd.annotate(_eta(), *fractions)


def test_masked_mse_counts_only_annotated_pixels():
    labels = torch.tensor([[nd.UNKNOWN, 1], [0, nd.UNKNOWN]], dtype=torch.int8)
    pred = torch.tensor([[5.0, 0.5], [0.25, -3.0]])
    assert float(nd.masked_mse(pred, labels)) == pytest.approx((0.25 + 0.0625) / 2)
    assert float(nd.masked_mse(pred, torch.full_like(labels, nd.UNKNOWN))) == 0


# -- loader ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["video.tif", "frames"])
def test_loader_round_trip(tmp_path, name):
    frames = torch.rand(5, 1, 20, 18, generator=torch.Generator().manual_seed(0))
    path = nd.save_video(frames, tmp_path / name)
    loaded = nd.load_video(path)
    assert loaded.shape == (5, 1, 20, 18) and loaded.dtype == torch.float32
    torch.testing.assert_close(loaded, frames, atol=0.5 / 255 + 1e-6, rtol=0)
    cropped = nd.load_video(path, max_frames=3, multiple_of=8)
    assert cropped.shape == (3, 1, 16, 16)
    torch.testing.assert_close(cropped, loaded[:3, :, 2:18, 1:17])


def test_loader_reads_frames_in_natural_order(tmp_path):
    from PIL import Image

    for k in (10, 2, 1):
        Image.fromarray(torch.full((4, 4), k, dtype=torch.uint8).numpy()).save(tmp_path / f"img_{k}.png")
    video = nd.load_video(tmp_path)
    assert [round(float(v.mean()) * 255) for v in video] == [1, 2, 10]


def test_loader_reads_16_bit_tiff(tmp_path):
    import numpy as np
    from PIL import Image

    data = np.full((6, 6), 65535 // 2, dtype=np.uint16)
    Image.fromarray(data).save(tmp_path / "one.tif")
    video = nd.load_video(tmp_path / "one.tif")
    assert video.shape == (1, 1, 6, 6) and abs(float(video.mean()) - 0.5) < 1e-3


def test_loader_errors(tmp_path):
    from PIL import Image

    with pytest.raises(ValueError, match="no image files"):
        nd.load_video(tmp_path)
    with pytest.raises(ValueError, match="neither"):
        nd.load_video(tmp_path / "missing.avi")
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    Image.new("L", (5, 4)).save(tmp_path / "b.png")
    with pytest.raises(ValueError, match="same size"):
        nd.load_video(tmp_path)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nd.save_video(torch.full((2, 4, 4), 2.0), tmp_path / "x.tif")
    with pytest.raises(ValueError, match="max_frames"):
        nd.load_video(tmp_path, max_frames=-1)  # used to drop the last frame silently
    with pytest.raises(ValueError, match="max_frames"):
        nd.load_video(tmp_path, max_frames=0)


def test_saving_into_a_folder_of_frames_never_mixes_videos(tmp_path):
    old = torch.zeros(5, 1, 4, 4)
    new = torch.ones(2, 1, 4, 4)
    nd.save_video(old, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        nd.save_video(new, tmp_path)
    nd.save_video(new, tmp_path, overwrite=True)
    torch.testing.assert_close(nd.load_video(tmp_path), new)  # not 2 new frames + 3 old ones
    nd.save_video(old, tmp_path / "v.tif")
    with pytest.raises(FileExistsError, match="v.tif exists"):
        nd.save_video(new, tmp_path / "v.tif")


def test_loader_scales_each_frame_by_its_own_depth(tmp_path):
    """8- and 16-bit frames mixed in one folder: 255 in an 8-bit frame is white, not 0.0039."""
    import numpy as np
    from PIL import Image

    Image.fromarray(np.full((4, 4), 255, dtype=np.uint8)).save(tmp_path / "a_1.png")
    Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16)).save(tmp_path / "a_2.tif")
    video = nd.load_video(tmp_path)
    assert video.min() == 1.0


def test_loader_scales_32_bit_integers_by_the_video_range(tmp_path):
    import numpy as np
    from PIL import Image

    data = np.array([[0, 1000], [2000, 4000]], dtype=np.int32)
    Image.fromarray(data).save(tmp_path / "deep.tif")
    video = nd.load_video(tmp_path / "deep.tif")
    torch.testing.assert_close(video[0, 0], torch.tensor([[0.0, 0.25], [0.5, 1.0]]))


def test_loader_names_nan_pixels_and_damaged_files(tmp_path):
    import numpy as np
    from PIL import Image

    data = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    data[1, 2] = np.nan
    Image.fromarray(data).save(tmp_path / "f.tif")
    with pytest.raises(ValueError, match=r"f.tif has 1 NaN"):
        nd.load_video(tmp_path / "f.tif")
    folder = tmp_path / "frames"
    nd.save_video(torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0)), folder)
    damaged = sorted(folder.iterdir())[1]
    damaged.write_bytes(damaged.read_bytes()[:60])
    with pytest.raises(ValueError, match=f"cannot read frame .*{damaged.name}"):
        nd.load_video(folder)


# -- networks ----------------------------------------------------------------------------------

def test_fixed_kernel_convolution_is_the_laplacian():
    u = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    kernel = nd.LAPLACE_KERNEL.to(torch.float64).expand(3, 1, 3, 3)
    conv = F.conv2d(F.pad(u, (1, 1, 1, 1), mode="circular"), kernel, groups=3) / 0.5**2
    torch.testing.assert_close(conv, laplacian(u, 0.5))


def test_learnable_parameters_stay_positive_and_can_be_frozen():
    params = nd.LearnableParameters(learn=("L", "kT"))
    assert set(dict(params.named_parameters())) == {"log_values.L", "log_values.kT"}
    opt = torch.optim.SGD(params.parameters(), lr=1.0)
    (params().L + params().kT).backward()  # pushes both down hard
    opt.step()
    values = params.as_dict()
    assert values["L"] > 0 and values["kT"] > 0 and values["E_v"] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="unknown parameters"):
        nd.LearnableParameters(learn=("mass",))


def test_neural_phase_field_is_the_simulator_step():
    cv = V.vacancy_gradient(16, 0.3, 0.05)
    state = V.voids_state(16, [(8, 8)], [3], c_v_solid=cv)
    net = nd.NeuralPhaseField(0.02, 1.0, V.VoidParameters())
    solver = V.VoidStepper(Grid((16, 16), 1.0), 0.02, V.VoidParameters())
    expected = solver(solver(solver(state)))
    torch.testing.assert_close(net(state, 3), expected, rtol=1e-5, atol=1e-6)
    net(state, 3)[:, 2].sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_recognition_net_shapes_and_range():
    net = nd.RecognitionNet(frames=5, embedding=4, base=4, levels=3)
    out = net(torch.rand(3, 1, 16, 16), torch.tensor([0, 4, 9]))  # 9 is clamped to the last embedding
    assert out.shape == (3, 3, 16, 16) and out.min() > 0 and out.max() < 1
    with pytest.raises(ValueError, match="condition"):
        UNet(1, 1, base=4, levels=2, condition_channels=2)(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="no condition"):
        UNet(1, 1, base=4, levels=2)(torch.rand(1, 1, 8, 8), torch.rand(1, 2))


# -- training ----------------------------------------------------------------------------------

def test_the_differentiable_step_recovers_the_interface_mobility(float64):
    """Fit L alone from true states: the gradient through 30 steps must find it."""
    cv = V.vacancy_gradient(24, 0.33, 0.09, dtype=torch.float64)
    state0 = V.voids_state(24, [(9, 12)], [5], c_v_solid=cv, dtype=torch.float64)
    target = rollout(V.VoidStepper(Grid((24, 24), 1.0), 0.02, V.VoidParameters()), state0, 60, save_every=30)[0]
    net = nd.NeuralPhaseField(0.02, 1.0, V.VoidParameters(L=0.3), learn=("L",))
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    for _ in range(80):
        opt.zero_grad()
        loss = (net(target[:-1], 30) - target[1:]).pow(2).mean()
        loss.backward()
        opt.step()
    assert net.parameters_p.as_dict()["L"] == pytest.approx(1.0, rel=0.05)


def test_training_runs_and_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    scenario = nd.VoidScenario(n=16, centers=((6.0, 8.0),), radii=(3.0,), frames=6, steps_per_frame=5)
    video = nd.synthesise(scenario, progress=False)
    assert video.frames.shape == (6, 1, 16, 16) and video.states.shape == (6, 3, 16, 16)
    assert nd.synthesise(scenario).frames.equal(video.frames)  # from the cache
    labels = nd.annotate(video.eta, 0.5, 0.5, torch.Generator().manual_seed(0))
    cfg = nd.NeuraDiffConfig(base=4, levels=2, embedding=2, pretrain_steps=3, steps=3, baseline_steps=2,
                             batch_size=2)
    result = nd.train(video, labels, cfg, progress=False, device=torch.device("cpu"))
    assert len(result.history.loss) == 3 and all(math.isfinite(v) for v in result.history.loss)
    assert result.parameter_history[0] != result.parameter_history[-1]
    rollout = nd.rollout_from_first_frame(result, video)
    assert rollout.shape == (6, 3, 16, 16)
    with pytest.raises(ValueError, match=r"labels must be \(frames, nx, ny\)"):
        nd.train(video, labels[:3], cfg, progress=False)


def test_metrics_and_helpers_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        nd.masked_mse(torch.zeros(2, 4, 4), torch.zeros(2, 4, 5, dtype=torch.int8))
    with pytest.raises(ValueError, match="one shape"):
        nd.iou_per_frame(torch.zeros(2, 4, 4), torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="one shape"):
        nd.accuracy_per_frame(torch.zeros(4, 4), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="frames, nx, ny"):
        nd.data.box_blur(torch.zeros(1, 2, 4, 4), 3, 3)
    with pytest.raises(ValueError, match="square"):
        V.void_centroid(torch.zeros(4, 6))
