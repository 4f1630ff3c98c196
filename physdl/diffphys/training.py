"""Fitting through a solver: the unrolled losses, their gradient steps and the fits."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from physdl.diffphys.model import InitialStateNet, check_states, final_state
from physdl.ops.checks import check_bool, check_int, check_real, finite_tensor
from physdl.ops.grid import Grid, as_boundary, positive_float
from physdl.pde import advection, burgers
from physdl.pde.stepper import Stepper
from physdl.sampling import step_generator
from physdl.train import History, NonFiniteLossError, fit


def fit_velocity(d0: torch.Tensor, target: torch.Tensor, u_init: torch.Tensor, dt: float, dx: float,
                 steps: int, iterations: int, lr: float = 0.01, momentum: float = 0.9,
                 bc: str = "periodic", progress: bool | None = None) -> tuple[torch.Tensor, History]:
    """Gradient descent (with momentum) on ``u`` to minimise ``sum (d^N - target)^2``.

    ``d0``, ``target`` and ``u_init`` are vectors ``(n,)``. After every update ``u`` is clipped
    to the CFL bound ``|u| <= dx / dt``, so the solver stays stable while it is optimised.
    Returns the velocity found and the loss history.

    Used in :ref:`03-advection-recovering-a-velocity-field`.
    """
    for name, v in (("d0", d0), ("target", target), ("u_init", u_init)):
        if finite_tensor(v, name).dim() != 1 or len(v) < 2:
            raise ValueError(f"{name} must be a vector (n,) with n >= 2, got shape {tuple(v.shape)}")
    if not d0.shape == target.shape == u_init.shape:
        raise ValueError(f"d0, target and u_init must be vectors of one length, got "
                         f"{tuple(d0.shape)}, {tuple(target.shape)}, {tuple(u_init.shape)}")
    dt, dx = positive_float(dt, "dt"), positive_float(dx, "dx")
    steps, iterations = check_int(steps, "steps", 1), check_int(iterations, "iterations", 0)
    lr, momentum = check_real(lr, "lr", 0, lo_open=True), check_real(momentum, "momentum", 0, 1, hi_open=True)
    grid = Grid(d0.shape[-1], dx, as_boundary(bc, name="bc"))
    advection.Advection(grid, dt, u_init)  # checks the CFL bound of the first guess
    u = nn.Parameter(u_init.detach().clone())
    holder = nn.Module()
    holder.u = u
    umax = dx / dt
    # Plain gradient descent: the update of u_i is proportional to its gradient, so where the
    # density is flat u does not move (an adaptive method such as Adam would rescale even a
    # vanishing gradient to a full step).
    opt = torch.optim.SGD([u], lr=lr, momentum=momentum)

    def loss_fn(_: int) -> torch.Tensor:
        with torch.no_grad():
            u.clamp_(-umax, umax)
        d = final_state(advection.Advection(grid, dt, u), d0, steps)
        return (d - target).pow(2).sum()

    history = fit(holder, loss_fn, opt, iterations, progress=progress, desc="fit velocity")
    return u.detach().clamp(-umax, umax), history


@dataclass
class InitialStateFit:
    """Result of :func:`fit_initial_state`.

    Attributes:
        u0: the initial state found, ``(n,)``.
        loss: the loss before each update (and after the last, so ``updates + 1`` values).
        seconds: wall time of the updates (compilation excluded).
        update_seconds: wall time of each update, ``updates`` values.
        compile_seconds: time of the first, compiling call with ``compile=True``; 0 otherwise.
    """

    u0: torch.Tensor
    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    update_seconds: list[float] = field(default_factory=list)
    compile_seconds: float = 0.0


def unrolled_loss(solver: Stepper, u0: torch.Tensor, target: torch.Tensor, steps: int) -> torch.Tensor:
    """Mean squared difference between ``steps`` solver steps from ``u0`` and ``target``.

    ``u0`` and ``target`` are ``(batch, 1, n)`` (or ``(1, n)``); every step is recorded by
    autograd, so the gradient of this loss with respect to ``u0`` runs back through all of them.

    Explained in :ref:`04-burgers-dp-the-lecture-s-experiment`.
    """
    check_states(u0, "u0")
    check_states(target, "target")
    if u0.shape != target.shape:
        raise ValueError(f"u0 {tuple(u0.shape)} and target {tuple(target.shape)} must have the same shape")
    return (final_state(solver, u0, steps) - target).pow(2).mean()


def gradient_step(loss_fn: Callable[[torch.Tensor], torch.Tensor], u: torch.Tensor, lr: float) -> torch.Tensor:
    """One step of plain gradient descent on ``u`` in place, ``u <- u - lr dL/du``.

    ``u`` is a leaf tensor that requires gradients; returns the loss before the step.

    Explained in :ref:`04-burgers-dp-the-lecture-s-experiment`.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    finite_tensor(u, "u")
    if not (u.is_leaf and u.requires_grad):
        raise ValueError("u must be a leaf tensor that requires gradients: u = u.detach().requires_grad_(True)")
    lr = check_real(lr, "lr", 0, lo_open=True)
    loss = loss_fn(u)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"loss_fn must return a one-element tensor, got {type(loss).__name__}")
    (grad,) = torch.autograd.grad(loss, u)
    with torch.no_grad():
        u -= lr * grad
    return loss


