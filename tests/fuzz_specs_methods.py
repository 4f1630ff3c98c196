"""Fuzz specs of the methods' entry points (tests/test_fuzz.py), at tiny sizes.

Registered into :data:`fuzz_specs.SPECS` and :data:`fuzz_specs.EXEMPT` on import, with the
strategies and contract of :mod:`fuzzing`. Training entry points run 20 examples each.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from fuzz_specs import EXEMPT, close, fuzz
from fuzzing import bad, bad_rate, call, choice, field, good, integer, number, pick, positive, tensor

import physdl.burgers_pinn as BP
import physdl.crnn as crnn
import physdl.diffphys as dp
import physdl.pinn as P
import physdl.safe as safe
import physdl.surrogate as sur
from physdl import nn as pnn
from physdl.pde import burgers

def in_scratch_cache(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the data cache in a fresh folder (restored and removed afterwards)."""
    old = os.environ.get("PHYSDL_CACHE")
    with tempfile.TemporaryDirectory(prefix="physdl-fuzz-cache-") as scratch:
        os.environ["PHYSDL_CACHE"] = scratch
        try:
            return fn(*args, **kwargs)
        finally:
            if old is None:
                del os.environ["PHYSDL_CACHE"]
            else:
                os.environ["PHYSDL_CACHE"] = old


# =========================================================================== surrogate

EXEMPT.update({
    "physdl.surrogate.INPUTS": "a constant: the names of the input channels",
    "physdl.surrogate.OUTPUTS": "a constant: the names of the output channels",
    "physdl.surrogate.DATA_VERSION": "a constant: the generator version in every cache key",
    "physdl.surrogate.INPUT_ROLES": "a constant: where each input channel lives on the staggered grid",
    "physdl.surrogate.OUTPUT_ROLES": "a constant: where each output channel lives on the staggered grid",
    "physdl.surrogate.chapter_config": "deprecated wrapper of physdl.sizes.chapter (goes in 0.3.0)",
    "physdl.surrogate.time_call": "deprecated alias of physdl.timing.median_seconds (goes in 0.3.0)",
})


def flow_pair(draw, n: int | None = None, batch: tuple[int, int] = (1, 3)):
    """Drawn (inputs, targets) ``(batch, 3, n, n)``: a force, a 0/1 mask and a flow."""
    n = n or draw(st.integers(2, 6))
    b = draw(st.integers(*batch))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**20)))
    force = torch.rand(b, 2, n, n, generator=g) * 2 - 1
    mask = (torch.rand(b, 1, n, n, generator=g) > 0.7).float()
    return torch.cat([force, mask], 1), torch.rand(b, 3, n, n, generator=g) * 2 - 1


def corrupt(draw, x: torch.Tensor):
    """``x`` as good, or (bad) with a NaN, an integer dtype, a missing axis or as a float."""
    kind = draw(st.sampled_from(["good"] * 6 + ["nan", "int", "3d", "float"]))
    if kind == "good":
        return good(x)
    if kind == "nan":
        y = x.clone()
        y.view(-1)[0] = float("nan")
        return bad(y, "nan")
    if kind == "int":
        return bad(x.long(), "integer tensor")
    if kind == "3d":
        return bad(x[0], "no batch axis")
    return bad(0.5, "not a tensor")


@fuzz("physdl.surrogate.SurrogateConfig")
def _(draw):
    args = {"n": draw(integer(4, 64, bad_values=[3, 0, 2.5, "8"])), "samples": draw(integer(2, 100, bad_values=[1, -1])),
            "test_fraction": draw(number(0.05, 0.95, bad_values=(0.0, 1.0, 1.5))),
            "nu": draw(positive(1e-3, 10)), "lr": draw(positive(1e-5, 1.0)),
            "edge": draw(number(0.0, 2.0, bad_values=(-1.0,))),
            "augment": draw(st.sampled_from([good(True), good(False), bad("yes", "not a bool")])),
            "mlp_hidden": draw(st.sampled_from([good((4, 4)), good([8]), bad((4, 0), "zero width"), bad(8, "not a tuple")]))}

    def expect(cfg, **v):
        assert type(cfg.nu) is float and type(cfg.n) is int and type(cfg.mlp_hidden) is tuple
        json.dumps(cfg.data_config())  # a cache key of plain values
    call(sur.SurrogateConfig, args, expect)


@fuzz("physdl.surrogate.generate_flows", slow=True)
def _(draw):
    # smaller grids can draw a sample without any obstacle, which the Stokes solver refuses
    args = {"n": draw(integer(8, 9, bad_values=[3, 0, 2.5])), "samples": draw(integer(1, 3, bad_values=[0, -1])),
            "nu": draw(positive(0.1, 10)), "penalty": draw(positive(1.0, 1e6)), "seed": draw(integer(0, 9, bad_values=[-1, 1.5])),
            "edge": draw(number(0.0, 1.0, bad_values=(-1.0,))), "chunk": draw(integer(1, 4, bad_values=[0]))}

    def expect(out, **v):
        n, s = int(v["n"]), int(v["samples"])
        assert out["inputs"].shape == out["targets"].shape == (s, 3, n, n)
        assert out["inputs"].dtype == torch.float32
    call(sur.generate_flows, args, expect)


@fuzz("physdl.surrogate.flow_dataset", slow=True)
def _(draw):
    cfg = draw(st.sampled_from([good(sur.SurrogateConfig(n=8, samples=2, seed=s)) for s in range(3)]
                               + [bad({"n": 4}, "not a config"), bad(None, "not a config")]))

    def run(cfg):
        return in_scratch_cache(sur.flow_dataset, cfg)

    def expect(out, cfg):
        assert out["inputs"].shape == (cfg.samples, 3, cfg.n, cfg.n)
    call(run, {"cfg": cfg}, expect, name="flow_dataset")


@fuzz("physdl.surrogate.split")
def _(draw):
    x, y = flow_pair(draw, batch=(2, 6))
    data = draw(st.sampled_from([good({"inputs": x, "targets": y}), bad({"inputs": x, "targets": y[:1]}, "lengths differ"),
                                 bad({"inputs": x[:1], "targets": y[:1]}, "one sample"), bad([x, y], "not a mapping"),
                                 bad({"inputs": x, "targets": "y"}, "not a tensor")]))
    args = {"data": data, "test_fraction": draw(number(0.05, 0.95, bad_values=(0.0, 1.0, -0.5)))}

    def expect(out, data, **_):
        train, test = out
        assert len(train["inputs"]) + len(test["inputs"]) == len(data["inputs"])
        assert len(train["inputs"]) >= 1 and len(test["inputs"]) >= 1
    call(sur.split, args, expect, aliases={"data": ["samples"]})


@fuzz("physdl.surrogate.symmetry")
def _(draw):
    x, y = flow_pair(draw)
    args = {"inputs": corrupt(draw, x), "targets": corrupt(draw, y),
            "element": draw(integer(0, 7, bad_values=[8, -1, 2.5, "1"]))}

    def expect(out, inputs, targets, element):
        a, b = out
        assert a.shape == inputs.shape and b.shape == targets.shape
        close(a.abs().sum(), inputs.abs().sum())  # a permutation and sign change of the values
        a2, b2 = sur.symmetry(a, b, {3: 3, 5: 6, 6: 5}.get(int(element), int(element)))  # the inverse element
        close(a2, inputs)
        close(b2, targets)
    call(sur.symmetry, args, expect)


@fuzz("physdl.surrogate.force_magnitude", "physdl.surrogate.output_scale")
def _(draw):
    name = draw(st.sampled_from(["force_magnitude", "output_scale"]))
    x, y = flow_pair(draw)
    args = {"inputs": corrupt(draw, x)}
    if name == "output_scale":
        args["targets"] = corrupt(draw, y)

    def expect(out, inputs, **v):
        if name == "force_magnitude":
            assert out.shape == (len(inputs), 1, 1, 1) and bool((out > 0).all())
        else:
            assert out.shape == (3,) and bool((out >= 0).all())
    call(getattr(sur, name), args, expect)


@fuzz("physdl.surrogate.Scaled", "physdl.surrogate.predict")
def _(draw):
    name = draw(st.sampled_from(["Scaled", "predict"]))
    net = pnn.UNet(3, 3, base=2, levels=1) if draw(st.booleans()) else pnn.MLP(3, 3, [4])
    scale = draw(tensor((3,), lo=0.1, hi=2.0))
    if name == "Scaled":
        if not scale.bad and draw(st.floats(0, 1)) < 0.2:
            scale = bad(-scale.value, "negative scale")
        def expect_scaled(model, net, scale):
            assert model.net is net and model.scale.flatten().tolist() == scale.tolist()
        call(sur.Scaled, {"net": draw(st.sampled_from([good(net)] * 4 + [bad("unet", "not a module")])),
                          "scale": scale}, expect_scaled)
        return
    model = sur.Scaled(pnn.UNet(3, 3, base=2, levels=1), torch.ones(3))
    x, _ = flow_pair(draw, n=4)
    args = {"model": draw(st.sampled_from([good(model)] * 4 + [bad(None, "not a module")])),
            "inputs": corrupt(draw, x), "batch_size": draw(integer(1, 4, bad_values=[0, 1.5]))}

    def expect(out, inputs, **_):
        assert out.shape == inputs.shape and out.device.type == "cpu"
    call(sur.predict, args, expect)


@fuzz("physdl.surrogate.channel_errors")
def _(draw):
    x, y = flow_pair(draw)
    pred = corrupt(draw, x)
    true = draw(st.sampled_from([good(y)] * 4 + [bad(y[:, :2], "other shape"), bad(torch.zeros_like(y), "zero channel")]))

    def expect(out, pred, true):
        assert out.shape == (3,) and bool((out >= 0).all())
        assert float(sur.channel_errors(true, true).abs().max()) == 0.0
    call(sur.channel_errors, {"pred": pred, "true": true}, expect)


def _scaled() -> sur.Scaled:
    torch.manual_seed(0)
    return sur.Scaled(pnn.UNet(3, 3, base=2, levels=1), torch.ones(3))


