"""How fast each local segment is told to dance: the song's told speed, shaded by its primitives.

A real dancer does not move at one speed for a whole song: within a genre the speed of its 256-frame
windows varies by about a third either way, and its turns and spins come in the fast ones. A
speed-conditioned local network told one speed for every segment dances each at that speed, and its
spins go (48 salsa training windows, DDIM 50 with no cues: 13.8 heading snaps per minute told each
window's own speed, 7.0 told the one speed the pipeline tells every segment; the real dancers' 22).
The global stage has already chosen how much each stretch of the song moves: the primitives it put in a segment. So each segment is told
the song's speed times how fast its primitives move against the song's other segments, to a power
(``segment_speed_power`` in the checkpoint's config; 0: one speed for the whole song, as before).
"""
from __future__ import annotations

import numpy as np

from ..constants import SEGS_PER_WINDOW
from ..metrics.realism import root_relative_speed
from ..motion import motion_to_joints
from ..primitives import N_HARD, PrimitivePlan
from .plan import hard_cue

# A segment is told at most this many times (and at least its inverse) the song's speed: beyond it the
# network is told speeds its genre's training windows hardly reach.
MAX_SEGMENT_FACTOR = 2.0


def segment_primitive_speeds(primitives: np.ndarray, plan: PrimitivePlan) -> np.ndarray:
    """(S,) mean root-relative joint speed (m/s) of the primitives that steer each local segment: its two
    soft cues and the hard cues at its ends (the ones the local stage imposes, :func:`hard_cue`), from (W, 13, 8, 139) primitives in data units."""
    speeds = np.zeros(plan.num_segments)
    for seg in range(plan.num_segments):
        window, local = divmod(seg, SEGS_PER_WINDOW)
        clips = (hard_cue(primitives, seg), hard_cue(primitives, seg + 1),
                 primitives[window, N_HARD + 2 * local], primitives[window, N_HARD + 2 * local + 1])
        speeds[seg] = np.mean([root_relative_speed(motion_to_joints(clip)) for clip in clips])
    return speeds


def segment_speed_factors(primitives: np.ndarray, plan: PrimitivePlan, power: float,
                          genres: np.ndarray | None = None) -> np.ndarray:
    """(S,) the factor on the told speed of each segment: its primitives' speed over the geometric mean
    of the song's segments' of the same genre (``genres``, (S,) indices; None: one genre), to ``power``,
    within [1 / MAX_SEGMENT_FACTOR, MAX_SEGMENT_FACTOR]. A genre's own speed is already in what its
    segments are told, so a schedule's fast genre is not told faster again. All 1 when ``power`` is 0,
    and for a genre with a single segment or with primitives that do not move."""
    factors = np.ones(plan.num_segments)
    if power == 0.0:
        return factors
    speeds = segment_primitive_speeds(primitives, plan)
    groups = np.zeros(plan.num_segments, np.int64) if genres is None else np.asarray(genres, np.int64).reshape(-1)
    for genre in np.unique(groups):
        mine = groups == genre
        if mine.sum() < 2 or not np.all(speeds[mine] > 1e-6):
            continue
        relative = speeds[mine] / np.exp(np.log(speeds[mine]).mean())
        factors[mine] = np.clip(relative ** power, 1.0 / MAX_SEGMENT_FACTOR, MAX_SEGMENT_FACTOR)
    return factors
