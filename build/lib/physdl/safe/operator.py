"""Deprecated: moved to :mod:`physdl.safe.model` in 0.2.0; this alias goes in 0.3.0."""

import warnings

from physdl.safe.model import *  # noqa: F403

__deprecated__ = "physdl.safe.model"
warnings.warn("physdl.safe.operator moved to physdl.safe.model; import from there (or from the package)",
              DeprecationWarning, stacklevel=2)
