"""Characteristic dance primitives: where they go in a song, and how to cut them from real dances.

A song is split into 256-frame local segments, grouped four to a 1024-frame global window. Each
window holds 13 primitives of 8 frames: 5 hard cues straddling the segment boundaries (window
frames 0, 256, 512, 768, 1024, so they start 4 frames earlier) and 8 soft cues, 2 per segment,
centred on strong beats away from the segment's first and last 12 frames. Each soft cue also gets
a mirrored copy one bar later where it fits (the choreography augment of the paper).

The same planner serves inference (music beats, onset strength) and training (kinematic beats of
the real dance, kinetic energy), so the global model sees the same kind of placements in both.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .constants import FPS, GLOBAL_LEN, HARD_GUIDE, PRIM_LEN, SEG_LEN, SEGS_PER_WINDOW

N_HARD = SEGS_PER_WINDOW + 1
N_SOFT = 2 * SEGS_PER_WINDOW
N_PRIMS = N_HARD + N_SOFT
EDGE_MARGIN = 12  # soft cues stay this many frames away from a segment's ends
# Frames the planner leaves between one soft cue and the next of its segment: the gap the edge margin
# leaves after a hard cue. Cues that touched made the body change pose within one frame (17 % of the
# corpus's songs had such a pair, or a cue cut by the song's end; breaking's largest jump, 0.26 m).
CUE_GAP = EDGE_MARGIN - HARD_GUIDE
KIND_HARD, KIND_SOFT = 0, 1


@dataclass
class PrimitivePlan:
    """Where every primitive of a song goes (all frame numbers are song frames, first frame of the 8).

    Attributes:
        num_frames: frames of the song (T).
        num_segments: 256-frame local segments covering the song, ceil(T / 256).
        num_windows: 1024-frame global windows, ceil(num_segments / 4).
        soft_starts: (num_windows, 8) start frame of each soft cue (2 per segment, in segment order).
        mirror_starts: (num_windows, 8) start of each soft cue's mirrored copy, -1 where none fits.
        beat_aligned: (num_windows, 8) whether the soft cue sits on a beat (False: evenly spaced fallback).
    """

    num_frames: int
    num_segments: int
    num_windows: int
    soft_starts: np.ndarray
    mirror_starts: np.ndarray
    beat_aligned: np.ndarray

    def hard_starts(self) -> np.ndarray:
        """Start frame of each hard cue: one per segment boundary 0..num_segments (num_segments + 1)."""
        return np.arange(self.num_segments + 1) * SEG_LEN - HARD_GUIDE

    def window_prim_frames(self) -> np.ndarray:
        """(num_windows, 13) window-relative start frames: 5 hard cues then 8 soft cues."""
        hard = np.arange(N_HARD) * SEG_LEN - HARD_GUIDE
        out = np.empty((self.num_windows, N_PRIMS), dtype=np.int64)
        for w in range(self.num_windows):
            out[w, :N_HARD] = hard
            out[w, N_HARD:] = self.soft_starts[w] - w * GLOBAL_LEN
        return out

    def soft_segments(self) -> np.ndarray:
        """(num_windows, 8) the local segment each soft cue lies in."""
        per_segment = N_SOFT // SEGS_PER_WINDOW
        return np.arange(self.num_windows)[:, None] * SEGS_PER_WINDOW + np.arange(N_SOFT)[None, :] // per_segment

    def without_mirrors(self, segment_mirrors: np.ndarray) -> "PrimitivePlan":
        """This plan with no mirrored copy for the soft cues of the segments whose ``segment_mirrors``
        ((num_segments,) bool; the padding's segments count as mirroring) is False."""
        keep = np.ones(self.num_windows * SEGS_PER_WINDOW, bool)
        keep[:self.num_segments] = np.asarray(segment_mirrors, bool).reshape(-1)[:self.num_segments]
        mirror = np.where(keep[self.soft_segments()], self.mirror_starts, -1)
        return replace(self, soft_starts=self.soft_starts.copy(), mirror_starts=mirror, beat_aligned=self.beat_aligned.copy())

    @staticmethod
    def prim_kinds() -> np.ndarray:
        """(13,) kind ids: 0 for the 5 hard cues, 1 for the 8 soft cues."""
        return np.array([KIND_HARD] * N_HARD + [KIND_SOFT] * N_SOFT, dtype=np.int64)


def bar_frames(beats: np.ndarray) -> int:
    """Frames per bar (4 beats) from the median beat interval; a 120 BPM bar when beats are too few."""
    if len(beats) >= 3:
        interval = float(np.median(np.diff(np.sort(beats))))
        if 6 <= interval <= 60:
            return int(round(4 * interval))
    return 2 * FPS


def soft_cue_range(segment: int, num_frames: int) -> tuple[int, int]:
    """[lo, hi): the frames a soft cue of ``segment`` must lie in, in a song of ``num_frames`` frames:
    at least :data:`EDGE_MARGIN` frames from the segment's ends and, in the song's last segment,
    inside the song (the padding is cut off later)."""
    lo = segment * SEG_LEN + EDGE_MARGIN
    return lo, min((segment + 1) * SEG_LEN - EDGE_MARGIN, max(num_frames - EDGE_MARGIN, lo + 2 * PRIM_LEN))


def plan_primitives(num_frames: int, beats: np.ndarray, strength: np.ndarray | None = None) -> PrimitivePlan:
    """Place the soft cues of a song on its strongest beats, with mirrored copies one bar later.

    Args:
        num_frames: song length T in frames.
        beats: beat frame indices (music beats at inference, kinematic beats in training).
        strength: (T,) how strong each frame is (onset envelope or kinetic energy); beats are ranked
            by it. None ranks all beats equally (earliest first).
    """
    beats = np.unique(np.asarray(beats, dtype=np.int64))
    num_segments = max(1, int(np.ceil(num_frames / SEG_LEN)))
    num_windows = int(np.ceil(num_segments / SEGS_PER_WINDOW))
    bar = bar_frames(beats)
    half = PRIM_LEN // 2
    soft = np.zeros((num_windows, N_SOFT), dtype=np.int64)
    mirror = np.full((num_windows, N_SOFT), -1, dtype=np.int64)
    aligned = np.zeros((num_windows, N_SOFT), dtype=bool)
    for seg in range(num_windows * SEGS_PER_WINDOW):
        w, local = divmod(seg, SEGS_PER_WINDOW)
        lo, hi = soft_cue_range(seg, num_frames)
        if hi - lo < 2 * PRIM_LEN + CUE_GAP:
            # The song's last few frames hold no two cues apart: both go past its end, into the
            # padding that is cut off, so none is cut in two or crowds the last frames.
            lo, hi = max(lo, num_frames), (seg + 1) * SEG_LEN - EDGE_MARGIN
        mid = (lo + hi) // 2
        for j, (a, b) in enumerate(((lo, mid - CUE_GAP // 2), (mid + CUE_GAP - CUE_GAP // 2, hi))):
            idx = N_SOFT // SEGS_PER_WINDOW * local + j
            starts = beats - half
            ok = (starts >= a) & (starts + PRIM_LEN <= b)
            # Prefer beats whose mirrored copy also fits one bar later inside the same half.
            fits_mirror = ok & (starts + bar + PRIM_LEN <= b)
            pool = starts[fits_mirror] if fits_mirror.any() else starts[ok]
            if len(pool):
                if strength is not None and len(strength):
                    score = np.asarray(strength)[np.clip(pool + half, 0, len(strength) - 1)]
                    start = int(pool[int(np.argmax(score))])
                else:
                    start = int(pool[0])
                aligned[w, idx] = True
            else:
                start = int((a + b) // 2 - PRIM_LEN - (bar // 2 if b - a >= 2 * PRIM_LEN + bar else 0))
                start = max(a, start)
            soft[w, idx] = start
            if start + bar + PRIM_LEN <= b:
                mirror[w, idx] = start + bar
    return PrimitivePlan(num_frames, num_segments, num_windows, soft, mirror, aligned)


def dance_beats(joints: np.ndarray, sigma: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Kinematic beats of a dance and the strength used to rank them.

    Returns:
        beats: frames at local minima of the smoothed mean joint speed (lodge.metrics.kinematic_beats).
        energy: (T,) kinetic energy proxy (squared speed, smoothed over +-8 frames) around each frame;
            a pause after a fast move scores high, a pause in stillness scores low.
    """
    from .metrics import kinematic_beats, mean_joint_speed

    beats = kinematic_beats(joints, smooth_sigma=sigma).astype(np.int64)
    energy = gaussian_filter1d(gaussian_filter1d(mean_joint_speed(joints, FPS), 1.0) ** 2, PRIM_LEN)
    return beats, energy


def cut_primitives(motion: np.ndarray, window_start: int, prim_frames: np.ndarray) -> np.ndarray:
    """Cut the 8-frame primitives at window-relative `prim_frames` out of a song-long (T, D) motion.

    Frames outside the motion are filled with the nearest frame (edge padding).
    """
    idx = window_start + np.asarray(prim_frames)[:, None] + np.arange(PRIM_LEN)[None, :]
    idx = np.clip(idx, 0, len(motion) - 1)
    return motion[idx]
