"""Deprecated: moved to :mod:`physdl.neuradiff.data` in 0.2.0; this alias goes in 0.3.0."""

import warnings

from physdl.neuradiff.data import *  # noqa: F403

__deprecated__ = "physdl.neuradiff.data"
warnings.warn("physdl.neuradiff.loader moved to physdl.neuradiff.data; import from there (or from the package)",
              DeprecationWarning, stacklevel=2)
