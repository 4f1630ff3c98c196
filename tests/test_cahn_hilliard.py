"""Cahn-Hilliard solvers, free energy, Perlin noise, the CRNN and its training pipeline."""

from __future__ import annotations

import math

import pytest
import torch

from physdl.ops.checks import trusted

from physdl.crnn import (
    ConservativeCRNN,
    CRNNArchitecture,
    NonConservativeCRNN,
    SequenceConfig,
    downsample,
)
from physdl.crnn.evaluation import (
    interface_displacement,
    mean_drift,
    power_law_exponent,
    rmse_per_frame,
)
from physdl.crnn.training import (
    TrainingConfig,
    augment,
    load_weights,
    shipped_weights,
    teacher_frames,
)
from physdl.nn import count_parameters
from physdl.ops import laplacian
from physdl.pde.cahn_hilliard import (
    CahnHilliard,
    ExplicitStepper,
    bulk_derivative,
    bulk_energy,
    check_stability,
    chemical_potential,
    explicit_step,
    free_energy,
    perlin_noise,
    perlin_state,
    stability_limit,
    stepper,
)
from physdl.pde.stepper import rollout

MODEL = CahnHilliard()


def simulate(phi0: torch.Tensor, frames: int, steps_per_frame: int, dt: float, method: str = "explicit") -> torch.Tensor:
    """``frames`` frames ``steps_per_frame`` solver steps apart, ``(batch, frames, 1, *space)``."""
    solver = stepper(tuple(phi0.shape[2:]), dt, MODEL, method)
    return rollout(solver, phi0, (frames - 1) * steps_per_frame, steps_per_frame)


def _state(shape=(16, 16, 16), seed=0, cells=2, dtype=torch.float64):
    return perlin_state(shape, 0.45, cells, 0.2, 2, torch.Generator().manual_seed(seed), dtype)


