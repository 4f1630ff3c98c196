"""The sizes of every chapter and every command line, per profile: the one place they live.

A chapter reads its sizes (grids, samples, iterations) and the bounds it asserts with
``cfg = sizes.chapter("<name>")``; a command line reads its run with :func:`run`. The profile
comes from ``PHYSDL_PROFILE`` (:func:`physdl.config.profile`), the only scale switch:

``quick``
    what CI runs: small sizes, looser bounds that still fail when a chapter breaks;
``default``
    the rendered book: reproduces the chapter's claims within about 15 minutes on a 2-core CPU;
``paper``
    a paper's own scale where it differs (GPU hours); the default elsewhere.

Each chapter has its own entry (no chapter borrows another's), and
``tests/test_sizes.py`` fails when a chapter or a command reads a size from anywhere else or
types a literal that its entry holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from physdl.burgers_pinn.config import BurgersPINNConfig
from physdl.config import PROFILES
from physdl.config import profile as active_profile
from physdl.crnn.data import SequenceConfig
from physdl.crnn.training import TrainingConfig
from physdl.neuradiff.config import NeuraDiffConfig
from physdl.neuradiff.data import VoidScenario
from physdl.safe.config import SafeConfig
from physdl.safe.data import HeatVideoConfig
from physdl.surrogate.config import SurrogateConfig


@dataclass(frozen=True)
class SurrogateChapter:
    """Chapter 1, surrogate models.

    Attributes:
        method: data, networks and training of :mod:`physdl.surrogate`.
        max_mean_error: largest mean relative L2 error of the U-Net on the test set.
        min_error_ratio: how many times the fully connected network's error the U-Net's must
            at least beat.
    """

    method: SurrogateConfig
    max_mean_error: float
    min_error_ratio: float


@dataclass(frozen=True)
class BurgersPINNChapter:
    """Chapter 2, physics-informed networks for Burgers.

    Attributes:
        method: the three PINN problems of :mod:`physdl.burgers_pinn`.
        max_lecture_mae: largest MAE of the lecture's PINN at ``t = 0.5``.
        max_forward_error: largest relative L2 error of the forward PINN on the lecture grid.
        max_nu_error: largest relative error of the identified ``nu``.
        max_precise_error: largest relative L2 error of the float64 SSBroyden PINN on either
            scoring grid.
        max_precise_nu_error: largest relative error of ``nu`` from clean data in float64.
        min_race_gain: after ``race_steps``, float64 SSBroyden on redrawn points must beat
            float64 BFGS and SSBroyden on fixed points by at least this factor (the chapter's
            claims about self-scaling and redrawn points); 0: not checked (a race of a few
            steps is too short to rank them).
        min_precision_gain: float64 SSBroyden must end more than this factor below float32
            SSBroyden after as many steps; 0: not checked (after the quick profile's dozen
            steps either may be ahead, depending on rounding and thread count).
    """

    method: BurgersPINNConfig
    max_lecture_mae: float
    max_forward_error: float
    max_nu_error: float
    max_precise_error: float
    max_precise_nu_error: float
    min_race_gain: float = 0.0
    min_precision_gain: float = 0.0


@dataclass(frozen=True)
class AdvectionChapter:
    """Chapter 3, differentiable advection.

    Attributes:
        iterations, lr: Adam iterations and learning rate of the velocity fit.
        max_loss_ratio: final over initial loss of the fit, at most.
        max_error_ratio: final over initial velocity error where the density varies, at most.
    """

    iterations: int
    lr: float
    max_loss_ratio: float
    max_error_ratio: float


@dataclass(frozen=True)
class BurgersDPChapter:
    """Chapter 4, differentiable Burgers.

    Attributes:
        pinn: the lecture's PINN trained for the side-by-side comparison.
        train_targets, test_targets: targets of the family that trains the network and that
            tests it.
        iterations: Adam iterations of the network trained through the solver.
        max_network_loss: largest mean loss of the network on the test targets.
    """

    pinn: BurgersPINNConfig
    train_targets: int
    test_targets: int
    iterations: int
    max_network_loss: float


@dataclass(frozen=True)
class SafeChapter:
    """Chapter 5, SAFE-PIT-CM.

    Attributes:
        data: the heat-equation videos.
        method: SAFE-PIT-CM settings.
        substeps: ``N_sub`` values of the sub-step ablation.
        frame_steps: frame steps ``k`` of the temporal-resolution ablation.
        min_mobility_r2: smallest R^2 of the fine-tuned estimates on mobility videos.
    """

    data: HeatVideoConfig
    method: SafeConfig
    substeps: tuple[int, ...] = (1, 2, 5, 10, 25, 50)
    frame_steps: tuple[int, ...] = (1, 2, 5, 10)
    min_mobility_r2: float = 0.95


@dataclass(frozen=True)
class NeuraDiffChapter:
    """Chapter 6, NeuraDiff.

    Attributes:
        scenario: the training video; transfer: the video the trained model is moved to.
        method: NeuraDiff settings.
        landscape_points, landscape_frames: the loss-landscape scan.
        min_tracking_accuracy, min_rollout_accuracy, min_transfer_accuracy: smallest pixel
            accuracies on held-out frames: tracking, rolling out the learned phase-field model,
            tracking the transfer video.
    """

    scenario: VoidScenario
    transfer: VoidScenario
    method: NeuraDiffConfig
    landscape_points: int = 9
    landscape_frames: int = 20
    min_tracking_accuracy: float = 0.99
    min_rollout_accuracy: float = 0.95
    min_transfer_accuracy: float = 0.97


@dataclass(frozen=True)
class CRNNChapter:
    """Chapter 7, the 3D CRNN for Cahn-Hilliard.

    Attributes:
        frame_interval: time between two frames, the interval the network advances (``tau``).
        grid: solver grid of the validation and extrapolation runs (the network sees half).
        start_time: the solver runs from the noise up to this time, then the network takes
            over (after the fast spinodal stage).
        demo_time: length of the solver demonstration in 2D and 3D (time units).
        validation_runs, horizon: validation sequences and their length in frames.
        long_steps: network steps of the single long rollout (mass and boundedness).
        ensemble, ensemble_frames: initial states and frames of the free-energy ensemble.
        switch_time, dt_late: the long reference goes semi-implicit after ``switch_time``.
        fit_window: time window of the power-law fit (time units).
        box_grid, box_cells, box_runs, box_time, box_fit_window: the solver-only run in a
            larger box from finer noise, where coarsening has room to reach its scaling law.
        large_frames: frames of the 2x-larger-domain test.
        shape_frames: frames of the torus test.
        speed_repeats: timing repeats.
        shape_steps, shape_every: network steps of the long-horizon shape runs and the spacing
            of their saved frames.
        max_energy_rise, max_energy_error, max_centre_error, max_fraction_error: the targets of
            those runs (from step 5 on): largest rise of the free energy between saved frames
            and its final error (relative), the centre of the minority phase (network cells),
            its volume (relative).
    """

    frame_interval: float = 0.5
    grid: int = 32
    start_time: float = 5.0
    demo_time: float = 20.0
    validation_runs: int = 4
    horizon: int = 401
    long_steps: int = 10_000
    ensemble: int = 10
    ensemble_frames: int = 801
    switch_time: float = 20.0
    dt_late: float = 0.05
    fit_window: tuple[float, float] = (20.0, 200.0)
    box_grid: int = 64
    box_cells: int = 16
    box_runs: int = 2
    box_time: float = 400.0
    box_fit_window: tuple[float, float] = (50.0, 400.0)
    large_frames: int = 61
    shape_frames: int = 81
    speed_repeats: int = 5
    shape_steps: int = 2000
    shape_every: int = 10
    max_energy_rise: float = 0.005
    max_energy_error: float = 0.05
    max_centre_error: float = 0.5
    max_fraction_error: float = 0.03


def _surrogates() -> dict[str, Any]:
    return {
        "quick": SurrogateChapter(SurrogateConfig(samples=400, steps=600, augment=False), 0.35, 1.5),
        "default": SurrogateChapter(SurrogateConfig(), 0.05, 2.0),
    }


def _burgers_pinn() -> dict[str, Any]:
    quick = BurgersPINNConfig(lecture_steps=1500, adam_steps=1000, lbfgs_steps=40, collocation=1000,
                              inverse_adam_steps=1000, inverse_lbfgs_steps=30,
                              precise_collocation=1000, precise_adam_steps=300, precise_steps=12, precise_every=2,
                              race_steps=2, precise_inverse_adam_steps=0, precise_inverse_steps=10)
    # the chapter's high-precision run is smaller than the benchmark's (4000 points, 300 steps)
    default = BurgersPINNConfig(precise_collocation=2000, precise_steps=100, race_steps=15, precise_inverse_steps=70)
    return {
        "quick": BurgersPINNChapter(quick, max_lecture_mae=0.35, max_forward_error=0.2, max_nu_error=0.5,
                                    max_precise_error=0.1, max_precise_nu_error=0.5),
        "default": BurgersPINNChapter(default, max_lecture_mae=0.3, max_forward_error=1e-2,
                                      max_nu_error=0.05, max_precise_error=2e-4, max_precise_nu_error=1e-4,
                                      min_race_gain=2.0, min_precision_gain=1.0),
    }


def _advection() -> dict[str, Any]:
    return {
        "quick": AdvectionChapter(iterations=200, lr=0.003, max_loss_ratio=0.1, max_error_ratio=0.8),
        "default": AdvectionChapter(iterations=600, lr=0.003, max_loss_ratio=0.01, max_error_ratio=0.5),
    }


def _burgers_dp() -> dict[str, Any]:
    return {
        "quick": BurgersDPChapter(BurgersPINNConfig(lecture_steps=1500), train_targets=256, test_targets=16,
                                  iterations=300, max_network_loss=0.05),
        "default": BurgersDPChapter(BurgersPINNConfig(), train_targets=1024, test_targets=32, iterations=1500,
                                    max_network_loss=0.01),
    }


def _safe() -> dict[str, Any]:
    return {
        "quick": SafeChapter(HeatVideoConfig(n=64, runs=10), SafeConfig(phase1_steps=100, phase2_steps=2),
                             min_mobility_r2=0.8),
        "default": SafeChapter(HeatVideoConfig(), SafeConfig()),
    }


def _neuradiff() -> dict[str, Any]:
    one = VoidScenario()
    several = replace(one, centers=((16.0, 16.0), (44.0, 22.0), (30.0, 46.0)), radii=(5.0, 8.0, 11.0), seed=1)
    small = replace(one, n=32, centers=((10.0, 16.0),), radii=(5.0,), frames=40)
    small_several = replace(small, centers=((8.0, 8.0), (22.0, 12.0), (16.0, 25.0)), radii=(3.0, 4.0, 6.0), seed=1)
    quick_method = NeuraDiffConfig(levels=3, pretrain_steps=150, steps=40, gap=2, baseline_steps=150)
    return {
        "quick": NeuraDiffChapter(small, small_several, quick_method, landscape_points=5, landscape_frames=8,
                                  min_tracking_accuracy=0.95, min_rollout_accuracy=0.90,
                                  min_transfer_accuracy=0.93),
        "default": NeuraDiffChapter(one, several, NeuraDiffConfig()),
    }


def _crnn() -> dict[str, Any]:
    """Quick shortens every run; paper doubles the box (solver 64^3, network 32^3) and
    lengthens the ensemble, as the paper's ensemble, which needs a GPU."""
    return {
        "quick": CRNNChapter(grid=32, demo_time=4.0, validation_runs=2, horizon=21, long_steps=400, ensemble=3,
                             ensemble_frames=81, switch_time=5.0, dt_late=0.1, fit_window=(5.0, 40.0),
                             box_grid=32, box_cells=8, box_runs=1, box_time=20.0, box_fit_window=(5.0, 20.0),
                             large_frames=11, shape_frames=11, speed_repeats=2, shape_steps=200),
        "default": CRNNChapter(),
        "paper": CRNNChapter(grid=64, ensemble_frames=1001, fit_window=(50.0, 500.0), box_grid=128,
                             box_time=1000.0, box_fit_window=(100.0, 1000.0)),
    }


