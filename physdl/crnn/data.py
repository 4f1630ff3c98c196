"""Training data for the Cahn-Hilliard CRNN: sequences of frames ``tau`` apart from the solver.

Each sequence starts from a periodic Perlin-noise state with its own mean and feature size
(the paper's recipe), is integrated with the explicit solver (``dt = 1.25e-3``, 400 steps per
frame for ``tau = 0.5``), and keeps ``frames`` frames from a random starting frame on, so
that some sequences begin at the noise and others in the coarsening stage.

Command line (generates and caches, prints the cache file)::

    python -m physdl.crnn.data --grid 32 --sequences 64 --frames 40
    python -m physdl.crnn.data --grid 64 --burn-in 60 --method semi-implicit --dt 0.025
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import asdict, dataclass, field

import torch

from physdl import cli, shards
from physdl.config import as_device, generator_device
from physdl.data import cache_path, cached
from physdl.pde.cahn_hilliard import (
    METHODS,
    CahnHilliard,
    SemiImplicitStepper,
    ellipsoid_state,
    perlin_state,
    reference,
    slab_state,
    stepper,
)
from physdl.ops.checks import check_bool, check_choice, check_int, check_pair, check_real, check_tensor
from physdl.pde.stepper import rollout
from physdl.progress import progress as progress_bar
from physdl.sampling import step_generator


#: Time step (time units) of the semi-implicit part of the burn-in.
_LATE_DT = 0.05


@dataclass(frozen=True)
class SequenceConfig:
    """How a set of sequences is made.

    Attributes:
        grid: points per axis of the solver grid (the paper: 64).
        dims: 2 or 3.
        sequences: number of sequences.
        frames: frames kept per sequence.
        max_start: the first kept frame is drawn uniformly from ``0 .. max_start``.
        tau: time between frames (time units).
        dt: solver time step.
        mean: centre and spread of the mean of phi (normal, clipped to ``mean_range``).
        cells: Perlin lattice cells per axis, drawn from this tuple.
        amplitude: standard deviation of the initial fluctuation.
        seed: random seed.
        batch: sequences integrated together.
        burn_in: time (units) run before the first frame, to start in the coarsening stage
            (explicit for 5 time units, then semi-implicit with ``dt = 0.05``; only the
            kept frames come from ``method``, the burn-in just makes a late state; with
            ``method="semi-implicit"`` the whole burn-in is semi-implicit).
        double: integrate in float64 (float32 otherwise; the data are stored in float32).
        method: the solver of the kept frames: ``"explicit"`` (the paper's) or
            ``"semi-implicit"`` (with ``dt``; much cheaper for large grids at late times,
            where the dynamics are slow and a step of a few hundredths is accurate).
        shapes: fraction of the sequences that start from a random shape
            (:func:`random_shape_state`: an ellipsoid, a few droplets or a slab, with a phase
            fraction drawn uniformly from ``mean_range``) instead of Perlin noise. At 0 (the
            default) the data set and its cache key are those made before this field existed.

    Used in :ref:`07-crnn-validation-against-the-solver`.
    """

    grid: int = 32
    dims: int = 3
    sequences: int = 64
    frames: int = 40
    max_start: int = 20
    tau: float = 0.5
    dt: float = 1.25e-3
    mean: tuple[float, float] = (0.5, 0.08)
    mean_range: tuple[float, float] = (0.3, 0.7)
    cells: tuple[int, ...] = (2, 4)
    amplitude: float = 0.2
    seed: int = 0
    batch: int = 16
    burn_in: float = 0.0
    double: bool = False
    method: str = "explicit"
    model: CahnHilliard = field(default_factory=CahnHilliard)
    shapes: float = 0.0

    def __post_init__(self) -> None:
        """Check every field and store numbers as plain ``int`` / ``float`` / tuples (a JSON cache key)."""
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name, least in (("grid", 4), ("sequences", 1), ("frames", 2), ("max_start", 0), ("batch", 1), ("seed", 0)):
            put(name, check_int(getattr(self, name), name, least))
        put("dims", check_int(self.dims, "dims", 2, 3))
        put("tau", check_real(self.tau, "tau", 0, lo_open=True))
        put("dt", check_real(self.dt, "dt", 0, self.tau, lo_open=True))
        put("burn_in", check_real(self.burn_in, "burn_in", 0))
        put("amplitude", check_real(self.amplitude, "amplitude", 0))
        put("mean", self._pair("mean", self.mean))
        put("mean_range", self._pair("mean_range", self.mean_range))
        if not 0 <= self.mean_range[0] <= self.mean_range[1] <= 1:
            raise ValueError(f"mean_range must be (low, high) with 0 <= low <= high <= 1, got {self.mean_range}")
        if self.mean[1] < 0:
            raise ValueError(f"mean must be (centre, spread) with spread >= 0, got {self.mean}")
        if isinstance(self.cells, (str, bytes)) or not hasattr(self.cells, "__len__") or not len(self.cells):
            raise ValueError(f"cells must be a non-empty tuple of positive integers, got {self.cells!r}")
        put("cells", tuple(check_int(c, "cells", 1, self.grid) for c in self.cells))
        if any(self.grid % c for c in self.cells):  # the Perlin lattice must tile the grid
            raise ValueError(f"cells must each divide grid = {self.grid}, got {self.cells}")
        put("double", check_bool(self.double, "double"))
        put("shapes", check_real(self.shapes, "shapes", 0, 1))
        if self.shapes and not 0 < self.mean_range[0] <= self.mean_range[1] < 1:
            raise ValueError(f"shapes > 0 needs a mean_range inside (0, 1) (the shapes' phase fractions), got {self.mean_range}")
        check_choice(self.method, "method", METHODS)
        if not isinstance(self.model, CahnHilliard):
            raise TypeError(f"model must be a CahnHilliard, got {type(self.model).__name__}")
        self.steps_per_frame  # noqa: B018  (tau must be a whole number of steps dt)
        if self.burn_in > 0 and self.tau < _LATE_DT:
            raise ValueError(f"burn_in needs tau >= {_LATE_DT} (the step of its late part), got tau = {self.tau}")

    @staticmethod
    def _pair(name: str, value: object) -> tuple[float, float]:
        low, high = check_pair(value, name)
        return (check_real(low, name), check_real(high, name))

    @property
    def steps_per_frame(self) -> int:
        steps = round(self.tau / self.dt)
        if abs(steps * self.dt - self.tau) > 1e-9 * self.tau:
            raise ValueError(f"tau = {self.tau} is not a whole number of steps dt = {self.dt}")
        return steps

    def as_dict(self) -> dict:
        """Every field, except ``shapes`` at its default 0 (so older cache keys stay valid)."""
        out = asdict(self)
        if not self.shapes:
            del out["shapes"]
        return out


def _check_config(config: object) -> SequenceConfig:
    if not isinstance(config, SequenceConfig):
        raise TypeError(f"config must be a SequenceConfig, got {type(config).__name__}")
    return config


def initial_states(config: SequenceConfig, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` Perlin states ``(count, 1, *space)`` with the config's spread of means and sizes.

    Used in :ref:`07-crnn-validation-against-the-solver`.
    """
    shape = (config.grid,) * config.dims
    means = (config.mean[0] + config.mean[1] * torch.randn(count, generator=generator, device=generator_device(generator), dtype=torch.float64))
    means = means.clamp(*config.mean_range)
    device = generator.device
    choice = torch.randint(len(config.cells), (count,), generator=generator, device=device)
    cells = torch.tensor(config.cells, device=device)[choice]
    states = [
        perlin_state(shape, means[i], int(cells[i]), config.amplitude, 1, generator, torch.float64)
        for i in range(count)
    ]
    states = torch.cat(states).clamp(0.0, 1.0)
    if config.shapes:  # drawn after the Perlin states, so shapes=0 leaves the set as it was
        chosen = torch.rand(count, generator=generator, device=device, dtype=torch.float64) < config.shapes
        for i in chosen.nonzero().flatten().tolist():
            states[i] = random_shape_state(shape, config.mean_range, generator, config.model.epsilon)[0]
    return states


def random_shape_state(shape: tuple[int, ...], fraction_range: tuple[float, float], generator: torch.Generator,
                       epsilon: float = 3.0) -> torch.Tensor:
    """A random shape on the periodic grid ``shape``: ``(1, 1, *shape)`` float64.

    One of, with equal chance: an ellipsoid with semi-axes in ratios 0.6 to 1.4 and a random
    centre (:func:`~physdl.pde.cahn_hilliard.ellipsoid_state`), two to four droplets at random
    centres, or a slab across a random axis (:func:`~physdl.pde.cahn_hilliard.slab_state`).
    Its phase fraction is drawn uniformly from ``fraction_range``; above 0.5 the shape is
    built with the other phase (``phi -> 1 - phi``), so the minority phase is always the shape.
    """
    low, high = check_pair(fraction_range, "fraction_range")
    if not 0 < low <= high < 1:
        raise ValueError(f"fraction_range must be (low, high) with 0 < low <= high < 1, got {fraction_range}")
    device = generator_device(generator)

    def uniform(k: int = 1) -> list[float]:
        return torch.rand(k, generator=generator, device=device, dtype=torch.float64).tolist()

    dims, cells = len(shape), math.prod(shape)
    fraction = low + (high - low) * uniform()[0]
    minority = min(fraction, 1 - fraction)
    unit_ball = math.pi if dims == 2 else 4 / 3 * math.pi
    kind = int(torch.randint(3, (1,), generator=generator, device=device))
    if kind == 0:
        ratios = [0.6 + 0.8 * r for r in uniform(dims)]
        scale = (minority * cells / (unit_ball * math.prod(ratios))) ** (1 / dims)
        radii = [min(scale * r, 0.48 * n) for r, n in zip(ratios, shape)]
        phi = ellipsoid_state(shape, radii, [n * c for n, c in zip(shape, uniform(dims))], epsilon, torch.float64)
    elif kind == 1:
        count = 2 + int(torch.randint(3, (1,), generator=generator, device=device))
        weights = [0.5 + w for w in uniform(count)]
        phi = torch.zeros((1, 1, *shape), dtype=torch.float64)
        for w in weights:
            radius = (minority * cells * w / sum(weights) / unit_ball) ** (1 / dims)
            centre = [n * c for n, c in zip(shape, uniform(dims))]
            phi = torch.maximum(phi, ellipsoid_state(shape, [radius] * dims, centre, epsilon, torch.float64))
    else:
        axis = int(torch.randint(dims, (1,), generator=generator, device=device))
        phi = slab_state(shape, max(minority * shape[axis], 1.0), axis, shape[axis] * uniform()[0], epsilon, torch.float64)
    return 1 - phi if fraction > 0.5 else phi


def _burn_in(phi0: torch.Tensor, frames: int, config: SequenceConfig, explicit_time: float,
             compile: bool = False) -> torch.Tensor:
    """The state after ``frames - 1`` intervals: explicit up to ``explicit_time``, then semi-implicit (dt 0.05)."""
    if explicit_time > 0:
        return reference(phi0, frames, config.tau, config.model, config.dt, switch_time=explicit_time,
                         dt_late=_LATE_DT, compile=compile)[:, -1]
    late = SemiImplicitStepper(tuple(phi0.shape[2:]), _LATE_DT, config.model)
    per_frame = round(config.tau / _LATE_DT)
    with torch.no_grad():
        return rollout(late, phi0, (frames - 1) * per_frame, check_every=per_frame,
                       include_initial=False, save_every=(frames - 1) * per_frame)[:, -1]


def generate(config: SequenceConfig, progress: bool = False,
             device: torch.device | str | None = None, compile: bool = False) -> dict[str, torch.Tensor]:
    """Integrate the sequences (no cache) on ``device`` (default: the CPU).

    ``compile`` runs the explicit solver through ``torch.compile``
    (:class:`~physdl.pde.cahn_hilliard.ExplicitStepper`): several times faster on a CPU, the
    same data up to rounding, so it is not part of the cache key.

    The initial states are drawn on the CPU, so a seed gives the same states everywhere. A
    set integrated on a GPU matches a CPU-made one within 1e-5 in phi (the two round
    differently at each step; in float64, ``config.double``, far less);
    ``benchmarks/gpu_check.py`` checks it. The cache key holds no device.

    Returns ``{"phi": (sequences, frames, 1, *space)}`` in float32 and ``{"start":
    (sequences,)}``, the index of each sequence's first frame, on the CPU.
    """
    _check_config(config)
    check_bool(progress, "progress")
    check_bool(compile, "compile")
    device = as_device(device, "device") if device is not None else torch.device("cpu")
    g = torch.Generator().manual_seed(config.seed)
    starts = torch.randint(config.max_start + 1, (config.sequences,), generator=g, device=g.device)
    phi0 = initial_states(config, config.sequences, g)
    return {"phi": _integrate(config, phi0, starts, device, config.batch, progress, compile), "start": starts}


def _integrate(config: SequenceConfig, phi0: torch.Tensor, starts: torch.Tensor, device: torch.device,
               batch: int, progress: bool = False, compile: bool = False) -> torch.Tensor:
    """The kept frames ``(n, frames, 1, *space)`` (float32, CPU) of the sequences from ``phi0``
    ``(n, 1, *space)``, each kept from its frame ``starts[i]``, integrated ``batch`` at a time
    (every sequence is integrated on its own: the batch only sets the memory)."""
    dtype = torch.float64 if config.double else torch.float32
    total = config.max_start + config.frames
    out = torch.empty((len(phi0), config.frames, *phi0.shape[1:]), dtype=torch.float32)
    for lo in progress_bar(range(0, len(phi0), batch), "sequences", enabled=progress):
        start = phi0[lo:lo + batch].to(device, dtype)
        if config.burn_in > 0:
            burn_frames = max(1, round(config.burn_in / config.tau)) + 1
            explicit_time = min(5.0, config.burn_in) if config.method == "explicit" else 0.0
            start = _burn_in(start, burn_frames, config, explicit_time, compile)
        solver = stepper(tuple(start.shape[2:]), config.dt, config.model, config.method, compile=compile)
        with torch.no_grad():
            chunk = rollout(solver, start, (total - 1) * config.steps_per_frame, config.steps_per_frame,
                            check_every=config.steps_per_frame)
        for j, s in enumerate(starts[lo:lo + batch].tolist()):
            out[lo + j] = chunk[j, s:s + config.frames].float().cpu()
        del chunk
    return out


#: Version of the generator of :func:`generate`, part of every cache key (a new version is a new data set).
DATA_VERSION = "cahn-hilliard-1"


def cache_key(config: SequenceConfig) -> dict:
    """The cache key of data set ``config``: the generator version and every field."""
    return {"generator": DATA_VERSION, **_check_config(config).as_dict()}


#: Version of the sharded Cahn-Hilliard data sets (:func:`write_shards`); a new one is a new data set.
SHARD_VERSION = "cahn-hilliard-shards-1"


def write_shards(config: SequenceConfig, folder: str | os.PathLike, sequences_per_shard: int = 8,
                 device: torch.device | str | None = None, progress: bool = False) -> shards.ShardedDataset:
    """Generate the data set ``config`` as shards of ``sequences_per_shard`` sequences in ``folder``.

    Shard ``k`` draws its initial states and first frames from ``(config.seed, k)``
    (:mod:`physdl.sampling`), so a shard is the same whether it is made first, after a
    restart, or on another machine; an interrupted generation resumes at the first missing
    shard (:func:`physdl.shards.write`). Sequences are integrated a few at a time so that the
    frames in flight stay below a third of a shard: peak memory is below two shards (the shard
    being filled and the rollout), whatever the size of the data set. The data differ from
    :func:`generate`'s for the same seed (another stream of draws), not in distribution.

    Returns the :class:`~physdl.shards.ShardedDataset`: ``"phi"`` rows ``(frames, 1, *space)``,
    ``"start"`` the index of each sequence's first kept frame.

    Used in :ref:`scale-training-at-scale`.
    """
    _check_config(config)
    per_shard = check_int(sequences_per_shard, "sequences_per_shard", 1)
    check_bool(progress, "progress")
    device = as_device(device, "device") if device is not None else torch.device("cpu")
    count = -(-config.sequences // per_shard)
    total = config.max_start + config.frames
    # a rollout holds its saved frames twice for a moment (the list and the stacked tensor): with
    # a third of a shard of frames in flight, generation holds the shard and 2/3 of one more
    batch = max(1, min(config.batch, per_shard * config.frames // (3 * total)))

    def make(k: int) -> dict[str, torch.Tensor]:
        n = min(per_shard, config.sequences - k * per_shard)
        g = step_generator(config.seed, k, "shard")
        starts = torch.randint(config.max_start + 1, (n,), generator=g, device=g.device)
        return {"phi": _integrate(config, initial_states(config, n, g), starts, device, batch), "start": starts}

    return shards.write(folder, config={**config.as_dict(), "sequences_per_shard": per_shard}, version=SHARD_VERSION,
                        count=count, make=make, progress=progress, description="shards")


def sequences(config: SequenceConfig = SequenceConfig(), progress: bool = False,
              device: torch.device | str | None = None, compile: bool = False) -> dict[str, torch.Tensor]:
    """The data set for ``config``, from the cache or generated on ``device`` (with a compiled
    solver if ``compile``) and cached (see :func:`generate` for how a GPU-made set compares)."""
    _check_config(config)
    return cached("cahn-hilliard-sequences", cache_key(config), lambda: generate(config, progress, device, compile))


def downsample(x: torch.Tensor, factor: int = 2, dims: int = 3) -> torch.Tensor:
    """Nearest-neighbour downsampling of the last ``dims`` axes by an integer ``factor``.

    Used in :ref:`07-crnn-validation-against-the-solver`.
    """
    check_tensor(x, "x")
    factor, dims = check_int(factor, "factor", 1), check_int(dims, "dims", 1, 3)
    if x.dim() < dims:
        raise ValueError(f"x has {x.dim()} axes, fewer than dims = {dims}")
    if any(n % factor for n in x.shape[-dims:]):
        raise ValueError(f"the grid {tuple(x.shape[-dims:])} is not divisible by {factor}")
    index = (Ellipsis, *[slice(None, None, factor)] * dims)
    return x[index]


def main(argv: list[str] | None = None) -> None:
    """Generate and cache one set of sequences; the defaults are the first training set of
    ``physdl.sizes.run("crnn-training")`` for the active profile (``PHYSDL_PROFILE``)."""
    from physdl import sizes

    parser = argparse.ArgumentParser(description="Generate and cache Cahn-Hilliard training sequences "
                                                 "(defaults: the first training set of the active profile).")
    defaults = sizes.run("crnn-training").data[0]
    parser.add_argument("--grid", type=cli.positive_int, default=defaults.grid)
    parser.add_argument("--dims", type=int, choices=(2, 3), default=defaults.dims)
    parser.add_argument("--sequences", type=cli.positive_int, default=defaults.sequences)
    parser.add_argument("--frames", type=cli.positive_int, default=defaults.frames)
    parser.add_argument("--max-start", type=cli.non_negative_int, default=defaults.max_start)
    parser.add_argument("--seed", type=cli.non_negative_int, default=defaults.seed)
    parser.add_argument("--batch", type=cli.positive_int, default=defaults.batch)
    parser.add_argument("--burn-in", type=cli.non_negative_float, default=defaults.burn_in)
    parser.add_argument("--method", choices=METHODS, default=defaults.method, help="solver of the kept frames")
    parser.add_argument("--dt", type=cli.positive_float, default=defaults.dt, help="solver time step")
    args = parser.parse_args(argv)
    try:
        config = SequenceConfig(grid=args.grid, dims=args.dims, sequences=args.sequences, frames=args.frames,
                                max_start=args.max_start, seed=args.seed, batch=args.batch,
                                burn_in=args.burn_in, method=args.method, dt=args.dt)
        config.steps_per_frame  # tau must be a whole number of solver steps
    except ValueError as err:
        parser.error(str(err))
    data = sequences(config, progress=True)
    print(f"{tuple(data['phi'].shape)} -> {cache_path('cahn-hilliard-sequences', cache_key(config))}")


if __name__ == "__main__":
    main()
