"""NeuraDiff (neural differential equation embedding): track voids in TEM videos while learning
the phase-field model that drives them.

Modules: :mod:`~physdl.neuradiff.config` (settings), :mod:`~physdl.neuradiff.data` (camera
model, annotations, synthetic experiments, a user's own video), :mod:`~physdl.neuradiff.model`
(recognition net, neural phase-field net, baselines), :mod:`~physdl.neuradiff.training`
(triage training) and :mod:`~physdl.neuradiff.evaluation` (tracking, accuracy, rollouts).
"""

from physdl import deprecation
from physdl.neuradiff.config import NeuraDiffConfig, chapter_config
from physdl.neuradiff.data import (
                                    UNKNOWN,
                                    IntensityModel,
                                    VoidScenario,
                                    VoidVideo,
                                    annotate,
                                    annotated_frames,
                                    known,
                                    load_video,
                                    save_video,
                                    synthesise,
                                    tem_video,
)
from physdl.neuradiff.evaluation import (
                                    accuracy_per_frame,
                                    held_out,
                                    iou_per_frame,
                                    parameter_landscape,
                                    recognise,
                                    rollout,
                                    rollout_from_first_frame,
                                    track,
)
from physdl.neuradiff.model import (
                                    LAPLACE_KERNEL,
                                    LearnableParameters,
                                    NeuralPhaseField,
                                    NextFrameUNet,
                                    RecognitionNet,
                                    TrackingUNet,
)
from physdl.neuradiff.training import (
                                    NeuraDiffResult,
                                    masked_mse,
                                    pretrain,
                                    train,
                                    train_next_frame,
                                    train_tracking_unet,
                                    triage_loss,
)

__all__ = [
    "LAPLACE_KERNEL", "UNKNOWN", "chapter_config", "parameter_landscape", "IntensityModel", "LearnableParameters", "NeuraDiffConfig", "NeuraDiffResult",
    "NeuralPhaseField", "NextFrameUNet", "RecognitionNet", "TrackingUNet", "VoidScenario", "VoidVideo",
    "accuracy_per_frame", "annotate", "annotated_frames", "held_out", "iou_per_frame", "known", "load_video",
    "masked_mse", "pretrain", "recognise", "rollout", "rollout_from_first_frame", "save_video", "synthesise",
    "tem_video", "track", "train", "train_next_frame", "train_tracking_unet", "triage_loss",
]


__getattr__ = deprecation.moved_attributes(__name__, {"ChapterConfig": ("physdl.sizes", "NeuraDiffChapter")})
