"""Settings of SAFE-PIT-CM: the operator, the networks and the two-phase training."""

from __future__ import annotations

from dataclasses import dataclass

from physdl import deprecation
from physdl.ops.checks import check_choice, check_int, check_real
from physdl.safe.model import DIRECTIONS, UNSTABLE


@dataclass(frozen=True)
class SafeConfig:
    """Method settings (defaults: the paper's section 3.1).

    Attributes:
        substeps: SAFE sub-steps per frame interval (``N_sub``).
        unstable: ``"raise"`` for a diffusion ``alpha`` beyond the operator's von Neumann limit,
            or ``"allow"`` to run the unstable operator on purpose (:class:`SafeOperator`).
        channels, d_model, heads, pool: network sizes.
        w_phys, w_recon, w_identity, w_bounds: loss weights (the paper gives no value for the
            identity weight; physdl uses 1).
        alpha_min, alpha_max: soft bounds on ``|alpha|``.
        lr_estimator, lr_autoencoder: Adam learning rates.
        zero_shot_steps: optimisation steps of zero-shot inference.
        fine_tune_steps: test-time steps of the trained model.
        phase1_steps, phase2_steps: training steps of the two phases.
        batch_size: simulations per phase-1 step (phase 2 uses one).
        direction: ``"stable"`` (physdl) or ``"forward"`` (the paper's equations).
        seed: weight initialisation and batch order.

    Used in :ref:`05-safe-ablations`.
    """

    substeps: int = 50
    unstable: str = "raise"
    channels: int = 16
    d_model: int = 32
    heads: int = 4
    pool: int = 4
    w_phys: float = 100.0
    w_recon: float = 1.0
    w_identity: float = 1.0
    w_bounds: float = 10.0
    alpha_min: float = 0.05
    alpha_max: float = 0.9
    lr_estimator: float = 5e-3
    lr_autoencoder: float = 1e-3
    zero_shot_steps: int = 200
    fine_tune_steps: int = 50
    phase1_steps: int = 300
    phase2_steps: int = 10
    batch_size: int = 4
    direction: str = "stable"
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field and store plain ``int`` / ``float`` values."""
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name, least in (("substeps", 1), ("channels", 1), ("d_model", 2), ("heads", 1), ("pool", 1),
                            ("zero_shot_steps", 0), ("fine_tune_steps", 0), ("phase1_steps", 0), ("phase2_steps", 0),
                            ("batch_size", 1), ("seed", 0)):
            put(name, check_int(getattr(self, name), name, least))
        for name in ("w_phys", "w_recon", "w_identity", "w_bounds"):
            put(name, check_real(getattr(self, name), name, 0))
        for name in ("alpha_min", "alpha_max", "lr_estimator", "lr_autoencoder"):
            put(name, check_real(getattr(self, name), name, 0, lo_open=True))
        check_choice(self.direction, "direction", DIRECTIONS)
        check_choice(self.unstable, "unstable", UNSTABLE)
        if not 0 < self.alpha_min < self.alpha_max:
            raise ValueError(f"need 0 < alpha_min < alpha_max, got {self.alpha_min}, {self.alpha_max}")
        if self.d_model % self.heads or self.d_model % 2:
            raise ValueError(f"d_model ({self.d_model}) must be even and divisible by heads ({self.heads})")


def check_config(cfg: object) -> SafeConfig:
    """``cfg`` if it is a :class:`SafeConfig`; ``TypeError`` otherwise."""
    if not isinstance(cfg, SafeConfig):
        raise TypeError(f"cfg must be a SafeConfig, got {type(cfg).__name__}")
    return cfg


def chapter_config(profile: str | None = None) -> object:
    """Deprecated (goes in 0.3.0): ``physdl.sizes.chapter("safe")``."""
    return deprecation.chapter_sizes("safe", profile)


__getattr__ = deprecation.moved_attributes(__name__, {"ChapterConfig": ("physdl.sizes", "SafeChapter")})
