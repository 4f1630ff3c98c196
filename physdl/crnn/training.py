"""The training recipe of the Cahn-Hilliard CRNN, and its command line.

Following Lanzoni et al. (2024): sequences are downsampled by 2 (nearest), augmented by the
symmetries of the cube (90-degree rotations and reflections) and by ``phi -> 1 - phi``, and
the loss is the mean squared error over the predicted sequence. A curriculum starts with
teacher forcing (the network sees every true frame but the last) and ends in full
autoregressive rollout from the first frame. Adam, checkpoints, resumable.

Command line (writes the shippable weights and a JSON training log)::

    python -m physdl.crnn.training --out stage1.pt
    python -m physdl.crnn.training --init stage1.pt --steps 1600 --out physdl/crnn/weights/ch3d.pt

Under ``torchrun --nproc_per_node=N`` (or a multi-node rendezvous) the same commands train
data-parallel, one rank per GPU (:mod:`physdl.distributed`); ``--dry-run`` prints the sizes
of the run (:func:`plan`) without touching data.

The second command is the second stage (:func:`long_rollout_config`): it fine-tunes the first
stage's model on full rollouts of whole sequences.

The sizes of a run come from :func:`physdl.sizes.run` (``"crnn-training"``) for the profile in
``PHYSDL_PROFILE``: the paper's scale (1850 sequences of 50 frames at 64^3, about 50 h on one
GPU) is ``PHYSDL_PROFILE=paper``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from physdl import cli, deprecation, distributed, shards
from physdl.config import describe, generator_device, seed_everything
from physdl.config import device as pick_device
from physdl.crnn.data import SequenceConfig, cache_key, downsample, sequences, write_shards
from physdl.data import cache_path
from physdl.crnn.model import CRNNArchitecture, build
from physdl.io import atomic_save
from physdl.ops.checks import check_int, check_real
from physdl.sampling import step_generator
from physdl.train import fit


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a training run.

    Attributes:
        data: the training sequences: sets that start at the noise and sets that start in the
            coarsening stage (after a burn-in), so that late states are not out of distribution.
        validation: the validation sequences (other seeds), rolled out over all their frames.
        arch: the network.
        factor: downsampling factor of the solver grid (the paper: 2).
        window: frames per training sequence (windows drawn from the longer sequences).
        batch: sequences per step.
        steps: optimiser steps.
        curriculum: fraction of ``steps`` over which teacher forcing goes from
            ``window - 1`` frames down to 1 (full rollout from the first frame).
        lr, lr_final: Adam learning rate, decayed as a cosine to ``lr_final``.
        augment: use the cube symmetries and ``phi -> 1 - phi``.
        validate_every: steps between validations (full rollouts of the validation windows).
        mass_penalty: weight of a penalty on the change of the mean of phi (the paper adds
            one, weakly, to the loss of its non-conservative ablation).
        shards: a folder for the data as shards (``<shards>/train``, ``<shards>/validation``,
            written by :func:`physdl.crnn.data.write_shards` when missing), or ``"cache"`` for
            one in the data cache (:func:`shard_folder`): windows are then streamed from the
            files and no data set is held in memory. ``None``: the data cache, loaded whole
            (the small profiles; the paper profile streams).
        sequences_per_shard: sequences in each shard (with ``shards``).
        autocast: ``"bfloat16"`` runs the network's convolutions in bfloat16 under
            ``torch.autocast`` (the update of phi stays in float32:
            :attr:`physdl.crnn.model.ConservativeCRNN.autocast_dtype`); ``None``: float32.
        sync_every: read the loss back to the host every this many steps
            (:func:`physdl.train.fit`); the command line uses 50 on a GPU.
        compile: train through ``torch.compile`` of the network (the unrolled recurrence is
            traced once per window length and teacher-forcing depth; validation stays eager).
        input_noise: standard deviation of Gaussian noise added to every input frame during
            training, so that the network learns to correct small errors of its own rollouts.
        init: weights file (written by :func:`save_weights`) to start from instead of random
            weights: a second stage that fine-tunes a trained model, typically on longer
            windows without teacher forcing (:func:`long_rollout_config`).
        seed: random seed.
    """

    data: tuple[SequenceConfig, ...] = field(default_factory=lambda: (
        SequenceConfig(),
        SequenceConfig(sequences=32, seed=10, burn_in=50.0),
        SequenceConfig(sequences=32, seed=11, burn_in=250.0),
    ))
    validation: tuple[SequenceConfig, ...] = field(default_factory=lambda: (
        SequenceConfig(sequences=8, seed=1),
        SequenceConfig(sequences=8, seed=12, burn_in=150.0),
    ))
    arch: CRNNArchitecture = field(default_factory=CRNNArchitecture)
    factor: int = 2
    window: int = 16
    batch: int = 2
    steps: int = 2500
    curriculum: float = 0.5
    lr: float = 2e-3
    lr_final: float = 1e-5
    augment: bool = True
    validate_every: int = 250
    mass_penalty: float = 0.0
    input_noise: float = 0.005
    init: str | None = None
    seed: int = 0
    shards: str | None = None
    sequences_per_shard: int = 8
    autocast: str | None = None
    compile: bool = False
    sync_every: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "sync_every", check_int(self.sync_every, "sync_every", 1))
        if not isinstance(self.compile, bool):
            raise TypeError(f"compile must be True or False, got {self.compile!r}")
        if self.autocast not in (None, "bfloat16"):
            raise ValueError(f"autocast must be None or 'bfloat16', got {self.autocast!r}")
        if self.shards is not None:
            if not isinstance(self.shards, str) or not self.shards:
                raise TypeError(f"shards must be a folder name (str) or None, got {self.shards!r}")
            if len(self.data) != 1 or len(self.validation) != 1:
                raise ValueError("sharded training takes one training and one validation SequenceConfig")
        object.__setattr__(self, "sequences_per_shard", check_int(self.sequences_per_shard, "sequences_per_shard", 1))
        frames = min(d.frames for d in (*self.data, *self.validation))
        if self.window < 2 or self.window > frames:
            raise ValueError(f"window must be in [2, {frames}] (the frames of a sequence), got {self.window}")
        if len({(d.frames, d.grid, d.dims) for d in (*self.data, *self.validation)}) != 1:
            raise ValueError("all training and validation sets need the same frames, grid and dims")
        if not 0 <= self.curriculum <= 1:
            raise ValueError(f"curriculum must be a fraction in [0, 1], got {self.curriculum}")
        if self.steps < 1 or self.batch < 1:
            raise ValueError("steps and batch must be positive")


