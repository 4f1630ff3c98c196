"""Sizes of chapter 7, per profile (see :func:`physdl.config.by_profile`)."""

from __future__ import annotations

from dataclasses import dataclass

from physdl import config as _config


@dataclass(frozen=True)
class ChapterConfig:
    """Sizes of the experiments of chapter 7.

    Attributes:
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
    """

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


def chapter_config(profile: str | None = None) -> ChapterConfig:
    """The sizes for the active (or named) profile.

    Quick shortens every run; paper doubles the box (solver 64^3, network 32^3) and lengthens
    the ensemble, as the paper's ensemble, which needs a GPU.
    """
    return _config.by_profile(
        quick=ChapterConfig(grid=32, demo_time=4.0, validation_runs=2, horizon=21, long_steps=400, ensemble=3,
                            ensemble_frames=81, switch_time=5.0, dt_late=0.1, fit_window=(5.0, 40.0),
                            box_grid=32, box_cells=8, box_runs=1, box_time=20.0, box_fit_window=(5.0, 20.0),
                            large_frames=11, shape_frames=11, speed_repeats=2),
        default=ChapterConfig(),
        paper=ChapterConfig(grid=64, ensemble_frames=1001, fit_window=(50.0, 500.0), box_grid=128,
                            box_time=1000.0, box_fit_window=(100.0, 1000.0)),
        name=profile,
    )
