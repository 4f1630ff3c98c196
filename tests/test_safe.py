"""SAFE-PIT-CM: heat data, the SAFE operator, the autoencoder and its inference modes."""

import pytest
import torch

from physdl import ops, rollout, safe
from physdl.pde import heat

SMALL = safe.HeatVideoConfig(n=32, steps=400, save_every=20, grains=(6, 8), runs=2, train_fraction=0.5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    return tmp_path


def diffusion_video(alpha: float = -0.4, n: int = 32, frames: int = 11, dtype=torch.float64) -> torch.Tensor:
    u0 = heat.voronoi_grains(n, 0.5, 7, generator=torch.Generator().manual_seed(3), dtype=dtype)
    stepper = heat.HeatEuler(ops.Grid((n, n), 0.5), 0.005, alpha)
    return rollout(stepper, u0[None, None], 50 * (frames - 1), 50)[0, :, 0]  # (frames, n, n)


# --- the heat equation and its data -------------------------------------------------------

def test_stability_check_names_the_bound():
    heat.check_stability(-0.7, 0.005, 0.5)
    with pytest.raises(ValueError, match="von Neumann bound 2"):
        heat.check_stability(-13.0, 0.005, 0.5)
    with pytest.raises(ValueError, match="mobility"):
        heat.check_stability(0.3, 0.005, 0.5)
    assert heat.von_neumann_limit(0.005, 0.5) == pytest.approx(12.5)
    assert heat.von_neumann_limit(0.25, 0.5) == pytest.approx(0.25)


def test_stepper_checks_stability_when_made():
    grid = ops.Grid((8, 8), 0.5)
    with pytest.raises(ValueError, match=r"stability limit .*von Neumann"):
        heat.HeatEuler(grid, 0.1, -1.0)
    with pytest.raises(ValueError, match="mobility"):
        heat.HeatEuler(grid, 0.001, 0.3)
    with pytest.raises(ValueError, match="NaN"):
        heat.HeatEuler(grid, 0.001, float("nan"))
    with pytest.raises(ValueError, match="periodic"):
        heat.HeatEuler(ops.Grid((8, 8), 0.5, "dirichlet"), 0.001, -0.1)


def test_euler_stepper_is_diffusion_for_negative_alpha():
    u = diffusion_video(frames=2)[0]
    assert torch.allclose(u.mean(), diffusion_video(frames=3)[-1].mean())  # mass conserved
    energy = [f.var().item() for f in diffusion_video(frames=6)]
    assert all(b < a for a, b in zip(energy, energy[1:]))  # smoothing


def test_voronoi_grains_range_and_reproducibility():
    a = heat.voronoi_grains(48, 0.5, 10, generator=torch.Generator().manual_seed(0))
    b = heat.voronoi_grains(48, 0.5, 10, generator=torch.Generator().manual_seed(0))
    assert a.shape == (48, 48) and torch.equal(a, b)
    assert a.min() >= 0.5 - 1e-12 and a.max() < 1
    with pytest.raises(ValueError, match="at least 2"):
        heat.voronoi_grains(16, 0.5, 1)


def test_videos_shapes_metadata_and_reversal(cache):
    videos = safe.heat_videos(SMALL)
    assert videos.frames.shape == (4, 21, 1, 32, 32) and videos.frames.dtype == torch.float32
    assert videos.dt_save == pytest.approx(0.1)
    assert torch.equal(videos.sign, torch.tensor([-1.0, 1.0, -1.0, 1.0]))
    assert torch.all((videos.alpha.abs() >= 0.1) & (videos.alpha.abs() <= 0.7))
    for run in range(2):
        diff, mob = videos.frames[2 * run, :, 0], videos.frames[2 * run + 1, :, 0]
        assert torch.equal(mob, diff.flip(0))
        assert videos.alpha[2 * run] == -videos.alpha[2 * run + 1]
    record = safe.simulation(SMALL, 1)
    assert float(record["alpha"]) > 0 and int(record["run"]) == 0
    assert float(record["dt"]) == pytest.approx(0.005) and float(record["dx"]) == 0.5
    assert len(list(cache.glob("heat-video-*.pt"))) == 4  # one file per simulation
    train, test = safe.heat_videos(SMALL, "train"), safe.heat_videos(SMALL, "test")
    assert train.index.tolist() == [0, 1] and test.index.tolist() == [2, 3]
    assert torch.equal(test.frames, videos.frames[2:])


def test_videos_bad_settings():
    with pytest.raises(ValueError, match="von Neumann"):
        safe.HeatVideoConfig(dt=0.2)
    with pytest.raises(ValueError, match="alpha_range"):
        safe.HeatVideoConfig(alpha_range=(-0.1, 0.7))
    with pytest.raises(ValueError, match="multiple"):
        safe.HeatVideoConfig(steps=1001)
    with pytest.raises(IndexError):
        safe.simulation(SMALL, 4)
    with pytest.raises(ValueError, match="frame step"):
        safe.Videos(torch.zeros(1, 11, 1, 4, 4), torch.ones(1), torch.zeros(1), 0.25, 0.5).every(3)


# --- the SAFE operator --------------------------------------------------------------------

@pytest.mark.parametrize("substeps", [1, 2, 5, 10, 25, 50])
@pytest.mark.parametrize("alpha", [-0.7, -0.1, 0.4])
def test_spectral_operator_equals_substepped_stencil(substeps, alpha):
    field = diffusion_video(frames=3)[None, :, None]  # (1, 3, 1, 32, 32) float64
    a = torch.tensor([alpha], dtype=torch.float64)
    spectral = safe.SafeOperator(0.25, 0.5, substeps, unstable="allow")(field, a)
    stencil = safe.SafeOperator(0.25, 0.5, substeps, method="stencil", unstable="allow")(field, a)
    scale = stencil.abs().max()
    assert torch.allclose(spectral, stencil, rtol=0, atol=1e-11 * scale)


def test_operator_reproduces_the_data_at_the_true_alpha():
    video = diffusion_video(alpha=-0.45)[None, :, None]
    op = safe.SafeOperator(0.25, 0.5, 50)
    alpha = torch.tensor([-0.45], dtype=torch.float64)
    sign = torch.tensor([-1.0], dtype=torch.float64)
    assert safe.safe_loss(op, video, alpha, sign) < 1e-28
    mobility = video.flip(1)
    assert safe.safe_loss(op, mobility, -alpha, -sign) < 1e-28  # read backwards: exact
    assert safe.safe_loss(op, mobility, -alpha, -sign, "forward") > 1e-9  # anti-diffusion: not


def test_spectral_pairs_match_the_safe_loss():
    video = diffusion_video()[None, :, None]
    op = safe.SafeOperator(0.25, 0.5, 10)
    for sign in (-1.0, 1.0):
        s = torch.tensor([sign], dtype=torch.float64)
        for direction in ("stable", "forward"):
            pairs = safe.SpectralPairs(op, video, s, direction)
            a = torch.tensor([0.3 * sign], dtype=torch.float64)
            assert torch.allclose(pairs.loss(a), safe.safe_loss(op, video, a, s, direction), rtol=1e-10)


def test_gradient_reaches_alpha_through_the_operator():
    video = diffusion_video(frames=4)[None, :, None]
    op = safe.SafeOperator(0.25, 0.5, 50)
    sign = torch.tensor([-1.0], dtype=torch.float64)
    alpha = torch.tensor([-0.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: safe.safe_loss(op, video, a, sign), (alpha,))
    safe.safe_loss(op, video, alpha, sign).backward()
    assert alpha.grad.item() > 0  # the loss falls as alpha moves towards -0.4
    model = safe.build_model(0.25, 0.5).double()
    out = model(video, sign)
    safe.safe_loss(model.operator, out.latent, out.alpha, sign).backward()
    grads = [p.grad for p in model.estimator.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_operator_bad_input():
    with pytest.raises(ValueError, match="substeps"):
        safe.SafeOperator(0.25, 0.5, 0)
    with pytest.raises(ValueError, match="method"):
        safe.SafeOperator(0.25, 0.5, 5, method="implicit")
    op = safe.SafeOperator(0.25, 0.5, 5)
    with pytest.raises(ValueError, match=r"alpha must be a number or hold one value per sample \(1\)"):
        op(torch.zeros(1, 3, 1, 8, 8), torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="direction"):
        safe.frame_pairs(torch.zeros(1, 3, 1, 8, 8), torch.ones(1), "backward")
    assert op.alpha_limit == pytest.approx(1.25)
    with pytest.raises(ValueError, match="unstable"):
        safe.SafeOperator(0.25, 0.5, 5, unstable="ignore")
    with pytest.raises(ValueError, match="dt_save"):
        safe.SafeOperator(-0.25, 0.5, 5)
    with pytest.raises(TypeError, match="dx"):
        safe.SafeOperator(0.25, "0.5", 5)


@pytest.mark.parametrize("method", ["spectral", "stencil"])
def test_operator_enforces_its_stability_limit(method):
    """A diffusion coefficient beyond alpha_limit used to run silently and reach 5e5."""
    op = safe.SafeOperator(0.25, 0.5, 5, method=method)
    field = torch.rand(2, 3, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"alpha = -1.3 exceeds the von Neumann limit .*substeps >= 6"):
        op(field, torch.tensor([-0.2, -1.3], dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        op(field, torch.tensor([-0.2, float("nan")], dtype=torch.float64))
    out = op(field, torch.tensor([-0.2, 1.3], dtype=torch.float64))  # anti-diffusion: the equation's growth
    assert torch.isfinite(out).all()
    allowed = safe.SafeOperator(0.25, 0.5, 5, method=method, unstable="allow")
    assert allowed(field, torch.tensor([-0.2, -3.0], dtype=torch.float64)).abs().max() > 10


def test_stencil_operator_keeps_the_shape_with_per_sample_alpha():
    """Batch > 1 with one alpha per sample used to return (4, 1, 4, 3, 1, 8, 8)."""
    field = torch.rand(4, 3, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    alpha = torch.tensor([-0.1, -0.2, -0.3, -0.4], dtype=torch.float64)
    stencil = safe.SafeOperator(0.25, 0.5, 5, method="stencil")(field, alpha)
    spectral = safe.SafeOperator(0.25, 0.5, 5)(field, alpha)
    assert stencil.shape == field.shape
    torch.testing.assert_close(stencil, spectral, rtol=0, atol=1e-12)
    for k in range(4):  # each sample with its own alpha
        alone = safe.SafeOperator(0.25, 0.5, 5, method="stencil")(field[k:k + 1], alpha[k:k + 1])
        torch.testing.assert_close(stencil[k:k + 1], alone, rtol=0, atol=1e-14)


# --- the autoencoder ----------------------------------------------------------------------

def test_encoder_and_decoder_start_as_the_identity():
    model = safe.build_model(0.25, 0.5)
    video = diffusion_video(dtype=torch.float32).float()[None, :, None]
    for mode in (model.train, model.eval):
        mode()
        out = model(video, torch.tensor([-1.0]))
        assert torch.equal(out.latent, video) and torch.equal(out.reconstruction, video)
        assert out.alpha.shape == (1,) and out.alpha.item() < 0


def test_model_bad_input():
    model = safe.build_model(0.25, 0.5)
    with pytest.raises(ValueError, match=r"\(batch, time >= 2, 1, nx, ny\)"):
        model(torch.zeros(5, 16, 16), torch.tensor([-1.0]))
    with pytest.raises(ValueError, match="sign must hold"):
        model(torch.zeros(1, 5, 1, 16, 16), torch.tensor([0.0]))
    with pytest.raises(ValueError, match="sign must be"):
        safe.zero_shot(torch.zeros(5, 16, 16), 0, 0.25, 0.5)
    with pytest.raises(ValueError, match="one simulation"):
        safe.zero_shot(torch.zeros(2, 5, 1, 16, 16), 1, 0.25, 0.5)
    with pytest.raises(ValueError, match="alpha_min"):
        safe.SafeConfig(alpha_min=1.0, alpha_max=0.5)
    with pytest.raises(ValueError, match="direction"):
        safe.SafeConfig(direction="backward")


def test_bounds_loss_penalises_the_magnitude_outside_the_range():
    assert safe.bounds_loss(torch.tensor([-0.3, 0.6]), 0.05, 0.9) == 0
    assert safe.bounds_loss(torch.tensor([-0.01]), 0.05, 0.9) == pytest.approx(0.04**2)
    assert safe.bounds_loss(torch.tensor([1.0]), 0.05, 0.9) == pytest.approx(0.1**2)


@pytest.mark.parametrize("sign", [-1, 1])
def test_zero_shot_recovers_alpha_on_a_small_simulation(sign):
    video = diffusion_video(alpha=-0.35).float()
    if sign > 0:
        video = heat.time_reversed(video)
    est = safe.zero_shot(video, sign, 0.25, 0.5)
    assert est.alpha == pytest.approx(0.35 * sign, abs=0.005)
    assert len(est.trace) == safe.SafeConfig().zero_shot_steps and est.loss[-1] < est.loss[0]


def test_least_squares_alpha_and_landscape():
    video = diffusion_video(alpha=-0.55)[:, None]
    op = safe.SafeOperator(0.25, 0.5, 50)
    assert safe.least_squares_alpha(video, -1, op) == pytest.approx(-0.55, abs=1e-6)
    mags = torch.tensor([0.2, 0.55, 0.9])
    land = safe.alpha_landscape(video, -1, op, mags)
    assert land.argmin() == 1


def test_two_phase_training_learns_alpha(cache):
    videos = safe.heat_videos(SMALL)
    cfg = safe.SafeConfig(phase1_steps=60, phase2_steps=3, batch_size=2)
    model = safe.build_model(videos.dt_save, videos.dx, cfg)
    before = safe.predict(model, videos)
    run = safe.train(model, videos, cfg, show_progress=False)
    after = safe.predict(model, videos)
    err_before = (before - videos.alpha).abs().mean()
    err_after = (after - videos.alpha).abs().mean()
    assert err_after < err_before
    assert sum(run.phase1.loss[-10:]) < sum(run.phase1.loss[:10])
    assert len(run.phase1.loss) == 60 and len(run.phase2.loss) == 3
    tuned = safe.fine_tune(model, videos.frames[0], -1, cfg)
    assert abs(tuned.alpha - videos.alpha[0].item()) < 0.02
    assert torch.equal(safe.predict(model, videos), after)  # fine-tuning works on a copy


def test_recovery_metrics():
    true = torch.tensor([-0.5, -0.2, 0.3, 0.6])
    m = safe.recovery_metrics(true, true)
    assert m["all"]["mae"] == 0 and m["diffusion"]["r2"] == 1 and m["mobility"]["n"] == 2
    with pytest.raises(ValueError, match="matching vectors"):
        safe.recovery_metrics(true, true[:3])


def test_batch_helpers_and_new_input_checks(cache):
    videos = safe.heat_videos(SMALL, "test")
    cfg = safe.SafeConfig(zero_shot_steps=200, fine_tune_steps=5)
    pred = safe.zero_shot_all(videos, cfg, show_progress=False)
    assert pred.shape == (2,) and torch.allclose(pred, videos.alpha, atol=0.005)
    model = safe.build_model(videos.dt_save, videos.dx, cfg)
    assert safe.fine_tune_all(model, videos, cfg, show_progress=False).shape == (2,)
    op = safe.SafeOperator(0.25, 0.5, 5)
    with pytest.raises(ValueError, match="low < high"):
        safe.least_squares_alpha(videos.frames[0], -1, op, low=1.0, high=0.5)
    with pytest.raises(ValueError, match="sign"):
        safe.alpha_landscape(videos.frames[0], 0, op, torch.tensor([0.1]))
    with pytest.raises(ValueError, match="non-negative"):
        safe.alpha_landscape(videos.frames[0], -1, op, torch.tensor([-0.1]))
    with pytest.raises(ValueError, match=r"\(batch, \.\.\., nx, ny\)"):
        op(torch.zeros(8, 8), -0.1)
    with pytest.raises(ValueError, match=r"\(batch, 1, 8, 8\)"):
        rollout(heat.HeatEuler(ops.Grid((8, 8), 0.5), 0.005, -0.1), torch.zeros(8), 1)
