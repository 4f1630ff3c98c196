"""Fuzz specs of the methods' entry points (tests/test_fuzz.py), at tiny sizes.

Registered into :data:`fuzz_specs.SPECS` and :data:`fuzz_specs.EXEMPT` on import, with the
strategies and contract of :mod:`fuzzing`. Training entry points run 20 examples each.
"""

from __future__ import annotations

import json
import os
import tempfile

import torch
from hypothesis import strategies as st

from fuzz_specs import EXEMPT, close, fuzz
from fuzzing import bad, call, good, integer, number, positive, tensor

import physdl.surrogate as sur
from physdl import nn as pnn

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
        """flow_dataset with the data cache in a fresh folder (restored and removed afterwards)."""
        old = os.environ.get("PHYSDL_CACHE")
        with tempfile.TemporaryDirectory(prefix="physdl-fuzz-cache-") as scratch:
            os.environ["PHYSDL_CACHE"] = scratch
            try:
                return sur.flow_dataset(cfg)
            finally:
                if old is None:
                    del os.environ["PHYSDL_CACHE"]
                else:
                    os.environ["PHYSDL_CACHE"] = old

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
