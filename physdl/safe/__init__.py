"""SAFE-PIT-CM (Hovad): recover a transport coefficient from videos through a frozen,
sub-stepped heat operator inside an autoencoder.

- :mod:`physdl.safe.videos`: the heat-equation data set (diffusion runs and their reversals);
- :mod:`physdl.safe.operator`: the SAFE operator (sub-stepped stencil or exact spectral form)
  and the SAFE loss;
- :mod:`physdl.safe.model`: encoder/decoder and the attention-based estimator;
- :mod:`physdl.safe.training`: losses, two-phase training, fine-tuning, zero-shot inference.
"""

from physdl.safe.model import AlphaEstimator, ResidualField, SafeAutoencoder, SafeOutput
from physdl.safe.operator import SafeOperator, SpectralPairs, frame_pairs, safe_loss, safe_residual
from physdl.safe.training import (
    ChapterConfig,
    Estimate,
    chapter_config,
    FieldReport,
    SafeConfig,
    alpha_landscape,
    bounds_loss,
    build_model,
    estimate_all,
    field_report,
    fine_tune,
    fine_tune_all,
    fit_estimator,
    least_squares_alpha,
    losses,
    predict,
    recovery_metrics,
    train,
    zero_shot,
    zero_shot_all,
)
from physdl.safe.videos import HeatVideoConfig, Videos, heat_videos, simulation

__all__ = [
    "AlphaEstimator", "ResidualField", "SafeAutoencoder", "SafeOutput",
    "SafeOperator", "SpectralPairs", "frame_pairs", "safe_loss", "safe_residual",
    "ChapterConfig", "chapter_config", "Estimate", "FieldReport", "SafeConfig", "field_report", "alpha_landscape", "bounds_loss", "build_model", "estimate_all",
    "fine_tune", "fit_estimator", "least_squares_alpha", "losses", "predict", "recovery_metrics",
    "train", "zero_shot", "zero_shot_all", "fine_tune_all",
    "HeatVideoConfig", "Videos", "heat_videos", "simulation",
]