def test_bulk_derivative_matches_autograd():
    phi = torch.rand(1000, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(bulk_energy(phi).sum(), phi)
    assert torch.allclose(g, bulk_derivative(phi.detach()), atol=1e-12)


def test_free_energy_gradient_is_chemical_potential():
    phi = _state((8, 8, 8)).requires_grad_(True)
    (grad,) = torch.autograd.grad(free_energy(phi, MODEL, density=False).sum(), phi)
    assert torch.allclose(grad, chemical_potential(phi.detach(), MODEL), atol=1e-10)


@pytest.mark.parametrize("shape", [(32, 32), (12, 12, 12)])
def test_explicit_solver_conserves_mass_and_lowers_free_energy(shape):
    phi0 = _state(shape)
    seq = simulate(phi0, frames=6, steps_per_frame=200, dt=1.25e-3)
    assert mean_drift(seq).abs().max() < 1e-12
    energy = free_energy(seq)
    assert torch.all(energy[:, 1:] < energy[:, :-1])


def test_semi_implicit_conserves_mass_and_lowers_free_energy():
    phi0 = _state((12, 12, 12))
    seq = simulate(phi0, frames=6, steps_per_frame=20, dt=0.05, method="semi-implicit")
    assert mean_drift(seq).abs().max() < 1e-12
    energy = free_energy(seq)
    assert torch.all(energy[:, 1:] < energy[:, :-1])


def test_explicit_and_semi_implicit_agree_at_small_dt():
    """Both solve the same discrete equation: the gap closes at first order in dt."""
    phi0 = _state((12, 12, 12))
    explicit = simulate(phi0, 2, 1600, 1.25e-3 / 4)[:, -1]
    errors = []
    for dt in (0.005, 0.0025, 0.00125):
        semi = simulate(phi0, 2, round(0.5 / dt), dt, method="semi-implicit")[:, -1]
        errors.append((semi - explicit).abs().max().item())
    assert errors[-1] < 2e-3
    assert errors[1] < 0.6 * errors[0] and errors[2] < 0.6 * errors[1]


def test_explicit_step_is_the_laplacian_of_the_chemical_potential_and_compiles_to_the_same_step():
    """The fused update is the textbook formula to rounding; the compiled stepper steps the same."""
    phi = _state((6, 8, 10)).double()
    textbook = phi + 1e-3 * MODEL.mobility * laplacian(chemical_potential(phi, MODEL), MODEL.dx)
    torch.testing.assert_close(explicit_step(phi, 1e-3, MODEL), textbook, rtol=0, atol=1e-14)
    eager, compiled = ExplicitStepper((6, 8, 10), 1e-3), ExplicitStepper((6, 8, 10), 1e-3, compile=True)
    torch.testing.assert_close(rollout(compiled, phi, 5), rollout(eager, phi, 5), rtol=0, atol=1e-13)
    with pytest.raises(TypeError, match="compile must be True or False"):
        ExplicitStepper((6, 8, 10), 1e-3, compile="yes")


def test_stability_limit_value_and_error():
    assert stability_limit(MODEL, 3) == pytest.approx(2 / (3 * 144 + 12 * 12))
    assert 1.25e-3 < stability_limit(MODEL, 3)
    with pytest.raises(ValueError, match="stability limit"):
        check_stability(4e-3, MODEL, 3)
    with pytest.raises(ValueError, match="stability limit"):
        simulate(_state((8, 8, 8)), 2, 1, 4e-3)


def test_explicit_step_blows_up_above_the_limit_and_not_below():
    phi = _state((8, 8, 8)) + 1e-3 * torch.randn(2, 1, 8, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    limit = stability_limit(MODEL, 3)
    below, above = phi.clone(), phi.clone()
    with trusted():  # a hot loop of our own: the step does not check its input each time
        for _ in range(3000):
            below = explicit_step(below, 0.9 * limit)
            above = explicit_step(above, 1.3 * limit)
    assert torch.isfinite(below).all() and below.abs().max() < 2
    assert not torch.isfinite(above).all() or above.abs().max() > 10


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="epsilon"):
        CahnHilliard(epsilon=0)
    with pytest.raises(ValueError, match="one channel"):
        chemical_potential(torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match="method"):
        simulate(_state((8, 8, 8)), 2, 1, 1e-3, method="rk4")
    with pytest.raises(ValueError, match="multiple"):
        perlin_noise((10, 10), 3)


def test_perlin_noise_is_periodic_normalised_and_sized():
    g = torch.Generator().manual_seed(0)
    coarse = perlin_noise((32, 32, 32), 2, batch=4, generator=g, dtype=torch.float64)
    fine = perlin_noise((32, 32, 32), 8, batch=4, generator=g, dtype=torch.float64)
    for noise in (coarse, fine):
        assert noise.shape == (4, 1, 32, 32, 32)
        flat = noise.flatten(1)
        assert torch.allclose(flat.mean(1), torch.zeros(4, dtype=torch.float64), atol=1e-12)
        assert torch.allclose(flat.std(1), torch.ones(4, dtype=torch.float64), atol=1e-12)
    # periodic: the jump across the boundary is as small as the jump between neighbours inside
    for noise in (coarse, fine):
        inner = (noise[..., 1:] - noise[..., :-1]).abs().max()
        wrap = (noise[..., 0] - noise[..., -1]).abs().max()
        assert wrap <= 1.5 * inner
    # correlation length: neighbour correlation higher for fewer lattice cells
    def neighbour_corr(x):
        return torch.mean(x * torch.roll(x, 1, -1)).item()
    assert neighbour_corr(coarse) > neighbour_corr(fine) > 0.5


def test_perlin_state_has_the_requested_means():
    phi = perlin_state((16, 16, 16), torch.tensor([0.4, 0.6]), 2, 0.1, 2, torch.Generator().manual_seed(0), torch.float64)
    assert torch.allclose(phi.flatten(1).mean(1), torch.tensor([0.4, 0.6], dtype=torch.float64), atol=1e-12)


def test_crnn_parameter_count_is_the_papers():
    assert 2.8e4 < count_parameters(ConservativeCRNN()) < 3.0e4


@pytest.mark.parametrize("dims,shape", [(3, (8, 8, 8)), (2, (16, 12))])
def test_conservative_crnn_conserves_mass_for_random_weights(dims, shape):
    torch.manual_seed(0)
    model = ConservativeCRNN(CRNNArchitecture(dims=dims))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    phi0 = torch.rand(3, 1, *shape, dtype=torch.float64)
    model = model.double()
    frames, _ = model.rollout(phi0, 50)
    assert mean_drift(frames).abs().max() < 1e-13
    assert (frames[:, -1] - phi0).abs().max() > 1e-3  # it does move the field


def test_non_conservative_crnn_does_not_conserve_mass():
    torch.manual_seed(0)
    model = NonConservativeCRNN().double()
    frames, _ = model.rollout(torch.rand(2, 1, 8, 8, 8, dtype=torch.float64), 5)
    assert mean_drift(frames).abs().max() > 1e-4


def test_crnn_forward_teacher_forcing_and_rollout_agree():
    torch.manual_seed(0)
    model = ConservativeCRNN().double()
    seq = torch.rand(2, 5, 1, 8, 8, 8, dtype=torch.float64)
    free = model(seq, teacher_frames=1)
    frames, _ = model.rollout(seq[:, 0], 4)
    assert torch.allclose(free, frames[:, 1:], atol=1e-12)
    forced = model(seq, teacher_frames=5)
    phi, hidden = model.advance(seq[:, 0])
    phi2, _ = model.advance(seq[:, 1], hidden)
    assert torch.allclose(forced[:, 1], phi2, atol=1e-12)
    with pytest.raises(ValueError, match="teacher_frames"):
        model(seq, teacher_frames=6)
    with pytest.raises(ValueError, match="phi must be shaped"):
        model.step(torch.rand(1, 2, 8, 8, 8, dtype=torch.float64))


def test_rollout_continues_with_the_hidden_state():
    torch.manual_seed(0)
    model = ConservativeCRNN().double()
    phi0 = torch.rand(1, 1, 8, 8, 8, dtype=torch.float64)
    whole, _ = model.rollout(phi0, 6)
    first, _, hidden = model.rollout(phi0, 3, return_hidden=True)
    second, _ = model.rollout(first[:, -1], 3, hidden=hidden)
    assert torch.allclose(whole[:, -1], second[:, -1], atol=1e-12)


def test_augmentation_maps_solutions_to_solutions():
    """A rotated, reflected and phase-swapped solution is the solution of the transformed start."""
    phi0 = perlin_state((8, 8, 8), 0.45, 2, 0.2, 1, torch.Generator().manual_seed(3), torch.float64)
    seq = simulate(phi0, 3, 100, 1.25e-3)
    for seed in range(6):
        moved = augment(seq, torch.Generator().manual_seed(seed))
        again = simulate(moved[:, 0], 3, 100, 1.25e-3)
        assert torch.allclose(moved, again, atol=1e-12)
    # the augmentations are not all the identity
    changed = [not torch.equal(augment(seq, torch.Generator().manual_seed(s)), seq) for s in range(6)]
    assert sum(changed) >= 4


def test_curriculum_goes_from_teacher_forcing_to_rollout():
    config = TrainingConfig(steps=100, window=10, curriculum=0.5)
    assert teacher_frames(0, config) == 9
    assert teacher_frames(25, config) in (5, 6)
    assert teacher_frames(50, config) == 1 and teacher_frames(99, config) == 1
    with pytest.raises(ValueError, match="window"):
        TrainingConfig(window=SequenceConfig().frames + 1)


def test_downsample_keeps_every_other_point():
    x = torch.arange(4 * 4 * 4.0).reshape(1, 1, 1, 4, 4, 4)
    y = downsample(x, 2)
    assert y.shape == (1, 1, 1, 2, 2, 2) and y[0, 0, 0, 1, 1, 1] == x[0, 0, 0, 2, 2, 2]
    with pytest.raises(ValueError, match="divisible"):
        downsample(torch.zeros(1, 1, 1, 5, 5, 5), 2)


def test_interface_displacement_of_a_shifted_interface():
    """A planar tanh interface shifted by s cells gives delta close to s."""
    x = torch.arange(64, dtype=torch.float64)
    profile = lambda c: 0.5 * (1 + torch.tanh((x - c) / 3)) - 0.5 * (1 + torch.tanh((x - c - 32) / 3))  # noqa: E731
    true = profile(16.0).view(1, 1, 1, 1, 64).expand(1, 1, 1, 8, 64).clone()
    pred = profile(16.3).view(1, 1, 1, 1, 64).expand(1, 1, 1, 8, 64).clone()
    delta = interface_displacement(pred, true)
    assert delta.shape == (1, 1) and delta.item() == pytest.approx(0.3, rel=0.05)
    assert rmse_per_frame(true, true).abs().max() == 0


def test_power_law_exponent_recovers_a_slope():
    t = torch.logspace(0, 3, 50, dtype=torch.float64)
    assert power_law_exponent(t, 2 * t ** (-1 / 3), 1, 1000) == pytest.approx(-1 / 3, abs=1e-12)
    with pytest.raises(ValueError, match="fewer than 3"):
        power_law_exponent(t, t, 2000, 3000)


def test_shipped_weights_load_safely_and_conserve_mass():
    path = shipped_weights()
    assert path.stat().st_size < 200_000
    blob = torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    assert set(blob) >= {"model", "arch", "config"}
    model, config = load_weights(path)
    assert isinstance(model, ConservativeCRNN) and config["factor"] == 2
    phi0 = perlin_state((12, 12, 12), 0.5, 2, 0.2, 1, torch.Generator().manual_seed(0)).clamp(0, 1)
    frames, _ = model.rollout(phi0, 20)
    assert mean_drift(frames).abs().max() < 1e-5
    assert torch.isfinite(frames).all() and frames.min() > -0.5 and frames.max() < 1.5
    assert math.isfinite(float(frames.std()))


def test_sphere_and_torus_have_the_right_volume():
    from physdl.pde.cahn_hilliard import sphere_state, torus_state

    sphere = sphere_state((32, 32, 32), 8.0, dtype=torch.float64)
    assert sphere.shape == (1, 1, 32, 32, 32)
    # a tanh profile of width epsilon / 3 adds 4 pi R (pi^2 / 12) (epsilon / 3)^2 to a sharp ball
    assert float(sphere.sum()) == pytest.approx(4 / 3 * math.pi * 8**3 + 4 * math.pi * 8 * math.pi**2 / 12, rel=2e-3)
    torus = torus_state((32, 32, 32), 8.0, 3.0, dtype=torch.float64)
    # the same correction with the torus's total mean curvature: area 4 pi^2 R r times 1 / r
    assert float(torus.sum()) == pytest.approx(2 * math.pi**2 * 8 * 3**2 + 4 * math.pi**2 * 8 * math.pi**2 / 24, rel=2e-3)
    assert torus[0, 0, 16, 16, 16] < 0.01  # the hole in the middle
    with pytest.raises(ValueError, match="minor"):
        torus_state((16, 16, 16), 3.0, 4.0)


def test_reference_switches_to_the_semi_implicit_solver_late():
    from physdl.pde.cahn_hilliard import reference

    phi0 = _state((12, 12, 12), dtype=torch.float64)
    explicit = reference(phi0, 9)
    switched = reference(phi0, 9, switch_time=2.0, dt_late=0.01)
    assert switched.shape == explicit.shape == (2, 9, 1, 12, 12, 12)
    assert torch.equal(switched[:, :5], explicit[:, :5])
    assert (switched[:, -1] - explicit[:, -1]).abs().max() < 0.05
    assert mean_drift(switched).abs().max() < 1e-12


def test_viz3d_figures_and_viewer():
    import matplotlib

    matplotlib.use("Agg")
    from physdl import viz3d
    from physdl.pde.cahn_hilliard import sphere_state

    frames = torch.cat([sphere_state((12, 12, 12), r) for r in (3.0, 4.0)])[:, 0]
    for kind in ("slice", "surface"):
        fig = viz3d.rollout_grid({"a": frames, "b": frames}, ["t0", "t1"], kind=kind)
        assert len(fig.axes) >= 4
    with pytest.raises(ValueError, match="frames"):
        viz3d.rollout_grid({"a": frames}, ["only one"])
    with pytest.raises(ValueError, match="outside"):
        viz3d.slice_of(frames[0], 12)
    widget = viz3d.rollout_viewer({"a": frames, "b": frames}, times=[0.0, 0.5])
    sliders = widget.children[0].children
    sliders[0].value = 1  # redraw at the second frame
    assert sliders[0].max == 1 and sliders[1].max == 11


def test_matched_time_step_and_cost_per_interval():
    from physdl.crnn.evaluation import cost_per_interval, matched_time_step
    from physdl.pde.cahn_hilliard import reference

    phi0 = perlin_state((8, 8, 8), 0.5, 2, 0.2, 1, torch.Generator().manual_seed(0)).clamp(0, 1)
    truth = downsample(reference(phi0, 3), 2)
    dt, errors = matched_time_step(phi0, truth, target=1.0, candidates=[0.25, 0.05])
    assert dt == 0.25 and set(errors) == {0.25, 0.05}
    assert errors[0.05] < errors[0.25]
    dt, _ = matched_time_step(phi0, truth, target=0.0, candidates=[0.25, 0.05])
    assert dt == 0.05  # nothing is good enough: the smallest candidate
    cost = cost_per_interval(ConservativeCRNN(), phi0, 0.25, repeats=1)
    assert set(cost) == {"explicit", "semi-implicit", "crnn"} and all(v > 0 for v in cost.values())


def test_second_stage_starts_from_the_given_weights(tmp_path, monkeypatch):
    """long_rollout_config fine-tunes a saved model on whole sequences, with no teacher forcing."""
    import json
    from dataclasses import replace

    from physdl.crnn.model import CRNNArchitecture
    from physdl.crnn.training import long_rollout_config, save_weights, train

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path / "cache"))
    data = SequenceConfig(grid=8, dims=2, sequences=2, frames=5, max_start=1, tau=0.05, batch=2)
    arch = CRNNArchitecture(hidden_channels=2, dims=2)
    first = TrainingConfig(data=(data,), validation=(replace(data, seed=1),), arch=arch, window=3, steps=2,
                           validate_every=1)
    stage1 = train(first, progress=False)
    path = save_weights(stage1, tmp_path / "stage1.pt")
    second = long_rollout_config(path, first, steps=1, lr=1e-12)
    assert second.window == 5 and second.curriculum == 0 and teacher_frames(0, second) == 1
    stage2 = train(second, progress=False)
    # at a vanishing rate the second stage keeps the first stage's weights
    for a, b in zip(stage1.model.state_dict().values(), stage2.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-8)
    log = json.loads(save_weights(stage2, tmp_path / "stage2.pt").with_suffix(".log.json").read_text())
    assert log["config"]["init"] == str(path) and log["previous_stage"]["config"]["window"] == 3
    with pytest.raises(ValueError, match="holds"):
        train(replace(second, arch=replace(arch, hidden_channels=3)), progress=False)


