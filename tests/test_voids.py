"""The void phase-field model: free energy, bookkeeping, parameters, stability, geometry."""

import math

import pytest
import torch

from physdl import rollout
from physdl.ops import Grid, laplacian
from physdl.pde import voids as V


def _state(n: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    c_v = 0.1 + 0.5 * torch.rand(1, n, n, generator=g, dtype=torch.float64)
    c_i = 0.05 + 0.2 * torch.rand(1, n, n, generator=g, dtype=torch.float64)
    eta = torch.rand(1, n, n, generator=g, dtype=torch.float64)
    return torch.stack([c_v, c_i, eta], dim=1)


def test_chemical_potentials_are_the_gradient_of_the_free_energy():
    dx = 0.7
    p = V.VoidParameters(E_v=3.0, E_i=5.0, kT=1.5, kappa_v=0.4, kappa_i=0.9, kappa_eta=1.3)
    state = _state().requires_grad_(True)
    (grad,) = torch.autograd.grad(V.free_energy(state, p, dx).sum(), state)
    mu = V.chemical_potentials(state.detach(), p, dx)
    torch.testing.assert_close(grad / dx**2, mu, rtol=1e-10, atol=1e-10)


def _smooth_state(n: int = 32) -> torch.Tensor:
    eta = V.disc(n, (12.0, 14.0), 5.0, dtype=torch.float64)
    c_v = eta + (1 - eta) * V.vacancy_gradient(n, 0.3, 0.05, dtype=torch.float64)
    c_i = V.vacancy_gradient(n, 0.05, 0.02, direction=1.0, dtype=torch.float64)
    return torch.stack([0.85 * c_v, c_i, 0.05 + 0.9 * eta])[None]


def run(state: torch.Tensor, p: V.VoidParameters, dt: float, steps: int, save_every: int = 1,
        **kwargs) -> torch.Tensor:
    """Frames ``(batch, time, 3, nx, ny)`` of the void stepper on a grid of spacing 1."""
    return rollout(V.VoidStepper(Grid(tuple(state.shape[-2:]), 1.0), dt, p, **kwargs), state, steps, save_every)


def test_conserved_fields_keep_their_mass_without_sources():
    p = V.VoidParameters()
    no_sink = V.Irradiation(r_bulk=0.0, r_surf=0.0)
    state = _smooth_state()
    mass0 = state[:, :2].sum(dim=(-2, -1))
    state = run(state, p, 0.02, 20, irradiation=no_sink, clip=False)[:, -1]
    torch.testing.assert_close(state[:, :2].sum(dim=(-2, -1)), mass0, rtol=1e-12, atol=1e-10)


def test_recombination_removes_vacancies_and_interstitials_in_pairs():
    state = start = _smooth_state()
    difference0 = (state[:, 0] - state[:, 1]).sum()
    state = run(state, V.VoidParameters(), 0.02, 20, clip=False)[:, -1]
    assert state[:, :2].sum() < start[:, :2].sum()  # recombination is a sink
    torch.testing.assert_close((state[:, 0] - state[:, 1]).sum(), difference0, rtol=1e-12, atol=1e-10)


def test_the_authors_mobility_form_does_not_conserve_mass():
    no_sink = V.Irradiation(r_bulk=0.0, r_surf=0.0)
    state = _smooth_state()
    code = run(state, V.VoidParameters(), 0.02, 1, irradiation=no_sink, conservative=False, clip=False)[:, -1]
    assert abs(float(code[:, 0].sum() - state[:, 0].sum())) > 1e-6


def test_mobility_divergence_of_constant_mobility_is_the_laplacian():
    mu = _state()[:, :1]
    out = V.mobility_divergence(torch.full_like(mu, 0.3), mu, 0.5)
    torch.testing.assert_close(out, 0.3 * laplacian(mu, 0.5))


@pytest.mark.parametrize("name", V.VoidParameters.names())
def test_parameters_must_be_positive(name):
    with pytest.raises(ValueError, match=name):
        V.VoidParameters(**{name: 0.0})
    with pytest.raises(ValueError, match=name):
        V.VoidParameters(**{name: torch.tensor([1.0, -2.0])})


def test_stability_check_names_the_bound():
    p = V.VoidParameters()
    limit = V.stability_limit(p, 1.0)
    assert 0.02 < limit < 1
    V.check_stability(p, 0.99 * limit, 1.0)
    with pytest.raises(ValueError, match="stability limit"):
        V.check_stability(p, 1.01 * limit, 1.0)
    state = V.voids_state(16, [(8, 8)], [3])
    with pytest.raises(ValueError, match="stability limit"):
        run(state, p, 2 * limit, 5)
    # a faster interface (larger L) lowers the limit
    assert V.stability_limit(V.VoidParameters(L=10.0), 1.0) < limit


def test_steps_within_the_limit_stay_bounded_and_finite():
    p = V.VoidParameters()
    cv = V.vacancy_gradient(32, 0.33, 0.09)
    frames = run(V.voids_state(32, [(12, 16)], [5], c_v_solid=cv), p, 0.02, 200, save_every=50,
                 stochastic=True, generator=torch.Generator().manual_seed(0))
    assert frames.shape == (1, 5, 3, 32, 32)
    assert torch.isfinite(frames).all() and frames.min() >= 0 and frames.max() <= 1


def test_bad_states_are_refused():
    p = V.VoidParameters()
    with pytest.raises(ValueError, match=r"\(batch, 3, 8, 8\)"):
        run(torch.zeros(1, 2, 8, 8), p, 0.01, 1)
    bad = V.voids_state(8, [(4, 4)], [2])
    bad[0, 0, 0, 0] = 1.5
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        run(bad, p, 0.01, 1)
    with pytest.raises(ValueError, match="one radius per void"):
        V.voids_state(8, [(4, 4)], [2, 3])


def test_void_geometry_wraps_around_the_periodic_box():
    n = 32
    eta = V.disc(n, (1.0, 30.0), 4.0)
    centroid = V.void_centroid(eta)
    assert min(abs(float(centroid[0]) - 1.0), n - abs(float(centroid[0]) - 1.0)) < 0.2
    assert min(abs(float(centroid[1]) - 30.0), n - abs(float(centroid[1]) - 30.0)) < 0.2
    assert abs(float(V.void_area(eta)) - math.pi * 16) < 6


def test_a_void_in_supersaturated_solid_first_grows():
    cv = V.vacancy_gradient(32, 0.33, 0.0)
    frames = run(V.voids_state(32, [(16, 16)], [6], c_v_solid=cv), V.VoidParameters(), 0.02, 300, save_every=300)
    area = V.void_area(frames[0, :, 2])
    assert area[1] > area[0]


def test_stability_limit_uses_the_mobility_of_the_state():
    p = V.VoidParameters(kappa_i=20.0)
    dilute = V.voids_state(16, [(8, 8)], [3], c_i_solid=0.001)
    assert V.stability_limit(p, 1.0, dilute) > 2 * V.stability_limit(p, 1.0)
