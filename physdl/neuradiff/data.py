"""NeuraDiff's data: synthetic TEM videos of growing voids, their partial annotations, and
loading and saving real videos.

Imaging: Synthetic TEM videos of voids and partial annotations.

The intensity model follows the NeuraDiff authors' code: a pixel is drawn from
``N(0.056, 0.253)`` inside a void and from ``N(-0.208, 0.214)`` in the solid, mixed by ``eta``;
the frames are then averaged by a box filter over ``19`` frames in time and ``3 x 3`` pixels,
and the whole video is scaled to 8 bits. The temporal box filter is what makes the noise
small enough to track the voids by eye.

Annotations are integer maps with ``1`` (void), ``0`` (solid) and :data:`UNKNOWN` (not
annotated): a chosen fraction of frames is annotated, and in those a chosen fraction of the
pixels, as in the paper's partial-annotation setting.

Videos on disk: Read a user's own microscope video into the tensor NeuraDiff takes, and write one back.

A video is a folder of image files (PNG, TIFF, JPEG; read in natural name order) or one
multi-page TIFF. Frames become grey levels in [0, 1], shaped ``(frames, 1, height, width)``:
8- and 16-bit images are divided by their full range, float images are scaled by the video's
own minimum and maximum.

Synthetic data sets: Synthetic experiments for NeuraDiff: a phase-field run rendered as a TEM video.

A :class:`VoidScenario` fixes everything about one experiment (grid, voids, vacancy field,
model parameters, sources, frame rate, camera); :func:`synthesise` runs the stochastic
simulator of :mod:`physdl.pde.voids`, renders the frames with :func:`tem_video` and caches
the result under a key of the scenario.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from physdl import data as _data
from physdl.config import as_device, generator_device
from physdl.ops.checks import (
    check_bool,
    check_generator,
    check_instance,
    check_int,
    check_integer_tensor,
    check_pair,
    check_progress,
    check_real,
    checking,
    finite_tensor,
)
from physdl.ops.grid import Grid, positive_float
from physdl.pde import voids
from physdl.pde.stepper import rollout

UNKNOWN = -1


@dataclass(frozen=True)
class IntensityModel:
    """Grey levels of the two phases (mean and standard deviation) and the blur of the camera.

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """

    void_mean: float = 0.056
    void_std: float = 0.253
    solid_mean: float = -0.208
    solid_std: float = 0.214
    blur_frames: int = 19
    blur_pixels: int = 3

    def __post_init__(self) -> None:
        """Check every field and store plain ``float`` / ``int`` values."""
        for name in ("void_mean", "solid_mean"):
            object.__setattr__(self, name, check_real(getattr(self, name), name))
        for name in ("void_std", "solid_std"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, 0))
        object.__setattr__(self, "blur_frames", check_int(self.blur_frames, "blur_frames", 1))
        object.__setattr__(self, "blur_pixels", _odd(self.blur_pixels, "blur_pixels"))


def _odd(x: object, name: str) -> int:
    """A positive odd integer (the width of a centred box filter)."""
    value = check_int(x, name, 1)
    if value % 2 == 0:
        raise ValueError(f"{name} must be a positive odd number (a centred box), got {value}")
    return value


def _check_eta(eta: object, name: str = "eta") -> torch.Tensor:
    """``eta`` if it is a finite, non-empty ``(frames, nx, ny)`` field in [0, 1]."""
    eta = finite_tensor(eta, name)
    if eta.dim() != 3 or eta.numel() == 0:
        raise ValueError(f"{name} must be (frames, nx, ny) with no empty axis, got {tuple(eta.shape)}")
    if eta.min() < 0 or eta.max() > 1:
        raise ValueError(f"{name} must lie in [0, 1], got [{float(eta.min()):.3g}, {float(eta.max()):.3g}]")
    return eta


def check_labels(labels: object, name: str = "labels", dims: int | None = None) -> torch.Tensor:
    """``labels`` if it is an integer tensor of ``1`` (void), ``0`` (solid) and :data:`UNKNOWN`.

    ``dims`` fixes the number of axes (3 for a video's ``(frames, nx, ny)``). The values are
    checked where :func:`physdl.ops.checks.checking` (not inside training steps).
    """
    check_integer_tensor(labels, name, f"of 1 (void), 0 (solid) and UNKNOWN ({UNKNOWN})")
    if dims is not None and labels.dim() != dims:
        raise ValueError(f"{name} must have {dims} axes (frames, nx, ny), got shape {tuple(labels.shape)}")
    if checking() and labels.numel() and bool(((labels < UNKNOWN) | (labels > 1)).any()):
        raise ValueError(f"{name} must hold only 1 (void), 0 (solid) and UNKNOWN ({UNKNOWN}), "
                         f"got values from {int(labels.min())} to {int(labels.max())}")
    return labels


def box_blur(video: torch.Tensor, frames: int, pixels: int) -> torch.Tensor:
    """Moving average over ``frames`` in time (centred, replicated ends) and ``pixels``^2 in space
    (periodic). ``video`` is ``(frames, nx, ny)``; the result has the same shape."""
    video = finite_tensor(video, "video")
    if video.dim() != 3 or video.numel() == 0:
        raise ValueError(f"video must be (frames, nx, ny), got {tuple(video.shape)}")
    frames, pixels = check_int(frames, "frames", 1), _odd(pixels, "pixels")
    v = video[None, None]  # (1, 1, T, nx, ny)
    pt, px = frames // 2, pixels // 2
    v = F.pad(v, (px, px, px, px, 0, 0), mode="circular")
    v = F.pad(v, (0, 0, 0, 0, pt, frames - 1 - pt), mode="replicate")
    return F.avg_pool3d(v, (frames, pixels, pixels), stride=1)[0, 0]


def tem_video(eta: torch.Tensor, model: IntensityModel | None = None,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``eta`` as a TEM-like 8-bit video.

    Args:
        eta: ``(frames, nx, ny)`` order parameter in [0, 1].
        model: grey levels and blur (defaults: :class:`IntensityModel`).
        generator: random generator for the pixel noise.

    Returns:
        ``(frames_uint8, frames)``: the 8-bit video ``(frames, nx, ny)`` and the same as float32
        in [0, 1] shaped ``(frames, 1, nx, ny)``, the input of the recognition net.

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """
    _check_eta(eta)
    check_instance(model, IntensityModel, "model", optional=True)
    check_generator(generator)
    model = model or IntensityModel()
    eta = eta.detach().to("cpu", torch.float32)
    noise_v = torch.randn(eta.shape, generator=generator, device=generator_device(generator))
    noise_s = torch.randn(eta.shape, generator=generator, device=generator_device(generator))
    raw = (eta * (model.void_mean + model.void_std * noise_v)
           + (1 - eta) * (model.solid_mean + model.solid_std * noise_s))
    blurred = box_blur(raw, model.blur_frames, model.blur_pixels)
    lo, hi = blurred.min(), blurred.max()
    as_uint8 = torch.round((blurred - lo) / (hi - lo).clamp_min(1e-12) * 255).to(torch.uint8)
    return as_uint8, (as_uint8.float() / 255)[:, None]


def annotate(eta: torch.Tensor, frame_fraction: float, pixel_fraction: float,
             generator: torch.Generator | None = None, always: tuple[int, ...] = ()) -> torch.Tensor:
    """Partial annotations of ``eta >= 0.5``.

    Args:
        eta: ``(frames, nx, ny)`` true order parameter.
        frame_fraction: share of frames that carry annotations (at least one frame).
        pixel_fraction: share of pixels annotated within an annotated frame.
        generator: random generator for the choice of frames and pixels.
        always: frames to annotate in any case (counted in the fraction).

    Returns:
        ``(frames, nx, ny)`` int8 tensor of ``1`` (void), ``0`` (solid), :data:`UNKNOWN`.

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """
    _check_eta(eta)
    frame_fraction = check_real(frame_fraction, "frame_fraction", 0, 1, lo_open=True)
    pixel_fraction = check_real(pixel_fraction, "pixel_fraction", 0, 1, lo_open=True)
    check_generator(generator)
    frames = eta.shape[0]
    count = max(1, round(frame_fraction * frames))
    chosen = _frame_list(always, frames, "always")
    for f in torch.randperm(frames, generator=generator, device=generator_device(generator)).tolist():
        if len(chosen) >= count:
            break
        if f not in chosen:
            chosen.append(f)
    labels = torch.full(eta.shape, UNKNOWN, dtype=torch.int8, device="cpu")
    truth = (eta >= 0.5).to(torch.int8).cpu()
    for f in sorted(chosen):
        pick = torch.rand(eta.shape[1:], generator=generator, device=generator_device(generator)) < pixel_fraction
        labels[f][pick] = truth[f][pick]
    return labels


def _frame_list(frames: object, count: int, name: str) -> list[int]:
    """Distinct frame indices in ``[0, count)`` from a sequence of integers, in their order."""
    if isinstance(frames, (str, bytes)) or not hasattr(frames, "__iter__"):
        raise TypeError(f"{name} must be a sequence of frame indices, got {type(frames).__name__}")
    chosen: list[int] = []
    for f in frames:
        index = check_int(f, name, 0, count - 1)  # an index past the video is a mistake, not a no-op
        if index not in chosen:
            chosen.append(index)
    return chosen


def known(labels: torch.Tensor) -> torch.Tensor:
    """Boolean mask of annotated pixels (same shape as ``labels``).

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """
    return check_labels(labels) != UNKNOWN


def annotated_frames(labels: torch.Tensor) -> torch.Tensor:
    """Indices of the frames that carry at least one annotation, shape ``(k,)``.

    Used in :ref:`06-neuradiff-the-data-a-tem-video-with-a-few-annotations`.
    """
    return torch.nonzero(known(check_labels(labels, dims=3)).flatten(1).any(1)).flatten()


IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")


def _as_path(path: object, name: str = "path") -> Path:
    """``path`` (a string or ``os.PathLike``) as a :class:`~pathlib.Path`."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _grey(image) -> np.ndarray:
    """One PIL image as a 2D numpy array (colour images are averaged to grey)."""
    if image.mode in ("RGB", "RGBA", "P", "LA", "CMYK"):
        image = image.convert("L")
    return np.asarray(image)


def _frames_from_tiff(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    try:
        with Image.open(path) as image:
            return [_grey(page.copy()) for page in ImageSequence.Iterator(image)]
    except (OSError, SyntaxError, ValueError) as err:  # what PIL raises on truncated or damaged files
        raise ValueError(f"cannot read {path}: {err}") from err


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return _grey(image)
    except (OSError, SyntaxError, ValueError) as err:  # what PIL raises on truncated or damaged files
        raise ValueError(f"cannot read frame {path}: {err}") from err


#: Integer types whose full range is the grey scale (8 and 16 bits); wider integers and floats
#: are scaled by the video's own minimum and maximum.
_FULL_RANGE_TYPES = (np.uint8, np.uint16, np.int8, np.int16)


def _to_unit(frames: list[np.ndarray], names: list[str]) -> torch.Tensor:
    """Grey levels in [0, 1], ``(frames, height, width)`` float32.

    8- and 16-bit frames are divided by their own type's range, frame by frame (a video may
    mix them); other frames (float, 32-bit integers) share the video's minimum and maximum.
    """
    for frame, name in zip(frames, names):
        if np.issubdtype(frame.dtype, np.floating) and not np.isfinite(frame).all():
            bad = int((~np.isfinite(frame)).sum())
            raise ValueError(f"{name} has {bad} NaN or infinite pixel(s); replace them before loading")
    fixed = [f.dtype.type in _FULL_RANGE_TYPES for f in frames]
    out = np.empty((len(frames), *frames[0].shape), dtype=np.float32)
    for k, (frame, full) in enumerate(zip(frames, fixed)):
        if full:
            info = np.iinfo(frame.dtype)
            out[k] = (frame.astype(np.float64) - info.min) / (info.max - info.min)
    free = [k for k, full in enumerate(fixed) if not full]
    if free:
        values = np.stack([frames[k].astype(np.float64) for k in free])
        lo, hi = float(values.min()), float(values.max())
        out[free] = (values - lo) / max(hi - lo, 1e-12)
    return torch.from_numpy(out)


def load_video(path: str | os.PathLike, max_frames: int | None = None, multiple_of: int = 1) -> torch.Tensor:
    """Load a folder of frames or a multi-page TIFF.

    Args:
        path: a folder of images or a ``.tif``/``.tiff`` file.
        max_frames: keep only the first ``max_frames`` frames (at least 1; ``None``: all).
        multiple_of: crop height and width (centred) to a multiple of this number, as a U-Net
            with ``k`` levels needs ``2 ** (k - 1)``.

    Returns:
        ``(frames, 1, height, width)`` float32 tensor in [0, 1]: 8- and 16-bit frames divided
        by their range, float and 32-bit frames scaled by the video's minimum and maximum.

    Raises:
        ValueError: no frames, frames of different sizes, an unreadable or truncated file
            (named), NaN or infinite pixels (the frame named), a bad ``max_frames`` or
            ``multiple_of``.

    Used in :ref:`06-neuradiff-your-own-video`.
    """
    if max_frames is not None:
        max_frames = check_int(max_frames, "max_frames", 1)
    multiple_of = check_int(multiple_of, "multiple_of", 1)
    path = _as_path(path)
    if path.is_dir():
        files = sorted((f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not files:
            raise ValueError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
        files = files[:max_frames]
        frames = [_read_image(f) for f in files]
        names = [f"frame {f}" for f in files]
    elif path.suffix.lower() in (".tif", ".tiff") and path.is_file():
        frames = _frames_from_tiff(path)[:max_frames]
        names = [f"page {k} of {path}" for k in range(len(frames))]
    else:
        raise ValueError(f"{path} is neither a folder of images nor a multi-page TIFF file")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"all frames must have the same size, found {sorted(shapes)}")
    video = _to_unit(frames, names)[:, None]
    if multiple_of > 1:
        h, w = video.shape[-2:]
        nh, nw = h - h % multiple_of, w - w % multiple_of
        if nh == 0 or nw == 0:
            raise ValueError(f"frames of {h}x{w} are smaller than multiple_of={multiple_of}")
        top, left = (h - nh) // 2, (w - nw) // 2
        video = video[..., top:top + nh, left:left + nw]
    return video.contiguous()


def save_video(frames: torch.Tensor, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``(frames, nx, ny)`` or ``(frames, 1, nx, ny)`` grey levels in [0, 1] (or uint8).

    A path ending in ``.tif``/``.tiff`` gives one multi-page TIFF; any other path is a folder
    of numbered PNG files. Returns the path written.

    Raises:
        FileExistsError: the TIFF file exists, or the folder already holds image files (they
            would mix with the new frames on loading), and ``overwrite`` is false. With
            ``overwrite`` the old file, or the old image files of the folder, are removed.
        ValueError: a bad shape, float frames outside [0, 1] or not finite, no frames.

    Used in :ref:`06-neuradiff-your-own-video`.
    """
    from PIL import Image

    overwrite = check_bool(overwrite, "overwrite")
    path = _as_path(path)
    if not torch.is_tensor(frames):
        raise TypeError(f"frames must be a tensor, got {type(frames).__name__}")
    if frames.dim() == 4 and frames.shape[1] == 1:
        frames = frames[:, 0]
    if frames.dim() != 3 or frames.shape[0] == 0 or frames.numel() == 0:
        raise ValueError(f"frames must be (frames, nx, ny) or (frames, 1, nx, ny) with frames > 0, got "
                         f"{tuple(frames.shape)}")
    if frames.dtype != torch.uint8:
        if not frames.is_floating_point():
            raise TypeError(f"frames must be uint8 or floating point, got {frames.dtype}")
        if not bool(torch.isfinite(frames).all()) or frames.min() < 0 or frames.max() > 1:
            raise ValueError("float frames must be finite and lie in [0, 1]")
        frames = torch.round(frames * 255).to(torch.uint8)
    images = [Image.fromarray(f.cpu().numpy()) for f in frames]
    if path.suffix.lower() in (".tif", ".tiff"):
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        images[0].save(path, save_all=True, append_images=images[1:])
    else:
        path.mkdir(parents=True, exist_ok=True)
        old = [f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES]
        if old and not overwrite:
            raise FileExistsError(f"folder {path} already holds {len(old)} image file(s); they would be loaded "
                                  "with the new frames: pass overwrite=True to remove them, or another folder")
        for f in old:
            f.unlink()
        width = len(str(len(images) - 1))
        for k, image in enumerate(images):
            image.save(path / f"frame_{k:0{width}d}.png")
    return path


