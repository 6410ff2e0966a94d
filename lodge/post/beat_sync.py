"""Beat sync: nudge a generated dance in time so that its kinematic beats land on the music's beats.

A dance beat (kinematic beat) is a local minimum of the smoothed mean joint speed, the moment a move
"hits" (the definition of the beat alignment score, :func:`lodge.metrics.kinematic_beats`). The
diffusion model places most of them near the music's beats but not on them. Beat sync pairs each music
beat with the nearest dance beat within ``max_shift`` frames, then resamples the motion along a
piecewise-linear time map through those pairs (root linear, rotations slerp;
:func:`lodge.post.warp.warp_motion`). The local playback rate stays within ``[min_rate, max_rate]``,
the first and last frames stay where they are, and the length does not change, so the dance still
fits its music exactly. No new poses are made: it is the generated dance, a little earlier or later.
"""
from __future__ import annotations

import numpy as np

from .warp import warp_motion
from ..metrics.beats import kinematic_beats
from ..motion import motion_to_joints

# Chosen on training items (not the test set): the smallest limits that bring the beat alignment of
# the shipped model's dances to the ground truth's level. The rate changes only at the anchors, which
# are speed minima of the dance, where a change of pace is least visible.
MAX_SHIFT = 10  # frames (1/3 s): how far a dance beat may move to meet a music beat
MIN_RATE, MAX_RATE = 0.6, 1.67  # local playback speed (dance frames per output frame)
# One pass: on the livelier cpu_patched weights (18 training items, 3 per genre) BAS went 0.286 -> 0.304
# with one pass and 0.261 with six (each re-timing moves the speed minima it was aligned on).
PASSES = 1


def match_beats(dance_beats: np.ndarray, music_beats: np.ndarray, max_shift: float = MAX_SHIFT) -> dict[float, float]:
    """{music frame: dance frame}: each music beat takes the nearest dance beat within ``max_shift``
    frames, each dance beat at most one music beat, closest pairs first."""
    dance = np.asarray(dance_beats, np.float64).reshape(-1)
    music = np.asarray(music_beats, np.float64).reshape(-1)
    if dance.size == 0 or music.size == 0:
        return {}
    dist = np.abs(music[:, None] - dance[None, :])
    candidates = sorted((float(dist[i, j]), i, j) for i, j in zip(*np.nonzero(dist <= max_shift)))
    used_music, used_dance, pairs = set(), set(), {}
    for _, i, j in candidates:
        if i in used_music or j in used_dance:
            continue
        used_music.add(i)
        used_dance.add(j)
        pairs[float(music[i])] = float(dance[j])
    return pairs


def feasible_anchors(
    pairs: dict[float, float], num_frames: int, min_rate: float = MIN_RATE, max_rate: float = MAX_RATE,
) -> tuple[np.ndarray, np.ndarray]:
    """(dance frames, music frames) of the pairs kept, in time order, while the playback rate between
    neighbouring pairs, from frame 0 and to the last frame, stays within ``[min_rate, max_rate]``.

    Pairs on the first or last frame are dropped (those frames stay fixed). Both arrays strictly increase.
    """
    last = float(num_frames - 1)

    def rate_ok(d0: float, m0: float, d1: float, m1: float) -> bool:
        if m1 <= m0 or d1 <= d0:
            return False
        return min_rate <= (d1 - d0) / (m1 - m0) <= max_rate

    kept: list[tuple[float, float]] = []
    for m, d in sorted(pairs.items()):
        if not 0 < m < last:
            continue
        d0, m0 = kept[-1] if kept else (0.0, 0.0)
        if rate_ok(d0, m0, d, m):
            kept.append((d, m))
    while kept and not rate_ok(kept[-1][0], kept[-1][1], last, last):
        kept.pop()
    if not kept:
        return np.zeros(0), np.zeros(0)
    arr = np.asarray(kept)
    return arr[:, 0], arr[:, 1]


def beat_time_map(dance_frames: np.ndarray, music_frames: np.ndarray, num_frames: int) -> np.ndarray:
    """(T,) the dance time (fractional frame) shown at each output frame: piecewise linear through
    (0, 0), the anchor pairs and (T-1, T-1)."""
    last = float(num_frames - 1)
    xs = np.concatenate([[0.0], np.asarray(music_frames, np.float64), [last]])
    ys = np.concatenate([[0.0], np.asarray(dance_frames, np.float64), [last]])
    return np.interp(np.arange(num_frames, dtype=np.float64), xs, ys)


def output_frame(src_times: np.ndarray, dance_frame: float) -> int:
    """The output frame at which dance frame ``dance_frame`` is shown after the time map (frames
    outside the dance, such as a cue that starts before frame 0, keep their place)."""
    f = float(dance_frame)
    if f <= 0 or f >= len(src_times) - 1:
        return int(round(f))
    return int(round(np.interp(f, src_times, np.arange(len(src_times), dtype=np.float64))))


def sync_to_beats(
    motion: np.ndarray, music_beats: np.ndarray, joints: np.ndarray | None = None,
    max_shift: float = MAX_SHIFT, min_rate: float = MIN_RATE, max_rate: float = MAX_RATE, passes: int = PASSES,
) -> tuple[np.ndarray, np.ndarray]:
    """Re-time a dance so that its kinematic beats fall on the music beats.

    Re-timing changes speeds, so the speed minima move a little: each further pass finds the beats of
    the re-timed dance, updates the pairs (in the original dance's time) and re-times the original
    again, so the motion is resampled only once.

    Args:
        motion: (T, 139) Lodge motion at 30 fps.
        music_beats: music beat frames.
        joints: (T, 22, 3) joint positions of ``motion`` if already computed.
        max_shift, min_rate, max_rate: see :func:`match_beats` and :func:`feasible_anchors`.
        passes: how many times to look for beats (1 = once, on the generated dance).

    Returns:
        (re-timed (T, 139) motion, (T,) dance time shown at each output frame). With no pair to
        align, the motion comes back unchanged with the identity time map.
    """
    motion = np.asarray(motion, np.float32)
    n = len(motion)
    src = np.arange(n, dtype=np.float64)
    if n < 3:
        return motion.copy(), src
    out = motion
    pos = motion_to_joints(motion) if joints is None else joints
    pairs: dict[float, float] = {}
    for _ in range(max(1, passes)):
        found = match_beats(kinematic_beats(np.asarray(pos)), music_beats, max_shift)
        if not found:
            break
        # beats found in the re-timed dance, as times of the original dance
        for m, b in found.items():
            original = float(np.interp(b, np.arange(n), src))
            if abs(original - m) <= max_shift:  # no dance beat moves further than max_shift in all
                pairs[m] = original
        d, m = feasible_anchors(pairs, n, min_rate, max_rate)
        if d.size == 0:
            break
        new_src = beat_time_map(d, m, n)
        if np.allclose(new_src, src):
            break
        src = new_src
        out = warp_motion(motion, src).astype(np.float32)
        pos = motion_to_joints(out)
    return (out.copy() if out is motion else out), src
