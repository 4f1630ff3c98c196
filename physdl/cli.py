"""Argument checks shared by physdl's command lines.

Every argument is validated while parsing, before any data is generated or any model
trained, and no command overwrites an existing output without ``--force``. The ``type=``
functions raise :class:`argparse.ArgumentTypeError`, so argparse reports the offending
option and exits with status 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a non-negative finite number, got {text}")
    return value


def existing_file(text: str) -> Path:
    """A path to a file that exists."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not an existing file")
    return path


def check_outputs(parser: argparse.ArgumentParser, paths: list[Path], force: bool) -> None:
    """Stop (``parser.error``) unless every output can be written: not a folder, in a folder
    that exists, and not already there unless ``force``."""
    for path in paths:
        if path.is_dir():
            parser.error(f"output {path} is a folder; give a file name")
        if not path.parent.is_dir():
            parser.error(f"the folder of output {path} does not exist")
        if path.exists() and not force:
            parser.error(f"output {path} exists; pass --force to overwrite it")
