"""A small training run for the fault-injection tests (run as a script or imported).

``python tests/fault_worker.py FOLDER`` trains (or resumes) the run whose checkpoint lives in
``FOLDER``. With ``PHYSDL_FAULT=<point>:<k>`` the process dies (``os._exit``, as a kill would)
at the ``k``-th checkpoint write, at ``<point>``:

- ``partial``: half of the temporary file written;
- ``synced``: the temporary file complete and synced, not yet renamed;
- ``before-rename``: just before the rename;
- ``after-rename``: just after the rename, before ``fit`` goes on.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import torch

from physdl.sampling import EpochBatches, step_generator
from physdl.train import fit

STEPS = 60
POINTS = ("partial", "synced", "before-rename", "after-rename")


def problem() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """Model and data, the same in every process."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 32, generator=g)
    y = torch.sin(x.sum(1, keepdim=True))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 256), torch.nn.Tanh(), torch.nn.Dropout(0.1),
                                torch.nn.Linear(256, 256), torch.nn.Tanh(), torch.nn.Linear(256, 1))
    return model, x, y


def train(folder: str | os.PathLike | None) -> dict[str, torch.Tensor]:
    """Run (or resume) the training to ``STEPS``; checkpoint every step in ``folder``."""
    model, x, y = problem()
    order = EpochBatches(len(x), 32, seed=7)

    def loss_fn(step: int) -> torch.Tensor:
        idx = order(step)
        noise = torch.randn(32, 32, generator=step_generator(7, step, "noise"))
        return (model(x[idx] + 0.01 * noise) - y[idx]).pow(2).mean()  # dropout: the global generator

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, STEPS)
    checkpoint = Path(folder) / "run.ckpt" if folder is not None else None
    fit(model, loss_fn, opt, STEPS, scheduler=sched, checkpoint=checkpoint, checkpoint_every=1, progress=False)
    return model.state_dict()


def _die() -> None:
    os._exit(9)


def inject(point: str, k: int) -> None:
    """Make the ``k``-th checkpoint write die at ``point`` (patches this process only)."""
    import physdl.io as pio

    count = {"n": 0}
    real_save, real_fsync, real_replace = torch.save, os.fsync, os.replace

    def hit() -> bool:
        return count["n"] == k

    def save(obj, fh, *args, **kwargs):
        count["n"] += 1
        if point == "partial" and hit():
            buffer = io.BytesIO()
            real_save(obj, buffer)
            fh.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            fh.flush()
            _die()
        return real_save(obj, fh, *args, **kwargs)

    def fsync(fd):
        real_fsync(fd)
        if point == "synced" and hit():
            _die()

    def replace(src, dst):
        if point == "before-rename" and hit():
            _die()
        real_replace(src, dst)
        if point == "after-rename" and hit():
            _die()

    pio.torch.save = save
    pio.os.fsync = fsync
    pio.os.replace = replace


if __name__ == "__main__":
    torch.set_num_threads(1)
    fault = os.environ.get("PHYSDL_FAULT")
    if fault:
        where, k = fault.split(":")
        inject(where, int(k))
    print("ready", flush=True)
    train(sys.argv[1])
