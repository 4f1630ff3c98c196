"""Deprecated: moved to :mod:`physdl.safe.data` in 0.2.0; this alias goes in 0.3.0."""

import warnings

from physdl.safe.data import *  # noqa: F403

__deprecated__ = "physdl.safe.data"
warnings.warn("physdl.safe.videos moved to physdl.safe.data; import from there (or from the package)",
              DeprecationWarning, stacklevel=2)
