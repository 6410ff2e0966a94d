"""Joint speeds: per-frame mean joint speed and its 5-second window means."""
from __future__ import annotations

import numpy as np

from ..constants import FPS
from .positions import as_joints


def mean_joint_speed(joints, fps: float = FPS, central: bool = True) -> np.ndarray:
    """Mean over joints of each joint's speed (m/s).

    Args:
        joints: (T, J, 3) positions in metres.
        fps: frame rate.
        central: True gives T values by central differences (one-sided at the ends), so that
            value t belongs to frame t; False gives the T - 1 forward differences p[t+1] - p[t].
    """
    pos = as_joints(joints)
    if central:
        if pos.shape[0] < 2:
            return np.zeros(pos.shape[0])
        vel = np.gradient(pos, axis=0)
    else:
        vel = np.diff(pos, axis=0)
    return np.linalg.norm(vel, axis=-1).mean(axis=-1) * fps


def mean_speed_windows(joints, window_s: float = 5.0, fps: float = FPS) -> np.ndarray:
    """Mean joint speed (m/s) in each consecutive window of ``window_s`` seconds.

    Speeds are forward differences (T - 1 values); the last window holds whatever frames remain,
    so a dance of T frames gives ``ceil((T - 1) / (window_s * fps))`` values. A freeze shows up as a
    window with a mean speed near 0.
    """
    speed = mean_joint_speed(joints, fps, central=False)
    size = max(1, int(round(window_s * fps)))
    return np.array([speed[i:i + size].mean() for i in range(0, len(speed), size)])
