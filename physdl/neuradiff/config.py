"""Settings of NeuraDiff: the networks, the prior guess of the phase-field parameters and the
training schedule."""

from __future__ import annotations

from dataclasses import dataclass, field

from physdl import deprecation
from physdl.ops.checks import check_int, check_real
from physdl.pde import voids


def _default_guess() -> voids.VoidParameters:
    """A first guess of ``P`` away from the truth (each value off by a factor 1.5 to 2)."""
    return voids.VoidParameters(E_v=5.0, E_i=12.0, kT=3.0, kappa_v=2.0, kappa_i=0.5, kappa_eta=2.0,
                                D_v=0.5, D_i=2.0, L=0.5)


@dataclass(frozen=True)
class NeuraDiffConfig:
    """Method settings.

    Attributes:
        frame_fraction, pixel_fraction: annotated share of frames, and of pixels in them.
        embedding, base, levels: recognition net (embedding length, U-Net width and depth).
        pretrain_steps: steps of recognition-net pre-training on the annotations.
        steps: steps of joint (triage) training.
        batch_size: frame pairs per step.
        gap: largest number of frames between the two frames of a pair; each step draws one
            gap uniformly from ``1..gap`` (``gap * steps_per_frame`` simulation steps).
        lr_net, lr_physics: Adam learning rates of the recognition net and of ``log P``.
        lambda_rec, lambda_sim_rec: weights ``lambda_1`` and ``lambda_2``.
        c_v_prior, c_i_prior: solid-phase concentrations the pre-training starts from.
        initial: the first guess of ``P``.
        baseline_steps: steps of each baseline U-Net.
        seed: annotations, weights and batches.
    """

    frame_fraction: float = 0.2
    pixel_fraction: float = 0.5
    embedding: int = 8
    base: int = 16
    levels: int = 4
    pretrain_steps: int = 300
    steps: int = 300
    batch_size: int = 4
    gap: int = 4
    lr_net: float = 1e-3
    lr_physics: float = 0.1
    lambda_rec: float = 10.0
    lambda_sim_rec: float = 10.0
    c_v_prior: float = 0.3
    c_i_prior: float = 0.01
    initial: voids.VoidParameters = field(default_factory=_default_guess)
    baseline_steps: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field and store plain ``int`` / ``float`` values."""
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name, least in (("embedding", 1), ("base", 1), ("levels", 1), ("pretrain_steps", 0), ("steps", 0),
                            ("batch_size", 1), ("gap", 1), ("baseline_steps", 0), ("seed", 0)):
            put(name, check_int(getattr(self, name), name, least))
        for name in ("frame_fraction", "pixel_fraction"):
            put(name, check_real(getattr(self, name), name, 0, 1, lo_open=True))
        for name in ("lr_net", "lr_physics"):
            put(name, check_real(getattr(self, name), name, 0, lo_open=True))
        for name in ("lambda_rec", "lambda_sim_rec"):
            put(name, check_real(getattr(self, name), name, 0))
        for name in ("c_v_prior", "c_i_prior"):
            put(name, check_real(getattr(self, name), name, 0, 1))
        voids.check_parameters(self.initial, name="initial")


def check_config(cfg: object) -> NeuraDiffConfig:
    """``cfg`` if it is a :class:`NeuraDiffConfig`; ``TypeError`` otherwise."""
    if not isinstance(cfg, NeuraDiffConfig):
        raise TypeError(f"cfg must be a NeuraDiffConfig, got {type(cfg).__name__}")
    return cfg


def chapter_config(profile: str | None = None) -> object:
    """Deprecated (goes in 0.3.0): ``physdl.sizes.chapter("neuradiff")``."""
    return deprecation.chapter_sizes("neuradiff", profile)


__getattr__ = deprecation.moved_attributes(__name__, {"ChapterConfig": ("physdl.sizes", "NeuraDiffChapter")})
