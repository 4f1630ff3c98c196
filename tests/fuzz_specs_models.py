"""Fuzz specs of the model PDEs (Cahn-Hilliard, voids) and of the services the methods share.

Registered into :data:`fuzz_specs.SPECS` and :data:`fuzz_specs.EXEMPT` on import, with the
strategies and contract of :mod:`fuzzing` (tests/test_fuzz.py runs them).
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from fuzz_specs import EXEMPT, close, fuzz, stepper_rollout
from fuzzing import bad, call, choice, field, good, integer, number, per_axis, pick, positive, tensor

from physdl import distributed, ops
from physdl.pde import cahn_hilliard as ch

# =========================================================================== pde.cahn_hilliard

#: a model whose explicit stability limit in 2D is about 0.02 (so fuzzed steps land either side)
MODELS = [ch.CahnHilliard(), ch.CahnHilliard(1.5, 0.5, 1.0), ch.CahnHilliard(3.0, 1.0, 2.0)]


def model_arg(draw):
    return draw(st.sampled_from([*map(good, MODELS), bad(3.0, "not a model"), bad(None, "not a model")]))


def ch_field(draw, *, space: tuple[int, ...] | None = None, lo: float = 0.0, hi: float = 1.0):
    """A ``(batch, 1, *space)`` phase field in 2D or 3D, or a bad one (1D, two channels, ...)."""
    phi = draw(field(dims=(2, 3), space=space, lo=lo, hi=hi))
    kind = draw(st.sampled_from(["field"] * 8 + ["1d", "channels"]))
    if kind == "1d":
        return bad(torch.rand(2, 1, 6), "a 1D field")
    if kind == "channels":
        return bad(torch.rand(2, 2, 4, 4), "two channels")
    return phi


@fuzz("physdl.pde.cahn_hilliard.CahnHilliard")
def _(draw):
    args = {"epsilon": draw(positive(0.5, 10)), "mobility": draw(positive(0.1, 10)), "dx": draw(positive(0.1, 10))}

    def expect(out, **v):
        assert all(type(getattr(out, k)) is float and getattr(out, k) == float(v[k]) for k in args)
    call(ch.CahnHilliard, args, expect)


@fuzz("physdl.pde.cahn_hilliard.bulk_energy", "physdl.pde.cahn_hilliard.bulk_derivative")
def _(draw):
    name = draw(st.sampled_from(["bulk_energy", "bulk_derivative"]))
    phi = draw(st.one_of(field(lo=-0.5, hi=1.5), tensor((draw(st.integers(1, 5)),), lo=-0.5, hi=1.5)))
    if phi.why in ("no batch or channel axis", "empty batch", "four spatial axes"):  # elementwise: any shape
        phi = good(phi.value)
    args = {"phi": phi, "epsilon": draw(positive(0.5, 10))}

    def expect(out, **v):
        assert out.shape == v["phi"].shape and out.dtype == v["phi"].dtype
        if name == "bulk_energy":
            assert bool((out >= 0).all())
        else:  # the derivative of the double well, by autograd
            x = v["phi"].detach().double().requires_grad_(True)
            ch.bulk_energy(x, v["epsilon"]).sum().backward()
            close(out, x.grad, rtol=1e-3, atol=1e-3)
    call(getattr(ch, name), args, expect)


@fuzz("physdl.pde.cahn_hilliard.chemical_potential", "physdl.pde.cahn_hilliard.free_energy")
def _(draw):
    name = draw(st.sampled_from(["chemical_potential", "free_energy"]))
    args = {"phi": ch_field(draw), "model": model_arg(draw)}
    if name == "free_energy":
        args["density"] = draw(st.sampled_from([good(True), good(False), bad("yes", "not a bool")]))
        if draw(st.booleans()) and not args["phi"].bad:  # stacked frames (batch, time, 1, *space)
            args["phi"] = good(torch.stack([args["phi"].value] * 2, 1))

    def expect(out, **v):
        phi = v["phi"]
        if name == "chemical_potential":
            assert out.shape == phi.shape
        else:
            assert out.shape == phi.shape[: 2 if phi.dim() >= 5 and phi.shape[2] == 1 else 1]
            assert bool((out >= -1e-6).all())  # both terms of the energy are non-negative
    call(getattr(ch, name), args, expect)


@fuzz("physdl.pde.cahn_hilliard.stability_limit", "physdl.pde.cahn_hilliard.check_stability")
def _(draw):
    name = draw(st.sampled_from(["stability_limit", "check_stability"]))
    args = {"model": model_arg(draw), "dims": draw(integer(2, 3, bad_values=[1, 4, 2.5, "3"]))}
    if name == "check_stability":
        args["dt"] = draw(positive(1e-4, 0.05))

    def expect(out, **v):
        if name == "stability_limit":
            assert out > 0
            assert out >= ch.stability_limit(v["model"], 3)  # a 3D grid is never more permissive
        else:
            assert out is None and float(v["dt"]) <= ch.stability_limit(v["model"], int(v["dims"]))
    call(getattr(ch, name), args, expect, may_reject=["dt"] if name == "check_stability" else ())


@fuzz("physdl.pde.cahn_hilliard.explicit_step")
def _(draw):
    args = {"phi": ch_field(draw), "dt": draw(positive(1e-4, 0.02)), "model": model_arg(draw)}

    def expect(out, **v):
        phi = v["phi"]
        assert out.shape == phi.shape and out.dtype == phi.dtype
        close(out.flatten(1).mean(1), phi.flatten(1).mean(1), rtol=1e-4, atol=1e-4)  # mass is conserved
    call(ch.explicit_step, args, expect)


@fuzz("physdl.pde.cahn_hilliard.ExplicitStepper", "physdl.pde.cahn_hilliard.SemiImplicitStepper",
      "physdl.pde.cahn_hilliard.stepper")
def _(draw):
    which = draw(st.sampled_from(["ExplicitStepper", "SemiImplicitStepper", "stepper"]))
    sp = tuple(draw(st.integers(2, 6)) for _ in range(draw(st.sampled_from([2, 3]))))
    model = draw(st.sampled_from(MODELS))
    grid = draw(st.sampled_from([good(sp), good(ops.Grid(sp, model.dx)), bad(sp[:1], "one axis"),
                                 bad(ops.Grid(sp, model.dx, "dirichlet"), "not periodic"),
                                 bad(ops.Grid(sp, 2 * model.dx), "another spacing")]))
    args = {"grid": grid, "dt": draw(positive(1e-4, 0.05)), "model": good(model)}
    if which == "stepper":
        args["method"] = draw(choice(ch.METHODS))
    if which != "ExplicitStepper":
        args["stabilization"] = draw(number(0.0, 2.0, bad_values=(-1.0,)))

    def expect(u, frames, stepper, **v):  # the mean of phi is conserved by both schemes
        close(frames[:, -1].flatten(1).mean(1), u.flatten(1).mean(1), rtol=1e-4, atol=1e-4)
    stepper_rollout(draw, getattr(ch, which), args, sp, lo=0.0, hi=1.0, expect=expect, name=which,
                    may_reject=["dt"], aliases={"grid": ["shape", "spacing", "periodic"],
                                                "method": ["choose"], "stabilization": ["stabilization"]})


@fuzz("physdl.pde.cahn_hilliard.perlin_noise", "physdl.pde.cahn_hilliard.perlin_state")
def _(draw):
    name = draw(st.sampled_from(["perlin_noise", "perlin_state"]))
    d = draw(st.sampled_from([2, 3]))
    cells = [draw(st.integers(1, 3)) for _ in range(d)]
    sp = [c * draw(st.integers(1, 3)) for c in cells]
    shape = draw(st.sampled_from([good(tuple(sp)), good(tuple(sp)), bad((*sp, 2, 2)[:4] if d == 2 else (2,) * 4, "four axes"),
                                  bad((sp[0] + 0.5, *sp[1:]), "a float size")]))
    cells_arg = draw(st.sampled_from([good(tuple(cells)), good(cells[0]) if len(set(cells)) == 1 else good(tuple(cells)),
                                      bad(0, "no cell"), bad(tuple(cells) + (1,), "one too many")]))
    if not shape.bad and not cells_arg.bad and draw(st.integers(0, 4)) == 0:  # a size that is no multiple
        grown = tuple(n + 1 for n in sp)
        uneven = any(n % c for n, c in zip(grown, cells))
        shape = bad(grown, "not a multiple of cells") if uneven else good(grown)
    if not shape.bad and int(torch.tensor(shape.value).prod()) < 2:
        shape = bad(shape.value, "a single point")
    args = {"shape": shape, "cells": cells_arg, "batch": draw(integer(1, 3)),
            "generator": draw(st.sampled_from([good(torch.Generator().manual_seed(3)), good(None), bad(7, "not a generator")])),
            "dtype": draw(st.sampled_from([good(torch.float32), good(torch.float64), bad(torch.int32, "an integer dtype")]))}
    if name == "perlin_state":
        args["mean"] = draw(st.one_of(number(0.2, 0.8), tensor((1,), lo=0.2, hi=0.8, corrupt=("nan",))))
        args["amplitude"] = draw(number(0.0, 0.3))

    def expect(out, **v):
        assert out.shape == (int(v["batch"]), 1, *v["shape"]) and out.dtype == v["dtype"]
        mean = out.double().flatten(1).mean(1)
        if name == "perlin_noise":
            close(mean, torch.zeros_like(mean), atol=1e-5)
        else:
            close(mean, torch.as_tensor(v["mean"], dtype=torch.float64).reshape(-1).expand_as(mean), atol=1e-5)
    call(getattr(ch, name), args, expect, aliases={"cells": ["cell"], "shape": ["grid size", "multiple"]})


@fuzz("physdl.pde.cahn_hilliard.sphere_state", "physdl.pde.cahn_hilliard.torus_state")
def _(draw):
    name = draw(st.sampled_from(["sphere_state", "torus_state"]))
    sp = tuple(draw(st.integers(2, 10)) for _ in range(3 if name == "torus_state" else draw(st.sampled_from([2, 3]))))
    shape = draw(st.sampled_from([good(sp), good(sp), bad(sp[:1], "one axis"), bad((0, *sp[1:]), "an empty axis")]))
    args = {"shape": shape, "epsilon": draw(positive(0.5, 5)),
            "dtype": draw(st.sampled_from([good(torch.float32), good(torch.float64), bad("float", "not a dtype")]))}
    if name == "sphere_state":
        args["radius"] = draw(positive(0.5, 5))
    else:
        major = draw(positive(1.0, 5))
        args["major"] = major
        args["minor"] = draw(st.sampled_from([good(0.5), bad(10.0, "thicker than the ring"), bad(-0.5, "negative")]))
    if name == "torus_state" and not shape.bad and len(shape.value) == 2:
        args["shape"] = bad(shape.value, "2D")

    def expect(out, **v):
        assert out.shape == (1, 1, *v["shape"]) and out.dtype == v["dtype"]
        assert bool((out >= 0).all()) and bool((out <= 1).all())  # a phase field in [0, 1]
    call(getattr(ch, name), args, expect, aliases={"minor": ["major"], "shape": ["3D"]})


@fuzz("physdl.pde.cahn_hilliard.ellipsoid_state", "physdl.pde.cahn_hilliard.slab_state")
def _(draw):
    name = draw(st.sampled_from(["ellipsoid_state", "slab_state"]))
    d = draw(st.sampled_from([2, 3]))
    sp = tuple(draw(st.integers(4, 10)) for _ in range(d))
    shape = draw(st.sampled_from([good(sp), good(sp), bad(sp[:1], "one axis"), bad((0, *sp[1:]), "an empty axis")]))
    args = {"shape": shape, "epsilon": draw(positive(0.5, 5)),
            "dtype": draw(st.sampled_from([good(torch.float32), good(torch.float64), bad("float", "not a dtype")]))}
    if name == "ellipsoid_state":
        args["radii"] = draw(st.sampled_from([good(tuple(draw(st.floats(0.5, 4)) for _ in range(d))), bad((1.0,) * (d + 1), "one too many"),
                                              bad((-1.0,) * d, "negative"), bad(2.0, "not one per axis")]))
        args["centre"] = draw(st.sampled_from([good(None), good(tuple(draw(st.floats(-3, 12)) for _ in range(d))),
                                               bad((1.0,) * (d - 1), "one too few"), bad((float("nan"),) * d, "not finite")]))
    else:
        args["width"] = draw(st.sampled_from([good(draw(st.floats(0.5, 3.5))), bad(0.0, "zero"), bad(20.0, "wider than the box")]))
        args["axis"] = draw(integer(0, d - 1, bad_values=[d, 1.5]))
        args["centre"] = draw(st.sampled_from([good(None), good(draw(st.floats(-3, 12))), bad(float("inf"), "not finite")]))

    def expect(out, **v):
        assert out.shape == (1, 1, *v["shape"]) and out.dtype == v["dtype"]
        assert bool((out >= 0).all()) and bool((out <= 1).all())  # a phase field in [0, 1]
    call(getattr(ch, name), args, expect, aliases={"shape": ["axis"], "radii": ["semi-axis"]})


@fuzz("physdl.pde.cahn_hilliard.reference", slow=True)
def _(draw):
    dt = draw(st.sampled_from([1e-3, 2e-3]))
    tau = draw(st.sampled_from([good(2 * dt), good(3 * dt), bad(2.5 * dt, "not a whole number of steps"), bad(-dt, "negative")]))
    args = {"phi0": ch_field(draw, space=(4, 4)), "frames": draw(integer(1, 3)), "tau": tau, "dt": draw(st.sampled_from(
                [good(dt), bad(0.0, "zero"), bad(float("nan"), "not finite")])),
            "switch_time": draw(st.sampled_from([good(None), good(dt), bad(float("inf"), "not finite")])),
            "dt_late": draw(st.sampled_from([good(dt), good(tau.value if tau.value > 0 else dt), bad(-1.0, "negative")])),
            "model": good(ch.CahnHilliard())}

    def expect(out, **v):
        phi0 = v["phi0"]
        assert out.shape == (phi0.shape[0], int(v["frames"]), *phi0.shape[1:])
        torch.testing.assert_close(out[:, 0], phi0)
        close(out[:, -1].flatten(1).mean(1), phi0.flatten(1).mean(1), rtol=1e-4, atol=1e-4)
    call(ch.reference, args, expect, may_reject=["dt_late"], aliases={"tau": ["dt"], "dt": ["tau"]})


EXEMPT.update({
    "physdl.pde.cahn_hilliard.METHODS": "a constant tuple of names, nothing to call",
})


# =========================================================================== pde.voids

from physdl.pde import voids  # noqa: E402


def void_state(draw, *, n: tuple[int, int] = (3, 8), batch: tuple[int, int] = (1, 2)):
    """A ``(batch, 3, nx, ny)`` state with fields in [0, 0.45] (so ``c_v + c_i < 1``), or a bad one."""
    nx = draw(st.integers(*n))
    state = draw(field(space=(nx, nx), channels=3, lo=0.0, hi=0.45, batch=batch))
    kind = draw(st.sampled_from(["state"] * 8 + ["channels", "3d"]))
    if kind == "channels":
        return bad(torch.rand(1, 2, nx, nx) * 0.4, "two channels")
    if kind == "3d":
        return bad(torch.rand(1, 3, nx, nx, nx) * 0.4, "three spatial axes")
    return state


PARAMS = [voids.VoidParameters(), voids.VoidParameters(E_v=5.0, E_i=12.0, kT=3.0, kappa_v=2.0)]


def params(draw, batch: int):
    batch = max(batch, 1)
    per_sample = voids.VoidParameters(kT=torch.linspace(3.0, 5.0, batch, dtype=torch.float64), L=torch.tensor(0.5))
    return draw(st.sampled_from([*map(good, PARAMS), good(per_sample),
                                 bad(voids.VoidParameters(kT=torch.full((batch + 1,), 4.0)), "a value per sample too many"),
                                 bad({"kT": 5.0}, "not VoidParameters")]))


def batch_of(a) -> int:
    v = a.value
    return int(v.shape[0]) if isinstance(v, torch.Tensor) and v.dim() >= 1 else 1


@fuzz("physdl.pde.voids.VoidParameters")
def _(draw):
    names = voids.VoidParameters.names()
    args = {k: draw(st.one_of(positive(0.1, 10), tensor((2,), lo=0.1, hi=10, corrupt=("nan", "inf", "int"))))
            for k in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))}
    for k, a in args.items():
        if a.why == "a vector":  # two positive values: one per sample
            args[k] = good(a.value)

    def expect(out, **v):
        assert out.names() == names and all(getattr(out, k) is v[k] for k in v)
    call(voids.VoidParameters, args, expect)


@fuzz("physdl.pde.voids.Irradiation")
def _(draw):
    args = {"cascade_probability": draw(number(0.0, 1.0, bad_values=(1.5, -0.1))),
            "vacancy_fraction": draw(number(0.0, 1.0, bad_values=(2.0,))),
            "noise": draw(number(0.0, 0.1, bad_values=(-0.1,))), "r_surf": draw(number(0.0, 20.0, bad_values=(-1.0,)))}

    def expect(out, **v):
        assert all(type(getattr(out, k)) is float and getattr(out, k) == float(v[k]) for k in v)
    call(voids.Irradiation, args, expect)


@fuzz("physdl.pde.voids.check_state")
def _(draw):
    state = void_state(draw)
    bounded = draw(st.sampled_from([good(True), good(False), bad(1, "not a bool")]))
    if draw(st.integers(0, 5)) == 0 and not state.bad:
        shifted = state.value + 2.0
        state = bad(shifted, "values above 1") if bounded.value is True else good(shifted)
    call(voids.check_state, {"state": state, "bounded": bounded}, lambda out, **_: out is None or pytest_fail())


def pytest_fail() -> None:
    raise AssertionError("unexpected result")


@fuzz("physdl.pde.voids.free_energy", "physdl.pde.voids.chemical_potentials", "physdl.pde.voids.rates")
def _(draw):
    name = draw(st.sampled_from(["free_energy", "chemical_potentials", "rates"]))
    state = void_state(draw)
    args = {"state": state, "p": params(draw, batch_of(state)), "dx": draw(positive(0.5, 2))}
    if name == "rates":
        args["irradiation"] = draw(st.sampled_from([good(None), good(voids.Irradiation()), bad("strong", "not Irradiation")]))
        args["conservative"] = draw(st.sampled_from([good(True), good(False), bad("yes", "not a bool")]))

    def expect(out, **v):
        s = v["state"]
        if name == "free_energy":
            assert out.shape == (s.shape[0],)
        else:
            assert out.shape == s.shape
        if name == "chemical_potentials" and isinstance(v["p"].kT, float):  # the derivative of the energy
            x = s.detach().double().requires_grad_(True)
            voids.free_energy(x, v["p"], v["dx"]).sum().backward()
            close(out, x.grad / float(v["dx"]) ** 2, rtol=1e-3, atol=1e-3)
        if name == "rates" and v.get("conservative", True):  # c_v and c_i move; only recombination removes them
            r = voids.recombination(s, v["irradiation"] or voids.Irradiation())
            close(out[:, 0].sum((-2, -1)), -r.sum((-2, -1)), rtol=1e-3, atol=1e-3 * (1 + float(out.abs().sum())))
    call(getattr(voids, name), args, expect, aliases={"state": ["parameter"], "p": ["parameter"]})


@fuzz("physdl.pde.voids.solid_free_energy", "physdl.pde.voids.void_free_energy")
def _(draw):
    name = draw(st.sampled_from(["solid_free_energy", "void_free_energy"]))
    shape = (draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(2, 5)))
    c_v = draw(tensor(shape, lo=0.0, hi=0.45, corrupt=("nan", "inf", "int", "numpy")))
    c_i = draw(st.sampled_from([good(c_v.value * 0.5 if isinstance(c_v.value, torch.Tensor) else torch.zeros(shape)),
                                bad(torch.zeros(shape[0], 1, 1), "another shape")]))
    args = {"c_v": c_v, "c_i": c_i}
    if name == "solid_free_energy":
        args["p"] = draw(st.sampled_from([*map(good, PARAMS), bad("p", "not VoidParameters")]))

    def expect(out, **v):
        assert out.shape == shape
        if name == "void_free_energy":
            assert bool((out >= 0).all())
    call(getattr(voids, name), args, expect, aliases={"c_i": ["c_v"], "c_v": ["c_i"]})


@fuzz("physdl.pde.voids.mobility_divergence")
def _(draw):
    n = draw(st.integers(3, 6))
    mobility = draw(field(space=(n, n), lo=0.0, hi=1.0))
    mu = draw(st.sampled_from([good(torch.rand(batch_of(mobility), 1, n, n)), bad(torch.rand(1, 1, n + 1, n), "another shape")]))
    args = {"mobility": mobility, "mu": mu, "dx": per_axis(draw(positive(0.5, 2)), 2),
            "conservative": draw(st.sampled_from([good(True), good(False), bad(None, "not a bool")]))}

    def expect(out, **v):
        assert out.shape == v["mu"].shape
        if v["conservative"]:
            close(out.sum((-2, -1)), torch.zeros(out.shape[:2]), atol=1e-4 * (1 + float(out.abs().sum())))
    call(voids.mobility_divergence, args, expect, aliases={"mu": ["mobility"], "mobility": ["mu"]})


@fuzz("physdl.pde.voids.recombination")
def _(draw):
    state = void_state(draw)
    irr = draw(st.sampled_from([good(voids.Irradiation()), good(voids.Irradiation(r_bulk=0.0)), bad(5.0, "not Irradiation")]))

    def expect(out, **v):
        assert out.shape == (v["state"].shape[0], *v["state"].shape[2:]) and bool((out >= 0).all())
    call(voids.recombination, {"state": state, "irradiation": irr}, expect)


@fuzz("physdl.pde.voids.cascades")
def _(draw):
    eta = draw(st.one_of(tensor((draw(st.integers(1, 2)), 4, 4), lo=0, hi=1, corrupt=("nan", "int", "numpy"))))
    args = {"eta": eta, "irradiation": draw(st.sampled_from([good(voids.Irradiation(cascade_probability=0.5)),
                                                            bad("on", "not Irradiation")])),
            "generator": draw(st.sampled_from([good(torch.Generator().manual_seed(1)), good(None), bad(1, "not a generator")]))}

    def expect(out, **v):
        p_v, p_i = out
        assert p_v.shape == p_i.shape == v["eta"].shape
        assert bool((p_v >= 0).all()) and bool((p_v[v["eta"] >= voids.SOLID_THRESHOLD] == 0).all())  # solid only
    call(voids.cascades, args, expect)


@fuzz("physdl.pde.voids.stability_limit", "physdl.pde.voids.check_stability")
def _(draw):
    name = draw(st.sampled_from(["stability_limit", "check_stability"]))
    args = {"p": draw(st.sampled_from([*map(good, PARAMS), bad(None, "not VoidParameters")])), "dx": draw(positive(0.5, 2)),
            "state": draw(st.sampled_from([good(None), void_state(draw)]))}
    if name == "check_stability":
        args["dt"] = draw(positive(1e-4, 0.1))

    def expect(out, **v):
        if name == "stability_limit":
            assert out > 0 and out >= voids.stability_limit(v["p"], v["dx"])  # a state's bound is never tighter
    call(getattr(voids, name), args, expect, may_reject=["dt"] if name == "check_stability" else ())


@fuzz("physdl.pde.voids.check_parameters")
def _(draw):
    batch = draw(st.integers(1, 3))
    args = {"p": params(draw, batch), "batch": draw(st.sampled_from([good(batch), good(None)]))}
    if args["batch"].value is None and args["p"].why == "a value per sample too many":
        args["p"] = good(args["p"].value)  # without a batch, any number of values is one per sample
    call(voids.check_parameters, args, lambda out, **v: out is v["p"] or pytest_fail(), aliases={"p": ["parameter"]})


@fuzz("physdl.pde.voids.VoidStepper")
def _(draw):
    n = draw(st.integers(3, 6))
    batch = draw(st.integers(1, 2))
    grid = draw(st.sampled_from([good(ops.Grid((n, n), 1.0)), bad(ops.Grid(n, 1.0), "1D"),
                                 bad(ops.Grid((n, n), 1.0, "dirichlet"), "not periodic"),
                                 bad(ops.Grid((n, n), (1.0, 2.0)), "not isotropic")]))
    args = {"grid": grid, "dt": draw(positive(1e-4, 0.02)), "p": params(draw, batch),
            "stochastic": draw(st.sampled_from([good(False), good(True), bad("no", "not a bool")])),
            "generator": good(torch.Generator().manual_seed(0)),
            "clip": draw(st.sampled_from([good(True), good(False)]))}

    def expect(u, frames, stepper, **v):
        if v["clip"]:
            assert float(frames.min()) >= 0 and float(frames.max()) <= 1
    stepper_rollout(draw, voids.VoidStepper, args, (n, n), channels=3, lo=0.0, hi=0.45, batch=(batch, batch),
                    expect=expect, name="VoidStepper", may_reject=["dt"],
                    aliases={"grid": ["2D", "isotropic"], "p": ["parameter"], "state": ["parameter"]})


@fuzz("physdl.pde.voids.disc", "physdl.pde.voids.voids_state")
def _(draw):
    name = draw(st.sampled_from(["disc", "voids_state"]))
    n = draw(integer(1, 12))
    m = int(n.value) if not n.bad else 8
    centre = draw(st.sampled_from([good((m / 2, m / 3)), good((0.0, float(m))), bad((1.0,), "one coordinate"),
                                   bad((float("nan"), 1.0), "not finite")]))
    radius = draw(positive(0.5, 4))
    args = {"n": n, "width": draw(positive(0.5, 3)),
            "dtype": draw(st.sampled_from([good(torch.float32), good(torch.float64), bad(torch.int8, "an integer dtype")]))}
    if name == "disc":
        args.update(center=centre, radius=radius)
    else:
        args["centers"] = good([centre.value]) if not centre.bad else bad([centre.value], centre.why)
        args["radii"] = draw(st.sampled_from([good([radius.value]) if not radius.bad else bad([radius.value], radius.why),
                                              bad([1.0, 2.0], "a radius too many")]))
        args["c_v_solid"] = draw(st.one_of(number(0.0, 0.5), st.just(good(torch.full((m, m), 0.2))) if not n.bad
                                           else st.just(bad(torch.full((3, 3), 0.2), "another size")),
                                           st.just(bad(torch.full((m + 1, m), 0.2), "another size"))))
        args["c_i_solid"] = draw(number(0.0, 0.3))

    def expect(out, **v):
        k = int(v["n"])
        assert out.shape == ((k, k) if name == "disc" else (1, 3, k, k)) and out.dtype == v["dtype"]
        assert float(out.min()) >= 0 and float(out.max()) <= 1
    call(getattr(voids, name), args, expect,
         aliases={"centers": ["center", "centre"], "radii": ["radius", "centre"], "c_v_solid": ["initial state"],
                  "c_i_solid": ["initial state"]})


@fuzz("physdl.pde.voids.vacancy_gradient")
def _(draw):
    args = {"n": draw(integer(1, 12)), "mean": draw(number(0.3, 0.7)), "amplitude": draw(number(0.0, 0.25)),
            "direction": draw(number(-3.2, 3.2)),
            "dtype": draw(st.sampled_from([good(torch.float32), good(torch.float64), bad(None, "not a dtype")]))}

    def expect(out, **v):
        assert out.shape == (int(v["n"]),) * 2 and out.dtype == v["dtype"]
        close(out.double().mean(), torch.tensor(float(v["mean"])), atol=float(v["amplitude"]) + 1e-5)
    call(voids.vacancy_gradient, args, expect)


@fuzz("physdl.pde.voids.void_area", "physdl.pde.voids.void_centroid")
def _(draw):
    name = draw(st.sampled_from(["void_area", "void_centroid"]))
    n = draw(st.integers(3, 8))
    eta = draw(tensor((draw(st.integers(1, 3)), n, n), lo=0, hi=1, corrupt=("nan", "int", "numpy")))
    if not eta.bad and draw(st.booleans()):  # a void in every frame
        eta = good(torch.maximum(eta.value, voids.disc(n, (n / 2, n / 2), n / 4, dtype=eta.value.dtype)))
    args = {"eta": eta, "threshold": draw(number(0.3, 0.7))}
    if name == "void_area":
        args["dx"] = draw(positive(0.5, 2))
    elif not eta.bad and not args["threshold"].bad and not bool(
            ((eta.value >= float(args["threshold"].value)).sum((-2, -1)) > 0).all()):
        args["eta"] = bad(eta.value, "a frame without a void")

    def expect(out, **v):
        e = v["eta"]
        assert out.shape == (e.shape[:-2] if name == "void_area" else (*e.shape[:-2], 2))
        if name == "void_area":
            assert bool((out >= 0).all())
        else:
            assert bool((out >= 0).all()) and bool((out < n).all())
    call(getattr(voids, name), args, expect)


EXEMPT.update({
    "physdl.pde.voids.FIELDS": "a constant tuple of channel names, nothing to call",
    "physdl.pde.voids.LOG_FLOOR": "a constant, the floor of the logarithms",
    "physdl.pde.voids.SOLID_THRESHOLD": "a constant, the eta below which a pixel is solid",
})


# =========================================================================== sampling

from physdl import sampling  # noqa: E402

STREAMS = choice(["", "batches", "noise", "collocation"], [3, None, b"batches"])


@fuzz("physdl.sampling.step_seed", "physdl.sampling.step_generator")
def _(draw):
    name = draw(st.sampled_from(["step_seed", "step_generator"]))
    args = {"seed": draw(integer(0, 2**40, bad_values=[-1, 1.5, "0", True])),
            "step": draw(integer(0, 10**6, bad_values=[-3, 2.0, None])), "stream": draw(STREAMS)}
    if name == "step_generator":
        args["device"] = draw(st.sampled_from([good(None), good("cpu"), good(torch.device("cpu")), bad("nowhere", "no device")]))

    def expect(out, **v):
        again = getattr(sampling, name)(**v)
        if name == "step_seed":
            assert isinstance(out, int) and 0 <= out < 2**64 and out == again
            other = sampling.step_seed(int(v["seed"]), int(v["step"]) + 1, v["stream"])
            assert other != out  # the next step draws something else
        else:
            assert torch.equal(torch.rand(4, generator=out), torch.rand(4, generator=again))  # reproducible
    call(getattr(sampling, name), args, expect)


@fuzz("physdl.sampling.EpochBatches")
def _(draw):
    args = {"n": draw(integer(1, 40, bad_values=[0, -1, 2.5])), "batch_size": draw(integer(1, 16, bad_values=[0, -2, "4"])),
            "seed": draw(integer(0, 100, bad_values=[-1])), "stream": draw(STREAMS)}
    step = draw(st.integers(0, 50))

    def make(**v):
        sampler = sampling.EpochBatches(**v)
        return sampler, sampler(step), [sampler(k) for k in range(sampler.per_epoch * (step // sampler.per_epoch),
                                                                   sampler.per_epoch * (step // sampler.per_epoch + 1))]

    def expect(out, **v):
        sampler, batch, epoch = out
        n, b = int(v["n"]), int(v["batch_size"])
        assert batch.dtype == torch.int64 and batch.shape == (min(n, b),)
        assert bool((batch >= 0).all()) and bool((batch < n).all())
        seen = torch.cat(epoch)
        assert seen.unique().numel() == seen.numel()  # an epoch never repeats an index
        assert torch.equal(sampling.EpochBatches(**v)(step), batch)  # a pure function of (seed, step)
    call(make, args, expect, name="EpochBatches")


# =========================================================================== distributed

EXEMPT.update({
    "physdl.distributed.BACKENDS": "a constant: the process-group backends physdl picks from",
    "physdl.distributed.Shard": "a result container returned by shard, fuzzed there",
    "physdl.distributed.init": "joins the process group torchrun describes; run under torchrun in tests/test_distributed.py",
    "physdl.distributed.close": "takes no argument: leaves the process group (tests/test_distributed.py)",
    "physdl.distributed.active": "takes no argument: whether a process group of several ranks runs",
    "physdl.distributed.world_size": "takes no argument: the number of ranks",
    "physdl.distributed.rank": "takes no argument: this process's rank",
    "physdl.distributed.is_main": "takes no argument: whether this is rank 0",
    "physdl.distributed.local_device": "takes no argument: this rank's device",
    "physdl.distributed.barrier": "takes no argument: waits for every rank",
})


@fuzz("physdl.distributed.shard")
def _(draw):
    ranks = draw(integer(1, 6, bad_values=[0, 1.5, True]))
    count = int(ranks.value) if not ranks.bad else 1
    args = {"size": draw(integer(count, 40, bad_values=[0, -1, 2.5])), "ranks": ranks,
            "rank": draw(pick([None, *range(count)], [(count, "past the last rank"), (-1, "negative"), ("0", "a string")], 0.2))}

    def expect(piece, size, rank, ranks):
        r, n = (0 if rank is None else int(rank)), int(size)
        assert 0 <= piece.start < piece.stop <= n and piece.stop - piece.start in (n // int(ranks), n // int(ranks) + 1)
        assert abs(piece.weight - (piece.stop - piece.start) * int(ranks) / n) < 1e-12
        if r + 1 < int(ranks):
            assert distributed.shard(n, r + 1, int(ranks)).start == piece.stop  # contiguous, in rank order
    # a global batch smaller than the number of ranks leaves a rank without a sample
    call(distributed.shard, args, expect, may_reject=["size"])


@fuzz("physdl.distributed.local_batch", "physdl.distributed.mean_over_ranks", "physdl.distributed.average_gradients",
      "physdl.distributed.broadcast_state")
def _(draw):
    name = draw(st.sampled_from(["local_batch", "mean_over_ranks", "average_gradients", "broadcast_state"]))
    model = torch.nn.Linear(2, 1)
    if name == "local_batch":
        args = {"batch": draw(pick([torch.arange(5), torch.rand(3, 2)], [([1, 2], "a list"), (torch.tensor(1.0), "no batch axis")], 0.3))}
    elif name == "mean_over_ranks":
        args = {"value": draw(pick([1.5, torch.tensor(2.0), torch.tensor([3.0])], [(torch.ones(2), "two values"), ("1", "a string"),
                                                                                   (True, "a bool"), (torch.tensor(1), "an integer tensor")], 0.3))}
    elif name == "average_gradients":
        args = {"parameters": draw(pick([model.parameters(), list(model.parameters())], [(5, "a number"), ([1.0], "not tensors"),
                                                                                          (model.weight, "one tensor")], 0.3))}
    else:
        args = {"module": draw(pick([model], [(model.weight, "a tensor, not a module")], 0.3)),
                "parameters": draw(pick([True, False], [(1, "an int")], 0.3))}

    def expect(out, **v):  # one process: the identity
        if name == "local_batch":
            assert out[0] is v["batch"] and out[1] == 1.0
        elif name == "mean_over_ranks":
            assert out.dim() == 0 and float(out) == float(torch.as_tensor(v["value"]).reshape(()))
        else:
            assert out is None
    call(getattr(distributed, name), args, expect)


# =========================================================================== shards

from physdl import shards  # noqa: E402

EXEMPT.update({
    "physdl.shards.MANIFEST": "a constant: the manifest's file name in a shard folder",
    "physdl.shards.FORMAT": "a constant: the format name every manifest declares",
})


@fuzz("physdl.shards.write", "physdl.shards.ShardedDataset")
def _(draw):
    import tempfile

    count = draw(integer(1, 3, bad_values=[0, 1.5]))
    n = int(count.value) if not count.bad else 1
    rows = [draw(st.integers(1, 3)) for _ in range(n)]

    def good_make(k):
        return {"x": torch.full((rows[k], 2), float(k)), "i": torch.arange(rows[k])}

    args = {"config": draw(pick([{}, {"n": 3, "name": "a"}], [({"x": float("nan")}, "nan"), ([1], "not a mapping")], 0.2)),
            "version": draw(pick(["v1"], [("", "empty"), (1, "not a string")], 0.2)), "count": count,
            "make": draw(pick([good_make], [(5, "not callable"), (lambda k: {"x": torch.ones(2), "y": torch.ones(3)}, "rows differ"),
                                            (lambda k: [1], "not a mapping")], 0.2)),
            "progress": draw(pick([None, False], [("yes", "a string")], 0.2))}

    def run(**v):
        with tempfile.TemporaryDirectory(prefix="physdl-fuzz-shards-") as folder:
            data = shards.write(folder, **v)
            again = shards.ShardedDataset(folder)
            return data, [again["x", i] for i in range(len(again))], again.rows_per_shard

    def expect(out, count, **_):
        data, read, per_shard = out
        assert per_shard == rows[:int(count)] and len(read) == sum(rows[:int(count)])
        assert [float(x[0]) for x in read] == [float(k) for k in range(int(count)) for _ in range(rows[k])]
    call(run, args, expect, name="shards.write", aliases={"make": ["make(0)", "shard"]})


# =========================================================================== the pde package

import physdl.pde as pde_package  # noqa: E402
from physdl.pde import stepper as stepper_module  # noqa: E402

for _name in getattr(pde_package, "__all__", ()):
    # Re-exports: the very objects of physdl.pde.stepper, fuzzed (or exempt) under that name.
    assert getattr(pde_package, _name) is getattr(stepper_module, _name), _name
    EXEMPT[f"physdl.pde.{_name}"] = f"the same object as physdl.pde.stepper.{_name}, covered there"


# =========================================================================== nn

from physdl import nn as pnn  # noqa: E402

KINDS = ["tanh", "relu", "gelu", "silu"]


def net_input(draw, shape: tuple[int, ...], dtype: torch.dtype = torch.float32):
    """An input for a float32 network: good, or float64 / an integer / NaN / an empty batch / not a tensor."""
    x = torch.rand(shape, dtype=dtype) * 2 - 1
    return draw(st.sampled_from([good(x)] * 6 + [bad(x.double(), "float64 into float32 weights"),
                                                 bad(x.round().long(), "an integer tensor"),
                                                 bad(x.new_full(shape, float("nan")), "NaN"),
                                                 bad(x[:0], "an empty batch"), bad(x.numpy(), "a NumPy array")]))


@fuzz("physdl.nn.convolution")
def _(draw):
    dims = draw(integer(1, 3, bad_values=[0, 4, 2.0, True, None]))

    def expect(out, **v):
        assert out is pnn.CONVOLUTIONS[int(v["dims"])]
        conv = out(1, 2, 3, padding=1, padding_mode="circular")
        assert conv(torch.rand(1, 1, *[4] * int(v["dims"]))).shape == (1, 2, *[4] * int(v["dims"]))
    call(pnn.convolution, {"dims": dims}, expect)


@fuzz("physdl.nn.ConvGRUCell", "physdl.nn.ConvGRU")
def _(draw):
    which = draw(st.sampled_from(["ConvGRUCell", "ConvGRU"]))
    dims = draw(st.integers(1, 3))
    cin, hid = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    args = {"in_channels": draw(integer(cin, cin, bad_values=[0, 1.5])),
            "hidden_channels": draw(integer(hid, hid, bad_values=[0, -2])),
            "kernel_size": draw(st.sampled_from([good(1), good(3), bad(2, "even"), bad(0, "zero"), bad(3.0, "a float")])),
            "dims": draw(integer(dims, dims, bad_values=[0, 4])),
            "padding_mode": draw(choice(["circular", "zeros", "replicate"], ["periodic", 3])),
            "symmetric": draw(pick([False, True], [(1, "not a bool")]))}
    if which == "ConvGRU":
        args["layers"] = draw(integer(1, 2, bad_values=[0, 1.5]))
    batch = draw(st.integers(1, 2))
    sp = (4,) * dims
    x = net_input(draw, (batch, cin, *sp))
    if draw(st.integers(0, 5)) == 0 and not x.bad:
        x = bad(torch.rand(batch, cin + 1, *sp), "another channel count")
    hidden = draw(st.sampled_from([good(None), good("zeros"), bad("short", "too few hidden states"),
                                   bad("wrong", "a hidden state of another shape")]))

    def run(x, hidden, **v):
        torch.manual_seed(0)
        net = getattr(pnn, which)(**v)
        layers = len(net.cells) if which == "ConvGRU" else 1
        h = {None: None, "zeros": [torch.zeros(x.shape[0], hid, *x.shape[2:])] * layers,
             "short": [torch.zeros(x.shape[0], hid, *x.shape[2:])] * (layers - 1) if layers > 1 else [],
             "wrong": [torch.zeros(x.shape[0], hid + 1, *x.shape[2:])] * layers}[hidden] if isinstance(x, torch.Tensor) else None
        if which == "ConvGRUCell":
            h = None if h is None else (h[0] if h else torch.zeros(0))
        return net, x, net(x, h)

    def expect(out, **v):
        net, x, h = out
        last = h[-1] if which == "ConvGRU" else h
        assert last.shape == (x.shape[0], hid, *x.shape[2:]) and last.dtype == x.dtype
        assert bool((last.abs() <= 1 + 1e-6).all())  # a convex mix of tanh values and a zero start
    call(run, {"x": x, "hidden": hidden, **args}, expect, name=which,
         aliases={"x": ["input"], "hidden": ["h", "hidden states"], "in_channels": ["input"]})


@fuzz("physdl.nn.SymmetricConv")
def _(draw):
    dims = draw(st.integers(1, 3))
    cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    args = {"in_channels": draw(integer(cin, cin, bad_values=[0, 1.5])),
            "out_channels": draw(integer(cout, cout, bad_values=[0, -1])),
            "kernel_size": draw(st.sampled_from([good(1), good(3), good(5), bad(2, "even"), bad(0, "zero"), bad(3.0, "a float")])),
            "dims": draw(integer(dims, dims, bad_values=[0, 4])),
            "padding_mode": draw(choice(["circular", "zeros", "reflect", "replicate"], ["periodic", 3])),
            "bias": draw(pick([True, False], [("yes", "not a bool")]))}
    x = net_input(draw, (draw(st.integers(1, 2)), cin, *(draw(st.integers(3, 6)) for _ in range(dims))))
    if draw(st.integers(0, 5)) == 0 and not x.bad:
        x = bad(torch.rand(1, cin + 1, *(4,) * dims), "another channel count")
    symmetry = draw(st.sampled_from(pnn.grid_symmetries(dims)))

    def run(x, **v):
        torch.manual_seed(0)
        conv = pnn.SymmetricConv(**v)
        return conv, x, conv(x)

    def expect(out, **v):
        conv, x, y = out
        assert y.shape == (x.shape[0], cout, *x.shape[2:]) and y.dtype == x.dtype
        assert torch.equal(pnn.apply_symmetry(conv.weight, symmetry), conv.weight)  # an invariant kernel
        close(conv(pnn.apply_symmetry(x, symmetry)), pnn.apply_symmetry(y, symmetry), atol=1e-5)
    call(run, {"x": x, **args}, expect, name="SymmetricConv", aliases={"x": ["input"], "in_channels": ["input"]},
         may_reject=["padding"])


@fuzz("physdl.nn.kernel_orbits", "physdl.nn.grid_symmetries", "physdl.nn.apply_symmetry")
def _(draw):
    which = draw(st.sampled_from(["kernel_orbits", "grid_symmetries", "apply_symmetry"]))
    dims = draw(integer(1, 3, bad_values=[0, 4, 2.0]))
    if which == "kernel_orbits":
        k = draw(st.sampled_from([good(1), good(3), good(5), bad(4, "even"), bad(-1, "negative")]))

        def expect(out, kernel_size, dims):
            index, count = out
            assert index.shape == (kernel_size,) * dims and int(index.max()) == count - 1 and int(index.flatten()[index.numel() // 2]) == 0
        return call(pnn.kernel_orbits, {"kernel_size": k, "dims": dims}, expect)
    if which == "grid_symmetries":
        def expect(out, dims):
            assert len(out) == 2 ** dims * math.factorial(dims) and len(set(out)) == len(out)
        return call(pnn.grid_symmetries, {"dims": dims}, expect)
    d = draw(st.integers(1, 3))
    x = torch.rand(1, draw(st.integers(1, 2)), *(draw(st.integers(2, 5)) for _ in range(d)))
    field_ = draw(st.sampled_from([good(x), good(x.double()), good(x.round().long()), bad(x.numpy(), "a NumPy array"),
                                   bad(x[0], "no batch axis")]))
    symmetry = draw(st.sampled_from([good(s) for s in pnn.grid_symmetries(d)]
                                    + [bad(((0,) * (d + 1), ()), "not a permutation"), bad((tuple(range(d)), (d,)), "no such axis"),
                                       bad(tuple(range(d)), "not a pair")]))

    def expect(out, field, symmetry):
        assert sorted(out.shape) == sorted(field.shape) and out.dtype == field.dtype
        assert torch.equal(out.flatten().sort()[0], field.flatten().sort()[0])  # the same values, moved
    call(pnn.apply_symmetry, {"field": field_, "symmetry": symmetry}, expect)


@fuzz("physdl.nn.MLP", "physdl.nn.FieldMLP")
def _(draw):
    which = draw(st.sampled_from(["MLP", "FieldMLP"]))
    cin, cout = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    hidden = draw(st.sampled_from([good([8, 8]), good((5,)), good([]), bad([8, 0], "an empty layer"), bad(8, "not a list"),
                                   bad([8.5], "a fractional width")]))
    args = {"hidden": hidden, "activation": draw(choice(KINDS, ["sine", None]))}
    if which == "MLP":
        args.update(in_features=draw(integer(cin, cin, bad_values=[0, 2.5])), out_features=draw(integer(cout, cout, bad_values=[-1])),
                    init=draw(choice(["xavier_normal", "default"], ["glorot"])))
        shape = (draw(st.integers(1, 3)), cin)
    else:
        sp = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2))))
        args.update(in_channels=draw(integer(cin, cin, bad_values=[0])), out_channels=draw(integer(cout, cout, bad_values=[0])),
                    space=draw(st.sampled_from([good(sp), bad((*sp, 0), "an empty axis"), bad("grid", "not a shape")])))
        shape = (draw(st.integers(1, 3)), cin, *sp)
    x = net_input(draw, shape)
    if draw(st.integers(0, 5)) == 0 and not x.bad:
        x = bad(torch.rand(*shape[:-1], shape[-1] + 1), "another size")

    def run(x, **v):
        torch.manual_seed(0)
        net = getattr(pnn, which)(**v)
        return net(x)

    def expect(out, **v):
        expected = (shape[0], cout) if which == "MLP" else (shape[0], cout, *v["space"])
        assert out.shape == expected and out.dtype == torch.float32
    call(run, {"x": x, **args}, expect, name=which, aliases={"x": ["input"]})


@fuzz("physdl.nn.UNet")
def _(draw):
    dims = draw(st.integers(2, 3))
    levels = draw(st.integers(1, 2))
    cin, cout, cond = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(0, 2))
    args = {"in_channels": good(cin), "out_channels": draw(integer(cout, cout, bad_values=[0])),
            "base": draw(integer(2, 4, bad_values=[0, 2.5])), "levels": draw(integer(levels, levels, bad_values=[0])),
            "dims": draw(integer(dims, dims, bad_values=[1, 4])),
            "padding_mode": draw(choice(["circular", "zeros", "replicate"], ["wrap"])),
            "norm": draw(st.sampled_from([good(None), good("group"), good("batch"), bad("layer", "unknown norm")])),
            "condition_channels": draw(integer(cond, cond, bad_values=[-1]))}
    size = draw(st.sampled_from([4, 4, 3 if levels == 2 else 4]))
    x = net_input(draw, (2, cin, *[size] * dims))
    if size == 3 and not x.bad:
        x = bad(x.value, "a size not divisible by 2 ** (levels - 1)")
    condition = draw(st.sampled_from([good(torch.rand(2, cond)) if cond else good(None),
                                      bad(torch.rand(2, cond + 1), "another length") if cond else bad(torch.rand(2, 1), "no condition expected"),
                                      bad(torch.rand(2, cond).double(), "float64") if cond else good(None)]))

    def run(x, condition, **v):
        torch.manual_seed(0)
        return pnn.UNet(**v)(x, condition)

    def expect(out, **v):
        assert out.shape == (2, cout, *[size] * dims) and out.dtype == torch.float32
    call(run, {"x": x, "condition": condition, **args}, expect, name="UNet",
         aliases={"x": ["input", "spatial sizes"], "condition": ["condition_channels"]})


@fuzz("physdl.nn.PositiveParameters")
def _(draw):
    names = draw(st.lists(st.sampled_from(["nu", "alpha", "D", "kappa"]), min_size=1, max_size=3, unique=True))
    values = {k: draw(positive(1e-3, 1e3)) for k in names}
    learn = draw(st.sampled_from([good(None), good(names[:1]), good([]), bad(["missing"], "not a name"),
                                  bad(names[0], "a string, not a list")]))
    bad_values = [k for k, a in values.items() if a.bad]
    args = {"values": bad({k: a.value for k, a in values.items()}, f"bad value of {bad_values}") if bad_values
            else good({k: a.value for k, a in values.items()}), "learn": learn}

    def expect(out, **v):
        got = out()
        assert set(got) == set(names)
        for k in names:
            close(got[k], torch.tensor(float(v["values"][k])), rtol=1e-5)
        learned = names if v["learn"] is None else v["learn"]
        assert {k for k in names if got[k].requires_grad} == set(learned)
    call(pnn.PositiveParameters, args, expect, aliases={"values": names, "learn": ["learn", "missing"]})


@fuzz("physdl.nn.batched", "physdl.nn.model_device", "physdl.nn.count_parameters")
def _(draw):
    name = draw(st.sampled_from(["batched", "model_device", "count_parameters"]))
    torch.manual_seed(0)
    model = draw(st.sampled_from([good(pnn.MLP(2, 1, [4])), good(torch.nn.Identity()), bad("net", "not a module")]))
    args = {"model": model}
    if name == "batched":
        n = draw(st.integers(1, 7))
        inputs = net_input(draw, (n, 2))
        if isinstance(model.value, torch.nn.Identity) and inputs.why in ("float64 into float32 weights", "an integer tensor"):
            inputs = good(inputs.value)  # a network without weights takes any dtype
        args.update(inputs=inputs, batch_size=draw(integer(1, 4, bad_values=[0, 2.5, "2"])),
                    out_device=draw(st.sampled_from([good("cpu"), good(None), bad("somewhere", "no device")])))

    def expect(out, **v):
        m = v["model"]
        if name == "batched":
            torch.testing.assert_close(out, m(v["inputs"]).detach())  # slicing changes nothing
        elif name == "model_device":
            assert out == torch.device("cpu")
        else:
            assert out == sum(p.numel() for p in m.parameters())
    call(getattr(pnn, name), args, expect, aliases={"inputs": ["input"]})


EXEMPT.update({
    "physdl.nn.CONVOLUTIONS": "a constant mapping from dimensions to classes, read by convolution",
})


# =========================================================================== train

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from physdl import train  # noqa: E402

_X = torch.linspace(-1, 1, 8)[:, None]


def _tiny() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = pnn.MLP(1, 1, [3])
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


def _loss(model: torch.nn.Module):
    return lambda step: (model(_X) - _X.sin()).pow(2).mean()


@fuzz("physdl.train.fit", slow=True)
def _(draw):
    model, opt = _tiny()
    args = {"model": draw(st.sampled_from([good(model)] * 4 + [bad("net", "not a module")])),
            "loss_fn": draw(st.sampled_from([good(_loss(model))] * 4 + [bad(None, "not callable"), bad(3.0, "not callable")])),
            "optimizer": draw(st.sampled_from([good(opt)] * 4 + [bad("adam", "not an optimiser")])),
            "iterations": draw(integer(0, 6, bad_values=[-1, 2.5, "3"])),
            "validate": draw(st.sampled_from([good(None), good(lambda: float(_loss(model)(0))), bad("val", "not callable")])),
            "validate_every": draw(integer(1, 3, bad_values=[0])), "patience": draw(st.sampled_from([good(None), good(2), bad(0, "zero")])),
            "min_delta": draw(number(0.0, 0.1, bad_values=(-0.1,))),
            "restore_best": draw(st.sampled_from([good(True), good(False), bad("yes", "not a bool")])),
            "checkpoint_every": draw(integer(1, 3, bad_values=[0])), "progress": good(False),
            "desc": draw(st.sampled_from([good("fit"), bad(3, "not a string")]))}
    use_checkpoint = draw(st.booleans())

    def run(**v):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "run.pt" if use_checkpoint else None
            history = train.fit(checkpoint=path, **v)
            left = sorted(p.name for p in Path(folder).iterdir())
        return history, left

    def expect(out, **v):
        history, left = out
        assert isinstance(history, train.History)
        n = int(v["iterations"])
        assert len(history.loss) == n or (history.stopped_early and len(history.loss) < n)
        assert left == (["run.pt"] if use_checkpoint else [])  # no stray temporary files
    call(run, args, expect, name="fit")


@fuzz("physdl.train.load_checkpoint", "physdl.train.non_finite_state")
def _(draw):
    name = draw(st.sampled_from(["load_checkpoint", "non_finite_state"]))
    model, opt = _tiny()
    broken = draw(st.booleans())
    if broken:
        with torch.no_grad():
            model.net[0].weight[0, 0] = float("nan")
    if name == "non_finite_state":
        args = {"model": draw(st.sampled_from([good(model), bad(None, "not a module")])),
                "optimizer": draw(st.sampled_from([good(None), good(opt), bad("adam", "not an optimiser")]))}

        def expect(out, **v):
            assert (out == "model net.0.weight") if broken else out is None
        call(train.non_finite_state, args, expect)
        return
    kind = draw(st.sampled_from(["good", "good", "other model", "damaged", "not a checkpoint"]))

    def run(target, target_optimizer):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "run.pt"
            source, source_opt = _tiny()
            train.fit(source, _loss(source), source_opt, 2, checkpoint=path, progress=False)
            if kind == "damaged":
                path.write_bytes(path.read_bytes()[:100])
            elif kind == "not a checkpoint":
                torch.save({"weights": torch.zeros(2)}, path)
            ckpt = train.load_checkpoint(path, target, target_optimizer)
            return ckpt, source

    other = pnn.MLP(1, 2, [3])
    target = good(model) if kind != "other model" else bad(other, "another model")
    if kind in ("damaged", "not a checkpoint"):
        target = bad(model, f"a {kind} file")

    def expect(out, **v):
        ckpt, source = out
        assert ckpt["step"] == 2
        for a, b in zip(v["target"].parameters(), source.parameters()):
            torch.testing.assert_close(a, b)
    # A CheckpointError is a ValueError; its message names the checkpoint file.
    call(run, {"target": target, "target_optimizer": good(opt)}, expect, name="load_checkpoint",
         aliases={"target": ["checkpoint"]})


EXEMPT.update({
    "physdl.train.CHECKPOINT_FORMAT": "a constant, the version written into checkpoints",
    "physdl.train.CheckpointError": "an exception class (a ValueError); raised and checked by the load_checkpoint spec",
    "physdl.train.NonFiniteLossError": "an exception class; raised by fit, covered by tests/test_train.py and test_faults.py",
    "physdl.train.History": "a plain record of a run, returned and checked by the fit spec",
    "physdl.train.batches": "deprecated (goes in 0.3.0); replaced by sampling.EpochBatches, which is fuzzed",
})


# =========================================================================== data

from physdl import data  # noqa: E402

CONFIGS = [good({"n": 8, "seed": 0}), good({"nested": {"a": [1, 2.5]}, "s": "x"}), good({}),
           bad({"x": float("nan")}, "a NaN in the config"), bad({"f": object()}, "not JSON"), bad([1, 2], "not a mapping")]
#: the folder under which the specs make their cache folders, removed when the tests end
_SCRATCH = tempfile.TemporaryDirectory(prefix="physdl-fuzz-")
NAMES = choice(["flows", "heat-videos", "ch_3d"], ["", "a b", "../up", 3, "ünï"])


@fuzz("physdl.data.config_key", "physdl.data.cache_path", "physdl.data.is_cached")
def _(draw):
    name = draw(st.sampled_from(["config_key", "cache_path", "is_cached"]))
    args = {"name": draw(NAMES), "config": draw(st.sampled_from(CONFIGS))}
    folder = Path(tempfile.mkdtemp(dir=_SCRATCH.name))
    if name != "config_key":
        args["directory"] = draw(st.sampled_from([good(folder), good(str(folder)), bad(3, "not a path")]))

    def expect(out, **v):
        key = data.config_key(v["name"], v["config"])
        if name == "config_key":
            assert isinstance(out, str) and len(out) == 64 and out == key
            assert data.config_key(v["name"], {**v["config"], "extra": 1}) != out  # the config is in the key
        elif name == "cache_path":
            assert out.parent == Path(v["directory"]) and out.name == f"{v['name']}-{key[:16]}.pt"
        else:
            assert out is False  # a fresh folder holds nothing
    call(getattr(data, name), args, expect, aliases={"name": ["data set name"], "config": ["config"]})


@fuzz("physdl.data.cached")
def _(draw):
    made = []

    def generate_good():
        made.append(1)
        return {"u": torch.arange(6.0).reshape(2, 3), "ids": torch.arange(2)}

    args = {"name": draw(NAMES), "config": draw(st.sampled_from(CONFIGS)),
            "generate": draw(st.sampled_from([good(generate_good)] * 3 + [bad(None, "not callable"),
                                                                          bad(lambda: [1, 2], "returns a list")])),
            "directory": good(Path(tempfile.mkdtemp(dir=_SCRATCH.name)))}

    def expect(out, **v):
        again = data.cached(**v)  # the second call loads the file
        assert made == [1] and set(out) == {"u", "ids"}
        assert all(torch.equal(out[k], again[k]) for k in out)
    call(data.cached, args, expect, aliases={"name": ["data set name"], "generate": ["generate()"]})


@fuzz("physdl.data.tensor_checksum")
def _(draw):
    t = draw(tensor((draw(st.integers(0, 4)), 3), corrupt=()))
    tensors = draw(st.sampled_from([good({"a": t.value}), good({"a": t.value, "b": torch.arange(3)}), good({}),
                                    bad({"a": [1.0]}, "not a tensor"), bad([t.value], "not a mapping")]))

    def expect(out, **v):
        assert isinstance(out, str) and len(out) == 64 and out == data.tensor_checksum(dict(v["tensors"]))
        if v["tensors"]:
            changed = {k: x.clone() for k, x in v["tensors"].items()}
            changed["a"] = changed["a"].to(torch.float16)  # the dtype is part of the checksum
            assert data.tensor_checksum(changed) != out
    call(data.tensor_checksum, {"tensors": tensors}, expect)


EXEMPT.update({
    "physdl.data.CACHE_ENV": "a constant, the name of the environment variable",
    "physdl.data.FORMAT_VERSION": "a constant, part of every cache key",
    "physdl.data.STALE_SECONDS": "a constant, the age of a stale temporary file",
    "physdl.data.cache_dir": "takes no argument; its bad input (PHYSDL_CACHE) is covered by tests/test_bad_input.py",
})
