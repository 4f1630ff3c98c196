"""The solver interface: :class:`Stepper`, composed steppers, and :func:`rollout`, the one time loop.

A stepper is made once from a :class:`~physdl.ops.grid.Grid`, a time step ``dt`` and the
physics; its operators (stencils, Fourier symbols) are built then, and ``dt`` is checked
against :meth:`Stepper.stability_limit` then, with an error that names the bound. Called on a
state ``(batch, channel, *space)`` it returns the state one ``dt`` later. Learned models
subclass the same base from their own layer (the SAFE operator, the neural phase-field net,
the CRNN); those whose coefficients are trained are re-checked at every rollout, and a
recurrent model carries its hidden state through :meth:`Stepper.advance` (the *carry*).

:func:`rollout` runs any stepper for a number of solver steps and returns the saved frames
``(batch, time, channel, *space)``. Vocabulary used across physdl: *solver steps* (``steps``)
advance the state by ``dt``; ``save_every`` is the frame spacing in solver steps (a frame
interval of ``save_every * dt`` time units); *iterations* are optimiser updates.

This follows the stepper + rollout design of Exponax (Koehler et al., 2024).
"""

from __future__ import annotations

import abc
from contextlib import nullcontext
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

from physdl.ops.checks import check_int, check_tensor, trusted
from physdl.ops.grid import Grid, positive_float
from physdl.progress import progress as progress_bar


class Stepper(abc.ABC):
    """Advances a state ``(batch, channel, *space)`` by one time step ``dt``.

    Subclasses set ``grid`` (a :class:`Grid`, or ``None`` for learned models that apply to any
    grid size), ``dt`` (time units) and ``channels`` (``None``: any number), implement
    :meth:`step`, and override :meth:`stability_limit` when the scheme has one. A subclass
    calls :meth:`check_time_step` at the end of its constructor.

    Attributes:
        recheck_time_step: ``True`` for steppers whose coefficients change (trained
            parameters) or whose limit depends on the state: :func:`rollout` then checks
            ``dt`` again before it runs.
    """

    grid: Grid | None = None
    dt: float = 1.0
    channels: int | None = None
    recheck_time_step: bool = False

    # ------------------------------------------------------------------ to override
    @abc.abstractmethod
    def step(self, state: torch.Tensor) -> torch.Tensor:
        """The state one ``dt`` later, with the shape, dtype and device of ``state`` (tensor
        coefficients of other dtypes are cast to the state's)."""

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        """Largest stable ``dt`` (time units), or ``None`` where the scheme is unconditionally stable."""
        return None

    def limit_description(self) -> str:
        """The formula of :meth:`stability_limit`, quoted by the error when ``dt`` breaks it."""
        return "the scheme's stability bound"

    def init_carry(self, state: torch.Tensor) -> Any:
        """The carry a rollout starts with (a recurrent model's hidden state); ``None`` here."""
        return None

    def advance(self, state: torch.Tensor, carry: Any) -> tuple[torch.Tensor, Any]:
        """One step with a carry: ``(next state, next carry)``. Plain steppers pass it through."""
        return self.step(state), carry

    # ------------------------------------------------------------------ shared
    def __call__(self, state: torch.Tensor) -> torch.Tensor:
        """One step from ``state``, after :meth:`check_state` (shapes only: cheap). A rollout
        checks once and calls :meth:`step` directly."""
        self.check_state(state)
        return self.step(state)

    def check_time_step(self, state: torch.Tensor | None = None) -> None:
        """Raise ``ValueError`` naming the bound when ``dt`` exceeds :meth:`stability_limit`."""
        limit = self.stability_limit(state)
        if limit is not None and not self.dt <= limit * (1 + 1e-12):
            raise ValueError(
                f"{type(self).__name__}: dt = {self.dt:.4g} exceeds the stability limit {limit:.4g} "
                f"({self.limit_description()}); use dt <= {limit:.4g}"
            )

    def per_sample(self) -> dict[str, torch.Tensor]:
        """Coefficients with one value per sample (leading axis of size 1 or the batch), by name."""
        return {}

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        """Raise ``ValueError`` unless ``state`` fits this stepper's grid, channels and per-sample
        coefficients (no silent broadcast of a batch of 1 against a coefficient of 3 values)."""
        if self.grid is not None:
            self.grid.check_field(state, name, self.channels)
        else:
            check_tensor(state, name)
            if state.dim() < 3 or state.shape[0] == 0 or (self.channels is not None and state.shape[1] != self.channels):
                raise ValueError(f"{name} must be shaped (batch, {self.channels or 'channel'}, *space), "
                                 f"got {tuple(state.shape)}")
        for coefficient, values in self.per_sample().items():
            check_batch(state, values, coefficient, name)


