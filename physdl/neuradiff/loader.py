"""Read a user's own microscope video into the tensor NeuraDiff takes, and write one back.

A video is a folder of image files (PNG, TIFF, JPEG; read in natural name order) or one
multi-page TIFF. Frames become grey levels in [0, 1], shaped ``(frames, 1, height, width)``:
8- and 16-bit images are divided by their full range, float images are scaled by the video's
own minimum and maximum.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _grey(image) -> np.ndarray:
    """One PIL image as a 2D numpy array (colour images are averaged to grey)."""
    if image.mode in ("RGB", "RGBA", "P", "LA", "CMYK"):
        image = image.convert("L")
    return np.asarray(image)


def _frames_from_tiff(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        return [_grey(page.copy()) for page in ImageSequence.Iterator(image)]


def _to_unit(stack: np.ndarray) -> torch.Tensor:
    if np.issubdtype(stack.dtype, np.integer):
        return torch.from_numpy(stack.astype(np.float32) / np.iinfo(stack.dtype).max)
    stack = stack.astype(np.float32)
    lo, hi = float(stack.min()), float(stack.max())
    return torch.from_numpy((stack - lo) / max(hi - lo, 1e-12))


def load_video(path: str | os.PathLike, max_frames: int | None = None, multiple_of: int = 1) -> torch.Tensor:
    """Load a folder of frames or a multi-page TIFF.

    Args:
        path: a folder of images or a ``.tif``/``.tiff`` file.
        max_frames: keep only the first frames.
        multiple_of: crop height and width (centred) to a multiple of this number, as a U-Net
            with ``k`` levels needs ``2 ** (k - 1)``.

    Returns:
        ``(frames, 1, height, width)`` float32 tensor in [0, 1].
    """
    path = Path(path)
    if path.is_dir():
        files = sorted((f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not files:
            raise ValueError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
        from PIL import Image

        frames = []
        for f in files[:max_frames]:
            with Image.open(f) as image:
                frames.append(_grey(image))
    elif path.suffix.lower() in (".tif", ".tiff") and path.is_file():
        frames = _frames_from_tiff(path)[:max_frames]
    else:
        raise ValueError(f"{path} is neither a folder of images nor a multi-page TIFF file")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"all frames must have the same size, found {sorted(shapes)}")
    video = _to_unit(np.stack(frames))[:, None]
    if multiple_of > 1:
        h, w = video.shape[-2:]
        nh, nw = h - h % multiple_of, w - w % multiple_of
        if nh == 0 or nw == 0:
            raise ValueError(f"frames of {h}x{w} are smaller than multiple_of={multiple_of}")
        top, left = (h - nh) // 2, (w - nw) // 2
        video = video[..., top:top + nh, left:left + nw]
    return video.contiguous()


def save_video(frames: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write ``(frames, nx, ny)`` or ``(frames, 1, nx, ny)`` grey levels in [0, 1] (or uint8).

    A path ending in ``.tif``/``.tiff`` gives one multi-page TIFF; any other path is a folder
    of numbered PNG files. Returns the path written.
    """
    from PIL import Image

    if frames.dim() == 4 and frames.shape[1] == 1:
        frames = frames[:, 0]
    if frames.dim() != 3:
        raise ValueError(f"frames must be (frames, nx, ny) or (frames, 1, nx, ny), got {tuple(frames.shape)}")
    if frames.dtype != torch.uint8:
        if frames.min() < 0 or frames.max() > 1:
            raise ValueError("float frames must lie in [0, 1]")
        frames = torch.round(frames * 255).to(torch.uint8)
    images = [Image.fromarray(f.cpu().numpy()) for f in frames]
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        path.parent.mkdir(parents=True, exist_ok=True)
        images[0].save(path, save_all=True, append_images=images[1:])
    else:
        path.mkdir(parents=True, exist_ok=True)
        width = len(str(len(images) - 1))
        for k, image in enumerate(images):
            image.save(path / f"frame_{k:0{width}d}.png")
    return path
