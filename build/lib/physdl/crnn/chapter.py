"""Deprecated (goes in 0.3.0): chapter 7's sizes are ``physdl.sizes.chapter("crnn")``."""

from __future__ import annotations

import warnings

from physdl import sizes

__deprecated__ = "physdl.sizes"
ChapterConfig = sizes.CRNNChapter
warnings.warn('physdl.crnn.chapter is deprecated; use physdl.sizes.chapter("crnn")', DeprecationWarning, stacklevel=2)


def chapter_config(profile: str | None = None) -> sizes.CRNNChapter:
    """Deprecated: ``physdl.sizes.chapter("crnn", profile)``."""
    return sizes.chapter("crnn", profile)
