"""Differentiable-physics loops of chapters 3 and 4."""

import math

import pytest
import torch

from physdl import diffphys, ops
from physdl.pde import advection, burgers


def test_fit_initial_state_recovers_a_reachable_state():
    x, dx = burgers.grid(32)
    u_true = -0.5 * torch.sin(math.pi * x)
    target = diffphys.final_state(burgers.solver(burgers.domain(32), 1 / 32, nu=0.01), u_true, 4)
    fit = diffphys.fit_initial_state(target, steps=4, updates=100, lr=5.0, dt=1 / 32, dx=dx, nu=0.01)
    assert len(fit.loss) == 101 and fit.loss[-1] < 1e-3 * fit.loss[0]
    assert float((fit.u0 - u_true).abs().max()) < 0.05
    with pytest.raises(ValueError):
        diffphys.fit_initial_state(target, steps=0, updates=1, lr=1.0, dt=1 / 32, dx=dx)


def test_fit_velocity_reduces_the_loss_and_respects_cfl():
    n, dx = 32, 1 / 32
    x = torch.arange(n, dtype=torch.float64) * dx
    d0 = torch.exp(-((x - 0.5) / 0.1) ** 2)
    u_true = 0.4 + 0.2 * torch.sin(2 * math.pi * x)
    dt = 0.5 * dx / 0.6
    target = diffphys.final_state(advection.Advection(ops.Grid(n, dx), dt, u_true), d0, 20)
    u, hist = diffphys.fit_velocity(d0, target, torch.full_like(x, 0.4), dt, dx, 20, 100, lr=0.003, progress=False)
    assert hist.loss[-1] < 0.1 * hist.loss[0]
    assert float(u.abs().max()) <= dx / dt


def test_family_and_network_respect_the_walls():
    x, dx = burgers.grid(16)
    fam = diffphys.sine_family(5, x, torch.Generator().manual_seed(0))
    assert fam.shape == (5, 16) and fam[:, [0, -1]].abs().max() < 1e-12
    net = diffphys.InitialStateNet(16, hidden=(8,)).double()
    out = net(fam)
    assert out.shape == (5, 16) and torch.all(out[:, [0, -1]] == 0)


def test_training_through_the_solver_lowers_the_loss():
    torch.manual_seed(0)
    x, dx = burgers.grid(16)
    family = diffphys.sine_family(64, x, torch.Generator().manual_seed(1))
    targets = diffphys.final_state(burgers.solver(burgers.domain(16), 1 / 32, nu=0.01), family, 4)
    net = diffphys.InitialStateNet(16, hidden=(32,)).double()
    hist = diffphys.train_through_solver(net, targets, steps=4, dt=1 / 32, dx=dx, iterations=150, lr=3e-3,
                                         nu=0.01, batch_size=16, progress=False)
    assert sum(hist.loss[-10:]) < 0.5 * sum(hist.loss[:10])


def test_bad_input_raises():
    x, dx = burgers.grid(16)
    with pytest.raises(ValueError, match="vectors of one length"):
        diffphys.fit_velocity(torch.zeros(8), torch.zeros(8), torch.zeros(7), 0.01, 0.1, 2, 1)
    with pytest.raises(ValueError, match="CFL"):
        diffphys.fit_velocity(torch.zeros(8), torch.zeros(8), torch.ones(8), 1.0, 0.1, 2, 1)
    with pytest.raises(ValueError, match="lr"):
        diffphys.fit_initial_state(torch.zeros(16), steps=2, updates=1, lr=0.0, dt=0.01, dx=dx)
    with pytest.raises(ValueError, match="1/2"):
        diffphys.fit_initial_state(torch.zeros(16), steps=2, updates=1, lr=1.0, dt=10.0, dx=dx)
    with pytest.raises(ValueError, match="count"):
        diffphys.sine_family(0, x)
    with pytest.raises(ValueError, match=r"target must be shaped \(batch, 16\)"):
        diffphys.InitialStateNet(16)(torch.zeros(2, 8))
