"""Phase-field model of voids in an irradiated metal (Millett, Rokkam, El-Azab et al., 2011).

Three fields on a periodic 2D grid, stacked as channels of one state tensor
``(batch, 3, nx, ny)``: the vacancy concentration ``c_v``, the interstitial concentration
``c_i`` (both site fractions in [0, 1]) and the order parameter ``eta`` (0 in the solid,
1 in the void). The free energy (per unit volume, in the model's energy units) is::

    F = sum_grid [ h(eta) f_s(c_v, c_i) + j(eta) f_v(c_v, c_i)
                   + kappa_v/2 |grad c_v|^2 + kappa_i/2 |grad c_i|^2 + kappa_eta/2 |grad eta|^2 ] dx^2
    f_s = E_v c_v + E_i c_i + kT [c_v ln c_v + c_i ln c_i + (1 - c_v - c_i) ln(1 - c_v - c_i)]
    f_v = (c_v - 1)^2 + c_i^2,     h(eta) = (eta - 1)^2,     j(eta) = eta^2.

(The paper prints the gradient terms as ``kappa/2 |grad u|`` without the square; the square is
what its chemical potentials and its authors' code use.) With forward differences for the
gradients, the discrete functional derivatives are exactly ``df/du - kappa lap_h u`` with the
five-point laplacian, which :func:`chemical_potentials` returns and the tests check against
autograd of :func:`free_energy`.

Evolution (Cahn-Hilliard for ``c_v``, ``c_i``; Allen-Cahn for ``eta``)::

    dc_v/dt = div(M_v grad mu_v) + xi + P_v - R_iv,     M_v = D_v c_v / kT
    dc_i/dt = div(M_i grad mu_i) + xi + P_i - R_iv,     M_i = D_i c_i / kT
    deta/dt = -L dF/deta + xi + (P_v - P_i)
    R_iv    = (r_bulk + eta^2 r_surf) c_v c_i

``P_v``, ``P_i`` are collision cascades, random events in the solid (``eta < 0.8``), and ``xi``
thermal noise; both are switched on by :class:`Irradiation` and left out of the deterministic
model that NeuraDiff learns.

Where physdl differs from the authors' public code: the code applies the mobility as
``M lap(mu)``, which does not conserve ``c_v`` or ``c_i`` when ``M`` varies in space; physdl
uses the conservative ``div(M grad mu)`` of the paper's equations, with the mobility averaged
onto cell faces (``conservative=False`` gives the code's form). Fields are clipped to [0, 1]
after each step as in the code (``clip=False`` turns this off, for example to check mass
bookkeeping), and logarithms are floored at ``1e-6``.

Units: lengths in grid units of ``dx``, time in units of ``dt``; ``D`` in length^2 / time,
``L`` in 1 / (energy time), ``kappa`` in energy length^2.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch

from physdl.config import generator_device
from physdl.ops.checks import check_dtype, check_finite, check_generator, check_int, check_tensor, finite_tensor
from physdl.ops.grid import Grid, as_float, finite_float, positive_float
from physdl.ops.stencils import laplacian
from physdl.ops.transport import flux_divergence, gradient_energy, periodic_offset
from physdl.pde.stepper import Stepper, as_dt

FIELDS = ("c_v", "c_i", "eta")
LOG_FLOOR = 1e-6
SOLID_THRESHOLD = 0.8


@dataclass(frozen=True)
class VoidParameters:
    """The nine parameters ``P`` of the model, all positive.

    Values are floats, or tensors that broadcast against ``(batch, 1, 1, 1)`` (for example one
    value per batch member). Defaults are the synthetic ground truth of the NeuraDiff code.

    Used in :ref:`06-neuradiff-training`.
    """

    E_v: float | torch.Tensor = 8.0  # vacancy formation energy
    E_i: float | torch.Tensor = 8.0  # interstitial formation energy
    kT: float | torch.Tensor = 5.0  # thermal energy
    kappa_v: float | torch.Tensor = 1.0  # gradient energy coefficients
    kappa_i: float | torch.Tensor = 1.0
    kappa_eta: float | torch.Tensor = 1.0
    D_v: float | torch.Tensor = 1.0  # diffusivities (the mobility is D c / kT)
    D_i: float | torch.Tensor = 1.0
    L: float | torch.Tensor = 1.0  # Allen-Cahn mobility of eta

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if torch.is_tensor(value):
                check_tensor(value, f"parameter {f.name}")
                if value.numel() == 0:
                    raise ValueError(f"parameter {f.name} is an empty tensor")
                finite = bool(torch.isfinite(value.detach()).all())
                smallest = float(value.detach().min())
            else:
                smallest = as_float(value, f.name)
                finite = math.isfinite(smallest)
            if not (finite and smallest > 0):
                raise ValueError(f"parameter {f.name} must be positive and finite, got {value!r}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def as_dict(self) -> dict[str, float]:
        """The parameters as plain floats (tensors must hold one value)."""
        return {k: float(v) for k, v in asdict(self).items()}

    def as_tensor(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The nine values in :meth:`names` order, shape ``(9,)``."""
        return torch.tensor([float(getattr(self, k)) for k in self.names()], dtype=dtype, device="cpu")


