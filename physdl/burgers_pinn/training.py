"""The three Burgers PINN problems, each a :class:`physdl.pinn.PINNLoss` ready to fit."""

from __future__ import annotations

import math

import torch

from physdl import pinn as P
from physdl.burgers_pinn.config import DOMAIN, BurgersPINNConfig, check_config
from physdl.config import as_device
from physdl.ops.checks import check_dtype, check_real
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
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """Identify ``nu``: scattered noisy samples as data, residual at the same points.

    ``nu`` is learned (positive, started at ``cfg.nu_start``); nothing else about the
    problem, not even the initial or boundary conditions, is given.

    Used in :ref:`02-burgers-pinn-3-the-inverse-problem-measuring-the-viscosity`.
    """
    check_config(cfg)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    noise = check_real(noise, "noise", 0)
    pts, u = noisy_samples(cfg.inverse_samples, noise, cfg.seed)
    model = P.PINN(network(cfg.hidden, dtype), {"nu": cfg.nu_start}, learn=["nu"]).to(device)
    pts = pts.to(device, dtype)
    return P.PINNLoss(model, P.burgers, pts, u.to(device, dtype), P.FixedPoints(pts))
