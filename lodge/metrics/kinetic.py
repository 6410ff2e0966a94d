"""Bailando's kinetic features: per-joint horizontal and vertical kinetic energy and energy expenditure."""
from __future__ import annotations

import numpy as np

from .options import MetricOptions, resolve
from .positions import as_joints, lodge_feature_positions

WINDOW = 2  # Bailando's sliding window: 2 frames either side


def _window_mean(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Mean of values[first[i] : last[i] + 1] along axis 0 for each i (inclusive, clipped ranges)."""
    csum = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])
    count = (last - first + 1).reshape((-1,) + (1,) * (values.ndim - 1))
    return (csum[last + 1] - csum[first]) / count


def kinetic_features_of_positions(positions, frame_time: float) -> np.ndarray:
    """(J*3,) kinetic features of already prepared (T, J, 3) positions, y up.

    For each joint, in this order: mean squared horizontal speed, mean squared vertical speed
    (the "kinetic energies" at unit mass) and mean acceleration magnitude ("energy expenditure").
    As in Bailando, the velocity at frame i (i = 1..T-1) averages the frame differences
    p[k+1] - p[k] for k in [i-3, i+1], and the acceleration averages the second differences at
    m in [i-2, i+2], both clipped to the sequence.
    """
    pos = as_joints(positions)
    frames = pos.shape[0]
    if frames < 3:
        raise ValueError(f"kinetic features need at least 3 frames, got {frames}")
    i = np.arange(1, frames)
    step = np.diff(pos, axis=0)  # index k: p[k+1] - p[k]
    vel = _window_mean(step, np.maximum(i - WINDOW - 1, 0), np.minimum(i + WINDOW - 1, frames - 2))
    vel /= frame_time
    second = step[1:] - step[:-1]  # index m - 1: p[m+1] - 2 p[m] + p[m-1], m = 1..T-2
    acc = _window_mean(second, np.maximum(i - WINDOW, 1) - 1, np.minimum(i + WINDOW, frames - 2) - 1)
    acc /= frame_time ** 2
    horizontal = (vel[..., 0] ** 2 + vel[..., 2] ** 2).mean(axis=0)
    vertical = (vel[..., 1] ** 2).mean(axis=0)
    expenditure = np.linalg.norm(acc, axis=-1).mean(axis=0)
    return np.stack([horizontal, vertical, expenditure], axis=-1).reshape(-1).astype(np.float32)


def kinetic_features(joints, options: MetricOptions | None = None) -> np.ndarray:
    """(66,) kinetic features of a (T, 22, 3) world-joint dance (Lodge's root-relative variant).

    Bailando's vector has 72 values for 24 SMPL joints; Lodge keeps the first 66 (22 joints).
    """
    opts = resolve(options)
    return kinetic_features_of_positions(lodge_feature_positions(joints), opts.kinetic_dt)