@dataclass(frozen=True)
class Irradiation:
    """Stochastic sources of the ground-truth simulator (the authors' code values).

    Attributes:
        cascade_probability: chance per solid pixel and step of a collision cascade.
        cascade_strength: a cascade adds ``U(0, 1) * cascade_strength`` (per unit time).
        vacancy_fraction: share of a cascade that goes to vacancies (the rest to interstitials).
        noise: standard deviation of the thermal noise ``xi`` (per unit time).
        r_bulk, r_surf: recombination rates in the bulk and at void surfaces (deterministic,
            used by every step).

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """

    cascade_probability: float = 0.01
    cascade_strength: float = 0.01
    vacancy_fraction: float = 0.3
    noise: float = 0.01
    r_bulk: float = 5.0
    r_surf: float = 10.0

    def __post_init__(self) -> None:
        for f in fields(self):  # numbers, NumPy scalars or 0-d tensors, stored as floats
            object.__setattr__(self, f.name, finite_float(getattr(self, f.name), f.name))
        for name in ("cascade_probability", "vacancy_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        for name in ("cascade_strength", "noise", "r_bulk", "r_surf"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")


def check_state(state: torch.Tensor, name: str = "state", bounded: bool = True) -> None:
    """Raise ``ValueError`` unless ``state`` is ``(batch, 3, nx, ny)`` with fields in [0, 1].

    ``TypeError`` when ``state`` is not a floating-point tensor; ``bounded=False`` only asks
    for finite values.
    """
    check_tensor(state, name)
    if not isinstance(bounded, bool):
        raise TypeError(f"bounded must be True or False, got {bounded!r}")
    if state.dim() != 4 or state.shape[1] != 3 or 0 in state.shape:
        raise ValueError(f"{name} must be (batch, 3, nx, ny) with channels {FIELDS}, got {tuple(state.shape)}")
    if not torch.isfinite(state).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if bounded and (state.min() < 0 or state.max() > 1):
        raise ValueError(
            f"{name} has values in [{float(state.min()):.3g}, {float(state.max()):.3g}]; "
            "c_v, c_i and eta are fractions and must lie in [0, 1]"
        )


def _check_model(state: object, p: object, dx: object, name: str = "state") -> float:
    """Check the arguments shared by the model's functions; return ``dx`` as a float.

    ``state`` is a finite ``(batch, 3, nx, ny)`` field (not bounded: rates are asked of
    intermediate states too), ``p`` a :class:`VoidParameters` whose tensors hold one value or
    one per sample, ``dx`` a positive spacing.
    """
    _check_fields(state, name)
    check_parameters(p, state.shape[0], name)
    return positive_float(dx, "dx")


def _check_fields(state: object, name: str) -> None:
    """A finite ``(batch, 3, nx, ny)`` tensor; the finiteness check is skipped inside
    :func:`physdl.ops.checks.trusted` blocks (rollouts and fit check their states once)."""
    check_tensor(state, name)
    if state.dim() != 4 or state.shape[1] != 3 or 0 in state.shape:
        raise ValueError(f"{name} must be (batch, 3, nx, ny) with channels {FIELDS}, got {tuple(state.shape)}")
    check_finite(state, name)