@fuzz("physdl.surrogate.train_surrogate", "physdl.surrogate.overfit_one_sample", slow=True)
def _(draw):
    name = draw(st.sampled_from(["train_surrogate", "overfit_one_sample"]))
    model = draw(st.sampled_from([good(_scaled())] * 5 + [bad(pnn.MLP(3, 3, [4]), "not Scaled")]))
    x, y = flow_pair(draw, n=4, batch=(1, 1) if name == "overfit_one_sample" else (2, 4))
    steps = draw(integer(0, 3, bad_values=[-1, 1.5]))
    lr = draw(positive(1e-4, 1e-2))
    if name == "overfit_one_sample":
        args = {"model": model, "inputs": corrupt(draw, x), "targets": corrupt(draw, y),
                "steps": steps, "lr": lr}
    else:
        train = draw(st.sampled_from([good({"inputs": x, "targets": y})] * 4 + [bad({"inputs": x}, "no targets"),
                                                                                 bad({"inputs": x, "targets": y[:1]}, "lengths")]))
        args = {"model": model, "train": train, "test": good({"inputs": x, "targets": y}), "steps": steps,
                "batch_size": draw(integer(1, 3, bad_values=[0])), "lr": lr, "seed": draw(integer(0, 5, bad_values=[-1])),
                "progress": good(False), "validate_every": good(1),
                "augment": draw(st.sampled_from([good(True), good(False), bad("no", "not a bool")]))}

    def expect(history, steps, **_):
        assert len(history.loss) == int(steps)
    call(getattr(sur, name), args, expect)


# =========================================================================== diffphys

EXEMPT.update({
    "physdl.diffphys.InitialStateFit": "a result container returned by fit_initial_state, fuzzed there",
})


def states(draw, n: int, q: float, batched: bool | None = None, lo: float = -1.0, hi: float = 1.0):
    """A drawn state ``(n,)`` or batch ``(batch, n)``, corrupted with chance ``q``."""
    shape = (n,) if (batched is False or (batched is None and draw(st.booleans()))) else (draw(st.integers(1, 3)), n)
    return draw(tensor(shape, lo=lo, hi=hi, bad_chance=q))


def burgers_solver(n: int, bc: str = "dirichlet"):
    return burgers.solver(burgers.domain(n, bc), 1 / 32, 0.01)


@fuzz("physdl.diffphys.sine_family")
def _(draw):
    n, q = draw(st.integers(2, 12)), draw(bad_rate())
    x = draw(pick([torch.linspace(-1, 1, n, dtype=dt) for dt in (torch.float32, torch.float64)],
                  [(torch.zeros(2, n), "a matrix"), (torch.full((n,), float("nan")), "nan"), (list(range(n)), "a list")], q))
    args = {"count": draw(integer(1, 5, bad_chance=q)), "x": x, "modes": draw(integer(1, 4, bad_chance=q)),
            "generator": draw(pick([None, torch.Generator().manual_seed(1)], [(3, "not a generator")], q))}

    def expect(out, count, x, modes, **_):
        assert out.shape == (int(count), n) and out.dtype == x.dtype
        assert float(out.abs().max()) <= sum(1 / k for k in range(1, int(modes) + 1)) + 1e-5
        close(out[:, [0, -1]], torch.zeros(int(count), 2), atol=1e-5)  # zero on the walls x = +-1
    call(dp.sine_family, args, expect)


@fuzz("physdl.diffphys.final_state", "physdl.diffphys.unrolled_loss")
def _(draw):
    name, q = draw(st.sampled_from(["final_state", "unrolled_loss"])), draw(bad_rate())
    n = draw(st.integers(4, 10))
    solver = burgers_solver(n, draw(st.sampled_from(["dirichlet", "periodic"])))
    u0 = states(draw, n, q)
    if not u0.bad and draw(st.floats(0, 1)) < q:
        u0 = draw(st.sampled_from([bad(torch.zeros(1, n + 1), "other grid"), bad(torch.zeros(0, n), "empty")]))
    args = {"solver": draw(pick([solver], [(lambda u: u, "not a Stepper")], q)),
            "u0": u0, "steps": draw(integer(1, 4, bad_values=[0, -1, 1.5], bad_chance=q))}
    if name == "unrolled_loss":
        shape = tuple(u0.value.shape) if isinstance(u0.value, torch.Tensor) else (n,)
        args["target"] = draw(pick([torch.zeros(shape)], [(torch.zeros(*shape, 1), "other shape"),
                                                          (torch.full(shape, float("inf")), "inf")], q))

    def expect(out, u0, steps, **_):
        if name == "unrolled_loss":
            assert out.dim() == 0 and float(out) >= 0
            return
        assert out.shape == u0.shape
        # Burgers with walls or on a ring keeps max|u| (no new extrema from diffusion and
        # semi-Lagrangian interpolation)
        assert float(out.abs().max()) <= float(u0.abs().max()) + 1e-5
    call(getattr(dp, name), args, expect)


@fuzz("physdl.diffphys.InitialStateNet")
def _(draw):
    q = draw(bad_rate())
    n = draw(integer(3, 10, bad_values=[2, 0, 2.5], bad_chance=q))
    hidden = draw(pick([(4,), (3, 5)], [((0,), "zero width"), (4, "not a sequence")], q))

    def run(n, hidden):
        net = dp.InitialStateNet(n, hidden)
        with torch.no_grad():
            return net, net(torch.zeros(2, n))

    def expect(out, n, **_):
        net, proposal = out
        assert proposal.shape == (2, int(n))
        assert float(proposal[:, [0, -1]].abs().max()) == 0.0  # the walls hold u = 0
        with pytest.raises(TypeError, match="target"):
            net(torch.zeros(2, int(n), dtype=torch.float64))
        with pytest.raises(ValueError, match="target"):
            net(torch.full((2, int(n)), float("nan")))
    call(run, {"n": n, "hidden": hidden}, expect, name="InitialStateNet")


@fuzz("physdl.diffphys.gradient_step")
def _(draw):
    q = draw(bad_rate())
    u = draw(tensor((draw(st.integers(1, 6)),), bad_chance=q))
    if not u.bad:
        u = good(u.value.clone().requires_grad_(True)) if draw(st.floats(0, 1)) >= q else bad(u.value, "no gradient")
    loss_fn = draw(pick([lambda v: v.pow(2).sum()], [("loss", "not callable"), (lambda v: [v], "not a tensor")], q))
    args = {"loss_fn": loss_fn, "u": u, "lr": draw(positive(1e-3, 0.4, bad_chance=q))}
    before = u.value.detach().clone() if isinstance(u.value, torch.Tensor) else None

    def expect(loss, lr, u, **_):
        close(loss, before.pow(2).sum())
        close(u.detach(), before * (1 - 2 * float(lr)))  # u - lr du^2/du
    call(dp.gradient_step, args, expect)


@fuzz("physdl.diffphys.fit_velocity", slow=True)
def _(draw):
    n, q = draw(st.integers(4, 10)), draw(bad_rate())
    dx = 1.0 / n
    d0, target, u_init = (states(draw, n, q, batched=False, lo=lo, hi=1.0) for lo in (0.0, 0.0, -1.0))
    args = {"d0": d0, "target": target, "u_init": u_init, "dx": draw(positive(dx, dx, bad_chance=q)),
            "dt": draw(positive(0.01 * dx, 0.9 * dx, bad_chance=q)), "steps": draw(integer(1, 3, bad_chance=q)),
            "iterations": draw(integer(0, 3, bad_chance=q)), "lr": draw(positive(1e-3, 1.0, bad_chance=q)),
            "momentum": draw(number(0.0, 0.95, bad_values=(1.0, -0.1), bad_chance=q)),
            "bc": draw(choice(["periodic", "dirichlet"], bad_chance=q)), "progress": good(False)}

    def expect(out, iterations, dx, dt, **_):
        u, history = out
        assert u.shape == (n,) and len(history.loss) == int(iterations)
        assert float(u.abs().max()) <= float(dx) / float(dt) + 1e-6  # clipped to the CFL bound
    call(dp.fit_velocity, args, expect, may_reject=["dt"])


@fuzz("physdl.diffphys.fit_initial_state", slow=True)
def _(draw):
    n, q = draw(st.integers(4, 10)), draw(bad_rate())
    bc = draw(st.sampled_from(["dirichlet", "periodic"]))
    spacing = 2.0 / (n - 1) if bc == "dirichlet" else 2.0 / n
    target = states(draw, n, q)
    shape = tuple(target.value.shape) if isinstance(target.value, torch.Tensor) else (n,)
    args = {"target": target, "steps": draw(integer(1, 3, bad_chance=q)), "updates": draw(integer(0, 3, bad_chance=q)),
            "lr": draw(positive(1e-3, 2.0, bad_chance=q)), "dt": draw(positive(1e-3, 0.1, bad_chance=q)),
            "dx": draw(pick([spacing], [(spacing * 1.5, "not the grid's spacing"), (-spacing, "negative")], q)),
            "nu": draw(positive(1e-3, 0.1, bad_chance=q)), "bc": good(bc),
            "compile": draw(pick([False], [("no", "not a bool")], q)),
            "u0": draw(pick([None, torch.zeros(shape)], [(torch.zeros(n + 1), "other shape")], q))}

    def expect(fit, target, updates, **_):
        assert fit.u0.shape == target.shape and len(fit.loss) == int(updates) + 1
        assert len(fit.update_seconds) == int(updates)
    call(dp.fit_initial_state, args, expect)


@fuzz("physdl.diffphys.train_through_solver", slow=True)
def _(draw):
    n, q = draw(st.integers(4, 8)), draw(bad_rate())
    torch.manual_seed(0)
    net = dp.InitialStateNet(n, (4,))
    dx = 2.0 / (n - 1)
    args = {"net": draw(pick([net], [(pnn.MLP(n, n, [4]), "not an InitialStateNet")], q)),
            "targets": draw(tensor((draw(st.integers(1, 4)), n), dtypes=(torch.float32,), bad_chance=q)),
            "steps": draw(integer(1, 3, bad_chance=q)), "dt": draw(positive(1e-3, 0.1, bad_chance=q)),
            "dx": draw(pick([dx], [(dx / 2, "not the grid's spacing")], q)),
            "iterations": draw(integer(0, 3, bad_chance=q)), "lr": draw(positive(1e-4, 1e-2, bad_chance=q)),
            "batch_size": draw(integer(1, 4, bad_values=[0], bad_chance=q)), "nu": draw(positive(1e-3, 0.1, bad_chance=q)),
            "seed": draw(integer(0, 5, bad_values=[-1], bad_chance=q)), "progress": good(False)}

    def expect(history, iterations, **_):
        assert len(history.loss) == int(iterations)
    call(dp.train_through_solver, args, expect)


