"""Regression tests of the silent failures and obscure errors found by probing physdl with bad
input (the fuzzing suite, tests/test_fuzz.py, covers the public API systematically)."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from physdl.ops.grid import Grid
from physdl.pde import advection, burgers, flow, heat, voids

# -- time steps and coefficients --------------------------------------------------------------


@pytest.mark.parametrize("dt", [-0.1, 0.0, math.nan, math.inf])
def test_heat_stability_rejects_bad_steps(dt):
    with pytest.raises(ValueError, match="dt must be a positive finite number"):
        heat.check_stability(-1.0, dt, 0.5)


def test_heat_stability_rejects_nan_alpha():
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        heat.check_stability(math.nan, 0.1, 0.5)


def test_heat_video_config_rejects_a_negative_step():
    from physdl.safe.data import HeatVideoConfig

    with pytest.raises(ValueError, match="dt"):
        HeatVideoConfig(dt=-0.005)


def test_void_parameters_reject_infinite_and_nan_values():
    with pytest.raises(ValueError, match="kT must be positive and finite"):
        voids.VoidParameters(kT=math.inf)
    with pytest.raises(ValueError, match="L must be positive and finite"):
        voids.VoidParameters(L=torch.tensor([1.0, math.nan]))
    with pytest.raises(ValueError, match="dt must be a positive finite number"):
        voids.VoidStepper(Grid((8, 8), 1.0), math.nan)


@pytest.mark.parametrize("walls_dt", [2.0, 10.0, 1e3])
def test_burgers_walls_keep_the_maximum_principle_at_any_step(walls_dt):
    """A departure point more than n - 2 cells away used to extrapolate: max|u| 20 -> 543."""
    grid = burgers.domain(32)
    x = grid.coordinates()[0]
    u = (20 * torch.sin(math.pi * (x + 1) / 2))[None, None]
    u[..., 0] = u[..., -1] = 0
    out = burgers.SelfAdvection(grid, walls_dt).step(u)
    assert float(out.abs().max()) <= 20 + 1e-9
    assert out[..., 0].abs().max() == 0 and out[..., -1].abs().max() == 0


def test_semi_lagrangian_constant_walls_take_the_wall_value_far_away():
    from physdl.ops.transport import semi_lagrangian

    q = torch.rand(1, 1, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for speed in (17.0, -40.0):
        out = semi_lagrangian(q, torch.full_like(q, speed), 1.0, 1.0, 0, "dirichlet", walls="constant")
        assert torch.equal(out, torch.zeros_like(out))  # every departure point lies beyond a wall


def test_nan_velocity_fails_the_cfl_check():
    v = torch.zeros(2, 8, 8)
    v[0, 2, 2] = math.nan
    for stepper in (advection.Advection, advection.SemiLagrangianAdvection):
        with pytest.raises(ValueError, match="velocity field contains NaN"):
            stepper(Grid((8, 8), 1.0), 0.1, v)


def test_stokes_rejects_nan_force_and_explains_float32():
    n = 16
    mask = torch.zeros(1, 1, n, n, dtype=torch.float64)
    mask[..., 4:8, 4:8] = 1
    force = torch.zeros(1, 2, n, n, dtype=torch.float64)
    force[0, 0, 3, 3] = math.nan
    with pytest.raises(ValueError, match="force contains NaN"):
        flow.solve_stokes(force, mask, 1 / n)
    force = torch.ones(1, 2, n, n, dtype=torch.float32)
    with pytest.raises(ValueError, match=r"tol = 1e-08 is below what torch.float32 can resolve"):
        flow.solve_stokes(force, mask.float(), 1 / n)
    sol = flow.solve_stokes(force, mask.float(), 1 / n, tol=1e-5)  # what float32 can do, it does
    assert torch.isfinite(sol.velocity).all() and sol.residual <= 1e-5
    with pytest.raises(TypeError, match="force must be a float32 or float64"):
        flow.solve_stokes(force.long(), mask, 1 / n)


# -- spacings given in every form a user might pass ------------------------------------------


@pytest.mark.parametrize("dx", [torch.tensor(0.5), np.float64(0.5), np.float32(0.5), 0.5])
def test_spacing_as_0d_tensor_or_numpy_scalar(dx):
    from physdl import ops

    u = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    reference = ops.laplacian(u, 0.5)
    torch.testing.assert_close(ops.laplacian(u, dx), reference)
    assert heat.max_eigenvalue(dx) == pytest.approx(32.0)


def test_networks_name_a_dtype_mismatch():
    from physdl import nn

    for net, x in ((nn.UNet(3, 3, base=4, levels=2), torch.rand(1, 3, 8, 8, dtype=torch.float64)),
                   (nn.FieldMLP(3, 3, (8, 8), hidden=(4,)), torch.rand(1, 3, 8, 8, dtype=torch.float64)),
                   (nn.MLP(2, 1, (4,)), torch.rand(5, 2, dtype=torch.float64))):
        with pytest.raises(TypeError, match="input is torch.float64 but the network's weights are torch.float32"):
            net(x)


# -- command lines: every argument checked before any work, no silent overwrite --------------


def _usage_error(main, argv, capsys) -> str:
    start = time.perf_counter()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert time.perf_counter() - start < 5, "the error came after expensive work"
    return capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--steps", "0"], "--steps: expected a positive integer, got 0"),
    (["--lr", "0"], "--lr: expected a positive finite number, got 0"),
    (["--lr", "-1"], "--lr: expected a positive finite number, got -1"),
    (["--init", "missing.pt"], "--init: missing.pt is not an existing file"),
    (["--threads", "0"], "--threads: expected a positive integer"),
])
def test_crnn_training_command_checks_arguments_first(tmp_path, capsys, argv, message):
    from physdl.crnn.training import main

    err = _usage_error(main, ["--out", str(tmp_path / "w.pt"), *argv], capsys)
    assert message in err


def test_crnn_training_command_never_overwrites_without_force(tmp_path, capsys):
    from physdl.crnn.training import main

    assert "is a folder" in _usage_error(main, ["--out", str(tmp_path)], capsys)
    out = tmp_path / "w.pt"
    out.write_bytes(b"earlier weights")
    assert "pass --force" in _usage_error(main, ["--out", str(out)], capsys)
    assert out.read_bytes() == b"earlier weights"
    (tmp_path / "bad.pt").write_bytes(b"not weights")
    err = _usage_error(main, ["--out", str(tmp_path / "new.pt"), "--init", str(tmp_path / "bad.pt")], capsys)
    assert "is not a CRNN weights file" in err


@pytest.mark.parametrize("argv", [["--grid", "0"], ["--frames", "0"], ["--dims", "4"], ["--dt", "nan"],
                                  ["--dt", "0.3"]])
def test_crnn_data_command_checks_arguments_first(tmp_path, monkeypatch, capsys, argv):
    from physdl.crnn.data import main

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    _usage_error(main, argv, capsys)
    assert list(tmp_path.iterdir()) == []  # nothing cached


def test_sequence_config_rejects_empty_data_sets():
    from physdl.crnn.data import SequenceConfig

    for bad in ({"grid": 0}, {"sequences": 0}, {"frames": 1}, {"batch": 0}, {"dims": 1}, {"cells": ()}):
        with pytest.raises(ValueError):
            SequenceConfig(**bad)


def test_chapter_benchmark_rejects_unknown_chapters(monkeypatch, capsys):
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    import chapters

    monkeypatch.setattr(sys, "argv", ["chapters.py", "--only", "99"])
    with pytest.raises(SystemExit) as exit_info:
        chapters.main()
    assert exit_info.value.code == 2
    assert "no chapter numbered ['99']" in capsys.readouterr().err


# -- found by the fuzzing suite ---------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda g, v: advection.Advection(g, 0.1, v),
    lambda g, v: advection.SemiLagrangianAdvection(g, 0.1, v),
    lambda g, v: burgers.ViscousDiffusion(g, 0.1, v[0, :1].abs() * 0.01 + 0.001),
])
def test_a_float64_coefficient_keeps_a_float32_state_in_float32(make):
    grid = burgers.domain(8, "periodic")
    stepper = make(grid, torch.rand(1, 8, dtype=torch.float64))
    u = torch.rand(2, 1, 8)
    assert stepper(u).dtype == torch.float32


def test_semi_lagrangian_advection_refuses_a_short_dirichlet_axis_when_made():
    grid = Grid(3, 1.0, "dirichlet")
    with pytest.raises(ValueError, match="grid: .* at least 4 nodes"):
        advection.SemiLagrangianAdvection(grid, 0.1, torch.zeros(3))


def test_a_per_sample_coefficient_must_match_the_batch():
    stepper = heat.HeatEuler(Grid((6, 6)), 0.01, torch.tensor([-0.1, -0.2]))
    stepper(torch.rand(2, 1, 6, 6))
    with pytest.raises(ValueError, match="alpha"):
        stepper(torch.rand(3, 1, 6, 6))


def test_perlin_noise_refuses_a_single_point_instead_of_returning_nan():
    from physdl.pde import cahn_hilliard as ch

    with pytest.raises(ValueError, match="shape must hold at least 2 points"):
        ch.perlin_noise((1, 1), 1)


def test_perlin_noise_refuses_a_fractional_size_instead_of_truncating_it():
    from physdl.pde import cahn_hilliard as ch

    with pytest.raises(TypeError, match="shape must be an integer"):
        ch.perlin_noise((4.5, 4), 2)


def test_cahn_hilliard_parameters_take_numpy_scalars_and_0d_tensors():
    from physdl.pde import cahn_hilliard as ch

    model = ch.CahnHilliard(np.float32(3.0), torch.tensor(1.0), np.int64(1))
    assert (model.epsilon, model.mobility, model.dx) == (3.0, 1.0, 1.0)
    assert all(type(x) is float for x in (model.epsilon, model.mobility, model.dx))


def test_cahn_hilliard_reference_refuses_a_frame_interval_that_is_no_whole_number_of_steps():
    from physdl.pde import cahn_hilliard as ch

    with pytest.raises(ValueError, match="tau = 0.0013 is not a whole number of steps"):
        ch.reference(torch.rand(1, 1, 4, 4), 2, tau=0.0013, dt=0.00125)


def test_void_parameters_per_sample_must_match_the_batch():
    p = voids.VoidParameters(kT=torch.tensor([3.0, 4.0, 5.0]))
    state = torch.rand(1, 3, 6, 6) * 0.3
    with pytest.raises(ValueError, match="parameter kT holds 3 values, one per sample, but state has a batch of 1"):
        voids.rates(state, p, 1.0)
    assert voids.rates(state.expand(3, -1, -1, -1), p, 1.0).shape == (3, 3, 6, 6)
    stepper = voids.VoidStepper(Grid((6, 6)), 1e-3, p)
    with pytest.raises(ValueError, match="kT"):
        stepper(state)


def test_void_centroid_of_a_frame_without_a_void_is_an_error_not_the_origin():
    with pytest.raises(ValueError, match="no void to locate"):
        voids.void_centroid(torch.zeros(6, 6))


@pytest.mark.parametrize("call, error, message", [
    (lambda: voids.free_energy("x", voids.VoidParameters(), 1.0), TypeError, "state must be a torch.Tensor"),
    (lambda: voids.rates(torch.rand(1, 3, 4, 4), {"kT": 5.0}, 1.0), TypeError, "p must be a VoidParameters"),
    (lambda: voids.Irradiation(noise=math.nan), ValueError, "noise must be a finite number"),
], ids=["state", "parameters", "irradiation"])
def test_the_void_model_names_its_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- networks --------------------------------------------------------------------------------


def test_convolution_refuses_a_bool_for_dims():
    from physdl import nn as pnn

    with pytest.raises(TypeError, match="dims must be an integer"):
        pnn.convolution(True)  # True == 1 picked Conv1d


def test_conv_gru_names_an_input_with_another_channel_count():
    from physdl import nn as pnn

    cell = pnn.ConvGRUCell(2, 3, dims=2)
    with pytest.raises(ValueError, match=r"expected input \(batch, 2, 2 spatial axes\)"):
        cell(torch.rand(1, 3, 4, 4))  # was torch's convolution error
    with pytest.raises(ValueError, match="h must be"):
        cell(torch.rand(1, 2, 4, 4), torch.rand(1, 4, 4, 4))


def test_positive_parameters_refuse_a_string_for_learn():
    from physdl import nn as pnn

    with pytest.raises(TypeError, match=r"learn must be a collection of names, not the string 'nu'"):
        pnn.PositiveParameters({"nu": 0.1}, learn="nu")  # was "cannot learn ['n', 'u']"


def test_networks_refuse_nan_and_empty_inputs():
    from physdl import nn as pnn

    net = pnn.MLP(2, 1, [4])
    with pytest.raises(ValueError, match="input contains NaN"):
        net(torch.full((3, 2), math.nan))
    with pytest.raises(ValueError, match="input must have a non-empty batch axis"):
        net(torch.zeros(0, 2))
    assert pnn.batched(net, torch.rand(5, 2), np.int64(2)).shape == (5, 1)  # NumPy integers are integers


# -- services --------------------------------------------------------------------------------


def test_a_data_set_config_with_nan_is_refused_not_keyed(tmp_path):
    from physdl import data

    with pytest.raises(ValueError, match="NaN or infinite"):
        data.config_key("flows", {"nu": math.nan})
    with pytest.raises(TypeError, match="data set name must be a string"):
        data.cache_path(3, {}, tmp_path)  # was "'int' object is not iterable"
    with pytest.raises(TypeError, match="generate must be a function"):
        data.cached("flows", {}, None, tmp_path)


def test_fit_names_arguments_of_the_wrong_kind_before_any_work():
    from physdl import train
    from physdl.nn import MLP

    model = MLP(1, 1, [2])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = lambda step: model(torch.zeros(1, 1)).sum()  # noqa: E731
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        train.fit(model, loss, "adam", 3, progress=False)
    with pytest.raises(TypeError, match="restore_best must be True or False"):
        train.fit(model, loss, opt, 3, restore_best="yes", progress=False)
    with pytest.raises(ValueError, match="min_delta must be non-negative"):
        train.fit(model, loss, opt, 3, min_delta=-1.0, progress=False)
    assert len(train.fit(model, loss, opt, np.int64(2), progress=False).loss) == 2  # NumPy integers count


def test_surrogate_split_keeps_a_sample_on_each_side():
    from physdl import surrogate

    data = {"inputs": torch.zeros(2, 3, 4, 4), "targets": torch.zeros(2, 3, 4, 4)}
    train, test = surrogate.split(data, 0.95)  # was an empty training set
    assert len(train["inputs"]) == 1 and len(test["inputs"]) == 1
    with pytest.raises(ValueError, match="at least 2 samples"):
        surrogate.split({k: v[:1] for k, v in data.items()}, 0.5)


def test_surrogate_validates_configs_and_tensors():
    from physdl import surrogate

    with pytest.raises(ValueError, match="test_fraction"):
        surrogate.SurrogateConfig(test_fraction=1.0)
    with pytest.raises(ValueError, match="mlp_hidden"):
        surrogate.SurrogateConfig(mlp_hidden=(8, 0))
    assert type(surrogate.SurrogateConfig(nu=np.float32(0.5)).nu) is float  # a plain cache key
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="true has a channel that is zero"):
        surrogate.channel_errors(x, x)  # was NaN
    with pytest.raises(ValueError, match="inputs contains NaN"):
        surrogate.symmetry(torch.full((1, 3, 4, 4), math.nan), x, 1)
    with pytest.raises(ValueError, match="scale must be a vector of positive"):
        surrogate.Scaled(torch.nn.Conv2d(3, 3, 1), -torch.ones(3))


def test_diffphys_names_bad_arguments_and_a_diverging_fit():
    from physdl import diffphys
    from physdl.train import NonFiniteLossError

    x, dx = burgers.grid(16)
    with pytest.raises(TypeError, match="count must be an integer"):
        diffphys.sine_family(2.0, x)
    with pytest.raises(ValueError, match="d0 contains NaN"):
        diffphys.fit_velocity(torch.full((8,), math.nan), torch.zeros(8), torch.zeros(8), 0.01, 0.1, 2, 1)
    with pytest.raises(ValueError, match="momentum"):
        diffphys.fit_velocity(torch.zeros(8), torch.zeros(8), torch.zeros(8), 0.01, 0.1, 2, 1, momentum=1.0)
    with pytest.raises(ValueError, match=r"u0 must be shaped \(batch, 1, 16\)"):
        diffphys.final_state(burgers.solver(burgers.domain(16), 0.01), torch.zeros(8), 2)
    with pytest.raises(TypeError, match="target is torch.float64"):
        diffphys.InitialStateNet(16)(torch.zeros(2, 16, dtype=torch.float64))
    # a step size far past convergence: the loss overflows and the fit says so (was a NaN result)
    target = -torch.sin(math.pi * x)
    with pytest.raises(NonFiniteLossError, match="lower lr"):
        diffphys.fit_initial_state(target, steps=2, updates=40, lr=1e30, dt=0.01, dx=dx)


def test_crnn_configs_fail_at_construction_not_in_generation():
    from physdl import crnn

    # grid 6 with 4 Perlin cells per axis was accepted and failed only inside generate()
    with pytest.raises(ValueError, match="cells must each divide grid = 6"):
        crnn.SequenceConfig(grid=6, cells=(2, 4))
    # a burn-in with tau below its step ran zero late steps per frame
    with pytest.raises(ValueError, match="burn_in needs tau >= 0.05"):
        crnn.SequenceConfig(tau=0.025, dt=0.0125, burn_in=10.0)
    assert type(crnn.SequenceConfig(grid=np.int64(16)).grid) is int  # NumPy integers count
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        crnn.CRNNArchitecture(kernel_size=2)
    net = crnn.build(crnn.CRNNArchitecture(hidden_channels=2, layers=1, dims=2))
    with pytest.raises(TypeError, match="phi0 is torch.float64"):
        net.rollout(torch.zeros(1, 1, 4, 4, dtype=torch.float64), 2)
    with pytest.raises(ValueError, match="input_noise"):
        net(torch.zeros(1, 3, 1, 4, 4), input_noise=-0.1)
    with pytest.raises(ValueError, match="device='xla'"):
        crnn.generate(crnn.SequenceConfig(grid=4, dims=2, sequences=1, frames=2, cells=(1,)), device="xla")


def test_pinn_refuses_silent_broadcasts_and_mismatched_equations():
    from physdl import pinn as P
    from physdl.nn import MLP

    p = torch.rand(3, 2, dtype=torch.float64, requires_grad=True)
    d = P.Derivatives(p.sum(1, keepdim=True), p)
    with pytest.raises(ValueError, match="nu of shape"):
        P.burgers(d, torch.ones(2, dtype=torch.float64))  # broadcast (3, 1) to (3, 2) before
    model = P.PINN(MLP(2, 1, [4]), {"nu": 0.1})
    with pytest.raises(TypeError, match="does not take the model's coefficients"):
        P.residual(model, torch.rand(4, 2), P.heat)  # "unexpected keyword argument 'nu'" before
    with pytest.raises(TypeError, match=r"learn must be a sequence"):
        P.PINN(MLP(2, 1, [4]), {"nu": 0.1}, learn="nu")
    with pytest.raises(ValueError, match="points contains NaN"):
        P.FixedPoints(torch.full((2, 2), math.nan))
    assert P.Domain(x=(np.float32(-1), 1)).x == (-1.0, 1.0)


def test_safe_names_empty_splits_bool_signs_and_bad_indices(tmp_path, monkeypatch):
    from physdl import safe
    from physdl.safe.data import SimulationIndexError

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    cfg = safe.HeatVideoConfig(n=8, steps=4, save_every=2, grains=(2, 3), runs=1, train_fraction=1.0)
    with pytest.raises(ValueError, match="which='test' holds no simulation"):
        safe.heat_videos(cfg, "test")  # torch.stack of nothing (a RuntimeError) before
    with pytest.raises(SimulationIndexError, match="index: simulation 2"):
        safe.simulation(cfg, 2)
    with pytest.raises(ValueError):  # also a ValueError, like every bad argument
        safe.simulation(cfg, 2)
    videos = safe.heat_videos(cfg)
    model = safe.build_model(videos.dt_save, videos.dx, safe.SafeConfig(channels=2, d_model=4, heads=2, pool=2))
    with pytest.raises(TypeError, match="sign must be an integer, got bool"):
        safe.fit_estimator(model, videos.frames[0], True, 1, 1e-3, safe.SafeConfig())  # True counted as +1 before
    with pytest.raises(ValueError, match="alpha must be a number or hold one value per sample"):
        model.operator(videos.frames[:1, 0], torch.zeros(1, 2))  # a raw reshape error before
    with pytest.raises(ValueError, match="d_model"):
        safe.SafeConfig(d_model=6, heads=4)  # failed only when the model was built


def test_neuradiff_names_empty_annotations_out_of_range_frames_and_repeated_names(tmp_path, monkeypatch):
    import dataclasses

    import physdl.neuradiff as nd

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    scenario = nd.VoidScenario(n=8, centers=((4.0, 4.0),), radii=(2.5,), frames=4, steps_per_frame=2)
    video = nd.synthesise(scenario, progress=False)
    labels = nd.annotate(video.eta, 0.5, 0.5, torch.Generator().manual_seed(0))
    cfg = nd.NeuraDiffConfig(embedding=2, base=4, levels=2, pretrain_steps=1, steps=1, batch_size=2, gap=2,
                             baseline_steps=1)
    with pytest.raises(ValueError, match="always must be between 0 and 3"):
        nd.annotate(video.eta, 0.25, 0.5, always=(99,))  # silently ignored before
    with pytest.raises(ValueError, match="labels holds no annotated pixel"):
        nd.train(video, torch.full_like(labels, nd.UNKNOWN), cfg, progress=False, device="cpu")  # raw randint error before
    with pytest.raises(ValueError, match="cfg.gap = 4 leaves no frame pair"):
        nd.train(video, labels, dataclasses.replace(cfg, gap=4), progress=False, device="cpu")  # the same raw error
    with pytest.raises(ValueError, match="names must be two different names"):
        nd.parameter_landscape(video.states[0], video.eta, scenario.parameters, ("L", "L"), torch.tensor([0.5, 1.0]),
                               2, 0.02)  # scanned L along one axis only, silently, before
    with pytest.raises(ValueError, match="frame: spatial sizes \\(4, 4\\) leave one value per normalisation group"):
        nd.TrackingUNet(2, 3)(torch.rand(1, 1, 4, 4))  # torch's "Expected more than 1 value per channel" before
    with pytest.raises(ValueError, match="batch must be at least 1"):
        nd.recognise(nd.RecognitionNet(4, 2, 4, 2), video.frames, batch=0)  # named batch_size before
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        nd.masked_mse(torch.rand(2, 4, 4), torch.full((2, 4, 4), 0.5))  # a float map was averaged before
    with pytest.raises(TypeError, match="index must be an integer tensor"):
        nd.RecognitionNet(4, 2, 4, 2)(video.frames[:2], torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="t must lie in \\[0, 2\\)"):
        nd.triage_loss(nd.RecognitionNet(4, 2, 4, 2), nd.NeuralPhaseField(0.02), video.frames, labels,
                       torch.tensor([3]), 2, 2, cfg)  # a raw IndexError before
    with pytest.raises(ValueError, match="radii must hold one radius per centre"):
        nd.VoidScenario(radii=(1.0, 2.0))  # accepted until the first simulation before
    with pytest.raises(ValueError, match="lr_net must be a finite number"):
        nd.NeuraDiffConfig(lr_net=math.nan)
    with pytest.raises(TypeError, match="overwrite must be True or False"):
        nd.save_video(video.frames, tmp_path / "v.tif", overwrite="no")  # accepted before (a non-empty string is true)
    assert nd.VoidScenario(centers=[(np.int64(4), np.float32(3.5))], radii=[2]).centers == ((4.0, 3.5),)
