"""Training a surrogate: the supervised loss on scaled outputs, and the 1-sample overfitting test."""

from __future__ import annotations

import torch
from torch import nn

from physdl.ops.checks import check_bool, check_int, check_real, finite_tensor
from physdl import distributed
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
    symmetries are functions of ``(seed, step)`` (:mod:`physdl.sampling`). Under ``torchrun``
    each rank trains on its slice of every batch (:mod:`physdl.distributed`): the run is the
    run of one process with the same ``batch_size``.

    Explained in :ref:`01-surrogates-training-on-the-data-set`.
    """
    if not isinstance(model, Scaled):
        raise TypeError("model: train_surrogate expects a Scaled network (see Scaled)")
    steps, batch_size = check_int(steps, "steps", 0), check_int(batch_size, "batch_size", 1)
    lr, seed = check_real(lr, "lr", 0, lo_open=True), check_int(seed, "seed", 0)
    augment = check_bool(augment, "augment")
    for name, data in (("train", train), ("test", test)):
        if not isinstance(data, dict) or not {"inputs", "targets"} <= data.keys():
            raise TypeError(f"{name} must be a dict with 'inputs' and 'targets' tensors")
        finite_tensor(data["inputs"], f"{name}['inputs']")
        finite_tensor(data["targets"], f"{name}['targets']")
        if not len(data["inputs"]) or len(data["inputs"]) != len(data["targets"]):
            raise ValueError(f"{name} needs as many targets as inputs, and at least one")
    dev = next(model.parameters()).device
    x, y = train["inputs"].to(dev), train["targets"].to(dev)
    order = EpochBatches(len(x), batch_size, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))

    def loss_fn(step: int) -> torch.Tensor:
        idx, weight = distributed.local_batch(order(step))  # this rank's slice under torchrun
        idx = idx.to(dev)
        xb, yb = x[idx], y[idx]
        if augment:
            gen = step_generator(seed, step, "symmetry")
            xb, yb = symmetry(xb, yb, int(torch.randint(8, (), generator=gen, device="cpu")))
        return weight * (model.net(model.normalise_inputs(xb)) - model.normalise(yb, xb)).pow(2).mean()

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
    finite_tensor(inputs, "inputs")
    finite_tensor(targets, "targets")
    if inputs.dim() != 4 or targets.dim() != 4 or inputs.shape[0] != 1 or targets.shape[0] != 1:
        raise ValueError("inputs and targets: the overfitting test takes exactly one sample (1, c, nx, ny)")
    if not isinstance(model, Scaled):
        raise TypeError("model: overfit_one_sample expects a Scaled network (see Scaled)")
    steps, lr = check_int(steps, "steps", 0), check_real(lr, "lr", 0, lo_open=True)
    dev = next(model.parameters()).device
    x, y = inputs.to(dev), targets.to(dev)
    y_norm = model.normalise(y, x)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x_norm = model.normalise_inputs(x)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    return fit(model, lambda _: (model.net(x_norm) - y_norm).pow(2).mean(), opt, steps, scheduler=sched,
               desc="overfit 1 sample")
