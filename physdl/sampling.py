"""Training randomness as a pure function of ``(seed, step)``.

Every random draw of a training step (batch selection, augmentation, input noise,
collocation points) comes from a generator made by :func:`step_generator` for that step,
or from a sampler object such as :class:`EpochBatches` that is itself a function of the
step. Nothing random is carried from one step to the next, so a checkpoint needs no
sampler or generator state, a run resumed at step ``k`` draws exactly what an uninterrupted
run draws at step ``k``, and several processes can each take their own slice of the same
global batch.

Seeds are mixed with NumPy's :class:`numpy.random.SeedSequence` (a maintained, well-tested
hash of integer entropy) rather than with ad-hoc arithmetic such as ``seed + step``, which
would give overlapping streams for ``(seed, step + 1)`` and ``(seed + 1, step)``.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch


def _check_index(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return int(value)


def step_seed(seed: int, step: int, stream: str = "") -> int:
    """A 64-bit seed for the draws named ``stream`` of training step ``step`` of run ``seed``.

    Distinct ``(seed, step, stream)`` triples give independent seeds; the same triple gives
    the same seed on every machine and in every process.
    """
    seed, step = _check_index("seed", seed), _check_index("step", step)
    if not isinstance(stream, str):
        raise TypeError(f"stream must be a string, got {type(stream).__name__}")
    words = np.random.SeedSequence([seed, step, zlib.crc32(stream.encode())]).generate_state(2, np.uint32)
    return int(words[0]) << 32 | int(words[1])


def step_generator(seed: int, step: int, stream: str = "",
                   device: torch.device | str | None = None) -> torch.Generator:
    """A fresh ``torch.Generator`` (on ``device``, default the CPU) seeded by :func:`step_seed`."""
    seed_value = step_seed(seed, step, stream)
    try:
        device = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be a torch.device or a device name such as 'cpu' or 'cuda', got {device!r}") from None
    return torch.Generator(device=device).manual_seed(seed_value)


class EpochBatches:
    """Index batches that sweep a shuffled ``range(n)`` once per epoch, as a function of the step.

    ``sampler(step)`` is the ``(batch_size,)`` int64 CPU tensor of indices of step ``step``:
    epoch ``e = step // per_epoch`` uses the permutation drawn from ``(seed, e)``, and the
    step takes its ``step % per_epoch``-th slice. With ``n < batch_size`` each step gets the
    whole shuffled set (``n`` indices). The sampler holds no state that a checkpoint would
    need; it only caches the permutation of the current epoch.
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0, stream: str = "batches") -> None:
        self.n = _check_index("n", n)
        self.batch_size = _check_index("batch_size", batch_size)
        if self.n < 1 or self.batch_size < 1:
            raise ValueError(f"need n >= 1 and batch_size >= 1, got n={n}, batch_size={batch_size}")
        self.seed = _check_index("seed", seed)
        if not isinstance(stream, str):
            raise TypeError(f"stream must be a string, got {type(stream).__name__}")
        self.stream = stream
        self._epoch: tuple[int, torch.Tensor] | None = None

    @property
    def per_epoch(self) -> int:
        """Batches per epoch (the last incomplete batch of an epoch is dropped)."""
        return max(self.n // self.batch_size, 1)

    def order(self, epoch: int) -> torch.Tensor:
        """The permutation ``(n,)`` of epoch ``epoch``."""
        epoch = _check_index("epoch", epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            gen = step_generator(self.seed, epoch, self.stream)
            self._epoch = (epoch, torch.randperm(self.n, generator=gen, device="cpu"))
        return self._epoch[1]

    def __call__(self, step: int) -> torch.Tensor:
        step = _check_index("step", step)
        epoch, slot = divmod(step, self.per_epoch)
        start = slot * self.batch_size
        return self.order(epoch)[start : start + self.batch_size]

    def __repr__(self) -> str:
        return f"EpochBatches(n={self.n}, batch_size={self.batch_size}, seed={self.seed}, stream={self.stream!r})"
