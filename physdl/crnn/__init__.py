"""The 3D convolutional recurrent network (CRNN) of Lanzoni et al. (2024) for Cahn-Hilliard
spinodal decomposition: data generation (:mod:`.data`), the conservative and
non-conservative networks (:mod:`.model`), the training recipe (:mod:`.training`) and
the evaluation measures (:mod:`.evaluation`)."""

from physdl.crnn.data import SequenceConfig, downsample, generate, sequences
from physdl.crnn.model import (
    ConservativeCRNN,
    CRNNArchitecture,
    NonConservativeCRNN,
    PotentialCRNN,
    build,
)

__all__ = [
    "CRNNArchitecture",
    "ConservativeCRNN",
    "NonConservativeCRNN",
    "PotentialCRNN",
    "SequenceConfig",
    "build",
    "downsample",
    "generate",
    "sequences",
]