# =========================================================================== crnn

@fuzz("physdl.crnn.CRNNArchitecture")
def _(draw):
    q = draw(bad_rate())
    args = {"hidden_channels": draw(integer(1, 32, bad_chance=q)), "layers": draw(integer(1, 4, bad_chance=q)),
            "kernel_size": draw(pick([1, 3, 5, np.int64(3)], [(0, "zero"), (2, "even"), (4, "even"), (1.0, "a float")], q)),
            "dims": draw(integer(2, 3, bad_values=[1, 4, 2.0], bad_chance=q)),
            "conservative": draw(pick([True, False], [("yes", "not a bool"), (1, "not a bool")], q))}
    conservative = args["conservative"].value is True
    potential = draw(st.booleans()) if conservative else False
    args["potential"] = draw(pick([potential], [("yes", "not a bool")], q))
    if not args["conservative"].bad and conservative is False and draw(st.booleans()):
        args["potential"] = bad(True, "a potential head is conservative")
    args["symmetric"] = draw(pick([draw(st.booleans()) if potential else False], [(1, "not a bool")], q))
    if potential is False and not args["potential"].bad and draw(st.integers(0, 4)) == 0:
        args["symmetric"] = bad(True, "symmetric without the potential head")

    def expect(arch, **v):    call(crnn.CRNNArchitecture, args, expect)


#: the class of each head, and the architecture flags (conservative, potential, symmetric) that make it
_CRNN_HEADS = {"ConservativeCRNN": (True, False, False), "NonConservativeCRNN": (False, False, False),
               "PotentialCRNN": (True, True, True)}


@fuzz("physdl.crnn.ConservativeCRNN", "physdl.crnn.NonConservativeCRNN", "physdl.crnn.PotentialCRNN", "physdl.crnn.build")
def _(draw):
    name, q = draw(st.sampled_from([*_CRNN_HEADS, "build"])), draw(bad_rate())
    head = draw(st.sampled_from(sorted(_CRNN_HEADS)))
    conservative, potential, symmetric = _CRNN_HEADS[head]
    symmetric = symmetric and draw(st.booleans())  # the potential head with plain kernels too
    arch = crnn.CRNNArchitecture(hidden_channels=2, layers=1, dims=2, conservative=conservative,
                                 potential=potential, symmetric=symmetric)
    mismatched = name != "build" and name != head
    args = {"arch": bad(arch, "the other head") if mismatched else draw(pick([arch], [("small", "not an architecture")], q))}
    if name != "build":
        args["dt"] = draw(positive(0.01, 10, bad_chance=q))
    method = draw(st.sampled_from(["rollout", "forward"]))
    if method == "rollout":
        args.update(phi0=draw(field(dims=(2,), batch=(1, 2), size=(3, 6), lo=0, hi=1, dtypes=(torch.float32,),
                                    bad_chance=q)),
                    steps=draw(integer(0, 3, bad_chance=q)), save_every=draw(integer(1, 3, bad_values=[0], bad_chance=q)))
    else:
        args.update(sequence=draw(tensor((draw(st.integers(1, 2)), 3, 1, 4, 4), lo=0, hi=1, dtypes=(torch.float32,),
                                         bad_chance=q)),
                    teacher_frames=draw(integer(1, 3, bad_values=[0, 4, 1.5], bad_chance=q)),
                    frames=draw(integer(2, 5, bad_values=[1, 0], bad_chance=q)),
                    input_noise=draw(number(0.0, 0.1, bad_values=(-0.1,), bad_chance=q)))

    def run(arch, dt=0.5, **inputs):
        net = crnn.build(arch) if name == "build" else getattr(crnn, name)(arch, dt)
        with torch.no_grad():
            return net, (net.rollout(**inputs) if method == "rollout" else net(**inputs))

    def expect(out, arch, **v):
        net, result = out
        # the last true input: the predictions from it on keep its mass
        first = v["phi0"] if method == "rollout" else v["sequence"][:, int(v["teacher_frames"]) - 1]
        frames = result[0] if method == "rollout" else result[:, int(v["teacher_frames"]) - 1:]
        if method == "rollout":
            times = result[1]
            assert frames.shape[1] == len(times) and int(times[-1]) == int(v["steps"])
        else:
            assert result.shape == (len(first), int(v["frames"]) - 1, 1, 4, 4)
        if arch.conservative and not v.get("input_noise"):
            means = frames.mean(dim=(-2, -1))  # (batch, time, 1)
            close(means, first.mean(dim=(-2, -1))[:, None].expand_as(means), atol=1e-5)  # mass, by construction
        elif not arch.conservative:
            assert bool(((frames[:, 1:] if method == "rollout" else frames) >= 0).all())  # a sigmoid head
    call(run, args, expect, name=name)


@fuzz("physdl.crnn.SequenceConfig")
def _(draw):
    q = draw(bad_rate())
    dt = draw(st.sampled_from([1.25e-3, 0.0125, 0.025]))
    args = {"grid": draw(pick([4, 8, 16, np.int64(32)], [(3, "too small"), (0, "zero"), (8.0, "a float")], q)), "dims": draw(integer(2, 3, bad_values=[1, 4], bad_chance=q)),
            "sequences": draw(integer(1, 100, bad_values=[0], bad_chance=q)), "frames": draw(integer(2, 50, bad_values=[1], bad_chance=q)),
            "max_start": draw(integer(0, 20, bad_values=[-1], bad_chance=q)),
            "tau": draw(pick([dt * k for k in (2, 40)] + [0.5], [(float("nan"), "nan"), (-0.5, "negative"), ("0.5", "a string")], q)),
            "dt": good(dt), "mean": draw(pick([(0.5, 0.08), [0.4, 0.0]], [((0.5,), "one number"), ((0.5, -1.0), "negative spread")], q)),
            "cells": draw(pick([(2, 4), (1,), [2]], [((), "empty"), ((0,), "zero cells"), ((2.5,), "not an integer")], q)),
            "amplitude": draw(number(0.0, 1.0, bad_values=(-0.1,), bad_chance=q)),
            "burn_in": draw(number(0.0, 100.0, bad_values=(-1.0,), bad_chance=q)),
            "double": draw(pick([True, False], [("no", "not a bool")], q)),
            "method": draw(choice(["explicit", "semi-implicit"], bad_chance=q)),
            "shapes": draw(number(0.0, 1.0, bad_values=(-0.1, 1.5), bad_chance=q))}

    def expect(cfg, **v):
        assert type(cfg.tau) is float and type(cfg.grid) is int and type(cfg.cells) is tuple and type(cfg.shapes) is float
        assert cfg.steps_per_frame >= 1
        json.dumps(cfg.as_dict(), default=lambda m: m.__dict__)  # a cache key of plain values
    call(crnn.SequenceConfig, args, expect, may_reject=["cells", "burn_in"], aliases={"dt": ["tau"], "tau": ["dt"]})


@fuzz("physdl.crnn.generate", "physdl.crnn.sequences", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["generate", "sequences"])), draw(bad_rate())
    frames = draw(st.integers(2, 3))
    cfg = crnn.SequenceConfig(grid=draw(st.sampled_from([4, 6, 8])), dims=2, sequences=draw(st.integers(1, 3)), frames=frames,
                              max_start=draw(st.integers(0, 1)), tau=2.5e-3, dt=1.25e-3, cells=(1, 2),
                              batch=draw(st.integers(1, 2)), seed=draw(st.integers(0, 3)),
                              method=draw(st.sampled_from(["explicit", "semi-implicit"])))
    args = {"config": draw(pick([cfg], [({"grid": 8}, "not a config"), (None, "not a config")], q)),
            "progress": draw(pick([False], [("no", "not a bool")], q)),
            "device": draw(pick([None, "cpu", torch.device("cpu")], [("xla", "not a device"), ("gpu", "not a device")], q))}

    def run(**v):
        return crnn.generate(**v) if name == "generate" else in_scratch_cache(crnn.sequences, **v)

    def expect(out, config, **_):
        phi = out["phi"]
        assert phi.shape == (config.sequences, config.frames, 1, config.grid, config.grid) and phi.dtype == torch.float32
        assert out["start"].shape == (config.sequences,) and int(out["start"].max()) <= config.max_start
        close(phi.mean(dim=(-2, -1)), phi[:, :1].mean(dim=(-2, -1)).expand(-1, config.frames, -1), atol=1e-5)  # mass
    call(run, args, expect, name=name)