def test_matched_time_step_skips_a_step_that_blows_up(monkeypatch):
    import physdl.pde.cahn_hilliard as chmod
    from physdl.crnn.evaluation import matched_time_step
    from physdl.pde.cahn_hilliard import reference

    phi0 = perlin_state((8, 8, 8), 0.5, 2, 0.2, 1, torch.Generator().manual_seed(0)).clamp(0, 1)
    truth = downsample(reference(phi0, 3), 2)
    real = chmod.SemiImplicitStepper.step

    def fragile(self, phi):
        out = real(self, phi)
        return out * float("nan") if self.dt == 0.25 else out  # a step that blows up

    monkeypatch.setattr(chmod.SemiImplicitStepper, "step", fragile)
    dt, errors = matched_time_step(phi0, truth, target=1.0, candidates=[0.25, 0.05])
    assert dt == 0.05 and errors[0.25] == math.inf and math.isfinite(errors[0.05])


def test_semi_implicit_sequences_track_the_explicit_ones(tmp_path, monkeypatch):
    """Data sets made with the semi-implicit solver (small dt) stay close to the explicit ones."""
    from dataclasses import replace

    from physdl.crnn.data import generate

    explicit = SequenceConfig(grid=16, dims=2, sequences=2, frames=4, max_start=0, batch=2)
    semi = replace(explicit, method="semi-implicit", dt=0.025)
    a, b = generate(explicit)["phi"], generate(semi)["phi"]
    assert a.shape == b.shape == (2, 4, 1, 16, 16)
    change = (a[:, -1] - a[:, 0]).abs().max()
    assert change > 1e-2 and (a - b).abs().max() < 0.1 * change
    late = generate(replace(semi, burn_in=3.0))["phi"]  # burn-in semi-implicit throughout
    assert torch.isfinite(late).all() and not torch.allclose(late[:, 0], b[:, 0], atol=1e-2)
    assert torch.allclose(late.mean(dim=(2, 3, 4)), b[:, :1].mean(dim=(2, 3, 4)).expand(-1, 4), atol=1e-5)
    with pytest.raises(ValueError, match="method must be one of"):
        SequenceConfig(method="implicit")
    with pytest.raises(ValueError, match=r"dt must be a finite number in \(0, 0.5\]"):
        SequenceConfig(dt=0.0)



