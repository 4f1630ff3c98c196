"""Heat-equation videos for SAFE-PIT-CM: diffusion runs and their time reversals (mobility).

Each run starts from a Voronoi microstructure (:func:`physdl.pde.heat.voronoi_grains`) and is
integrated with forward Euler (:class:`physdl.pde.heat.HeatEuler`, checked against the von Neumann
bound when it is made) by :func:`physdl.rollout`.
A mobility simulation is a diffusion run played backwards, so it is never integrated in the
unstable direction. Every simulation is cached in its own file with its metadata.

Ordering: simulation ``2 r`` is diffusion run ``r`` (``alpha = -D``) and ``2 r + 1`` its reversal
(``alpha = +D``). The first ``80 %`` of the simulations are for training and the rest are held
out, so both sets hold both signs and a run and its reversal are never split between them.
(The paper stores 50 diffusion runs and then 50 reversals; its first-80 / last-20 split would
hold out mobility only.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from physdl.config import as_device
from physdl.data import cached, is_cached
from physdl.ops.checks import check_choice, check_finite, check_int, check_pair, check_real, check_tensor, finite_tensor
from physdl.ops.grid import Grid
from physdl.pde import heat
from physdl.pde.stepper import rollout
from physdl.progress import progress

# Bump when the generator changes, so that stale cache files are not reused.
DATA_VERSION = "heat-voronoi-1"
DIFFUSION, MOBILITY = -1, 1


@dataclass(frozen=True)
class HeatVideoConfig:
    """How the heat-equation videos are made (defaults: the paper's Table 1).

    Attributes:
        n: nodes per side of the periodic grid.
        dx: grid spacing (length).
        dt: Euler time step (time).
        steps: Euler steps per run.
        save_every: steps between saved frames (``steps // save_every + 1`` frames).
        grains: smallest and largest number of grains (inclusive).
        width: tanh interface width (length).
        roughness: standard deviation of the boundary perturbation (length).
        alpha_range: ``|alpha|`` is uniform on this interval (length^2 / time).
        runs: diffusion runs; each also gives one mobility simulation.
        train_fraction: share of the simulations used for training (whole runs).
        seed: base seed; run ``r`` uses ``seed * 100003 + r``.
    """

    n: int = 128
    dx: float = 0.5
    dt: float = 0.005
    steps: int = 5000
    save_every: int = 50
    grains: tuple[int, int] = (15, 35)
    width: float = 2.5
    roughness: float = 0.5
    alpha_range: tuple[float, float] = (0.1, 0.7)
    runs: int = 50
    train_fraction: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field and store plain ``int`` / ``float`` / tuples (a JSON cache key)."""
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name, least in (("n", 4), ("steps", 1), ("save_every", 1), ("runs", 1), ("seed", 0)):
            put(name, check_int(getattr(self, name), name, least))
        put("dx", check_real(self.dx, "dx", 0, lo_open=True))
        put("dt", check_real(self.dt, "dt", 0, lo_open=True))
        put("width", check_real(self.width, "width", 0, lo_open=True))
        put("roughness", check_real(self.roughness, "roughness", 0))
        put("train_fraction", check_real(self.train_fraction, "train_fraction", 0, 1))
        put("grains", tuple(check_int(g, "grains", 1) for g in check_pair(self.grains, "grains")))
        put("alpha_range", tuple(check_real(a, "alpha_range") for a in check_pair(self.alpha_range, "alpha_range")))
        if self.steps % self.save_every:
            raise ValueError(f"steps ({self.steps}) must be a multiple of save_every ({self.save_every})")
        if self.grains[0] > self.grains[1]:
            raise ValueError(f"grains must be (fewest, most) with fewest <= most, got {self.grains}")
        lo, hi = self.alpha_range
        if not 0 < lo <= hi:
            raise ValueError(f"alpha_range must satisfy 0 < low <= high, got {self.alpha_range}")
        heat.check_stability(-hi, self.dt, self.dx)

    @property
    def dt_save(self) -> float:
        """Time between saved frames."""
        return self.dt * self.save_every

    @property
    def frames(self) -> int:
        """Frames per simulation."""
        return self.steps // self.save_every + 1

    @property
    def simulations(self) -> int:
        return 2 * self.runs

    @property
    def train_runs(self) -> int:
        """Runs (pairs of simulations) in the training set."""
        return round(self.runs * self.train_fraction)


@dataclass
class Videos:
    """A stack of simulations.

    Attributes:
        frames: ``(sims, time, 1, n, n)`` float32 fields.
        alpha: ``(sims,)`` true transport coefficients (negative: diffusion).
        index: ``(sims,)`` simulation numbers in the full set.
        dt_save, dx: frame interval (time) and grid spacing (length).
    """

    frames: torch.Tensor
    alpha: torch.Tensor
    index: torch.Tensor
    dt_save: float
    dx: float

    def __post_init__(self) -> None:
        frames = finite_tensor(self.frames, "frames")
        if frames.dim() != 5 or frames.shape[2] != 1 or frames.shape[1] < 2:
            raise ValueError(f"frames must be shaped (sims, time >= 2, 1, n, n), got {tuple(frames.shape)}")
        for name in ("alpha", "index"):
            value = getattr(self, name)
            if not isinstance(value, torch.Tensor) or value.shape != (len(frames),):
                raise ValueError(f"{name} must be a tensor with one entry per simulation ({len(frames)}), got "
                                 f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}")
        check_finite(check_tensor(self.alpha, "alpha"), "alpha")
        self.dt_save, self.dx = check_real(self.dt_save, "dt_save", 0, lo_open=True), check_real(self.dx, "dx", 0, lo_open=True)

    @property
    def sign(self) -> torch.Tensor:
        """``(sims,)`` process type: -1 diffusion, +1 mobility."""
        return torch.sign(self.alpha)

    def __len__(self) -> int:
        return self.frames.shape[0]

    def subset(self, which) -> "Videos":
        """The simulations at positions ``which`` (an index tensor, list or slice)."""
        return Videos(self.frames[which], self.alpha[which], self.index[which], self.dt_save, self.dx)

    def every(self, k: int) -> "Videos":
        """Every ``k``-th frame: a coarser video with frame interval ``k dt_save``."""
        k = check_int(k, "k", 1)
        if (self.frames.shape[1] - 1) % k:
            raise ValueError(f"frame step {k} must divide the {self.frames.shape[1] - 1} frame intervals")
        return Videos(self.frames[:, ::k], self.alpha, self.index, self.dt_save * k, self.dx)


def check_config(cfg: object) -> HeatVideoConfig:
    """``cfg`` if it is a :class:`HeatVideoConfig`; ``TypeError`` otherwise."""
    if not isinstance(cfg, HeatVideoConfig):
        raise TypeError(f"cfg must be a HeatVideoConfig, got {type(cfg).__name__}")
    return cfg


class SimulationIndexError(IndexError, ValueError):
    """A simulation number outside the set (an ``IndexError``, and a ``ValueError`` like every bad argument)."""


def _run_settings(cfg: HeatVideoConfig, run: int) -> tuple[float, torch.Tensor]:
    """``(|alpha|, initial state (n, n) float64)`` of diffusion run ``run``, reproducibly."""
    gen = torch.Generator().manual_seed(cfg.seed * 100003 + run)
    lo, hi = cfg.alpha_range
    magnitude = lo + (hi - lo) * float(torch.rand((), generator=gen, device=gen.device, dtype=torch.float64))
    grains = int(torch.randint(cfg.grains[0], cfg.grains[1] + 1, (), generator=gen, device=gen.device))
    u0 = heat.voronoi_grains(cfg.n, cfg.dx, grains, cfg.width, cfg.roughness, generator=gen)
    return magnitude, u0


def _diffusion_runs(cfg: HeatVideoConfig, runs: list[int], device: torch.device | None = None) -> dict[int, torch.Tensor]:
    """Integrate several runs side by side (float64) on ``device``; returns ``{run: (time, n, n)
    float32}`` on the CPU."""
    device = device or torch.device("cpu")
    settings = [_run_settings(cfg, r) for r in runs]
    alpha = torch.tensor([-m for m, _ in settings], dtype=torch.float64, device=device)
    for a in alpha.tolist():
        heat.check_stability(a, cfg.dt, cfg.dx)
    u0 = torch.stack([u for _, u in settings]).to(device)
    solver = heat.HeatEuler(Grid((cfg.n, cfg.n), cfg.dx), cfg.dt, alpha)
    frames = rollout(solver, u0[:, None], cfg.steps, cfg.save_every)[:, :, 0]  # (runs, time, n, n)
    return {r: frames[i].float().cpu() for i, r in enumerate(runs)}


def _meta(cfg: HeatVideoConfig, run: int, process: int) -> dict:
    """The cache key of one simulation: everything that shapes it, and nothing else."""
    shaping = {k: v for k, v in asdict(cfg).items() if k not in ("runs", "train_fraction")}
    return {"generator": DATA_VERSION, **shaping, "run": run, "process": process}


def simulation(cfg: HeatVideoConfig, index: int, device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """Simulation ``index`` (see the module's ordering) from the cache, generating on a miss.

    Returns ``{"frames": (time, n, n) float32, "alpha", "dx", "dt", "dt_save", "run"}``
    (the last five are 0-d tensors: the metadata stored with the frames).
    """
    check_config(cfg)
    index = check_int(index, "index")
    if not 0 <= index < cfg.simulations:
        raise SimulationIndexError(f"index: simulation {index} is outside 0..{cfg.simulations - 1}")
    run, reversed_ = divmod(index, 2)
    diffusion = cached("heat-video", _meta(cfg, run, DIFFUSION),
                       lambda: _record(cfg, run, DIFFUSION, _diffusion_runs(cfg, [run], _device(device))[run]))
    if not reversed_:
        return diffusion
    return cached("heat-video", _meta(cfg, run, MOBILITY),
                  lambda: _record(cfg, run, MOBILITY, heat.time_reversed(diffusion["frames"])))


def _record(cfg: HeatVideoConfig, run: int, process: int, frames: torch.Tensor) -> dict[str, torch.Tensor]:
    magnitude, _ = _run_settings(cfg, run)
    return {
        "frames": frames.contiguous(),
        "alpha": torch.tensor(process * magnitude, device="cpu"),
        "dx": torch.tensor(cfg.dx, device="cpu"),
        "dt": torch.tensor(cfg.dt, device="cpu"),
        "dt_save": torch.tensor(cfg.dt_save, device="cpu"),
        "run": torch.tensor(run, device="cpu"),
    }


def _device(device: torch.device | str | None) -> torch.device:
    return as_device(device, "device") if device is not None else torch.device("cpu")


def heat_videos(cfg: HeatVideoConfig, which: str = "all", device: torch.device | str | None = None) -> Videos:
    """Load (and on first use generate) the simulations of ``cfg``.

    The initial grains are drawn on the CPU; the runs are integrated on ``device`` (default:
    the CPU) in float64 and stored as float32 on the CPU. The explicit stencil does the same
    operations on every device, so a GPU-made video matches a CPU-made one within 1e-6 (float64
    rounding, then the float32 conversion); ``benchmarks/gpu_check.py`` checks it. The cache
    key holds no device.

    Args:
        which: ``"all"``, ``"train"`` (the first ``train_fraction``) or ``"test"`` (the rest).
        device: where to integrate the runs that are not cached yet.

    Returns:
        :class:`Videos` with ``frames (sims, time, 1, n, n)``.

    Used in :ref:`05-safe-the-data`.
    """
    check_config(cfg)
    split = 2 * cfg.train_runs
    ranges = {"all": range(cfg.simulations), "train": range(split), "test": range(split, cfg.simulations)}
    check_choice(which, "which", tuple(ranges))
    if not ranges[which]:
        raise ValueError(f"which={which!r} holds no simulation: {cfg.runs} runs with train_fraction {cfg.train_fraction}")
    _generate_missing(cfg, device=_device(device))
    records = [simulation(cfg, i) for i in ranges[which]]
    return Videos(
        frames=torch.stack([r["frames"] for r in records]).unsqueeze(2),
        alpha=torch.stack([r["alpha"] for r in records]).float(),
        index=torch.tensor(list(ranges[which]), device="cpu"),
        dt_save=cfg.dt_save,
        dx=cfg.dx,
    )


def _generate_missing(cfg: HeatVideoConfig, batch: int = 10, device: torch.device | None = None) -> None:
    """Generate the uncached diffusion runs in batches (faster than one at a time)."""
    missing = [r for r in range(cfg.runs) if not is_cached("heat-video", _meta(cfg, r, DIFFUSION))]
    if not missing:
        return
    chunks = [missing[i:i + batch] for i in range(0, len(missing), batch)]
    for chunk in progress(chunks, desc=f"simulating {len(missing)} heat runs"):
        frames = _diffusion_runs(cfg, chunk, device)
        for r in chunk:
            cached("heat-video", _meta(cfg, r, DIFFUSION), lambda r=r: _record(cfg, r, DIFFUSION, frames[r]))
