"""The Burgers PINN problems of chapter 2, built from :mod:`physdl.pinn`.

Three set-ups on the course's problem (:mod:`physdl.pde.burgers`):

- :func:`lecture_problem`: the lecture's PINN. Known values at ``t = 0.5`` (the 128 grid
  positions) and on the walls, a fixed set of collocation points, 8 hidden layers of 20 tanh
  units, plain gradient descent.
- :func:`forward_problem`: a well-configured forward PINN. The initial and boundary
  conditions are the data; collocation points are redrawn every step; Adam, then L-BFGS.
- :func:`inverse_problem`: identify ``nu`` from scattered, possibly noisy samples of the
  solution (Raissi et al.'s parameter identification).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from physdl import config as _config
from physdl import pinn as P
from physdl.nn import MLP
from physdl.pde import burgers as B

DOMAIN = P.Domain(x=(-1.0, 1.0), t=(0.0, 1.0))


@dataclass(frozen=True)
class BurgersPINNConfig:
    """Sizes of chapter 2 for one profile.

    Attributes:
        seed: seed of weights, collocation points and noise.
        lecture_hidden, lecture_steps, lecture_lr, lecture_collocation: the lecture's network,
            iterations of plain gradient descent, its step size and the number of fixed
            collocation points.
        hidden: hidden widths of the forward and inverse PINNs.
        initial_points, boundary_points: data points on ``t = 0`` and on each wall.
        collocation: collocation points drawn at every Adam step.
        lbfgs_collocation: the fixed collocation points of the L-BFGS stage.
        adam_steps, lbfgs_steps, lr: the forward PINN's schedule (each L-BFGS step runs up to
            20 inner iterations).
        inverse_samples: scattered samples of the solution in the inverse problem.
        inverse_adam_steps, inverse_lbfgs_steps: its schedule.
        nu_start: the inverse problem's initial guess of ``nu``.
        noise: relative noise level of the noisy inverse problem (std of the noise divided by
            the std of the data).
    """

    seed: int = 0
    lecture_hidden: tuple[int, ...] = (20,) * 8
    lecture_steps: int = 10_000
    lecture_lr: float = 0.02
    lecture_collocation: int = 1000
    hidden: tuple[int, ...] = (20,) * 8
    initial_points: int = 256
    boundary_points: int = 100
    collocation: int = 2000
    adam_steps: int = 5000
    lbfgs_steps: int = 300
    lbfgs_collocation: int = 8000
    lr: float = 1e-3
    inverse_samples: int = 2000
    inverse_adam_steps: int = 3000
    inverse_lbfgs_steps: int = 200
    nu_start: float = 0.05
    noise: float = 0.01


def chapter_config(profile: str | None = None) -> BurgersPINNConfig:
    """The chapter's sizes for the active (or named) profile."""
    return _config.by_profile(
        quick=BurgersPINNConfig(lecture_steps=1500, adam_steps=1000, lbfgs_steps=10, collocation=1000,
                                inverse_adam_steps=1000, inverse_lbfgs_steps=30),
        default=BurgersPINNConfig(),
        name=profile,
    )


def _network(hidden: tuple[int, ...], dtype: torch.dtype) -> MLP:
    return MLP(2, 1, hidden, activation="tanh").to(dtype)


def lecture_problem(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """The lecture's set-up: data at ``t = 0.5`` and on the walls, fixed collocation points.

    The 128 positions of the lecture grid at ``t = 0.5`` carry the exact solution; the walls
    carry ``u = 0`` at the grid's 33 times; the residual is evaluated at
    ``cfg.lecture_collocation`` uniform points drawn once.
    """
    x, t = B.lecture_grid()
    mid = torch.stack([x, torch.full_like(x, 0.5)], dim=1)
    walls = P.boundary_points(len(t), DOMAIN, torch.float64)
    points = torch.cat([mid, walls])
    values = torch.cat([B.exact_solution(mid[:, 0], mid[:, 1]), torch.zeros(len(walls), dtype=torch.float64)])
    gen = torch.Generator().manual_seed(cfg.seed)
    colloc = P.uniform_points(cfg.lecture_collocation, DOMAIN, gen, dtype)
    model = P.PINN(_network(cfg.lecture_hidden, dtype), {"nu": B.NU}).to(device)
    return P.PINNLoss(model, P.burgers, points.to(device, dtype), values[:, None].to(device, dtype),
                      P.FixedPoints(colloc.to(device)))


def forward_problem(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """Initial and boundary conditions as data, collocation points redrawn every step."""
    xi = P.initial_points(cfg.initial_points, DOMAIN, torch.float64)
    xb = P.boundary_points(cfg.boundary_points, DOMAIN, torch.float64)
    points = torch.cat([xi, xb])
    values = torch.cat([-torch.sin(math.pi * xi[:, 0]), torch.zeros(len(xb), dtype=torch.float64)])
    model = P.PINN(_network(cfg.hidden, dtype), {"nu": B.NU}).to(device)
    return P.PINNLoss(model, P.burgers, points.to(device, dtype), values[:, None].to(device, dtype),
                      P.ResampledPoints(cfg.collocation, DOMAIN, cfg.seed, dtype))


def noisy_samples(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` uniform points of the domain and the exact ``u`` there plus Gaussian noise.

    The noise's standard deviation is ``noise`` times that of the clean values (Raissi et
    al.'s convention). Returns float64 ``(n, 2)`` points and ``(n, 1)`` values.
    """
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    gen = torch.Generator().manual_seed(seed)
    pts = P.uniform_points(n, DOMAIN, gen, torch.float64)
    u = B.exact_solution(pts[:, 0], pts[:, 1])[:, None]
    return pts, u + noise * u.std() * torch.randn(u.shape, generator=gen, dtype=torch.float64)


def inverse_problem(cfg: BurgersPINNConfig, noise: float, dtype: torch.dtype = torch.float32,
                    device: torch.device | str = "cpu") -> P.PINNLoss:
    """Identify ``nu``: scattered noisy samples as data, residual at the same points.

    ``nu`` is learned (positive, started at ``cfg.nu_start``); nothing else about the
    problem, not even the initial or boundary conditions, is given.
    """
    pts, u = noisy_samples(cfg.inverse_samples, noise, cfg.seed)
    model = P.PINN(_network(cfg.hidden, dtype), {"nu": cfg.nu_start}, learn=["nu"]).to(device)
    pts = pts.to(device, dtype)
    return P.PINNLoss(model, P.burgers, pts, u.to(device, dtype), P.FixedPoints(pts))


def predicted_field(model: torch.nn.Module, nx: int = 128, nt: int = 33) -> torch.Tensor:
    """The model's ``u`` on the lecture grid, ``(nt, nx)`` float64 on the CPU."""
    x, t = B.lecture_grid(nx, nt)
    dtype = next(model.parameters()).dtype
    return P.evaluate(model, P.grid_points(x, t).to(dtype)).double().cpu().reshape(nt, nx)


def grid_error(model: torch.nn.Module) -> float:
    """Relative L2 error of ``model`` against the exact solution on the lecture's 128 x 33 grid."""
    exact = B.exact_field()
    return float((predicted_field(model) - exact).norm() / exact.norm())


def lbfgs_points(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> P.FixedPoints:
    """The fixed collocation set of the forward PINN's L-BFGS stage."""
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    return P.FixedPoints(P.uniform_points(cfg.lbfgs_collocation, DOMAIN, gen, dtype).to(device))