def paper_config() -> TrainingConfig:
    """Deprecated (goes in 0.3.0): ``physdl.sizes.run("crnn-training", "paper")``."""
    from physdl import sizes

    deprecation.warn_moved("crnn.training.paper_config()", 'physdl.sizes.run("crnn-training", "paper")')
    return sizes.run("crnn-training", "paper")


#: Mean compositions of the broad data: centre 0.5 with a wide spread, clipped to (0.05, 0.95).
BROAD_MEAN = {"mean": (0.5, 0.25), "mean_range": (0.05, 0.95)}


def equivariant_config(base: TrainingConfig = TrainingConfig(), share: float = 0.5) -> TrainingConfig:
    """The recipe of the long-horizon model of chapter 7: ``base`` with the equivariant
    :class:`physdl.crnn.model.PotentialCRNN` and data that cover what a user will run.

    Each of ``base``'s Perlin-noise sets keeps its seed and burn-in, with ``share`` of its
    sequences and mean compositions from 0.05 to 0.95 (:data:`BROAD_MEAN`) instead of 0.3 to
    0.7; a set of the size of the smallest starts from random shapes (ellipsoids, a few
    droplets, slabs: :func:`physdl.crnn.data.random_shape_state`), and the validation gains a
    shape set. The default ``share = 0.5`` keeps the solver's cost of making the data (the
    larger part of a CPU run's time) at about 60 % of the base recipe's. Far
    from the symmetric mixture the noise sets relax towards the homogeneous state instead of
    decomposing, and the shape sets hold single, nearly steady domains: both show the network
    states that barely move, which the noise near 0.5 never does.

    Explained in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    if not isinstance(base, TrainingConfig):
        raise TypeError(f"base must be a TrainingConfig, got {type(base).__name__}")
    share = check_real(share, "share", 0, 1, lo_open=True)

    def broad(d: SequenceConfig) -> SequenceConfig:
        return replace(d, sequences=max(1, round(share * d.sequences)), **BROAD_MEAN)

    data, validation = [broad(d) for d in base.data], [broad(d) for d in base.validation]
    smallest = min(data, key=lambda d: d.sequences)
    data.append(replace(smallest, seed=smallest.seed + 100, burn_in=0.0, shapes=1.0))
    validation.append(replace(validation[0], seed=validation[0].seed + 100, burn_in=0.0, shapes=1.0))
    return replace(base, arch=replace(base.arch, conservative=True, potential=True, symmetric=True),
                   data=tuple(data), validation=tuple(validation))


def long_rollout_config(init: str | os.PathLike, base: TrainingConfig = TrainingConfig(), steps: int = 1600,
                        lr: float = 5e-4) -> TrainingConfig:
    """The second stage: fine-tune ``init`` on full autoregressive rollouts of whole sequences.

    A model trained on short windows can fit them and still drift over long rollouts (its
    field creeps past 0 and 1 next to the interfaces). This stage trains on the longest
    windows the data hold, from their first frame, with no teacher forcing, at a lower rate.
    """
    frames = min(d.frames for d in (*base.data, *base.validation))
    return replace(base, init=str(init), window=frames, curriculum=0.0, steps=steps, lr=lr)


def teacher_frames(step: int, config: TrainingConfig) -> int:
    """True frames fed in at ``step``: ``window - 1`` at the start, 1 once the curriculum ends."""
    end = config.curriculum * config.steps
    if end <= 0 or step >= end:
        return 1
    return max(1, round((config.window - 1) - (config.window - 2) * step / end))


def augment(sequence: torch.Tensor, generator: torch.Generator | None = None, dims: int = 3) -> torch.Tensor:
    """A random symmetry of the problem applied to whole sequences.

    Each sample gets its own random permutation of the spatial axes, random flips of each
    axis (together: the 48 rotations and reflections of the cube in 3D) and, with
    probability 1/2, ``phi -> 1 - phi``. Each of these maps a Cahn-Hilliard solution on a
    periodic cube to another solution.

    Args:
        sequence: ``(batch, time, 1, *space)`` with equal sizes along the spatial axes.
    """
    if sequence.dim() != dims + 3:
        raise ValueError(f"expected (batch, time, 1, {dims} spatial axes), got {tuple(sequence.shape)}")
    if len(set(sequence.shape[3:])) != 1:
        raise ValueError(f"augmentation by axis permutations needs a cubic grid, got {tuple(sequence.shape[3:])}")
    out = []
    for sample in sequence:
        perm = torch.randperm(dims, generator=generator, device=generator_device(generator)).tolist()
        x = sample.permute(0, 1, *[2 + p for p in perm])
        flips = [2 + a for a in range(dims) if torch.rand((), generator=generator, device=generator_device(generator)) < 0.5]
        if flips:
            x = x.flip(flips)
        if torch.rand((), generator=generator, device=generator_device(generator)) < 0.5:
            x = 1 - x
        out.append(x)
    return torch.stack(out)


def _windows(phi: torch.Tensor, window: int, batch: int, generator: torch.Generator) -> torch.Tensor:
    idx = torch.randint(phi.shape[0], (batch,), generator=generator, device=generator_device(generator))
    start = torch.randint(phi.shape[1] - window + 1, (batch,), generator=generator, device=generator_device(generator))
    return torch.stack([phi[i, s:s + window] for i, s in zip(idx.tolist(), start.tolist())])


class StreamedSequences:
    """Sequences read from shards row by row and downsampled on the fly.

    ``source[i, a:b]`` is frames ``a..b-1`` of sequence ``i``, ``(b - a, 1, *space / factor)``;
    ``source.shape`` is that of the whole (never materialised) ``(sequences, frames, 1, *space)``.
    """

    def __init__(self, dataset: shards.ShardedDataset, factor: int, dims: int) -> None:
        self.dataset, self.factor, self.dims = dataset, factor, dims
        n, frames, channels, *space = dataset.shape("phi")
        self.shape = (n, frames, channels, *(m // factor for m in space))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: tuple[int, slice]) -> torch.Tensor:
        i, frames = key
        return downsample(self.dataset["phi", int(i), frames], self.factor, self.dims)

    def chunks(self, size: int):
        """The whole sequences, ``size`` at a time: ``(<= size, frames, 1, *space)`` tensors."""
        for lo in range(0, len(self), size):
            yield torch.stack([self[i, :] for i in range(lo, min(lo + size, len(self)))])


def shard_folder(config: TrainingConfig) -> Path:
    """Where ``config``'s shards live: ``config.shards``, or for ``"cache"`` a folder in the data
    cache named after the two data sets (:func:`physdl.data.cache_path`)."""
    if config.shards != "cache":
        return Path(config.shards)
    key = {"train": cache_key(config.data[0]), "validation": cache_key(config.validation[0]),
           "sequences_per_shard": config.sequences_per_shard}
    return cache_path("cahn-hilliard-shards", key).with_suffix("")


def _sharded(config: TrainingConfig, dims: int, progress: bool) -> tuple[StreamedSequences, StreamedSequences]:
    """Training and validation sequences streamed from ``config.shards`` (rank 0 writes missing shards)."""
    folder = shard_folder(config)
    if distributed.is_main():
        for part, data in (("train", config.data[0]), ("validation", config.validation[0])):
            write_shards(data, folder / part, config.sequences_per_shard, progress=progress)
    distributed.barrier()
    return tuple(StreamedSequences(shards.ShardedDataset(folder / part), config.factor, dims)
                 for part in ("train", "validation"))


def prepare(configs: tuple[SequenceConfig, ...] | SequenceConfig, factor: int, dims: int,
            progress: bool = False, compile_solver: bool = False) -> torch.Tensor:
    """Load (or generate, with a compiled solver if ``compile_solver``: see
    :func:`physdl.crnn.data.generate`) data sets, downsample and concatenate them:
    ``(sequences, frames, 1, *space)``."""
    configs = (configs,) if isinstance(configs, SequenceConfig) else configs
    return torch.cat([downsample(sequences(c, progress, compile=compile_solver)["phi"], factor, dims) for c in configs])


@dataclass
class TrainingResult:
    """What :func:`train` returns: the model, the history and the wall time."""

    model: torch.nn.Module
    history: object
    seconds: float
    config: TrainingConfig


def train(config: TrainingConfig = TrainingConfig(), checkpoint: str | os.PathLike | None = None,
          progress: bool | None = None, device: torch.device | None = None,
          checkpoint_every: int = 500, compile_solver: bool = False) -> TrainingResult:
    """Train the CRNN with the curriculum; resumes from ``checkpoint`` when it exists.

    Data sets missing from the cache are generated first, through a compiled solver if
    ``compile_solver`` (:func:`prepare`; not for sharded data).

    The best-validating weights are restored at the end (the paper also keeps the model
    with the lowest validation loss). Windows, augmentation and input noise of each step are
    drawn from ``(config.seed, step)`` (:mod:`physdl.sampling`), so a resumed run is
    bit-identical to an uninterrupted one. Under ``torchrun`` every rank draws the step's
    windows and trains on its slice of them (:mod:`physdl.distributed`), with the slice's rows
    of the whole batch's input noise: the run is the one-process run.
    """
    dev = device or pick_device()
    seed_everything(config.seed)
    dims = config.arch.dims
    if config.shards is not None:
        train_phi, val_phi = _sharded(config, dims, bool(progress))
        val_chunks = val_phi.chunks
    else:
        if not distributed.is_main():
            distributed.barrier()  # under torchrun rank 0 generates and caches the data; the others then load it
        train_phi = prepare(config.data, config.factor, dims, progress=bool(progress), compile_solver=compile_solver)
        val_phi = prepare(config.validation, config.factor, dims, progress=bool(progress), compile_solver=compile_solver)
        if distributed.is_main():
            distributed.barrier()
        val_windows = val_phi.to(dev)
        val_chunks = val_windows.split
    model = build(config.arch).to(dev)
    if config.autocast == "bfloat16":
        model.set_autocast(torch.bfloat16)
    if config.init is not None:
        start_model, start_config = load_weights(config.init)
        stored = asdict(CRNNArchitecture(**start_config["arch"]))  # fields added later take their defaults
        if stored != asdict(config.arch):
            raise ValueError(f"{config.init} holds a {stored} network, not {asdict(config.arch)}")
        model.load_state_dict(start_model.state_dict())
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps, eta_min=config.lr_final)
    network = torch.compile(model) if config.compile else model  # same weights; checkpoints hold `model`

    def loss_fn(step: int) -> torch.Tensor:
        gen = step_generator(config.seed, step, "windows")
        seq = _windows(train_phi, config.window, config.batch, gen)
        if config.augment:
            seq = augment(seq, gen, dims)
        rows = (len(seq), *distributed.shard(len(seq)).slice.indices(len(seq))[:2])
        seq, weight = distributed.local_batch(seq)  # this rank's windows under torchrun
        seq = seq.to(dev)
        noise = step_generator(config.seed, step, "input noise", device=seq.device) if config.input_noise else None
        pred = network(seq, teacher_frames(step, config), input_noise=config.input_noise, noise_generator=noise,
                       noise_rows=rows)
        loss = torch.mean((pred - seq[:, 1:]) ** 2)
        if config.mass_penalty:
            space = tuple(range(2, pred.dim()))
            loss = loss + config.mass_penalty * torch.mean((pred.mean(space) - seq[:, 1:].mean(space)) ** 2)
        return weight * loss

    @torch.no_grad()
    def validate() -> float:
        total = 0.0
        for chunk in val_chunks(8):
            chunk = chunk.to(dev)
            total += torch.sum(torch.mean((model(chunk, 1) - chunk[:, 1:]) ** 2, dim=tuple(range(1, chunk.dim())))).item()
        return total / val_phi.shape[0]

    start = time.perf_counter()
    history = fit(model, loss_fn, optimizer, config.steps, scheduler=scheduler, validate=validate,
                  validate_every=config.validate_every, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                  progress=progress, desc="CRNN", sync_every=config.sync_every)
    return TrainingResult(model, history, time.perf_counter() - start, config)


@dataclass(frozen=True)
class TrainingPlan:
    """What a training run will need, computed from its configuration (no data is touched).

    Attributes:
        ranks: processes (GPUs) the run is planned for.
        sequences, validation_sequences: training and validation sequences.
        frames, grid, network_grid, dims: frames per sequence; solver and network points per
            axis; spatial axes.
        disk_bytes: the cached data sets (float32 at the solver grid, training and validation).
        memory_bytes_per_rank: the data each rank holds while it trains (float32, at the
            network grid): both data sets when they come from the cache, one step's windows
            when they are streamed from shards.
        streamed: whether the data is streamed from shards (``config.shards``).
        solver_steps: explicit solver steps that generating the data takes (burn-in aside).
        global_batch, local_batch: windows per step, in all and on the busiest rank.
        steps: optimiser steps.
        seconds: estimated wall time, or ``None`` when no committed throughput measurement
            covers this configuration.
    """

    ranks: int
    sequences: int
    validation_sequences: int
    frames: int
    grid: int
    network_grid: int
    dims: int
    disk_bytes: int
    memory_bytes_per_rank: int
    solver_steps: int
    global_batch: int
    local_batch: int
    steps: int
    streamed: bool = False
    seconds: float | None = None

    def describe(self) -> str:
        """The plan as the lines ``--dry-run`` prints."""
        gb = 1e9
        return "\n".join([
            f"ranks: {self.ranks}",
            f"data: {self.sequences} training + {self.validation_sequences} validation sequences of {self.frames} "
            f"frames at {self.grid}^{self.dims} (network {self.network_grid}^{self.dims})",
            f"data on disk: {self.disk_bytes / gb:.1f} GB",
            f"data in memory per rank: {self.memory_bytes_per_rank / gb:.3g} GB"
            + (" (one step's windows, streamed from shards)" if self.streamed else " (both data sets, loaded whole)"),
            f"solver steps to generate: {self.solver_steps:.3g}",
            f"batch: {self.global_batch} windows per step, {self.local_batch} on the busiest rank; {self.steps} steps",
            "estimated wall time: " + ("unknown (no committed throughput measurement for this configuration)"
                                       if self.seconds is None else f"{self.seconds / 3600:.1f} h"),
        ])


def plan(config: TrainingConfig, ranks: int = 1) -> TrainingPlan:
    """The sizes of training ``config`` on ``ranks`` processes (:class:`TrainingPlan`).

    Used in :ref:`scale-training-at-scale`.
    """
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
    ranks = check_int(ranks, "ranks", 1)
    if config.batch < ranks:
        raise ValueError(f"a global batch of {config.batch} windows cannot give each of {ranks} ranks one: "
                         f"use a batch of at least {ranks} (--batch)")
    first = config.data[0]
    dims = first.dims
    train_n = sum(d.sequences for d in config.data)
    val_n = sum(d.sequences for d in config.validation)
    values = (train_n + val_n) * first.frames  # frames held, each one channel
    solver_steps = sum(d.sequences * (d.max_start + d.frames - 1) * d.steps_per_frame
                       for d in (*config.data, *config.validation))
    network = first.grid // config.factor
    local = -(-config.batch // ranks)
    held = local * config.window if config.shards is not None else values
    return TrainingPlan(ranks=ranks, sequences=train_n, validation_sequences=val_n, frames=first.frames,
                        grid=first.grid, network_grid=network, dims=dims, disk_bytes=4 * values * first.grid**dims,
                        memory_bytes_per_rank=4 * held * network**dims, solver_steps=solver_steps,
                        global_batch=config.batch, local_batch=local, steps=config.steps,
                        streamed=config.shards is not None)


def _config_dict(config: TrainingConfig) -> dict:
    return json.loads(json.dumps(asdict(config)))


def save_weights(result: TrainingResult, path: str | os.PathLike) -> Path:
    """Write the shippable file: weights (float32), architecture and training config.

    Also writes ``<path>.log.json`` with the loss and validation curves, the wall time and
    the machine. Load with :func:`load_weights`.
    """
    path = Path(path)
    state = {k: v.detach().float().cpu() for k, v in result.model.state_dict().items()}
    atomic_save({"model": state, "arch": asdict(result.config.arch), "config": _config_dict(result.config)}, path)
    h = result.history
    log = {
        "config": _config_dict(result.config),
        "seconds": result.seconds,
        "machine": describe(),
        "loss": h.loss,
        "val_steps": h.val_steps,
        "val": h.val,
        "best_val": h.best_val,
        "best_step": h.best_step,
    }
    if result.config.init is not None:
        earlier = Path(result.config.init).with_suffix(".log.json")
        log["previous_stage"] = json.loads(earlier.read_text()) if earlier.exists() else None
    log_path = path.with_suffix(".log.json")
    log_path.write_text(json.dumps(log, indent=1))
    return path


def load_weights(path: str | os.PathLike, device: torch.device | None = None) -> tuple[torch.nn.Module, dict]:
    """Load a file written by :func:`save_weights` safely (``weights_only=True``).

    Returns ``(model in eval mode, the stored training config as a dict)``.

    Used in :ref:`07-crnn-training-and-the-model-this-chapter-uses`.
    """
    blob = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "arch", "config"):
        if key not in blob:
            raise ValueError(f"{path} is not a CRNN weights file (no {key!r} entry)")
    model = build(CRNNArchitecture(**blob["arch"]))
    model.load_state_dict(blob["model"])
    return model.to(device or torch.device("cpu")).eval(), blob["config"]


def shipped_weights(name: str = "ch3d") -> Path:
    """Path of a weights file shipped with physdl (``physdl/crnn/weights/<name>.pt``).

    Used in :ref:`07-crnn-training-and-the-model-this-chapter-uses`.
    """
    path = Path(__file__).parent / "weights" / f"{name}.pt"
    if not path.exists():
        raise FileNotFoundError(f"no shipped CRNN weights named {name!r} at {path}")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the Cahn-Hilliard CRNN and write shippable weights.")
    parser.add_argument("--out", type=Path, required=True,
                        help="weights file to write (a .log.json is written beside it)")
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=cli.positive_int, help="override the number of optimiser steps")
    parser.add_argument("--non-conservative", action="store_true", help="train the ablation (sigmoid head)")
    parser.add_argument("--equivariant", action="store_true",
                        help="train the equivariant potential CRNN on the broad data (equivariant_config)")
    parser.add_argument("--init", type=cli.existing_file,
                        help="weights to fine-tune on full rollouts of whole sequences (second stage)")
    parser.add_argument("--lr", type=cli.positive_float, help="override the learning rate")
    parser.add_argument("--bf16", action="store_true",
                        help="run the network's convolutions in bfloat16 (the phi update stays float32)")
    parser.add_argument("--compile", action="store_true", help="train through torch.compile of the network")
    parser.add_argument("--compile-solver", action="store_true",
                        help="generate missing data through torch.compile of the explicit solver (several times faster on a CPU)")
    parser.add_argument("--shards", help="stream the data from shards in this folder (written when missing)")
    parser.add_argument("--batch", type=cli.positive_int,
                        help="override the global batch (windows per step, split over the ranks)")
    parser.add_argument("--checkpoint", help="resumable checkpoint (default: <out>.ckpt)")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0)
    parser.add_argument("--threads", type=cli.positive_int, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out and its log")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the data size on disk, the memory per rank and the wall time, and stop")
    args = parser.parse_args(argv)
    if args.scale is not None:
        parser.error("--scale is gone: the scale is the profile, e.g. PHYSDL_PROFILE=paper "
                     "(see physdl.sizes.run('crnn-training'))")
    cli.check_outputs(parser, [args.out, args.out.with_suffix(".log.json")], args.force)
    if args.init is not None:
        try:
            load_weights(args.init)
        except Exception as err:  # noqa: BLE001 - reported as a usage error, before any work
            parser.error(f"--init {args.init} is not a CRNN weights file: {err}")
    if args.threads:
        torch.set_num_threads(args.threads)
    from physdl import sizes

    config = sizes.run("crnn-training")
    config = replace(config, seed=args.seed)
    if args.non_conservative and args.equivariant:
        parser.error("--non-conservative and --equivariant exclude each other")
    if args.non_conservative:
        config = replace(config, arch=replace(config.arch, conservative=False), mass_penalty=1.0)
    if args.equivariant:
        config = equivariant_config(config)
    if args.init is not None:
        config = long_rollout_config(args.init, config)
    if args.lr is not None:
        config = replace(config, lr=args.lr)
    if args.steps is not None:
        config = replace(config, steps=args.steps)
    if args.batch is not None:
        config = replace(config, batch=args.batch)
    if args.shards is not None:
        config = replace(config, shards=args.shards)
    if args.bf16:
        config = replace(config, autocast="bfloat16")
    if args.compile:
        config = replace(config, compile=True)
    try:
        run_plan = plan(config, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError as err:
        parser.error(str(err))
    if args.dry_run:
        print(run_plan.describe())
        return
    distributed.init()  # under torchrun: one rank per GPU; nothing otherwise
    ckpt = args.checkpoint or str(Path(args.out).with_suffix(".ckpt"))
    device = distributed.local_device() if distributed.active() else None
    if (device or pick_device()).type == "cuda":
        config = replace(config, sync_every=50)  # the GPU never waits for the host's loss read
    result = train(config, checkpoint=ckpt, progress=True, device=device, compile_solver=args.compile_solver)
    if distributed.is_main():
        path = save_weights(result, args.out)
        print(f"wrote {path} after {result.seconds / 60:.1f} min; best validation MSE {result.history.best_val:.3g}")
    distributed.close()


if __name__ == "__main__":
    # run the importable module's main, so that its classes are the ones physdl.sizes builds
    from physdl.crnn.training import main as _main

    _main()
