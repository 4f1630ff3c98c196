"""Fuzz specs of :mod:`physdl.neuradiff` (tests/test_fuzz.py), on an 8 x 8 video of four frames.

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
import torch
from hypothesis import strategies as st

from fuzz_specs import EXEMPT, close, fuzz
from fuzz_specs_methods import in_scratch_cache
from fuzzing import bad, bad_rate, call, field, good, integer, number, pick, positive, tensor

import physdl.neuradiff as nd
from physdl.pde import voids

EXEMPT.update({
    "physdl.neuradiff.LAPLACE_KERNEL": "a constant: the five-point stencil of the paper's convolution",
    "physdl.neuradiff.UNKNOWN": "a constant: the label of a pixel that carries no annotation",
    "physdl.neuradiff.chapter_config": "deprecated wrapper of physdl.sizes.chapter (goes in 0.3.0)",
    "physdl.neuradiff.NeuraDiffResult": "a result container returned by train, fuzzed there",
})

TINY_SCENARIO = nd.VoidScenario(n=8, centers=((4.0, 4.0),), radii=(2.5,), frames=4, steps_per_frame=2)
TINY_VIDEO = nd.synthesise(TINY_SCENARIO, progress=False, cache=False)  # (4, 3, 8, 8) states, (4, 1, 8, 8) frames
TINY_LABELS = nd.annotate(TINY_VIDEO.eta, 0.5, 0.5, torch.Generator().manual_seed(0), always=(0,))
TINY_CFG = nd.NeuraDiffConfig(embedding=2, base=4, levels=2, pretrain_steps=2, steps=2, batch_size=2, gap=2,
                              baseline_steps=2)
T, N = TINY_VIDEO.frames.shape[0], TINY_VIDEO.frames.shape[-1]


def _nets():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nd.RecognitionNet(T, 2, 4, 2), nd.TrackingUNet(4, 2), nd.NextFrameUNet(4, 2)


RECOGNITION, TRACKER, NEXT_FRAME = _nets()
PHYSICS = nd.NeuralPhaseField(TINY_SCENARIO.dt, TINY_SCENARIO.dx, TINY_CFG.initial)
TINY_RESULT = nd.train(TINY_VIDEO, TINY_LABELS, TINY_CFG, progress=False, device="cpu")


def eta_arg(draw, q: float, frames: tuple[int, int] = (1, 4)):
    """A drawn order parameter ``(frames, n, n)`` in [0, 1], or a bad one."""
    shape = (draw(st.integers(*frames)), *(draw(st.sampled_from([2, 4, 6])),) * 2)
    eta = draw(tensor(shape, lo=0.0, hi=1.0, bad_chance=q))
    if not eta.bad and draw(st.floats(0, 1)) < q:
        kind = draw(st.sampled_from(["above", "batch", "empty"]))
        return {"above": bad(eta.value * 2 + 0.1, "outside [0, 1]"), "batch": bad(eta.value[None], "four axes"),
                "empty": bad(eta.value[:0], "no frames")}[kind]
    return eta


def labels_arg(draw, q: float, dims: int = 3, frame_axis: bool = True):
    """Drawn annotations ``(frames, n, n)`` of 1, 0 and UNKNOWN (``dims=2``: one frame of them), or
    bad ones; ``frame_axis``: a single frame is bad."""
    g = torch.Generator().manual_seed(draw(st.integers(0, 99)))
    frames, n = draw(st.integers(1, 5)), draw(st.sampled_from([2, 4]))
    labels = (torch.randint(-1, 2, (frames, n, n), generator=g)).to(draw(st.sampled_from([torch.int8, torch.int64])))
    labels = labels if dims == 3 else labels[0]
    return draw(pick([labels], [(labels.float(), "floating labels"), (labels + 5, "values outside 1, 0, UNKNOWN"),
                                (labels.numpy(), "a NumPy array"), (labels > 0, "a bool tensor")]
                     + ([(labels[0], "no frame axis")] if dims == 3 and frame_axis else []), q))


def frames_arg(draw, q: float, frames: tuple[int, int] = (1, 6), name: str = "frames", n: int | None = None):
    """A drawn video ``(frames, 1, n, n)`` of grey levels for the tiny float32 nets, or a bad one."""
    size = n or draw(st.sampled_from([4, 8]))
    video = draw(field(batch=frames, space=(size, size), lo=0.0, hi=1.0, dtypes=(torch.float32,), bad_chance=q))
    if not video.bad and draw(st.floats(0, 1)) < q:
        kind = draw(st.sampled_from(["float64", "no channel"]))
        return {"float64": bad(video.value.double(), "float64 for float32 weights"),
                "no channel": bad(video.value[:, 0], "no channel axis")}[kind]
    return video


def state_arg(draw, q: float, batch: int | None = None, name: str = "state"):
    """A drawn state ``(batch, 3, n, n)`` (``batch=None``: one state ``(3, n, n)``) in [0, 1], or a bad one."""
    n = draw(st.sampled_from([4, 6, 8]))
    shape = (3, n, n) if batch is None else (batch, 3, n, n)
    state = draw(tensor(shape, lo=0.0, hi=1.0, bad_chance=q, corrupt=("nan", "inf", "int", "numpy")))
    if not state.bad and draw(st.floats(0, 1)) < q:
        kind = draw(st.sampled_from(["channels", "axes"]))
        return {"channels": bad(state.value[..., :2, :, :], "two channels"),
                "axes": bad(state.value[None] if batch is None else state.value[0, 0], "wrong axes")}[kind]
    return state


def generator_arg(draw, q: float):
    return draw(pick([None, torch.Generator().manual_seed(draw(st.integers(0, 9)))], [(0, "an int"), ("g", "a string")], q))


def parameters_arg(draw, q: float, name: str = "parameters"):
    return draw(pick([voids.VoidParameters(), voids.VoidParameters(L=0.5, D_v=0.8)],
                     [({"L": 1.0}, "a dict"), ("P", "a string")], q))


# =========================================================================== configs and data


@fuzz("physdl.neuradiff.NeuraDiffConfig")
def _(draw):
    q = draw(bad_rate())
    args = {"frame_fraction": draw(number(0.01, 1.0, bad_values=(0.0, 1.5), bad_chance=q)),
            "pixel_fraction": draw(number(0.01, 1.0, bad_values=(0.0, -0.5), bad_chance=q)),
            "embedding": draw(integer(1, 16, bad_values=[0, 2.5], bad_chance=q)),
            "base": draw(integer(1, 32, bad_values=[0, "16"], bad_chance=q)),
            "levels": draw(integer(1, 5, bad_values=[0, -1], bad_chance=q)),
            "pretrain_steps": draw(integer(0, 1000, bad_chance=q)), "steps": draw(integer(0, 1000, bad_chance=q)),
            "batch_size": draw(integer(1, 8, bad_values=[0, 1.5], bad_chance=q)),
            "gap": draw(integer(1, 8, bad_values=[0, -2], bad_chance=q)),
            "lr_net": draw(positive(1e-5, 1.0, bad_chance=q)), "lr_physics": draw(positive(1e-5, 1.0, bad_chance=q)),
            "lambda_rec": draw(number(0.0, 100.0, bad_values=(-1.0,), bad_chance=q)),
            "lambda_sim_rec": draw(number(0.0, 100.0, bad_values=(-0.5,), bad_chance=q)),
            "c_v_prior": draw(number(0.0, 1.0, bad_values=(1.5, -0.1), bad_chance=q)),
            "c_i_prior": draw(number(0.0, 1.0, bad_values=(2.0,), bad_chance=q)),
            "initial": parameters_arg(draw, q), "baseline_steps": draw(integer(0, 1000, bad_chance=q)),
            "seed": draw(integer(0, 9, bad_values=[-1], bad_chance=q))}

    def expect(cfg, **_):
        assert type(cfg.frame_fraction) is float and type(cfg.lr_net) is float and type(cfg.gap) is int
        assert type(cfg.seed) is int and 0 < cfg.pixel_fraction <= 1
    call(nd.NeuraDiffConfig, args, expect)


@fuzz("physdl.neuradiff.IntensityModel")
def _(draw):
    q = draw(bad_rate())
    args = {"void_mean": draw(number(-1.0, 1.0, bad_chance=q)), "void_std": draw(number(0.0, 1.0, bad_values=(-0.1,), bad_chance=q)),
            "solid_mean": draw(number(-1.0, 1.0, bad_chance=q)), "solid_std": draw(number(0.0, 1.0, bad_values=(-1.0,), bad_chance=q)),
            "blur_frames": draw(integer(1, 25, bad_values=[0, 2.5], bad_chance=q)),
            "blur_pixels": draw(pick([1, 3, np.int64(5)], [(2, "even"), (0, "zero"), (3.0, "a float")], q))}

    def expect(model, **_):
        assert type(model.void_std) is float and type(model.blur_pixels) is int and model.blur_pixels % 2 == 1
    call(nd.IntensityModel, args, expect)


@fuzz("physdl.neuradiff.VoidScenario")
def _(draw):
    q = draw(bad_rate())
    centers = draw(pick([((4.0, 4.0),), [(1, 2), (5.5, np.float32(3))], ((torch.tensor(2.0), 6.0),)],
                        [((), "no void"), (((1.0,),), "not a pair"), (((math.nan, 1.0),), "nan"), ("ab", "a string")], q))
    count = len(centers.value) if not centers.bad else 1
    radii = draw(pick([(2.0,) * count, [np.float64(1.5)] * count],
                      [((0.0,) * count, "zero radius"), ((1.0,) * (count + 1), "one too many"), ((-1.0,) * count, "negative")], q))
    args = {"n": draw(integer(4, 32, bad_values=[3, 0, 8.0], bad_chance=q)), "centers": centers, "radii": radii,
            "c_v_mean": draw(number(0.2, 0.5, bad_values=(1.5, -0.1), bad_chance=q)),
            "c_v_amplitude": draw(number(0.0, 0.15, bad_values=(-0.1, 0.8), bad_chance=q)),
            "direction": draw(number(-4.0, 4.0, bad_chance=q)),
            "frames": draw(integer(2, 100, bad_values=[1, 0, 2.5], bad_chance=q)),
            "steps_per_frame": draw(integer(1, 50, bad_values=[0], bad_chance=q)),
            "dt": draw(positive(1e-3, 0.05, bad_chance=q)), "dx": draw(positive(0.5, 2.0, bad_chance=q)),
            "parameters": parameters_arg(draw, q),
            "irradiation": draw(pick([voids.Irradiation(), voids.Irradiation(r_bulk=0.0)], [(None, "None")], q)),
            "intensity": draw(pick([nd.IntensityModel()], [({}, "a dict")], q)),
            "seed": draw(integer(0, 9, bad_values=[-1], bad_chance=q))}

    def expect(s, **v):
        assert type(s.n) is int and type(s.dt) is float and all(type(c) is float for p in s.centers for c in p)
        assert len(s.radii) == len(s.centers) and s.dt_frame == s.steps_per_frame * s.dt
        json.dumps(dataclasses.asdict(s))  # a cache key of plain values
        state = s.initial_state()
        assert state.shape == (1, 3, s.n, s.n) and float(state.min()) >= 0 and float(state.max()) <= 1
    # dt above the explicit limit at this dx
    call(nd.VoidScenario, args, expect, may_reject=["dt"])


@fuzz("physdl.neuradiff.VoidVideo")
def _(draw):
    q = draw(bad_rate())
    v = TINY_VIDEO
    args = {"states": draw(pick([v.states, v.states.double()], [(v.states[:, :2], "two channels"), (v.states[:1], "one frame"),
                                                                (v.states.clone().fill_(math.nan), "nan"), (v.states + 1, "outside [0, 1]")], q)),
            "frames": draw(pick([v.frames], [(v.frames[:, 0], "no channel axis"), (v.frames[:2], "fewer frames"),
                                             (v.frames * 2 + 0.5, "outside [0, 1]"), (v.frames.long(), "an integer tensor")], q)),
            "scenario": draw(pick([TINY_SCENARIO], [("tiny", "not a scenario")], q))}

    def expect(video, states, **_):
        assert len(video) == len(states) and video.eta.shape == (len(states), N, N)
    call(nd.VoidVideo, args, expect)


@fuzz("physdl.neuradiff.synthesise", slow=True)
def _(draw):
    q = draw(bad_rate(clean=0.5))
    scenario = nd.VoidScenario(n=draw(st.sampled_from([4, 8])), centers=((3.0, 3.0),), radii=(2.0,),
                               frames=draw(st.integers(2, 3)), steps_per_frame=draw(st.integers(1, 2)), seed=draw(st.integers(0, 3)))
    args = {"scenario": draw(pick([scenario], [({"n": 8}, "not a scenario")], q)),
            "progress": draw(pick([None, False], [("no", "a string")], q)),
            "cache": draw(pick([True, False], [(1, "an int")], q)),
            "device": draw(pick([None, "cpu", torch.device("cpu")], [("gpu", "not a device")], q))}

    def expect(video, scenario, **_):
        s = scenario
        assert video.states.shape == (s.frames, 3, s.n, s.n) and video.frames.shape == (s.frames, 1, s.n, s.n)
        assert float(video.states.min()) >= 0 and float(video.states.max()) <= 1
        close(video.frames * 255, (video.frames * 255).round(), atol=1e-3)  # an 8-bit video
    call(lambda **v: in_scratch_cache(nd.synthesise, **v), args, expect, name="synthesise")


@fuzz("physdl.neuradiff.tem_video")
def _(draw):
    q = draw(bad_rate())
    args = {"eta": eta_arg(draw, q),
            "model": draw(pick([None, nd.IntensityModel(), nd.IntensityModel(blur_frames=1, blur_pixels=1)],
                               [("default", "a string")], q)),
            "generator": generator_arg(draw, q)}

    def expect(out, eta, **_):
        as_uint8, frames = out
        assert as_uint8.dtype == torch.uint8 and as_uint8.shape == eta.shape and frames.shape == (eta.shape[0], 1, *eta.shape[1:])
        close(frames[:, 0], as_uint8.float() / 255)
    call(nd.tem_video, args, expect)


@fuzz("physdl.neuradiff.annotate", "physdl.neuradiff.known", "physdl.neuradiff.annotated_frames",
      "physdl.neuradiff.held_out")
def _(draw):
    name, q = draw(st.sampled_from(["annotate", "known", "annotated_frames", "held_out"])), draw(bad_rate())
    if name == "annotate":
        eta = eta_arg(draw, q)
        frames = eta.value.shape[0] if not eta.bad else 1
        args = {"eta": eta, "frame_fraction": draw(number(0.01, 1.0, bad_values=(0.0, 1.5), bad_chance=q)),
                "pixel_fraction": draw(number(0.01, 1.0, bad_values=(0.0, -0.2), bad_chance=q)),
                "generator": generator_arg(draw, q),
                "always": draw(pick([(), (0,), [np.int64(frames - 1)], (0, 0)],
                                    [((frames + 3,), "past the video"), ((-1,), "negative"), ((0.5,), "a float"),
                                     (3, "not a sequence")], q))}

        def expect(labels, eta, frame_fraction, always, **_):
            assert labels.dtype == torch.int8 and labels.shape == eta.shape
            mask = nd.known(labels)
            assert torch.equal(labels[mask], (eta >= 0.5).to(torch.int8)[mask])  # annotations tell the truth
            count = max(1, round(float(frame_fraction) * len(eta)))
            assert len(nd.annotated_frames(labels)) <= max(count, len(set(int(f) for f in always)))
        call(nd.annotate, args, expect)
        return
    args = {"labels": labels_arg(draw, q, dims=2 if name == "known" and draw(st.booleans()) else 3,
                                 frame_axis=name != "known")}

    def expect(out, labels):
        if name == "known":
            assert out.dtype == torch.bool and torch.equal(out, labels != nd.UNKNOWN)
            return
        with_labels = nd.annotated_frames(labels).tolist()
        without = nd.held_out(labels).tolist()
        assert sorted(with_labels + without) == list(range(len(labels)))  # every frame is one or the other
        assert all(bool((labels[f] != nd.UNKNOWN).any()) for f in with_labels)
    call(getattr(nd, name), args, expect)


@fuzz("physdl.neuradiff.save_video", "physdl.neuradiff.load_video")
def _(draw):
    q = draw(bad_rate())
    t, h, w = draw(st.integers(1, 4)), draw(st.integers(2, 9)), draw(st.integers(2, 9))
    g = torch.Generator().manual_seed(draw(st.integers(0, 99)))
    grey = torch.rand(t, 1, h, w, generator=g)
    frames = draw(pick([grey, grey[:, 0], (grey * 255).round().to(torch.uint8), grey.double()],
                       [(grey * 2, "outside [0, 1]"), (grey.clone().fill_(math.nan), "nan"), (grey.long(), "an integer tensor"),
                        (grey.numpy(), "a NumPy array"), (grey[:0], "no frames"), (grey[0, 0], "two axes")], q))
    args = {"frames": frames, "path": draw(pick(["v.tif", "frames", "v.TIFF"], [(5, "an int"), (None, "None")], q)),
            "overwrite": draw(pick([False, True], [("yes", "a string"), (1, "an int")], q)),
            "max_frames": draw(pick([None, 1, np.int64(3), 9], [(0, "zero"), (-1, "negative"), (1.5, "a float")], q)),
            "multiple_of": draw(integer(1, 4, bad_values=[0, 2.5, True], bad_chance=q))}

    def run(frames, path, overwrite, max_frames, multiple_of):
        with tempfile.TemporaryDirectory(prefix="physdl-fuzz-video-") as folder:
            target = os.path.join(folder, path) if isinstance(path, str) else path
            written = nd.save_video(frames, target, overwrite=overwrite)
            return nd.load_video(written, max_frames=max_frames, multiple_of=multiple_of)

    def expect(loaded, frames, max_frames, multiple_of, **_):
        grey8 = frames if frames.dtype == torch.uint8 else (frames * 255).round()
        grey8 = grey8.reshape(len(frames), 1, *frames.shape[-2:]).float() / 255
        keep = len(grey8) if max_frames is None else min(len(grey8), int(max_frames))
        h, w = grey8.shape[-2:]
        m = int(multiple_of)
        top, left = (h % m) // 2, (w % m) // 2
        expected = grey8[:keep, :, top:top + h - h % m, left:left + w - w % m]
        assert loaded.dtype == torch.float32 and loaded.shape == expected.shape
        close(loaded, expected, atol=1e-6)  # the 8-bit round trip is exact
    # a frame smaller than multiple_of leaves nothing to crop to
    call(run, args, expect, name="save_video/load_video", may_reject=["multiple_of"])


# =========================================================================== networks


@fuzz("physdl.neuradiff.LearnableParameters")
def _(draw):
    q = draw(bad_rate())
    args = {"initial": draw(pick([None, voids.VoidParameters(), voids.VoidParameters(L=0.5, D_v=2.0)],
                                 [("p", "a string"), ({"L": 1.0}, "a dict")], q)),
            "learn": draw(pick([None, ("L",), ["D_v", "kT"], ()], [("L", "a string"), (("nope",), "unknown name"),
                                                                  ((1,), "not a name")], q))}

    def expect(p, initial, learn):
        values = p()
        assert isinstance(values, voids.VoidParameters)
        reference = (initial or voids.VoidParameters()).as_dict()
        for k, v in p.as_dict().items():
            assert math.isclose(v, reference[k], rel_tol=1e-5)
        assert sum(1 for _ in p.parameters()) == (9 if learn is None else len(learn))
    call(nd.LearnableParameters, args, expect)


@fuzz("physdl.neuradiff.NeuralPhaseField")
def _(draw):
    q = draw(bad_rate())
    b = draw(st.integers(1, 2))
    ctor = {"dt": draw(positive(1e-4, 0.02, bad_chance=q)), "dx": draw(positive(0.7, 2.0, bad_chance=q)),
            "initial": draw(pick([None, voids.VoidParameters(L=0.5)], [("p", "a string")], q)),
            "learn": draw(pick([None, ("L", "D_v")], [("L", "a string")], q)),
            "irradiation": draw(pick([None, voids.Irradiation(r_bulk=0.0, r_surf=0.0)], [("none", "a string")], q)),
            "conservative": draw(pick([True, False], [(1, "an int"), ("yes", "a string")], q))}
    state, frames = state_arg(draw, q, batch=b), draw(integer(1, 3, bad_values=[0, 1.5], bad_chance=q))
    steps_per_frame = draw(integer(1, 3, bad_values=[0, -1], bad_chance=q))

    def run(state, frames, steps_per_frame, **ctor):
        net = nd.NeuralPhaseField(**ctor).double()
        return net, net.rollout(state, frames, steps_per_frame), net(state, (int(frames) - 1) * int(steps_per_frame))

    def expect(out, state, frames, **_):
        net, video, last = out
        assert video.shape == (state.shape[0], int(frames), *state.shape[1:]) and last.shape == state.shape
        close(video[:, 0], state)
        close(video[:, -1], last)  # a rollout ends where as many steps end
        assert float(video.min()) >= 0 and float(video.max()) <= 1  # clipped to [0, 1]
    # dt above the explicit limit of the starting parameters at this dx and state
    call(run, {**ctor, "state": state, "frames": frames, "steps_per_frame": steps_per_frame}, expect,
         name="NeuralPhaseField", may_reject=["dt"])


@fuzz("physdl.neuradiff.RecognitionNet", "physdl.neuradiff.TrackingUNet", "physdl.neuradiff.NextFrameUNet")
def _(draw):
    name, q = draw(st.sampled_from(["RecognitionNet", "TrackingUNet", "NextFrameUNet"])), draw(bad_rate())
    levels = draw(st.integers(1, 3))
    ctor = {"base": draw(pick([2, 4, np.int64(8)], [(0, "zero"), (2.5, "a float")], q)),
            "levels": draw(pick([levels], [(0, "zero"), ("2", "a string")], q))}
    if name == "RecognitionNet":
        ctor |= {"frames": draw(integer(1, 8, bad_values=[0, 1.5], bad_chance=q)),
                 "embedding": draw(integer(1, 4, bad_values=[0, -1], bad_chance=q))}
    frame = frames_arg(draw, q, frames=(1, 3), name="frame", n=draw(st.sampled_from([4, 8])))
    b = frame.value.shape[0] if isinstance(frame.value, torch.Tensor) and frame.value.dim() else 1
    inputs = {"frame": frame}
    if name == "RecognitionNet":
        index = torch.randint(0, 10, (b,), generator=torch.Generator().manual_seed(draw(st.integers(0, 9))))
        inputs["index"] = draw(pick([index, index.int()], [(index.float(), "a float tensor"), (index[:0], "no entries"),
                                                           (torch.zeros(b + 1, dtype=torch.long), "one too many"),
                                                           (index.tolist(), "a list")], q))
    elif name == "NextFrameUNet":
        inputs["frames"] = draw(integer(1, 3, bad_values=[0, 1.5], bad_chance=q))

    def run(**v):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = getattr(nd, name)(**{k: v[k] for k in ctor})
        frame = v["frame"]
        if name == "RecognitionNet":
            return net(frame, v["index"])
        if name == "NextFrameUNet":
            return net(frame), net.rollout(frame, v["frames"])
        return net(frame)

    def expect(out, frame, **v):
        if name == "NextFrameUNet":
            nxt, video = out
            assert nxt.shape == frame.shape and video.shape == (frame.shape[0], int(v["frames"]), *frame.shape[1:])
            close(video[:, 0], frame)
            assert float(video.min()) >= 0 and float(video.max()) <= 1
            return
        channels = 3 if name == "RecognitionNet" else 1
        assert out.shape == (frame.shape[0], channels, *frame.shape[2:])
        assert float(out.min()) >= 0 and float(out.max()) <= 1  # a sigmoid
    # frames too small for this depth: one value per normalisation group at the bottleneck
    call(run, {**ctor, **inputs}, expect, name=name, may_reject=["frame"])


# =========================================================================== evaluation


@fuzz("physdl.neuradiff.recognise", "physdl.neuradiff.track")
def _(draw):
    name, q = draw(st.sampled_from(["recognise", "track"])), draw(bad_rate())
    own, other = (RECOGNITION, TRACKER) if name == "recognise" else (TRACKER, RECOGNITION)
    args = {"net": draw(pick([own], [(other, "the other network"), ("net", "a string")], q)),
            "frames": frames_arg(draw, q), "batch": draw(integer(1, 8, bad_values=[0, 1.5], bad_chance=q))}

    def expect(out, net, frames, **_):
        if name == "track":
            assert out.shape == (len(frames), *frames.shape[2:])
            close(out, nd.track(net, frames, batch=len(frames)))  # slices do not change the answer
            return
        assert out.shape == (len(frames), 3, *frames.shape[2:])
        with torch.no_grad():
            close(out, net(frames, torch.arange(len(frames))))  # frame k uses embedding k
    # a float64 video meets the float32 net frame by frame
    call(getattr(nd, name), args, expect, aliases={"frames": ["frame"]})


@fuzz("physdl.neuradiff.accuracy_per_frame", "physdl.neuradiff.iou_per_frame")
def _(draw):
    name, q = draw(st.sampled_from(["accuracy_per_frame", "iou_per_frame"])), draw(bad_rate())
    pred = eta_arg(draw, q)
    if pred.why == "outside [0, 1]":  # a score, not an order parameter: any real value is thresholded
        pred = good(pred.value)
    shape = pred.value.shape if isinstance(pred.value, torch.Tensor) and not pred.bad else (2, 4, 4)
    true = draw(tensor(tuple(shape), lo=0.0, hi=1.0, bad_chance=q))
    if not true.bad and draw(st.floats(0, 1)) < q:
        true = bad(true.value[..., :1], "another shape")
    args = {"eta_pred": pred, "eta_true": true}

    def expect(out, eta_pred, eta_true):
        p, t = eta_pred >= 0.5, eta_true >= 0.5
        if name == "accuracy_per_frame":
            reference = (p == t).flatten(1).double().mean(1)
        else:
            inter, union = (p & t).flatten(1).sum(1).double(), (p | t).flatten(1).sum(1).double()
            reference = torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter))
        assert out.shape == (len(eta_true),)
        close(out.double(), reference)
    call(getattr(nd, name), args, expect)


@fuzz("physdl.neuradiff.masked_mse")
def _(draw):
    q = draw(bad_rate())
    labels = labels_arg(draw, q)
    shape = labels.value.shape if isinstance(labels.value, torch.Tensor) and not labels.bad else (2, 4, 4)
    pred = draw(tensor(tuple(shape), lo=0.0, hi=1.0, bad_chance=q, corrupt=("int", "numpy", "scalar")))
    if not pred.bad and draw(st.floats(0, 1)) < q:
        pred = bad(pred.value[..., :1], "another shape")

    def expect(loss, pred, labels):
        mask = labels != nd.UNKNOWN
        reference = (pred[mask] - labels[mask].to(pred.dtype)).pow(2).mean() if mask.any() else torch.zeros(())
        assert loss.dim() == 0
        close(loss, reference)
    call(nd.masked_mse, {"pred": pred, "labels": labels}, expect, aliases={"pred": ["prediction"], "labels": ["annotations"]})


@fuzz("physdl.neuradiff.rollout")
def _(draw):
    q = draw(bad_rate())
    state0 = state_arg(draw, q)
    if not state0.bad and draw(st.floats(0, 1)) < q:
        state0 = bad(state0.value + 1.5, "outside [0, 1]")
    args = {"physics": draw(pick([PHYSICS], [(TRACKER, "not a phase-field net")], q)), "state0": state0,
            "frames": draw(integer(1, 4, bad_values=[0, 2.5], bad_chance=q)),
            "steps_per_frame": draw(integer(1, 3, bad_values=[0], bad_chance=q))}

    def expect(out, physics, state0, frames, steps_per_frame):
        assert out.shape == (int(frames), *state0.shape) and out.device.type == "cpu"
        close(out[0], state0)
        close(out, physics.rollout(state0[None].float(), int(frames), int(steps_per_frame))[0], rtol=1e-4, atol=1e-5)
    call(nd.rollout, args, expect)


@fuzz("physdl.neuradiff.rollout_from_first_frame")
def _(draw):
    q = draw(bad_rate())
    args = {"result": draw(pick([TINY_RESULT], [(TINY_RESULT.recognition, "a network, not a result")], q)),
            "video": draw(pick([TINY_VIDEO], [(TINY_VIDEO.frames, "a tensor, not a video")], q))}

    def expect(out, result, video):
        assert out.shape == (len(video), 3, N, N)
        close(out[0], nd.recognise(result.recognition, video.frames[:1])[0])  # it starts from what frame 0 shows
    call(nd.rollout_from_first_frame, args, expect)


@fuzz("physdl.neuradiff.parameter_landscape")
def _(draw):
    q = draw(bad_rate())
    k = draw(st.integers(2, 4))
    states, eta = TINY_VIDEO.states, TINY_VIDEO.eta
    args = {"state0": draw(pick([states[0], states[1].double()], [(states[:1], "a batch axis"), (states[0, :2], "two channels"),
                                                                (states[0] + 2, "outside [0, 1]")], q)),
            "eta_true": draw(pick([eta[:k]], [(eta[:1], "one frame"), (eta[:k, :4], "another grid"), (eta[0], "two axes"),
                                              (eta[:k].clone().fill_(math.nan), "nan")], q)),
            "base": draw(pick([TINY_SCENARIO.parameters], [(TINY_SCENARIO.parameters.as_dict(), "a dict")], q)),
            "names": draw(pick([("L", "D_v"), ["kT", "E_v"]], [(("L", "L"), "the same twice"), (("L",), "one name"),
                                                            (("L", "nope"), "unknown"), ("LD", "a string")], q)),
            "factors": draw(pick([torch.tensor([0.5, 1.0, 2.0]), torch.linspace(0.8, 1.2, 2, dtype=torch.float64)],
                                 [(torch.tensor([1.0, -1.0]), "negative"), ([0.5, 1.0], "a list"), (torch.zeros(0), "empty"),
                                  (torch.ones(2, 2), "a matrix"), (torch.tensor([math.nan]), "nan")], q)),
            "steps_per_frame": draw(integer(1, 3, bad_values=[0, 1.5], bad_chance=q)),
            "dt": draw(positive(1e-3, 0.02, bad_chance=q)), "dx": draw(positive(0.8, 1.5, bad_chance=q))}

    def expect(out, factors, **v):
        f = len(factors)
        assert out.shape == (f, f) and float(out.min()) >= 0
        first = nd.parameter_landscape(**v, factors=factors[:1])  # each point is simulated on its own
        close(out[:1, :1], first, rtol=1e-4, atol=1e-7)
    # a factor that makes dt unstable for the scaled parameters
    call(nd.parameter_landscape, args, expect, may_reject=["dt"])


# =========================================================================== training


def cfg_arg(draw, q: float, why_bad: tuple = ()):
    cfg = dataclasses.replace(TINY_CFG, pretrain_steps=draw(st.integers(0, 2)), steps=draw(st.integers(0, 2)),
                              baseline_steps=draw(st.integers(0, 2)), batch_size=draw(st.integers(1, 2)),
                              gap=draw(st.integers(1, T - 1)), seed=draw(st.integers(0, 3)))
    return draw(pick([cfg], [({"steps": 2}, "a dict, not a config"), *why_bad], q))


@fuzz("physdl.neuradiff.triage_loss")
def _(draw):
    q = draw(bad_rate())
    gap = draw(integer(1, T - 1, bad_values=[0, T, 1.5], bad_chance=q))
    g = int(gap.value) if not gap.bad else 1
    t = torch.randint(0, T - g, (draw(st.integers(1, 3)),), generator=torch.Generator().manual_seed(draw(st.integers(0, 9))))
    args = {"net": draw(pick([RECOGNITION], [(TRACKER, "another network")], q)),
            "physics": draw(pick([PHYSICS], [(RECOGNITION, "not a phase-field net")], q)),
            "frames": draw(pick([TINY_VIDEO.frames], [(TINY_VIDEO.frames[:, 0], "no channel axis"),
                                                      (TINY_VIDEO.frames.double(), "float64 for float32 weights")], q)),
            "labels": draw(pick([TINY_LABELS], [(TINY_LABELS.float(), "floating labels"), (TINY_LABELS[:2], "fewer frames")], q)),
            "t": draw(pick([t], [(t.float(), "a float tensor"), (t + T, "past the video"), (t[:0], "no pairs"), (t[None], "a matrix")], q)),
            "gap": gap, "steps_per_frame": draw(integer(1, 3, bad_values=[0], bad_chance=q)), "cfg": cfg_arg(draw, q)}

    def expect(terms, cfg, **_):
        assert set(terms) == {"total", "sim", "rec", "sim_rec"} and all(float(v) >= 0 for v in terms.values())
        close(terms["total"], terms["sim"] + cfg.lambda_rec * terms["rec"] + cfg.lambda_sim_rec * terms["sim_rec"])
    call(nd.triage_loss, args, expect, aliases={"frames": ["frame"]})


@fuzz("physdl.neuradiff.pretrain", "physdl.neuradiff.train", "physdl.neuradiff.train_tracking_unet",
      "physdl.neuradiff.train_next_frame", slow=True)
def _(draw):
    name, q = draw(st.sampled_from(["pretrain", "train", "train_tracking_unet", "train_next_frame"])), draw(bad_rate(clean=0.5))
    unlabelled = torch.full_like(TINY_LABELS, nd.UNKNOWN)
    labels = draw(pick([TINY_LABELS, TINY_LABELS.long()], [(unlabelled, "no annotated pixel"), (TINY_LABELS[:2], "fewer frames"),
                                                          (TINY_LABELS.float(), "floating labels")], q))
    frames = draw(pick([TINY_VIDEO.frames], [(TINY_VIDEO.frames[:, 0], "no channel axis"), (TINY_VIDEO.frames[:1], "one frame"),
                                             (TINY_VIDEO.frames.clone().fill_(math.inf), "inf")], q))
    too_wide = dataclasses.replace(TINY_CFG, gap=T)
    cfg = cfg_arg(draw, q, ((too_wide, "a gap that leaves no pair"),) if name == "train" else ())
    common = {"cfg": cfg, "progress": draw(pick([False, None], [("quiet", "a string")], q))}
    device = draw(pick([None, "cpu"], [("tpu", "not a device")], q))
    if name == "pretrain":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = nd.RecognitionNet(T, 2, 4, 2)
        args = {"net": draw(pick([net], [(nd.TrackingUNet(4, 2), "another network")], q)), "frames": frames, "labels": labels, **common}
    elif name == "train":
        video = draw(pick([TINY_VIDEO], [(TINY_VIDEO.frames, "a tensor, not a video")], q))
        args = {"video": video, "labels": labels, **common, "device": device}
    elif name == "train_tracking_unet":
        args = {"frames": frames, "labels": labels, **common, "device": device}
    else:
        if frames.why == "one frame":
            frames = bad(frames.value, "one frame: no pair")
        args = {"frames": frames, **common, "device": device}

    def expect(out, cfg, **_):
        if name == "pretrain":
            assert len(out.loss) == cfg.pretrain_steps
        elif name == "train":
            assert len(out.history.loss) == cfg.steps and len(out.parameter_history) >= 1
            assert all(v > 0 and math.isfinite(v) for v in out.parameter_history[-1].values())
        else:
            assert isinstance(out, nd.TrackingUNet if name == "train_tracking_unet" else nd.NextFrameUNet)
    call(getattr(nd, name), args, expect, aliases={"labels": ["annotations"]})
