"""The SAFE-PIT-CM model: the frozen operator and the autoencoder around it.

The operator: a frozen, sub-stepped forward Euler heat step between two frames.

One frame interval ``dt_save`` is split into ``substeps`` Euler steps of
``dt_sub = dt_save / substeps`` of ``du/dt = alpha L u`` (``L = -lap_h``, the sign convention
of :mod:`physdl.pde.heat`). On a periodic grid the five-point stencil is diagonal in Fourier
space, so the ``substeps`` steps are one multiplication of mode ``k`` by
``(1 + dt_sub alpha lambda_k)^substeps``. ``method="spectral"`` (the default) does exactly
that; ``method="stencil"`` loops over the sub-steps. The two agree to rounding.

Direction: with ``direction="stable"`` (physdl's choice) the operator always diffuses. A
diffusion video is propagated forwards, frame ``t`` to frame ``t + 1`` with ``alpha < 0``; a
mobility video (``alpha > 0``) is propagated backwards, frame ``t + 1`` to frame ``t`` with
``-alpha``, which is the diffusion run it came from. ``direction="forward"`` propagates every
video forwards with its signed ``alpha`` (anti-diffusion for mobility), as the paper's
equations read; it is kept to show what it costs.

The autoencoder: encoder, attention-based estimator of alpha, decoder.

Shapes: a video is ``(batch, time, 1, nx, ny)``; ``alpha`` and ``sign`` are ``(batch,)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from physdl.nn.conv import Conv2d
from physdl.nn.inference import check_input
from physdl.ops.checks import check_choice, check_int, check_tensor, finite_tensor
from physdl.ops.grid import Grid, positive_float
from physdl.ops.symbols import laplacian_symbol
from physdl.pde import heat
from physdl.pde.stepper import Stepper, rollout

METHODS = ("spectral", "stencil")
#: What :class:`SafeOperator` does with a diffusion coefficient beyond its von Neumann limit.
UNSTABLE = ("raise", "allow")
DIRECTIONS = ("stable", "forward")


def _alpha_like(alpha: torch.Tensor, field: torch.Tensor, name: str = "alpha") -> torch.Tensor:
    """Reshape ``alpha (batch,)`` to broadcast against ``field (batch, ..., nx, ny)``."""
    if alpha.dim() == 0:
        return alpha
    if alpha.dim() != 1 or alpha.shape[0] != field.shape[0]:
        raise ValueError(f"{name} must be a number or hold one value per sample ({field.shape[0]}), "
                         f"got shape {tuple(alpha.shape)}")
    return alpha.reshape(alpha.shape[0], *([1] * (field.dim() - 1)))


def check_operator(operator: object) -> "SafeOperator":
    """``operator`` if it is a :class:`SafeOperator`; ``TypeError`` otherwise."""
    if not isinstance(operator, SafeOperator):
        raise TypeError(f"operator must be a SafeOperator, got {type(operator).__name__}")
    return operator


def check_sign(sign: object, batch: int, like: torch.Tensor, name: str = "sign") -> torch.Tensor:
    """``sign`` (numbers or a tensor, one per video) as a ``(batch,)`` tensor of -1 and +1 like ``like``."""
    if isinstance(sign, (str, bytes)):
        raise TypeError(f"{name} must be -1 / +1 per video, got a string")
    try:
        values = torch.as_tensor(sign, device=like.device)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be -1 / +1 per video (numbers or a tensor), got {type(sign).__name__}") from None
    if values.dtype == torch.bool or values.is_complex():
        raise TypeError(f"{name} must be -1 / +1 per video, got a {values.dtype} tensor")
    values = values.to(like.dtype).reshape(-1)
    if values.shape[0] != batch or not bool((values.abs() == 1).all()):
        raise ValueError(f"{name} must hold -1 (diffusion) or +1 (mobility) for each of the {batch} videos, "
                         f"got {values.tolist()}")
    return values


def check_sign_value(sign: object) -> int:
    """One video's process type: the integer -1 (diffusion) or +1 (mobility)."""
    value = check_int(sign, "sign")
    if value not in (-1, 1):
        raise ValueError(f"sign must be -1 (diffusion) or +1 (mobility), got {value}")
    return value


