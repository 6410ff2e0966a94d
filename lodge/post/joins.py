"""Smooth the joins between imposed cue frames and the frames the local model generated around them.

Hard cues (and, at s = 1, soft cues) are written into the local stage's output exactly. A small model
does not always continue from them: the pose or the root next to a cue can differ from the cue's own
edge frame, which shows as a jump of the whole body in one frame. This module removes those jumps
without touching the cue frames:

- root translation: the gap between a cue's edge frame (continued at the cue's own velocity) and the
  neighbouring generated frame is closed in full at the edge and faded out with a cosine over
  ``root_blend`` frames, or over more when the gap is large (it never closes faster than
  :data:`MAX_CLOSING_STEP` per frame), or spread linearly over the run between two cues;
- joint rotations (pelvis orientation included): the rotation that closes the gap at a cue edge is
  applied in full at the edge and faded out with a cosine over ``blend`` frames (inertialization).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..constants import N_JOINTS
from ..motion import pack_motion, unpack_motion

BLEND_FRAMES = 12  # 0.4 s: how far into the generated frames a rotation gap is faded out
# A root gap is closed no faster than this on top of the dancer's own travel (m per frame, 0.6 m/s): a
# gap of a metre closed over 12 frames would be a dash across the floor. Its fade is longer (up to the
# whole run, then linear) when the gap is larger.
MAX_CLOSING_STEP = 0.02


def free_runs(fixed: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each maximal run of frames that are not fixed."""
    fixed = np.asarray(fixed, bool)
    runs, start = [], None
    for t, f in enumerate(fixed):
        if not f and start is None:
            start = t
        elif f and start is not None:
            runs.append((start, t))
            start = None
    if start is not None:
        runs.append((start, len(fixed)))
    return runs


def _fade(n: int, blend: int) -> np.ndarray:
    """(n,) weights 1 at index 0 falling to 0 at index ``blend`` (cosine), 0 beyond."""
    u = np.clip(np.arange(n) / max(blend, 1), 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * u))


def _edge_weights(length: int, blend: int, has_left: bool, has_right: bool) -> tuple[np.ndarray, np.ndarray]:
    """(length,) weights of the left and right gap corrections over a run of generated frames.

    Each is 1 at its own edge and fades out over ``blend`` frames; a run too short for two separate
    fades (cues on both sides, fewer than 2 * blend frames) goes linearly from one gap to the other,
    so each edge still gets exactly its own correction.
    """
    if has_left and has_right and length < 2 * blend:
        return _linear_weights(length, has_left, has_right)
    return _fade(length, blend), _fade(length, blend)[::-1]


def _linear_weights(length: int, has_left: bool, has_right: bool) -> tuple[np.ndarray, np.ndarray]:
    """(length,) weights that spread the gap corrections over the whole run: linearly from one edge
    to the other with cues on both sides, in full when only one side has a cue."""
    if not (has_left and has_right):
        return np.full(length, float(has_left)), np.full(length, float(has_right))
    u = np.linspace(0.0, 1.0, length) if length > 1 else np.zeros(1)
    return 1.0 - u, u


def _root_weights(length: int, root_blend: int | None, d_left, d_right) -> tuple[np.ndarray, np.ndarray]:
    """(length,) weights of the left and right root gap corrections: each faded out over ``root_blend``
    frames or, for a larger gap, over enough frames that it closes at :data:`MAX_CLOSING_STEP` at most
    (a cosine fade's steepest step is pi / 2 times its mean); linear over the whole run when the two
    fades do not fit in it side by side, or when ``root_blend`` is None."""
    sides = (d_left is not None, d_right is not None)
    if root_blend is None:
        return _linear_weights(length, *sides)

    def reach(gap) -> int:
        if gap is None:
            return 0
        return max(int(root_blend), int(np.ceil(np.pi / 2 * np.linalg.norm(gap) / MAX_CLOSING_STEP)))

    b_left, b_right = reach(d_left), reach(d_right)
    if (all(sides) and b_left + b_right > length) or max(b_left, b_right) > length:
        return _linear_weights(length, *sides)
    return _fade(length, b_left), _fade(length, b_right)[::-1]


def smooth_joins(
    motion: np.ndarray, fixed: np.ndarray, blend: int = BLEND_FRAMES, root_blend: int | None = BLEND_FRAMES,
) -> np.ndarray:
    """Return a copy of ``motion`` whose generated frames meet the fixed (cue) frames without jumps.

    Args:
        motion: (T, 139) Lodge motion.
        fixed: (T,) True where a frame was imposed (left exactly as it is).
        blend: frames over which a rotation gap is faded out.
        root_blend: frames over which a root gap is faded out (the default: the body closes the gap
            with a quick step near the cue); None spreads it linearly over the whole run instead
            (slower, but the feet skate for longer).
    """
    motion = np.asarray(motion, np.float32)
    fixed = np.asarray(fixed, bool)
    n = len(motion)
    if n < 2 or not fixed.any() or fixed.all():
        return motion.copy()
    contacts, transl, rot = unpack_motion(motion)
    transl = np.asarray(transl, np.float64).copy()
    rot = np.asarray(rot, np.float64)
    rots = Rotation.from_matrix(rot.reshape(-1, 3, 3))
    rotvec_fix = np.zeros((n, N_JOINTS, 3))  # correction per frame and joint, as rotation vectors

    for a, b in free_runs(fixed):
        length = b - a
        left, right = a - 1 if a > 0 else None, b if b < n else None
        # Root: offset so that the run's ends continue the neighbouring cue frames at their own velocity.
        d_left = d_right = None
        if left is not None:
            vel = transl[left] - transl[left - 1] if left > 0 and fixed[left - 1] else 0.0
            d_left = transl[left] + vel - transl[a]
        if right is not None:
            vel = transl[right + 1] - transl[right] if right + 1 < n and fixed[right + 1] else 0.0
            d_right = transl[right] - vel - transl[b - 1]
        sides = (left is not None, right is not None)
        w_left, w_right = _edge_weights(length, blend, *sides)
        r_left, r_right = _root_weights(length, root_blend, d_left, d_right)
        if d_left is not None:
            transl[a:b] += r_left[:, None] * d_left
        if d_right is not None:
            transl[a:b] += r_right[:, None] * d_right
        # Rotations: close the gap at each cued edge, fading out into the run.
        if left is not None:
            gap = (Rotation.from_matrix(rot[left]) * Rotation.from_matrix(rot[a]).inv()).as_rotvec()
            rotvec_fix[a:b] += w_left[:, None, None] * gap[None]
        if right is not None:
            gap = (Rotation.from_matrix(rot[right]) * Rotation.from_matrix(rot[b - 1]).inv()).as_rotvec()
            rotvec_fix[a:b] += w_right[:, None, None] * gap[None]

    corr = Rotation.from_rotvec(rotvec_fix.reshape(-1, 3))
    new_rot = (corr * rots).as_matrix().reshape(n, N_JOINTS, 3, 3)
    new_rot[fixed] = rot[fixed]
    out = pack_motion(np.asarray(contacts), transl.astype(np.float32), new_rot.astype(np.float32))
    out[fixed] = motion[fixed]
    return out
