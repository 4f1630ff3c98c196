"""Figures and animations with one look across the book.

Every helper returns a matplotlib ``Figure`` (or an HTML animation) and leaves showing it
to the notebook, so the same code works in Jupyter, in the built book and in scripts.
"""

from __future__ import annotations

import math

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

matplotlib.rcParams["animation.embed_limit"] = 50.0  # MB of frames in one to_jshtml

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "image.origin": "lower",
}

FIELD_CMAP = "RdBu_r"
MASK_CMAP = "Greys"


def use_style() -> None:
    """Apply the book's matplotlib style to the current session."""
    plt.rcParams.update(STYLE)


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x)


def _image(ax, field: np.ndarray, title: str, cmap: str, symmetric: bool, vmin=None, vmax=None):
    if field.ndim != 2:
        raise ValueError(f"an image panel needs a 2D array, got shape {field.shape}")
    if symmetric and vmin is None and vmax is None:
        m = float(np.abs(field).max()) or 1.0
        vmin, vmax = -m, m
    im = ax.imshow(field.T, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return im


def fields(panels: Mapping[str, torch.Tensor | np.ndarray], ncols: int | None = None,
           cmap: str = FIELD_CMAP, symmetric: bool = True, size: float = 2.6) -> Figure:
    """A row (or grid) of 2D fields, one panel each, with titles and colour bars.

    Arrays are indexed ``[x, y]`` (first axis horizontal), as the solvers store them.
    """
    names = list(panels)
    n = len(names)
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.6, size * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        _image(ax, _np(panels[name]), name, cmap, symmetric)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def compare(pred: torch.Tensor, true: torch.Tensor, channel_names: Sequence[str], size: float = 2.6) -> Figure:
    """Truth, prediction and error per channel for one sample shaped ``(channel, nx, ny)``."""
    pred, true = _np(pred), _np(true)
    if pred.shape != true.shape or pred.ndim != 3 or pred.shape[0] != len(channel_names):
        raise ValueError(
            f"expected two arrays shaped (channel, nx, ny) with {len(channel_names)} channels, "
            f"got {pred.shape} and {true.shape}"
        )
    c = len(channel_names)
    fig, axes = plt.subplots(c, 3, figsize=(3 * size + 0.6, size * c), squeeze=False)
    for i, name in enumerate(channel_names):
        m = float(np.abs(true[i]).max()) or 1.0
        _image(axes[i, 0], true[i], f"{name}: truth", FIELD_CMAP, False, -m, m)
        _image(axes[i, 1], pred[i], f"{name}: prediction", FIELD_CMAP, False, -m, m)
        _image(axes[i, 2], pred[i] - true[i], f"{name}: error", FIELD_CMAP, True)
    fig.tight_layout()
    return fig


def loss_curves(curves: Mapping[str, Sequence[float] | tuple[Sequence[int], Sequence[float]]],
                ylabel: str = "loss", xlabel: str = "step", logy: bool = True) -> Figure:
    """Loss histories on one axis. A value is a list of losses or a ``(steps, values)`` pair."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, curve in curves.items():
        if isinstance(curve, tuple) and len(curve) == 2:
            x, y = curve
        else:
            y = list(curve)
            x = range(1, len(y) + 1)
        ax.plot(list(x), list(y), label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    return fig


def spacetime(ax, field: torch.Tensor | np.ndarray, title: str,
              extent: tuple[float, float, float, float] = (-1.0, 1.0, 0.0, 1.0),
              cmap: str = FIELD_CMAP, symmetric: bool = True):
    """A field ``u(x, t)`` shaped ``(time, position)`` on ``ax``, time upwards, with a colour bar.

    ``extent`` is ``(x0, x1, t0, t1)``; ``symmetric`` centres the colour scale on zero.
    """
    field = _np(field)
    if field.ndim != 2:
        raise ValueError(f"a space-time plot needs a (time, position) array, got shape {field.shape}")
    lim = float(np.abs(field).max()) or 1.0
    im = ax.imshow(field, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                   vmin=-lim if symmetric else None, vmax=lim if symmetric else None)
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax)
    return im


def slices(x: torch.Tensor | np.ndarray, curves: Mapping[str, torch.Tensor | np.ndarray],
           rows: Sequence[int], titles: Sequence[str], size: float = 3.0) -> Figure:
    """Line plots of several ``(time, position)`` fields at the time rows ``rows``, one panel each.

    ``curves`` maps a label to a field; the first is drawn as a solid black reference line.
    """
    if len(rows) != len(titles):
        raise ValueError("rows and titles must have the same length")
    fig, axes = plt.subplots(1, len(rows), figsize=(size * len(rows) + 0.6, size), sharey=True, squeeze=False)
    for ax, row, title in zip(axes[0], rows, titles):
        for k, (label, field) in enumerate(curves.items()):
            style = {"color": "k"} if k == 0 else {"ls": "--", "color": f"C{k - 1}"}
            ax.plot(_np(x), _np(field)[row], label=label, **style)
        ax.set_title(title)
        ax.set_xlabel("x")
    axes[0, 0].set_ylabel("u")
    axes[0, 0].legend()
    fig.tight_layout()
    return fig


def animate(frames: torch.Tensor | np.ndarray, title: str = "", interval: int = 100,
            cmap: str = FIELD_CMAP, size: float = 3.5) -> str:
    """An HTML/JavaScript animation of 2D frames shaped ``(time, nx, ny)``.

    Returns the ``to_jshtml`` string, which plays in Jupyter (wrap it in
    ``IPython.display.HTML``) and in the static HTML of the built book.
    """
    data = _np(frames)
    if data.ndim != 3:
        raise ValueError(f"frames must be shaped (time, nx, ny), got {data.shape}")
    fig, ax = plt.subplots(figsize=(size, size))
    vmin, vmax = float(data.min()), float(data.max())
    im = ax.imshow(data[0].T, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])

    def update(i: int):
        im.set_data(data[i].T)
        ax.set_title(f"{title} frame {i}".strip())
        return (im,)

    anim = FuncAnimation(fig, update, frames=len(data), interval=interval, blit=True)
    html = anim.to_jshtml()
    plt.close(fig)
    return html


#: The values glued so far in this Python process, by name: what :func:`glued` shows. One
#: notebook kernel is one process, so this plays the part of the book's glue store outside a
#: book build (on Colab, in Jupyter, in scripts).
_GLUED: dict[str, Any] = {}


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the book's ``{glue}`` roles and for :func:`glued`.

    In a book build ``myst_nb.glue`` records it for the prose. Everywhere the value is also kept
    in this process, so that the generated Colab notebooks can show it (with :func:`glued`)
    next to the prose that quotes it. Returns nothing, so that a cell ending in a glue shows no
    stray value under it.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"a glued value needs a non-empty name, got {name!r}")
    _GLUED[name] = value
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return
    _glue(name, value, display=display)


@dataclass(frozen=True)
class GluedValues:
    """Named values, formatted as the prose quotes them; shown as a small table in a notebook.

    Attributes:
        rows: ``(name, formatted value)`` pairs in the order asked for.
    """

    rows: tuple[tuple[str, str], ...]

    def _repr_markdown_(self) -> str:
        lines = ["| in the text | value |", "| --- | --- |"]
        lines += [f"| `{name}` | {value} |" for name, value in self.rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        width = max((len(name) for name, _ in self.rows), default=0)
        return "\n".join(f"{name:<{width}} = {value}" for name, value in self.rows)


def speed_phrase(ratio: float, digits: int = 2) -> str:
    """A speed ratio (the other's time over ours) as prose: ``"3.2 times faster"`` above 1,
    ``"2.3 times slower"`` below (the inverse), so that a loss never reads as "0.4 times less".

    Used in :ref:`07-crnn-speed-measured-side-by-side`.
    """
    ratio = float(ratio)
    if not math.isfinite(ratio) or ratio <= 0:
        raise ValueError(f"a speed ratio must be positive and finite, got {ratio}")
    if ratio >= 1:
        return f"{ratio:.{digits}g} times faster"
    return f"{1 / ratio:.{digits}g} times slower"


def _formatted(value, spec: str) -> str:
    """``value`` formatted with the format ``spec`` of a ``{glue:text}`name:spec``` role."""
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def glued(*names: str) -> GluedValues:
    """The glued values ``names`` (each ``"name"`` or ``"name:spec"``, as in the prose's roles).

    Raises:
        KeyError: a name that was not glued in this process yet, naming the ones that were.
    """
    rows = []
    for entry in names:
        name, _, spec = entry.partition(":")
        if name not in _GLUED:
            known = ", ".join(sorted(_GLUED)) or "none"
            raise KeyError(f"no value was glued as {name!r} in this session (glued: {known}); "
                           "run the cells above first")
        rows.append((name, _formatted(_GLUED[name], spec)))
    return GluedValues(tuple(rows))


def predicted_vs_true(ax, pred, true, title: str = "", limit: float | None = None) -> None:
    """Scatter signed estimates against the truth, diffusion (true < 0) and mobility apart.

    Args:
        ax: matplotlib axes.
        pred, true: ``(n,)`` estimates and true values.
        limit: half-width of the square plot (default: the largest magnitude, plus 10 %).
    """
    pred, true = _np(pred), _np(true)
    if pred.shape != true.shape or pred.ndim != 1:
        raise ValueError(f"pred and true must be matching vectors, got {pred.shape} and {true.shape}")
    lim = limit if limit is not None else 1.1 * float(np.abs(np.concatenate([pred, true])).max())
    ax.plot([-lim, lim], [-lim, lim], "k:", lw=1)
    for keep, colour, name in ((true < 0, "tab:blue", "diffusion"), (true > 0, "tab:red", "mobility")):
        ax.plot(true[keep], pred[keep], "o", color=colour, label=name)
    ax.set_xlabel("true value")
    ax.set_ylabel("estimate")
    ax.set_title(title)
    ax.legend(fontsize=8)


def tracking_overlay(ax, frame, eta, title: str = "", threshold: float = 0.5, color: str = "red") -> None:
    """Draw a grey video ``frame`` ``(nx, ny)`` with the region ``eta >= threshold`` tinted ``color``.

    The style of the NeuraDiff paper's tracking figures: the tracked void in red over the frame.
    """
    from matplotlib.colors import to_rgba

    frame, eta = _np(frame), _np(eta)
    if frame.shape != eta.shape or frame.ndim != 2:
        raise ValueError(f"frame and eta must be the same 2D shape, got {frame.shape} and {eta.shape}")
    ax.imshow(frame.T, origin="lower", cmap="gray", vmin=0, vmax=1)
    tint = np.zeros((*eta.T.shape, 4))
    tint[...] = to_rgba(color, 0.45)
    tint[..., 3] *= eta.T >= threshold
    ax.imshow(tint, origin="lower")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
