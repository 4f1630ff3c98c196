"""The shared fit loop: convergence, checkpoints and resume, early stopping, NaN stop, L-BFGS."""

import math

import pytest
import torch

from physdl import io
from physdl.sampling import EpochBatches, step_generator, step_seed
from physdl.train import (
    CheckpointError,
    NonFiniteLossError,
    batches,
    fit,
    load_checkpoint,
)


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
    with pytest.warns(DeprecationWarning, match="EpochBatches"):
        it = batches(10, 3, torch.Generator().manual_seed(0))
    first_epoch = torch.cat([next(it) for _ in range(3)])
    assert len(set(first_epoch.tolist())) == 9
    with pytest.raises(ValueError), pytest.warns(DeprecationWarning):
        batches(0, 3)


def test_bad_arguments():
    model, loss = regression_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(ValueError, match="iterations"):
        fit(model, loss, opt, -1)
    with pytest.raises(TypeError, match="iterations"):
        fit(model, loss, opt, 2.5)
    with pytest.raises(ValueError, match="checkpoint_every"):
        fit(model, loss, opt, 3, checkpoint_every=0)


# -- the (seed, step) randomness contract ------------------------------------------------


def test_step_seeds_are_pure_and_distinct():
    assert step_seed(3, 7, "a") == step_seed(3, 7, "a")
    seeds = {step_seed(seed, step, stream) for seed in range(4) for step in range(50) for stream in ("a", "b")}
    assert len(seeds) == 400  # (seed, step + 1) and (seed + 1, step) do not collide
    g1, g2 = step_generator(1, 2, "x"), step_generator(1, 2, "x")
    assert torch.equal(torch.rand(5, generator=g1), torch.rand(5, generator=g2))
    with pytest.raises(ValueError, match="seed"):
        step_seed(-1, 0)
    with pytest.raises(TypeError, match="step"):
        step_seed(0, 1.5)


def test_epoch_batches_are_a_function_of_the_step():
    sampler = EpochBatches(10, 3, seed=4)
    epoch0 = torch.cat([sampler(s) for s in range(3)])
    assert len(set(epoch0.tolist())) == 9  # a permutation, the last incomplete batch dropped
    fresh = EpochBatches(10, 3, seed=4)  # a resumed run: no state carried over
    assert torch.equal(fresh(7), sampler(7)) and torch.equal(fresh(1), sampler(1))
    assert not torch.equal(sampler(0), sampler(3))  # a new epoch, a new order
    assert EpochBatches(2, 5)(0).sort().values.tolist() == [0, 1]
    with pytest.raises(ValueError, match="batch_size"):
        EpochBatches(4, 0)


# -- faults ------------------------------------------------------------------------------


def test_infinite_gradient_never_reaches_a_checkpoint(tmp_path):
    """A finite loss with an infinite gradient at a checkpoint step used to write NaN weights
    over the last good checkpoint and then 'restore' them."""
    ckpt = tmp_path / "run.pt"
    model, loss = regression_problem()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def overflowing(step):
        value = loss(step)
        if step == 19:  # finite loss, infinite gradient: d sqrt(u) / du at u = 0
            value = value + torch.sqrt((model.weight - model.weight.detach()).sum())
        return value

    assert torch.isfinite(overflowing(19))
    with pytest.raises(NonFiniteLossError, match=r"not finite at step 20.*last good checkpoint .*step 10"):
        fit(model, overflowing, opt, 40, checkpoint=ckpt, checkpoint_every=10, progress=False)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["step"] == 10
    assert all(torch.isfinite(v).all() for v in saved["model"].values())
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_resume_past_the_end_is_an_error(tmp_path):
    ckpt = tmp_path / "run.pt"
    model, loss = regression_problem()
    fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), 5, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointError, match=r"run.pt is at step 5, past iterations=3"):
        fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), 3, checkpoint=ckpt, progress=False)


def test_mismatched_and_damaged_checkpoints_name_the_file(tmp_path):
    ckpt = tmp_path / "run.pt"
    model, loss = regression_problem()
    fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), 5, checkpoint=ckpt, progress=False)
    other = torch.nn.Linear(4, 1)
    with pytest.raises(CheckpointError, match=r"(?s)run.pt does not match the model.*size mismatch"):
        fit(other, loss, torch.optim.SGD(other.parameters(), lr=0.05), 9, checkpoint=ckpt, progress=False)
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"run.pt is damaged"):
        fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), 9, checkpoint=ckpt, progress=False)
    torch.save({"weights": 1}, ckpt)
    with pytest.raises(CheckpointError, match=r"not a checkpoint written by physdl.train.fit"):
        load_checkpoint(ckpt, model)


