"""The two networks of NeuraDiff: the recognition net and the neural phase-field net.

- :class:`RecognitionNet` maps a video frame and its time index to the three fields
  ``(c_v, c_i, eta)``: a U-Net whose bottleneck receives a learned per-frame embedding
  ``l_t`` (the paper's "location embedding"), which lets the net carry the unobserved
  concentrations that a single frame does not show.
- :class:`NeuralPhaseField` is the differential-equation net: the explicit step of
  :mod:`physdl.pde.voids` with fixed stencil kernels and the nine model parameters ``P`` as
  its only weights, kept positive by storing their logarithms.
"""

from __future__ import annotations

import torch
from torch import nn

from physdl.nn.inference import check_input
from physdl.nn.positive import PositiveParameters
from physdl.nn.unet import UNet
from physdl.ops.checks import check_bool, check_instance, check_int, check_integer_tensor
from physdl.ops.grid import Grid, positive_float
from physdl.pde import voids
from physdl.pde.stepper import Stepper, rollout

#: The five-point laplacian as the fixed convolution kernel ``K`` of the paper (times 1/dx^2).
LAPLACE_KERNEL = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


class LearnableParameters(PositiveParameters):
    """The parameter set ``P`` as trainable logarithms; calling it returns :class:`VoidParameters`.

    Args:
        initial: starting values (defaults: the model's ground-truth values).
        learn: names to train; the others stay fixed at ``initial``.
    """

    def __init__(self, initial: voids.VoidParameters | None = None, learn: tuple[str, ...] | None = None) -> None:
        if initial is not None:
            voids.check_parameters(initial, name="initial")
        if isinstance(learn, str):
            raise TypeError(f"learn must be a collection of names, not the string {learn!r} (write ({learn!r},))")
        initial = initial or voids.VoidParameters()
        names = voids.VoidParameters.names()
        unknown = set(learn or ()) - set(names)
        if unknown:
            raise ValueError(f"learn names unknown parameters {sorted(map(repr, unknown))}; choose from {names}")
        super().__init__({name: getattr(initial, name) for name in names}, learn)

    def forward(self) -> voids.VoidParameters:
        return voids.VoidParameters(**super().forward())

    def as_dict(self) -> dict[str, float]:
        """Current values as floats."""
        with torch.no_grad():
            return self().as_dict()


class NeuralPhaseField(nn.Module, Stepper):
    """``steps`` explicit phase-field steps with learnable ``P`` (deterministic, clipped to [0, 1]).

    A :class:`~physdl.pde.stepper.Stepper` on states ``(batch, 3, nx, ny)`` of any size: one
    :meth:`step` is one step of :class:`physdl.pde.voids.VoidStepper` with the current
    parameters. Its coefficients are trained, so every rollout checks ``dt`` again against
    the stability limit of the current parameters and the initial state. The carry of a
    rollout is the parameter set, evaluated once per rollout.

    Every laplacian in the step is a convolution of a field with :data:`LAPLACE_KERNEL` and
    circular padding; physdl evaluates it with shifted copies (:func:`physdl.ops.laplacian`),
    which is the same operation and faster on a CPU.

    Args:
        dt, dx: time step and grid spacing of the simulation.
        initial: starting parameter values.
        learn: which parameters are trained (default: all nine).
        irradiation: recombination rates (the stochastic sources are not simulated here).
        conservative: ``div(M grad mu)`` (paper) or ``M lap(mu)`` (authors' code).

    Explained in :ref:`06-neuradiff-training`.
    """

    def __init__(self, dt: float, dx: float = 1.0, initial: voids.VoidParameters | None = None,
                 learn: tuple[str, ...] | None = None, irradiation: voids.Irradiation | None = None,
                 conservative: bool = True) -> None:
        super().__init__()
        self.dt, self.dx = positive_float(dt, "dt"), positive_float(dx, "dx")
        self.conservative = check_bool(conservative, "conservative")
        self.irradiation = check_instance(irradiation, voids.Irradiation, "irradiation", optional=True) \
            or voids.Irradiation()
        self.parameters_p = LearnableParameters(initial, learn)

    channels = 3
    recheck_time_step = True

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        voids.check_state(state, name, bounded=False)

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        return voids.stability_limit(self.parameters_p(), self.dx, state)

    def limit_description(self) -> str:
        return "the void model's explicit limit at the current learned parameters"

    def _solver(self, p: voids.VoidParameters, state: torch.Tensor) -> voids.VoidStepper:
        return voids.VoidStepper(Grid(tuple(state.shape[-2:]), self.dx), self.dt, p, self.irradiation,
                                 conservative=self.conservative, check=False)

    def init_carry(self, state: torch.Tensor) -> voids.VoidStepper:
        return self._solver(self.parameters_p(), state)

    def advance(self, state: torch.Tensor, carry: voids.VoidStepper) -> tuple[torch.Tensor, voids.VoidStepper]:
        return carry.step(state), carry

    def step(self, state: torch.Tensor) -> torch.Tensor:
        return self.init_carry(state).step(state)

    def forward(self, state: torch.Tensor, steps: int) -> torch.Tensor:
        """Advance ``state`` ``(batch, 3, nx, ny)`` by ``steps`` steps (a rollout keeping the last state).

        Raises ``ValueError`` when the current parameters make ``dt`` unstable for ``state``.
        """
        return rollout(self, state, steps, save_every=max(steps, 1), include_initial=steps == 0,
                       check_finite=False)[:, -1]

    def rollout(self, state: torch.Tensor, frames: int, steps_per_frame: int) -> torch.Tensor:
        """``frames`` frames ``steps_per_frame`` steps apart, from ``state``: ``(batch, frames, 3, nx, ny)``.

        Raises ``ValueError`` when the current parameters make ``dt`` unstable.
        """
        frames, steps_per_frame = check_int(frames, "frames", 1), check_int(steps_per_frame, "steps_per_frame", 1)
        return rollout(self, state, (frames - 1) * steps_per_frame, steps_per_frame, check_finite=False)


