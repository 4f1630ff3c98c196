"""PINN toolkit: residuals from autograd, samplers, the loss and its training."""

import math

import pytest
import torch
from torch import nn

from physdl import pinn as P
from physdl.nn import MLP


class Known(nn.Module):
    """u(x, t) = sin(pi x) exp(-t): a function whose Burgers residual is known in closed form."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        x, t = p[:, :1], p[:, 1:]
        return torch.sin(math.pi * x) * torch.exp(-t) + 0 * self.dummy


def test_burgers_residual_of_a_known_function():
    nu = 0.05
    model = P.PINN(Known(), {"nu": nu})
    pts = P.uniform_points(200, P.Domain(), torch.Generator().manual_seed(0), torch.float64)
    res = P.residual(model, pts, P.burgers)
    x, t = pts[:, :1], pts[:, 1:]
    u = torch.sin(math.pi * x) * torch.exp(-t)
    u_x = math.pi * torch.cos(math.pi * x) * torch.exp(-t)
    expected = -u + u * u_x + nu * math.pi**2 * u
    torch.testing.assert_close(res, expected, atol=1e-12, rtol=0)


def test_heat_residual_and_mixed_derivatives():
    model = P.PINN(Known(), {"kappa": 1 / math.pi**2})
    pts = P.uniform_points(50, P.Domain(), torch.Generator().manual_seed(1), torch.float64)
    # u_t = -u and kappa u_xx = -u: sin(pi x) exp(-t) solves u_t = u_xx / pi^2.
    assert P.residual(model, pts, P.heat).abs().max() < 1e-12
    p = pts.clone().requires_grad_(True)
    d = P.Derivatives(model(p), p)
    x, t = pts[:, :1], pts[:, 1:]
    torch.testing.assert_close(d("x", "t"), -math.pi * torch.cos(math.pi * x) * torch.exp(-t))
    assert d("x", "t") is d("x", "t")  # cached


def test_samplers_shapes_and_bounds():
    dom = P.Domain(x=(-1.0, 1.0), t=(0.0, 1.0))
    pts = P.uniform_points(1000, dom, torch.Generator().manual_seed(0))
    assert pts.shape == (1000, 2)
    assert pts[:, 0].min() >= -1 and pts[:, 0].max() <= 1 and pts[:, 1].min() >= 0 and pts[:, 1].max() <= 1
    assert pts[:, 0].min() < -0.9 and pts[:, 1].max() > 0.9  # fills the domain
    assert P.initial_points(64, dom).shape == (64, 2) and torch.all(P.initial_points(64, dom)[:, 1] == 0)
    b = P.boundary_points(10, dom)
    assert b.shape == (20, 2) and set(b[:, 0].tolist()) == {-1.0, 1.0}
    g = P.grid_points(torch.linspace(-1, 1, 5), torch.linspace(0, 1, 3))
    assert g.shape == (15, 2) and torch.all(g[:5, 1] == 0) and torch.all(g[5:10, 1] == 0.5)
    sampler = P.ResampledPoints(100, dom, seed=3)
    assert sampler(7) is sampler(7)
    assert not torch.equal(sampler(7), sampler(8))
    torch.testing.assert_close(P.ResampledPoints(100, dom, seed=3)(8), sampler(8))
    dom.check(pts)


def test_bad_input_raises():
    dom = P.Domain()
    with pytest.raises(ValueError, match="outside the domain"):
        dom.check(torch.tensor([[0.0, 1.5]]))
    with pytest.raises(ValueError, match="shaped"):
        dom.check(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="empty domain"):
        P.Domain(x=(1.0, -1.0))
    with pytest.raises(ValueError, match="positive"):
        P.PINN(MLP(2, 1, [4]), {"nu": 0.0}, learn=["nu"])
    with pytest.raises(ValueError, match="cannot learn"):
        P.PINN(MLP(2, 1, [4]), {"nu": 0.1}, learn=["kappa"])
    with pytest.raises(ValueError, match="unknown coordinate"):
        p = torch.zeros(2, 2, requires_grad=True)
        P.Derivatives(p.sum(1, keepdim=True), p)("y")
    model = P.PINN(MLP(2, 1, [4]), {"nu": 0.1})
    with pytest.raises(ValueError, match="data_values"):
        P.PINNLoss(model, P.burgers, torch.zeros(5, 2), torch.zeros(5), P.FixedPoints(torch.zeros(3, 2)))


def test_learned_coefficient_is_positive_and_trainable():
    model = P.PINN(MLP(2, 1, [4]), {"nu": 0.1, "c": 2.0}, learn=["nu"])
    coef = model.coefficients()
    assert coef["c"] == 2.0
    assert float(coef["nu"].detach()) == pytest.approx(0.1)
    assert coef["nu"].requires_grad
    assert model.coefficient_values()["nu"] == pytest.approx(0.1)
    assert "log_coefficients.log_values.nu" in dict(model.named_parameters())


def test_adam_then_lbfgs_solves_a_heat_problem():
    # u_t = kappa u_xx with u(x, 0) = sin(pi x), u(+-1, t) = 0: u = sin(pi x) exp(-kappa pi^2 t).
    torch.manual_seed(0)
    kappa = 0.1
    dom = P.Domain()
    xi = P.initial_points(64, dom, torch.float64)
    xb = P.boundary_points(32, dom, torch.float64)
    pts = torch.cat([xi, xb])
    vals = torch.cat([torch.sin(math.pi * xi[:, :1]), torch.zeros(len(xb), 1, dtype=torch.float64)])
    model = P.PINN(MLP(2, 1, [16, 16]).double(), {"kappa": kappa})
    loss = P.PINNLoss(model, P.heat, pts, vals, P.ResampledPoints(256, dom, 0, torch.float64))
    test = P.uniform_points(500, dom, torch.Generator().manual_seed(9), torch.float64)
    exact = torch.sin(math.pi * test[:, :1]) * torch.exp(-kappa * math.pi**2 * test[:, 1:])

    def error() -> float:
        return float((P.evaluate(model, test) - exact).norm() / exact.norm())

    before = error()
    h1, h2 = P.train_pinn(loss, adam_steps=300, lbfgs_steps=10, lr=3e-3, progress=False)
    assert len(h1.loss) == 300 and len(h2.loss) == 10
    assert h2.loss[-1] < h1.loss[-1] < h1.loss[0]
    assert error() < 0.02 < before


def test_point_counts_are_checked():
    with pytest.raises(ValueError, match="n must be at least 2"):
        P.initial_points(1, P.Domain())
    with pytest.raises(ValueError, match="n must be at least 2"):
        P.boundary_points(0, P.Domain())


def test_forward_mode_derivatives_equal_autograd():
    from physdl.nn import MLP, taylor

    torch.manual_seed(0)
    net = MLP(2, 1, [12, 12, 12]).double()
    pts = torch.rand(40, 2, dtype=torch.float64)
    model = P.PINN(net, {"nu": 0.02})
    fast = P.residual(model, pts, P.burgers, forward_mode=True)
    slow = P.residual(model, pts, P.burgers)
    assert torch.allclose(fast, slow, atol=1e-13)
    out = taylor.jet(net, pts, [(1, 0), (1, 1)])
    p = pts.clone().requires_grad_(True)
    d = P.Derivatives(net(p), p)
    assert torch.allclose(out[(0, 1)], d("x", "t"), atol=1e-13)
    assert torch.allclose(out[(1, 1)], d("t", "t"), atol=1e-13)
    assert torch.allclose(out[(0,)], d("x"), atol=1e-13)
    # the parameter gradients agree too
    g_fast = torch.autograd.grad(fast.pow(2).sum(), list(net.parameters()))
    g_slow = torch.autograd.grad(slow.pow(2).sum(), list(net.parameters()))
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g_fast, g_slow))


def test_forward_mode_is_used_only_where_it_applies():
    from physdl.nn import MLP, taylor

    assert taylor.supports(MLP(2, 1, [4], activation="tanh"))
    assert not taylor.supports(MLP(2, 1, [4], activation="relu"))
    with pytest.raises(ValueError, match="second order"):
        taylor.jet(MLP(2, 1, [4]), torch.rand(3, 2), [(0, 0, 0)])
    with pytest.raises(ValueError, match="shaped"):
        taylor.jet(MLP(2, 1, [4]), torch.rand(3, 3), [(0,)])
    # a relu network still gets its residual, by autograd
    model = P.PINN(MLP(2, 1, [4], activation="gelu"), {"nu": 0.1})
    assert P.residual(model, torch.rand(5, 2), P.burgers, forward_mode=True).shape == (5, 1)


def test_hard_constraint_meets_the_conditions_and_its_jet_equals_autograd():
    from physdl.nn import taylor

    torch.manual_seed(1)
    net = MLP(2, 1, [10, 10]).double()
    domain = P.Domain(x=(-1.0, 1.0), t=(0.0, 0.99))
    ansatz = P.zero_dirichlet(net, lambda x: -torch.sin(math.pi * x), domain)
    # the initial and wall values hold for any weights
    xi = P.initial_points(64, domain, torch.float64)
    xb = P.boundary_points(32, domain, torch.float64)
    assert torch.allclose(ansatz(xi)[:, 0], -torch.sin(math.pi * xi[:, 0]), atol=1e-14)
    assert ansatz(xb).abs().max() < 1e-14
    # forward-mode residual and parameter gradients equal autograd's (mixed derivative too)
    model = P.PINN(ansatz, {"nu": 0.01 / math.pi})
    pts = torch.rand(30, 2, dtype=torch.float64) * torch.tensor([2.0, 0.99]) - torch.tensor([1.0, 0.0])
    assert P.jet_keys(model, P.burgers) == {("t",), ("x",), ("x", "x")}
    fast = P.residual(model, pts, P.burgers, forward_mode=True)
    slow = P.residual(model, pts, P.burgers)
    assert torch.allclose(fast, slow, atol=1e-13)
    g_fast = torch.autograd.grad(fast.pow(2).sum(), list(net.parameters()))
    g_slow = torch.autograd.grad(slow.pow(2).sum(), list(net.parameters()))
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g_fast, g_slow))
    out = ansatz.jet(pts, [(0, 1)])
    p = pts.clone().requires_grad_(True)
    assert torch.allclose(out[(0, 1)], P.Derivatives(ansatz(p), p)("x", "t"), atol=1e-13)
    # a point-wise function that ignores an input has zero derivatives there
    flat = taylor.pointwise_jet(lambda q: q[:, :1] ** 2, pts, [(1, 1), (0, 0)])
    assert flat[(1,)].abs().max() == 0 and flat[(1, 1)].abs().max() == 0
    assert torch.allclose(flat[(0, 0)], torch.full_like(flat[(0, 0)], 2.0))


def test_hard_constraint_bad_input_and_loss_without_data():
    domain = P.Domain(x=(-1.0, 1.0), t=(0.0, 1.0))
    with pytest.raises(ValueError, match="0 on both walls"):
        P.zero_dirichlet(MLP(2, 1, [4]), torch.cos, domain)
    from physdl.nn import taylor

    with pytest.raises(ValueError, match="point-wise"):
        taylor.pointwise_jet(lambda q: q, torch.rand(4, 2), [(0,)])
    ansatz = P.zero_dirichlet(MLP(2, 1, [4]), lambda x: -torch.sin(math.pi * x), domain)
    loss = P.PINNLoss(P.PINN(ansatz, {"nu": 0.1}), P.burgers, torch.zeros(0, 2), torch.zeros(0, 1),
                      P.FixedPoints(P.uniform_points(16, domain)), forward_mode=True)
    data, res = loss.terms(0)
    assert float(data) == 0.0 and torch.isfinite(res)


def test_compile_needs_a_forward_mode_loss():
    domain = P.Domain()
    pts = P.uniform_points(8, domain)
    loss = P.PINNLoss(P.PINN(MLP(2, 1, [4]), {"nu": 0.1}), P.burgers, pts, torch.zeros(8, 1), P.FixedPoints(pts))
    with pytest.raises(ValueError, match="forward_mode"):
        P.train_pinn(loss, 1, compile=True, progress=False)


def test_largest_residuals_picks_the_worst_points():
    domain = P.Domain(x=(-1.0, 1.0), t=(0.0, 1.0))
    # u = x t: the heat residual u_t - kappa u_xx = x is largest where |x| is
    class Exact(nn.Module):
        def forward(self, p: torch.Tensor) -> torch.Tensor:
            return p[:, :1] * p[:, 1:]

    loss = P.PINNLoss(P.PINN(Exact(), {"kappa": 1.0}), P.heat, torch.zeros(0, 2), torch.zeros(0, 1),
                      P.FixedPoints(torch.zeros(1, 2)))
    candidates = P.uniform_points(500, domain, torch.Generator().manual_seed(0), torch.float64)
    worst = P.largest_residuals(loss, candidates, 10, batch_size=64)
    assert worst.shape == (10, 2)
    assert worst[:, 0].abs().min() >= candidates[:, 0].abs().sort().values[-10] - 1e-12
    with pytest.raises(ValueError, match="between 1"):
        P.largest_residuals(loss, candidates, 0)


def test_fused_adam_matches_default_adam() -> None:
    """The compiled path's fused Adam takes the same steps as torch's default Adam."""
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5, 3))
    b = torch.nn.Parameter(a.detach().clone())
    fused = P.training._adam([a], 1e-2, fused=True)
    plain = P.training._adam([b], 1e-2, fused=False)
    assert fused.defaults.get("fused") and not plain.defaults.get("fused")
    for _ in range(20):
        for p, opt in ((a, fused), (b, plain)):
            opt.zero_grad()
            (p.sin() ** 2).sum().backward()
            opt.step()
    assert torch.allclose(a, b, atol=1e-6)
