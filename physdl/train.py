"""One fit loop for every chapter.

:func:`fit` runs ``steps`` optimisation steps of a loss given as a function of the step
index (the function draws its own mini-batch or collocation points). It shows a tqdm
progress bar, records the loss history, evaluates an optional validation metric, stops
early when that metric stalls, writes resumable checkpoints atomically, works with
closure-based optimisers such as L-BFGS, and stops with :class:`NonFiniteLossError` when
the loss, or the weights about to be checkpointed, turn NaN or infinite, leaving the last good
checkpoint in place and the model restored to it. A resumed run is bit-identical to an
uninterrupted one when the loss draws its randomness from the step (:mod:`physdl.sampling`).
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

from physdl import deprecation, distributed
from physdl.config import generator_device, progress_enabled
from physdl.io import atomic_save, remove_temporaries
from physdl.ops.checks import check_int, trusted
from physdl.ops.grid import finite_float


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


#: Version of the checkpoint layout written by :func:`fit`.
CHECKPOINT_FORMAT = 2
_CHECKPOINT_KEYS = ("format", "step", "model", "optimizer", "scheduler", "history", "best", "rng")


class CheckpointError(ValueError):
    """A checkpoint cannot be used: damaged, from another model or optimiser, or past the run."""


def _rng_state() -> dict:
    """The global random states a loss function might use (CPU, and CUDA when initialised)."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {"cpu": torch.random.get_rng_state(), "cuda": cuda}


def _set_rng_state(state: dict) -> None:
    torch.random.set_rng_state(state["cpu"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _state(model, optimizer, scheduler, history: History, step: int, best: dict) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": asdict(history),
        "best": best,
        "rng": _rng_state(),
    }


def non_finite_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None) -> str | None:
    """The name of the first parameter, buffer or optimiser-state tensor holding NaN or
    infinity, or ``None`` when all are finite (one host synchronisation)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}")
    named = [(f"model {k}", v) for k, v in model.state_dict().items()]
    if optimizer is not None:
        for i, state in enumerate(optimizer.state.values()):
            named += [(f"optimizer state {i} {k}", v) for k, v in state.items()]
    floats = [(name, v) for name, v in named if torch.is_tensor(v) and v.is_floating_point()]
    if not floats:
        return None
    flags = torch.stack([torch.isfinite(v).all().to("cpu") for _, v in floats])
    bad = (~flags).nonzero()
    return floats[int(bad[0])][0] if len(bad) else None


def load_checkpoint(path: str | os.PathLike, model: torch.nn.Module, optimizer=None, scheduler=None) -> dict:
    """Load a checkpoint written by :func:`fit` into ``model`` (and the optimiser, scheduler).

    Loading is safe (``weights_only=True``). Returns the raw checkpoint dict.

    Raises:
        CheckpointError: the file is damaged, is not a :func:`fit` checkpoint, or does not
            match ``model`` / ``optimizer`` / ``scheduler``; the message names the file and
            the mismatch.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a path, got {type(path).__name__}")
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch.load raises RuntimeError, EOFError or pickle errors on damage
        raise CheckpointError(f"checkpoint {path} is damaged ({type(err).__name__}: {err}); "
                              "delete it or pass resume=False to start afresh") from err
    missing = [k for k in ("step", "model", "optimizer", "history") if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise CheckpointError(f"{path} is not a checkpoint written by physdl.train.fit (missing {missing})")
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as err:
        raise CheckpointError(f"checkpoint {path} does not match the model: {err}") from err
    if optimizer is not None:
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"checkpoint {path} does not match the optimiser: {err}") from err
    if scheduler is not None:
        if ckpt.get("scheduler") is None:
            raise CheckpointError(f"checkpoint {path} holds no scheduler state, but a scheduler was given")
        scheduler.load_state_dict(ckpt["scheduler"])
    return ckpt


