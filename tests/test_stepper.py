"""The solver interface: Grid, the Stepper base, composed steppers and rollout."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import physdl
from physdl import ops
from physdl.pde import burgers, heat
from physdl.pde import cahn_hilliard as ch
from physdl.pde.advection import Advection, SemiLagrangianAdvection
from physdl.pde.stepper import Split, Stepper, Substepped, Switched, rollout, saved_steps

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ Grid
def test_grid_accepts_floats_numpy_scalars_and_0d_tensors():
    for dx in (0.5, np.float32(0.5), np.float64(0.5), torch.tensor(0.5), torch.tensor(0.5, dtype=torch.float64)):
        g = ops.Grid((4, 4), dx)
        assert g.spacing == (0.5, 0.5) and all(type(h) is float for h in g.spacing)
    assert ops.Grid(8).shape == (8,) and ops.Grid(8).periodic
    assert ops.Grid((4, 6), (0.5, 0.25)).spacing == (0.5, 0.25)


@pytest.mark.parametrize("bad, error", [
    (dict(shape=(0, 4)), ValueError), (dict(shape=(4, 4, 4, 4)), ValueError), (dict(shape=(4,), spacing=-1.0), ValueError),
    (dict(shape=(4,), spacing=float("nan")), ValueError), (dict(shape=(4,), spacing=float("inf")), ValueError),
    (dict(shape=(4,), spacing="1"), TypeError), (dict(shape=(4,), spacing=torch.ones(2)), ValueError),
    (dict(shape=(4, 4), spacing=(1.0,)), ValueError), (dict(shape=(4,), boundary="open"), ValueError),
    (dict(shape=(4, 4), boundary=("periodic",)), ValueError),
])
def test_grid_rejects_bad_input_with_a_clear_error(bad, error):
    with pytest.raises(error):
        ops.Grid(**bad)


def test_grid_coordinates_nodes_and_cells():
    g = burgers.domain(128, "periodic")
    (x,) = g.coordinates("node")
    (xc,) = g.coordinates("cell")
    assert float(x[0]) == -1 and math.isclose(float(x[1] - x[0]), 2 / 128)
    assert math.isclose(float(xc[0]), -1 + 1 / 128) and math.isclose(float(xc[-1]), 1 - 1 / 128)
    d = burgers.domain(128, "dirichlet")
    assert math.isclose(float(d.coordinates()[0][-1]), 1.0) and isinstance(d.bc, ops.Dirichlet)
    with pytest.raises(ValueError):
        ops.Grid(4).coordinates("edge")


def test_one_definition_of_boundaries():
    from physdl.ops import stencils
    from physdl.pde import advection

    assert stencils.BOUNDARIES is ops.BOUNDARIES is advection.BOUNDARIES is burgers.BOUNDARIES
    u = torch.rand(2, 1, 8, dtype=torch.float64)
    torch.testing.assert_close(ops.laplacian(u, 0.5, ops.Dirichlet(0.3)), ops.laplacian(u, 0.5, "dirichlet", 0.3))


# ------------------------------------------------------------------------------------------ ops
def test_semi_lagrangian_is_upwind_below_courant_one_and_exact_for_whole_cells():
    g = ops.Grid(32, 1 / 32)
    d = torch.rand(2, 1, 32, dtype=torch.float64)
    v = torch.full((1, 1, 32), 0.4, dtype=torch.float64)
    dt = 0.5 / 32 / 0.4
    upwind = d - dt * v * ops.upwind_difference(d, v, g.dx, 0)
    torch.testing.assert_close(ops.semi_lagrangian(d, v, dt, g.dx), upwind)
    whole = ops.semi_lagrangian(d, v, 3 * g.dx / 0.4, g.dx)  # exactly three cells
    torch.testing.assert_close(whole, torch.roll(d, 3, dims=2))


def test_flux_divergence_sums_to_zero_and_is_the_laplacian_for_unit_mobility():
    mu = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    m = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    assert float(ops.flux_divergence(m, mu, 0.5).sum(dim=(-2, -1)).abs().max()) < 1e-12
    torch.testing.assert_close(ops.flux_divergence(torch.ones_like(mu), mu, 0.5), ops.laplacian(mu, 0.5))


def test_transport_operators_name_a_velocity_that_does_not_fit():
    d = torch.rand(2, 1, 8, dtype=torch.float64)
    for call in (lambda v: ops.upwind_difference(d, v, 0.1, 0),
                 lambda v: ops.semi_lagrangian(d, v, 0.01, 0.1),
                 lambda v: ops.flux_divergence(v, d, 0.1)):
        with pytest.raises(ValueError, match="does not broadcast"):
            call(torch.ones(2, 1, 7, dtype=torch.float64))


def test_allen_cahn_refuses_bad_coefficients_and_grids():
    from physdl.pde.allen_cahn import AllenCahn

    grid = ops.Grid((8, 8), 1.0)
    for bad in (dict(epsilon=-1.0), dict(epsilon=float("nan")), dict(mobility=0.0)):
        with pytest.raises(ValueError, match="epsilon|mobility"):
            AllenCahn(grid, 0.01, **bad)
    with pytest.raises(ValueError, match="periodic"):
        AllenCahn(ops.Grid((8, 8), 1.0, "dirichlet"), 0.01)


def test_periodic_distance_and_offset():
    a = torch.tensor([0.1, 0.9, 0.5], dtype=torch.float64)
    torch.testing.assert_close(ops.periodic_offset(a, 0.0, 1.0), torch.tensor([0.1, -0.1, -0.5], dtype=torch.float64))
    torch.testing.assert_close(ops.periodic_distance(a, 0.0, 1.0), torch.tensor([0.1, 0.1, 0.5], dtype=torch.float64))


# ------------------------------------------------------------------------------------ steppers
def test_stepper_is_made_once_and_callable():
    g = ops.Grid((16, 16), 1.0)
    stepper = heat.HeatEuler(g, 0.1, -0.5)
    u = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    torch.testing.assert_close(stepper(u), u + 0.1 * (-0.5) * -ops.laplacian(u, 1.0))
    assert stepper.stability_limit() == pytest.approx(2 / (0.5 * 8))
    with pytest.raises(ValueError, match="mobility"):
        heat.HeatEuler(g, 0.1, 0.5)
    with pytest.raises(ValueError, match="shaped"):
        rollout(stepper, torch.rand(2, 1, 8, 8), 1)


def test_per_sample_coefficients_equal_runs_alone():
    g = ops.Grid((8, 8), 1.0)
    u = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    alpha = torch.tensor([-0.1, -0.3, -0.5], dtype=torch.float64)
    for kind in (heat.HeatEuler, heat.HeatSpectral):
        together = rollout(kind(g, 0.2, alpha), u, 4)
        for i in range(3):
            torch.testing.assert_close(rollout(kind(g, 0.2, float(alpha[i])), u[i : i + 1], 4)[0], together[i])


def test_spectral_heat_is_the_limit_of_euler():
    g = ops.Grid((16, 16), 1.0)
    u = torch.rand(1, 1, 16, 16, dtype=torch.float64)
    exact = heat.HeatSpectral(g, 0.4, -0.5)(u)
    fine = rollout(heat.HeatEuler(g, 0.4 / 256, -0.5), u, 256)[:, -1]
    assert float((exact - fine).abs().max()) < 2e-3 * float((exact - u).abs().max())


def test_learnable_coefficients_are_checked_again_at_each_rollout():
    g = burgers.domain(32, "periodic")
    nu = torch.tensor(0.01, dtype=torch.float64, requires_grad=True)
    stepper = burgers.solver(g, 0.01, nu)
    assert stepper.recheck_time_step
    u = -torch.sin(math.pi * g.coordinates()[0])[None, None]
    rollout(stepper, u, 2)
    with torch.no_grad():
        nu.mul_(1000)  # an optimiser step that leaves the stable range
    with pytest.raises(ValueError, match="stability limit"):
        rollout(stepper, u, 2)


def test_split_substepped_and_switched_compose_steppers():
    g = burgers.domain(32, "periodic")
    u = -torch.sin(math.pi * g.coordinates()[0])[None, None].repeat(2, 1, 1)
    split = burgers.solver(g, 0.01)
    parts = split.parts
    torch.testing.assert_close(split(u), parts[1](parts[0](u)))
    sub = Substepped(split, 5)
    assert sub.dt == pytest.approx(0.05)
    torch.testing.assert_close(sub(u), rollout(split, u, 5)[:, -1])
    shape = (8, 8)
    explicit = Substepped(ch.ExplicitStepper(shape, 1e-3), 10)
    semi = Substepped(ch.SemiImplicitStepper(shape, 5e-3), 2)
    switched = Switched([(explicit, 2), (semi, None)])
    phi = ch.perlin_state(shape, 0.5, 2, 0.2, 1, torch.Generator().manual_seed(0), torch.float64)
    frames = rollout(switched, phi, 4)
    torch.testing.assert_close(frames[:, 2], explicit(explicit(phi)))
    torch.testing.assert_close(frames[:, 4], semi(semi(frames[:, 2])))
    # The count lives in the carry: a rollout continued from its carry switches at the same step.
    first, carry = rollout(switched, phi, 1, return_carry=True)
    rest = rollout(switched, first[:, -1], 3, carry=carry)
    torch.testing.assert_close(rest[:, -1], frames[:, -1])
    with pytest.raises(ValueError, match="share one dt"):
        Switched([(explicit, 1), (ch.SemiImplicitStepper(shape, 5e-3), None)])


# ------------------------------------------------------------------------------------- rollout
def _heat_setup():
    g = ops.Grid((8, 8), 1.0)
    return heat.HeatEuler(g, 0.1, -0.5), torch.rand(2, 1, 8, 8, dtype=torch.float64)


def test_rollout_layout_save_every_and_keep_last():
    stepper, u = _heat_setup()
    frames = rollout(stepper, u, 7, save_every=3, keep_last=True)
    assert frames.shape == (2, 4, 1, 8, 8) and saved_steps(7, 3, keep_last=True) == [0, 3, 6, 7]
    torch.testing.assert_close(frames[:, 1], rollout(stepper, u, 3)[:, 3])
    assert rollout(stepper, u, 7, save_every=3).shape[1] == 3
    assert rollout(stepper, u, 4, include_initial=False).shape[1] == 4
    assert physdl.rollout is rollout


@pytest.mark.parametrize("kwargs", [dict(steps=-1), dict(steps=1.5), dict(steps=2, save_every=0),
                                    dict(steps=2, checkpoint_every=0), dict(steps=2, check_every=0)])
def test_rollout_rejects_bad_arguments(kwargs):
    stepper, u = _heat_setup()
    with pytest.raises((ValueError, TypeError), match="steps|save_every|checkpoint_every|check_every"):
        rollout(stepper, u, **kwargs)


def test_rollout_rejects_a_non_finite_initial_state():
    stepper, u = _heat_setup()
    u[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="state contains NaN"):
        rollout(stepper, u, 2)


def test_rollout_reports_a_state_that_blows_up():
    stepper, u = _heat_setup()
    with torch.no_grad():
        blowing = Split(stepper, _Scale(stepper, 1e200))
        with pytest.raises(FloatingPointError, match="not finite"):
            rollout(blowing, u, 3)


def test_rollout_steps_run_trusted():
    """Ops inside a rollout skip their finiteness check; outside, the same call is checked."""
    from physdl.ops import laplacian
    from physdl.ops.checks import checking

    seen = []

    class Probe(_Scale):
        def step(self, state):
            seen.append(checking())
            return state

    stepper, u = _heat_setup()
    rollout(Probe(stepper, 1.0), u, 2)
    assert seen == [False, False] and checking()
    with pytest.raises(ValueError, match="u contains NaN"):
        laplacian(torch.full((1, 1, 4), float("nan")), 1.0)


def test_teacher_forcing_and_input_transform():
    stepper, u = _heat_setup()
    teacher = torch.rand(2, 3, 1, 8, 8, dtype=torch.float64)
    frames = rollout(stepper, u, 4, teacher=teacher)
    torch.testing.assert_close(frames[:, 3], stepper(teacher[:, 2]))
    torch.testing.assert_close(frames[:, 4], stepper(frames[:, 3]))
    doubled = rollout(stepper, u, 1, input_transform=lambda s: 2 * s)
    torch.testing.assert_close(doubled[:, 1], stepper(2 * u))


def test_activation_checkpointing_gives_the_same_gradient():
    g = burgers.domain(64, "periodic")
    stepper = burgers.solver(g, 0.01)
    u0 = (-torch.sin(math.pi * g.coordinates()[0]))[None, None].requires_grad_(True)
    plain = torch.autograd.grad(rollout(stepper, u0, 20)[:, -1].pow(2).sum(), u0)[0]
    checkpointed = torch.autograd.grad(rollout(stepper, u0, 20, checkpoint_every=6)[:, -1].pow(2).sum(), u0)[0]
    torch.testing.assert_close(plain, checkpointed, rtol=0, atol=0)
    frames = rollout(stepper, u0, 20, save_every=5, checkpoint_every=6)
    torch.testing.assert_close(frames, rollout(stepper, u0, 20, save_every=5), rtol=0, atol=0)


def test_rollout_traces_under_torch_compile():
    g = burgers.domain(32, "periodic")
    stepper = burgers.solver(g, 0.01)
    u0 = (-torch.sin(math.pi * g.coordinates()[0]))[None, None]
    compiled = torch.compile(lambda u: rollout(stepper, u, 4), backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(u0), rollout(stepper, u0, 4))


def test_advection_steppers():
    g = ops.Grid(32, 1 / 32)
    v = torch.full((32,), 0.5, dtype=torch.float64)
    d = torch.rand(1, 1, 32, dtype=torch.float64)
    with pytest.raises(ValueError, match="CFL"):
        Advection(g, 3 / 32, v)
    with pytest.raises(ValueError, match="NaN"):
        Advection(g, 0.01, torch.full((32,), float("nan"), dtype=torch.float64))
    sl = SemiLagrangianAdvection(g, 4 / 32 / 0.5, v)  # Courant number 4: fine for semi-Lagrangian
    torch.testing.assert_close(sl(d), torch.roll(d, 4, dims=2))


# --------------------------------------------------------------- one time loop, one exemption
TIME_STEP_CALLS = {"step", "euler_step", "explicit_step", "advance"}
#: (file, function): hand-written loops that are allowed, with the reason
EXEMPT = {
    ("physdl/pde/advection.py", "adjoint_gradient"): "the hand-derived reverse loop that chapter 3 teaches",
    ("physdl/pde/stepper.py", "rollout"): "the time loop itself",
    ("physdl/pde/stepper.py", "segment"): "rollout's checkpointed segments",
    ("physdl/pde/stepper.py", "step"): "Split applies its parts in turn within one step",
    ("physdl/neuradiff/evaluation.py", "parameter_landscape"):
        "steps one frame interval at a time (a Substepped stepper, itself a rollout) to hold one state per scan point",
}


def _loops_calling_steps(path: Path):
    tree = ast.parse(path.read_text())
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for loop in ast.walk(func):
            if not isinstance(loop, (ast.For, ast.While)):
                continue
            for call in ast.walk(loop):
                if isinstance(call, ast.Call):
                    name = getattr(call.func, "attr", getattr(call.func, "id", None))
                    if name in TIME_STEP_CALLS and "optim" not in ast.unparse(call.func) \
                            and "sched" not in ast.unparse(call.func):
                        yield func.name, loop.lineno


def test_no_time_loop_outside_rollout():
    found = []
    for path in sorted((ROOT / "physdl").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for func, line in _loops_calling_steps(path):
            if (rel, func) not in EXEMPT:
                found.append(f"{rel}:{line} in {func}")
    assert not found, "time loops that should call physdl.rollout: " + ", ".join(sorted(set(found)))


class _Scale(Stepper):
    """Multiplies the state by ``factor`` each step (a stepper that blows up on purpose)."""

    def __init__(self, like: Stepper, factor: float) -> None:
        self.grid, self.dt, self.channels, self.factor = like.grid, like.dt, like.channels, factor

    def step(self, state):
        return state * self.factor
