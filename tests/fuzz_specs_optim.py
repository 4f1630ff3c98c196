"""Fuzz specs of :mod:`physdl.optim` and of the high-precision PINN (tests/test_fuzz.py).

Registered into :data:`fuzz_specs.SPECS` and :data:`fuzz_specs.EXEMPT` on import, with the
strategies and contract of :mod:`fuzzing`. Training entry points run 20 examples each.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from fuzz_specs import EXEMPT, close, fuzz
from fuzzing import bad_rate, call, good, integer, number, pick, positive

import physdl.burgers_pinn as BP
import physdl.optim as O
from physdl import pinn as P

EXEMPT.update({
    "physdl.optim.UPDATES": "a constant: the names of the dense updates ('bfgs', 'ssbfgs', 'ssbroyden')",
    "physdl.optim.LINE_SEARCHES": "a constant: the names of the line searches ('strong_wolfe', 'exact')",
    "physdl.burgers_pinn.SECOND_STAGES": "a constant: the optimisers refine accepts (Adam, L-BFGS and the updates)",
    "physdl.burgers_pinn.SCORING_GRIDS": "a constant: the two scoring grids, (128, 33) and (512, 201)",
})

F64 = torch.float64
TINY_PRECISE = BP.BurgersPINNConfig(hidden=(3,), precise_collocation=8, precise_adam_steps=2, precise_steps=2,
                                    precise_every=1, race_steps=1)


def quadratic_problem(n: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=gen, dtype=F64)
    return a @ a.T + torch.eye(n, dtype=F64), torch.randn(n, generator=gen, dtype=F64)


@fuzz("physdl.optim.QuasiNewton")
def _(draw):
    q = draw(bad_rate())
    x = torch.zeros(3, dtype=F64, requires_grad=True)
    args = {"params": draw(pick([[x]], [([{"params": [x]}, {"params": [torch.zeros(1, requires_grad=True)]}], "two groups")], q)),
            "update": draw(pick(list(O.UPDATES), [("newton", "not an update")], q)),
            "max_iter": draw(integer(1, 5, bad_values=[0, 1.5], bad_chance=q)),
            "line_search": draw(pick(list(O.LINE_SEARCHES), [("armijo", "not a line search")], q)),
            "tolerance_grad": draw(number(0.0, 1e-6, bad_values=(-1.0,), bad_chance=q)),
            "tolerance_change": draw(number(0.0, 1e-9, bad_values=(-1.0,), bad_chance=q)),
            "hessian_dtype": draw(pick([None, torch.float64], [(torch.int64, "an integer dtype")], q))}
    A, b = quadratic_problem()

    def expect(opt, params, **_):
        def closure() -> torch.Tensor:
            opt.zero_grad()
            f = 0.5 * x @ A @ x - b @ x
            f.backward()
            return f
        start = float(closure().detach())
        opt.step(closure)
        assert float(closure().detach()) < start  # a step of a descent method lowers a convex quadratic
    call(O.QuasiNewton, args, expect, aliases={"params": ["parameter group"]})


@fuzz("physdl.optim.ssbfgs_factors", "physdl.optim.ssbroyden_factors", "physdl.optim.update_factors",
      "physdl.optim.Factors")
def _(draw):
    name, q = draw(st.sampled_from(["ssbfgs_factors", "ssbroyden_factors", "update_factors", "Factors"])), draw(bad_rate())
    if name == "Factors":
        args = {"tau": draw(positive(1e-3, 10.0, bad_chance=q)), "phi": draw(number(-2.0, 2.0, bad_chance=q))}
    else:
        args = {"b": draw(positive(1e-3, 1e3, bad_chance=q))}
        if name != "ssbfgs_factors":
            args["h"] = draw(positive(1e-3, 1e3, bad_chance=q))
            args["n"] = draw(integer(1, 5000, bad_values=[0, 2.5], bad_chance=q))
        if name == "update_factors":
            args["update"] = draw(pick(list(O.UPDATES), [("lbfgs", "not a dense update")], q))

    def expect(out, **v):
        assert isinstance(out, O.Factors) and out.tau > 0
        if name == "ssbfgs_factors":
            assert out.phi == 1.0 and out.tau == min(1.0, 1.0 / float(v["b"]))
    call(getattr(O, name), args, expect)


@fuzz("physdl.optim.inverse_update")
def _(draw):
    q = draw(bad_rate())
    n = draw(st.integers(1, 5))
    gen = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=gen, dtype=F64)
    H = a @ a.T + torch.eye(n, dtype=F64)
    s = torch.randn(n, generator=gen, dtype=F64)
    y = s + 0.1 * torch.randn(n, generator=gen, dtype=F64)  # y.s > 0
    nan_s = s.clone()
    nan_s[0] = float("nan")
    args = {"H": draw(pick([H], [(H[:, :1], "not square"), (H.float(), "another dtype")], q)),
            "s": draw(pick([s], [(nan_s, "NaN"), (s[:, None], "a matrix")], q)),
            "y": draw(pick([y], [(-s, "negative curvature")], q)),
            "factors": draw(pick([O.Factors(1.0, 1.0), O.Factors(0.5, 0.0)], [((1.0, 1.0), "not Factors")], q))}

    def expect(new, s, y, **_):
        close(new @ y, s, rtol=1e-9, atol=1e-9)
    call(lambda H, s, y, factors: O.inverse_update(H.clone(), s, y, factors), args, expect, name="inverse_update",
         aliases={"H": ["(n, n)", "dtype"], "s": ["vectors", "dtype"], "y": ["curvature", "vectors"]})


@fuzz("physdl.pinn.AdaptivePoints")
def _(draw):
    q = draw(bad_rate())
    loss = BP.precise_problem(TINY_PRECISE)
    args = {"loss": draw(pick([loss], [(loss.model, "not a PINNLoss")], q)),
            "n": draw(integer(1, 8, bad_values=[0], bad_chance=q)), "domain": good(P.Domain()),
            "every": draw(integer(1, 3, bad_values=[0], bad_chance=q)),
            "seed": draw(integer(0, 5, bad_values=[-1], bad_chance=q)),
            "candidates": draw(pick([None, 20], [(0, "fewer than n")], q)),
            "k": draw(number(0.0, 2.0, bad_values=(-1.0,), bad_chance=q)),
            "c": draw(positive(0.1, 2.0, bad_chance=q)),
            "dtype": draw(pick([torch.float64], [(torch.int32, "an integer dtype")], q))}
    step = draw(st.integers(0, 6))

    def expect(points, n, every, **_):
        pts = points(step)
        assert pts.shape == (int(n), 2) and pts.dtype == torch.float64
        P.Domain().check(pts, atol=1e-9)
        assert points(step) is pts  # fixed between two redraws
        if step // int(every) == 0:
            assert points.draws == 1
    call(P.AdaptivePoints, args, expect, aliases={"candidates": ["n"]})


@fuzz("physdl.burgers_pinn.precise_problem")
def _(draw):
    q = draw(bad_rate())
    args = {"cfg": draw(pick([TINY_PRECISE], [({"hidden": (3,)}, "not a config")], q)),
            "dtype": draw(pick([torch.float32, torch.float64], [(torch.int64, "an integer dtype")], q)),
            "device": draw(pick(["cpu"], [("cuda:x", "not a device")], q))}

    def expect(loss, cfg, dtype, **_):
        assert isinstance(loss.collocation, P.AdaptivePoints) and len(loss.data_points) == 0
        value = loss(0)
        assert value.dim() == 0 and float(value) >= 0 and value.dtype == dtype
    call(BP.precise_problem, args, expect)


@fuzz("physdl.burgers_pinn.warm_up", "physdl.burgers_pinn.refine", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["warm_up", "refine"])), draw(bad_rate())
    loss = BP.precise_problem(TINY_PRECISE)
    args = {"loss": draw(pick([loss], [(BP.forward_problem(BP.BurgersPINNConfig(hidden=(3,))), "no adaptive points")], q)),
            "cfg": draw(pick([TINY_PRECISE], [("cfg", "not a config")], q)), "progress": good(False),
            "validate": draw(pick([None, lambda: 0.5], [(0.5, "not callable")], q))}
    if name == "refine":
        args.update(optimizer=draw(pick(list(BP.SECOND_STAGES), [("newton", "not an optimiser")], q)),
                    steps=draw(integer(0, 2, bad_values=[-1], bad_chance=q)),
                    redraw=draw(pick([True, False], [("yes", "not a bool")], q)))

    def expect(history, cfg, **v):
        if name == "warm_up":
            assert len(history.loss) == cfg.precise_adam_steps
        else:
            per_step = 20 if v["optimizer"] == "adam" else 1
            assert len(history.loss) == per_step * int(v["steps"])
    call(getattr(BP, name), args, expect, aliases={"loss": ["AdaptivePoints"]})


@fuzz("physdl.burgers_pinn.scoring_errors", "physdl.burgers_pinn.ErrorTrace", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["scoring_errors", "ErrorTrace"])), draw(bad_rate())
    torch.manual_seed(0)
    model = BP.network((3,), draw(st.sampled_from([torch.float32, torch.float64])))
    args = {"model": draw(pick([model], [("net", "not a module")], q))}

    def expect(out, model):
        if name == "scoring_errors":
            assert len(out) == len(BP.SCORING_GRIDS) and all(e >= 0 for e in out)
            close(torch.tensor(out[0]), torch.tensor(BP.grid_error(model)), rtol=1e-6, atol=1e-8)
            return
        out.start()
        assert out.seconds == [0.0] or len(out.seconds) == 1
        out()
        close(torch.tensor(out.errors[-1]), torch.tensor(BP.scoring_errors(model)), rtol=1e-6, atol=1e-8)
        assert out.time_to(10.0) == out.seconds[0]
    call(getattr(BP, name), args, expect)
