"""The shared services written once: timing, progress, atomic writes, positive parameters,
batched inference, the convolution table, and the two pieces of a fit through a solver."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from physdl import diffphys, io, progress, timing
from physdl.nn import (
    CONVOLUTIONS,
    PositiveParameters,
    batched,
    convolution,
    model_device,
)
from physdl.pde import burgers


def test_time_calls_counts_every_call_and_checks_its_arguments() -> None:
    calls = []
    result = timing.time_calls(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and len(result.times) == 3 and result.median >= 0
    assert result.spread["min"] <= result.median <= result.spread["max"]
    assert timing.median_seconds(lambda: None, repeats=1, warmup=0) >= 0
    with pytest.raises(ValueError, match="repeats"):
        timing.time_calls(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        timing.time_calls(lambda: None, warmup=-1)


def test_progress_yields_every_item() -> None:
    assert list(progress.progress(range(4), "items", enabled=False)) == [0, 1, 2, 3]


def test_atomic_save_leaves_only_the_file(tmp_path) -> None:
    path = tmp_path / "sub" / "x.pt"
    io.atomic_save({"a": torch.arange(3)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["x.pt"]


def test_positive_parameters_stay_positive_and_fix_what_is_not_learned() -> None:
    params = PositiveParameters({"nu": 0.5, "kappa": 2.0}, learn=["nu"])
    assert set(dict(params.named_parameters())) == {"log_values.nu"}
    assert set(dict(params.named_buffers())) == {"log_kappa"}
    values = params()
    torch.testing.assert_close(values["nu"], torch.tensor(0.5))
    assert params.as_dict() == pytest.approx({"nu": 0.5, "kappa": 2.0})
    with torch.no_grad():
        params.log_values["nu"].fill_(-50.0)
    assert params.as_dict()["nu"] > 0
    with pytest.raises(ValueError, match="positive"):
        PositiveParameters({"nu": 0.0})
    with pytest.raises(ValueError, match="cannot learn"):
        PositiveParameters({"nu": 1.0}, learn=["mu"])
    with pytest.raises(KeyError, match="no value named"):
        params.log_value("mu")


def test_batched_equals_one_call_and_checks_its_input() -> None:
    net = nn.Linear(3, 2)
    x = torch.randn(10, 3)
    torch.testing.assert_close(batched(net, x, batch_size=4), net(x).detach())
    starts = []
    batched(net, x, 4, call=lambda m, chunk, start: starts.append(start) or m(chunk))
    assert starts == [0, 4, 8]
    assert batched(net, x, 4, out_device=None).device == x.device
    assert model_device(net) == torch.device("cpu") and model_device(nn.ReLU()) == torch.device("cpu")
    with pytest.raises(ValueError, match="batch_size"):
        batched(net, x, 0)
    with pytest.raises(ValueError, match="at least one sample"):
        batched(net, x[:0], 4)


def test_convolution_by_dimension() -> None:
    classes = [convolution(d) for d in (1, 2, 3)]
    assert classes == list(CONVOLUTIONS.values())
    assert all(issubclass(c, t) for c, t in zip(classes, (nn.Conv1d, nn.Conv2d, nn.Conv3d)))
    with pytest.raises(ValueError, match="dims must be between 1 and 3"):
        convolution(4)


def test_unrolled_loss_and_gradient_step() -> None:
    n, dt = 32, 0.01
    solver = burgers.solver(burgers.domain(n, "dirichlet"), dt, burgers.NU)
    target = torch.zeros(1, 1, n, dtype=torch.float64)
    u = (0.1 * torch.sin(torch.linspace(0, 3.14, n, dtype=torch.float64)))[None, None].requires_grad_(True)

    def loss_fn(v: torch.Tensor) -> torch.Tensor:
        return diffphys.unrolled_loss(solver, v, target, 4)

    before = float(loss_fn(u))
    returned = diffphys.gradient_step(loss_fn, u, lr=1.0)
    assert float(returned) == pytest.approx(before) and float(loss_fn(u)) < before
    with pytest.raises(ValueError, match="same shape"):
        diffphys.unrolled_loss(solver, u, target[..., :-1], 4)
    with pytest.raises(ValueError, match="leaf tensor"):
        diffphys.gradient_step(loss_fn, u.detach(), lr=1.0)
    with pytest.raises(ValueError, match=r"lr must be a finite number in \(0, inf\)"):
        diffphys.gradient_step(loss_fn, u, lr=0.0)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_periodic_convolution_equals_torch_circular(dims, kernel):
    """physdl's convolutions pad by concatenation; values and gradients equal torch's circular pad."""
    from torch import nn

    from physdl.nn.conv import convolution

    torch.manual_seed(0)
    ours = convolution(dims)(3, 4, kernel, padding=kernel // 2, padding_mode="circular").double()
    theirs = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims](3, 4, kernel, padding=kernel // 2,
                                                              padding_mode="circular").double()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, *[6] * dims, dtype=torch.float64, requires_grad=True)
    a, b = ours(x), theirs(x)
    assert torch.equal(a, b)
    ga = torch.autograd.grad(a.square().sum(), (x, ours.weight))
    gb = torch.autograd.grad(b.square().sum(), (x, theirs.weight))
    for u, v in zip(ga, gb):
        torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-12)
    zeros = convolution(dims)(3, 4, kernel, padding=kernel // 2).double()  # other modes: torch's own
    assert zeros.padding_mode == "zeros" and zeros(x).shape == a.shape