@fuzz("physdl.crnn.downsample")
def _(draw):
    q = draw(bad_rate())
    factor = draw(integer(1, 3, bad_values=[0, -1, 1.5], bad_chance=q))
    dims = draw(integer(1, 3, bad_values=[0, 4], bad_chance=q))
    f = int(factor.value) if not factor.bad else 2
    d = int(dims.value) if not dims.bad else 2
    x = draw(tensor((2, *[f * draw(st.integers(1, 3)) for _ in range(d)]), bad_chance=q, corrupt=("int", "numpy", "scalar")))
    if not x.bad and f > 1 and draw(st.floats(0, 1)) < q:
        x = bad(torch.zeros(2, *[f + 1] * d), "not divisible")

    def expect(out, x, factor, dims):
        assert out.shape == (*x.shape[:x.dim() - int(dims)], *[n // int(factor) for n in x.shape[-int(dims):]])
        close(out, x[(Ellipsis, *[slice(None, None, int(factor))] * int(dims))])
    call(crnn.downsample, {"x": x, "factor": factor, "dims": dims}, expect, aliases={"x": ["grid"]})


# =========================================================================== pinn

EXEMPT.update({
    "physdl.pinn.COORDINATES": "a constant: the names of the coordinates, ('x', 't')",
    "physdl.pinn.Equation": "a type alias of the residual functions (burgers and heat are fuzzed)",
})

DOMAINS = [P.Domain(), P.Domain(x=(0.0, 2.0), t=(0.5, 1.5)), P.Domain(x=(np.float32(-3), 1), t=(0, np.float64(0.2)))]


def domain_arg(draw, q: float):
    return draw(pick(DOMAINS, [((-1, 1), "not a Domain"), (None, "not a Domain")], q))


def pinn_model(learn: bool = False, hard: bool = False, dtype=torch.float32, activation: str = "tanh",
               coefficient: str = "nu"):
    torch.manual_seed(0)
    net = pnn.MLP(2, 1, [4], activation=activation).to(dtype)
    if hard:
        net = P.zero_dirichlet(net, lambda x: -torch.sin(math.pi * x), P.Domain())
    return P.PINN(net, {coefficient: 0.05}, learn=[coefficient] if learn else [])


def points_arg(draw, q: float, n: tuple[int, int] = (1, 6), dtype=torch.float32, lo: float = -1.0, hi: float = 1.0):
    """Drawn points ``(n, 2)`` in ``[lo, hi]^2``, or bad ones (NaN, wrong columns, empty, ...)."""
    pts = draw(tensor((draw(st.integers(*n)), 2), lo=lo, hi=hi, dtypes=(dtype,), bad_chance=q))
    if not pts.bad and draw(st.floats(0, 1)) < q:
        return draw(st.sampled_from([bad(torch.zeros(3, 3, dtype=dtype), "three columns"),
                                     bad(torch.zeros(0, 2, dtype=dtype), "no points"), bad(torch.zeros(4, dtype=dtype), "a vector")]))
    return pts


def pinn_loss(model=None, n: int = 4, forward_mode: bool = False):
    model = model or pinn_model()
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(n, 2, generator=g) * torch.tensor([2.0, 1.0]) - torch.tensor([1.0, 0.0])
    return P.PINNLoss(model, P.burgers, pts, torch.zeros(n, 1), P.ResampledPoints(5, P.Domain()), forward_mode=forward_mode)


@fuzz("physdl.pinn.Domain")
def _(draw):
    q = draw(bad_rate())
    lo, hi = draw(number(-5, 0, bad_chance=q)), draw(number(0.1, 5, bad_chance=q))
    args = {"x": good((lo.value, hi.value)) if not (lo.bad or hi.bad) else bad((lo.value, hi.value), "a bad number"),
            "t": draw(pick([(0.0, 1.0), [np.float32(0.5), 2]], [((1.0, 0.0), "empty"), ((0.0,), "one number"),
                                                                ("0, 1", "a string")], q))}

    def expect(dom, **_):
        assert all(type(v) is float for v in (*dom.x, *dom.t)) and dom.x[0] < dom.x[1] and dom.t[0] < dom.t[1]
        corner = torch.tensor([[dom.x[0], dom.t[1]]], dtype=torch.float64)
        assert dom.check(corner) is corner
        with pytest.raises(ValueError, match="outside the domain"):
            dom.check(corner - torch.tensor([[1.0, 0.0]], dtype=torch.float64))
        with pytest.raises(ValueError, match="points contains NaN"):
            dom.check(torch.full((1, 2), math.nan))
    call(P.Domain, args, expect)


@fuzz("physdl.pinn.uniform_points", "physdl.pinn.initial_points", "physdl.pinn.boundary_points")
def _(draw):
    name, q = draw(st.sampled_from(["uniform_points", "initial_points", "boundary_points"])), draw(bad_rate())
    args = {"n": draw(integer(1 if name == "uniform_points" else 2, 20, bad_values=[0, -1, 2.5, "3"], bad_chance=q)),
            "domain": domain_arg(draw, q),
            "dtype": draw(pick([torch.float32, torch.float64], [(torch.int64, "an integer dtype"), ("float32", "a string")], q))}
    if name == "uniform_points":
        args["generator"] = draw(pick([None, torch.Generator().manual_seed(2)], [(0, "not a generator")], q))
    else:
        args["device"] = draw(pick(["cpu", torch.device("cpu")], [("gpu", "not a device")], q))

    def expect(pts, n, domain, dtype, **_):
        rows = 2 * int(n) if name == "boundary_points" else int(n)
        assert pts.shape == (rows, 2) and pts.dtype == dtype
        domain.check(pts, atol=1e-5)
        if name == "initial_points":
            assert bool((pts[:, 1] == domain.t[0]).all())
        if name == "boundary_points":
            assert set(pts[:, 0].tolist()) <= {float(torch.tensor(v, dtype=dtype)) for v in domain.x}
    call(getattr(P, name), args, expect)


@fuzz("physdl.pinn.grid_points")
def _(draw):
    q = draw(bad_rate())
    nx, nt = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    args = {"x": draw(tensor((nx,), bad_chance=q)), "t": draw(tensor((nt,), lo=0, bad_chance=q))}
    if not args["t"].bad and draw(st.floats(0, 1)) < q:
        args["t"] = bad(torch.zeros(2, 2), "a matrix")

    def expect(pts, x, t):
        assert pts.shape == (nx * nt, 2)
        if x.dtype == t.dtype:
            j, i = nt - 1, nx - 1
            close(pts[j * nx + i], torch.stack([x[i], t[j]]))
    call(P.grid_points, args, expect, may_reject=["x", "t"])  # x and t of different dtypes are refused


@fuzz("physdl.pinn.ResampledPoints", "physdl.pinn.FixedPoints")
def _(draw):
    name, q = draw(st.sampled_from(["ResampledPoints", "FixedPoints"])), draw(bad_rate())
    step = draw(integer(0, 10**6, bad_values=[-1, 1.5], bad_chance=q))
    if name == "ResampledPoints":
        args = {"n": draw(integer(1, 20, bad_chance=q)), "domain": domain_arg(draw, q),
                "seed": draw(integer(0, 9, bad_values=[-1], bad_chance=q)),
                "dtype": draw(pick([torch.float32, torch.float64], [(torch.int32, "an integer dtype")], q))}
    else:
        args = {"points": points_arg(draw, q)}

    def run(step, **v):
        sampler = getattr(P, name)(**v)
        return sampler, sampler(step)

    def expect(out, step, **v):
        sampler, pts = out
        assert torch.equal(sampler(step), pts)  # a function of the step
        if name == "ResampledPoints":
            assert pts.shape == (int(v["n"]), 2) and pts.dtype == v["dtype"]
            v["domain"].check(pts, atol=1e-5)
            assert torch.equal(P.ResampledPoints(**v)(step), pts)  # of (seed, step), not of the object
        else:
            assert pts is v["points"]
    # FixedPoints ignores the step, so a bad step is no fault of its
    call(run, {**args, "step": step if name == "ResampledPoints" else good(step.value)}, expect, name=name)


def smooth_u(points: torch.Tensor) -> torch.Tensor:
    """``u = sin(x) t^2``, whose derivatives are known in closed form."""
    return (torch.sin(points[:, :1]) * points[:, 1:] ** 2)


@fuzz("physdl.pinn.Derivatives", "physdl.pinn.burgers", "physdl.pinn.heat")
def _(draw):
    name, q = draw(st.sampled_from(["Derivatives", "burgers", "heat"])), draw(bad_rate())
    n = draw(st.integers(1, 5))
    pts = draw(tensor((n, 2), dtypes=(torch.float64,), bad_chance=q, corrupt=("int", "numpy", "scalar")))
    grad = draw(st.floats(0, 1)) >= q
    if not pts.bad:
        pts = good(pts.value.clone().requires_grad_(True)) if grad else bad(pts.value, "points without grad")
    names = draw(pick([("x", "t")], [(("x",), "one name"), ("xt", "a string"), (("x", "x"), "twice")], q))

    def derivatives(points, names):
        return P.Derivatives(smooth_u(points) if isinstance(points, torch.Tensor) else points, points, names)

    if name == "Derivatives":
        def expect(d, points, **_):
            x, t = points.detach()[:, :1], points.detach()[:, 1:]
            close(d("x"), torch.cos(x) * t**2)
            close(d("t"), 2 * torch.sin(x) * t)
            close(d("x", "x"), -torch.sin(x) * t**2)
            with pytest.raises(ValueError, match="unknown coordinate"):
                d("y")
        call(derivatives, {"points": pts, "names": names}, expect)
        return
    coefficient = draw(number(0.0, 1.0, bad_values=(-0.1,), bad_chance=q))
    key = "nu" if name == "burgers" else "kappa"

    def run(points, names, **c):
        return getattr(P, name)(derivatives(points, names), **c)

    def expect(r, points, **c):
        x, t, k = points.detach()[:, :1], points.detach()[:, 1:], float(c[key])
        u, ux, ut, uxx = torch.sin(x) * t**2, torch.cos(x) * t**2, 2 * torch.sin(x) * t, -torch.sin(x) * t**2
        close(r, ut + u * ux - k * uxx if name == "burgers" else ut - k * uxx)
    call(run, {"points": pts, "names": names, key: coefficient}, expect, name=name)


@fuzz("physdl.pinn.PINN")
def _(draw):
    q = draw(bad_rate())
    learn = draw(pick([[], ["nu"], ("nu", "c")], [("nu", "a string, not a list"), (["kappa"], "not a coefficient")], q))
    args = {"net": draw(pick([pnn.MLP(2, 1, [3])], [("mlp", "not a module")], q)),
            "coefficients": draw(pick([{"nu": 0.1, "c": np.float32(2.0)}, {"nu": torch.tensor(0.5), "c": 1}],
                                      [({"nu": math.nan, "c": 1.0}, "NaN coefficient"), ([("nu", 0.1)], "not a mapping"),
                                       ({"nu": -0.1, "c": 1.0}, "negative learned coefficient" if True else "")], q)),
            "learn": learn}
    if args["coefficients"].why == "negative learned coefficient" and "nu" not in (learn.value or []):
        args["coefficients"] = good(args["coefficients"].value)  # a negative fixed coefficient is allowed

    def expect(model, coefficients, learn, **_):
        values = model.coefficient_values()
        assert set(values) == set(coefficients)
        for k, v in coefficients.items():
            assert abs(values[k] - float(v)) <= 1e-6 * (1 + abs(float(v)))
        assert {k for k, v in model.coefficients().items() if isinstance(v, torch.Tensor) and v.requires_grad} == set(learn)
    call(P.PINN, args, expect)


@fuzz("physdl.pinn.HardConstraint", "physdl.pinn.zero_dirichlet")
def _(draw):
    name, q = draw(st.sampled_from(["HardConstraint", "zero_dirichlet"])), draw(bad_rate())
    torch.manual_seed(0)
    net = draw(pick([pnn.MLP(2, 1, [3])], [(None, "not a module")], q))
    dom = DOMAINS[0]
    if name == "HardConstraint":
        args = {"net": net, "lift": draw(pick([lambda p: p[:, :1] ** 2], [(1.0, "not callable")], q)),
                "envelope": draw(pick([lambda p: p[:, 1:]], [("t", "not callable")], q))}
    else:
        dom = draw(st.sampled_from(DOMAINS[:2]))
        x0, x1 = dom.x
        args = {"net": net, "domain": good(dom) if draw(st.floats(0, 1)) >= q else bad((x0, x1), "not a Domain"),
                "initial": draw(pick([lambda x: (x - x0) * (x1 - x)],
                                     [(lambda x: x + 5, "not zero on the walls"), (lambda x: x[:1], "wrong shape"),
                                      (3.0, "not callable")], q))}
    pts = torch.stack([torch.linspace(*dom.x, 5), torch.linspace(*dom.t, 5)], 1)

    def expect(model, **v):
        with torch.no_grad():
            u, free = model(pts), v["net"](pts)
        if name == "HardConstraint":
            close(u, pts[:, :1] ** 2 + pts[:, 1:] * free)
            return
        start = torch.stack([pts[:, 0], torch.full((5,), dom.t[0])], 1)
        walls = torch.stack([torch.tensor([dom.x[0], dom.x[1]]), torch.full((2,), dom.t[1])], 1)
        with torch.no_grad():
            close(model(start)[:, 0], v["initial"](start[:, 0]))  # the initial values, exactly
            close(model(walls), torch.zeros(2, 1), atol=1e-5)  # zero on both walls
    call(getattr(P, name), args, expect, aliases={"initial": ["initial condition"]})


@fuzz("physdl.pinn.residual", "physdl.pinn.jet_keys", "physdl.pinn.JetDerivatives")
def _(draw):
    name, q = draw(st.sampled_from(["residual", "jet_keys", "JetDerivatives"])), draw(bad_rate())
    hard, activation = draw(st.booleans()), draw(st.sampled_from(["tanh", "tanh", "relu"]))
    equation = draw(pick([P.burgers, P.heat], [("burgers", "not callable"), (P.heat, "nu is not heat's")], q))
    model = pinn_model(learn=draw(st.booleans()), hard=hard, activation=activation,
                       coefficient="kappa" if equation.value is P.heat and not equation.bad else "nu")
    if name == "residual":
        args = {"model": draw(pick([model], [(model.net, "not a PINN")], q)), "points": points_arg(draw, q),
                "equation": equation, "forward_mode": draw(pick([True, False], [("yes", "not a bool")], q))}
    elif name == "jet_keys":
        args = {"model": draw(pick([model], [(model.net, "not a PINN")], q)), "equation": equation,
                "dtype": draw(pick([torch.float32, torch.float64], [(torch.int64, "an integer dtype")], q)),
                "device": draw(pick(["cpu"], [("tpu", "not a device")], q))}
    else:
        tanh_net = model.net if activation == "tanh" else pinn_model(hard=hard).net
        args = {"net": draw(pick([tanh_net], [(pinn_model(activation="relu").net if not hard else 1, "not a tanh MLP")], q)),
                "points": points_arg(draw, q),
                "keys": draw(pick([{("x",), ("t",), ("x", "x")}, {("t",)}], [({"x"}, "not tuples"), ({("x", "x", "x")}, "third order"),
                                                                         ({("y",)}, "unknown coordinate")], q))}

    def expect(out, **v):
        if name == "jet_keys":
            wanted = {("t",), ("x",), ("x", "x")} if v["equation"] is P.burgers else {("t",), ("x", "x")}
            assert out == (wanted if activation == "tanh" else None)  # only a tanh MLP propagates forward
            return
        if name == "residual":
            auto = P.residual(v["model"], v["points"], v["equation"], forward_mode=False)
            assert out.shape == (len(v["points"]), 1)
            close(out, auto, rtol=1e-3, atol=1e-4)  # forward mode equals autograd to rounding
            return
        pts = v["points"].detach().clone().requires_grad_(True)
        d = P.Derivatives(v["net"](pts), pts)
        for key in v["keys"]:
            close(out(*key), d(*key), rtol=1e-3, atol=1e-4)
        close(out.u, d.u)
    call(getattr(P, name), args, expect, may_reject=["model"] if name == "jet_keys" and activation == "relu" else [])


@fuzz("physdl.pinn.PINNLoss")
def _(draw):
    q = draw(bad_rate())
    n = draw(st.integers(0, 4))
    pts = draw(tensor((n, 2), dtypes=(torch.float32,), bad_chance=q)) if n else good(torch.zeros(0, 2))
    args = {"model": draw(pick([pinn_model(), pinn_model(hard=True)], [(pnn.MLP(2, 1, [3]), "not a PINN")], q)),
            "equation": draw(pick([P.burgers], [(None, "not callable")], q)), "data_points": pts,
            "data_values": draw(pick([torch.zeros(n, 1)], [(torch.zeros(n), "no value axis"),
                                                            (torch.zeros(n, 1, dtype=torch.float64), "another dtype")], q)),
            "collocation": draw(pick([P.ResampledPoints(5, P.Domain())], [(torch.zeros(5, 2), "not callable")], q)),
            "alpha0": draw(number(0.0, 10.0, bad_values=(-1.0,), bad_chance=q)),
            "alpha1": draw(number(0.0, 10.0, bad_values=(-1.0,), bad_chance=q)),
            "forward_mode": draw(pick([True, False], [(1, "not a bool")], q))}
    if n == 0 and args["data_values"].why == "another dtype":
        args["data_values"] = bad(torch.zeros(0, 1, dtype=torch.float64), "another dtype")

    def expect(loss, **v):
        value = loss(3)
        assert value.dim() == 0 and float(value) >= 0
        data, res = loss.terms(3)
        close(value, float(v["alpha0"]) * data + float(v["alpha1"]) * res)
    call(P.PINNLoss, args, expect)


@fuzz("physdl.pinn.largest_residuals")
def _(draw):
    q = draw(bad_rate())
    loss = pinn_loss()
    m = draw(st.integers(1, 8))
    args = {"loss": draw(pick([loss], [(loss.model, "not a PINNLoss")], q)), "candidates": points_arg(draw, q, (m, m)),
            "n": draw(integer(1, m, bad_values=[0, m + 1, 1.5], bad_chance=q)),
            "batch_size": draw(integer(1, 4, bad_values=[0], bad_chance=q))}

    def expect(worst, loss, candidates, n, **_):
        assert worst.shape == (int(n), 2)
        size = P.residual(loss.model, candidates, loss.equation).detach().abs()[:, 0]
        chosen = P.residual(loss.model, worst, loss.equation).detach().abs()[:, 0]
        assert float(chosen.min()) >= float(size.sort(descending=True).values[int(n) - 1]) - 1e-6
    call(P.largest_residuals, args, expect, aliases={"n": ["candidates"]})


@fuzz("physdl.pinn.train_pinn", slow=True)
def _(draw):
    q = draw(bad_rate())
    forward_mode = draw(st.booleans())
    loss = pinn_loss(forward_mode=forward_mode)
    args = {"loss": draw(pick([loss], [(loss.model, "not a PINNLoss")], q)),
            "adam_steps": draw(integer(0, 3, bad_chance=q)), "lbfgs_steps": draw(integer(0, 1, bad_chance=q)),
            "lr": draw(positive(1e-4, 1e-2, bad_chance=q)), "progress": good(False),
            "optimizer": draw(choice(["adam", "sgd"], bad_chance=q)),
            "validate": draw(pick([None, lambda: 0.5], [(0.5, "not callable")], q)),
            "validate_every": draw(integer(1, 3, bad_values=[0], bad_chance=q)),
            "lbfgs_history": draw(integer(1, 5, bad_values=[0], bad_chance=q)),
            "lbfgs_collocation": draw(pick([None, P.FixedPoints(torch.rand(4, 2))], [("points", "not callable")], q)),
            "compile": draw(pick([False], [("no", "not a bool")], q)),
            "quasi_newton": draw(pick(["lbfgs", "bfgs", "ssbroyden"], [("newton", "not an optimiser")], q))}

    def expect(out, adam_steps, lbfgs_steps, **_):
        first, second = out
        assert len(first.loss) == int(adam_steps) and len(second.loss) == int(lbfgs_steps)
    call(P.train_pinn, args, expect)


@fuzz("physdl.pinn.evaluate", "physdl.pinn.evaluation_seconds")
def _(draw):
    name, q = draw(st.sampled_from(["evaluate", "evaluation_seconds"])), draw(bad_rate())
    model = pinn_model()
    args = {"model": draw(pick([model], [("model", "not a module")], q)), "points": points_arg(draw, q)}
    if name == "evaluate":
        args["batch_size"] = draw(integer(1, 4, bad_values=[0, 1.5], bad_chance=q))
    else:
        args["repeats"] = draw(integer(1, 2, bad_values=[0], bad_chance=q))

    def expect(out, model, points, **_):
        if name == "evaluation_seconds":
            assert isinstance(out, float) and out > 0
            return
        with torch.no_grad():
            close(out, model(points))
    call(getattr(P, name), args, expect, aliases={"points": ["inputs"]})


# =========================================================================== burgers_pinn

EXEMPT.update({
    "physdl.burgers_pinn.DOMAIN": "a constant: the problem's space-time rectangle [-1, 1] x [0, 1]",
    "physdl.burgers_pinn.chapter_config": "deprecated wrapper of physdl.sizes.chapter (goes in 0.3.0)",
})

TINY_BURGERS = BP.BurgersPINNConfig(lecture_hidden=(3,), hidden=(3,), lecture_collocation=6, collocation=6,
                                    lbfgs_collocation=6, inverse_samples=6, initial_points=4, boundary_points=3)


@fuzz("physdl.burgers_pinn.BurgersPINNConfig")
def _(draw):
    q = draw(bad_rate())
    args = {"seed": draw(integer(0, 9, bad_values=[-1, 0.5], bad_chance=q)),
            "lecture_hidden": draw(pick([(20,) * 8, [4, np.int64(4)]], [((), "empty"), ((4, 0), "zero width"), (8, "not a tuple")], q)),
            "lecture_steps": draw(integer(0, 10**4, bad_chance=q)), "lecture_lr": draw(positive(1e-4, 1.0, bad_chance=q)),
            "initial_points": draw(integer(2, 300, bad_values=[1, 0], bad_chance=q)),
            "collocation": draw(integer(1, 3000, bad_values=[0], bad_chance=q)),
            "lr": draw(positive(1e-5, 1e-1, bad_chance=q)), "nu_start": draw(positive(1e-3, 1.0, bad_chance=q)),
            "noise": draw(number(0.0, 0.5, bad_values=(-0.01,), bad_chance=q))}

    def expect(cfg, **_):
        assert type(cfg.lr) is float and type(cfg.seed) is int and type(cfg.lecture_hidden) is tuple
        assert all(type(w) is int for w in cfg.lecture_hidden)
    call(BP.BurgersPINNConfig, args, expect)


@fuzz("physdl.burgers_pinn.network")
def _(draw):
    q = draw(bad_rate())
    args = {"hidden": draw(pick([(3,), (2, 4)], [((0,), "zero width"), ("20", "a string")], q)),
            "dtype": draw(pick([torch.float32, torch.float64], [(torch.int32, "an integer dtype"), ("double", "a string")], q))}

    def expect(net, hidden, dtype):
        assert net(torch.zeros(5, 2, dtype=dtype)).shape == (5, 1)
        assert P.jet_keys(P.PINN(net, {"nu": 0.1}), P.burgers) is not None  # a tanh MLP: forward-mode derivatives
    call(BP.network, args, expect)


@fuzz("physdl.burgers_pinn.lecture_problem", "physdl.burgers_pinn.forward_problem", "physdl.burgers_pinn.inverse_problem",
      "physdl.burgers_pinn.lbfgs_points")
def _(draw):
    name, q = draw(st.sampled_from(["lecture_problem", "forward_problem", "inverse_problem", "lbfgs_points"])), draw(bad_rate())
    args = {"cfg": draw(pick([TINY_BURGERS], [({"hidden": (3,)}, "not a config")], q)),
            "dtype": draw(pick([torch.float32, torch.float64], [(torch.int64, "an integer dtype")], q)),
            "device": draw(pick(["cpu", torch.device("cpu")], [("cuda:x", "not a device")], q))}
    if name == "inverse_problem":
        args["noise"] = draw(number(0.0, 0.5, bad_values=(-0.1,), bad_chance=q))

    def expect(out, cfg, dtype, **_):
        if name == "lbfgs_points":
            pts = out(0)
            assert pts.shape == (cfg.lbfgs_collocation, 2) and pts.dtype == dtype
            BP.DOMAIN.check(pts, atol=1e-6)
            return
        assert isinstance(out, P.PINNLoss) and out.data_points.dtype == dtype
        BP.DOMAIN.check(out.data_points, atol=1e-6)
        value = out(0)
        assert value.dim() == 0 and float(value) >= 0
        learned = set(out.model.log_coefficients.log_values)
        assert learned == ({"nu"} if name == "inverse_problem" else set())
    call(getattr(BP, name), args, expect)


@fuzz("physdl.burgers_pinn.noisy_samples")
def _(draw):
    q = draw(bad_rate())
    args = {"n": draw(integer(2, 20, bad_values=[1, 0, 2.5], bad_chance=q)),
            "noise": draw(number(0.0, 0.5, bad_values=(-0.1,), bad_chance=q)),
            "seed": draw(integer(0, 9, bad_values=[-1], bad_chance=q))}

    def expect(out, n, noise, seed):
        pts, u = out
        assert pts.shape == (int(n), 2) and u.shape == (int(n), 1) and u.dtype == torch.float64
        clean, _ = BP.noisy_samples(n, 0.0, seed)
        assert torch.equal(clean, pts)  # the same points whatever the noise
        if float(noise) == 0.0:
            close(u, burgers.exact_solution(pts[:, 0], pts[:, 1])[:, None])
    call(BP.noisy_samples, args, expect)


@fuzz("physdl.burgers_pinn.predicted_field", "physdl.burgers_pinn.grid_error")
def _(draw):
    name, q = draw(st.sampled_from(["predicted_field", "grid_error"])), draw(bad_rate())
    torch.manual_seed(0)
    model = BP.network((3,), draw(st.sampled_from([torch.float32, torch.float64])))
    args = {"model": draw(pick([model, P.PINN(model, {"nu": 0.1})], [("net", "not a module")], q))}
    if name == "predicted_field":
        args.update(nx=draw(integer(2, 9, bad_values=[1, 0], bad_chance=q)), nt=draw(integer(2, 5, bad_values=[1], bad_chance=q)))

    def expect(out, model, **v):
        if name == "grid_error":
            assert isinstance(out, float) and out >= 0
            return
        assert out.shape == (int(v["nt"]), int(v["nx"])) and out.dtype == torch.float64
        x, t = burgers.lecture_grid(int(v["nx"]), int(v["nt"]))
        with torch.no_grad():
            close(out[-1, 0], model(torch.stack([x[:1], t[-1:]], 1).to(next(model.parameters()).dtype))[0, 0].double())
    call(getattr(BP, name), args, expect)


# =========================================================================== safe

EXEMPT.update({
    "physdl.safe.chapter_config": "deprecated wrapper of physdl.sizes.chapter (goes in 0.3.0)",
    "physdl.safe.SafeOutput": "a result container returned by SafeAutoencoder, fuzzed there",
    "physdl.safe.Estimate": "a result container returned by fit_estimator, zero_shot and fine_tune, fuzzed there",
    "physdl.safe.FieldReport": "a result container returned by field_report, fuzzed there",
})

TINY_SAFE = safe.SafeConfig(substeps=2, channels=2, d_model=4, heads=2, pool=2, zero_shot_steps=2, fine_tune_steps=1,
                            phase1_steps=1, phase2_steps=1, batch_size=2)
TINY_HEAT = safe.HeatVideoConfig(n=8, steps=4, save_every=2, grains=(2, 3), runs=1, train_fraction=0.5)
SAFE_VIDEOS = in_scratch_cache(safe.heat_videos, TINY_HEAT)  # (2, 3, 1, 8, 8): one diffusion run and its reversal


def safe_model(cfg=TINY_SAFE):
    return safe.build_model(SAFE_VIDEOS.dt_save, SAFE_VIDEOS.dx, cfg)


def video_arg(draw, q: float, batch: int | None = None, name_bad: str = "video"):
    """A drawn ``(batch, time, 1, n, n)`` video from the tiny set, or a bad one."""
    b = batch or draw(st.integers(1, 2))
    v = SAFE_VIDEOS.frames[:b]
    if draw(st.floats(0, 1)) < q:
        kind = draw(st.sampled_from(["nan", "one frame", "no channel", "int", "numpy", "float64"]))
        return {"nan": bad(v.clone().index_fill_(1, torch.tensor([0]), math.nan), "nan"),
                "one frame": bad(v[:, :1], "one frame"), "no channel": bad(v[:, :, 0], "no channel axis"),
                "int": bad(v.long(), "an integer tensor"), "numpy": bad(v.numpy(), "a NumPy array"),
                "float64": bad(v.double(), "float64 for float32 weights")}[kind]
    return good(v)


def sign_arg(draw, q: float, b: int):
    signs = SAFE_VIDEOS.sign[:b]
    return draw(pick([signs, signs.tolist()], [(signs * 2, "not +-1"), (signs[:0], "no entries"),
                                              ("+", "a string"), (torch.ones(b + 1), "one too many")], q))


def one_sign(draw, q: float):
    return draw(pick([-1, 1, np.int64(1)], [(0, "zero"), (2, "not +-1"), (1.0, "a float"), (True, "a bool")], q))


@fuzz("physdl.safe.SafeConfig")
def _(draw):
    q = draw(bad_rate())
    heads = draw(st.sampled_from([1, 2, 4]))
    args = {"substeps": draw(integer(1, 100, bad_chance=q)), "unstable": draw(choice(["raise", "allow"], bad_chance=q)),
            "channels": draw(integer(1, 32, bad_chance=q)), "heads": good(heads),
            "d_model": draw(pick([2 * heads * k for k in (1, 2, 4)], [(heads * 2 + 1, "not divisible"), (0, "zero")], q)),
            "w_phys": draw(number(0.0, 1e3, bad_values=(-1.0,), bad_chance=q)),
            "alpha_min": draw(positive(1e-3, 0.1, bad_chance=q)), "alpha_max": draw(positive(0.2, 2.0, bad_chance=q)),
            "lr_estimator": draw(positive(1e-5, 1.0, bad_chance=q)), "phase1_steps": draw(integer(0, 1000, bad_chance=q)),
            "batch_size": draw(integer(1, 8, bad_values=[0], bad_chance=q)),
            "direction": draw(choice(["stable", "forward"], bad_chance=q)), "seed": draw(integer(0, 9, bad_values=[-1], bad_chance=q))}

    def expect(cfg, **_):
        assert type(cfg.w_phys) is float and type(cfg.substeps) is int and cfg.d_model % cfg.heads == 0
    call(safe.SafeConfig, args, expect)


@fuzz("physdl.safe.HeatVideoConfig")
def _(draw):
    q = draw(bad_rate())
    save_every = draw(st.integers(1, 5))
    args = {"n": draw(integer(4, 256, bad_values=[3, 0, 8.0], bad_chance=q)), "dx": draw(positive(0.25, 2.0, bad_chance=q)),
            "dt": draw(positive(1e-4, 0.01, bad_chance=q)),
            "steps": draw(pick([save_every * k for k in (1, 10)], [(save_every * 3 + 1 if save_every > 1 else 0, "not a multiple")], q)),
            "save_every": good(save_every),
            "grains": draw(pick([(15, 35), [2, np.int64(2)]], [((5, 2), "fewest > most"), ((0, 3), "zero grains"), (5, "not a pair")], q)),
            "width": draw(positive(0.5, 5.0, bad_chance=q)), "roughness": draw(number(0.0, 1.0, bad_values=(-0.5,), bad_chance=q)),
            "alpha_range": draw(pick([(0.1, 0.7), (0.2, 0.2)], [((0.0, 0.5), "zero"), ((0.5, 0.1), "low > high"),
                                                             ((math.nan, 0.5), "nan")], q)),
            "runs": draw(integer(1, 100, bad_values=[0], bad_chance=q)),
            "train_fraction": draw(number(0.0, 1.0, bad_values=(1.5, -0.1), bad_chance=q)), "seed": draw(integer(0, 5, bad_chance=q))}

    def expect(cfg, **_):
        assert type(cfg.dx) is float and type(cfg.grains) is tuple and cfg.frames == cfg.steps // cfg.save_every + 1
        json.dumps(dataclasses.asdict(cfg))  # a cache key of plain values
    call(safe.HeatVideoConfig, args, expect, may_reject=["dt"])  # dt above the von Neumann bound of the largest alpha


@fuzz("physdl.safe.Videos")
def _(draw):
    q = draw(bad_rate())
    v = SAFE_VIDEOS
    args = {"frames": draw(pick([v.frames], [(v.frames[:, :1], "one frame"), (v.frames.clone().fill_(math.inf), "inf"),
                                            (v.frames[0], "no simulation axis")], q)),
            "alpha": draw(pick([v.alpha], [(v.alpha[:1], "one value for two"), (v.alpha.tolist(), "a list")], q)),
            "index": draw(pick([v.index], [(v.index[:1], "one value for two")], q)),
            "dt_save": draw(positive(1e-3, 1.0, bad_chance=q)), "dx": draw(positive(0.1, 2.0, bad_chance=q))}
    k = draw(integer(1, 2, bad_values=[0, 1.5, 3], bad_chance=q))

    def run(k, **fields):
        videos = safe.Videos(**fields)
        return videos, videos.every(k), videos.subset([1])

    def expect(out, k, dt_save, **_):
        videos, coarse, one = out
        assert coarse.frames.shape[1] == (videos.frames.shape[1] - 1) // int(k) + 1
        assert abs(coarse.dt_save - int(k) * float(dt_save)) < 1e-12 and len(one) == 1
        assert torch.equal(videos.sign, torch.sign(videos.alpha))
    call(run, {**args, "k": k}, expect, name="Videos", aliases={"k": ["frame step"]})


@fuzz("physdl.safe.heat_videos", "physdl.safe.simulation", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["heat_videos", "simulation"])), draw(bad_rate(clean=0.5))
    cfg = safe.HeatVideoConfig(n=draw(st.sampled_from([4, 8])), steps=4, save_every=draw(st.sampled_from([1, 2])),
                               grains=(2, 3), runs=draw(st.integers(1, 2)), train_fraction=0.5, seed=draw(st.integers(0, 3)))
    args = {"cfg": draw(pick([cfg], [({"n": 8}, "not a config")], q)),
            "device": draw(pick([None, "cpu"], [("xpu:9", "not a device")], q))}
    if name == "heat_videos":
        args["which"] = draw(pick(["all", "train", "test"], [("valid", "not an option"), (0, "not an option")], q))
    else:
        args["index"] = draw(integer(0, 2 * cfg.runs - 1, bad_values=[-1, 2 * cfg.runs, 1.5], bad_chance=q))

    def expect(out, cfg, **v):
        if name == "simulation":
            assert out["frames"].shape == (cfg.frames, cfg.n, cfg.n)
            assert float(out["alpha"]) * (1 if int(v["index"]) % 2 else -1) > 0  # even: diffusion, odd: its reversal
            return
        assert out.frames.shape[1:] == (cfg.frames, 1, cfg.n, cfg.n) and len(out) == len(out.alpha)
        assert bool((out.alpha.abs() >= cfg.alpha_range[0] - 1e-6).all())
    # one run with train_fraction 0.5 puts no run in the training set: which="train" is refused
    call(lambda **v: in_scratch_cache(getattr(safe, name), **v), args, expect, name=name, may_reject=["which"])


@fuzz("physdl.safe.SafeOperator")
def _(draw):
    q = draw(bad_rate())
    b = draw(st.integers(1, 3))
    args = {"dt_save": draw(positive(1e-3, 0.1, bad_chance=q)), "dx": draw(positive(0.5, 2.0, bad_chance=q)),
            "substeps": draw(integer(1, 20, bad_values=[0, 2.5, True], bad_chance=q)),
            "method": draw(choice(["spectral", "stencil"], bad_chance=q)), "unstable": draw(choice(["raise", "allow"], bad_chance=q))}
    field_ = draw(field(dims=(2,), batch=(b, b), size=(2, 6), bad_chance=q))
    if field_.why == "four spatial axes":  # (batch, ..., nx, ny): extra leading axes are allowed
        field_ = good(field_.value)
    alpha = draw(pick([-0.5, np.float32(-0.1), torch.tensor(-0.2), torch.linspace(-0.5, 0.0, b)],
                      [(torch.full((b,), math.nan), "nan"), (torch.zeros(b + 1), "one too many"), (torch.zeros(b, 2), "a matrix"),
                       ("0.5", "a string")], q))

    def run(field, alpha, **ctor):
        op = safe.SafeOperator(**ctor)
        return op, op(field, alpha)

    def expect(out, field, alpha, **ctor):
        op, result = out
        assert result.shape == field.shape and result.dtype == field.dtype
        other = safe.SafeOperator(ctor["dt_save"], ctor["dx"], ctor["substeps"],
                                  "stencil" if ctor["method"] == "spectral" else "spectral", ctor["unstable"])
        close(other(field, alpha), result, rtol=1e-3, atol=1e-4)  # both methods agree
        close(result.mean(dim=(-2, -1)), field.mean(dim=(-2, -1)), atol=1e-4)  # the mean is conserved
        assert float(result.abs().max()) <= float(field.abs().max()) + 1e-4  # diffusion within its limit: no growth
    call(run, {**args, "field": field_, "alpha": alpha}, expect, name="SafeOperator", may_reject=["alpha"])


@fuzz("physdl.safe.frame_pairs", "physdl.safe.safe_residual", "physdl.safe.safe_loss", "physdl.safe.SpectralPairs")
def _(draw):
    name, q = draw(st.sampled_from(["frame_pairs", "safe_residual", "safe_loss", "SpectralPairs"])), draw(bad_rate())
    b = draw(st.integers(1, 2))
    latent = video_arg(draw, q, b)
    if latent.why == "float64 for float32 weights":
        latent = good(latent.value)  # no weights here: float64 is fine
    args = {"latent": latent, "sign": sign_arg(draw, q, b), "direction": draw(choice(["stable", "forward"], bad_chance=q))}
    op = safe.SafeOperator(SAFE_VIDEOS.dt_save, SAFE_VIDEOS.dx, 4)
    if name != "frame_pairs":
        args["operator"] = draw(pick([op], [("operator", "not an operator")], q))
    if name in ("safe_residual", "safe_loss"):
        args["alpha"] = draw(pick([SAFE_VIDEOS.alpha[:b], SAFE_VIDEOS.alpha[:b].double()],
                                  [(SAFE_VIDEOS.alpha[:b] * math.inf, "inf")], q))

    def expect(out, latent, sign, direction, **v):
        if name == "frame_pairs":
            source, target = out
            assert source.shape == target.shape == (latent.shape[0], latent.shape[1] - 1, *latent.shape[2:])
            return
        if name == "safe_residual":
            assert out.shape == (latent.shape[0], latent.shape[1] - 1, *latent.shape[2:])
            return
        if name == "safe_loss":
            assert out.dim() == 0 and float(out) >= 0
            return
        alpha = SAFE_VIDEOS.alpha[:latent.shape[0]]
        close(out.loss(alpha), safe.safe_loss(op, latent, alpha, sign, direction), rtol=1e-3, atol=1e-7)  # Parseval
        with pytest.raises(ValueError, match="alpha"):
            out.loss(alpha[:0])
    call(getattr(safe, name), args, expect)


@fuzz("physdl.safe.ResidualField", "physdl.safe.AlphaEstimator", "physdl.safe.SafeAutoencoder")
def _(draw):
    name, q = draw(st.sampled_from(["ResidualField", "AlphaEstimator", "SafeAutoencoder"])), draw(bad_rate())
    b = draw(st.integers(1, 2))
    video = video_arg(draw, q, b)
    torch.manual_seed(0)
    if name == "ResidualField":
        if video.why == "one frame":  # frame-wise: a single frame is a valid input
            video = good(video.value)
        ctor = {"channels": draw(integer(1, 4, bad_values=[0, 1.5], bad_chance=q))}
        inputs = {"video": video}
    else:
        heads = draw(st.sampled_from([1, 2]))
        ctor = {"d_model": draw(pick([2 * heads, 4 * heads], [(3, "odd"), (0, "zero")], q)), "heads": good(heads),
                "pool": draw(integer(1, 4, bad_values=[0], bad_chance=q))}
        inputs = {"video": video}
        if name == "SafeAutoencoder":
            ctor.update(operator=draw(pick([safe.SafeOperator(SAFE_VIDEOS.dt_save, SAFE_VIDEOS.dx, 4)], [(None, "not an operator")], q)),
                        channels=draw(integer(1, 3, bad_chance=q)))
            inputs["sign"] = sign_arg(draw, q, b)

    def run(video, sign=None, **kw):
        net = getattr(safe, name)(**kw)
        net.eval()
        with torch.no_grad():
            if name == "SafeAutoencoder":
                return net, net(video, sign)
            return net, net(video)

    def expect(out, video, **kw):
        net, result = out
        if name == "ResidualField":
            close(result, video)  # zero-initialised projection: the identity before training
        elif name == "AlphaEstimator":
            assert result.shape == (len(video),) and bool((result > 0).all())
        else:
            assert result.latent.shape == result.reconstruction.shape == video.shape
            assert torch.equal(torch.sign(result.alpha), torch.as_tensor(kw["sign"], dtype=result.alpha.dtype))
    call(run, {**ctor, **inputs}, expect, name=name, aliases={"video": ["v", "latent"]})


@fuzz("physdl.safe.bounds_loss")
def _(draw):
    q = draw(bad_rate())
    args = {"alpha": draw(tensor((draw(st.integers(1, 4)),), lo=-2, hi=2, bad_chance=q)),
            "alpha_min": draw(number(0.0, 0.1, bad_values=(-0.1,), bad_chance=q)),
            "alpha_max": draw(number(0.5, 1.0, bad_values=(-1.0,), bad_chance=q))}

    def expect(out, alpha, alpha_min, alpha_max):
        m = alpha.abs()
        inside = bool(((m >= float(alpha_min)) & (m <= float(alpha_max))).all())
        assert out.dim() == 0 and float(out) >= 0 and (float(out) == 0) == inside
    call(safe.bounds_loss, args, expect)


@fuzz("physdl.safe.build_model", "physdl.safe.losses", "physdl.safe.predict")
def _(draw):
    name, q = draw(st.sampled_from(["build_model", "losses", "predict"])), draw(bad_rate())
    cfg = draw(pick([TINY_SAFE], [({"substeps": 2}, "not a config")], q))
    if name == "build_model":
        args = {"dt_save": draw(positive(1e-3, 0.1, bad_chance=q)), "dx": draw(positive(0.5, 2.0, bad_chance=q)), "cfg": cfg}
        call(safe.build_model, args, lambda m, **v: [p.shape for p in m.parameters()] == [p.shape for p in safe_model().parameters()])
        return
    model = safe_model()
    margs = {"model": draw(pick([model], [(model.estimator, "not a SafeAutoencoder")], q))}
    if name == "predict":
        def expect_predict(out, videos, **_):
            assert out.shape == (len(videos),) and torch.equal(torch.sign(out), videos.sign)
        call(safe.predict, {**margs, "videos": draw(pick([SAFE_VIDEOS], [(SAFE_VIDEOS.frames, "not Videos")], q))}, expect_predict)
        return
    video = SAFE_VIDEOS.frames
    with torch.no_grad():
        out = model(video, SAFE_VIDEOS.sign)
    args = {**margs, "out": draw(pick([out], [(out.latent, "not a SafeOutput")], q)),
            "video": draw(pick([video], [(video[:1], "another video"), (video.clone().fill_(math.nan), "nan")], q)),
            "sign": draw(pick([SAFE_VIDEOS.sign], [(torch.zeros(2), "zero")], q)), "cfg": cfg}

    def expect(terms, **_):
        assert set(terms) == {"safe", "recon", "identity", "bounds", "total"}
        assert all(float(t) >= 0 for t in terms.values())
    call(safe.losses, args, expect, aliases={"out": ["output"]})


@fuzz("physdl.safe.fit_estimator", "physdl.safe.zero_shot", "physdl.safe.fine_tune", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["fit_estimator", "zero_shot", "fine_tune"])), draw(bad_rate(clean=0.5))
    i = draw(st.integers(0, 1))
    frames = draw(pick([SAFE_VIDEOS.frames[i], SAFE_VIDEOS.frames[i, :, 0], SAFE_VIDEOS.frames[i:i + 1]],
                       [(SAFE_VIDEOS.frames, "two simulations"), (SAFE_VIDEOS.frames[i, :1], "one frame"),
                        (SAFE_VIDEOS.frames[i].clone().fill_(math.nan), "nan")], q))
    args = {"frames": frames, "sign": draw(pick([int(SAFE_VIDEOS.sign[i])], [(0, "zero"), (True, "a bool"), (-2, "not +-1")], q)),
            "cfg": draw(pick([TINY_SAFE], [("tiny", "not a config")], q))}
    if name == "fit_estimator":
        args.update(model=draw(pick([safe_model()], [(None, "not a model")], q)), steps=draw(integer(0, 3, bad_chance=q)),
                    lr=draw(positive(1e-4, 1e-2, bad_chance=q)), show_progress=good(False))
    elif name == "zero_shot":
        args.update(dt_save=good(SAFE_VIDEOS.dt_save), dx=draw(positive(SAFE_VIDEOS.dx, SAFE_VIDEOS.dx, bad_chance=q)),
                    device=draw(pick([None, "cpu"], [("gpu0", "not a device")], q)), show_progress=good(False))
    else:
        args["model"] = draw(pick([safe_model()], [("model", "not a model")], q))

    def expect(est, sign, **v):
        steps = int(v.get("steps", TINY_SAFE.zero_shot_steps if name == "zero_shot" else TINY_SAFE.fine_tune_steps))
        assert math.isfinite(est.alpha) and math.copysign(1, est.alpha) == int(sign)
        assert len(est.trace) == len(est.loss) == steps
    call(getattr(safe, name), args, expect, may_reject=["cfg"])  # an estimate past the operator's stability limit


