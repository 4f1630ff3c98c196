"""The property suite: every registered stepper against the properties its scheme must have.

Which property applies to which stepper is the table below (``PROPERTIES``), not a test per
stepper. A stepper added to the registry is picked up by the "all" rows with no new code;
name it in the other rows where its scheme has the property.
"""

from __future__ import annotations

import math

import pytest
import torch

from physdl.ops.transport import gradient_energy
from physdl.pde import cahn_hilliard, registry
from physdl.pde.stepper import rollout

registry.load_all()
ALL = registry.names()


def _ch_energy(state: torch.Tensor, stepper) -> torch.Tensor:
    return cahn_hilliard.free_energy(state, stepper.model)


def _dirichlet_energy(state: torch.Tensor, stepper) -> torch.Tensor:
    return gradient_energy(state, stepper.grid.dx).flatten(1).sum(1)


PERIODIC = tuple(n for n in ALL if n not in ("burgers-dirichlet", "next-frame-unet"))
DIFFERENTIABLE = ALL
#: channels whose mean the scheme conserves to round-off
CONSERVED = {
    "heat-euler": (0,), "heat-spectral": (0,),
    "cahn-hilliard-explicit": (0,), "cahn-hilliard-semi-implicit": (0,),
    "voids": (0, 1), "neural-phase-field": (0, 1),
    "safe-operator": (0,), "crnn-conservative": (0,),
}
#: a free energy that the scheme never increases (below its limit)
ENERGY = {
    "heat-euler": _dirichlet_energy, "heat-spectral": _dirichlet_energy,
    "cahn-hilliard-explicit": _ch_energy, "cahn-hilliard-semi-implicit": _ch_energy,
    "allen-cahn": lambda state, stepper: stepper.free_energy(state),
}
#: expected order of convergence in time (self-convergence at fixed grid, dt halved twice)
TEMPORAL_ORDER = {
    "advection-upwind": 1, "burgers-periodic": 1, "burgers-dirichlet": 1, "heat-euler": 1,
    "cahn-hilliard-explicit": 1, "cahn-hilliard-semi-implicit": 1, "voids": 1, "allen-cahn": 1,
}
#: expected order in space, and the factor by which dt falls when dx halves (with the scheme's
#: limit: dx for advection, dx^2 for second-order diffusion, dx^4 for Cahn-Hilliard)
SPATIAL_ORDER = {"advection-upwind": (1, 2), "heat-euler": (2, 4), "cahn-hilliard-explicit": (2, 16),
                 "allen-cahn": (2, 4)}
#: steppers with a stability limit that refuse a dt above it when made
LIMITED = ("advection-upwind", "advection-forward", "burgers-periodic", "burgers-dirichlet", "heat-euler",
           "cahn-hilliard-explicit", "voids", "allen-cahn")

PROPERTIES = {
    "shape, dtype and batch independence": ALL,
    "translation equivariance": PERIODIC,
    "gradcheck": DIFFERENTIABLE,
    "conservation": tuple(CONSERVED),
    "energy decay": tuple(ENERGY),
    "temporal order": tuple(TEMPORAL_ORDER),
    "spatial order": tuple(SPATIAL_ORDER),
    "stability-limit error": LIMITED,
}


def _setup(name: str, batch: int = 3, dtype: torch.dtype = torch.float64, seed: int = 0, **make):
    entry = registry.entry(name)
    stepper = entry.make(dtype=dtype, **make)
    state = entry.initial(stepper, batch, torch.Generator().manual_seed(seed), dtype)
    return stepper, state


def test_the_table_names_only_registered_steppers():
    for prop, names in PROPERTIES.items():
        unknown = set(names) - set(ALL)
        assert not unknown, f"{prop}: {unknown} not registered"


def test_an_unknown_name_is_both_a_key_error_and_a_value_error():
    for kind in (KeyError, ValueError):
        with pytest.raises(kind, match="no stepper registered as 'no-such-stepper'; registered: .*heat-euler"):
            registry.entry("no-such-stepper")
    with pytest.raises(TypeError, match="name must be a string"):
        registry.register(3, lambda: None, lambda *a: None)
    assert all(isinstance(n, str) for n in registry.names())