DATA_VERSION = "voids-1"


@dataclass(frozen=True)
class VoidScenario:
    """One synthetic experiment.

    Attributes:
        n: grid points per side (periodic square, spacing ``dx``).
        centers, radii: the voids at time 0 (grid units).
        c_v_mean, c_v_amplitude, direction: vacancy field of the solid,
            ``mean + amplitude cos(k . x)`` (see :func:`physdl.pde.voids.vacancy_gradient`).
        frames: frames in the video.
        steps_per_frame: simulation steps between frames (the ``T`` of the paper's frame pairs).
        dt, dx: time step and grid spacing.
        parameters, irradiation: the model that makes the data.
        intensity: the camera model.
        seed: seed of the cascades, the noise and the camera noise.
    """

    n: int = 64
    centers: tuple[tuple[float, float], ...] = ((20.0, 32.0),)
    radii: tuple[float, ...] = (8.0,)
    c_v_mean: float = 0.33
    c_v_amplitude: float = 0.09
    direction: float = 0.0
    frames: int = 80
    steps_per_frame: int = 30
    dt: float = 0.02
    dx: float = 1.0
    parameters: voids.VoidParameters = field(default_factory=voids.VoidParameters)
    irradiation: voids.Irradiation = field(default_factory=voids.Irradiation)
    intensity: IntensityModel = field(default_factory=IntensityModel)
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field and store plain numbers (the cache key is made of them)."""
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("n", check_int(self.n, "n", 4))
        put("frames", check_int(self.frames, "frames", 2))
        put("steps_per_frame", check_int(self.steps_per_frame, "steps_per_frame", 1))
        put("seed", check_int(self.seed, "seed", 0))
        put("centers", _points(self.centers, "centers"))
        put("radii", _radii(self.radii, len(self.centers)))
        put("c_v_mean", check_real(self.c_v_mean, "c_v_mean", 0, 1))
        put("c_v_amplitude", check_real(self.c_v_amplitude, "c_v_amplitude", 0))
        if not (0 <= self.c_v_mean - self.c_v_amplitude and self.c_v_mean + self.c_v_amplitude <= 1):
            raise ValueError(f"c_v_mean +- c_v_amplitude must lie in [0, 1] (a vacancy fraction), got "
                             f"{self.c_v_mean} +- {self.c_v_amplitude}")
        put("direction", check_real(self.direction, "direction"))
        put("dt", positive_float(self.dt, "dt"))
        put("dx", positive_float(self.dx, "dx"))
        voids.check_parameters(self.parameters, name="parameters")
        check_instance(self.irradiation, voids.Irradiation, "irradiation")
        check_instance(self.intensity, IntensityModel, "intensity")
        voids.check_stability(self.parameters, self.dt, self.dx)

    @property
    def dt_frame(self) -> float:
        """Simulated time between frames."""
        return self.steps_per_frame * self.dt

    def initial_state(self) -> torch.Tensor:
        """``(1, 3, n, n)`` state at time 0."""
        c_v = voids.vacancy_gradient(self.n, self.c_v_mean, self.c_v_amplitude, self.direction)
        return voids.voids_state(self.n, list(self.centers), list(self.radii), c_v_solid=c_v)


def _points(centers: object, name: str) -> tuple[tuple[float, float], ...]:
    """At least one ``(x, y)`` point (grid units), as a tuple of float pairs."""
    if isinstance(centers, (str, bytes)) or not hasattr(centers, "__len__") or len(centers) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of (x, y) points, got {centers!r}")
    return tuple(tuple(check_real(c, name) for c in check_pair(point, name)) for point in centers)


def _radii(radii: object, count: int) -> tuple[float, ...]:
    """One positive radius per void (grid units), as a tuple of floats."""
    if isinstance(radii, (str, bytes)) or not hasattr(radii, "__len__") or len(radii) != count:
        raise ValueError(f"radii must hold one radius per centre ({count}), got {radii!r}")
    return tuple(positive_float(r, "radii") for r in radii)


@dataclass(frozen=True)
class VoidVideo:
    """A synthetic experiment: the true fields and what the camera saw.

    Attributes:
        states: ``(frames, 3, n, n)`` true ``c_v, c_i, eta``.
        frames: ``(frames, 1, n, n)`` grey levels in [0, 1] (the 8-bit video / 255).
        scenario: the settings that made it.
    """

    states: torch.Tensor
    frames: torch.Tensor
    scenario: VoidScenario

    def __post_init__(self) -> None:
        voids.check_state(self.states, "states")
        frames = finite_tensor(self.frames, "frames")
        t, _, nx, ny = self.states.shape
        if tuple(frames.shape) != (t, 1, nx, ny):
            raise ValueError(f"frames must be (frames, 1, nx, ny) = {(t, 1, nx, ny)} like the states, "
                             f"got {tuple(frames.shape)}")
        if t < 2:
            raise ValueError(f"states must hold at least two frames (a pair to learn from), got {t}")
        if frames.min() < 0 or frames.max() > 1:
            raise ValueError("frames must be grey levels in [0, 1]")
        check_instance(self.scenario, VoidScenario, "scenario")

    @property
    def eta(self) -> torch.Tensor:
        """``(frames, n, n)`` true order parameter."""
        return self.states[:, 2]

    def __len__(self) -> int:
        return self.states.shape[0]


def _generate(s: VoidScenario, progress: bool | None, device: torch.device) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(s.seed)  # CPU: the same noise on every device
    state0 = s.initial_state().to(device)
    voids.check_state(state0, "initial state")
    solver = voids.VoidStepper(Grid((s.n, s.n), s.dx), s.dt, s.parameters, s.irradiation, stochastic=True,
                               generator=generator)
    states = rollout(solver, state0, (s.frames - 1) * s.steps_per_frame, s.steps_per_frame,
                     progress=progress, description="phase field")[0].cpu()
    video_uint8, _ = tem_video(states[:, 2], s.intensity, generator)
    return {"states": states, "video": video_uint8}


def synthesise(scenario: VoidScenario = VoidScenario(), progress: bool | None = None,
               cache: bool = True, device: torch.device | str | None = None) -> VoidVideo:
    """Simulate and film ``scenario`` (cached when ``cache``), integrating on ``device``
    (default: the CPU).

    The cascades and the noise are drawn on the CPU and moved to ``device``, so a seed gives
    the same forcing everywhere; a GPU run then differs from a CPU run only by the rounding of
    the explicit steps: within 1e-6 in the states, below the 8-bit video's 1/255
    (``benchmarks/gpu_check.py`` checks it). The cache key holds no device. The result is on
    the CPU.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    check_instance(scenario, VoidScenario, "scenario")
    progress, cache = check_progress(progress), check_bool(cache, "cache")
    target = torch.device("cpu") if device is None else as_device(device)
    key = {"version": DATA_VERSION, **asdict(scenario)}
    make = lambda: _generate(scenario, progress, target)  # noqa: E731
    tensors = _data.cached("void-video", key, make) if cache else make()
    return VoidVideo(tensors["states"].float(), (tensors["video"].float() / 255)[:, None], scenario)