@fuzz("physdl.safe.train", "physdl.safe.estimate_all", "physdl.safe.zero_shot_all", "physdl.safe.fine_tune_all", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["train", "estimate_all", "zero_shot_all", "fine_tune_all"])), draw(bad_rate(clean=0.5))
    videos = draw(pick([SAFE_VIDEOS, SAFE_VIDEOS.subset([1])], [(SAFE_VIDEOS.frames, "not Videos")], q))
    args = {"videos": videos, "show_progress": draw(pick([False], [("no", "not a bool")], q))}
    if name != "estimate_all":
        args["cfg"] = draw(pick([TINY_SAFE], [(None, "not a config")], q))
    if name in ("train", "fine_tune_all"):
        args["model"] = draw(pick([safe_model()], [(SAFE_VIDEOS, "not a model")], q))
    if name == "estimate_all":
        args["estimator"] = draw(pick([lambda frames, sign: safe.zero_shot(frames, sign, SAFE_VIDEOS.dt_save, SAFE_VIDEOS.dx, TINY_SAFE)],
                                      [("zero_shot", "not callable")], q))
        args["desc"] = draw(pick(["zero-shot"], [(3, "not a string")], q))

    def expect(out, videos, **v):
        if name == "train":
            assert len(out.phase1.loss) == TINY_SAFE.phase1_steps and len(out.phase2.loss) == TINY_SAFE.phase2_steps
            return
        values = torch.tensor([e.alpha for e in out]) if name == "estimate_all" else out
        assert values.shape == (len(videos),) and torch.equal(torch.sign(values), videos.sign)
    call(getattr(safe, name), args, expect, may_reject=["cfg"])


