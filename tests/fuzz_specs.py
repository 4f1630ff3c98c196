"""What the fuzzing suite calls, and with what: one spec per public name (tests/test_fuzz.py).

A spec draws every argument with the strategies of :mod:`fuzzing` and hands them to
:func:`fuzzing.call` with the documented shape and properties of the result. Names that are
not fuzzed are in :data:`EXEMPT`, each with its reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

from fuzzing import (Arg, axes, bad, call, choice, field, fixed, good, integer, number, per_axis, positive, shapes,
                     smallest, tensor)

import physdl
from physdl import ops


@dataclasses.dataclass(frozen=True)
class Spec:
    run: Callable[[Callable[[Any], Any]], None]
    slow: bool = False


SPECS: dict[str, Spec] = {}


def fuzz(*names: str, slow: bool = False) -> Callable:
    """Register the decorated ``run(draw)`` as the spec of each of ``names``."""
    def register(run: Callable) -> Callable:
        for name in names:
            assert name not in SPECS, name
            SPECS[name] = Spec(run, slow)
        return run
    return register


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    torch.testing.assert_close(a, b.to(a.dtype), rtol=rtol, atol=atol)


def shape_of(a: Arg) -> tuple[int, ...]:
    return tuple(a.value.shape)


def real(a: Arg) -> float:
    return float(a.value)


# =========================================================================== ops

BC = choice(["periodic", "dirichlet", ops.Periodic(), ops.Dirichlet(0.5)], ["neumann", 3])


@fuzz("physdl.ops.laplacian")
def _(draw):
    u, bc = draw(field(channels=(1, 2))), draw(BC)
    dx = per_axis(draw(positive(0.05, 10)), axes(u))

    def expect(out, **_):
        assert out.shape == u.value.shape and out.dtype == u.value.dtype
        if bc.value in ("periodic", ops.Periodic()):
            close(out.sum(), torch.zeros(()), atol=1e-2 * (1 + out.abs().sum().item()))
    call(ops.laplacian, {"u": u, "dx": dx, "bc": bc}, expect)


@fuzz("physdl.ops.gradient", "physdl.ops.divergence")
def _(draw):
    name = draw(st.sampled_from(["gradient", "divergence"]))
    sp = draw(shapes())
    d = len(sp)
    v = draw(field(channels=d if name == "divergence" else 1, space=sp))
    scheme = draw(choice(ops.SCHEMES))
    args = {"u" if name == "gradient" else "v": v, "dx": per_axis(draw(positive(0.05, 10)), d), "bc": draw(BC),
            "scheme": scheme}

    def expect(out, **_):
        c = v.value.shape[1] * d if name == "gradient" else v.value.shape[1] // d
        assert out.shape == (v.value.shape[0], c, *sp)
    call(getattr(ops, name), args, expect)


@fuzz("physdl.ops.wavenumbers")
def _(draw):
    n, dx = draw(integer(1, 64)), draw(positive(0.01, 10))

    def expect(out, **_):
        assert out.shape == (int(n.value),) and float(out[0]) == 0
    call(ops.wavenumbers, {"n": n, "dx": dx}, expect)


@fuzz("physdl.ops.laplacian_symbol", "physdl.ops.gradient_symbol")
def _(draw):
    name = draw(st.sampled_from(["laplacian_symbol", "gradient_symbol"]))
    sp = draw(shapes(lo=1))
    shape = draw(st.sampled_from([good(sp), bad((0, *sp[1:]), "empty axis"), bad((2, 2, 2, 2), "four axes"),
                                  good(sp)]))
    args = {"shape": shape, "dx": per_axis(draw(positive(0.05, 10)), len(shape.value)),
            "kind": draw(choice(["fd", "spectral"]))}
    if name == "gradient_symbol":
        args["scheme"] = draw(choice(ops.SCHEMES))

    def expect(out, **_):
        if name == "laplacian_symbol":
            assert out.shape == sp and bool((out <= 0).all())
        else:
            assert out.shape == (len(sp), *sp) and out.is_complex()
    call(getattr(ops, name), args, expect)


@fuzz("physdl.ops.dirichlet_laplacian_eigenvalues")
def _(draw):
    n, dx = draw(integer(1, 64)), draw(positive(0.01, 10))

    def expect(out, **_):
        assert out.shape == (int(n.value),) and bool((out < 0).all())
    call(ops.dirichlet_laplacian_eigenvalues, {"n": n, "dx": dx}, expect)


@fuzz("physdl.ops.upwind_difference")
def _(draw):
    d = draw(field(dims=(1, 2), size=(3, 8)))
    dims = d.value.dim() - 2 if isinstance(d.value, torch.Tensor) and not d.bad else 1
    velocity = draw(st.sampled_from([good(torch.ones(())), good(-torch.ones(1, 1, *([1] * dims))),
                                     bad(torch.ones(5, 7, 3), "does not broadcast"), bad(2.0, "a float")]))
    axis = draw(integer(0, dims - 1, bad_values=[dims, -dims - 1, 1.5]))
    args = {"d": d, "velocity": velocity, "dx": draw(positive(0.05, 10)), "axis": axis, "bc": draw(BC),
            "scheme": draw(choice(["upwind", "forward"]))}
    call(ops.upwind_difference, args, lambda out, **_: out.shape == d.value.shape or pytest_fail())


def pytest_fail() -> None:
    raise AssertionError("wrong shape")


@fuzz("physdl.ops.semi_lagrangian")
def _(draw):
    q = draw(field(dims=(1, 2), size=(4, 8)))
    dims = q.value.dim() - 2 if isinstance(q.value, torch.Tensor) and not q.bad else 1
    speed = draw(number(-20, 20))
    velocity = good(torch.full((1,) * (2 + dims), real(speed))) if not speed.bad else \
        bad(torch.full((1,) * (2 + dims), math.nan), "NaN velocity")
    args = {"q": q, "velocity": velocity, "dt": draw(positive(1e-3, 10)), "dx": draw(positive(0.05, 10)),
            "axis": draw(integer(0, dims - 1, bad_values=[dims, 1.5])), "bc": draw(BC),
            "walls": draw(choice(["constant", "odd"]))}

    def expect(out, **v):
        assert out.shape == q.value.shape
        lo, hi = min(float(q.value.min()), 0.0, 0.5), max(float(q.value.max()), 0.0, 0.5)
        if v["walls"] == "odd":  # beyond a wall the field continues as -q
            hi = max(hi, -lo)
            lo = -hi
        assert lo - 1e-5 <= float(out.min()) and float(out.max()) <= hi + 1e-5  # a convex combination of values
    call(ops.semi_lagrangian, args, expect)


@fuzz("physdl.ops.face_average")
def _(draw):
    m = draw(field(dims=(1, 2, 3), lo=0, hi=2))
    dims = m.value.dim() - 2 if isinstance(m.value, torch.Tensor) and not m.bad else 1
    args = {"m": m, "axis": draw(integer(0, dims - 1, bad_values=[dims, -1 - dims, 0.5])), "bc": draw(BC)}
    call(ops.face_average, args, lambda out, **_: out.shape == m.value.shape or pytest_fail())


@fuzz("physdl.ops.flux_divergence")
def _(draw):
    sp = draw(shapes(lo=3))
    potential = draw(field(space=sp))
    mobility = draw(st.one_of(field(space=sp, lo=0, hi=2, batch=(1, 1)),
                              st.just(bad(torch.ones(2, 1, *[n + 1 for n in sp]), "does not broadcast"))))
    if mobility.why == "no batch or channel axis":  # a vector along the last axis broadcasts, as documented
        mobility = good(mobility.value)
    periodic = draw(st.booleans())
    args = {"mobility": mobility, "potential": potential, "dx": per_axis(draw(positive(0.1, 10)), len(sp)),
            "bc": good("periodic") if periodic else draw(BC)}

    def expect(out, **_):
        assert out.shape == potential.value.shape
        if periodic:  # conservative: the sum over the grid vanishes
            scale = float((mobility.value.abs().max() * potential.value.abs().max())) * out[0].numel() + 1e-6
            assert float(out.flatten(1).sum(1).abs().max()) <= 1e-4 * scale / smallest(args["dx"]) ** 2
    call(ops.flux_divergence, args, expect)


@fuzz("physdl.ops.gradient_energy")
def _(draw):
    u = draw(field())
    dx = per_axis(draw(positive(0.05, 10)), axes(u))
    call(ops.gradient_energy, {"u": u, "dx": dx},
         lambda out, **_: (out.shape == u.value.shape and bool((out >= 0).all())) or pytest_fail())


@fuzz("physdl.ops.periodic_offset", "physdl.ops.periodic_distance")
def _(draw):
    name = draw(st.sampled_from(["periodic_offset", "periodic_distance"]))
    a = draw(tensor((draw(st.integers(2, 6)),), lo=-50, hi=50))
    b = draw(st.one_of(number(-50, 50, bad_chance=0), tensor((1,), lo=-50, hi=50, corrupt=("nan", "inf", "int", "numpy")),
                       st.sampled_from([bad(math.nan, "not finite"), bad("1", "a string"),
                                        bad(torch.zeros(7), "does not broadcast")])))
    period = draw(positive(0.1, 100))

    def expect(out, **_):
        p = real(period)
        assert out.shape == a.value.shape
        if name == "periodic_distance":
            assert bool((out >= 0).all()) and bool((out <= p / 2 * (1 + 1e-5)).all())
        else:
            assert bool((out >= -p / 2 * (1 + 1e-5)).all()) and bool((out <= p / 2 * (1 + 1e-5)).all())
    call(getattr(ops, name), {"a": a, "b": b, "period": period}, expect)


@fuzz("physdl.ops.Grid")
def _(draw):
    shape = draw(st.one_of(st.builds(good, shapes(lo=1)), st.sampled_from(
        [bad((0, 3), "empty axis"), bad((2, 2, 2, 2), "four axes"), bad((2.5,), "a float size"), bad((), "no axis")])))
    d = len(shape.value) if not shape.bad else 1
    spacing = draw(st.one_of(positive(0.01, 10).map(lambda h: per_axis(h, d)),
                             st.sampled_from([good(tuple([0.5] * d)), bad((0.5,) * (d + 1), "too many")])))
    args = {"shape": shape, "spacing": spacing, "boundary": draw(BC), "origin": draw(number(-10, 10, bad_chance=0.2))}

    def expect(grid, **_):
        assert grid.shape == tuple(shape.value) and len(grid.spacing) == grid.dims
        assert all(isinstance(h, float) and h > 0 for h in grid.spacing)
        assert grid.mesh()[0].shape == grid.shape
    call(ops.Grid, args, expect, aliases={"shape": ["grid", "axes", "sizes"], "spacing": ["dx"],
                                          "boundary": ["boundary condition"]})


@fuzz("physdl.ops.as_boundary", "physdl.ops.Dirichlet", "physdl.ops.Periodic")
def _(draw):
    which = draw(st.sampled_from(["as_boundary", "Dirichlet", "Periodic"]))
    if which == "Periodic":
        call(ops.Periodic, {}, lambda out: out.name == "periodic" or pytest_fail())
        return
    value = draw(number(-10, 10))
    if which == "Dirichlet":
        call(ops.Dirichlet, {"value": value}, lambda out, **_: out.value == real(value) or pytest_fail())
        return
    bc = draw(choice(["periodic", "dirichlet", ops.Periodic(), ops.Dirichlet(1.0)], ["neumann", 3, None]))
    call(ops.as_boundary, {"bc": bc, "value": value},
         lambda out, **_: isinstance(out, (ops.Periodic, ops.Dirichlet)) or pytest_fail(), aliases={"bc": ["boundary"]})


# =========================================================================== pde.heat

from physdl.pde import heat  # noqa: E402
from physdl.pde import stepper as stepper_mod  # noqa: E402

DIMS = integer(1, 3, bad_values=[0, -1, 2.5, "2"])


@fuzz("physdl.pde.heat.max_eigenvalue", "physdl.pde.heat.von_neumann_limit", "physdl.pde.heat.von_neumann_number",
      "physdl.pde.heat.check_stability")
def _(draw):
    name = draw(st.sampled_from(["max_eigenvalue", "von_neumann_limit", "von_neumann_number", "check_stability"]))
    args = {"dx": draw(positive(0.05, 10)), "dims": draw(DIMS)}
    if name != "max_eigenvalue":
        args["dt"] = draw(positive(1e-4, 10))
    if name in ("von_neumann_number", "check_stability"):
        args["alpha"] = draw(number(-10, 0 if name == "check_stability" else 10))

    def expect(out, **v):
        if name == "check_stability":
            assert out is None
            return
        assert isinstance(out, float) and out > 0 or (name == "von_neumann_number" and out == 0)
        if name == "von_neumann_limit":  # the limit is where the number reaches 2
            sigma = heat.von_neumann_number(-out, v["dt"], v["dx"], v["dims"])
            assert math.isclose(sigma, 2, rel_tol=1e-9)
    call(getattr(heat, name), args, expect, may_reject=["dt", "alpha"] if name == "check_stability" else ())


@fuzz("physdl.pde.heat.HeatEuler", "physdl.pde.heat.HeatSpectral")
def _(draw):
    cls = draw(st.sampled_from([heat.HeatEuler, heat.HeatSpectral]))
    n = draw(st.integers(4, 12))
    grid = ops.Grid((n, n), spacing=real(draw(positive(0.5, 2, bad_chance=0))))
    per_sample = draw(st.booleans())
    alpha = draw(tensor((2,), lo=-0.05, hi=0.0, corrupt=("nan", "inf", "int"))) if per_sample else draw(number(-0.05, 0.0))
    batch = draw(st.integers(1, 3))
    if isinstance(alpha.value, torch.Tensor) and alpha.value.dim() == 1 and (not alpha.bad or alpha.why == "a vector"):
        # two values of alpha, one per sample: right for a batch of 2 only (no silent broadcast)
        alpha = good(alpha.value) if batch == 2 else bad(alpha.value, f"2 values for a batch of {batch}")
    dt = draw(positive(1e-3, 0.5))
    args = {"grid": good(grid), "dt": dt, "alpha": alpha, "check": good(True)}
    made = {}

    def make(**v):
        made["stepper"] = cls(**v)
        u = torch.rand(batch, 1, n, n, dtype=torch.float64)
        return u, made["stepper"](u)

    def expect(out, **v):
        u, after = out
        assert after.shape == u.shape
        assert float(after.abs().max()) <= float(u.abs().max()) * (1 + 1e-6)  # diffusion: maximum principle
        close(after.mean(), u.mean(), rtol=1e-6, atol=1e-9)  # and mass conservation
    call(make, args, expect, may_reject=["dt"], name=cls.__name__)


@fuzz("physdl.pde.heat.euler_multiplier")
def _(draw):
    n = draw(st.integers(2, 8))
    k = draw(st.integers(1, 3))
    alpha = draw(st.one_of(number(-0.1, 0.0, bad_chance=0.2),
                           tensor((k,), lo=-0.1, hi=0.0, corrupt=("nan", "inf", "int", "numpy"))))
    if alpha.why == "a vector":  # one value per sample: a batch of multipliers
        alpha = good(alpha.value)
    args = {"alpha": alpha, "dt": draw(positive(1e-3, 1)), "dx": per_axis(draw(positive(0.5, 2)), 2),
            "shape": draw(st.sampled_from([good((n, n)), bad((0, n), "an empty axis"), bad((n,) * 4, "four axes")])),
            "substeps": draw(integer(1, 5))}

    def expect(out, **v):
        batch = tuple(v["alpha"].shape) if isinstance(v["alpha"], torch.Tensor) else ()
        assert out.shape == (*batch, n, n // 2 + 1)
        close(out[..., 0, 0], torch.ones(batch))  # the constant mode is kept
    call(heat.euler_multiplier, args, expect)


@fuzz("physdl.pde.heat.time_reversed")
def _(draw):
    t = draw(st.integers(1, 5))
    frames = draw(st.one_of(tensor(draw(st.sampled_from([(t, 3, 3), (2, t, 3, 4)]))),
                            st.just(bad(torch.zeros(3), "no time axis"))))

    def expect(out, **_):
        assert out.shape == frames.value.shape and torch.equal(out.flip(-3), frames.value)
    call(heat.time_reversed, {"frames": frames}, expect)


@fuzz("physdl.pde.heat.voronoi_grains")
def _(draw):
    args = {"n": draw(integer(2, 16, bad_values=[1, 0, -3, 2.5])), "dx": draw(positive(0.1, 2)),
            "grains": draw(integer(2, 6, bad_values=[1, 0, 2.5])), "width": draw(positive(0.5, 5)),
            "roughness": draw(number(0, 1, bad_values=(-1.0,))), "roughness_modes": draw(integer(1, 4, bad_values=[0, -1])),
            "generator": good(torch.Generator().manual_seed(draw(st.integers(0, 99))))}

    def expect(out, **v):
        assert out.shape == (int(v["n"]), int(v["n"]))
        assert bool((out >= 0.5 - 1e-9).all()) and bool((out <= 1).all())
    call(heat.voronoi_grains, args, expect)


# =========================================================================== pde.stepper

def _heat_stepper(n: int = 6) -> stepper_mod.Stepper:
    return heat.HeatEuler(ops.Grid((n, n)), 0.05, -0.5)


@fuzz("physdl.pde.stepper.rollout")
def _(draw):
    s = _heat_stepper()
    state = draw(field(space=(6, 6), dtypes=(torch.float64,)))
    args = {"stepper": good(s), "state": state, "steps": draw(integer(0, 6)), "save_every": draw(integer(1, 3)),
            "include_initial": good(True), "keep_last": good(draw(st.booleans())),
            "check_every": draw(st.sampled_from([good(None), good(2), bad(0, "not positive")]))}

    def expect(out, **v):
        kept = stepper_mod.saved_steps(int(v["steps"]), int(v["save_every"]), v["keep_last"])
        assert out.shape == (v["state"].shape[0], len(kept), *v["state"].shape[1:])
    call(stepper_mod.rollout, args, expect)


@fuzz("physdl.pde.stepper.saved_steps")
def _(draw):
    args = {"steps": draw(integer(0, 50)), "save_every": draw(integer(1, 7)), "keep_last": good(draw(st.booleans())),
            "include_initial": good(draw(st.booleans()))}

    def expect(out, **v):
        assert out == sorted(set(out)) and all(0 <= k <= int(v["steps"]) for k in out)
        frames = stepper_mod.rollout(_heat_stepper(), torch.zeros(1, 1, 6, 6), int(v["steps"]), int(v["save_every"]),
                                     keep_last=v["keep_last"], include_initial=True)
        assert frames.shape[1] == len(stepper_mod.saved_steps(int(v["steps"]), int(v["save_every"]), v["keep_last"]))
    call(stepper_mod.saved_steps, args, expect)


@fuzz("physdl.pde.stepper.check_batch")
def _(draw):
    batch, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    values = draw(st.sampled_from([good(0.5), good(torch.tensor(0.5)),
                                   Arg(torch.ones(k, 1, 1), k not in (1, batch), f"{k} values for a batch of {batch}")]))
    state = draw(st.sampled_from([good(torch.zeros(batch, 1, 3)), bad(torch.zeros(batch, 1, 3, dtype=torch.int64), "int"),
                                  bad("a field", "a string")]))
    args = {"state": state, "values": values, "name": good("alpha"), "state_name": good("initial state")}
    call(stepper_mod.check_batch, args, lambda out, **_: out is None or pytest_fail(),
         aliases={"values": ["alpha"], "state": ["initial state"]})


@fuzz("physdl.pde.stepper.as_dt")
def _(draw):
    dt = draw(positive(1e-6, 1e3))
    call(stepper_mod.as_dt, {"dt": dt}, lambda out, **_: (isinstance(out, float) and out == real(dt)) or pytest_fail())


@fuzz("physdl.pde.stepper.Split", "physdl.pde.stepper.Substepped", "physdl.pde.stepper.Switched")
def _(draw):
    which = draw(st.sampled_from(["Split", "Substepped", "Switched"]))
    a, b = _heat_stepper(), heat.HeatSpectral(ops.Grid((6, 6)), 0.05, -0.5)
    u = torch.rand(2, 1, 6, 6, dtype=torch.float64)
    if which == "Split":
        other = draw(st.sampled_from([good(b), bad(heat.HeatEuler(ops.Grid((6, 6)), 0.01, -0.5), "another dt"),
                                      bad("heat", "not a stepper")]))
        made = lambda first, second: stepper_mod.Split(first, second)(u)  # noqa: E731
        call(made, {"first": good(a), "second": other}, lambda out, **_: out.shape == u.shape or pytest_fail(),
             aliases={"second": ["dt", "stepper", "steppers"]}, name="Split")
    elif which == "Substepped":
        n = draw(integer(1, 4))
        call(lambda inner, substeps: stepper_mod.Substepped(inner, substeps)(u), {"inner": good(a), "substeps": n},
             lambda out, **v: torch.testing.assert_close(out, stepper_mod.rollout(a, u, int(v["substeps"]))[:, -1]),
             name="Substepped")
    else:
        n = draw(integer(0, 3, bad_values=[-1, 1.5, None]))
        call(lambda first_steps: stepper_mod.rollout(stepper_mod.Switched([(a, first_steps), (b, None)]), u, 4),
             {"first_steps": n}, lambda out, **_: out.shape == (2, 5, 1, 6, 6) or pytest_fail(),
             aliases={"first_steps": ["step count", "schedule"]}, name="Switched")



# =========================================================================== steppers, generic

def stepper_rollout(draw, make: Callable[..., Any], args: dict[str, Arg], space: tuple[int, ...], *,
                    channels: int = 1, lo: float = -1.0, hi: float = 1.0, batch: tuple[int, int] = (1, 3),
                    expect: Callable[..., None] | None = None, name: str, **kwargs) -> None:
    """Make a stepper from ``args``, roll a drawn state (possibly bad) for a drawn number of steps.

    ``expect(state, frames, stepper, **values)`` checks the physics on top of the shape."""
    state = draw(field(space=space, channels=channels, lo=lo, hi=hi, batch=batch))
    steps = draw(integer(0, 4))
    made = {}

    def run(state, steps, **v):
        made["stepper"] = make(**v)
        return state, stepper_mod.rollout(made["stepper"], state, steps)

    def check(out, **v):
        u, frames = out
        assert frames.shape == (u.shape[0], int(v["steps"]) + 1, *u.shape[1:]) and frames.dtype == u.dtype
        if expect is not None:
            expect(u, frames, made["stepper"], **v)
    call(run, {"state": state, "steps": steps, **args}, check, name=name, **kwargs)


# =========================================================================== pde.advection

from physdl.pde import advection, allen_cahn, burgers, flow, registry  # noqa: E402


@fuzz("physdl.pde.advection.Advection", "physdl.pde.advection.SemiLagrangianAdvection")
def _(draw):
    semi = draw(st.booleans())
    d = draw(st.sampled_from([1, 2]))
    sp = tuple(draw(st.integers(3, 8)) for _ in range(d))
    periodic = draw(st.booleans())
    grid = ops.Grid(sp, spacing=real(draw(positive(0.2, 2, bad_chance=0))), boundary="periodic" if periodic else ops.Dirichlet(0.0))
    constant = draw(st.booleans())
    if constant:
        speeds = torch.tensor([real(draw(number(-3, 3, bad_chance=0))) for _ in range(d)], dtype=torch.float64)
        velocity = good(speeds.reshape(d, *[1] * d).expand(d, *sp).clone())
    else:
        velocity = draw(tensor((d, *sp), lo=-3, hi=3, corrupt=("nan", "inf", "int", "numpy")))
    velocity = draw(st.sampled_from([velocity, velocity, bad(torch.zeros(d + 1, *sp), "one component too many")]))
    short = semi and not periodic and min(sp) < 4
    args = {"grid": bad(grid, "under 4 nodes on a Dirichlet axis") if short else good(grid),
            "dt": draw(positive(1e-3, 1)), "velocity": velocity}
    if not semi:
        args["scheme"] = draw(choice(advection.SCHEMES))
    cls = advection.SemiLagrangianAdvection if semi else advection.Advection

    def expect(u, frames, stepper, **v):
        end = frames[:, -1]
        lo, hi = min(float(u.min()), 0.0), max(float(u.max()), 0.0)
        if semi or (constant and v.get("scheme") == "upwind"):  # monotone schemes: a maximum principle
            assert float(end.min()) >= lo - 1e-5 and float(end.max()) <= hi + 1e-5, \
                f"maximum principle: {float(end.min())}..{float(end.max())} outside {lo}..{hi} ({v})"
        if constant and periodic and (semi or v.get("scheme") == "upwind"):  # and mass is conserved
            close(end.sum(), u.sum(), rtol=1e-4, atol=1e-4 * u.numel())
    stepper_rollout(draw, cls, args, sp, expect=expect, name=cls.__name__, may_reject=["dt"])


@fuzz("physdl.pde.advection.adjoint_gradient")
def _(draw):
    n = draw(st.integers(4, 10))
    vec = lambda lo=-1.0, hi=1.0: tensor((n,), lo=lo, hi=hi, dtypes=(torch.float64,), bad_chance=0.1)  # noqa: E731
    args = {"d0": draw(vec()), "u": draw(vec(-2, 2)), "target": draw(vec()),
            "dt": draw(positive(1e-3, 0.2)), "dx": draw(positive(0.5, 2)), "steps": draw(integer(0, 5)),
            "bc": draw(choice(["periodic", "dirichlet"])), "value": draw(number(-1, 1, bad_chance=0.1)),
            "scheme": draw(choice(advection.SCHEMES))}
    args["target"] = draw(st.sampled_from([args["target"], args["target"],
                                           bad(torch.zeros(n + 1, dtype=torch.float64), "another length")]))

    def expect(out, **v):
        loss, grad_u, grad_d0 = out
        d0 = v["d0"].clone().requires_grad_(True)
        u = v["u"].clone().requires_grad_(True)
        grid = ops.Grid(n, real(args["dx"]), ops.as_boundary(v["bc"], float(v["value"])))
        s = advection.Advection(grid, real(args["dt"]), u, v["scheme"])
        end = stepper_mod.rollout(s, d0[None, None], int(v["steps"]))[0, -1, 0]
        ref = (end - v["target"]).pow(2).sum()
        ref.backward()
        close(loss, ref.detach(), rtol=1e-9, atol=1e-9)
        close(grad_d0, d0.grad, rtol=1e-7, atol=1e-9)  # the hand-written adjoint equals autograd
        close(grad_u, u.grad if u.grad is not None else torch.zeros_like(u), rtol=1e-7, atol=1e-9)
    call(advection.adjoint_gradient, args, expect, may_reject=["dt"])


# =========================================================================== pde.allen_cahn

@fuzz("physdl.pde.allen_cahn.AllenCahn")
def _(draw):
    n = draw(st.integers(4, 8))
    periodic = draw(st.booleans()) or draw(st.booleans())
    grid = ops.Grid((n, n), spacing=real(draw(positive(0.5, 2, bad_chance=0))), boundary="periodic" if periodic else "dirichlet")
    args = {"grid": good(grid) if periodic else bad(grid, "not periodic"), "dt": draw(positive(1e-3, 0.3)),
            "epsilon": draw(positive(0.1, 2)), "mobility": draw(positive(0.1, 2))}

    def expect(u, frames, stepper, **v):
        if stepper.dt <= stepper.stability_limit() / 2:  # gradient descent within 1/L: the energy never rises
            energy = torch.stack([stepper.free_energy(frames[:, k]) for k in range(frames.shape[1])], 1)
            assert bool((energy.diff(dim=1) <= 1e-6 * (1 + energy[:, :-1].abs())).all())
    stepper_rollout(draw, allen_cahn.AllenCahn, args, (n, n), expect=expect, name="AllenCahn", may_reject=["dt"],
                    aliases={"grid": ["periodic"]})


# =========================================================================== pde.burgers

@fuzz("physdl.pde.burgers.ViscousDiffusion", "physdl.pde.burgers.SelfAdvection", "physdl.pde.burgers.solver")
def _(draw):
    which = draw(st.sampled_from(["ViscousDiffusion", "SelfAdvection", "solver"]))
    n = draw(st.integers(4, 12))
    bc = draw(st.sampled_from(["dirichlet", "periodic"]))
    grid = burgers.domain(n, bc)
    batch = draw(st.integers(1, 3))
    args = {"grid": draw(st.sampled_from([good(grid), good(grid), bad(ops.Grid((n, n)), "a 2D grid")])),
            "dt": draw(positive(1e-3, 0.5))}
    if which != "SelfAdvection":
        args["nu"] = draw(st.one_of(positive(1e-3, 0.1), tensor((batch,), lo=1e-3, hi=0.1, corrupt=("nan", "int")),
                                    st.just(bad(torch.full((batch + 1,), 0.01), "one value too many")),
                                    st.just(bad(torch.tensor([0.01, -0.01] * batch)[:batch + 1], "a negative value"))))
    cls = getattr(burgers, which)

    def expect(u, frames, stepper, **v):
        if bc == "dirichlet" and which != "ViscousDiffusion":
            pass
        if which != "SelfAdvection":  # diffusion and semi-Lagrangian advection: a maximum principle
            assert float(frames[:, -1].abs().max()) <= float(u.abs().max()) * (1 + 1e-5) + 1e-6
    stepper_rollout(draw, cls, args, (n,), batch=(batch, batch), expect=expect, name=which, may_reject=["dt"],
                    aliases={"grid": ["1D"]})


@fuzz("physdl.pde.burgers.check_stability", "physdl.pde.burgers.diffusion_number")
def _(draw):
    name = draw(st.sampled_from(["check_stability", "diffusion_number"]))
    args = {"dt": draw(positive(1e-4, 1)), "dx": draw(positive(1e-2, 1)), "nu": draw(positive(1e-4, 1))}

    def expect(out, **v):
        if name == "diffusion_number":
            assert math.isclose(out, real(args["nu"]) * real(args["dt"]) / real(args["dx"]) ** 2, rel_tol=1e-6)
        else:
            assert out is None
    call(getattr(burgers, name), args, expect, may_reject=["dt"] if name == "check_stability" else ())


@fuzz("physdl.pde.burgers.domain", "physdl.pde.burgers.grid")
def _(draw):
    name = draw(st.sampled_from(["domain", "grid"]))
    args = {"n": draw(integer(4, 64, bad_values=[3, 0, -1, 4.5, "8"])),
            "bc": draw(choice(["dirichlet", "periodic"], ["neumann", 2]))}

    def expect(out, **v):
        n = int(v["n"])
        if name == "domain":
            assert out.shape == (n,) and out.origin[0] == -1.0
        else:
            x, dx = out
            assert x.shape == (n,) and float(x[0]) == -1.0 and dx > 0
    call(getattr(burgers, name), args, expect, aliases={"bc": ["boundary"]})


@fuzz("physdl.pde.burgers.exact_solution", "physdl.pde.burgers.exact_field", "physdl.pde.burgers.lecture_grid")
def _(draw):
    name = draw(st.sampled_from(["exact_solution", "exact_field", "lecture_grid"]))
    if name == "exact_solution":
        m = draw(st.integers(1, 5))
        args = {"x": draw(tensor((m,), lo=-1, hi=1, corrupt=("nan", "inf"))),
                "t": draw(st.one_of(tensor((m,), lo=0, hi=1, corrupt=("nan", "inf")),
                                    st.just(bad(torch.full((m,), -0.5), "negative time")))),
                "nu": draw(positive(3e-3, 0.5)), "nodes": draw(integer(401, 801, bad_values=[0, 1, 2.5])),
                "chunk": draw(integer(1, 64, bad_values=[0, -1]))}
        args["x"] = draw(st.sampled_from([args["x"], bad(torch.full((m,), 1.5), "outside [-1, 1]")]))

        def expect(out, **v):
            assert out.shape == (m,) and out.dtype == torch.float64
            assert bool((out.abs() <= 1 + 1e-9).all())  # |u| <= max |u(., 0)| = 1
            t0 = burgers.exact_solution(v["x"], torch.zeros(m), v["nu"])
            close(t0, -torch.sin(math.pi * v["x"].double()), atol=1e-6)
    else:
        args = {"nx": draw(integer(2, 16, bad_values=[1, 0, 2.5])), "nt": draw(integer(2, 6, bad_values=[1, -1]))}
        if name == "exact_field":
            args["nu"] = draw(positive(3e-3, 0.5))

        def expect(out, **v):
            nx, nt = int(v["nx"]), int(v["nt"])
            if name == "lecture_grid":
                assert out[0].shape == (nx,) and out[1].shape == (nt,)
            else:
                assert out.shape == (nt, nx) and float(out[:, 0].abs().max()) < 1e-9  # u(-1, t) = 0
    call(getattr(burgers, name), args, expect)


# =========================================================================== pde.flow

@fuzz("physdl.pde.flow.solve_stokes", "physdl.pde.flow.StokesSolution", slow=True)
def _(draw):
    n = draw(st.integers(4, 8))
    batch = draw(st.integers(1, 2))
    force = draw(st.one_of(field(space=(n, n), channels=2, batch=(batch, batch), dtypes=(torch.float64,)),
                           st.just(bad(torch.ones(batch, 1, n, n, dtype=torch.float64), "one component"))))
    mask = draw(st.one_of(field(space=(n, n), channels=1, batch=(batch, batch), lo=0, hi=1, dtypes=(torch.float64,)),
                          st.just(bad(torch.full((batch, 1, n, n), 2.0, dtype=torch.float64), "not in [0, 1]"))))
    args = {"force": force, "mask": mask, "dx": per_axis(draw(positive(0.1, 2)), 2), "nu": draw(positive(0.1, 10)),
            "penalty": draw(positive(1, 100)), "tol": draw(number(1e-8, 1e-3, bad_values=(0.0, 2.0, -1e-3))),
            "max_iter": draw(integer(200, 400, bad_values=[0, -1, 2.5]))}

    def expect(out, **v):
        assert isinstance(out, flow.StokesSolution)
        assert out.velocity.shape == v["force"].shape and out.pressure.shape == (batch, 1, n, n)
        assert out.residual <= real(args["tol"]) * (1 + 1e-9) and out.iterations <= int(v["max_iter"])
        div = sum(ops.gradient_symbol((n, n), v["dx"], scheme="backward")[a] *
                  torch.fft.fft2(out.velocity[:, a]) for a in range(2))
        assert float(torch.fft.ifft2(div).real.abs().max()) <= 1e-6 * (1 + float(out.velocity.abs().max())) / smallest(args["dx"])
    call(flow.solve_stokes, args, expect, may_reject=["max_iter", "tol"])


@fuzz("physdl.pde.flow.face_average", "physdl.pde.flow.velocity_at_nodes")
def _(draw):
    name = draw(st.sampled_from(["face_average", "velocity_at_nodes"]))
    c = 1 if name == "face_average" else 2
    x = draw(st.one_of(field(dims=(2,), channels=c),
                       st.just(bad(torch.zeros(1, 3 - c, 4, 4), "wrong channels")),
                       st.just(bad(torch.zeros(1, c, 4), "one spatial axis"))))
    arg = "mask" if name == "face_average" else "velocity"

    def expect(out, **_):
        b, _, nx, ny = x.value.shape
        assert out.shape == (b, 2 if name == "face_average" else 2, nx, ny)
        close(out.mean(), x.value.mean(), rtol=1e-5, atol=1e-6)  # averaging keeps the mean
    call(getattr(flow, name), {arg: x}, expect)


@fuzz("physdl.pde.flow.random_obstacles", "physdl.pde.flow.random_forces")
def _(draw):
    name = draw(st.sampled_from(["random_obstacles", "random_forces"]))
    args = {"batch": draw(integer(1, 3)), "n": draw(integer(4, 16, bad_values=[0, -1, 4.5])),
            "generator": good(torch.Generator().manual_seed(draw(st.integers(0, 9))))}
    if name == "random_obstacles":
        lo = draw(st.integers(1, 3))
        args["count"] = draw(st.sampled_from([good((lo, lo + 1)), bad((0, 2), "zero discs"), bad((3, 1), "min > max"),
                                              bad((1.5, 2), "not integers")]))
        args["radius"] = draw(st.sampled_from([good((0.05, 0.2)), bad((0.3, 0.1), "min > max"), bad((0.1, 0.6), "too large"),
                                               bad((math.nan, 0.2), "NaN")]))
        args["edge"] = draw(number(0, 2, bad_values=(-1.0,)))
    else:
        args["magnitude"] = draw(st.sampled_from([good((0.5, 1.5)), good((0.0, 0.0)), bad((1.0, 0.5), "min > max"),
                                                  bad((0.0, math.inf), "infinite")]))

    def expect(out, **v):
        b, n = int(v["batch"]), int(v["n"])
        if name == "random_obstacles":
            assert out.shape == (b, 1, n, n) and bool((out >= 0).all()) and bool((out <= 1).all())
        else:
            assert out.shape == (b, 2, n, n)
            size = out[:, :, 0, 0].norm(dim=1)
            assert bool((size >= v["magnitude"][0] - 1e-9).all()) and bool((size <= v["magnitude"][1] + 1e-9).all())
    call(getattr(flow, name), args, expect)


@fuzz("physdl.pde.flow.poiseuille_profile")
def _(draw):
    args = {"y": draw(tensor((draw(st.integers(1, 6)),), lo=-2, hi=2)), "half_width": draw(positive(0.1, 1)),
            "centre": draw(number(-1, 1)), "force": draw(number(-5, 5)), "nu": draw(positive(0.01, 10))}

    def expect(out, **v):
        assert out.shape == v["y"].shape
        peak = abs(real(args["force"])) / (2 * real(args["nu"])) * real(args["half_width"]) ** 2
        assert float(out.abs().max()) <= peak * (1 + 1e-6) + 1e-12
    call(flow.poiseuille_profile, args, expect)


# =========================================================================== pde.registry

@fuzz("physdl.pde.registry.entry", "physdl.pde.registry.names", "physdl.pde.registry.Entry")
def _(draw):
    known = registry.names()
    name = draw(choice(known, ["no-such-stepper", 3, None]))

    def make(name):
        e = registry.entry(name)
        s = e.make(8, None, torch.float64)
        u = e.initial(s, 2, torch.Generator().manual_seed(0), torch.float64)
        return e, s, u, stepper_mod.rollout(s, u, 2)

    def expect(out, **v):
        e, s, u, frames = out
        assert isinstance(e, registry.Entry) and e.name == v["name"] and e.name in registry.names()
        assert frames.shape == (2, 3, *u.shape[1:])
    call(make, {"name": name}, expect, aliases={"name": ["stepper"]}, name="registry.entry")


@fuzz("physdl.pde.registry.register")
def _(draw):
    taken = draw(st.sampled_from(registry.names()))
    args = {"name": draw(st.sampled_from([bad(taken, "taken by another factory"), bad(3, "not a string"),
                                          bad("", "empty")])),
            "make": good(lambda n=None, dt=None, dtype=torch.float64: _heat_stepper()),
            "initial": good(lambda s, b, g, d: torch.zeros(b, 1, 6, 6, dtype=d))}
    bad_callable = draw(st.sampled_from([None, "make", "initial"]))
    if bad_callable:  # never registers: the name is bad as well, and the first error wins
        args[bad_callable] = bad("not callable", "not callable")
    call(registry.register, args, aliases={"name": ["stepper"]})
    assert taken in registry.names() and registry.entry(taken).make is not args["make"].value


@fuzz("physdl.pde.registry.smooth_field")
def _(draw):
    n = draw(st.integers(2, 8))
    args = {"grid": draw(st.sampled_from([good(ops.Grid((n, n), 0.5)), good(ops.Grid(n, 0.5)), bad((n, n), "not a Grid")])),
            "batch": draw(integer(1, 3)), "generator": good(torch.Generator().manual_seed(draw(st.integers(0, 9)))),
            "dtype": draw(st.sampled_from([good(torch.float32), good(torch.float64), bad(torch.int64, "an integer dtype")])),
            "modes": draw(integer(1, 3))}

    def expect(out, **v):
        assert out.shape == (int(v["batch"]), 1, *v["grid"].shape) and out.dtype == v["dtype"]
        close(out.flatten(1).mean(1), torch.zeros(int(v["batch"])), atol=1e-5)  # zero mean
    call(registry.smooth_field, args, expect, may_reject=["modes"])

EXEMPT: dict[str, str] = {
    "physdl.pde.stepper.Stepper": "an abstract base class; fuzzed through every concrete stepper and rollout",
    "physdl.ops.BOUNDARIES": "a constant tuple of names, nothing to call",
    "physdl.ops.SCHEMES": "a constant tuple of names, nothing to call",
    "physdl.pde.advection.BOUNDARIES": "a constant tuple of names (the ops constant, re-exported)",
    "physdl.pde.advection.SCHEMES": "a constant tuple of names, nothing to call",
    "physdl.pde.advection.UPWIND_SCHEMES": "a constant tuple of names, nothing to call",
    "physdl.pde.burgers.BOUNDARIES": "a constant tuple of names (the ops constant, re-exported)",
    "physdl.pde.burgers.NU": "a constant, the lecture's viscosity 0.01 / pi",
    "physdl.pde.registry.LEARNED_MODULES": "a constant tuple of module names, nothing to call",
    "physdl.pde.registry.UnknownStepperError": "an exception class; raised and checked by the spec of registry.entry",
    "physdl.pde.registry.load_all": "takes no argument; imports the learned modules (run by every test of the registry)",
    "physdl.ops.Boundary": "a type alias (Periodic | Dirichlet), fuzzed through Periodic and Dirichlet",
}