def check_parameters(p: object, batch: int | None = None, state_name: str = "state", name: str = "p") -> VoidParameters:
    """``p`` if it is a :class:`VoidParameters` whose tensors hold one value or ``batch`` values
    (``TypeError`` naming ``name`` otherwise)."""
    if not isinstance(p, VoidParameters):
        raise TypeError(f"{name} must be a VoidParameters, got {type(p).__name__}")
    for f in fields(p):
        value = getattr(p, f.name)
        if batch is not None and torch.is_tensor(value) and value.numel() not in (1, batch):
            raise ValueError(f"parameter {f.name} holds {value.numel()} values, one per sample, but {state_name} "
                             f"has a batch of {batch}")
    return p


def _check_irradiation(irradiation: object, name: str = "irradiation") -> Irradiation:
    if not isinstance(irradiation, Irradiation):
        raise TypeError(f"{name} must be an Irradiation, got {type(irradiation).__name__}")
    return irradiation


def _p(value, like: torch.Tensor):
    """A parameter as a number or a tensor shaped to broadcast against (batch, nx, ny)."""
    if torch.is_tensor(value):
        value = value.to(like)
        return value.reshape(-1, 1, 1) if value.numel() > 1 else value.reshape(())
    return value


def _log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x.clamp_min(LOG_FLOOR))


def solid_free_energy(c_v: torch.Tensor, c_i: torch.Tensor, p: VoidParameters) -> torch.Tensor:
    """``f_s(c_v, c_i)``: formation energies plus the ideal entropy of mixing (energy / volume).

    ``c_v``, ``c_i``: site fractions shaped ``(batch, nx, ny)`` (or one shape that broadcasts
    against ``p``'s per-sample tensors); logarithms are floored at :data:`LOG_FLOOR`.
    """
    c_v, c_i = _check_pair(c_v, c_i)
    check_parameters(p, c_v.shape[0] if c_v.dim() == 3 else None)
    kT = _p(p.kT, c_v)
    rest = 1 - c_v - c_i
    return (_p(p.E_v, c_v) * c_v + _p(p.E_i, c_v) * c_i
            + kT * (c_v * _log(c_v) + c_i * _log(c_i) + rest * _log(rest)))


def _check_pair(c_v: object, c_i: object) -> tuple[torch.Tensor, torch.Tensor]:
    c_v, c_i = finite_tensor(c_v, "c_v"), finite_tensor(c_i, "c_i")
    if c_v.shape != c_i.shape:
        raise ValueError(f"c_v and c_i must have one shape, got {tuple(c_v.shape)} and {tuple(c_i.shape)}")
    return c_v, c_i


def void_free_energy(c_v: torch.Tensor, c_i: torch.Tensor) -> torch.Tensor:
    """``f_v(c_v, c_i) = (c_v - 1)^2 + c_i^2``: zero for a void full of vacancies (elementwise)."""
    c_v, c_i = _check_pair(c_v, c_i)
    return (c_v - 1) ** 2 + c_i**2


