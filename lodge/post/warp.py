"""Resampling a motion at fractional frame times (used by beat sync and by corpus re-timing)."""
from __future__ import annotations

import numpy as np

from ..constants import N_JOINTS
from ..motion import pack_motion, relabel_contacts, unpack_motion
from ..rotations import matrix_to_quaternion, quaternion_to_matrix


def warp_motion(motion: np.ndarray, src_times: np.ndarray) -> np.ndarray:
    """Resample a (T,139) motion at fractional frame times: root linear, rotations slerp, contacts relabelled."""
    _, transl, rot = unpack_motion(np.asarray(motion, np.float32))
    quat = np.asarray(matrix_to_quaternion(rot), dtype=np.float64)
    # keep each joint's quaternions in one hemisphere over time so neighbours interpolate the short way
    for t in range(1, len(quat)):
        flip = np.sum(quat[t] * quat[t - 1], -1) < 0
        quat[t, flip] *= -1
    lo = np.clip(np.floor(src_times).astype(int), 0, len(motion) - 1)
    hi = np.clip(lo + 1, 0, len(motion) - 1)
    w = (src_times - lo)[:, None]
    tr = (1 - w) * transl[lo] + w * transl[hi]
    q0, q1 = quat[lo], quat[hi]
    dot = np.clip(np.sum(q0 * q1, -1, keepdims=True), -1.0, 1.0)
    theta = np.arccos(dot)
    sin = np.sin(theta)
    ww = w[:, None, :]
    small = sin < 1e-6
    a = np.where(small, 1 - ww, np.sin((1 - ww) * theta) / np.where(small, 1, sin))
    b = np.where(small, ww, np.sin(ww * theta) / np.where(small, 1, sin))
    q = a * q0 + b * q1
    rotm = quaternion_to_matrix(q.astype(np.float32))
    out = pack_motion(np.zeros((len(src_times), 4)), tr, np.asarray(rotm).reshape(-1, N_JOINTS, 3, 3))
    return relabel_contacts(out)
