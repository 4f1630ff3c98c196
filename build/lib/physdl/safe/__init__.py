"""SAFE-PIT-CM (Hovad): recover a transport coefficient from videos through a frozen,
sub-stepped heat operator inside an autoencoder.

- :mod:`physdl.safe.config`: the method's settings;
- :mod:`physdl.safe.data`: the heat-equation data set (diffusion runs and their reversals);
- :mod:`physdl.safe.model`: the SAFE operator (sub-stepped stencil or exact spectral form),
  the SAFE loss, the encoder/decoder and the attention-based estimator;
- :mod:`physdl.safe.training`: losses, two-phase training, fine-tuning, zero-shot inference;
- :mod:`physdl.safe.evaluation`: predictions, recovery metrics, landscapes and field reports.
"""

from physdl import deprecation
from physdl.safe.config import SafeConfig, chapter_config
from physdl.safe.data import HeatVideoConfig, Videos, heat_videos, simulation
from physdl.safe.evaluation import (
    FieldReport,
    alpha_landscape,
    field_report,
    least_squares_alpha,
    predict,
    recovery_metrics,
)
from physdl.safe.model import (
    AlphaEstimator,
    ResidualField,
    SafeAutoencoder,
    SafeOperator,
    SafeOutput,
    SpectralPairs,
    frame_pairs,
    safe_loss,
    safe_residual,
)
from physdl.safe.training import (
    Estimate,
    bounds_loss,
    build_model,
    estimate_all,
    fine_tune,
    fine_tune_all,
    fit_estimator,
    losses,
    train,
    zero_shot,
    zero_shot_all,
)

__all__ = [
    "AlphaEstimator", "ResidualField", "SafeAutoencoder", "SafeOutput",
    "SafeOperator", "SpectralPairs", "frame_pairs", "safe_loss", "safe_residual",
    "chapter_config", "Estimate", "FieldReport", "SafeConfig", "field_report", "alpha_landscape", "bounds_loss", "build_model", "estimate_all",
    "fine_tune", "fit_estimator", "least_squares_alpha", "losses", "predict", "recovery_metrics",
    "train", "zero_shot", "zero_shot_all", "fine_tune_all",
    "HeatVideoConfig", "Videos", "heat_videos", "simulation",
]


__getattr__ = deprecation.moved_attributes(__name__, {"ChapterConfig": ("physdl.sizes", "SafeChapter")})