def free_energy(state: torch.Tensor, p: VoidParameters, dx: float) -> torch.Tensor:
    """Total free energy of each state (forward-difference gradients), shape ``(batch,)``.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    dx = _check_model(state, p, dx)
    c_v, c_i, eta = state.unbind(1)
    bulk = (eta - 1) ** 2 * solid_free_energy(c_v, c_i, p) + eta**2 * void_free_energy(c_v, c_i)

    grad = gradient_energy(state, dx).unbind(1)
    density = (bulk + _p(p.kappa_v, c_v) * grad[0] + _p(p.kappa_i, c_v) * grad[1] + _p(p.kappa_eta, c_v) * grad[2])
    return density.sum(dim=(-2, -1)) * dx**2


def chemical_potentials(state: torch.Tensor, p: VoidParameters, dx: float) -> torch.Tensor:
    """Functional derivatives ``(mu_v, mu_i, dF/deta)`` of :func:`free_energy` per unit volume.

    ``mu_v = h df_s/dc_v + j df_v/dc_v - kappa_v lap c_v`` (likewise ``mu_i``) and
    ``dF/deta = 2 (eta - 1) f_s + 2 eta f_v - kappa_eta lap eta``.

    Args:
        state: ``(batch, 3, nx, ny)`` fields ``c_v, c_i, eta``.
        p: the model parameters.
        dx: grid spacing.

    Returns:
        ``(batch, 3, nx, ny)``, energy per unit volume.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    dx = _check_model(state, p, dx)
    c_v, c_i, eta = state.unbind(1)
    kT = _p(p.kT, c_v)
    h, j = (eta - 1) ** 2, eta**2
    log_rest = _log(1 - c_v - c_i)
    lap = laplacian(state, dx)
    mu_v = h * (_p(p.E_v, c_v) + kT * (_log(c_v) - log_rest)) + j * 2 * (c_v - 1) - _p(p.kappa_v, c_v) * lap[:, 0]
    mu_i = h * (_p(p.E_i, c_v) + kT * (_log(c_i) - log_rest)) + j * 2 * c_i - _p(p.kappa_i, c_v) * lap[:, 1]
    d_eta = (2 * (eta - 1) * solid_free_energy(c_v, c_i, p) + 2 * eta * void_free_energy(c_v, c_i)
             - _p(p.kappa_eta, c_v) * lap[:, 2])
    return torch.stack([mu_v, mu_i, d_eta], dim=1)


def mobility_divergence(mobility: torch.Tensor, mu: torch.Tensor, dx: float, conservative: bool = True) -> torch.Tensor:
    """``div(M grad mu)`` with face-averaged ``M`` (sums to zero), or the code's ``M lap(mu)``.

    Args:
        mobility, mu: ``(batch, 1, nx, ny)`` fields on the periodic grid.
        dx: grid spacing.
        conservative: ``False`` gives ``M lap_h(mu)``, the authors' code form.
    """
    for x, name in ((mobility, "mobility"), (mu, "mu")):
        finite_tensor(x, name)
        if x.dim() != 4 or x.shape[1] != 1 or 0 in x.shape:
            raise ValueError(f"{name} must be (batch, 1, nx, ny), got {tuple(x.shape)}")
    if mobility.shape != mu.shape:
        raise ValueError(f"mobility {tuple(mobility.shape)} and mu {tuple(mu.shape)} must have one shape")
    if not isinstance(conservative, bool):
        raise TypeError(f"conservative must be True or False, got {conservative!r}")
    if not conservative:
        return mobility * laplacian(mu, dx)
    return flux_divergence(mobility, mu, dx)


def recombination(state: torch.Tensor, irradiation: Irradiation) -> torch.Tensor:
    """``R_iv = (r_bulk + eta^2 r_surf) c_v c_i``, shape ``(batch, nx, ny)`` (per unit time)."""
    _check_fields(state, "state")
    _check_irradiation(irradiation)
    c_v, c_i, eta = state.unbind(1)
    return (irradiation.r_bulk + eta**2 * irradiation.r_surf) * c_v * c_i