class RecognitionNet(nn.Module):
    """U-Net from a frame ``(batch, 1, nx, ny)`` and frame index ``(batch,)`` to ``(batch, 3, nx, ny)``.

    The outputs pass a sigmoid, so ``c_v``, ``c_i`` and ``eta`` lie in (0, 1). Frame indices
    beyond the embedding table (a longer or another video) use the nearest entry.

    Args:
        frames: number of frame embeddings (the length of the training video).
        embedding: length of each embedding vector ``l_t``.
        base, levels: width and depth of the U-Net.
    """

    def __init__(self, frames: int, embedding: int = 8, base: int = 16, levels: int = 4) -> None:
        super().__init__()
        frames, embedding = check_int(frames, "frames", 1), check_int(embedding, "embedding", 1)
        self.embedding = nn.Embedding(frames, embedding)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.unet = UNet(1, 3, base=base, levels=levels, norm="group", condition_channels=embedding)

    def forward(self, frame: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        _check_frame(self, self.unet, frame)
        _check_index(index, frame.shape[0])
        index = index.clamp(0, self.embedding.num_embeddings - 1)
        return torch.sigmoid(self.unet(frame, self.embedding(index)))


def _check_frame(net: nn.Module, unet: UNet, frame: object, name: str = "frame") -> None:
    """``frame`` must be ``(batch, 1, nx, ny)`` in ``net``'s dtype and device, of a size ``unet``
    takes (:meth:`physdl.nn.unet.UNet.size_problem`)."""
    check_input(net, frame, name)
    if frame.dim() != 4 or frame.shape[1] != 1:
        raise ValueError(f"{name} must be (batch, 1, nx, ny), got {tuple(frame.shape)}")
    problem = unet.size_problem(tuple(frame.shape[2:]))
    if problem:
        raise ValueError(f"{name}: {problem} (load_video(..., multiple_of={2 ** (unet.levels - 1)}) crops a video)")


def _check_index(index: object, batch: int) -> None:
    """``index`` must be an integer tensor ``(batch,)``: one frame index per frame."""
    check_integer_tensor(index, "index", "of frame indices")
    if tuple(index.shape) != (batch,):
        raise ValueError(f"index must hold one frame index per frame, shape ({batch},), got {tuple(index.shape)}")


class TrackingUNet(nn.Module):
    """The supervised baseline: a U-Net from a frame to ``eta`` (sigmoid), no embedding."""

    def __init__(self, base: int = 16, levels: int = 4) -> None:
        super().__init__()
        self.unet = UNet(1, 1, base=base, levels=levels, norm="group")

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        _check_frame(self, self.unet, frame)
        return torch.sigmoid(self.unet(frame))


class NextFrameUNet(nn.Module, Stepper):
    """The paper's dynamics baseline: a U-Net that predicts frame ``t + 1`` from frame ``t``.

    It predicts the change of grey level (a residual), and :meth:`rollout` feeds its own
    predictions back to synthesise a whole video. As a :class:`~physdl.pde.stepper.Stepper`,
    ``dt`` is one frame interval (1, in frames).
    """

    channels = 1
    dt = 1.0

    def __init__(self, base: int = 16, levels: int = 4) -> None:
        super().__init__()
        self.unet = UNet(1, 1, base=base, levels=levels, norm="group")

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        _check_frame(self, self.unet, frame)
        return (frame + self.unet(frame)).clamp(0, 1)

    def step(self, state: torch.Tensor) -> torch.Tensor:
        return self(state)

    @torch.no_grad()
    def rollout(self, frame: torch.Tensor, frames: int) -> torch.Tensor:
        """``(batch, frames, 1, nx, ny)`` from a first frame ``(batch, 1, nx, ny)``."""
        _check_frame(self, self.unet, frame)
        return rollout(self, frame, check_int(frames, "frames", 1) - 1)


def _phase_field_instance(n: int | None = None, dt: float | None = None,
                          dtype: torch.dtype = torch.float64) -> NeuralPhaseField:
    """The neural phase-field net at its default parameters, without sinks, on an ``n x n`` grid."""
    net = NeuralPhaseField(0.01 if dt is None else dt, 1.0,
                           irradiation=voids.Irradiation(r_bulk=0.0, r_surf=0.0)).to(dtype)
    net.grid = Grid((n or 16,) * 2, 1.0)
    return net


def _next_frame_instance(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> NextFrameUNet:
    """A small untrained next-frame U-Net on an ``n x n`` grid (zero padding: not periodic)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = NextFrameUNet(base=4, levels=2).to(dtype)
    net.grid = Grid((n or 8,) * 2, 1.0)
    return net


def _frame_state(net: NextFrameUNet, batch: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    from physdl.pde.registry import smooth_field

    return 0.5 + 0.2 * smooth_field(net.grid, batch, generator, dtype)


def _register() -> None:
    from physdl.pde.registry import _void_initial, register

    register("neural-phase-field", _phase_field_instance, _void_initial,
             "NeuraDiff's neural phase-field net (default parameters, no sinks)")
    register("next-frame-unet", _next_frame_instance, _frame_state, "NeuraDiff's next-frame U-Net baseline")


_register()
