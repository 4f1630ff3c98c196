"""The Burgers PINNs' data: noisy samples of the exact solution and fixed collocation sets."""

from __future__ import annotations

import torch

from physdl import pinn as P
from physdl.burgers_pinn.config import DOMAIN, BurgersPINNConfig, check_config
from physdl.config import as_device
from physdl.ops.checks import check_dtype, check_int, check_real
from physdl.pde import burgers as B


def noisy_samples(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` uniform points of the domain and the exact ``u`` there plus Gaussian noise.

    The noise's standard deviation is ``noise`` times that of the clean values (Raissi et
    al.'s convention). Returns float64 ``(n, 2)`` points and ``(n, 1)`` values.
    """
    n, seed = check_int(n, "n", 2), check_int(seed, "seed", 0)  # two points: a spread to scale the noise by
    noise = check_real(noise, "noise", 0)
    gen = torch.Generator().manual_seed(seed)
    pts = P.uniform_points(n, DOMAIN, gen, torch.float64)
    u = B.exact_solution(pts[:, 0], pts[:, 1])[:, None]
    return pts, u + noise * u.std() * torch.randn(u.shape, generator=gen, device=gen.device, dtype=torch.float64)


def lbfgs_points(cfg: BurgersPINNConfig, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> P.FixedPoints:
    """The fixed collocation set of the forward PINN's L-BFGS stage.

    Used in :ref:`02-burgers-pinn-2-a-well-configured-pinn`.
    """
    check_config(cfg)
    dtype, device = check_dtype(dtype), as_device(device, "device")
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    return P.FixedPoints(P.uniform_points(cfg.lbfgs_collocation, DOMAIN, gen, dtype).to(device))
