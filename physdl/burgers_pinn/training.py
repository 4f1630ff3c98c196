"""The three Burgers PINN problems, each a :class:`physdl.pinn.PINNLoss` ready to fit."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from physdl import pinn as P
from physdl.burgers_pinn.config import DOMAIN, BurgersPINNConfig, check_config
from physdl.config import as_device
from physdl.ops.checks import check_bool, check_choice, check_dtype, check_int, check_real
from physdl.optim import UPDATES
from physdl.train import History
from physdl.burgers_pinn.data import noisy_samples
from physdl.burgers_pinn.model import network
from physdl.pde import burgers as B


def lecture_problem(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """The lecture's set-up: data at ``t = 0.5`` and on the walls, fixed collocation points.

    The 128 positions of the lecture grid at ``t = 0.5`` carry the exact solution; the walls
    carry ``u = 0`` at the grid's 33 times; the residual is evaluated at
    ``cfg.lecture_collocation`` uniform points drawn once.

    Used in :ref:`02-burgers-pinn-1-the-lecture-s-pinn`,
    :ref:`04-burgers-dp-pinn-or-differentiable-physics`.
    """
    check_config(cfg)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    x, t = B.lecture_grid()
    mid = torch.stack([x, torch.full_like(x, 0.5)], dim=1)
    walls = P.boundary_points(len(t), DOMAIN, torch.float64)
    points = torch.cat([mid, walls])
    values = torch.cat([B.exact_solution(mid[:, 0], mid[:, 1]),
                        torch.zeros(len(walls), dtype=torch.float64, device=walls.device)])
    gen = torch.Generator().manual_seed(cfg.seed)
    colloc = P.uniform_points(cfg.lecture_collocation, DOMAIN, gen, dtype)
    model = P.PINN(network(cfg.lecture_hidden, dtype), {"nu": B.NU}).to(device)
    return P.PINNLoss(model, P.burgers, points.to(device, dtype), values[:, None].to(device, dtype),
                      P.FixedPoints(colloc.to(device)))


def forward_problem(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """Initial and boundary conditions as data, collocation points redrawn every step.

    Used in :ref:`02-burgers-pinn-2-a-well-configured-pinn`.
    """
    check_config(cfg)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    xi = P.initial_points(cfg.initial_points, DOMAIN, torch.float64)
    xb = P.boundary_points(cfg.boundary_points, DOMAIN, torch.float64)
    points = torch.cat([xi, xb])
    values = torch.cat([-torch.sin(math.pi * xi[:, 0]),
                        torch.zeros(len(xb), dtype=torch.float64, device=xb.device)])
    model = P.PINN(network(cfg.hidden, dtype), {"nu": B.NU}).to(device)
    return P.PINNLoss(model, P.burgers, points.to(device, dtype), values[:, None].to(device, dtype),
                      P.ResampledPoints(cfg.collocation, DOMAIN, cfg.seed, dtype))


def inverse_problem(cfg: BurgersPINNConfig, noise: float, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu", forward_mode: bool = False) -> P.PINNLoss:
    """Identify ``nu``: scattered noisy samples as data, residual at the same points.

    ``nu`` is learned (positive, started at ``cfg.nu_start``); nothing else about the
    problem, not even the initial or boundary conditions, is given. ``forward_mode``
    propagates the residual's derivatives forward (:func:`physdl.pinn.residual`).

    Used in :ref:`02-burgers-pinn-3-the-inverse-problem-measuring-the-viscosity`.
    """
    check_config(cfg)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    noise = check_real(noise, "noise", 0)
    pts, u = noisy_samples(cfg.inverse_samples, noise, cfg.seed)
    model = P.PINN(network(cfg.hidden, dtype), {"nu": cfg.nu_start}, learn=["nu"]).to(device)
    pts = pts.to(device, dtype)
    return P.PINNLoss(model, P.burgers, pts, u.to(device, dtype), P.FixedPoints(pts),
                      forward_mode=check_bool(forward_mode, "forward_mode"))


def precise_problem(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float64,
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """The forward problem set up for high precision: residual only, adaptive points.

    The ansatz of :func:`physdl.pinn.zero_dirichlet` meets ``u(x, 0) = -sin(pi x)`` and the zero
    walls exactly, so the loss is the mean squared residual alone (no solution values are
    given anywhere). Its collocation is a :class:`physdl.pinn.AdaptivePoints` of
    ``cfg.precise_collocation`` points, redrawn every ``cfg.precise_every`` steps where the
    residual is large. Derivatives are propagated forward (``forward_mode``). Use float64.

    Used in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """
    check_config(cfg)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    net = P.zero_dirichlet(network(cfg.hidden, dtype), _initial, DOMAIN)
    model = P.PINN(net, {"nu": B.NU}).to(device)
    empty = torch.zeros(0, 2, dtype=dtype, device=device)
    loss = P.PINNLoss(model, P.burgers, empty, empty[:, :1], P.FixedPoints(torch.zeros(1, 2, dtype=dtype)),
                      forward_mode=True)
    loss.collocation = P.AdaptivePoints(loss, cfg.precise_collocation, DOMAIN, cfg.precise_every, cfg.seed,
                                        dtype=dtype)
    return loss


def _initial(x: torch.Tensor) -> torch.Tensor:
    return -torch.sin(math.pi * x)


SECOND_STAGES = ("adam", "lbfgs", *UPDATES)


def warm_up(loss: P.PINNLoss, cfg: BurgersPINNConfig, validate: Callable[[], float] | None = None,
            progress: bool | None = None) -> History:
    """Adam for ``cfg.precise_adam_steps`` on the first (uniform) draw of the loss's points.

    Used in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """
    points = _adaptive(loss)
    first = P.FixedPoints(points(0))
    adam, _ = P.train_pinn(_with_points(loss, first), cfg.precise_adam_steps, 0, lr=cfg.lr, validate=validate,
                           validate_every=max(1, cfg.precise_adam_steps // 10), progress=progress)
    return adam


def refine(loss: P.PINNLoss, cfg: BurgersPINNConfig, optimizer: str = "ssbroyden", steps: int | None = None,
           validate: Callable[[], float] | None = None, progress: bool | None = None,
           redraw: bool = True) -> History:
    """The second stage: ``steps`` (default ``cfg.precise_steps``) quasi-Newton steps.

    ``optimizer`` is one of :data:`SECOND_STAGES`: a dense quasi-Newton update of
    :class:`physdl.optim.QuasiNewton`, torch's L-BFGS, or ``"adam"`` (20 Adam iterations per
    step, for comparison). The points are redrawn every ``cfg.precise_every`` steps; with
    ``redraw=False`` they stay those of the first (uniform) draw, the warm-up's. ``validate``
    is called every step (every 20 Adam iterations).

    Used in :ref:`02-burgers-pinn-5-a-pinn-at-the-limits-of-float64`.
    """
    check_config(cfg)
    check_choice(optimizer, "optimizer", SECOND_STAGES)
    steps = cfg.precise_steps if steps is None else check_int(steps, "steps", 0)
    points = _adaptive(loss)
    if not check_bool(redraw, "redraw"):
        points = P.FixedPoints(points(0))
    if optimizer == "adam":
        per_iteration = lambda i: points(i // 20)  # noqa: E731  (the draw of step i // 20)
        adam, _ = P.train_pinn(_with_points(loss, per_iteration), 20 * steps, 0, lr=cfg.lr, validate=validate,
                               validate_every=20, progress=progress)
        return adam
    _, second = P.train_pinn(_with_points(loss, points), 0, steps, lbfgs_collocation=points, validate=validate,
                             validate_every=20, progress=progress, quasi_newton=optimizer, lbfgs_history=100)
    return second


def _adaptive(loss: P.PINNLoss) -> P.AdaptivePoints:
    if not isinstance(loss, P.PINNLoss) or not isinstance(loss.collocation, P.AdaptivePoints):
        raise TypeError("loss must be a PINNLoss with AdaptivePoints collocation (from precise_problem)")
    return loss.collocation


def _with_points(loss: P.PINNLoss, points: Callable[[int], torch.Tensor]) -> P.PINNLoss:
    """The same loss (same model) on other collocation points."""
    return P.PINNLoss(loss.model, loss.equation, loss.data_points, loss.data_values, points,
                      loss.alpha0, loss.alpha1, loss.forward_mode)
