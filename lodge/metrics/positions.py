"""Joint arrays prepared the way the Lodge evaluation feeds them to the feature extractors."""
from __future__ import annotations

import numpy as np


def as_joints(joints) -> np.ndarray:
    """Any (T, J, 3) array-like (NumPy or torch) -> float64 NumPy array, checked."""
    if hasattr(joints, "detach"):
        joints = joints.detach().cpu().numpy()
    arr = np.asarray(joints, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"expected joints of shape (T, J, 3), got {arr.shape}")
    return arr


def lodge_feature_positions(joints) -> np.ndarray:
    """Lodge's variant of Bailando's feature input.

    The root keeps its global trajectory (shifted so that it starts at the origin); every other
    joint is taken relative to the root of the same frame, so limb features measure the body's
    own motion rather than its travel.
    """
    pos = as_joints(joints).copy()
    pos -= pos[:1, :1]
    pos[:, 1:] -= pos[:, :1]
    return pos
