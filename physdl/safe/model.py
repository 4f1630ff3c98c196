"""The SAFE-PIT-CM autoencoder: encoder, attention-based estimator of alpha, decoder.

Shapes: a video is ``(batch, time, 1, nx, ny)``; ``alpha`` and ``sign`` are ``(batch,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from physdl.safe.operator import SafeOperator


def _check_video(video: torch.Tensor) -> None:
    if video.dim() != 5 or video.shape[2] != 1 or video.shape[1] < 2:
        raise ValueError(
            f"expected a video shaped (batch, time >= 2, 1, nx, ny), got {tuple(video.shape)}; "
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
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")

        def block(cin: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, channels, 3, padding=1, padding_mode="circular", bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
            )

        self.blocks = nn.ModuleList([block(1), block(channels), block(channels)])
        self.projection = nn.Conv2d(channels, 1, 1)
        nn.init.zeros_(self.projection.weight)
        nn.init.zeros_(self.projection.bias)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
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
        _check_video(latent)
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
        self.operator = operator
        self.encoder = ResidualField(channels)
        self.decoder = ResidualField(channels)
        self.estimator = AlphaEstimator(d_model, heads, pool)

    def forward(self, video: torch.Tensor, sign: torch.Tensor) -> SafeOutput:
        """Encode ``video (batch, time, 1, nx, ny)``, estimate ``alpha = sign |alpha|``, decode."""
        _check_video(video)
        sign = torch.as_tensor(sign, dtype=video.dtype, device=video.device).reshape(-1)
        if sign.shape[0] != video.shape[0] or not torch.all(sign.abs() == 1):
            raise ValueError(f"sign must hold -1 (diffusion) or +1 (mobility) per video, got {sign.tolist()}")
        latent = self.encoder(video)
        return SafeOutput(latent, self.decoder(latent), sign * self.estimator(latent))