def test_crnn_training_resumes_bit_identically(tmp_path, monkeypatch):
    """Stopped at step 3 and resumed, training ends with the weights of an uninterrupted run
    (windows, augmentation and input noise are functions of the step)."""
    from dataclasses import replace

    from physdl.crnn import training
    from physdl.crnn.model import CRNNArchitecture
    from physdl.crnn.training import train

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path / "cache"))
    data = SequenceConfig(grid=8, dims=2, sequences=3, frames=5, max_start=1, tau=0.05, batch=2)
    cfg = TrainingConfig(data=(data,), validation=(replace(data, seed=1),), arch=CRNNArchitecture(hidden_channels=2, dims=2),
                         window=3, steps=6, validate_every=2, batch=2, augment=True, input_noise=0.01)
    whole = train(cfg, progress=False)
    ckpt = tmp_path / "run.ckpt"
    real = training.teacher_frames

    def interrupted(step, config):
        if step == 3:
            raise KeyboardInterrupt
        return real(step, config)

    monkeypatch.setattr(training, "teacher_frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, checkpoint=ckpt, checkpoint_every=1, progress=False)
    monkeypatch.setattr(training, "teacher_frames", real)
    torch.manual_seed(1234)  # another process, another global state
    resumed = train(cfg, checkpoint=ckpt, checkpoint_every=1, progress=False)
    assert resumed.history.start_step == 3
    for name, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name


def test_ellipsoid_state_has_its_volume_and_no_mirror_plane_when_off_centre() -> None:
    from physdl.nn.symmetric import apply_symmetry, grid_symmetries
    from physdl.pde import cahn_hilliard as ch

    phi = ch.ellipsoid_state((32, 32, 32), (8.0, 5.0, 4.0), centre=(12.3, 17.9, 14.4), dtype=torch.float64)
    volume = float((phi > 0.5).sum())
    assert abs(volume / (4 / 3 * math.pi * 8 * 5 * 4) - 1) < 0.03
    centred = ch.ellipsoid_state((32, 32, 32), (6.0, 6.0, 6.0), dtype=torch.float64)
    torch.testing.assert_close(centred, ch.sphere_state((32, 32, 32), 6.0, dtype=torch.float64), rtol=0, atol=1e-9)
    for sym in grid_symmetries(3)[1:]:
        assert (apply_symmetry(phi, sym) - phi).abs().max() > 0.1
    # periodic: a ball across the box edge is whole
    edge = ch.ellipsoid_state((16, 16), (3.0, 3.0), centre=(0.0, 0.0), dtype=torch.float64)
    inside = ch.ellipsoid_state((16, 16), (3.0, 3.0), centre=(8.0, 8.0), dtype=torch.float64)
    torch.testing.assert_close(edge, inside.roll((8, 8), dims=(2, 3)), rtol=0, atol=1e-12)


def test_slab_state_is_steady_under_the_solver_and_wraps_periodically() -> None:
    from physdl.pde import cahn_hilliard as ch

    slab = ch.slab_state((24, 8), 10.0, axis=0, dtype=torch.float64)
    assert abs(float(slab.mean()) - 10 / 24) < 0.01
    later = ch.reference(slab, 3, tau=0.5)[:, -1]
    assert (later - slab).abs().max() < 0.1  # the discrete profile relaxes a little; the slab stays
    assert float((later - later[..., :1]).abs().max()) < 1e-9  # still flat across the other axis
    shifted = ch.slab_state((24, 8), 10.0, axis=0, centre=(23 / 2) + 12, dtype=torch.float64)
    torch.testing.assert_close(shifted, slab.roll(12, dims=2), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="width"):
        ch.slab_state((24, 8), 30.0, axis=0)


def test_random_shapes_cover_the_fraction_range_and_leave_default_data_unchanged() -> None:
    from physdl.crnn.data import SequenceConfig, cache_key, initial_states, random_shape_state

    g = torch.Generator().manual_seed(0)
    fractions = [float(random_shape_state((16, 16, 16), (0.05, 0.95), g).mean()) for _ in range(12)]
    assert min(fractions) < 0.35 and max(fractions) > 0.65 and all(0.02 < f < 0.98 for f in fractions)
    plain = SequenceConfig(grid=8, dims=2)
    assert "shapes" not in cache_key(plain) and cache_key(SequenceConfig(grid=8, dims=2, shapes=0.5))["shapes"] == 0.5
    a = initial_states(plain, 4, torch.Generator().manual_seed(1))
    mixed = initial_states(SequenceConfig(grid=8, dims=2, shapes=1.0, mean_range=(0.05, 0.95)), 4,
                           torch.Generator().manual_seed(1))
    assert a.shape == mixed.shape == (4, 1, 8, 8) and not torch.equal(a, mixed)
    with pytest.raises(ValueError, match="shapes"):
        SequenceConfig(shapes=1.5)
    with pytest.raises(ValueError, match="fraction_range"):
        random_shape_state((8, 8), (0.0, 0.5), g)


# -- what a single domain must keep over a long rollout (physdl.crnn.evaluation)

def test_centre_of_mass_finds_an_off_centre_ellipsoid_across_the_periodic_wrap():
    from physdl.crnn.evaluation import centre_of_mass, periodic_distance
    from physdl.pde import cahn_hilliard as ch

    for centre in ((9.3, 14.6, 20.2), (0.4, 31.7, 16.0)):  # the second one straddles two faces
        phi = ch.ellipsoid_state((32, 32, 32), (6.0, 4.0, 5.0), centre, dtype=torch.float64)
        found = centre_of_mass(phi[:, None])[0, 0]
        assert float(periodic_distance(found, torch.tensor(centre, dtype=torch.float64), (32, 32, 32))) < 0.05
        # the same domain as the matrix phase (phi -> 1 - phi: now phi < 1/2 is the minority)
        flipped = centre_of_mass((1 - phi)[:, None])[0, 0]
        assert float(periodic_distance(flipped, found, (32, 32, 32))) < 1e-9
    with pytest.raises(ValueError, match="one positive length per axis"):
        periodic_distance(torch.zeros(3), torch.zeros(3), (32, 32))


def test_minority_fraction_is_the_volume_of_a_ball_and_keeps_its_phase():
    from physdl.crnn.evaluation import minority_fraction
    from physdl.pde import cahn_hilliard as ch

    ball = ch.sphere_state((32, 32, 32), 8.0, dtype=torch.float64)
    expected = 4 / 3 * math.pi * 8.0**3 / 32**3
    for phi in (ball, 1 - ball):
        assert abs(float(minority_fraction(phi[:, None])[0, 0]) - expected) < 0.02 * expected
    # a ball that dissolves: its fraction falls to 0 (the phase does not switch to the matrix)
    gone = minority_fraction(torch.stack([ball, torch.zeros_like(ball)], dim=1))[0]
    assert float(gone[0]) == pytest.approx(expected, rel=0.02) and float(gone[1]) == 0.0
    with pytest.raises(ValueError, match="expected a sequence"):
        minority_fraction(ball)


def test_energy_rises_are_none_along_the_solver_and_seen_where_the_energy_rose():
    from physdl.crnn.evaluation import energy_rises
    from physdl.pde import cahn_hilliard as ch

    phi0 = ch.perlin_state((32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    energy = ch.free_energy(ch.reference(phi0, 6, tau=0.5))
    assert float(energy_rises(energy).max()) <= 0.0
    assert float(energy_rises(energy.flip(1)).min()) >= 0.0 and float(energy_rises(energy.flip(1)).max()) > 0
    with pytest.raises(ValueError, match="at least two frames"):
        energy_rises(energy[:, :1])


def test_the_equivariant_recipe_covers_all_compositions_and_shapes_and_trains(tmp_path, monkeypatch):
    from physdl.crnn import training

    config = training.equivariant_config()
    assert config.arch.potential and config.arch.symmetric and config.arch.conservative
    assert all(d.mean_range == (0.05, 0.95) for d in (*config.data, *config.validation))
    assert [d.shapes for d in config.data].count(1.0) == 1 and [d.shapes for d in config.validation].count(1.0) == 1
    base = training.TrainingConfig()
    assert len(config.data) == len(base.data) + 1 and config.steps == base.steps
    assert [d.burn_in for d in config.data[:-1]] == [d.burn_in for d in base.data]  # same sets, broader means
    with pytest.raises(TypeError, match="base must be a TrainingConfig"):
        training.equivariant_config("default")
    # the command trains it at the quick size, and the weights load as the symmetric model
    monkeypatch.setenv("PHYSDL_PROFILE", "quick")
    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PHYSDL_PROGRESS", "0")
    compiled = []  # --compile-solver reaches the explicit solver of the data generation
    monkeypatch.setattr(torch, "compile", lambda fn, **options: compiled.append(fn.__name__) or fn)
    training.main(["--equivariant", "--compile-solver", "--out", str(tmp_path / "eq.pt"), "--steps", "4"])
    assert "_explicit_update" in compiled
    net, _ = training.load_weights(tmp_path / "eq.pt")
    assert type(net).__name__ == "PotentialCRNN" and net.arch.symmetric
    with pytest.raises(SystemExit):
        training.main(["--equivariant", "--non-conservative", "--out", str(tmp_path / "x.pt")])


def test_long_horizon_runs_network_and_solver_side_by_side_and_scores_them():
    from physdl.crnn import build
    from physdl.crnn.evaluation import centre_of_mass, long_horizon
    from physdl.crnn.model import CRNNArchitecture
    from physdl.pde import cahn_hilliard as ch

    torch.manual_seed(0)
    net = build(CRNNArchitecture(hidden_channels=4, layers=1, potential=True, symmetric=True))
    states = torch.cat([ch.ellipsoid_state((16, 16, 16), (5.0, 4.0, 3.5), (7.3, 8.6, 6.1)),
                        ch.slab_state((16, 16, 16), 6.0, axis=1, centre=7.0)])
    run = long_horizon(net, states, 12, save_every=5)
    assert run.steps.tolist() == [0, 5, 10, 12] and run.dx == 2.0
    assert run.network.shape == run.solver.shape == (2, 4, 1, 8, 8, 8)
    torch.testing.assert_close(run.network[:, 0], run.solver[:, 0])  # one start, downsampled
    scores = run.scores(start=5)
    assert set(scores) == {"energy_rise", "energy_error", "centre_error", "fraction_error", "mean_drift"}
    assert all(v.shape == (2,) and bool(torch.isfinite(v).all()) for v in scores.values())
    assert float(scores["mean_drift"].max()) < 1e-5  # conservative by construction, even untrained
    # the slab has a centre only along its normal (axis 1); the other axes read 0
    centre = centre_of_mass(run.solver[1:, :1])[0, 0]
    assert float(centre[0]) == 0.0 and float(centre[2]) == 0.0 and abs(float(centre[1]) - 3.5) < 0.05
    with pytest.raises(ValueError, match="fewer than two saved frames"):
        run.scores(start=11)
    # a second network beside the same solver frames
    other = long_horizon(build(CRNNArchitecture(hidden_channels=4, layers=1)), states, 12, save_every=5, solver=run)
    assert other.solver is run.solver and not torch.equal(other.network, run.network)
    with pytest.raises(ValueError, match="same start, steps"):
        long_horizon(net, states, 10, save_every=5, solver=run)
    with pytest.raises(ValueError, match="same start, steps"):
        long_horizon(net, states.flip(0), 12, save_every=5, solver=run)  # another start, same sizes


def test_equivariance_error_is_rounding_for_the_symmetric_model_and_not_for_a_plain_one():
    from physdl.crnn import build
    from physdl.crnn.evaluation import equivariance_error
    from physdl.crnn.model import CRNNArchitecture
    from physdl.pde import cahn_hilliard as ch

    torch.manual_seed(0)
    state = ch.ellipsoid_state((8, 8, 8), (3.0, 2.5, 2.0), (3.3, 4.6, 3.1), dtype=torch.float64)
    symmetric = build(CRNNArchitecture(hidden_channels=4, layers=1, potential=True, symmetric=True))
    plain = build(CRNNArchitecture(hidden_channels=4, layers=1))
    assert equivariance_error(symmetric, state, steps=3) < 1e-12
    assert equivariance_error(plain, state, steps=3) > 1e-6
    assert next(symmetric.parameters()).dtype == torch.float32  # the model itself is left as it is
    with pytest.raises(ValueError, match="one state"):
        equivariance_error(symmetric, state.expand(2, -1, -1, -1, -1))
