"""Data-parallel training on several processes: ``torchrun`` and :mod:`torch.distributed`.

A physdl training runs unchanged as one process or under
``torchrun --nproc_per_node=N`` (one node) or a multi-node rendezvous: every rank builds the
same global batch of step ``i`` from ``(seed, i)`` (:mod:`physdl.sampling`), takes its own
contiguous slice with :func:`local_batch`, and :func:`physdl.train.fit` averages the
gradients over the ranks, so each step is the step of one process on the whole batch.

Why :func:`physdl.train.fit` averages the gradients itself rather than wrapping the model in
``torch.nn.parallel.DistributedDataParallel``: physdl's loss functions call the model they
were given (``loss_fn(step)``), and the DDP wrapper only synchronises gradients when its own
``forward`` runs. Averaging the flattened gradients with one ``all_reduce`` after each
backward pass is what DDP does (without its overlap of communication and computation), and
it keeps checkpoints free of the ``module.`` prefix, so they load in a single process and
resume on any number of ranks.

Outside ``torchrun`` (no ``WORLD_SIZE`` in the environment) every function here is the
single-process identity: :func:`world_size` is 1 and :func:`local_batch` returns the batch.

Explained in :ref:`scale-training-at-scale`.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from physdl.ops.checks import check_choice, check_int, check_tensor

__all__ = ["BACKENDS", "Shard", "active", "average_gradients", "barrier", "broadcast_state", "close", "init",
           "is_main", "local_batch", "local_device", "mean_over_ranks", "rank", "shard", "world_size"]

#: Process-group backends: NCCL for CUDA devices, gloo for CPUs.
BACKENDS = ("nccl", "gloo")


def active() -> bool:
    """Whether a process group of more than one rank is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Number of ranks (1 outside a process group)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank (0 outside a process group)."""
    return _current_rank()


def _current_rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """Whether this rank writes checkpoints, logs and progress bars (rank 0)."""
    return rank() == 0


def init(backend: str | None = None) -> bool:
    """Join the process group that ``torchrun`` describes in the environment.

    Does nothing (and returns ``False``) without ``WORLD_SIZE`` or with ``WORLD_SIZE=1``.
    The default backend is NCCL where CUDA is available and gloo otherwise; with CUDA each
    rank takes the device ``LOCAL_RANK``. Returns whether a process group is running.
    """
    if backend is not None:
        check_choice(backend, "backend", BACKENDS)
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return False
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend or ("nccl" if cuda else "gloo"))
    return True


def close() -> None:
    """Leave the process group, if one is running."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def local_device() -> torch.device:
    """``cuda:LOCAL_RANK`` where CUDA is available, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


@dataclass(frozen=True)
class Shard:
    """One rank's share of a global batch of ``size`` samples.

    Attributes:
        start, stop: the rank's contiguous range ``[start, stop)`` of the batch.
        weight: ``(stop - start) * ranks / size``. A rank multiplies the mean loss of its
            slice by it, so that the average over ranks of the weighted losses (and of their
            gradients) is the mean over the whole batch, also when the slices differ in size.
    """

    start: int
    stop: int
    weight: float

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


def shard(size: int, rank: int | None = None, ranks: int | None = None) -> Shard:
    """Rank ``rank``'s share of a global batch of ``size`` samples split over ``ranks`` ranks.

    The batch is cut into ``ranks`` contiguous pieces whose sizes differ by at most one (the
    first ``size % ranks`` ranks take one more). Defaults: this process's rank and the
    current number of ranks.

    Raises:
        ValueError: ``size < ranks`` (a rank would get no sample; use a larger global batch).
    """
    ranks = world_size() if ranks is None else check_int(ranks, "ranks", 1)
    rank_ = _current_rank() if rank is None else check_int(rank, "rank", 0, ranks - 1)
    size = check_int(size, "size", 1)
    if size < ranks:
        raise ValueError(f"a global batch of size={size} cannot give each of {ranks} ranks a sample; "
                         f"use a batch of at least {ranks}")
    base, extra = divmod(size, ranks)
    start = rank_ * base + min(rank_, extra)
    stop = start + base + (rank_ < extra)
    return Shard(start, stop, (stop - start) * ranks / size)


def local_batch(batch: torch.Tensor) -> tuple[torch.Tensor, float]:
    """This rank's slice of ``batch`` (along its first axis) and the loss weight of the slice.

    ``batch`` is the global batch of the step, the same on every rank (drawn from
    ``(seed, step)``). Returns ``(batch[start:stop], weight)`` (:func:`shard`); outside a
    process group, ``(batch, 1.0)``.
    """
    if not isinstance(batch, torch.Tensor) or batch.dim() == 0:
        raise TypeError(f"batch must be a tensor with a batch axis, got {type(batch).__name__}")
    if not active():
        return batch, 1.0
    piece = shard(len(batch))
    return batch[piece.slice], piece.weight


def average_gradients(parameters) -> None:
    """Replace each gradient by its mean over the ranks (one ``all_reduce`` of all of them).

    ``parameters`` is an iterable of tensors (``model.parameters()``); nothing happens outside
    a process group.
    """
    if isinstance(parameters, torch.Tensor) or not hasattr(parameters, "__iter__"):
        raise TypeError(f"parameters must be an iterable of tensors, got {type(parameters).__name__}")
    parameters = list(parameters)
    if not all(isinstance(p, torch.Tensor) for p in parameters):
        raise TypeError("parameters must be an iterable of tensors (model.parameters())")
    if not active():
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def mean_over_ranks(value: torch.Tensor | float) -> torch.Tensor:
    """The mean of a scalar over the ranks, as a 0-d tensor on ``value``'s device (CPU for a float).

    Non-finite values pass through: the caller (:func:`physdl.train.fit`) decides what a NaN
    loss means, and every rank must see the same one.
    """
    if isinstance(value, torch.Tensor):
        check_tensor(value, "value")
        if value.numel() != 1:
            raise ValueError(f"value must be a scalar, got a tensor of shape {tuple(value.shape)}")
        tensor = value.detach().reshape(()).clone()
    else:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"value must be a real number or a 0-d tensor, got {type(value).__name__}")
        tensor = torch.tensor(float(value), dtype=torch.float64)
    if active():
        dist.all_reduce(tensor)
        tensor /= world_size()
    return tensor


def broadcast_state(module: torch.nn.Module, parameters: bool = True) -> None:
    """Copy rank 0's parameters (unless ``parameters`` is false) and buffers to every rank.

    With parameters: the start of data-parallel training. Buffers alone: after each step, as
    DDP does, so that running statistics (BatchNorm) stay those of rank 0 on every rank.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(parameters, bool):
        raise TypeError(f"parameters must be True or False, got {parameters!r}")
    if not active():
        return
    with torch.no_grad():
        for tensor in [*(module.parameters() if parameters else ()), *module.buffers()]:
            dist.broadcast(tensor.data, 0)


def barrier() -> None:
    """Wait for every rank (nothing outside a process group)."""
    if active():
        dist.barrier()
