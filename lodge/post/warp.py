"""Resampling a motion at fractional frame times (used by beat sync and by corpus re-timing)."""
from __future__ import annotations

import numpy as np

from ..constants import N_JOINTS
from ..motion import pack_motion, relabel_contacts, unpack_motion
from ..rotations import matrix_to_quaternion, quaternion_to_matrix


def warp_motion(motion: np.ndarray, src_times: np.ndarray) -> np.ndarray:
    """Resample a (T,139) motion at fractional frame times: root linear, rotations slerp, contacts relabelled.

    The times need not be increasing: each output frame is interpolated between the two source frames
    around its own time, so only those frames' rotations are converted.
    """
    _, transl, rot = unpack_motion(np.asarray(motion, np.float32))
    src_times = np.asarray(src_times, np.float64)
    lo = np.clip(np.floor(src_times).astype(int), 0, len(motion) - 1)
    hi = np.clip(lo + 1, 0, len(motion) - 1)
    w = np.clip(src_times - lo, 0.0, 1.0)[:, None]
    tr = (1 - w) * transl[lo] + w * transl[hi]
    needed, where = np.unique(np.concatenate([lo, hi]), return_inverse=True)
    quat = np.asarray(matrix_to_quaternion(rot[needed]), dtype=np.float64)
    q0, q1 = quat[where[:len(lo)]], quat[where[len(lo):]]
    dot = np.sum(q0 * q1, -1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)  # q and -q are the same rotation: interpolate the short way
    dot = np.clip(np.abs(dot), 0.0, 1.0)
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
