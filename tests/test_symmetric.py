"""Symmetric convolutions and the potential-head CRNN: equivariance by construction.

For every one of the grid's signed axis permutations (48 in 3D, 8 in 2D), the rollout of a
transformed state equals the transformed rollout: to 1e-10 in float64 over 100 steps and to
1e-5 in float32 over 10 steps, for random (untrained) weights. Mass is kept as by the
divergence head.
"""

from __future__ import annotations

import pytest
import torch

from physdl.crnn import CRNNArchitecture, PotentialCRNN, build
from physdl.nn.convgru import ConvGRU
from physdl.nn.symmetric import SymmetricConv, grid_symmetries, kernel_orbits, apply_symmetry


def test_orbits_of_a_3x3x3_kernel_are_centre_faces_edges_corners() -> None:
    index, count = kernel_orbits(3, 3)
    assert count == 4
    sizes = sorted(int((index == k).sum()) for k in range(count))
    assert sizes == [1, 6, 8, 12]
    assert int(index[1, 1, 1]) == 0


def test_orbit_counts_in_1d_and_2d_and_for_5_wide_kernels() -> None:
    assert kernel_orbits(3, 1)[1] == 2  # centre, the two neighbours
    assert kernel_orbits(3, 2)[1] == 3  # centre, 4 edges, 4 corners
    assert kernel_orbits(5, 2)[1] == 6  # (0,0) (0,1) (1,1) (0,2) (1,2) (2,2)
    with pytest.raises(ValueError, match="odd"):
        kernel_orbits(4, 2)


def test_group_sizes() -> None:
    assert [len(grid_symmetries(d)) for d in (1, 2, 3)] == [2, 8, 48]
    assert grid_symmetries(3)[0] == ((0, 1, 2), ())


def test_symmetric_kernel_is_invariant_and_matches_a_plain_convolution() -> None:
    torch.manual_seed(0)
    conv = SymmetricConv(2, 3, 3, dims=3).double()
    w = conv.weight
    for sym in grid_symmetries(3):
        assert torch.equal(apply_symmetry(w, sym), w)
    x = torch.randn(2, 2, 5, 6, 7, dtype=torch.float64)
    plain = torch.nn.Conv3d(2, 3, 3, padding=1, padding_mode="circular").double()
    with torch.no_grad():
        plain.weight.copy_(w)
        plain.bias.copy_(conv.bias)
    torch.testing.assert_close(conv(x), plain(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["circular", "zeros", "reflect", "replicate"])
def test_symmetric_conv_commutes_with_every_symmetry(padding_mode: str) -> None:
    torch.manual_seed(1)
    conv = SymmetricConv(1, 2, 3, dims=2, padding_mode=padding_mode).double()
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    for sym in grid_symmetries(2):
        torch.testing.assert_close(conv(apply_symmetry(x, sym)), apply_symmetry(conv(x), sym), rtol=0, atol=1e-13)


def test_symmetric_convgru_is_equivariant_and_a_plain_one_is_not() -> None:
    torch.manual_seed(2)
    x = torch.randn(1, 1, 6, 6, 6, dtype=torch.float64)
    sym = ((1, 0, 2), (2,))
    for symmetric, equal in ((True, True), (False, False)):
        gru = ConvGRU(1, 3, 2, 3, 3, symmetric=symmetric).double()
        a, b = gru(apply_symmetry(x, sym))[-1], apply_symmetry(gru(x)[-1], sym)
        assert torch.allclose(a, b, atol=1e-12) is equal


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="expected input"):
        SymmetricConv(2, 1, 3, dims=2)(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="padding_mode"):
        SymmetricConv(1, 1, 3, dims=2, padding_mode="mirror")
    with pytest.raises(ValueError, match="needs potential"):
        CRNNArchitecture(symmetric=True)
    with pytest.raises(ValueError, match="conservative"):
        CRNNArchitecture(conservative=False, potential=True)


def _potential(dims: int, dtype: torch.dtype) -> PotentialCRNN:
    torch.manual_seed(3)
    net = build(CRNNArchitecture(hidden_channels=3, layers=2, dims=dims, potential=True, symmetric=True))
    assert isinstance(net, PotentialCRNN)
    return net.to(dtype)


def _state(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(4)
    return (0.5 + 0.2 * torch.randn((1, 1, *shape), generator=g, dtype=torch.float64)).to(dtype)


@pytest.mark.parametrize("dtype, steps, tol", [(torch.float64, 100, 1e-10), (torch.float32, 10, 1e-5)])
def test_potential_crnn_rollout_commutes_with_all_48_cube_symmetries(dtype: torch.dtype, steps: int, tol: float) -> None:
    net = _potential(3, dtype)
    phi0 = _state((6, 6, 6), dtype)
    frames, _ = net.rollout(phi0, steps, save_every=steps)
    reference = frames[:, -1]
    assert (reference - phi0).abs().max() > 1e-3  # the state did move
    worst = 0.0
    for sym in grid_symmetries(3):
        moved, _ = net.rollout(apply_symmetry(phi0, sym), steps, save_every=steps)
        worst = max(worst, float((moved[:, -1] - apply_symmetry(reference, sym)).abs().max()))
    assert worst <= tol, f"largest deviation {worst:.2e} over {steps} steps"


def test_potential_crnn_in_2d_on_a_non_square_grid_commutes_with_its_reflections() -> None:
    net = _potential(2, torch.float64)
    phi0 = _state((6, 9), torch.float64)
    frames, _ = net.rollout(phi0, 20, save_every=20)
    for flips in ((0,), (1,), (0, 1)):
        moved, _ = net.rollout(apply_symmetry(phi0, ((0, 1), flips)), 20, save_every=20)
        torch.testing.assert_close(moved[:, -1], apply_symmetry(frames[:, -1], ((0, 1), flips)), rtol=0, atol=1e-10)


def test_potential_crnn_conserves_mass_and_loads_like_the_others(tmp_path) -> None:
    net = _potential(3, torch.float64)
    phi0 = _state((8, 8, 8), torch.float64)
    frames, _ = net.rollout(phi0, 50, save_every=50)
    drift = (frames[:, -1].mean() - phi0.mean()).abs()
    assert drift < 1e-13
    again = build(CRNNArchitecture(**{**net.arch.__dict__}))
    again.load_state_dict(net.state_dict())
    torch.testing.assert_close(again.double().step(phi0), net.step(phi0), rtol=0, atol=0)
