"""Foot lock: keep a foot that stands on the floor from sliding, by moving the body instead.

For each frame step, the foot joints (ankles and toes) that are on the floor at both frames (within
``height`` of y = 0, the foot contact of the skating metric) should not move horizontally. Their
mean horizontal displacement is taken off the root translation from that frame on, so the planted
foot stays where it is and the body travels over it, as a dancer's does. Poses are not changed, only
where the whole body is; pivots on one foot (rotation about the foot) are kept.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..constants import FOOT_JOINTS, ROOT_SLICE
from ..motion import motion_to_joints

CONTACT_HEIGHT = 0.05  # m
SMOOTH_SIGMA = 0.5  # frames: the steady part of the correction (the glitches are spread wider: SPIKE_SIGMA)
SPIKE_STEP = 0.05  # m a frame (1.5 m/s): a planted foot's move beyond this is spread over SPIKE_SIGMA
SPIKE_SIGMA = 3.0  # frames


def lock_feet(motion: np.ndarray, height: float = CONTACT_HEIGHT, joints: np.ndarray | None = None,
              smooth_sigma: float = SMOOTH_SIGMA) -> np.ndarray:
    """Return a copy of ``motion`` (T, 139) whose planted feet do not slide.

    Args:
        motion: Lodge motion with the floor at y = 0.
        height: a foot joint at most this high (m) at both ends of a step counts as planted.
        joints: (T, 22, 3) positions of ``motion`` if already computed.
        smooth_sigma: Gaussian smoothing (frames) of the per-step correction; 0 for none.
    """
    motion = np.asarray(motion, np.float32)
    if len(motion) < 2:
        return motion.copy()
    pos = np.asarray(motion_to_joints(motion) if joints is None else joints, np.float64)
    feet = pos[:, list(FOOT_JOINTS)]
    planted = (feet[:-1, :, 1] <= height) & (feet[1:, :, 1] <= height)  # (T-1, 4)
    step = feet[1:, :, [0, 2]] - feet[:-1, :, [0, 2]]  # (T-1, 4, 2)
    count = planted.sum(1, keepdims=True)
    drift = np.where(count > 0, (step * planted[..., None]).sum(1) / np.maximum(count, 1), 0.0)  # (T-1, 2)
    # A planted foot that moves more than SPIKE_STEP in one frame is a glitch of the leg: that excess is
    # taken off the body over a few frames (SPIKE_SIGMA), the rest at once (smooth_sigma), so the
    # feet stay put without the body jumping.
    size = np.linalg.norm(drift, axis=-1, keepdims=True)
    steady = drift * np.minimum(1.0, SPIKE_STEP / np.maximum(size, 1e-12))
    excess = drift - steady
    if smooth_sigma > 0:
        steady = gaussian_filter1d(steady, smooth_sigma, axis=0, mode="nearest")
    drift = steady + gaussian_filter1d(excess, SPIKE_SIGMA, axis=0, mode="nearest")
    correction = np.concatenate([np.zeros((1, 2)), -np.cumsum(drift, axis=0)])
    out = motion.copy()
    root = out[:, ROOT_SLICE]
    root[:, 0] += correction[:, 0].astype(np.float32)
    root[:, 2] += correction[:, 1].astype(np.float32)
    out[:, ROOT_SLICE] = root
    return out