@fuzz("physdl.safe.recovery_metrics")
def _(draw):
    q = draw(bad_rate())
    n = draw(st.integers(2, 6))
    true = torch.linspace(-0.7, 0.7, n)
    true = true[true != 0]
    args = {"true": draw(pick([true, true.tolist()], [(true[:1], "one value"), ("0.1", "a string")], q)),
            "pred": draw(pick([true + 0.01, (true * 0.9).double()], [(torch.full_like(true, math.nan), "nan"), (true[:, None], "a matrix")], q))}

    def expect(out, pred, true):
        t = torch.as_tensor(true, dtype=torch.float64)
        assert out["all"]["n"] == len(t) and out["all"]["mae"] >= 0 and out["all"]["r2"] <= 1
    call(safe.recovery_metrics, args, expect, may_reject=["true"])  # R^2 of a constant reference


@fuzz("physdl.safe.alpha_landscape", "physdl.safe.least_squares_alpha", "physdl.safe.field_report")
def _(draw):
    name, q = draw(st.sampled_from(["alpha_landscape", "least_squares_alpha", "field_report"])), draw(bad_rate())
    i = draw(st.integers(0, 1))
    frames = draw(pick([SAFE_VIDEOS.frames[i]], [(SAFE_VIDEOS.frames[i, :1], "one frame"),
                                                (SAFE_VIDEOS.frames[i].clone().fill_(math.inf), "inf")], q))
    sign = int(SAFE_VIDEOS.sign[i])
    args = {"sign": draw(pick([sign], [(0, "zero"), (2.0, "a float")], q)),
            "direction": draw(choice(["stable", "forward"], bad_chance=q))}
    op = safe.SafeOperator(SAFE_VIDEOS.dt_save, SAFE_VIDEOS.dx, 4)
    if name == "field_report":
        args.update(model=draw(pick([safe_model()], [(op, "not a model")], q)), frames=frames,
                    alpha=draw(pick([None, 0.3 * sign], [(math.nan, "nan"), ("a", "a string")], q)))
    else:
        args.update(latent=frames, operator=draw(pick([op], [(safe_model(), "not an operator")], q)))
        if name == "alpha_landscape":
            args["magnitudes"] = draw(pick([torch.linspace(0.1, 1.0, 4)], [(torch.tensor([-0.1, 0.2]), "negative"),
                                                                         (torch.zeros(0), "empty"), (0.5, "a number")], q))
        else:
            args.update(low=draw(positive(1e-3, 0.05, bad_chance=q)), high=draw(positive(1.0, 2.0, bad_chance=q)),
                        iterations=draw(integer(1, 30, bad_values=[0], bad_chance=q)))

    def expect(out, sign, direction, **v):
        if name == "alpha_landscape":
            assert out.shape == v["magnitudes"].shape and bool((out >= 0).all())
        elif name == "least_squares_alpha":
            assert math.copysign(1, out) == sign and float(v["low"]) <= abs(out) <= float(v["high"])
            if direction == "stable" and int(v["iterations"]) >= 30:  # the data's own coefficient
                assert abs(abs(out) - abs(float(SAFE_VIDEOS.alpha[i]))) < 0.05
        else:
            assert out.prediction.shape == out.target.shape == (SAFE_VIDEOS.frames.shape[1] - 1, 8, 8)
            assert math.copysign(1, out.alpha) == sign
    call(getattr(safe, name), args, expect, aliases={"latent": ["frames"], "magnitudes": ["alpha"]}, may_reject=["sign"])
