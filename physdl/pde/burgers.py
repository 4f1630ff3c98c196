"""Viscous Burgers' equation ``u_t + u u_x = nu u_xx`` on ``x in [-1, 1]``, ``t >= 0``.

The course's problem (the lecture's and Raissi et al.'s) starts from ``u(x, 0) = -sin(pi x)``
with ``u(-1, t) = u(1, t) = 0`` and ``nu = 0.01 / pi``: two waves run into each other and
form a steep, stationary shock at ``x = 0``.

Exact solution (Cole-Hopf). With ``u = -2 nu phi_x / phi`` the equation becomes the heat
equation ``phi_t = nu phi_xx`` with ``phi(x, 0) = exp(-cos(pi x) / (2 pi nu))``. That initial
state is even and 2-periodic, so the heat-kernel solution on the whole line gives an odd,
2-periodic ``u`` that vanishes at ``x = +-1``: the Dirichlet problem is solved exactly. With
``eta = sqrt(4 nu t) z``,

    u(x, t) = - int sin(pi (x - eta)) w(z) dz / int w(z) dz,
    w(z) = exp(-cos(pi (x - eta)) / (2 pi nu) - z^2).

The exponent spans about ``1 / (pi nu) = 100`` units for the course's ``nu``, so the
weights are normalised by their largest value before exponentiation (log-sum-exp) and the
integrals are taken with the trapezoidal rule on ``|z| <= z_max``. The integrand is smooth
and decays like ``exp(-z^2)``, so the rule converges geometrically once the grid resolves
the narrowest feature, the peak of ``exp(-cos / (2 pi nu))`` (width ``~ sqrt(nu)`` in x).
"""

from __future__ import annotations

import math

import torch

from physdl.ops.checks import check_choice, check_finite, check_int, check_tensor
from physdl.ops.grid import BOUNDARIES, BoundaryLike, Dirichlet, Grid, as_boundary, positive_float
from physdl.ops.transport import semi_lagrangian
from physdl.pde.stepper import Split, Stepper, as_dt

NU = 0.01 / math.pi
"""The viscosity of the lecture's problem, shared by the PINN and differentiable-physics chapters."""


def _check_points(x: torch.Tensor, t: torch.Tensor) -> None:
    check_finite(x, "x")
    check_finite(t, "t")
    if torch.any(x < -1 - 1e-12) or torch.any(x > 1 + 1e-12):
        raise ValueError("x must lie in [-1, 1]")
    if torch.any(t < 0):
        raise ValueError("t must be non-negative")


def _check_nu(nu: object) -> float | torch.Tensor:
    """``nu``: a positive finite number, or a floating-point tensor of such values."""
    if isinstance(nu, torch.Tensor) and nu.dim() > 0:
        check_tensor(nu, "nu")
        if nu.numel() == 0 or not bool(torch.isfinite(nu.detach()).all() and (nu.detach() > 0).all()):
            raise ValueError(f"the viscosity nu must be positive and finite, got {nu.detach().cpu().tolist()}")
        return nu
    if isinstance(nu, torch.Tensor) and nu.requires_grad:
        positive_float(nu, "nu")
        return nu
    return positive_float(nu, "nu")


def exact_solution(
    x: torch.Tensor,
    t: torch.Tensor,
    nu: float = NU,
    nodes: int = 2001,
    chunk: int = 512,
) -> torch.Tensor:
    """Exact ``u(x, t)`` of the course's Burgers problem, by the Cole-Hopf transformation.

    Args:
        x: positions in ``[-1, 1]``, any shape broadcastable against ``t``.
        t: times, ``t >= 0``.
        nu: viscosity (the course uses :data:`NU`).
        nodes: trapezoid nodes of the heat-kernel integral over ``|z| <= z_max``. The default
            gives about 1e-10 accuracy at the course's viscosity.
        chunk: points evaluated at a time (memory ``~ chunk * nodes`` doubles).

    Returns:
        ``u`` in float64 with the broadcast shape of ``x`` and ``t``.

    Explained in :ref:`02-burgers-pinn-the-problem-and-its-exact-solution`.
    """
    nu = positive_float(nu, "nu")
    nodes, chunk = check_int(nodes, "nodes", 2), check_int(chunk, "chunk", 1)
    for value, what in ((x, "x"), (t, "t")):
        if isinstance(value, torch.Tensor) and value.is_complex() or isinstance(value, str):
            raise TypeError(f"{what} must be real numbers, got {value!r}")
    x, t = torch.broadcast_tensors(torch.as_tensor(x, dtype=torch.float64),
                                   torch.as_tensor(t, dtype=torch.float64))
    _check_points(x, t)
    shape = x.shape
    x, t = x.reshape(-1), t.reshape(-1)
    # Beyond z_max the Gaussian is below exp(-z_max^2) = e^-40 times the largest possible
    # gain exp(2 / (2 pi nu)) of the other factor, i.e. negligible.
    z_max = math.sqrt(40.0 + 1.0 / (math.pi * nu))
    z = torch.linspace(-z_max, z_max, nodes, dtype=torch.float64, device=x.device)
    out = torch.empty_like(x)
    for i in range(0, len(x), chunk):
        xs, ts = x[i : i + chunk, None], t[i : i + chunk, None]
        y = xs - torch.sqrt(4 * nu * ts) * z  # (points, nodes)
        log_w = -torch.cos(math.pi * y) / (2 * math.pi * nu) - z**2
        w = torch.exp(log_w - log_w.amax(dim=1, keepdim=True))
        # Uniform nodes: the trapezoid weights cancel in the ratio (the end weights are e^-40).
        out[i : i + chunk] = -(torch.sin(math.pi * y) * w).sum(dim=1) / w.sum(dim=1)
    return out.reshape(shape)


