"""One fit loop for every chapter.

:func:`fit` runs ``steps`` optimisation steps of a loss given as a function of the step
index (the function draws its own mini-batch or collocation points). It shows a tqdm
progress bar, records the loss history, evaluates an optional validation metric, stops
early when that metric stalls, writes resumable checkpoints atomically, works with
closure-based optimisers such as L-BFGS, and stops with :class:`NonFiniteLossError` when
the loss turns NaN or infinite, leaving the last good checkpoint in place and the model
restored to it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from physdl import deprecation
from physdl.config import generator_device, progress_enabled
from physdl.io import atomic_save


class NonFiniteLossError(RuntimeError):
    """Raised when the training loss becomes NaN or infinite."""


@dataclass
class History:
    """What a fit produced.

    Attributes:
        loss: training loss per step (all steps, including those before a resume).
        val_steps, val: validation metric and the step after which it was taken.
        seconds: wall time of the steps run in this call.
        start_step: the step this call started from (non-zero after a resume).
        stopped_early: whether early stopping ended the run.
        best_val, best_step: best validation value and its step (``None`` without validation).
    """

    loss: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    seconds: float = 0.0
    start_step: int = 0
    stopped_early: bool = False
    best_val: float | None = None
    best_step: int | None = None

    @property
    def steps(self) -> int:
        """Number of steps done in total."""
        return len(self.loss)


def _state(model, optimizer, scheduler, history: History, step: int) -> dict:
    return {
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": asdict(history),
    }


def load_checkpoint(path: str | os.PathLike, model: torch.nn.Module, optimizer=None, scheduler=None) -> dict:
    """Load a checkpoint written by :func:`fit` into ``model`` (and the optimiser, scheduler).

    Loading is safe (``weights_only=True``). Returns the raw checkpoint dict.
    """
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None and ckpt.get("scheduler") is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    return ckpt


def fit(
    model: torch.nn.Module,
    loss_fn: Callable[[int], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    iterations: int,
    *,
    scheduler=None,
    validate: Callable[[], float] | None = None,
    validate_every: int = 100,
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: bool = True,
    progress: bool | None = None,
    desc: str = "fit",
) -> History:
    """Minimise ``loss_fn(step)`` over ``model``'s parameters for ``iterations`` optimiser iterations.

    Args:
        model: the module whose parameters ``optimizer`` updates (any state to checkpoint).
        loss_fn: returns the scalar training loss for step ``i`` (it draws its own batch).
        optimizer: a torch optimiser; L-BFGS and other closure-based ones are supported.
        iterations: total number of optimiser iterations (a resumed run continues up to this
            number); "steps" below are these iterations.
        scheduler: optional learning-rate scheduler, stepped once per step.
        validate: optional function returning a validation metric (lower is better),
            called with the model in eval mode every ``validate_every`` steps and after
            the last step (wrap its body in ``torch.no_grad()`` when it needs no gradient).
        patience: stop after this many validations without an improvement larger than
            ``min_delta``; ``None`` disables early stopping.
        restore_best: with ``validate``, load the best-validating weights at the end.
        checkpoint: file for periodic checkpoints (every ``checkpoint_every`` steps and at
            the end); with ``resume`` an existing file is loaded and the run continues.
        progress: show a tqdm progress bar (default: :func:`physdl.config.progress_enabled`).
        desc: label of the progress bar.

    Returns:
        The :class:`History` of the run.

    Raises:
        NonFiniteLossError: the loss became NaN or infinite. The model is restored from
            the last checkpoint when there is one; the file is left untouched.

    Explained in :ref:`01-surrogates-training-on-the-data-set`.
    """
    if iterations < 0:
        raise ValueError(f"iterations must be non-negative, got {iterations}")
    steps = iterations
    if validate_every < 1 or checkpoint_every < 1:
        raise ValueError("validate_every and checkpoint_every must be at least 1")
    if progress is None:
        progress = progress_enabled()
    history = History()
    start = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and resume and path.exists():
        ckpt = load_checkpoint(path, model, optimizer, scheduler)
        start = int(ckpt["step"])
        history = History(**ckpt["history"])
    history.start_step = start
    last_good: int | None = start if path is not None and path.exists() else None
    closure_based = isinstance(optimizer, torch.optim.LBFGS)
    best_state = None
    bad_rounds = 0
    t0 = time.perf_counter()

    def run_validation(step: int) -> bool:
        """Record a validation value; return True when early stopping triggers."""
        nonlocal best_state, bad_rounds
        value = float(validate())
        history.val_steps.append(step)
        history.val.append(value)
        if history.best_val is None or value < history.best_val - min_delta:
            history.best_val, history.best_step = value, step
            bad_rounds = 0
            if restore_best:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad_rounds += 1
        return patience is not None and bad_rounds >= patience

    bar = tqdm(range(start, steps), desc=desc, disable=not progress, initial=start, total=steps)
    step = start
    for step in bar:
        model.train()
        if closure_based:
            first: list[torch.Tensor] = []

            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                value = loss_fn(step)
                if math.isfinite(value.item()):
                    value.backward()
                if not first:
                    first.append(value.detach())
                return value

            optimizer.step(closure)
            loss = first[0]
        else:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(step)
            if math.isfinite(loss.item()):
                loss.backward()
                optimizer.step()
        value = loss.item()
        if not math.isfinite(value):
            bar.close()
            if last_good is not None:
                load_checkpoint(path, model, optimizer, scheduler)
                where = f"the model was restored from the last good checkpoint {path} (step {last_good})"
            else:
                where = "no checkpoint had been written (pass checkpoint= to keep one)"
            raise NonFiniteLossError(
                f"loss became {value} at step {step}; training stopped and {where}. "
                "Lower the learning rate or check the inputs for NaN."
            )
        history.loss.append(value)
        if scheduler is not None:
            scheduler.step()
        done = step + 1
        stop = False
        if validate is not None and (done % validate_every == 0 or done == steps):
            model.eval()
            stop = run_validation(done)
            bar.set_postfix(loss=f"{value:.3e}", val=f"{history.val[-1]:.3e}", refresh=False)
        elif done % 10 == 0:
            bar.set_postfix(loss=f"{value:.3e}", refresh=False)
        if path is not None and (done % checkpoint_every == 0 or done == steps or stop):
            history.seconds = time.perf_counter() - t0
            atomic_save(_state(model, optimizer, scheduler, history, done), path)
            last_good = done
        if stop:
            history.stopped_early = True
            break
    bar.close()
    history.seconds = time.perf_counter() - t0
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def batches(n: int, batch_size: int, generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
    """Endless stream of index batches over ``range(n)``, reshuffled every epoch."""
    if n < 1 or batch_size < 1:
        raise ValueError(f"need n >= 1 and batch_size >= 1, got n={n}, batch_size={batch_size}")
    while True:
        order = torch.randperm(n, generator=generator, device=generator_device(generator))
        for i in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
            yield order[i : i + batch_size]


__getattr__ = deprecation.moved_attributes(__name__, {"progress": ("physdl.progress", "progress")})
