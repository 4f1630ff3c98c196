"""Training a surrogate: the supervised loss on scaled outputs, and the 1-sample overfitting test."""

from __future__ import annotations

import torch
from torch import nn

from physdl.sampling import EpochBatches, step_generator
from physdl.surrogate.data import symmetry
from physdl.surrogate.evaluation import channel_errors, predict
from physdl.surrogate.model import Scaled
from physdl.train import History, fit


def train_surrogate(
    model: nn.Module,
    train: dict[str, torch.Tensor],
    test: dict[str, torch.Tensor],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    desc: str = "surrogate",
    validate_every: int = 200,
    progress: bool | None = None,
    augment: bool = False,
) -> History:
    """Adam with cosine decay on the MSE of scaled outputs; validation = mean relative L2.

    ``model`` is a :class:`Scaled` network: the loss is the MSE of normalised values, so
    that channels and samples weigh equally. The weights with the best validation error are
    kept. With ``augment``, each batch is moved by a random one of the 8 symmetries of the
    square (:func:`symmetry`), which multiplies the data at no cost and is exact. Batches and
    symmetries are functions of ``(seed, step)`` (:mod:`physdl.sampling`).

    Explained in :ref:`01-surrogates-training-on-the-data-set`.
    """
    if not isinstance(model, Scaled):
        raise TypeError("train_surrogate expects a Scaled network (see Scaled)")
    dev = next(model.parameters()).device
    x, y = train["inputs"].to(dev), train["targets"].to(dev)
    order = EpochBatches(len(x), batch_size, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))

    def loss_fn(step: int) -> torch.Tensor:
        idx = order(step).to(dev)
        xb, yb = x[idx], y[idx]
        if augment:
            gen = step_generator(seed, step, "symmetry")
            xb, yb = symmetry(xb, yb, int(torch.randint(8, (), generator=gen, device="cpu")))
        return (model.net(model.normalise_inputs(xb)) - model.normalise(yb, xb)).pow(2).mean()

    def validate() -> float:
        return float(channel_errors(predict(model, test["inputs"]), test["targets"]).mean())

    return fit(model, loss_fn, opt, steps, scheduler=sched, validate=validate,
               validate_every=validate_every, desc=desc, progress=progress)


def overfit_one_sample(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                       steps: int, lr: float = 1e-3) -> History:
    """The lecture's sanity check: fit a single ``(1, c, nx, ny)`` pair with Adam.

    The step size decays to zero on a cosine, as in :func:`train_surrogate`: at a constant
    step size Adam's loss on one sample keeps spiking, and the last step may land on a spike
    (a final loss ten times the best one), so the test would judge the schedule, not the model.

    Used in :ref:`01-surrogates-first-overfit-one-sample`.
    """
    if inputs.shape[0] != 1 or targets.shape[0] != 1:
        raise ValueError("the overfitting test takes exactly one sample (batch size 1)")
    if not isinstance(model, Scaled):
        raise TypeError("overfit_one_sample expects a Scaled network (see Scaled)")
    dev = next(model.parameters()).device
    x, y = inputs.to(dev), targets.to(dev)
    y_norm = model.normalise(y, x)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x_norm = model.normalise_inputs(x)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    return fit(model, lambda _: (model.net(x_norm) - y_norm).pow(2).mean(), opt, steps, scheduler=sched,
               desc="overfit 1 sample")
