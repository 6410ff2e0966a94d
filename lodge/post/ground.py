"""Keep the dancer on the floor: a slow vertical shift of the root so the lowest joint touches y = 0.

The networks get the root's height wrong in stretches: a cue frame with a leaning pelvis placed at a
standing dancer's root height floats with both feet 20 cm up, and between cues the body sinks (on
the `cpu_patched` networks at 3.9 h, the lowest joint was more than 3 cm under the floor in 13-65 %
of the frames of the example songs; real dancers: 0.9 %). Real dancers touch the floor with some
joint nearly all the time and leave it only briefly.

So the floor level of a dance is a low percentile (the 25th) of its lowest joint's height over a
one-second window, smoothed, and the root moves down (or up) by that level less the level real
dancers show with the same measure (6 mm: the lowest joint is a foot a little above its sole). A
jump shorter than about a quarter second keeps its whole height and a longer one most of it, a float
or a sink that lasts longer is taken out. On the CMU dancers the shift is 0.8 cm on average; on the
example songs it takes the frames sunk more than 3 cm from 13-65 % to 0-2 %. The
cue frames keep their values: the global stage puts each primitive on the floor
(:func:`ground_primitives`) before the local stage imposes it, and the shift fades out towards them.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter1d, percentile_filter

from ..constants import ROOT_Y
from ..motion import motion_to_joints

GROUND_WINDOW_RADIUS = 15  # frames at 30 fps: the percentile over +-0.5 s
GROUND_PERCENTILE = 25.0  # of the lowest joint's height in the window; lower ones let a single dip lift a whole second
FLOOR_CLEARANCE = 0.006  # m: the floor level of the CMU dancers by this measure (median), so real dances barely move
GROUND_SMOOTH_SIGMA = 5.0  # frames: the floor level changes slowly, so the shift adds no vertical judder
FIXED_RAMP = 8  # frames: the shift fades to zero over this many frames towards a fixed (cue) frame


def floor_level(joints: np.ndarray, radius: int = GROUND_WINDOW_RADIUS,
                sigma: float = GROUND_SMOOTH_SIGMA) -> np.ndarray:
    """(T,) height of the floor the dancer stands on in each frame of (T, J, 3) joints: the lowest
    joint's :data:`GROUND_PERCENTILE` th percentile over ``2 * radius + 1`` frames, smoothed with a
    Gaussian of ``sigma`` frames, less :data:`FLOOR_CLEARANCE`."""
    lowest = np.asarray(joints, np.float64)[:, :, 1].min(-1)
    level = percentile_filter(lowest, GROUND_PERCENTILE, size=2 * int(radius) + 1, mode="nearest") - FLOOR_CLEARANCE
    return gaussian_filter1d(level, sigma, mode="nearest") if sigma > 0 else level


def stand_on_floor(motion: np.ndarray, fixed: np.ndarray | None = None, radius: int = GROUND_WINDOW_RADIUS,
                   sigma: float = GROUND_SMOOTH_SIGMA) -> np.ndarray:
    """A copy of ``motion`` (T, 139) with the root's height shifted by minus :func:`floor_level`, so the
    dancer stands on y = 0; fewer than two frames come back unchanged.

    ``fixed`` (T,) bool marks frames to leave exactly as they are (the cue frames, which
    :func:`ground_primitives` put on the floor already): the shift fades out over :data:`FIXED_RAMP`
    frames towards them."""
    out = np.array(motion, dtype=np.float32, copy=True)
    if len(out) < 2:
        return out
    level = floor_level(motion_to_joints(out), radius, sigma)
    if fixed is not None and np.any(fixed):
        level *= np.clip(distance_transform_edt(~np.asarray(fixed, bool)) / FIXED_RAMP, 0.0, 1.0)
    out[:, ROOT_Y] -= level.astype(np.float32)
    return out


def ground_primitives(primitives: np.ndarray) -> np.ndarray:
    """A copy of ``primitives`` (..., L, 139) with each primitive's root height shifted so that its
    lowest joint, over its L frames, touches y = 0 (the global network may place a leaning or
    crouching pose at a standing dancer's height). A primitive wholly in the air lands too: at a
    quarter second, such a primitive is rare in real dance."""
    out = np.array(primitives, dtype=np.float32, copy=True)
    if out.size == 0:
        return out
    lowest = np.asarray(motion_to_joints(out))[..., 1].min(axis=(-1, -2))  # (...,) over frames and joints
    out[..., ROOT_Y] -= lowest[..., None].astype(np.float32)
    return out
