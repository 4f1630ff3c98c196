"""Settings of the surrogate method: data, network and training sizes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from physdl import deprecation
from physdl.ops import checks

DATA_VERSION = "stokes-mac-fluid-force-2"


@dataclass(frozen=True)
class SurrogateConfig:
    """Sizes of the surrogate chapter for one profile.

    Attributes:
        n: grid points per side of the periodic unit square.
        samples: number of (input, output) pairs generated.
        test_fraction: share of the samples held out for testing.
        nu: kinematic viscosity of the flow solver.
        penalty: Brinkman penalty inside obstacles.
        edge: width (grid cells) of the anti-aliased rim of the obstacles; 0 for binary masks.
        seed: seed of the data and of the weight initialisation.
        unet_base, unet_levels: U-Net width and depth.
        mlp_hidden: hidden widths of the fully connected baseline.
        steps, batch_size, lr: training schedule (Adam, cosine decay to zero).
        augment: train on randomly rotated and reflected batches (:func:`symmetry`).
        mlp_lr: learning rate of the fully connected baseline.
        overfit_steps: steps of the 1-sample overfitting test.
    """

    n: int = 32
    samples: int = 2000
    test_fraction: float = 0.2
    nu: float = 1.0
    penalty: float = 1e6
    edge: float = 0.0
    seed: int = 0
    unet_base: int = 16
    unet_levels: int = 4
    mlp_hidden: tuple[int, ...] = (64, 64)
    steps: int = 8000
    augment: bool = True
    batch_size: int = 32
    lr: float = 1e-3
    mlp_lr: float = 1e-3
    overfit_steps: int = 500

    def __post_init__(self) -> None:
        for name, least in (("n", 4), ("samples", 2), ("seed", 0), ("unet_base", 1), ("unet_levels", 1),
                            ("steps", 0), ("batch_size", 1), ("overfit_steps", 0)):
            object.__setattr__(self, name, checks.check_int(getattr(self, name), name, least))
        object.__setattr__(self, "test_fraction", checks.check_real(self.test_fraction, "test_fraction", 0, 1,
                                                                    lo_open=True, hi_open=True))
        for name in ("nu", "penalty", "lr", "mlp_lr"):
            object.__setattr__(self, name, checks.check_real(getattr(self, name), name, 0, lo_open=True))
        object.__setattr__(self, "edge", checks.check_real(self.edge, "edge", 0))
        object.__setattr__(self, "augment", checks.check_bool(self.augment, "augment"))
        if isinstance(self.mlp_hidden, (str, bytes)) or not hasattr(self.mlp_hidden, "__len__"):
            raise TypeError(f"mlp_hidden must be a tuple of widths, got {self.mlp_hidden!r}")
        object.__setattr__(self, "mlp_hidden", tuple(checks.check_int(w, "mlp_hidden", 1) for w in self.mlp_hidden))

    def data_config(self) -> dict:
        """The part of the config that determines the data set (the cache key)."""
        keys = ("n", "samples", "nu", "penalty", "edge", "seed")
        return {"generator": DATA_VERSION, **{k: v for k, v in asdict(self).items() if k in keys}}


def chapter_config(profile: str | None = None) -> SurrogateConfig:
    """Deprecated (goes in 0.3.0): ``physdl.sizes.chapter("surrogates").method``."""
    return deprecation.chapter_sizes("surrogates", profile, "method")