def cascades(eta: torch.Tensor, irradiation: Irradiation, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random collision cascades in the solid: ``(P_v, P_i)``, each shaped like ``eta``."""
    finite_tensor(eta, "eta")
    _check_irradiation(irradiation)
    check_generator(generator)
    drawn = generator_device(generator) or eta.device  # a CPU generator draws on the CPU
    hit = torch.rand(eta.shape, generator=generator, dtype=eta.dtype, device=drawn) < irradiation.cascade_probability
    strength = torch.rand(eta.shape, generator=generator, dtype=eta.dtype, device=drawn) * irradiation.cascade_strength
    source = (hit & (eta.cpu() < SOLID_THRESHOLD)) * strength
    source = source.to(eta.device)
    return irradiation.vacancy_fraction * source, (1 - irradiation.vacancy_fraction) * source


def rates(state: torch.Tensor, p: VoidParameters, dx: float, irradiation: Irradiation | None = None,
          conservative: bool = True) -> torch.Tensor:
    """Deterministic time derivative of the state (no cascades, no noise), ``(batch, 3, nx, ny)``."""
    dx = _check_model(state, p, dx)
    irradiation = Irradiation() if irradiation is None else _check_irradiation(irradiation)
    mu = chemical_potentials(state, p, dx)
    c_v, c_i, _ = state.unbind(1)
    m_v = _p(p.D_v, c_v) * c_v / _p(p.kT, c_v)
    m_i = _p(p.D_i, c_v) * c_i / _p(p.kT, c_v)
    r_iv = recombination(state, irradiation)
    dc_v = mobility_divergence(m_v[:, None], mu[:, :1], dx, conservative)[:, 0] - r_iv
    dc_i = mobility_divergence(m_i[:, None], mu[:, 1:2], dx, conservative)[:, 0] - r_iv
    d_eta = -_p(p.L, c_v) * mu[:, 2]
    return torch.stack([dc_v, dc_i, d_eta], dim=1)


def stability_limit(p: VoidParameters, dx: float, state: torch.Tensor | None = None) -> float:
    """An upper bound on a stable forward-Euler time step (time units).

    Linearised about the worst case: the Cahn-Hilliard fields diffuse with rate up to
    ``2 D lambda`` and carry a fourth-order term ``M kappa lambda^2`` with mobility
    ``M = D c / kT``; the Allen-Cahn field relaxes at rate
    ``L (2 max(f_s + f_v) + kappa_eta lambda)``, where ``lambda = 8 / dx^2`` is the largest
    eigenvalue of ``-lap_h``. The limit is ``2 / rate`` for the fastest of them. ``c`` is the
    largest concentration in ``state`` when one is given (the mobility is proportional to
    it), else 1.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    check_parameters(p)
    dx = positive_float(dx, "dx")
    val = {f.name: float(torch.as_tensor(getattr(p, f.name), device="cpu").detach().max()) for f in fields(p)}
    c_v_max, c_i_max = 1.0, 1.0
    if state is not None:
        check_state(state, bounded=False)
        c_v_max, c_i_max = float(state[:, 0].detach().max()), float(state[:, 1].detach().max())
    lam = 8 / dx**2
    ch_v = val["D_v"] * (2 * lam + c_v_max * val["kappa_v"] * lam**2 / val["kT"])
    ch_i = val["D_i"] * (2 * lam + c_i_max * val["kappa_i"] * lam**2 / val["kT"])
    fs_max = max(val["E_v"], val["E_i"]) + val["kT"] * math.log(2)
    ac = val["L"] * (2 * (fs_max + 2) + val["kappa_eta"] * lam)
    return 2 / max(ch_v, ch_i, ac)


def check_stability(p: VoidParameters, dt: float, dx: float, state: torch.Tensor | None = None) -> None:
    """Raise ``ValueError`` when ``dt`` exceeds :func:`stability_limit`, naming the bound."""
    dt, dx = as_dt(dt), positive_float(dx, "dx")
    limit = stability_limit(p, dx, state)
    if dt > limit:
        raise ValueError(
            f"dt = {dt:g} exceeds the explicit stability limit {limit:.4g} of the void phase-field "
            f"model at dx = {dx:g} (set by D (16/dx^2 + 64 c kappa/(kT dx^4)) and "
            f"L (2 max(f_s + f_v) + 8 kappa_eta/dx^2)); use dt <= {limit:.4g} or smaller D, kappa, L"
        )


def _add_sources(state: torch.Tensor, du: torch.Tensor, irradiation: Irradiation,
                 generator: torch.Generator | None) -> torch.Tensor:
    """``du`` plus collision cascades and thermal noise (the stochastic ground truth)."""
    p_v, p_i = cascades(state[:, 2], irradiation, generator)
    drawn = generator_device(generator) or state.device
    noise = torch.randn(state.shape, generator=generator, dtype=state.dtype, device=drawn).to(state.device)
    noise = noise * irradiation.noise
    return du + noise + torch.stack([p_v, p_i, p_v - p_i], dim=1)


class VoidStepper(Stepper):
    """One forward-Euler step of the void model on a periodic 2D grid; state ``(batch, 3, nx, ny)``.

    Args:
        grid: periodic 2D :class:`Grid` (isotropic spacing).
        dt: time step (time units), at most :func:`stability_limit` for concentrations up to 1
            (checked here; a rollout checks it again against its initial state when ``p`` holds
            trainable tensors).
        p: model parameters (floats or tensors; differentiable).
        irradiation: source and recombination settings (defaults: :class:`Irradiation`).
        stochastic: add cascades and thermal noise (the ground-truth simulator).
        generator: random generator for the stochastic terms (CPU).
        conservative: ``div(M grad mu)`` (``True``) or the code's ``M lap(mu)``.
        clip: clip the fields to [0, 1] after the step.
        check: check ``dt`` (``False``: the caller has checked it, e.g. against a known state).

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """

    channels = 3

    def __init__(self, grid: Grid, dt: float, p: VoidParameters = VoidParameters(),
                 irradiation: Irradiation | None = None, stochastic: bool = False,
                 generator: torch.Generator | None = None, conservative: bool = True, clip: bool = True,
                 check: bool = True) -> None:
        if not isinstance(grid, Grid) or grid.dims != 2 or not grid.periodic:
            raise ValueError(f"the void model needs a periodic 2D grid, got {grid}")
        if len(set(grid.spacing)) != 1:
            raise ValueError(f"the void model needs an isotropic grid, got spacing {grid.spacing}")
        self.grid, self.dt, self.p = grid, as_dt(dt), check_parameters(p)
        self.irradiation = Irradiation() if irradiation is None else _check_irradiation(irradiation)
        for flag, name in ((stochastic, "stochastic"), (conservative, "conservative"), (clip, "clip"), (check, "check")):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        check_generator(generator)
        self.stochastic, self.generator = stochastic, generator
        self.conservative, self.clip = conservative, clip
        self.recheck_time_step = any(torch.is_tensor(getattr(p, f.name)) and getattr(p, f.name).requires_grad for f in fields(p))
        if check:
            self.check_time_step()

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        super().check_state(state, name)
        check_state(state, name, bounded=self.clip)
        check_parameters(self.p, state.shape[0], name)

    def stability_limit(self, state: torch.Tensor | None = None) -> float | None:
        return stability_limit(self.p, self.grid.dx, state)

    def limit_description(self) -> str:
        return ("D (16/dx^2 + 64 c kappa/(kT dx^4)) and L (2 max(f_s + f_v) + 8 kappa_eta/dx^2) "
                "of the void phase-field model")

    def step(self, state: torch.Tensor) -> torch.Tensor:
        du = rates(state, self.p, self.grid.dx, self.irradiation, self.conservative)
        if self.stochastic:
            du = _add_sources(state, du, self.irradiation, self.generator)
        new = state + self.dt * du
        return new.clamp(0, 1) if self.clip else new


def disc(n: int, center: tuple[float, float], radius: float, width: float = 1.5,
         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A smooth periodic disc, 1 inside and 0 outside a tanh interface, shape ``(n, n)``.

    ``center`` and ``radius`` are in grid units; distances wrap around the periodic box.
    """
    n, radius, width = check_int(n, "n", 1), positive_float(radius, "radius"), positive_float(width, "width")
    center, dtype = _point(center, "center"), check_dtype(dtype)
    idx = torch.arange(n, dtype=torch.float64, device="cpu")
    dxs = periodic_offset(idx, center[0], n)
    dys = periodic_offset(idx, center[1], n)
    r = torch.sqrt(dxs[:, None] ** 2 + dys[None, :] ** 2)
    return (0.5 * (1 - torch.tanh((r - radius) / width))).to(dtype)


def _point(x: object, name: str) -> tuple[float, float]:
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__") or len(x) != 2:
        raise ValueError(f"{name} must be a pair of coordinates (grid units), got {x!r}")
    return finite_float(x[0], name), finite_float(x[1], name)


def voids_state(n: int, centers: list[tuple[float, float]], radii: list[float], c_v_solid: float | torch.Tensor = 0.2,
                c_i_solid: float = 0.0, width: float = 1.5, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Initial state with voids (``eta = c_v = 1``) in a solid with vacancies ``c_v_solid``.

    Args:
        n: grid points per side.
        centers, radii: one entry per void, in grid units.
        c_v_solid: vacancy fraction in the solid, a number or an ``(n, n)`` field.
        c_i_solid: interstitial fraction in the solid.
        width: interface width (grid units).

    Returns:
        ``(1, 3, n, n)`` state.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    n, dtype = check_int(n, "n", 1), check_dtype(dtype)
    for x, name in ((centers, "centers"), (radii, "radii")):
        if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
            raise TypeError(f"{name} must be a list, got {type(x).__name__}")
    if len(centers) != len(radii) or not centers:
        raise ValueError("give one radius per void centre (centers, radii), and at least one void")
    c_i_solid = finite_float(c_i_solid, "c_i_solid")
    if isinstance(c_v_solid, torch.Tensor) and c_v_solid.dim():
        finite_tensor(c_v_solid, "c_v_solid")
        if tuple(c_v_solid.shape) != (n, n):
            raise ValueError(f"c_v_solid must be a number or an ({n}, {n}) field, got shape {tuple(c_v_solid.shape)}")
    else:
        c_v_solid = finite_float(c_v_solid, "c_v_solid")
    eta = torch.zeros(n, n, dtype=dtype, device="cpu")
    for c, r in zip(centers, radii):
        eta = torch.maximum(eta, disc(n, c, r, width, dtype))
    c_v = eta + (1 - eta) * torch.as_tensor(c_v_solid, dtype=dtype, device=eta.device)
    c_i = (1 - eta) * c_i_solid
    state = torch.stack([c_v, c_i, eta])[None]
    check_state(state, "initial state")
    return state


def vacancy_gradient(n: int, mean: float, amplitude: float, direction: float = 0.0,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A periodic vacancy field ``mean + amplitude cos(k . x)`` with one wavelength across the box.

    ``direction`` is the angle (radians) of the wave vector; the supersaturation is highest
    at the box centre, so a void placed off centre grows towards it (it drifts).

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    n, dtype = check_int(n, "n", 1), check_dtype(dtype)
    mean, amplitude = finite_float(mean, "mean"), finite_float(amplitude, "amplitude")
    direction = finite_float(direction, "direction")
    idx = torch.arange(n, dtype=torch.float64, device="cpu") - n / 2
    phase = 2 * math.pi / n * (math.cos(direction) * idx[:, None] + math.sin(direction) * idx[None, :])
    field = mean + amplitude * torch.cos(phase)
    if field.min() <= 0 or field.max() >= 1:
        raise ValueError(f"mean +- amplitude must stay inside (0, 1), got mean = {mean:g}, amplitude = {amplitude:g}")
    return field.to(dtype)


def void_area(eta: torch.Tensor, dx: float = 1.0, threshold: float = 0.5) -> torch.Tensor:
    """Area of ``eta >= threshold`` in length^2, over the last two axes.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    finite_tensor(eta, "eta")
    dx, threshold = positive_float(dx, "dx"), finite_float(threshold, "threshold")
    if eta.dim() < 2:
        raise ValueError(f"eta needs two spatial axes, got shape {tuple(eta.shape)}")
    return (eta >= threshold).to(eta.dtype).sum(dim=(-2, -1)) * dx**2


def void_centroid(eta: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Periodic centroid (grid units) of ``eta >= threshold``, shape ``(..., 2)``.

    Uses the circular mean along each axis, so a void that crosses the boundary is handled.
    A frame with no pixel at or above ``threshold`` has no centroid: ``ValueError``.

    Used in :ref:`06-neuradiff-the-phase-field-model-of-voids`.
    """
    finite_tensor(eta, "eta")
    threshold = finite_float(threshold, "threshold")
    if eta.dim() < 2 or eta.shape[-1] != eta.shape[-2]:
        raise ValueError(f"eta must end in two equal spatial axes (a square periodic box), got {tuple(eta.shape)}")
    mask = (eta >= threshold).to(torch.float64)
    if mask.numel() and not bool((mask.sum((-2, -1)) > 0).all()):
        raise ValueError(f"eta has a frame with no pixel at or above threshold = {threshold:g}: no void to locate")
    n = eta.shape[-1]
    angle = 2 * math.pi * torch.arange(n, dtype=torch.float64, device="cpu") / n
    out = []
    for axis, weights in ((-2, mask.sum(-1)), (-1, mask.sum(-2))):
        z = (weights * torch.exp(1j * angle)).sum(-1)
        out.append(torch.remainder(torch.angle(z) / (2 * math.pi) * n, n))
    return torch.stack(out, dim=-1)
