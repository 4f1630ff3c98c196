"""Chapter 1's method: data generation, symmetries, scaling, errors."""

import pytest
import torch

from physdl import surrogate as S
from physdl.nn import UNet
from physdl.pde.flow import face_average, solve_stokes


@pytest.fixture(scope="module")
def flows():
    return S.generate_flows(n=16, samples=6, nu=1.0, penalty=1e6, seed=3)


def test_generated_data_shapes_and_fluid_only_force(flows):
    x, y = flows["inputs"], flows["targets"]
    assert x.shape == y.shape == (6, 3, 16, 16)
    solid_x = face_average(x[:, 2:])[:, 0] == 1
    assert torch.all(x[:, 0][solid_x] == 0)  # no force on faces inside obstacles


@pytest.mark.parametrize("element", range(8))
def test_every_symmetry_maps_solutions_to_solutions(flows, element):
    x, y = (t.double() for t in (flows["inputs"], flows["targets"]))
    xt, yt = S.symmetry(x, y, element)
    sol = solve_stokes(xt[:, :2], xt[:, 2:], 1 / 16, penalty=1e6)
    solved = torch.cat([sol.pressure, sol.velocity], dim=1)
    rel = (solved - yt).flatten(2).norm(dim=2).amax(0) / yt.flatten(2).norm(dim=2).amax(0)
    assert rel.max() < 1e-5  # float32 data, solver tolerance 1e-8


def test_symmetry_group_structure(flows):
    x, y = flows["inputs"], flows["targets"]
    assert all(torch.equal(a, b) for a, b in zip(S.symmetry(x, y, 0), (x, y)))
    for e in (1, 2, 3, 4):  # flips and the transpose are involutions
        x2, y2 = S.symmetry(*S.symmetry(x, y, e), e)
        assert torch.equal(x2, x) and torch.equal(y2, y)
    with pytest.raises(ValueError, match="element"):
        S.symmetry(x, y, 8)


def test_scaled_network_round_trip(flows):
    x, y = flows["inputs"], flows["targets"]
    scale = S.output_scale(y, x)
    model = S.Scaled(UNet(3, 3, base=4, levels=2), scale)
    z = model.normalise(y, x)
    assert z.pow(2).mean(dim=(0, 2, 3)).allclose(torch.ones(3), rtol=1e-4)
    # Stokes flow is linear in the force: doubling it doubles the prediction.
    x2 = torch.cat([2 * x[:, :2], x[:, 2:]], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(x2), 2 * model(x), rtol=1e-5, atol=1e-7)


def test_channel_errors_and_split(flows):
    y = flows["targets"]
    err = S.channel_errors(1.1 * y, y)
    torch.testing.assert_close(err, torch.full((3,), 0.1), rtol=1e-4, atol=0)
    train, test = S.split(flows, 0.5)
    assert len(train["inputs"]) == 3 and len(test["inputs"]) == 3
    with pytest.raises(ValueError):
        S.split(flows, 1.5)
    with pytest.raises(ValueError):
        S.channel_errors(y, y[:, :2])