def _alpha_tensor(alpha: object, like: torch.Tensor) -> torch.Tensor:
    """``alpha`` (a number, 0-d or ``(batch,)`` tensor) as a tensor of ``like``'s dtype and device."""
    if isinstance(alpha, torch.Tensor):
        check_tensor(alpha, "alpha")
        return alpha.to(like.dtype)
    if isinstance(alpha, (str, bytes, bool)) or not isinstance(alpha, (int, float, np.floating, np.integer)):
        raise TypeError(f"alpha must be a number or a tensor, got {type(alpha).__name__}")
    return torch.as_tensor(float(alpha), dtype=like.dtype, device=like.device)


class SafeOperator(nn.Module):
    """Frozen sub-stepped heat propagator over one frame interval (no trainable parameters).

    Args:
        dt_save: time between frames.
        dx: grid spacing.
        substeps: Euler sub-steps per frame interval (the paper's ``N_sub``).
        method: ``"spectral"`` or ``"stencil"``.
        unstable: ``"raise"`` (default): a diffusion coefficient ``alpha < -alpha_limit``, whose
            sub-steps amplify the finest modes, is a ``ValueError``; ``"allow"``: run it anyway
            (the sub-step ablation of the chapter does, to show the collapse). Anti-diffusion
            (``alpha > 0``) grows as the equation itself does and is always run.

    Explained in :ref:`05-safe-von-neumann-stability-of-the-frozen-operator`.
    """

    def __init__(self, dt_save: float, dx: float, substeps: int = 50, method: str = "spectral",
                 unstable: str = "raise") -> None:
        super().__init__()
        dt_save, dx = positive_float(dt_save, "dt_save"), positive_float(dx, "dx")
        substeps = check_int(substeps, "substeps", 1)
        check_choice(method, "method", METHODS)
        check_choice(unstable, "unstable", UNSTABLE)
        self.dt_save, self.dx, self.substeps, self.method = dt_save, dx, substeps, method
        self.unstable = unstable
        self._eigenvalues: dict[tuple, torch.Tensor] = {}

    @property
    def dt_sub(self) -> float:
        """Sub-step size ``dt_save / substeps``."""
        return self.dt_save / self.substeps

    @property
    def alpha_limit(self) -> float:
        """Largest ``|alpha|`` for which the diffusion sub-step is von Neumann stable."""
        return heat.von_neumann_limit(self.dt_sub, self.dx)

    def extra_repr(self) -> str:
        return (f"dt_save={self.dt_save}, dx={self.dx}, substeps={self.substeps}, method={self.method!r}, "
                f"unstable={self.unstable!r}")

    def check_alpha(self, alpha: torch.Tensor) -> None:
        """Raise ``ValueError`` for NaN / infinite ``alpha`` and, unless ``unstable="allow"``, for
        diffusion beyond :attr:`alpha_limit` (one host synchronisation)."""
        if not bool(torch.isfinite(alpha).all()):
            raise ValueError("alpha contains NaN or infinite values")
        if self.unstable == "raise" and alpha.numel() and float(alpha.detach().min()) < -self.alpha_limit:
            worst = float(alpha.detach().min())
            needed = math.ceil(self.substeps * abs(worst) / self.alpha_limit)
            raise ValueError(
                f"alpha = {worst:.4g} exceeds the von Neumann limit |alpha| <= {self.alpha_limit:.4g} of "
                f"{self.substeps} sub-steps of dt_sub = {self.dt_sub:.4g}: the finest modes would grow instead of "
                f"decaying. Use substeps >= {needed}, or unstable='allow' to run the unstable operator on purpose")

    def eigenvalues(self, shape: tuple[int, int], dtype: torch.dtype, device) -> torch.Tensor:
        """``lambda_k`` of ``L = -lap_h`` in ``rfft2`` layout, ``(nx, ny // 2 + 1)`` (cached)."""
        key = (tuple(shape), dtype, str(device))
        if key not in self._eigenvalues:
            lam = -laplacian_symbol(shape, self.dx, dtype=dtype, device=device)
            self._eigenvalues[key] = lam[..., : shape[-1] // 2 + 1].contiguous()
        return self._eigenvalues[key]

    def multiplier(self, alpha: torch.Tensor, shape: tuple[int, int], dtype: torch.dtype, device) -> torch.Tensor:
        """``(1 + dt_sub alpha lambda_k)^substeps``, ``(*alpha.shape, nx, ny // 2 + 1)``."""
        self.check_alpha(alpha)
        lam = self.eigenvalues(shape, dtype, device)
        return (1 + self.dt_sub * alpha[..., None, None] * lam) ** self.substeps

    def forward(self, field: torch.Tensor, alpha: torch.Tensor | float) -> torch.Tensor:
        """Propagate ``field (batch, ..., nx, ny)`` by one frame interval with ``alpha (batch,)``."""
        finite_tensor(field, "field")
        if field.dim() < 3 or not field.numel():
            raise ValueError(f"field must be shaped (batch, ..., nx, ny), got shape {tuple(field.shape)}")
        alpha = _alpha_tensor(alpha, field)
        _alpha_like(alpha, field)  # one value, or one per sample
        if self.method == "stencil":
            return self._stencil(field, alpha)
        shape = tuple(field.shape[-2:])
        gain = self.multiplier(_alpha_like(alpha, field[..., 0, 0]), shape, field.dtype, field.device)
        return torch.fft.irfft2(torch.fft.rfft2(field) * gain, s=shape)


    def _stencil(self, field: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """``substeps`` forward Euler steps of :class:`physdl.pde.heat.HeatEuler` (a rollout)."""
        space = tuple(field.shape[-2:])
        self.check_alpha(alpha)
        if alpha.dim() > 0:
            _alpha_like(alpha, field)  # checks the batch size
            alpha = alpha.reshape(-1, *[1] * (field.dim() - 3)).expand(field.shape[:-2]).reshape(-1)
        # Frozen operator: any alpha runs, stable or not (the caller decides what to feed it).
        stepper = heat.HeatEuler(Grid(space, self.dx), self.dt_sub, alpha, check=False)
        flat = field.reshape(-1, 1, *space)
        out = rollout(stepper, flat, self.substeps, self.substeps, include_initial=False, check_finite=False)
        return out[:, -1].reshape(field.shape)

    def stepper(self, alpha: torch.Tensor | float) -> "SafeStepper":
        """This operator with a fixed ``alpha`` as a :class:`~physdl.pde.stepper.Stepper` (one frame interval)."""
        return SafeStepper(self, alpha)


class SafeStepper(Stepper):
    """The SAFE operator with a fixed coefficient: one step is one frame interval ``dt_save``.

    ``alpha``: a number or one value per sample (length^2 / time). States are
    ``(batch, ..., nx, ny)`` of any size (``(batch, 1, nx, ny)`` for a latent frame).
    """

    def __init__(self, operator: SafeOperator, alpha: torch.Tensor | float) -> None:
        self.operator, self.alpha, self.dt = operator, alpha, operator.dt_save

    def step(self, state: torch.Tensor) -> torch.Tensor:
        return self.operator(state, self.alpha)


def frame_pairs(latent: torch.Tensor, sign: torch.Tensor, direction: str = "stable") -> tuple[torch.Tensor, torch.Tensor]:
    """``(source, target)`` frame pairs ``(batch, time - 1, ..., nx, ny)`` for the SAFE loss.

    With ``direction="stable"`` a mobility video (``sign > 0``) is read backwards, so that the
    operator maps each source to its target by diffusion.
    """
    check_choice(direction, "direction", DIRECTIONS)
    finite_tensor(latent, "latent")
    if latent.dim() < 4 or latent.shape[1] < 2 or not latent.numel():
        raise ValueError(f"latent must be a video (batch, time >= 2, ..., nx, ny), got shape {tuple(latent.shape)}")
    sign = check_sign(sign, latent.shape[0], latent)
    early, late = latent[:, :-1], latent[:, 1:]
    if direction == "forward":
        return early, late
    backwards = _alpha_like(sign, early, "sign") > 0
    return torch.where(backwards, late, early), torch.where(backwards, early, late)


def propagation_alpha(alpha: torch.Tensor, direction: str = "stable") -> torch.Tensor:
    """The coefficient the operator runs with: ``-|alpha|`` (stable) or ``alpha`` (forward)."""
    return -alpha.abs() if direction == "stable" else alpha


def safe_residual(operator: SafeOperator, latent: torch.Tensor, alpha: torch.Tensor, sign: torch.Tensor,
                  direction: str = "stable") -> torch.Tensor:
    """``P - target`` for every frame pair, ``(batch, time - 1, ..., nx, ny)``."""
    check_operator(operator)
    source, target = frame_pairs(latent, sign, direction)
    return operator(source, propagation_alpha(alpha, direction)) - target


def safe_loss(operator: SafeOperator, latent: torch.Tensor, alpha: torch.Tensor, sign: torch.Tensor,
              direction: str = "stable") -> torch.Tensor:
    """The SAFE (physics) loss: mean squared ``P[t] - F[t+1]`` over pairs, pixels and batch.

    Explained in :ref:`05-safe-what-the-method-reduces-to`.
    """
    return safe_residual(operator, latent, alpha, sign, direction).pow(2).mean()


class SpectralPairs:
    """The SAFE loss of a fixed latent video as a cheap function of ``alpha`` alone.

    When the encoder is frozen the frame pairs do not change. The operator's gain ``g_k`` is
    real and the same for every frame of a video, so by Parseval's identity

        sum_t mean_x (P_t - T_t)^2 = sum_k w_k (g_k^2 S_k - 2 g_k C_k + E_k) / (nx ny)^2

    with ``S = sum_t |src_t|^2``, ``C = sum_t Re(src_t conj(tgt_t))`` and ``E = sum_t |tgt_t|^2``
    over the ``rfft2`` of the pairs (``w_k`` counts the modes ``rfft2`` leaves out). The three
    sums are taken once, in float64 to avoid cancellation near the minimum; each evaluation then
    costs a few operations per Fourier mode. Used by zero-shot inference, phase 1 of training
    and the loss landscape; it equals :func:`safe_loss` to rounding.

    Args:
        operator: the SAFE operator.
        latent: ``(batch, time, 1, nx, ny)``.
        sign: ``(batch,)`` process type.
        direction: ``"stable"`` or ``"forward"``.

    Explained in :ref:`05-safe-zero-shot-recovery`.
    """

    def __init__(self, operator: SafeOperator, latent: torch.Tensor, sign: torch.Tensor,
                 direction: str = "stable") -> None:
        self.operator, self.direction = check_operator(operator), direction
        _check_video(latent, "latent")
        self.dtype, self.device = latent.dtype, latent.device
        self.shape = tuple(latent.shape[-2:])
        nx, ny = self.shape
        with torch.no_grad():
            source, target = frame_pairs(latent.detach(), sign, direction)
            self.pairs = source[0, ..., 0, 0].numel()  # frame pairs per video
            src = torch.fft.rfft2(source.double())
            tgt = torch.fft.rfft2(target.double())
            over = tuple(range(1, src.dim() - 2))
            self.ss = src.abs().pow(2).sum(dim=over)
            self.st = (src * tgt.conj()).real.sum(dim=over)
            self.tt = tgt.abs().pow(2).sum(dim=over)
        weight = torch.full((ny // 2 + 1,), 2.0, dtype=torch.float64, device=latent.device)
        weight[0] = 1.0
        if ny % 2 == 0:
            weight[-1] = 1.0
        self.weight = weight / (nx * ny) ** 2

    def loss(self, alpha: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """Mean SAFE loss for ``alpha (batch,)`` (differentiable).

        ``index`` selects a subset of the stored videos (``alpha`` then has one entry per
        selected video).
        """
        if index is not None:
            if not isinstance(index, torch.Tensor) or index.dtype not in (torch.int64, torch.int32) or index.dim() != 1:
                raise TypeError(f"index must be a vector of video numbers (an integer tensor), got {index!r}")
            if len(index) and (int(index.min()) < 0 or int(index.max()) >= self.ss.shape[0]):
                raise ValueError(f"index must select among the {self.ss.shape[0]} videos, got {index.tolist()}")
        ss, st, tt = (self.ss, self.st, self.tt) if index is None else (self.ss[index], self.st[index], self.tt[index])
        alpha = finite_tensor(alpha, "alpha")
        if alpha.numel() != ss.shape[0] or alpha.dim() > 1:
            raise ValueError(f"alpha must hold one value per video ({ss.shape[0]}), got shape {tuple(alpha.shape)}")
        a = propagation_alpha(alpha, self.direction).double().reshape(-1)
        gain = self.operator.multiplier(a, self.shape, torch.float64, self.device)
        per_mode = gain.pow(2) * ss - 2 * gain * st + tt
        return (per_mode * self.weight).sum().to(self.dtype) / (ss.shape[0] * self.pairs)


def _registry_instance(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> SafeStepper:
    """The SAFE operator (spectral, 10 sub-steps) with alpha = -0.5 on an ``n x n`` grid of spacing 1."""
    op = SafeOperator(0.5 if dt is None else dt, 1.0, substeps=10)
    stepper = op.stepper(-0.5)
    stepper.grid = Grid((n or 16,) * 2, 1.0)
    stepper.channels = 1
    return stepper


def _register() -> None:
    from physdl.pde.registry import _scalar_initial, register

    register("safe-operator", _registry_instance, _scalar_initial(), "the SAFE operator at a fixed alpha")


_register()


def _check_video(video: torch.Tensor, name: str = "video") -> None:
    """``video`` must be a finite floating-point ``(batch, time >= 2, 1, nx, ny)`` tensor."""
    finite_tensor(video, name)
    if video.dim() != 5 or video.shape[2] != 1 or video.shape[1] < 2 or not video.numel():
        raise ValueError(
            f"{name} must be a video shaped (batch, time >= 2, 1, nx, ny), got {tuple(video.shape)}; "
            "add the batch and channel axes with video[None, :, None] for a (time, nx, ny) array"
        )


class ResidualField(nn.Module):
    """``F = V + g(V)``: a frame-wise residual map that starts as the identity.

    ``g`` is three convolution blocks ``1 -> c -> c -> c`` (3x3, circular padding, batch norm,
    ReLU; the second and third with a skip connection) and a 1x1 projection back to one
    channel whose weights and bias start at zero, so that ``F = V`` before training.

    Input and output ``(..., 1, nx, ny)``; the leading axes are folded into the batch.
    """

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        channels = check_int(channels, "channels", 1)

        def block(cin: int) -> nn.Sequential:
            return nn.Sequential(
                Conv2d(cin, channels, 3, padding=1, padding_mode="circular", bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
            )

        self.blocks = nn.ModuleList([block(1), block(channels), block(channels)])
        self.projection = nn.Conv2d(channels, 1, 1)
        nn.init.zeros_(self.projection.weight)
        nn.init.zeros_(self.projection.bias)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        check_input(self, v, "v")
        if v.dim() < 4 or v.shape[-3] != 1:
            raise ValueError(f"v must be shaped (..., batch, 1, nx, ny), got {tuple(v.shape)}")
        lead = v.shape[:-3]
        x = v.reshape(-1, *v.shape[-3:])
        h = self.blocks[0](x)
        for blk in self.blocks[1:]:
            h = h + blk(h)
        return (x + self.projection(h)).reshape(*lead, *v.shape[-3:])


class AlphaEstimator(nn.Module):
    """Estimate ``|alpha| > 0`` of a simulation from its whole latent video.

    Each frame is average-pooled to ``pool x pool``, mapped by two 3x3 convolutions
    (``1 -> d/2 -> d``, ReLU) and a global average to a vector ``z_t`` of size ``d``; the
    sequence passes multi-head self-attention with a residual connection and layer norm, is
    averaged over time and fed to a two-layer MLP ending in Softplus.

    Input ``(batch, time, 1, nx, ny)``; output ``(batch,)``.
    """

    def __init__(self, d_model: int = 32, heads: int = 4, pool: int = 4) -> None:
        super().__init__()
        d_model, heads, pool = check_int(d_model, "d_model", 2), check_int(heads, "heads", 1), check_int(pool, "pool", 1)
        if d_model % heads or d_model % 2:
            raise ValueError(f"d_model ({d_model}) must be even and divisible by heads ({heads})")
        self.pool = nn.AdaptiveAvgPool2d((pool, pool))
        self.features = nn.Sequential(
            nn.Conv2d(1, d_model // 2, 3, padding=1), nn.ReLU(),
            nn.Conv2d(d_model // 2, d_model, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.attention = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, 1), nn.Softplus())

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        _check_video(latent, "latent")
        check_input(self, latent, "latent")
        return self.from_pooled(self.pooled(latent))

    def pooled(self, latent: torch.Tensor) -> torch.Tensor:
        """The first stage alone: ``(batch, time, 1, pool, pool)`` frame averages."""
        b, t = latent.shape[:2]
        return self.pool(latent.reshape(b * t, *latent.shape[2:])).reshape(b, t, *latent.shape[2:3], *self.pool.output_size)

    def from_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        """The rest of the estimator, from :meth:`pooled`'s output to ``|alpha|`` ``(batch,)``."""
        b, t = pooled.shape[:2]
        z = self.features(pooled.reshape(b * t, *pooled.shape[2:])).reshape(b, t, -1)
        attended, _ = self.attention(z, z, z, need_weights=False)
        z = self.norm(z + attended)
        return self.head(z.mean(dim=1)).squeeze(-1)


@dataclass
class SafeOutput:
    """What one pass of :class:`SafeAutoencoder` produces.

    Attributes:
        latent: ``F``, ``(batch, time, 1, nx, ny)``.
        reconstruction: ``V_hat = F + h(F)``, same shape.
        alpha: signed estimate ``(batch,)``.
    """

    latent: torch.Tensor
    reconstruction: torch.Tensor
    alpha: torch.Tensor


class SafeAutoencoder(nn.Module):
    """Encoder, estimator, frozen SAFE operator and decoder.

    Args:
        operator: the frozen latent transition (:class:`SafeOperator`).
        channels: encoder/decoder width ``c``.
        d_model, heads, pool: estimator sizes.
    """

    def __init__(self, operator: SafeOperator, channels: int = 16, d_model: int = 32, heads: int = 4,
                 pool: int = 4) -> None:
        super().__init__()
        self.operator = check_operator(operator)
        self.encoder = ResidualField(channels)
        self.decoder = ResidualField(channels)
        self.estimator = AlphaEstimator(d_model, heads, pool)

    def forward(self, video: torch.Tensor, sign: torch.Tensor) -> SafeOutput:
        """Encode ``video (batch, time, 1, nx, ny)``, estimate ``alpha = sign |alpha|``, decode."""
        _check_video(video)
        check_input(self, video, "video")
        sign = check_sign(sign, video.shape[0], video)
        latent = self.encoder(video)
        return SafeOutput(latent, self.decoder(latent), sign * self.estimator(latent))