def test_every_registered_stepper_runs_through_rollout():
    # rollout agrees with calling the stepper (carry-free) or advancing it (with a carry).
    for name in ALL:
        stepper, state = _setup(name, batch=2)
        frames = rollout(stepper, state, 3)
        s, carry = state, stepper.init_carry(state)
        for k in range(3):
            s, carry = stepper.advance(s, carry)
            torch.testing.assert_close(frames[:, k + 1], s, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("name", PROPERTIES["shape, dtype and batch independence"])
def test_shape_dtype_and_batch_independence(name):
    for dtype in (torch.float32, torch.float64):
        stepper, state = _setup(name, dtype=dtype)
        out = rollout(stepper, state, 2)
        assert out.shape == (state.shape[0], 3, *state.shape[1:]) and out.dtype == dtype
        assert out.device == state.device
    stepper, state = _setup(name)
    together = rollout(stepper, state, 3)
    for i in range(state.shape[0]):
        alone = rollout(stepper, state[i : i + 1], 3)
        torch.testing.assert_close(alone[0], together[i], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", PROPERTIES["translation equivariance"])
def test_translation_equivariance(name):
    stepper, state = _setup(name, batch=2)
    dims = tuple(range(2, state.dim()))
    shifts = tuple(a + 1 for a in range(len(dims)))
    moved = rollout(stepper, torch.roll(state, shifts, dims), 3)
    expected = torch.roll(rollout(stepper, state, 3), shifts, tuple(d + 1 for d in dims))
    torch.testing.assert_close(moved, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", PROPERTIES["gradcheck"])
def test_gradcheck_through_three_steps(name):
    stepper, state = _setup(name, batch=1)
    state = state.detach().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s: rollout(stepper, s, 3, check_finite=False)[:, -1], (state,),
                                    fast_mode=True, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", PROPERTIES["conservation"])
def test_conservation_to_round_off(name):
    stepper, state = _setup(name)
    out = rollout(stepper, state, 10)
    for c in CONSERVED[name]:
        mean = out[:, :, c].flatten(2).mean(-1)
        torch.testing.assert_close(mean, mean[:, :1].expand_as(mean), rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", PROPERTIES["energy decay"])
def test_free_energy_never_rises(name):
    stepper, state = _setup(name)
    out = rollout(stepper, state, 20)
    energy = torch.stack([ENERGY[name](out[:, k], stepper) for k in range(out.shape[1])], dim=1)
    rise = energy[:, 1:] - energy[:, :-1]
    assert bool((rise <= 1e-12 * energy[:, :-1].abs()).all()), f"largest rise {float(rise.max()):.3g}"
    assert bool((energy[:, -1] < energy[:, 0]).all())


def _order(errors: list[float]) -> float:
    return math.log2(errors[0] / errors[1])


@pytest.mark.parametrize("name", PROPERTIES["temporal order"])
def test_temporal_order(name):
    base = registry.entry(name).make()
    dt, steps = base.dt, 8
    runs = []
    for level in range(3):
        stepper, state = _setup(name, batch=1, dt=dt / 2**level)
        runs.append(rollout(stepper, state, steps * 2**level, save_every=steps * 2**level)[:, -1])
    errors = [float((runs[k] - runs[k + 1]).abs().max()) for k in range(2)]
    assert abs(_order(errors) - TEMPORAL_ORDER[name]) <= 0.15, f"errors {errors}, order {_order(errors):.3f}"


@pytest.mark.parametrize("name", PROPERTIES["spatial order"])
def test_spatial_order(name):
    entry = registry.entry(name)
    n0 = entry.make().grid.shape[0]
    # dt falls with the scheme's limit, so the number of steps to the same final time grows by the
    # same factor per refinement.
    expected, scale = SPATIAL_ORDER[name]
    dt0, steps0 = entry.make().dt, 8
    runs = []
    for level in range(3):
        stepper, state = _setup(name, batch=1, n=n0 * 2**level, dt=dt0 / scale**level)
        runs.append(rollout(stepper, state, steps0 * scale**level, save_every=steps0 * scale**level)[:, -1])
    sub = [(...,) + (slice(None, None, 2),) * (runs[0].dim() - 2)]
    errors = [float((runs[k] - runs[k + 1][tuple(sub[0])]).abs().max()) for k in range(2)]
    assert abs(_order(errors) - expected) <= 0.15, f"errors {errors}, order {_order(errors):.3f}"


@pytest.mark.parametrize("name", PROPERTIES["stability-limit error"])
def test_unstable_time_step_is_refused_naming_the_bound(name):
    stepper = registry.entry(name).make()
    limit = stepper.stability_limit()
    assert limit is not None and stepper.dt <= limit
    with pytest.raises(ValueError, match="stability limit"):
        registry.entry(name).make(dt=2 * limit)