def check_batch(state: torch.Tensor, values: object, name: str, state_name: str = "state") -> None:
    """Raise ``ValueError`` unless per-sample ``values`` (leading axis 1 or the batch) fit ``state``.

    ``state`` is ``(batch, channel, *space)``; ``values`` a number, a 0-d tensor (one value for
    all samples) or a tensor whose leading axis has size 1 or ``batch``. ``name`` and
    ``state_name`` are the words the error uses.
    """
    check_tensor(state, state_name)
    if state.dim() == 0:
        raise ValueError(f"{state_name} must have a batch axis, got a 0-d tensor")
    if isinstance(values, torch.Tensor) and values.dim() > 0 and values.shape[0] not in (1, state.shape[0]):
        raise ValueError(f"{name} holds {values.shape[0]} values, one per sample, but {state_name} has a batch "
                         f"of {state.shape[0]}")


def _same_dt(steppers: Sequence[Stepper], what: str) -> float:
    dts = [s.dt for s in steppers]
    if any(not math.isclose(dt, dts[0], rel_tol=1e-9) for dt in dts):
        raise ValueError(f"the steppers of a {what} must share one dt, got {dts}")
    return dts[0]


class Split(Stepper):
    """Operator splitting: the given steppers applied one after the other within one step.

    Lie splitting, first order in time. All parts share ``dt`` and the grid; the limit is the
    smallest of theirs.

    Explained in :ref:`04-burgers-dp-the-solver`.
    """

    def __init__(self, *parts: Stepper) -> None:
        if not parts:
            raise ValueError("Split needs at least one stepper")
        for i, part in enumerate(parts):
            _check_stepper(part, f"stepper {i}")
        self.parts = tuple(parts)
        self.dt = _same_dt(parts, "split")
        self.grid = parts[0].grid
        self.channels = parts[0].channels
        self.recheck_time_step = any(p.recheck_time_step for p in parts)

    def step(self, state: torch.Tensor) -> torch.Tensor:
        for part in self.parts:
            state = part.step(state)
        return state

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        for part in self.parts:
            part.check_state(state, name)

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        limits = [p.stability_limit(state) for p in self.parts]
        limits = [lim for lim in limits if lim is not None]
        return min(limits) if limits else None

    def limit_description(self) -> str:
        return "; ".join(p.limit_description() for p in self.parts if p.stability_limit() is not None)


class Substepped(Stepper):
    """``substeps`` steps of ``inner`` as one step of length ``substeps * inner.dt``."""

    def __init__(self, inner: Stepper, substeps: int) -> None:
        _check_stepper(inner, "inner")
        self.inner, self.substeps = inner, check_int(substeps, "substeps", 1)
        self.dt = inner.dt * substeps
        self.grid, self.channels = inner.grid, inner.channels
        self.recheck_time_step = inner.recheck_time_step

    def step(self, state: torch.Tensor) -> torch.Tensor:
        return self.advance(state, self.inner.init_carry(state))[0]

    def init_carry(self, state: torch.Tensor) -> Any:
        return self.inner.init_carry(state)

    def advance(self, state: torch.Tensor, carry: Any) -> tuple[torch.Tensor, Any]:
        frames, carry = rollout(self.inner, state, self.substeps, save_every=self.substeps, carry=carry,
                                include_initial=False, check_finite=False, return_carry=True)
        return frames[:, -1], carry

    def check_time_step(self, state: torch.Tensor | None = None) -> None:
        self.inner.check_time_step(state)

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        self.inner.check_state(state, name)