def _crnn_training() -> dict[str, Any]:
    """The command ``python -m physdl.crnn.training``: the shipped model's run by default, a
    smoke run in quick, and the paper's 1850 sequences of 50 frames at 64^3 in paper."""
    default = TrainingConfig()
    tiny = SequenceConfig(grid=16, sequences=4, frames=8, max_start=4, batch=4)
    quick = replace(default, data=(tiny,), validation=(replace(tiny, sequences=2, seed=1),), window=4,
                    steps=20, validate_every=10)
    data = SequenceConfig(grid=64, sequences=1295, frames=50, max_start=50, batch=8)
    paper = TrainingConfig(data=(data,), validation=(replace(data, sequences=555, seed=1),), window=50, batch=2,
                           steps=200_000, lr=1e-4, curriculum=0.25, validate_every=2000, input_noise=0.0,
                           shards="cache")  # 97 GB: streamed from shards, never loaded whole
    return {"quick": quick, "default": default, "paper": paper}


#: Chapter name (the book file without its number) -> its sizes by profile.
CHAPTERS = {
    "surrogates": _surrogates,
    "burgers_pinn": _burgers_pinn,
    "advection": _advection,
    "burgers_dp": _burgers_dp,
    "safe": _safe,
    "neuradiff": _neuradiff,
    "crnn": _crnn,
}

