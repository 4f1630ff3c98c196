"""NeuraDiff (neural differential equation embedding): track voids in TEM videos while learning
the phase-field model that drives them.

Modules: :mod:`~physdl.neuradiff.video` (camera model, annotations), :mod:`~physdl.neuradiff.data`
(synthetic experiments), :mod:`~physdl.neuradiff.loader` (a user's own video),
:mod:`~physdl.neuradiff.model` (recognition net, neural phase-field net, baselines),
:mod:`~physdl.neuradiff.training` (triage training and evaluation).
"""

from physdl.neuradiff.data import VoidScenario, VoidVideo, synthesise
from physdl.neuradiff.loader import load_video, save_video
from physdl.neuradiff.model import (LAPLACE_KERNEL, LearnableParameters, NeuralPhaseField, NextFrameUNet,
                                    RecognitionNet, TrackingUNet)
from physdl.neuradiff.training import (ChapterConfig, NeuraDiffConfig, chapter_config, parameter_landscape, NeuraDiffResult, accuracy_per_frame, held_out,
                                       iou_per_frame, masked_mse, pretrain, recognise, rollout,
                                       rollout_from_first_frame, track, train, train_next_frame,
                                       train_tracking_unet, triage_loss)
from physdl.neuradiff.video import UNKNOWN, IntensityModel, annotate, annotated_frames, known, tem_video

__all__ = [
    "ChapterConfig", "LAPLACE_KERNEL", "UNKNOWN", "chapter_config", "parameter_landscape", "IntensityModel", "LearnableParameters", "NeuraDiffConfig", "NeuraDiffResult",
    "NeuralPhaseField", "NextFrameUNet", "RecognitionNet", "TrackingUNet", "VoidScenario", "VoidVideo",
    "accuracy_per_frame", "annotate", "annotated_frames", "held_out", "iou_per_frame", "known", "load_video",
    "masked_mse", "pretrain", "recognise", "rollout", "rollout_from_first_frame", "save_video", "synthesise",
    "tem_video", "track", "train", "train_next_frame", "train_tracking_unet", "triage_loss",
]