class Switched(Stepper):
    """Steppers that take over from each other in time: ``[(first, n1), (second, n2), ..., (last, None)]``.

    The first runs for ``n1`` steps, the second for ``n2``, and so on; the last one (count
    ``None``) runs from then on. All share ``dt`` (wrap them in :class:`Substepped` to match
    frame intervals). The step count travels in the carry, so a rollout can be continued.
    """

    def __init__(self, schedule: Sequence[tuple[Stepper, int | None]]) -> None:
        if not schedule or schedule[-1][1] is not None:
            raise ValueError("the schedule must end with (stepper, None), the stepper that runs to the end")
        schedule = [(_check_stepper(s, f"stepper {i} of the schedule"),
                     None if i == len(schedule) - 1 else check_int(n, f"the step count of stepper {i} of the schedule", 0))
                    for i, (s, n) in enumerate(schedule)]
        self.schedule = tuple(schedule)
        steppers = [s for s, _ in schedule]
        self.dt = _same_dt(steppers, "switch")
        self.grid, self.channels = steppers[0].grid, steppers[0].channels
        self.recheck_time_step = any(s.recheck_time_step for s in steppers)
        self._ends = []
        total = 0
        for _, n in schedule[:-1]:
            total += n
            self._ends.append(total)

    def _active(self, count: int) -> Stepper:
        for (stepper, _), end in zip(self.schedule, self._ends):
            if count < end:
                return stepper
        return self.schedule[-1][0]

    def step(self, state: torch.Tensor) -> torch.Tensor:
        return self.advance(state, self.init_carry(state))[0]

    def init_carry(self, state: torch.Tensor) -> Any:
        return (0, None)

    def advance(self, state: torch.Tensor, carry: Any) -> tuple[torch.Tensor, Any]:
        count, inner = carry
        stepper = self._active(count)
        previous = self._active(count - 1) if count else None
        if stepper is not previous:
            inner = stepper.init_carry(state)
        state, inner = stepper.advance(state, inner)
        return state, (count + 1, inner)

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        limits = [s.stability_limit(state) for s, _ in self.schedule]
        limits = [lim for lim in limits if lim is not None]
        return min(limits) if limits else None

    def check_time_step(self, state: torch.Tensor | None = None) -> None:
        for stepper, _ in self.schedule:
            stepper.check_time_step(state)

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        for stepper, _ in self.schedule:
            stepper.check_state(state, name)


def _check_stepper(s: object, name: str) -> Stepper:
    if not isinstance(s, Stepper):
        raise TypeError(f"{name} must be a Stepper, got {type(s).__name__}")
    return s


def saved_steps(steps: int, save_every: int = 1, keep_last: bool = False, include_initial: bool = True) -> list[int]:
    """Solver-step index of each frame :func:`rollout` returns for these settings."""
    steps, save_every = check_int(steps, "steps", 0), check_int(save_every, "save_every", 1)
    kept = [k for k in range(1, steps + 1) if k % save_every == 0 or (keep_last and k == steps)]
    return ([0] if include_initial else []) + kept


def _check_finite(state: torch.Tensor, where: str) -> None:
    if not bool(torch.isfinite(state).all()):
        raise FloatingPointError(f"the rollout state is not finite {where}; reduce dt or check the input")


