"""Synthetic experiments for NeuraDiff: a phase-field run rendered as a TEM video.

A :class:`VoidScenario` fixes everything about one experiment (grid, voids, vacancy field,
model parameters, sources, frame rate, camera); :func:`synthesise` runs the stochastic
simulator of :mod:`physdl.pde.voids`, renders the frames with :func:`tem_video` and caches
the result under a key of the scenario.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from physdl import data as _data
from physdl.neuradiff.video import IntensityModel, tem_video
from physdl.ops.grid import Grid
from physdl.pde import voids
from physdl.pde.stepper import rollout

DATA_VERSION = "voids-1"


@dataclass(frozen=True)
class VoidScenario:
    """One synthetic experiment.

    Attributes:
        n: grid points per side (periodic square, spacing ``dx``).
        centers, radii: the voids at time 0 (grid units).
        c_v_mean, c_v_amplitude, direction: vacancy field of the solid,
            ``mean + amplitude cos(k . x)`` (see :func:`physdl.pde.voids.vacancy_gradient`).
        frames: frames in the video.
        steps_per_frame: simulation steps between frames (the ``T`` of the paper's frame pairs).
        dt, dx: time step and grid spacing.
        parameters, irradiation: the model that makes the data.
        intensity: the camera model.
        seed: seed of the cascades, the noise and the camera noise.
    """

    n: int = 64
    centers: tuple[tuple[float, float], ...] = ((20.0, 32.0),)
    radii: tuple[float, ...] = (8.0,)
    c_v_mean: float = 0.33
    c_v_amplitude: float = 0.09
    direction: float = 0.0
    frames: int = 80
    steps_per_frame: int = 30
    dt: float = 0.02
    dx: float = 1.0
    parameters: voids.VoidParameters = field(default_factory=voids.VoidParameters)
    irradiation: voids.Irradiation = field(default_factory=voids.Irradiation)
    intensity: IntensityModel = field(default_factory=IntensityModel)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.frames < 2 or self.steps_per_frame < 1:
            raise ValueError(f"need frames >= 2 and steps_per_frame >= 1, got {self.frames}, {self.steps_per_frame}")
        voids.check_stability(self.parameters, self.dt, self.dx)

    @property
    def dt_frame(self) -> float:
        """Simulated time between frames."""
        return self.steps_per_frame * self.dt

    def initial_state(self) -> torch.Tensor:
        """``(1, 3, n, n)`` state at time 0."""
        c_v = voids.vacancy_gradient(self.n, self.c_v_mean, self.c_v_amplitude, self.direction)
        return voids.voids_state(self.n, list(self.centers), list(self.radii), c_v_solid=c_v)


@dataclass(frozen=True)
class VoidVideo:
    """A synthetic experiment: the true fields and what the camera saw.

    Attributes:
        states: ``(frames, 3, n, n)`` true ``c_v, c_i, eta``.
        frames: ``(frames, 1, n, n)`` grey levels in [0, 1] (the 8-bit video / 255).
        scenario: the settings that made it.
    """

    states: torch.Tensor
    frames: torch.Tensor
    scenario: VoidScenario

    @property
    def eta(self) -> torch.Tensor:
        """``(frames, n, n)`` true order parameter."""
        return self.states[:, 2]

    def __len__(self) -> int:
        return self.states.shape[0]


def _generate(s: VoidScenario, progress: bool | None) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(s.seed)
    state0 = s.initial_state()
    voids.check_state(state0, "initial state")
    solver = voids.VoidStepper(Grid((s.n, s.n), s.dx), s.dt, s.parameters, s.irradiation, stochastic=True,
                               generator=generator)
    states = rollout(solver, state0, (s.frames - 1) * s.steps_per_frame, s.steps_per_frame,
                     progress=progress, description="phase field")[0]
    video_uint8, _ = tem_video(states[:, 2], s.intensity, generator)
    return {"states": states, "video": video_uint8}


def synthesise(scenario: VoidScenario = VoidScenario(), progress: bool | None = None,
               cache: bool = True) -> VoidVideo:
    """Simulate and film ``scenario`` (cached when ``cache``)."""
    key = {"version": DATA_VERSION, **asdict(scenario)}
    make = lambda: _generate(scenario, progress)  # noqa: E731
    tensors = _data.cached("void-video", key, make) if cache else make()
    return VoidVideo(tensors["states"].float(), (tensors["video"].float() / 255)[:, None], scenario)
