"""Keep the dancer's travel over the floor at a speed a dancer can run.

The local network can make the body dash to and from its cues: beside a cue the horizontal root moves
0.15-0.3 m in one frame (5-9 m/s) for several frames in a row, steps too many and too even for the
spike removal (:func:`lodge.post.lowpass.despike_motion`), and join smoothing adds to them where two
cues are close in time. The CMU dancers' root never moves more than 0.084 m in a frame (2.5 m/s).

:func:`limit_travel` shortens every step of the horizontal root longer than :data:`MAX_TRAVEL_STEP` and
hands what it took off to the other steps between the same two fixed (cue) frames, in proportion to
how far each is below the limit, so the dancer still arrives where the next cue stands, in the same
time, only without the dash. Fixed frames keep their places; a stretch whose two fixed ends are too far
apart for the limit keeps the even pace that joins them; motion whose steps are all under the limit is
left exactly as it is.
"""
from __future__ import annotations

import numpy as np

from ..constants import ROOT_X, ROOT_Z
from .joins import free_runs

MAX_TRAVEL_STEP = 0.1  # m per frame (3 m/s): above the CMU dancers' fastest frame (0.084 m), far below a dash


def limit_travel(motion: np.ndarray, fixed: np.ndarray | None = None, max_step: float = MAX_TRAVEL_STEP) -> np.ndarray:
    """A copy of ``motion`` (T, 139) whose horizontal root moves at most ``max_step`` metres per frame,
    wherever the ``fixed`` frames (T,), which stay where they are, allow it."""
    motion = np.asarray(motion, np.float32)
    out = motion.copy()
    if len(motion) < 2:
        return out
    root = motion[:, [ROOT_X, ROOT_Z]].astype(np.float64)
    if np.linalg.norm(np.diff(root, axis=0), axis=-1).max() <= max_step:
        return out
    keep = np.zeros(len(motion), bool) if fixed is None else np.asarray(fixed, bool)
    new_root = root.copy()
    for a, b in free_runs(keep):
        left, right = a - 1 if a > 0 else None, b if b < len(root) else None
        first = a if left is None else left
        last = b - 1 if right is None else right
        steps = np.diff(root[first:last + 1], axis=0)
        if len(steps) == 0 or np.linalg.norm(steps, axis=-1).max() <= max_step:
            continue
        if left is not None and right is not None:  # both ends fixed: the run still gets from one to the other
            limited = limited_steps(steps, max_step)
        else:
            limited = _clipped(steps, max_step)
        if left is None and right is not None:  # only the end is fixed: walk back from it
            new_root[first:last] = root[last] - np.cumsum(limited[::-1], axis=0)[::-1]
        else:
            new_root[first + 1:last + 1] = root[first] + np.cumsum(limited, axis=0)
        new_root[keep] = root[keep]
    out[:, ROOT_X], out[:, ROOT_Z] = new_root[:, 0], new_root[:, 1]
    return out


def limited_steps(steps: np.ndarray, max_step: float, iterations: int = 50) -> np.ndarray:
    """(K, 2) steps with the same sum as ``steps`` and each at most ``max_step`` long where that sum
    allows it: the excess of the long ones goes to the others in proportion to their headroom. When the
    sum itself needs more than ``max_step`` per step, every step is that even share."""
    total = steps.sum(axis=0)
    if np.linalg.norm(total) >= max_step * len(steps):
        return np.repeat(total[None] / len(steps), len(steps), axis=0)
    out = _clipped(steps, max_step)
    for _ in range(iterations):
        residual = total - out.sum(axis=0)
        if np.linalg.norm(residual) < 1e-9:
            break
        headroom = np.maximum(max_step - np.linalg.norm(out, axis=-1), 0.0)
        weights = headroom / headroom.sum() if headroom.sum() > 1e-12 else np.full(len(out), 1.0 / len(out))
        out = _clipped(out + weights[:, None] * residual, max_step)
    out[-1] += total - out.sum(axis=0)  # what the iterations left (tiny) goes to the last step: the sum is exact
    return out


def _clipped(steps: np.ndarray, max_step: float) -> np.ndarray:
    """``steps`` (K, 2) each shortened to ``max_step`` where longer."""
    norm = np.linalg.norm(steps, axis=-1, keepdims=True)
    return steps * np.minimum(1.0, max_step / np.maximum(norm, 1e-12))