def rollout(
    stepper: Stepper,
    state: torch.Tensor,
    steps: int,
    save_every: int = 1,
    *,
    carry: Any = None,
    teacher: torch.Tensor | None = None,
    input_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    include_initial: bool = True,
    keep_last: bool = False,
    checkpoint_every: int | None = None,
    check_finite: bool = True,
    check_every: int | None = None,
    progress: bool | None = False,
    description: str | None = None,
    return_carry: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, Any]:
    """Run ``stepper`` for ``steps`` solver steps and return the saved frames.

    Differentiable when gradients are enabled (wrap in ``torch.no_grad()`` otherwise) and
    traceable by ``torch.compile``.

    Args:
        stepper: any :class:`Stepper`.
        state: initial state ``(batch, channel, *space)``.
        steps: number of solver steps (each ``stepper.dt``).
        save_every: frame spacing in solver steps; frames are kept after every multiple of it.
        carry: carry to continue from (default: ``stepper.init_carry(state)``).
        teacher: teacher forcing, ``(batch, k, channel, *space)``: the input of step ``i``
            (counting from 0) is ``teacher[:, i]`` for ``i < k`` instead of the current state.
        input_transform: applied to the input of every step (for example training noise).
        include_initial: put ``state`` first in the output.
        keep_last: also keep the final state when ``steps`` is not a multiple of ``save_every``.
        checkpoint_every: with gradients enabled, recompute the activations of each segment of
            this many steps in the backward pass instead of storing them (activation
            checkpointing: memory of one segment, one extra forward pass). Carry-free steppers only.
        check_finite: raise ``FloatingPointError`` if the state is not finite at the start or
            the end (skipped under ``torch.compile``; each check is one host synchronisation).
        check_every: also check finiteness every this many steps.
        progress: show a progress bar over the steps (``None``: as :func:`physdl.config.progress_enabled`).
        description: the progress bar's label (default: the stepper's class name).
        return_carry: also return the final carry.

    Returns:
        ``(batch, time, channel, *space)`` with the frames of :func:`saved_steps`; plus the final
        carry when ``return_carry``.

    Explained in :ref:`03-advection-the-scheme`.

    Used in :ref:`04-burgers-dp-the-solver`, :ref:`06-neuradiff-the-phase-field-model-of-voids`,
    :ref:`07-crnn-cahn-hilliard-flow`.
    """
    _check_stepper(stepper, "stepper")
    steps, save_every = check_int(steps, "steps", 0), check_int(save_every, "save_every", 1)
    if checkpoint_every is not None:
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", 1)
    if check_every is not None:
        check_every = check_int(check_every, "check_every", 1)
    stepper.check_state(state)
    if stepper.recheck_time_step:
        stepper.check_time_step(state)
    compiling = torch.compiler.is_compiling()
    checking = check_finite and not compiling
    if checking and not bool(torch.isfinite(state).all()):
        raise ValueError("state contains NaN or Inf at the start of the rollout; physdl needs finite input")
    carry = stepper.init_carry(state) if carry is None else carry
    if teacher is not None and (teacher.dim() != state.dim() + 1 or teacher.shape[0] != state.shape[0]):
        raise ValueError(f"teacher must be (batch, frames, channel, *space) matching state {tuple(state.shape)}, "
                         f"got {tuple(teacher.shape)}")
    segmented = checkpoint_every is not None and torch.is_grad_enabled() and not compiling
    if segmented and (carry is not None or teacher is not None or input_transform is not None):
        raise ValueError("checkpoint_every supports carry-free steppers without teacher forcing or input_transform")

    def keep(k: int) -> bool:
        return k % save_every == 0 or (keep_last and k == steps)

    # The steps run trusted: the ops they call skip their own finiteness checks (one host
    # synchronisation each); the rollout checks its state at the ends and every check_every steps.
    with nullcontext() if compiling else trusted():  # a ContextVar would break a compiled graph
        frames = [state] if include_initial else []
        counter = range(steps)
        if progress is not False and not compiling:
            counter = progress_bar(counter, description or type(stepper).__name__, enabled=progress)
        if segmented:
            def segment(start: int, stop: int, s: torch.Tensor) -> tuple[torch.Tensor, ...]:
                kept = []
                with trusted():  # the backward pass recomputes the segment: the same ops both times
                    for k in range(start, stop):
                        s, _ = stepper.advance(s, None)
                        if keep(k + 1):
                            kept.append(s)
                return (s, *kept)

            k = 0
            while k < steps:
                stop = min(k + checkpoint_every, steps)
                out = checkpoint(segment, k, stop, state, use_reentrant=False)
                state, kept = out[0], out[1:]
                frames.extend(kept)
                if hasattr(counter, "update"):
                    counter.update(stop - k)
                k = stop
        else:
            advance = stepper.advance
            plain = teacher is None and input_transform is None
            for k in counter:
                if plain:
                    state, carry = advance(state, carry)
                else:
                    inp = teacher[:, k] if teacher is not None and k < teacher.shape[1] else state
                    state, carry = advance(input_transform(inp) if input_transform is not None else inp, carry)
                if (k + 1) % save_every == 0 or (keep_last and k + 1 == steps):
                    frames.append(state)
                if checking and check_every and (k + 1) % check_every == 0:
                    _check_finite(state, f"after step {k + 1}")
        if hasattr(counter, "close"):
            counter.close()
    if checking and steps:
        _check_finite(state, f"after step {steps}")
    if not frames:
        raise ValueError(f"no frame to return: steps={steps}, save_every={save_every}, include_initial=False")
    out = torch.stack(frames, dim=1)
    return (out, carry) if return_carry else out


def as_dt(dt: object) -> float:
    """A positive finite time step from a number, a NumPy scalar or a 0-d tensor."""
    return positive_float(dt, "dt")
