"""Tiny trainings for the multi-process tests (tests/test_distributed.py).

``python tests/distributed_worker.py CASE STEPS OUT [CHECKPOINT]`` trains case ``regression``
(a float64 MLP, a global batch of 7 split 4 + 3), ``surrogate`` (a float64
:class:`physdl.surrogate.Scaled` U-Net through ``train_surrogate``) or ``crnn`` (the CRNN's
``train`` at 8^2), or ``all`` of them, for ``STEPS`` steps, one process or under ``torchrun``;
rank 0 writes, per case, the loss and validation curves, the number of ranks and each rank's
slice of the first batch to the JSON file ``OUT``. With ``CHECKPOINT`` the run checkpoints there and resumes from it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import torch
import torch.distributed as dist

from physdl import distributed
from physdl.sampling import EpochBatches
from physdl.train import fit

BATCH = 7  # split 4 + 3 over two ranks: unequal slices, weighted losses


def regression(steps: int, checkpoint: str | None) -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(28, 3, generator=g, dtype=torch.float64)
    y = torch.sin(x.sum(1, keepdim=True))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    order = EpochBatches(len(x), BATCH, seed=3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_fn(step: int) -> torch.Tensor:
        idx, weight = distributed.local_batch(order(step))
        return weight * (model(x[idx]) - y[idx]).pow(2).mean()

    @torch.no_grad()
    def validate() -> float:
        return float((model(x) - y).pow(2).mean())

    history = fit(model, loss_fn, opt, steps, validate=validate, validate_every=2, checkpoint=checkpoint,
                  checkpoint_every=1, progress=False)
    first, _ = distributed.local_batch(order(0))
    return {"loss": history.loss, "val": history.val, "val_steps": history.val_steps, "slice": first.tolist()}


def surrogate(steps: int, checkpoint: str | None) -> dict:
    from physdl import nn as pnn
    from physdl import surrogate as sur

    g = torch.Generator().manual_seed(1)
    data = {"inputs": torch.rand(9, 3, 8, 8, generator=g, dtype=torch.float64) + 0.1,
            "targets": torch.rand(9, 3, 8, 8, generator=g, dtype=torch.float64)}
    test = {k: v[:3] for k, v in data.items()}
    torch.manual_seed(0)
    model = sur.Scaled(pnn.UNet(3, 3, base=2, levels=2), torch.ones(3, dtype=torch.float64)).double()
    history = sur.train_surrogate(model, data, test, steps, batch_size=5, lr=1e-2, seed=2, validate_every=2,
                                  progress=False, augment=True)
    return {"loss": history.loss, "val": history.val}


def crnn(steps: int, checkpoint: str | None) -> dict:
    from physdl.crnn.data import SequenceConfig
    from physdl.crnn.model import CRNNArchitecture
    from physdl.crnn.training import TrainingConfig, train

    data = SequenceConfig(grid=8, dims=2, sequences=4, frames=5, max_start=1, tau=0.05, batch=2)
    cfg = TrainingConfig(data=(data,), validation=(replace(data, seed=1),), arch=CRNNArchitecture(hidden_channels=2, dims=2),
                         window=3, steps=steps, validate_every=2, batch=4, augment=True,
                         input_noise=0.01)  # each rank adds its rows of the whole batch's noise
    result = train(cfg, checkpoint=checkpoint, progress=False, device=torch.device("cpu"), checkpoint_every=1)
    return {"loss": result.history.loss, "val": result.history.val}


def main(case: str, steps: int, out: str, checkpoint: str | None = None) -> None:
    distributed.init()
    torch.set_num_threads(1)
    cases = {"regression": regression, "surrogate": surrogate, "crnn": crnn}
    records = {}
    for name in cases if case == "all" else [case]:
        record = cases[name](steps, checkpoint)
        slices = [None] * distributed.world_size()
        if distributed.active():
            dist.all_gather_object(slices, record.get("slice"))
        else:
            slices = [record.get("slice")]
        records[name] = {**record, "ranks": distributed.world_size(), "slices": slices}
    if distributed.is_main():
        with open(out, "w") as f:
            json.dump(records, f)
    distributed.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:5])