def test_stale_temporaries_are_removed(tmp_path):
    ckpt = tmp_path / "run.pt"
    stale = tmp_path / ".run.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    unrelated = tmp_path / ".other.pt.abc.tmp"
    unrelated.write_bytes(b"x")
    model, loss = regression_problem()
    fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), 3, checkpoint=ckpt, progress=False)
    assert not stale.exists() and unrelated.exists()
    assert io.temporaries(ckpt) == []


def test_restore_best_holds_across_a_resume(tmp_path):
    """The best weights are part of the checkpoint: a resumed run returns them, not the last."""
    ckpt = tmp_path / "run.pt"
    values = [5.0, 1.0, 4.0, 4.5]
    snapshots = {}

    def run(iterations, model, loss):
        def validate():
            snapshots.setdefault(len(snapshots), model.weight.detach().clone())
            return values[len(snapshots) - 1]

        return fit(model, loss, torch.optim.SGD(model.parameters(), lr=0.05), iterations, validate=validate,
                   validate_every=10, checkpoint=ckpt, checkpoint_every=10, progress=False)

    model, loss = regression_problem()
    run(20, model, loss)
    model2, loss2 = regression_problem()
    h = run(40, model2, loss2)
    assert h.best_step == 20 and h.start_step == 20
    torch.testing.assert_close(model2.weight, snapshots[1], rtol=0, atol=0)


def test_resume_restores_the_global_generator(tmp_path):
    """A loss that draws from torch's global generator (dropout, noise) resumes bit-identically."""
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0))

    def problem():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Dropout(0.3), torch.nn.Linear(16, 1))
        return model, lambda step: model(x + 0.1 * torch.randn_like(x)).pow(2).mean()

    ref, ref_loss = problem()
    fit(ref, ref_loss, torch.optim.Adam(ref.parameters(), lr=0.01), 30, progress=False)
    ckpt = tmp_path / "run.pt"
    model, loss = problem()
    fit(model, loss, torch.optim.Adam(model.parameters(), lr=0.01), 12, checkpoint=ckpt, progress=False)
    torch.manual_seed(123)  # a new process would start from another state
    model, loss = problem()
    torch.manual_seed(99)
    fit(model, loss, torch.optim.Adam(model.parameters(), lr=0.01), 30, checkpoint=ckpt, progress=False)
    for a, b in zip(ref.parameters(), model.parameters()):
        assert torch.equal(a, b)


def _deferred_problem():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1).double()
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = x.sum(1, keepdim=True)
    return model, x, y


def test_reading_the_loss_every_k_steps_gives_the_same_run():
    curves = []
    for sync_every in (1, 4):
        model, x, y = _deferred_problem()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        hist = fit(model, lambda step: (model(x[step % 16:][:4]) - y[step % 16:][:4]).pow(2).mean(), opt, 10,
                   validate=lambda: float((model(x) - y).pow(2).mean()), validate_every=3, progress=False,
                   sync_every=sync_every)
        curves.append((hist.loss, hist.val, [p.detach().clone() for p in model.parameters()]))
    assert curves[0][0] == curves[1][0] and len(curves[1][0]) == 10 and curves[0][1] == curves[1][1]
    assert all(torch.equal(a, b) for a, b in zip(curves[0][2], curves[1][2]))
    with pytest.raises(ValueError, match="sync_every must be at least 1"):
        fit(model, lambda step: model(x).sum(), opt, 1, sync_every=0, progress=False)


def test_a_deferred_nan_names_its_step_and_the_checkpoint_restores_the_model(tmp_path):
    model, x, y = _deferred_problem()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def loss_fn(step):
        loss = (model(x) - y).pow(2).mean()
        return loss * math.nan if step == 5 else loss

    with pytest.raises(NonFiniteLossError, match="loss became nan at step 5.*last good checkpoint .*step 4"):
        fit(model, loss_fn, opt, 12, checkpoint=tmp_path / "run.ckpt", checkpoint_every=4, sync_every=8,
            progress=False)
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())  # the NaN steps were undone
    assert torch.load(tmp_path / "run.ckpt", weights_only=False)["step"] == 4
