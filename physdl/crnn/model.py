"""The convolutional recurrent surrogate of Lanzoni et al. (2024) for Cahn-Hilliard flow.

A stack of ConvGRU layers reads the current field ``phi_t`` and carries a hidden state
forward in time. Its output head turns the last hidden state into the next field:

- :class:`ConservativeCRNN` (the paper's model): the head predicts a vector field ``u``
  (``d`` components, the flux ``-tau J`` of one forward-Euler step), its spatial mean is
  removed, and ``phi_next = phi + div(u)`` with a fixed central-difference divergence on the
  periodic grid. A periodic divergence sums to zero, so the mean of ``phi`` cannot change:
  mass is conserved by construction, whatever the weights.
- :class:`NonConservativeCRNN` (the ablation): the head predicts ``phi_next`` directly
  through a sigmoid, as in the 2D model the paper started from; nothing conserves mass.
- :class:`PotentialCRNN` (physdl's extension): the head predicts a scalar potential ``m`` and
  the flux is its gradient, ``phi_next = phi + lap(m)`` with the compact periodic Laplacian
  (the divergence of the forward-difference gradient), the discrete form of
  ``dphi/dt = div(M grad mu)``. Mass is conserved as above; with ``symmetric=True`` every
  spatial kernel is invariant under the grid's reflections and axis swaps
  (:class:`physdl.nn.symmetric.SymmetricConv`), so the whole rollout commutes with the 48
  symmetries of the cube (8 of the square), whatever the weights. A vector flux head cannot be
  built that way from scalar channels; a gradient of a scalar transforms as a flux must.

Both are fully convolutional with circular padding, so they apply to any grid size. Shapes:
a field ``(batch, 1, *space)``, a sequence ``(batch, time, 1, *space)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from physdl.nn.conv import convolution
from physdl.nn.convgru import ConvGRU
from physdl.nn.inference import check_input
from physdl.nn.symmetric import SymmetricConv
from physdl.ops import divergence, gradient
from physdl.ops.checks import check_bool, check_generator, check_int, check_real
from physdl.ops.grid import positive_float
from physdl.pde.stepper import Stepper, saved_steps
from physdl.pde.stepper import rollout as run_rollout

Hidden = list[torch.Tensor]


@dataclass(frozen=True)
class CRNNArchitecture:
    """Sizes of the network (the paper's: 2 layers of 10 channels, 3x3x3 kernels, 3D).

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """

    hidden_channels: int = 10
    layers: int = 2
    kernel_size: int = 3
    dims: int = 3
    conservative: bool = True
    #: the flux is the gradient of a predicted scalar (:class:`PotentialCRNN`); needs conservative.
    potential: bool = False
    #: kernels invariant under the grid's symmetries (needs potential: equivariant by construction).
    symmetric: bool = False

    def __post_init__(self) -> None:
        for name, least in (("hidden_channels", 1), ("layers", 1), ("kernel_size", 1)):
            object.__setattr__(self, name, check_int(getattr(self, name), name, least))
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (the padding keeps the grid), got {self.kernel_size}")
        object.__setattr__(self, "dims", check_int(self.dims, "dims", 2, 3))
        object.__setattr__(self, "conservative", check_bool(self.conservative, "conservative"))
        object.__setattr__(self, "potential", check_bool(self.potential, "potential"))
        object.__setattr__(self, "symmetric", check_bool(self.symmetric, "symmetric"))
        if self.potential and not self.conservative:
            raise ValueError("potential=True is a conservative head: it needs conservative=True")
        if self.symmetric and not self.potential:
            raise ValueError("symmetric=True needs potential=True (a vector flux from scalar channels "
                             "cannot transform as a vector under the grid's reflections)")


class _CRNN(nn.Module, Stepper):
    """Common part of the two heads: a :class:`~physdl.pde.stepper.Stepper` whose carry is the
    ConvGRU hidden state. ``dt`` is the frame interval ``tau`` of the training data (time
    units; 0.5 for physdl's data, :class:`physdl.crnn.data.SequenceConfig`). Any grid size."""

    channels = 1

    #: ``None``: every operation in the weights' dtype. ``torch.bfloat16``: the ConvGRU and the
    #: head's convolutions run under ``torch.autocast`` in bfloat16, while the update of phi (and
    #: the conservative head's mean removal and divergence) stays in the weights' dtype, so
    #: the mean of phi is kept to float32 rounding. Set with :meth:`set_autocast`.
    autocast_dtype: torch.dtype | None = None

    def __init__(self, arch: CRNNArchitecture, out_channels: int, dt: float = 0.5) -> None:
        super().__init__()
        self.arch = arch
        self.dt = positive_float(dt, "dt")
        conv = convolution(arch.dims)
        h = arch.hidden_channels
        self.recurrent = ConvGRU(1, h, arch.layers, arch.kernel_size, arch.dims, "circular", arch.symmetric)
        last = (SymmetricConv(h, out_channels, 3, arch.dims) if arch.symmetric
                else conv(h, out_channels, 3, padding=1, padding_mode="circular"))
        self.head = nn.Sequential(conv(h, h, 1), nn.Tanh(), conv(h, h, 1), nn.Tanh(), last)

    def _check(self, phi: torch.Tensor, name: str = "phi") -> None:
        """``phi`` must be a finite ``(batch, 1, *space)`` field of the weights' dtype and device
        (finiteness is not checked inside rollouts and training steps: :mod:`physdl.ops.checks`)."""
        check_input(self, phi, name)
        if phi.dim() != self.arch.dims + 2 or phi.shape[1] != 1 or not phi.numel():
            raise ValueError(
                f"{name} must be shaped (batch, 1, {self.arch.dims} spatial axes), got {tuple(phi.shape)}"
            )

    def check_state(self, state: torch.Tensor, name: str = "state") -> None:
        self._check(state, name)

    def set_autocast(self, dtype: torch.dtype | None) -> _CRNN:
        """Run the network's convolutions in ``dtype`` (``torch.bfloat16``) or not (``None``); returns self."""
        if dtype not in (None, torch.bfloat16):
            raise ValueError(f"dtype must be torch.bfloat16 or None, got {dtype!r}")
        self.autocast_dtype = dtype
        return self

    def _autocast(self, device_type: str):
        return torch.autocast(device_type, dtype=self.autocast_dtype or torch.bfloat16,
                              enabled=self.autocast_dtype is not None)

    def output(self, phi: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        """The next phi from phi and the head's output ``head`` (both in phi's dtype)."""
        raise NotImplementedError

    def advance(self, phi: torch.Tensor, hidden: Hidden | None = None) -> tuple[torch.Tensor, Hidden]:
        """Advance one interval ``tau``: returns ``(phi_next, hidden)``.

        ``hidden=None`` starts a sequence; pass the returned ``hidden`` back to continue it.
        """
        self._check(phi)
        with self._autocast(phi.device.type):
            hidden = self.recurrent(phi, hidden)
            top = self.head(hidden[-1])
        return self.output(phi, top.to(phi.dtype)), hidden

    def step(self, phi: torch.Tensor) -> torch.Tensor:
        """One interval ``tau`` from a fresh hidden state (use :meth:`advance` to carry it)."""
        return self.advance(phi, None)[0]

    def forward(self, sequence: torch.Tensor, teacher_frames: int = 1, frames: int | None = None,
                input_noise: float = 0.0, noise_generator: torch.Generator | None = None,
                noise_rows: tuple[int, int, int] | None = None) -> torch.Tensor:
        """Predict frames ``1 .. frames-1`` of a sequence.

        The first ``teacher_frames`` inputs are the true frames (teacher forcing); from then
        on the network feeds on its own predictions. ``teacher_frames = 1`` is a full
        autoregressive rollout from the first frame.

        Args:
            sequence: ``(batch, time, 1, *space)``; only the first ``teacher_frames`` frames
                are read.
            teacher_frames: number of true frames fed in (at least 1, at most ``time``).
            frames: length of the output sequence including frame 0 (default ``time``).
            input_noise: standard deviation of Gaussian noise added to every input (training).
            noise_generator: draws that noise (on the sequence's device); default torch's
                global generator. Training passes one made from the step
                (:func:`physdl.sampling.step_generator`).
            noise_rows: ``(size, start, stop)``: ``sequence`` is rows ``start:stop`` of a batch
                of ``size`` (one rank's slice, :mod:`physdl.distributed`); the noise is drawn
                for the whole batch and sliced, so every rank adds what one process would.

        Returns:
            ``(batch, frames - 1, 1, *space)``, the predictions of frames ``1 .. frames-1``.
        """
        check_input(self, sequence, "sequence")
        if sequence.dim() != self.arch.dims + 3 or sequence.shape[2] != 1 or not sequence.numel():
            raise ValueError(f"sequence must be shaped (batch, time, 1, *space), got {tuple(sequence.shape)}")
        frames = sequence.shape[1] if frames is None else check_int(frames, "frames", 2)
        teacher_frames = check_int(teacher_frames, "teacher_frames", 1, sequence.shape[1])
        if frames < 2:
            raise ValueError(f"frames must be at least 2, got {frames} (the sequence has {sequence.shape[1]} frames)")
        input_noise = check_real(input_noise, "input_noise", 0)
        check_generator(noise_generator, "noise_generator")
        if noise_generator is not None and noise_generator.device != sequence.device:
            raise ValueError(f"noise_generator is on {noise_generator.device}, the sequence on {sequence.device}")

        size, start, stop = _noise_rows(noise_rows, sequence.shape[0])

        def noise(inp: torch.Tensor) -> torch.Tensor:
            draw = torch.randn((size, *inp.shape[1:]), generator=noise_generator, device=inp.device, dtype=inp.dtype)
            return inp + input_noise * draw[start:stop]

        noise = noise if input_noise else None
        return run_rollout(self, sequence[:, 0], frames - 1, teacher=sequence[:, :teacher_frames],
                           input_transform=noise, include_initial=False, check_finite=False)

    @torch.no_grad()
    def rollout(self, phi0: torch.Tensor, steps: int, save_every: int = 1, hidden: Hidden | None = None,
                progress: bool = False, return_hidden: bool = False):
        """Autoregressive rollout of any length on any grid, without gradients.

        Args:
            phi0: ``(batch, 1, *space)``.
            steps: number of network steps (each one interval ``tau``).
            save_every: keep every ``save_every``-th state (and always the last one).
            hidden: hidden state to continue from (``None``: a fresh sequence).
            progress: show a progress bar.
            return_hidden: also return the final hidden state, to continue later.

        Returns:
            ``(frames, times)``: ``(batch, frames, 1, *space)`` with ``phi0`` first, and the
            step index of each frame; plus the hidden state when ``return_hidden``.
        """
        self._check(phi0, "phi0")
        steps, save_every = check_int(steps, "steps", 0), check_int(save_every, "save_every", 1)
        check_bool(progress, "progress")
        check_bool(return_hidden, "return_hidden")
        frames, hidden = run_rollout(self, phi0, steps, save_every, carry=hidden, keep_last=True,
                                     check_every=save_every, progress=progress, description="CRNN rollout",
                                     return_carry=True)
        out = (frames, torch.tensor(saved_steps(steps, save_every, keep_last=True), device="cpu"))
        return (*out, hidden) if return_hidden else out


def _noise_rows(rows: object, batch: int) -> tuple[int, int, int]:
    """``(size, start, stop)`` of a batch slice, checked against the slice's ``batch``; default the whole batch."""
    if rows is None:
        return batch, 0, batch
    if not isinstance(rows, tuple) or len(rows) != 3:
        raise TypeError(f"noise_rows must be a tuple (size, start, stop) or None, got {rows!r}")
    size = check_int(rows[0], "noise_rows", 1)
    start, stop = check_int(rows[1], "noise_rows", 0, size), check_int(rows[2], "noise_rows", 0, size)
    if stop - start != batch:
        raise ValueError(f"noise_rows {rows} covers {stop - start} rows, the sequence has {batch}")
    return size, start, stop


class ConservativeCRNN(_CRNN):
    """The paper's CRNN: ``phi_next = phi + div(u - mean(u))`` (mass conserved exactly).

    Explained in :ref:`07-crnn-the-network-a-recurrent-surrogate-with-a-divergence-head`.
    """

    def __init__(self, arch: CRNNArchitecture = CRNNArchitecture(), dt: float = 0.5) -> None:
        _check_arch(arch)
        if not arch.conservative or arch.potential:
            raise ValueError("ConservativeCRNN needs arch.conservative=True and potential=False; "
                             "use NonConservativeCRNN or PotentialCRNN")
        super().__init__(arch, arch.dims, dt)

    def flux(self, u: torch.Tensor) -> torch.Tensor:
        """The head's output ``u`` (``(batch, dims, *space)``) with its spatial mean removed."""
        return u - u.mean(dim=tuple(range(2, u.dim())), keepdim=True)

    def output(self, phi: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        return phi + divergence(self.flux(head), 1.0, scheme="central")


class PotentialCRNN(_CRNN):
    """``phi_next = phi + lap(m)``: the flux is the gradient of a predicted scalar ``m``.

    The Laplacian is the wide periodic one, the central divergence of the central gradient
    (spacing 1: ``m`` carries the mobility and the interval), the pair of the divergence head's
    stencil; so the mean of phi is kept to rounding, like the divergence head, and constants in
    ``m`` do nothing. The compact Laplacian would multiply a checkerboard in ``m`` by ``-4 d``
    (its largest eigenvalue); a network never shown such modes then feeds them back into phi
    until a rollout blows up (a model trained with it reached phi = -1.7 and 2.6 within 100
    steps from noise). The wide one, with symbol ``-sum_a sin^2(k_a)``, maps those modes
    (wavenumber 0 or pi along every axis) to zero and weakens their neighbours, as the
    divergence head does. With ``arch.symmetric`` the network is equivariant to the grid's
    reflections and axis permutations by construction.

    Explained in :ref:`07-crnn-long-horizon-new-shapes`.
    """

    def __init__(self, arch: CRNNArchitecture = CRNNArchitecture(potential=True, symmetric=True), dt: float = 0.5) -> None:
        _check_arch(arch)
        if not arch.potential:
            raise ValueError("PotentialCRNN needs arch.potential=True; use ConservativeCRNN for the divergence head")
        super().__init__(arch, 1, dt)

    def output(self, phi: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        return phi + divergence(gradient(head, 1.0, scheme="central"), 1.0, scheme="central")


class NonConservativeCRNN(_CRNN):
    """The ablation: ``phi_next = sigmoid(head(h))``, free to change the mean of ``phi``."""

    def __init__(self, arch: CRNNArchitecture = CRNNArchitecture(conservative=False), dt: float = 0.5) -> None:
        _check_arch(arch)
        if arch.conservative:
            raise ValueError("NonConservativeCRNN needs arch.conservative=False; use ConservativeCRNN")
        super().__init__(arch, 1, dt)

    def output(self, phi: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(head)


def _check_arch(arch: object) -> CRNNArchitecture:
    if not isinstance(arch, CRNNArchitecture):
        raise TypeError(f"arch must be a CRNNArchitecture, got {type(arch).__name__}")
    return arch


def build(arch: CRNNArchitecture = CRNNArchitecture()) -> _CRNN:
    """The network for ``arch``: potential, conservative (divergence) or non-conservative head.

    Used in :ref:`07-crnn-long-horizon-new-shapes`.
    """
    _check_arch(arch)
    if arch.potential:
        return PotentialCRNN(arch)
    return ConservativeCRNN(arch) if arch.conservative else NonConservativeCRNN(arch)


def _registry_instance(n: int | None = None, dt: float | None = None, dtype: torch.dtype = torch.float64) -> _CRNN:
    """A small untrained 2D conservative CRNN on an ``n x n`` periodic grid, for the property suite."""
    from physdl.ops.grid import Grid

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = ConservativeCRNN(CRNNArchitecture(hidden_channels=4, layers=1, dims=2)).to(dtype)
    net.grid = Grid((n or 8,) * 2, 1.0)
    return net


def _registry_state(net: _CRNN, batch: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    from physdl.pde.registry import smooth_field

    return 0.5 + 0.2 * smooth_field(net.grid, batch, generator, dtype)


def _register() -> None:
    from physdl.pde.registry import register

    register("crnn-conservative", _registry_instance, _registry_state, "the conservative CRNN (untrained, 2D)")


_register()
