"""Kinematic beats of a dance, a musical beat grid that follows them, and the beat alignment score."""
from __future__ import annotations

import numpy as np

from ..constants import FPS
from ..metrics import alignment_score, mean_joint_speed
from ..metrics import kinematic_beats as metric_kinematic_beats

KINEMATIC_SIGMA = 5.0  # frames; Bailando's smoothing of the joint speed
BAS_SIGMA = 3.0  # frames


def joint_speed(joints: np.ndarray) -> np.ndarray:
    """(T, J, 3) positions -> (T,) mean joint speed in m/s (the project metric's definition)."""
    return mean_joint_speed(joints, FPS, central=True)


def kinematic_beats(joints: np.ndarray, sigma: float = KINEMATIC_SIGMA) -> np.ndarray:
    """Frame indices of the local minima of the Gaussian-smoothed mean joint speed (as lodge.metrics)."""
    return metric_kinematic_beats(joints, smooth_sigma=sigma).astype(np.int64)


def beat_alignment_score(music_beats: np.ndarray, dance_beats: np.ndarray, sigma: float = BAS_SIGMA) -> float:
    """Bailando's BAS: mean over music beats of exp(-d^2 / (2 sigma^2)), d = frames to the nearest dance beat.

    0 when either side has no beats.
    """
    if len(music_beats) == 0 or len(dance_beats) == 0:
        return 0.0
    return alignment_score(music_beats, dance_beats, sigma)


def beat_grid(kin_beats: np.ndarray, n_frames: int, min_period: float = 0.4, max_period: float = 1.2) -> np.ndarray:
    """Music beat times (frames, float) locked to the kinematic beats, with a plausible tempo.

    Kinematic beats closer than `min_period` s are merged; the take's beat period is the median
    interval folded into [min_period, max_period]; a gap between kinematic beats is split into as
    many beats as the period fits, so every kinematic beat is a music beat and the tempo curve
    follows the dance. The grid is extended at the edge periods to cover the whole take.
    """
    kb = np.asarray(kin_beats, dtype=np.float64)
    lo, hi = min_period * FPS, max_period * FPS
    kept: list[float] = []
    for b in kb:
        if not kept or b - kept[-1] >= lo:
            kept.append(b)
    if len(kept) < 2:
        return np.arange(kept[0] % (0.5 * FPS) if kept else 0.0, n_frames, 0.5 * FPS)
    period = float(np.median(np.diff(kept)))
    while period > hi:
        period /= 2
    while period < lo:
        period *= 2
    beats = [kept[0]]
    for b in kept[1:]:
        gap = b - beats[-1]
        n_sub = max(1, int(round(gap / period)))
        beats.extend(beats[-1] + gap * np.arange(1, n_sub + 1) / n_sub)
    beats = np.array(beats)
    first_p, last_p = beats[1] - beats[0], beats[-1] - beats[-2]
    head = beats[0] - first_p * np.arange(1, int(beats[0] // first_p) + 1)[::-1]
    tail = beats[-1] + last_p * np.arange(1, int((n_frames - 1 - beats[-1]) // last_p) + 1)
    return np.concatenate([head, beats, tail])


def tempo_curve(grid: np.ndarray) -> np.ndarray:
    """Beats per minute of each beat interval of a grid (frames)."""
    return 60.0 * FPS / np.diff(grid)