#: Command-line run name -> its configuration by profile.
RUNS = {"crnn-training": _crnn_training}


def _pick(table: dict[str, Any], kind: str, name: str, profile: str | None) -> Any:
    if name not in table:
        raise KeyError(f"no {kind} named {name!r}; {kind}s: {sorted(table)}")
    profile = active_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    values = table[name]()
    return values.get(profile, values["default"])


def chapter(name: str, profile: str | None = None) -> Any:
    """The sizes of chapter ``name`` (a key of :data:`CHAPTERS`) for the active or named profile."""
    return _pick(CHAPTERS, "chapter", name, profile)


def run(name: str, profile: str | None = None) -> Any:
    """The configuration of command-line run ``name`` (a key of :data:`RUNS`) for the profile."""
    return _pick(RUNS, "run", name, profile)


def all_profiles(name: str) -> dict[str, Any]:
    """Chapter or run ``name`` in every profile it defines, ``{profile: sizes}``."""
    table = CHAPTERS if name in CHAPTERS else RUNS
    if name not in table:
        raise KeyError(f"no chapter or run named {name!r}")
    return table[name]()


__all__ = ["CHAPTERS", "RUNS", "AdvectionChapter", "BurgersDPChapter", "BurgersPINNChapter", "CRNNChapter",
           "NeuraDiffChapter", "SafeChapter", "SurrogateChapter", "all_profiles", "chapter", "run"]