def lecture_grid(nx: int = 128, nt: int = 33, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's space-time grid: ``nx`` points on ``[-1, 1]``, ``nt`` times on ``[0, 1]``.

    Returns ``(x, t)``, float64 vectors of shapes ``(nx,)`` and ``(nt,)`` on ``device``;
    endpoints included.

    Used in :ref:`02-burgers-pinn-the-problem-and-its-exact-solution`.
    """
    nx, nt = check_int(nx, "nx", 2), check_int(nt, "nt", 2)
    return (torch.linspace(-1, 1, nx, dtype=torch.float64, device=device),
            torch.linspace(0, 1, nt, dtype=torch.float64, device=device))


def exact_field(nx: int = 128, nt: int = 33, nu: float = NU, device: torch.device | str = "cpu") -> torch.Tensor:
    """Exact ``u`` on :func:`lecture_grid`, shape ``(nt, nx)`` (rows are times), on ``device``.

    Used in :ref:`02-burgers-pinn-the-problem-and-its-exact-solution`,
    :ref:`04-burgers-dp-the-solver`.
    """
    x, t = lecture_grid(nx, nt, device)
    return exact_solution(x[None, :], t[:, None], nu)


# --------------------------------------------------------------------------- differentiable solver


def domain(n: int, bc: BoundaryLike = "dirichlet") -> Grid:
    """The solver's :class:`~physdl.ops.grid.Grid` on ``[-1, 1]`` with ``n`` nodes.

    ``"dirichlet"``: nodes ``linspace(-1, 1, n)``, the walls on the first and last node (the
    lecture's grid); ``"periodic"``: spacing ``2 / n``, node coordinates ``-1 + i dx`` and cell
    centres ``-1 + (i + 1/2) dx`` (the pbdl-book's points) from ``grid.coordinates("cell")``.

    Used in :ref:`04-burgers-dp-the-solver`.
    """
    bc = as_boundary(bc)
    n = check_int(n, "n", 4)
    if isinstance(bc, Dirichlet) and bc.value != 0:
        raise ValueError(f"Burgers' walls hold u = 0; got a Dirichlet value {bc.value}")
    dx = 2.0 / (n - 1) if isinstance(bc, Dirichlet) else 2.0 / n
    return Grid(n, dx, bc, origin=-1.0)


def grid(n: int, bc: str = "dirichlet", device: torch.device | str = "cpu") -> tuple[torch.Tensor, float]:
    """Solver nodes on ``[-1, 1]`` (on ``device``) and their spacing ``dx`` (the node coordinates
    of :func:`domain`).

    Used in :ref:`04-burgers-dp-the-solver`.
    """
    check_choice(bc, "bc", BOUNDARIES)
    g = domain(n, bc)
    if bc == "dirichlet":
        # linspace puts the last node exactly on 1.
        return torch.linspace(-1, 1, n, dtype=torch.float64, device=device), g.dx
    return g.coordinates("node", device=device)[0], g.dx


def diffusion_number(dt: float, dx: float, nu: float) -> float:
    """``nu dt / dx^2``; explicit diffusion is stable for values up to 1/2.

    Used in :ref:`04-burgers-dp-the-solver`.
    """
    return positive_float(nu, "nu") * positive_float(dt, "dt") / positive_float(dx, "dx") ** 2


def check_stability(dt: float, dx: float, nu: float) -> None:
    """Raise ``ValueError`` naming the bound when the explicit diffusion step is unstable."""
    nu, dt, dx = positive_float(nu, "nu"), positive_float(dt, "dt"), positive_float(dx, "dx")
    r = diffusion_number(dt, dx, nu)
    if r > 0.5:
        raise ValueError(f"unstable diffusion step: nu dt / dx^2 = {r:.3g} > 1/2. "
                         f"Use dt <= dx^2 / (2 nu) = {dx * dx / (2 * nu):.3g}.")


def _largest(nu: float | torch.Tensor) -> float:
    return float(nu.detach().max()) if torch.is_tensor(nu) else float(nu)


def _per_sample(nu: float | torch.Tensor) -> float | torch.Tensor:
    """A tensor viscosity with one value per sample shaped to broadcast against ``(batch, 1, n)``."""
    if torch.is_tensor(nu) and nu.dim() > 0 and nu.numel() > 1:
        return nu.reshape(-1, 1, 1)
    return nu


class ViscousDiffusion(Stepper):
    """Explicit diffusion ``u + dt nu (u_{i+1} - 2 u_i + u_{i-1}) / dx^2`` on :func:`domain`'s grid.

    Periodic: the neighbours wrap. Dirichlet: the walls are the end nodes, and the field is
    continued oddly about them (so the walls stay at 0). ``nu`` is a number or a tensor (one
    value, or one per sample); it is differentiable. Stable for ``nu dt / dx^2 <= 1/2``.

    Explained in :ref:`04-burgers-dp-the-solver`.
    """

    channels = 1

    def __init__(self, grid: Grid, dt: float, nu: float | torch.Tensor = NU) -> None:
        if grid.dims != 1:
            raise ValueError(f"Burgers' solver is 1D, got a {grid.dims}D grid")
        self.grid, self.dt = grid, as_dt(dt)
        self.nu = _per_sample(_check_nu(nu))
        self._odd = isinstance(grid.bc, Dirichlet)
        self.recheck_time_step = torch.is_tensor(nu) and nu.requires_grad
        self.check_time_step()

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        return self.grid.dx**2 / (2 * _largest(self.nu))

    def per_sample(self) -> dict[str, torch.Tensor]:
        return {"nu": self.nu} if torch.is_tensor(self.nu) and self.nu.dim() > 0 else {}

    def limit_description(self) -> str:
        return "explicit diffusion: nu dt / dx^2 <= 1/2"

    def step(self, state: torch.Tensor) -> torch.Tensor:
        if self._odd:
            left, right = -state[..., 1:2], -state[..., -2:-1]
        else:
            left, right = state[..., -1:], state[..., :1]
        ext = torch.cat([left, state, right], dim=-1)
        number = self.dt * self.nu / self.grid.dx**2
        if torch.is_tensor(number):
            number = number.to(state.dtype)  # the state's dtype, as every stepper keeps
        return state + number * (ext[..., 2:] - 2 * state + ext[..., :-2])


class SelfAdvection(Stepper):
    """Semi-Lagrangian step of ``u_t + u u_x = 0``: each node takes ``u`` at ``x_i - dt u_i``.

    Stable for any ``dt`` (:func:`physdl.ops.semi_lagrangian`); on a Dirichlet grid the walls
    are the end nodes, the field is continued oddly beyond them and the walls stay at 0.

    Explained in :ref:`04-burgers-dp-the-solver`.
    """

    channels = 1

    def __init__(self, grid: Grid, dt: float) -> None:
        if grid.dims != 1:
            raise ValueError(f"Burgers' solver is 1D, got a {grid.dims}D grid")
        self.grid, self.dt = grid, as_dt(dt)

    def step(self, state: torch.Tensor) -> torch.Tensor:
        if state.shape[-1] < 4:
            raise ValueError(f"need at least 4 nodes, got u of shape {tuple(state.shape)}")
        return semi_lagrangian(state, state, self.dt, self.grid.dx, 0, self.grid.bc, walls="odd")


def solver(grid: Grid, dt: float, nu: float | torch.Tensor = NU) -> Split:
    """Burgers' solver: :class:`ViscousDiffusion` then :class:`SelfAdvection` in each step (the
    pbdl-book's splitting, first order in time). The lecture's 128 nodes and 32 steps reach
    Courant numbers of about 2, which the semi-Lagrangian half takes.

    Explained in :ref:`04-burgers-dp-the-solver`.
    """
    return Split(ViscousDiffusion(grid, dt, nu), SelfAdvection(grid, dt))
