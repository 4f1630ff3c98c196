"""Figures of 3D fields: slices, iso-surfaces and an interactive rollout viewer.

Fields are ``(nx, ny, nz)`` arrays or tensors; a rollout is ``(time, nx, ny, nz)``. The
iso-surfaces use ``skimage.measure.marching_cubes`` (scikit-image, a dependency of the
book); the viewer uses ipywidgets and falls back to a static figure where no widgets run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from physdl.config import require

PHASE_CMAP = "coolwarm"


def _np3(x) -> np.ndarray:
    a = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=float)
    return np.squeeze(a)


def _check_volume(a: np.ndarray, what: str = "field") -> None:
    if a.ndim != 3:
        raise ValueError(f"the {what} must be a 3D array (nx, ny, nz) after squeezing, got shape {a.shape}")


def slice_of(volume, index: int, axis: int = 2) -> np.ndarray:
    """The 2D slice ``index`` of a 3D field along ``axis``."""
    a = _np3(volume)
    _check_volume(a)
    if axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2, got {axis}")
    if not 0 <= index < a.shape[axis]:
        raise ValueError(f"slice index {index} is outside 0..{a.shape[axis] - 1}")
    return np.take(a, index, axis=axis)


def isosurface(ax, volume, level: float = 0.5, color: str = "tab:red", title: str = "", periodic: bool = True) -> None:
    """Draw the ``phi = level`` surface of a 3D field on 3D axes (``projection="3d"``).

    ``periodic`` pads one layer by wrap-around so the surface closes across the boundary.
    A field that never crosses ``level`` gives empty axes with the title.
    """
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    marching_cubes = require("skimage.measure", "isosurface (3D surface figures)").marching_cubes
    a = _np3(volume)
    _check_volume(a)
    if periodic:
        a = np.pad(a, ((0, 1), (0, 1), (0, 1)), mode="wrap")
    n = a.shape
    if a.min() < level < a.max():
        verts, faces, normals, _ = marching_cubes(a, level)
        # Two-sided diffuse light plus an ambient part: marching cubes' normals point towards
        # larger values, away from the viewer on half of the surface, which one-sided light
        # left black. Edges take the face colour, so no background shows through the seams.
        direction = np.array([0.4, 0.3, 0.85]) / np.linalg.norm([0.4, 0.3, 0.85])
        light = 0.35 + 0.65 * np.abs(normals @ direction)
        base = np.array(plt.matplotlib.colors.to_rgb(color))
        shade = np.clip(light[faces].mean(axis=1)[:, None] * base, 0.0, 1.0)
        mesh = Poly3DCollection(verts[faces], facecolors=shade, edgecolors=shade, linewidths=0.2)
        ax.add_collection3d(mesh)
    ax.set_xlim(0, n[0] - 1)
    ax.set_ylim(0, n[1] - 1)
    ax.set_zlim(0, n[2] - 1)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_zticks([])
    if title:
        ax.set_title(title, fontsize=9)


def rollout_grid(rows: Mapping[str, object], times: Sequence[str], kind: str = "slice", index: int | None = None,
                 size: float = 2.0) -> Figure:
    """A figure with one row per rollout and one column per time.

    Args:
        rows: name -> frames ``(time, nx, ny, nz)``, all with the same number of frames
            as ``times``.
        times: column titles.
        kind: ``"slice"`` (the middle ``z`` slice, or ``index``) or ``"surface"``
            (the ``phi = 0.5`` iso-surface).
    """
    if kind not in ("slice", "surface"):
        raise ValueError(f"kind must be 'slice' or 'surface', got {kind!r}")
    names = list(rows)
    data = {k: _np3(v) if _np3(v).ndim == 4 else None for k, v in rows.items()}
    for k, v in data.items():
        if v is None or v.shape[0] != len(times):
            raise ValueError(f"rollout {k!r} must be (time, nx, ny, nz) with {len(times)} frames")
    fig = plt.figure(figsize=(size * len(times), size * len(names)))
    for r, name in enumerate(names):
        for c, label in enumerate(times):
            frame = data[name][c]
            if kind == "slice":
                ax = fig.add_subplot(len(names), len(times), r * len(times) + c + 1)
                k = frame.shape[2] // 2 if index is None else index
                ax.imshow(slice_of(frame, k).T, origin="lower", cmap=PHASE_CMAP, vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(label, fontsize=9)
                if c == 0:
                    ax.set_ylabel(name)
            else:
                ax = fig.add_subplot(len(names), len(times), r * len(times) + c + 1, projection="3d")
                isosurface(ax, frame, title=label if r == 0 else "")
                if c == 0:
                    ax.text2D(-0.05, 0.5, name, transform=ax.transAxes, rotation=90, va="center", ha="right")
    fig.tight_layout()
    return fig


def rollout_viewer(rollouts: Mapping[str, object], times: Sequence[float] | None = None, size: float = 3.0):
    """An ipywidgets viewer: a time slider, a slice slider and an axis choice over 3D rollouts.

    Args:
        rollouts: name -> frames ``(time, nx, ny, nz)`` with equal shapes (shown side by side).
        times: the physical time of each frame, shown in the panel titles.

    Returns:
        The widget (display it). Without ipywidgets, raises ``ImportError``; use
        :func:`rollout_grid` for a static figure.
    """
    widgets = require("ipywidgets", "the interactive 3D viewer")

    data = {k: _np3(v) for k, v in rollouts.items()}
    shapes = {v.shape for v in data.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 4:
        raise ValueError(f"every rollout must be (time, nx, ny, nz) with the same shape, got {shapes}")
    frames, *grid = next(iter(shapes))
    times = list(range(frames)) if times is None else list(times)
    if len(times) != frames:
        raise ValueError(f"times has {len(times)} entries for {frames} frames")
    time_slider = widgets.IntSlider(0, 0, frames - 1, description="frame", continuous_update=False)
    axis = widgets.Dropdown(options=[("x", 0), ("y", 1), ("z", 2)], value=2, description="normal")
    slice_slider = widgets.IntSlider(grid[2] // 2, 0, grid[2] - 1, description="slice", continuous_update=False)
    out = widgets.Output()

    def draw(*_):
        slice_slider.max = grid[axis.value] - 1
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, len(data), figsize=(size * len(data), size), squeeze=False)
            for ax, (name, v) in zip(axes[0], data.items()):
                ax.imshow(slice_of(v[time_slider.value], slice_slider.value, axis.value).T, origin="lower",
                          cmap=PHASE_CMAP, vmin=0, vmax=1)
                ax.set_title(f"{name}, t = {times[time_slider.value]:g}", fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
            plt.show()

    for w in (time_slider, slice_slider, axis):
        w.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([time_slider, slice_slider, axis]), out])
