"""Surrogate models of a PDE solution operator (chapter 1).

The task follows the lecture's example: from a body force and an obstacle mask,
``x = [f_x, f_y, mask]``, predict the steady flow ``y = [p, u_x, u_y]``. The data come from
:func:`physdl.pde.flow.solve_stokes`; networks come from :mod:`physdl.nn`; training runs
through :func:`physdl.train.fit`.

Modules: :mod:`~physdl.surrogate.config` (settings), :mod:`~physdl.surrogate.data` (the flow
data set and its symmetries), :mod:`~physdl.surrogate.model` (output scaling around a
network), :mod:`~physdl.surrogate.training` and :mod:`~physdl.surrogate.evaluation`.
"""

from __future__ import annotations

from physdl.surrogate.config import DATA_VERSION, SurrogateConfig, chapter_config
from physdl.surrogate.data import (
    INPUT_ROLES,
    INPUTS,
    OUTPUT_ROLES,
    OUTPUTS,
    flow_dataset,
    force_magnitude,
    generate_flows,
    split,
    symmetry,
)
from physdl.surrogate.evaluation import channel_errors, predict, time_call
from physdl.surrogate.model import Scaled, output_scale
from physdl.surrogate.training import overfit_one_sample, train_surrogate

__all__ = ['INPUTS', 'OUTPUTS', 'DATA_VERSION', 'INPUT_ROLES', 'OUTPUT_ROLES', 'generate_flows', 'flow_dataset', 'split', 'symmetry', 'force_magnitude', 'SurrogateConfig', 'chapter_config', 'Scaled', 'output_scale', 'channel_errors', 'predict', 'time_call', 'train_surrogate', 'overfit_one_sample']