def _check_fit_arguments(model: object, loss_fn: object, optimizer: object, validate: object, scheduler: object,
                         flags: dict[str, object], checkpoint: object, desc: object) -> None:
    """The kinds of :func:`fit`'s arguments, checked before any work (``TypeError`` naming one)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    for fn, name in ((loss_fn, "loss_fn"), (validate, "validate")):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    if loss_fn is None:
        raise TypeError("loss_fn must be callable, got None")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"scheduler must be a learning-rate scheduler (with step()), got {type(scheduler).__name__}")
    for name, flag in flags.items():
        if not isinstance(flag, bool) and not (name == "progress" and flag is None):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a path or None, got {type(checkpoint).__name__}")
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {type(desc).__name__}")


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
    sync_every: int = 1,
) -> History:
    """Minimise ``loss_fn(step)`` over ``model``'s parameters for ``iterations`` optimiser iterations.

    Args:
        model: the module whose parameters ``optimizer`` updates (any state to checkpoint).
        loss_fn: returns the scalar training loss for step ``i``. It should draw its batch,
            augmentation and noise from ``i`` alone (:mod:`physdl.sampling`), so that a resumed
            run is bit-identical to an uninterrupted one; draws from torch's global generator
            are restored from the checkpoint as well.
            Under ``torchrun`` it returns the weighted loss of this rank's slice of the global
            batch (:func:`physdl.distributed.local_batch`); ``fit`` then averages losses and
            gradients over the ranks, broadcasts buffers from rank 0, and lets only rank 0
            write checkpoints and show the progress bar. ``validate`` is averaged over the ranks.
        optimizer: a torch optimiser; L-BFGS and other closure-based ones are supported.
        iterations: total number of optimiser iterations (a resumed run continues up to this
            number); "steps" below are these iterations.
        scheduler: optional learning-rate scheduler, stepped once per step.
        validate: optional function returning a validation metric (lower is better),
            called with the model in eval mode every ``validate_every`` steps and after
            the last step (wrap its body in ``torch.no_grad()`` when it needs no gradient).
        patience: stop after this many validations without an improvement larger than
            ``min_delta``; ``None`` disables early stopping.
        restore_best: with ``validate``, load the best-validating weights at the end (the
            best weights so far are part of each checkpoint, so this holds across resumes).
        checkpoint: file for periodic checkpoints (every ``checkpoint_every`` steps and at
            the end); with ``resume`` an existing file is loaded and the run continues.
            Temporary files left in its folder by a killed write are removed at the start.
        progress: show a tqdm progress bar (default: :func:`physdl.config.progress_enabled`).
        sync_every: read the loss back to the host every this many steps (and at every
            validation, checkpoint and the last step) instead of every step, so that a GPU
            never waits for the host. The losses wait on the device; a NaN or Inf among them
            stops the run when they are read, naming its step. With ``sync_every > 1`` the
            steps after a non-finite loss are still taken (the weights may turn NaN): the
            model is restored from the last checkpoint, so pass ``checkpoint`` as well.
            Closure-based optimisers (L-BFGS) read the loss every step regardless.
        desc: label of the progress bar.

    Returns:
        The :class:`History` of the run.

    Raises:
        NonFiniteLossError: the loss, or a parameter or optimiser state before a checkpoint
            write, became NaN or infinite. The model is restored from the last checkpoint
            when there is one; that file is never overwritten with non-finite values.
        CheckpointError: the checkpoint to resume from is damaged, does not match, or is
            already past ``iterations``.

    Explained in :ref:`01-surrogates-training-on-the-data-set`.
    """
    _check_fit_arguments(model, loss_fn, optimizer, validate, scheduler,
                         {"restore_best": restore_best, "resume": resume, "progress": progress}, checkpoint, desc)
    steps = check_int(iterations, "iterations", 0)
    validate_every = check_int(validate_every, "validate_every", 1)
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", 1)
    sync_every = check_int(sync_every, "sync_every", 1)
    if patience is not None:
        patience = check_int(patience, "patience", 1)
    min_delta = finite_float(min_delta, "min_delta")
    if min_delta < 0:
        raise ValueError(f"min_delta must be non-negative, got {min_delta}")
    if progress is None:
        progress = progress_enabled()
    parallel = distributed.active()  # under torchrun: average gradients, rank 0 writes and shows
    progress = progress and distributed.is_main()
    history = History()
    start = 0
    best: dict = {"state": None, "bad_rounds": 0}
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None:
        if distributed.is_main():
            remove_temporaries(path)
        distributed.barrier()
    if path is not None and resume and path.exists():
        ckpt = load_checkpoint(path, model, optimizer, scheduler)
        start = int(ckpt["step"])
        if start > steps:
            raise CheckpointError(f"checkpoint {path} is at step {start}, past iterations={steps}; "
                                  f"pass iterations >= {start}, another checkpoint file, or resume=False")
        history = History(**ckpt["history"])
        if "best" in ckpt:
            best = ckpt["best"]
        if "rng" in ckpt:
            _set_rng_state(ckpt["rng"])
    history.start_step = start
    distributed.broadcast_state(model)
    last_good: int | None = start if path is not None and path.exists() else None
    closure_based = isinstance(optimizer, torch.optim.LBFGS) or getattr(optimizer, "closure_based", False)
    t0 = time.perf_counter()

    def run_validation(step: int) -> bool:
        """Record a validation value; return True when early stopping triggers."""
        value = float(distributed.mean_over_ranks(validate()) if parallel else validate())
        history.val_steps.append(step)
        history.val.append(value)
        if history.best_val is None or value < history.best_val - min_delta:
            history.best_val, history.best_step = value, step
            best["bad_rounds"] = 0
            if restore_best:
                best["state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            best["bad_rounds"] += 1
        return patience is not None and best["bad_rounds"] >= patience

    def stop_non_finite(what: str) -> NonFiniteLossError:
        bar.close()
        if last_good is not None:
            load_checkpoint(path, model, optimizer, scheduler)
            where = f"the model was restored from the last good checkpoint {path} (step {last_good})"
        else:
            where = "no checkpoint had been written (pass checkpoint= to keep one)"
        return NonFiniteLossError(f"{what}; training stopped and {where}. "
                                  "Lower the learning rate, clip gradients or check the inputs for NaN.")

    pending: list[torch.Tensor] = []  # losses of steps not yet read back (sync_every > 1)

    def read_losses(done: int) -> None:
        """Append the pending losses of the steps before ``done`` to the history (one sync)."""
        values = torch.stack(pending).tolist() if pending else []
        first_step = done - len(values)
        pending.clear()
        for k, value in enumerate(values):
            if not math.isfinite(value):
                raise stop_non_finite(f"loss became {value} at step {first_step + k}")
            history.loss.append(value)

    deferred = sync_every > 1 and not closure_based
    bar = tqdm(range(start, steps), desc=desc, disable=not progress, initial=start, total=steps)
    step = start
    for step in bar:
        model.train()
        if closure_based:
            first: list[torch.Tensor] = []

            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                with trusted():  # the loss is checked below: the ops inside skip their own checks
                    value = loss_fn(step)
                total = distributed.mean_over_ranks(value) if parallel else value
                if math.isfinite(total.item()):
                    value.backward()
                    distributed.average_gradients(model.parameters())
                if not first:
                    first.append(total.detach())
                return total

            optimizer.step(closure)
            loss = first[0]
        else:
            optimizer.zero_grad(set_to_none=True)
            with trusted():
                local = loss_fn(step)
            loss = distributed.mean_over_ranks(local) if parallel else local
            if deferred or math.isfinite(loss.item()):
                local.backward()
                distributed.average_gradients(model.parameters())
                optimizer.step()
        if parallel:
            distributed.broadcast_state(model, parameters=False)
        done = step + 1
        if deferred:
            pending.append(loss.detach())
            due = (done % sync_every == 0 or done == steps or (path is not None and done % checkpoint_every == 0)
                   or (validate is not None and done % validate_every == 0))
            if due:
                read_losses(done)
            value = history.loss[-1] if history.loss else math.nan
        else:
            value = loss.item()
            if not math.isfinite(value):
                raise stop_non_finite(f"loss became {value} at step {step}")
            history.loss.append(value)
        if scheduler is not None:
            scheduler.step()
        stop = False
        if validate is not None and (done % validate_every == 0 or done == steps):
            model.eval()
            stop = run_validation(done)
            bar.set_postfix(loss=f"{value:.3e}", val=f"{history.val[-1]:.3e}", refresh=False)
        elif done % 10 == 0:
            bar.set_postfix(loss=f"{value:.3e}", refresh=False)
        if path is not None and (done % checkpoint_every == 0 or done == steps or stop):
            bad = non_finite_state(model, optimizer)
            if bad is not None:
                since = f"after step {last_good}" if last_good is not None else "since the start"
                raise stop_non_finite(f"{bad} is not finite at step {done} (a gradient overflowed {since} "
                                      "although the loss stayed finite)")
            history.seconds = time.perf_counter() - t0
            if distributed.is_main():
                atomic_save(_state(model, optimizer, scheduler, history, done, best), path)
            distributed.barrier()
            last_good = done
        if stop:
            history.stopped_early = True
            break
    read_losses(step + 1 if steps > start else start)  # nothing is pending unless a loop ended early
    bar.close()
    history.seconds = time.perf_counter() - t0
    if restore_best and best["state"] is not None:
        model.load_state_dict(best["state"])
    model.eval()
    return history


def batches(n: int, batch_size: int, generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
    """Deprecated (goes in 0.3.0): :class:`physdl.sampling.EpochBatches`, a function of the step
    that needs no state in a checkpoint. Endless stream of index batches over ``range(n)``."""
    deprecation.warn_moved("physdl.train.batches", "physdl.sampling.EpochBatches")
    if n < 1 or batch_size < 1:
        raise ValueError(f"need n >= 1 and batch_size >= 1, got n={n}, batch_size={batch_size}")

    def stream() -> Iterator[torch.Tensor]:
        while True:
            order = torch.randperm(n, generator=generator, device=generator_device(generator))
            for i in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
                yield order[i : i + batch_size]

    return stream()


__getattr__ = deprecation.moved_attributes(__name__, {"progress": ("physdl.progress", "progress")})
