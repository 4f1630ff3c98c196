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

from fuzzing import Arg, bad, call, choice, field, fixed, good, integer, number, positive, shapes, tensor

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
    u, dx, bc = draw(field(channels=(1, 2))), draw(positive(0.05, 10)), draw(BC)

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
    args = {"u" if name == "gradient" else "v": v, "dx": draw(positive(0.05, 10)), "bc": draw(BC), "scheme": scheme}

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
    args = {"shape": shape, "dx": draw(positive(0.05, 10)), "kind": draw(choice(["fd", "spectral"]))}
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

    def expect(out, **_):
        assert out.shape == q.value.shape
        lo = min(float(q.value.min()), 0.0, 0.5) - 1e-5
        hi = max(float(q.value.max()), 0.0, 0.5) + 1e-5
        assert lo <= float(out.min()) and float(out.max()) <= hi  # a convex combination of values
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
    periodic = draw(st.booleans())
    args = {"mobility": mobility, "potential": potential, "dx": draw(positive(0.1, 10)),
            "bc": good("periodic") if periodic else draw(BC)}

    def expect(out, **_):
        assert out.shape == potential.value.shape
        if periodic:  # conservative: the sum over the grid vanishes
            scale = float((mobility.value.abs().max() * potential.value.abs().max())) * out[0].numel() + 1e-6
            assert float(out.flatten(1).sum(1).abs().max()) <= 1e-4 * scale / real(args["dx"]) ** 2
    call(ops.flux_divergence, args, expect)


@fuzz("physdl.ops.gradient_energy")
def _(draw):
    u, dx = draw(field()), draw(positive(0.05, 10))
    call(ops.gradient_energy, {"u": u, "dx": dx},
         lambda out, **_: (out.shape == u.value.shape and bool((out >= 0).all())) or pytest_fail())


@fuzz("physdl.ops.periodic_offset", "physdl.ops.periodic_distance")
def _(draw):
    name = draw(st.sampled_from(["periodic_offset", "periodic_distance"]))
    a = draw(tensor((draw(st.integers(2, 6)),), lo=-50, hi=50))
    b = draw(st.one_of(number(-50, 50, bad_chance=0), tensor((1,), lo=-50, hi=50),
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
    spacing = draw(st.one_of(positive(0.01, 10), st.sampled_from([good(tuple([0.5] * d)), bad((0.5,) * (d + 1), "too many")])))
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
    dt = draw(positive(1e-3, 0.5))
    args = {"grid": good(grid), "dt": dt, "alpha": alpha, "check": good(True)}
    made = {}

    def make(**v):
        made["stepper"] = cls(**v)
        u = torch.rand(2, 1, n, n, dtype=torch.float64)
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
    args = {"alpha": alpha, "dt": draw(positive(1e-3, 1)), "dx": draw(positive(0.5, 2)),
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


EXEMPT: dict[str, str] = {
    "physdl.pde.stepper.Stepper": "an abstract base class; fuzzed through every concrete stepper and rollout",
    "physdl.ops.BOUNDARIES": "a constant tuple of names, nothing to call",
    "physdl.ops.SCHEMES": "a constant tuple of names, nothing to call",
    "physdl.ops.Boundary": "a type alias (Periodic | Dirichlet), fuzzed through Periodic and Dirichlet",
}