def _check_loss(losses: list[float], lr: float) -> None:
    """``NonFiniteLossError`` when the last loss of :func:`fit_initial_state` is NaN or Inf."""
    if not math.isfinite(losses[-1]):
        raise NonFiniteLossError(f"the loss became {losses[-1]} at update {len(losses) - 1}; lower lr (now {lr}) or dt")


def fit_initial_state(target: torch.Tensor, steps: int, updates: int, lr: float, dt: float, dx: float,
                      nu: float = burgers.NU, bc: str = "dirichlet",
                      u0: torch.Tensor | None = None, compile: bool = False) -> InitialStateFit:
    """Plain gradient descent on ``u(x, 0)`` so that ``steps`` Burgers steps reach ``target``.

    The loss is the mean squared difference at step ``steps`` (the pbdl-book's); gradients
    come from back-propagation through the solver. ``u0`` defaults to zero. This is a tight
    loop, not :func:`physdl.train.fit`, because each update costs only milliseconds.

    ``compile=True`` runs the loss through ``torch.compile``: the ``steps`` solver steps and
    their adjoint become a few fused kernels, which removes the per-operation overhead that
    dominates on grids this small (about 10x faster per update on a CPU). The first call
    compiles (tens of seconds on a CPU, and a C++ compiler is needed there); it is timed on
    its own, in ``compile_seconds``. Periodic grids trace into one graph; the Dirichlet
    solver's data-dependent ghost layer splits it into pieces.

    Explained in :ref:`04-burgers-dp-the-lecture-s-experiment`.
    """
    check_states(target, "target")
    steps, updates = check_int(steps, "steps", 1), check_int(updates, "updates", 0)
    lr, dx = check_real(lr, "lr", 0, lo_open=True), positive_float(dx, "dx")
    compile = check_bool(compile, "compile")
    if u0 is not None:
        check_states(u0, "u0")
        if u0.shape != target.shape:
            raise ValueError(f"u0 must have the target's shape {tuple(target.shape)}, got {tuple(u0.shape)}")
    solver = burgers.solver(burgers.domain(target.shape[-1], bc), dt, nu)
    if abs(solver.grid.dx - dx) > 1e-12 * dx:
        raise ValueError(f"dx = {dx} is not the spacing {solver.grid.dx} of {target.shape[-1]} nodes on [-1, 1] ({bc})")
    target = target.detach()

    def mse(u: torch.Tensor) -> torch.Tensor:
        return unrolled_loss(solver, u, target, steps)

    loss_fn = torch.compile(mse, dynamic=False) if compile else mse
    u = (torch.zeros_like(target) if u0 is None else u0.detach().clone()).requires_grad_(True)
    result = InitialStateFit(u0=u.detach())
    if compile:
        t0 = time.perf_counter()
        torch.autograd.grad(loss_fn(u), u)
        result.compile_seconds = time.perf_counter() - t0
    for _ in range(updates):
        t0 = time.perf_counter()
        loss = gradient_step(loss_fn, u, lr)
        result.update_seconds.append(time.perf_counter() - t0)
        result.loss.append(float(loss.detach()))
        _check_loss(result.loss, lr)
    result.seconds = sum(result.update_seconds)
    with torch.no_grad():
        result.loss.append(float(mse(u)))
    _check_loss(result.loss, lr)
    result.u0 = u.detach()
    return result


def train_through_solver(net: InitialStateNet, targets: torch.Tensor, steps: int, dt: float, dx: float,
                         iterations: int, lr: float = 1e-3, batch_size: int = 32, nu: float = burgers.NU,
                         seed: int = 0, progress: bool | None = None) -> History:
    """Train ``net`` so that simulating its proposal for ``steps`` steps reproduces each target.

    The loss ``mean (P(net(y)) - y)^2`` back-propagates through the solver ``P`` into the
    network's weights: ``dL/dtheta = du/dtheta dP/du dL/dP``. No initial states are needed as
    labels; the solver supplies the physics.

    Used in :ref:`04-burgers-dp-a-network-trained-through-the-solver`.
    """
    if not isinstance(net, InitialStateNet):
        raise TypeError(f"net must be an InitialStateNet, got {type(net).__name__}")
    if finite_tensor(targets, "targets").dim() != 2 or len(targets) < 1:
        raise ValueError(f"targets must be shaped (count, n), got {tuple(targets.shape)}")
    if targets.shape[1] != net.mlp.in_features:
        raise ValueError(f"targets have {targets.shape[1]} nodes, the network {net.mlp.in_features}")
    steps, iterations = check_int(steps, "steps", 1), check_int(iterations, "iterations", 0)
    lr, dx = check_real(lr, "lr", 0, lo_open=True), positive_float(dx, "dx")
    batch_size, seed = check_int(batch_size, "batch_size", 1), check_int(seed, "seed", 0)
    solver = burgers.solver(burgers.domain(targets.shape[-1]), dt, nu)
    if abs(solver.grid.dx - dx) > 1e-12 * dx:
        raise ValueError(f"dx = {dx} is not the spacing {solver.grid.dx} of {targets.shape[-1]} nodes on [-1, 1]")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    dtype = next(net.parameters()).dtype

    def loss_fn(step: int) -> torch.Tensor:
        gen = step_generator(seed, step, "targets")
        idx = torch.randint(len(targets), (batch_size,), generator=gen, device=gen.device)
        y = targets[idx].to(dtype)
        return (final_state(solver, net(y), steps) - y).pow(2).mean()

    return fit(net, loss_fn, opt, iterations, progress=progress, desc="network through solver")
