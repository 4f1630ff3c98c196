"""Settings of the Burgers PINNs and the problem's space-time domain."""

from __future__ import annotations

from dataclasses import dataclass

from physdl import deprecation
from physdl import pinn as P
from physdl.ops.checks import check_int, check_real

DOMAIN = P.Domain(x=(-1.0, 1.0), t=(0.0, 1.0))


@dataclass(frozen=True)
class BurgersPINNConfig:
    """Sizes of chapter 2 for one profile.

    Attributes:
        seed: seed of weights, collocation points and noise.
        lecture_hidden, lecture_steps, lecture_lr, lecture_collocation: the lecture's network,
            iterations of plain gradient descent, its step size and the number of fixed
            collocation points.
        hidden: hidden widths of the forward and inverse PINNs.
        initial_points, boundary_points: data points on ``t = 0`` and on each wall.
        collocation: collocation points drawn at every Adam step.
        lbfgs_collocation: the fixed collocation points of the L-BFGS stage.
        adam_steps, lbfgs_steps, lr: the forward PINN's schedule (each L-BFGS step runs up to
            20 inner iterations).
        inverse_samples: scattered samples of the solution in the inverse problem.
        inverse_adam_steps, inverse_lbfgs_steps: its schedule.
        nu_start: the inverse problem's initial guess of ``nu``.
        noise: relative noise level of the noisy inverse problem (std of the noise divided by
            the std of the data).
        precise_collocation: collocation points of the high-precision PINN (per draw).
        precise_adam_steps: its Adam warm-up (on the first, uniform draw).
        precise_steps: its quasi-Newton steps (20 iterations each).
        precise_every: quasi-Newton steps between two residual-adaptive redraws.
        race_steps: quasi-Newton steps of each optimiser in the chapter's comparison (Adam
            takes 20 iterations per step).
        precise_inverse_adam_steps, precise_inverse_steps: Adam steps and quasi-Newton steps
            of the float64 inverse problem on clean data.

    Used in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """

    seed: int = 0
    lecture_hidden: tuple[int, ...] = (20,) * 8
    lecture_steps: int = 10_000
    lecture_lr: float = 0.02
    lecture_collocation: int = 1000
    hidden: tuple[int, ...] = (20,) * 8
    initial_points: int = 256
    boundary_points: int = 100
    collocation: int = 2000
    adam_steps: int = 5000
    lbfgs_steps: int = 300
    lbfgs_collocation: int = 8000
    lr: float = 1e-3
    inverse_samples: int = 2000
    inverse_adam_steps: int = 3000
    inverse_lbfgs_steps: int = 200
    nu_start: float = 0.05
    noise: float = 0.01
    precise_collocation: int = 4000
    precise_adam_steps: int = 1000
    precise_steps: int = 300
    precise_every: int = 5
    race_steps: int = 15
    precise_inverse_adam_steps: int = 0
    precise_inverse_steps: int = 80

    def __post_init__(self) -> None:
        """Check every field and store plain ``int`` / ``float`` / tuples."""
        for name in ("lecture_steps", "adam_steps", "lbfgs_steps", "inverse_adam_steps", "inverse_lbfgs_steps", "seed",
                     "precise_adam_steps", "precise_steps", "race_steps", "precise_inverse_adam_steps",
                     "precise_inverse_steps"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, 0))
        for name, least in (("lecture_collocation", 1), ("initial_points", 2), ("boundary_points", 2),
                            ("collocation", 1), ("lbfgs_collocation", 1), ("inverse_samples", 1),
                            ("precise_collocation", 1), ("precise_every", 1)):
            object.__setattr__(self, name, check_int(getattr(self, name), name, least))
        for name in ("lecture_lr", "lr", "nu_start"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, 0, lo_open=True))
        object.__setattr__(self, "noise", check_real(self.noise, "noise", 0))
        for name in ("lecture_hidden", "hidden"):
            widths = getattr(self, name)
            if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or not len(widths):
                raise ValueError(f"{name} must be a non-empty tuple of layer widths, got {widths!r}")
            object.__setattr__(self, name, tuple(check_int(w, name, 1) for w in widths))


def check_config(cfg: object) -> BurgersPINNConfig:
    """``cfg`` if it is a :class:`BurgersPINNConfig`; ``TypeError`` otherwise."""
    if not isinstance(cfg, BurgersPINNConfig):
        raise TypeError(f"cfg must be a BurgersPINNConfig, got {type(cfg).__name__}")
    return cfg


def chapter_config(profile: str | None = None) -> BurgersPINNConfig:
    """Deprecated (goes in 0.3.0): ``physdl.sizes.chapter("burgers_pinn").method``."""
    return deprecation.chapter_sizes("burgers_pinn", profile, "method")
