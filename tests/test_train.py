"""The shared fit loop: convergence, checkpoints and resume, early stopping, NaN stop, L-BFGS."""

import pytest
import torch

from physdl.train import NonFiniteLossError, batches, fit, load_checkpoint


def regression_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=g)
    w = torch.tensor([[1.0], [-2.0], [0.5]])
    y = x @ w + 0.3
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    return model, lambda step: (model(x) - y).pow(2).mean()


def test_fit_reduces_the_loss():
    model, loss = regression_problem()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    h = fit(model, loss, opt, 300, progress=False)
    assert h.steps == 300
    assert h.loss[-1] < 1e-3 * h.loss[0]


def test_lbfgs_with_closure():
    model, loss = regression_problem()
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")
    h = fit(model, loss, opt, 5, progress=False)
    assert h.loss[-1] < 1e-8


def test_checkpoint_and_resume(tmp_path):
    ckpt = tmp_path / "run.pt"
    model, loss = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    fit(model, loss, opt, 40, checkpoint=ckpt, checkpoint_every=10, progress=False)
    assert ckpt.exists()
    state = torch.load(ckpt, weights_only=True)
    assert state["step"] == 40

    # an uninterrupted 80-step run ...
    ref_model, ref_loss = regression_problem()
    ref = fit(ref_model, ref_loss, torch.optim.SGD(ref_model.parameters(), lr=0.05), 80, progress=False)
    # ... equals 40 steps, then a fresh process that resumes to 80
    model2, loss2 = regression_problem(seed=0)
    torch.nn.init.zeros_(model2.weight)  # overwritten by the checkpoint
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.05)
    h = fit(model2, loss2, opt2, 80, checkpoint=ckpt, checkpoint_every=10, progress=False)
    assert h.start_step == 40 and h.steps == 80
    assert h.loss == pytest.approx(ref.loss, rel=1e-6)
    torch.testing.assert_close(model2.weight, ref_model.weight)


def test_nan_stops_and_keeps_last_good_checkpoint(tmp_path):
    ckpt = tmp_path / "run.pt"
    model, loss = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def poisoned(step):
        value = loss(step)
        return value * float("nan") if step == 25 else value

    with pytest.raises(NonFiniteLossError, match=r"step 25.*last good checkpoint .*step 20"):
        fit(model, poisoned, opt, 100, checkpoint=ckpt, checkpoint_every=10, progress=False)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["step"] == 20
    torch.testing.assert_close(model.state_dict()["weight"], saved["model"]["weight"])
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_nan_without_checkpoint_says_so():
    model, _ = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(NonFiniteLossError, match="no checkpoint"):
        fit(model, lambda s: torch.tensor(float("inf"), requires_grad=True), opt, 3, progress=False)


def test_early_stopping_and_best_weights():
    model, loss = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    values = iter([5.0, 3.0, 4.0, 4.5, 4.2, 1.0])
    snapshots = []

    def validate():
        snapshots.append(model.weight.detach().clone())
        return next(values)

    h = fit(model, loss, opt, 100, validate=validate, validate_every=10, patience=3, progress=False)
    assert h.stopped_early and h.steps == 50
    assert h.best_val == 3.0 and h.best_step == 20
    torch.testing.assert_close(model.weight, snapshots[1])


def test_load_checkpoint_is_safe(tmp_path):
    ckpt = tmp_path / "run.pt"
    model, loss = regression_problem()
    fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), 5, checkpoint=ckpt, progress=False)
    other = torch.nn.Linear(3, 1)
    out = load_checkpoint(ckpt, other)
    assert out["step"] == 5
    torch.testing.assert_close(other.weight, model.weight)


def test_batches_cover_each_epoch():
    it = batches(10, 3, torch.Generator().manual_seed(0))
    first_epoch = torch.cat([next(it) for _ in range(3)])
    assert len(set(first_epoch.tolist())) == 9
    with pytest.raises(ValueError):
        next(batches(0, 3))


def test_bad_arguments():
    model, loss = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(ValueError, match="iterations"):
        fit(model, loss, opt, -1)
