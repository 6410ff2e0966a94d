"""Training examples cut from whole dances: 256-frame local segments and 1024-frame global windows.

Both are expressed the way the pipeline uses them: the root's horizontal position relative to the
first frame of the crop (segment or window coordinates). Global windows carry the 13 primitives
(5 hard cues at the segment joins, 8 soft cues placed by the same planner as at inference, driven by
the dance's own kinematic beats and kinetic energy), cut from the real motion.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio import MARK_COLUMNS
from ..constants import GLOBAL_LEN, PRIM_LEN, ROOT_X, ROOT_Z, SEG_LEN, SEGS_PER_WINDOW
from ..metrics.realism import frame_speeds
from ..motion import canonical_transform, mirror_motion, motion_to_joints, planar_transform
from ..post.warp import warp_motion
from ..primitives import N_HARD, N_PRIMS, PrimitivePlan, cut_primitives, dance_beats, plan_primitives

TIME_STRETCH_PROB = 0.5  # share of the examples (segments, windows) time-stretched when stretching is on
SPEEDUP_PERCENTILE = 99.0  # a stretch never speeds a dance's fast frames past this percentile of its genre's


@dataclass
class Track:
    """One whole dance with its music, ready for cropping."""

    motion: np.ndarray  # (T, 139) float32
    music: np.ndarray  # (T, 35) float32
    genre_id: int
    beats: np.ndarray  # kinematic beats of the dance (frames)
    energy: np.ndarray  # (T,) kinetic energy proxy used to rank the beats
    weight: np.ndarray | None = None  # (T,) 0 where frames must not be learned (glitch windows)
    # (T - 1,) root-relative joint speed (m/s) between each frame and the next (lodge.metrics.realism)
    speeds: np.ndarray | None = None
    # The most a time stretch may speed this dance up (:func:`cap_speedups`); slowing it is always allowed.
    max_speedup: float = float("inf")

    @classmethod
    def from_arrays(cls, motion: np.ndarray, music: np.ndarray, genre_id: int, weight: np.ndarray | None = None) -> "Track":
        """Build a track, computing the dance's kinematic beats by forward kinematics."""
        motion = np.asarray(motion, np.float32)
        frames = min(len(motion), len(music))
        joints = motion_to_joints(motion[:frames])
        beats, energy = dance_beats(joints)
        return cls(motion[:frames], np.asarray(music[:frames], np.float32), int(genre_id), beats, energy,
                   None if weight is None else np.asarray(weight[:frames], np.float32), frame_speeds(joints))

    def speed(self, start: int, length: int) -> float:
        """Mean root-relative joint speed (m/s) of frames start .. start + length (within the dance)."""
        if self.speeds is None:
            raise ValueError("this track was built without its frame speeds (Track.from_arrays computes them)")
        part = self.speeds[max(0, start):max(0, start) + max(1, length - 1)]
        return float(part.mean()) if len(part) else float(self.speeds[-1:].mean())


def to_crop_coordinates(motion: np.ndarray) -> np.ndarray:
    """Shift the root horizontally so that the crop starts at x = z = 0."""
    out = np.array(motion, dtype=np.float32, copy=True)
    out[:, ROOT_X] -= out[0, ROOT_X]
    out[:, ROOT_Z] -= out[0, ROOT_Z]
    return out


def to_canonical(motion: np.ndarray, reference_frame: np.ndarray) -> np.ndarray:
    """Turn and shift a motion so that `reference_frame` stands at the origin facing +z."""
    theta, offset = canonical_transform(reference_frame)
    return planar_transform(motion, theta, offset)


def _crop(array: np.ndarray, start: int, length: int) -> np.ndarray:
    """Rows start..start+length, edge-padded past the end."""
    idx = np.clip(np.arange(start, start + length), 0, len(array) - 1)
    return array[idx]


def stretched_span(factor: float, length: int = SEG_LEN) -> int:
    """How many source frames ``length`` frames played ``factor`` times as fast cover."""
    return int(np.ceil(factor * (length - 1))) + 1


def cap_speedups(tracks: list[Track], percentile: float = SPEEDUP_PERCENTILE) -> None:
    """Set each track's ``max_speedup`` so that, played faster, its fast frames stay within its genre's.

    The cap is the genre's ``percentile`` of per-frame speed (all its tracks' frames pooled) over the
    track's own: a dance whose fast frames already reach the genre's is only ever slowed down. Session
    18: stretched up to 1.5 times, breaking's fastest takes taught the network frames faster than any
    real breaker's (the long run's breaker had 7.5 % of its frames beyond the fastest real frame; the
    network trained before stretching 0.6 %).
    """
    by_genre: dict[int, list[np.ndarray]] = {}
    for track in tracks:
        if track.speeds is None:
            raise ValueError("cap_speedups needs the tracks' frame speeds (Track.from_arrays computes them)")
        by_genre.setdefault(track.genre_id, []).append(track.speeds)
    ceilings = {g: float(np.percentile(np.concatenate(s), percentile)) for g, s in by_genre.items()}
    for track in tracks:
        own = float(np.percentile(track.speeds, percentile)) if len(track.speeds) else 0.0
        track.max_speedup = max(1.0, ceilings[track.genre_id] / own) if own > 0 else float("inf")


def _stretch_factor(rng: np.random.Generator, max_stretch: float, max_speedup: float = float("inf")) -> float:
    """1, or with probability :data:`TIME_STRETCH_PROB` a factor drawn log-uniformly from
    [1 / max_stretch, min(max_stretch, max_speedup)]. No draw at all when ``max_stretch`` is 1, so that
    training without stretching draws the same examples as before it existed."""
    if max_stretch > 1.0 and rng.random() < TIME_STRETCH_PROB:
        top = min(max_stretch, max(1.0, max_speedup))
        return float(np.exp(rng.uniform(-np.log(max_stretch), np.log(top))))
    return 1.0


def _stretched_music(track: Track, times: np.ndarray) -> np.ndarray:
    """(len(times), 35) music at the increasing fractional source ``times`` (edge-padded past the end):
    columns interpolated, the one-hot marks (:data:`lodge.audio.MARK_COLUMNS`) moved to the nearest frame."""
    last = len(track.music) - 1
    src = np.clip(times, 0, last)
    below = np.floor(src).astype(int)
    frac = (src - below)[:, None].astype(np.float32)
    music = (1 - frac) * track.music[below] + frac * track.music[np.minimum(below + 1, last)]
    step = float(times[1] - times[0]) if len(times) > 1 else 1.0
    marks = list(MARK_COLUMNS)
    music[:, marks] = 0.0
    for col in marks:
        hits = np.flatnonzero(track.music[:, col] > 0.5)
        hits = hits[(hits >= times[0]) & (hits <= times[-1])]
        music[np.clip(np.rint((hits - times[0]) / step).astype(int), 0, len(times) - 1), col] = 1.0
    return music.astype(np.float32)


def stretched_crop(track: Track, start: int, factor: float, length: int = SEG_LEN):
    """``length`` frames of ``track`` from ``start`` played ``factor`` times as fast (the source frames
    start, start + factor, ...; root linear, rotations slerp, contacts relabelled; music columns
    interpolated, its one-hot marks moved to the nearest frame).

    Returns (motion (length, 139), music (length, 35), valid (length,) 1 where the source frame lies
    within the dance and its weight is not 0, speed in m/s: the source stretch's times ``factor``).
    """
    times = start + np.arange(length) * float(factor)
    last = len(track.motion) - 1
    src = np.clip(times, 0, last)
    motion = warp_motion(track.motion, src)  # it converts only the frames it needs
    valid = (times <= last).astype(np.float32)
    if track.weight is not None:
        valid *= track.weight[np.rint(src).astype(int)]
    return (motion, _stretched_music(track, times), valid,
            track.speed(start, stretched_span(factor, length)) * float(factor))


def local_example(track: Track, rng: np.random.Generator, mirror_prob: float = 0.5, canonical: bool = False,
                  max_stretch: float = 1.0):
    """A random 256-frame segment: (motion (256,139) segment coords, music (256,35), genre, weight (256,),
    its speed in m/s).

    With ``max_stretch`` > 1, a share :data:`TIME_STRETCH_PROB` of the segments is played faster or
    slower by a factor drawn log-uniformly from [1 / max_stretch, max_stretch] (:func:`stretched_crop`),
    so that within one genre and one song the speed the network is told varies with the motion it sees;
    never faster than the track's ``max_speedup`` (:func:`cap_speedups`)."""
    factor = _stretch_factor(rng, max_stretch, track.max_speedup)
    if factor != 1.0:
        start = int(rng.integers(0, max(1, len(track.motion) - stretched_span(factor) + 1)))
        motion, music, valid, speed = stretched_crop(track, start, factor)
    else:
        start = int(rng.integers(0, max(1, len(track.motion) - SEG_LEN + 1)))
        motion, music = _crop(track.motion, start, SEG_LEN), _crop(track.music, start, SEG_LEN)
        valid = (np.arange(start, start + SEG_LEN) < len(track.motion)).astype(np.float32)
        if track.weight is not None:
            valid *= _crop(track.weight, start, SEG_LEN)
        speed = track.speed(start, SEG_LEN)
    if rng.random() < mirror_prob:
        motion = mirror_motion(motion)
    motion = to_canonical(motion, motion[0]) if canonical else to_crop_coordinates(motion)
    return motion, music, track.genre_id, valid, speed


def stretched_window(track: Track, start: int, factor: float = 1.0):
    """The 1024-frame window of ``track`` from ``start`` played ``factor`` times as fast, with its primitives.

    The dance's kinematic beats and energy are moved onto the (stretched) window, the 13 primitives
    planned there as at inference and cut from the dance (resampled through :func:`warp_motion` when
    ``factor`` is not 1), and the music resampled (:func:`_stretched_music`).

    Returns:
        prims (13, 8, 139) in the dance's coordinates, music (1024, 35), prim_frames (13,)
        window-relative starts, prim_weight (13,) 0 for primitives past the end of the dance or on
        frames of weight 0, the window's speed in m/s (the source stretch's times ``factor``).
    """
    length = len(track.motion)
    src = start + np.arange(GLOBAL_LEN) * factor  # source frame time of every window frame
    window_len = int(np.count_nonzero(src <= length - 1))
    if factor == 1.0:
        in_window = (track.beats >= start) & (track.beats < start + window_len)
        beats, energy = track.beats[in_window] - start, track.energy[start:start + window_len]
    else:
        beats = np.rint((track.beats - start) / factor).astype(np.int64)
        beats = beats[(track.beats >= start) & (beats < window_len)]
        energy = np.interp(src[:window_len], np.arange(length), track.energy)
    frames = _first_window_frames(plan_primitives(window_len, beats, energy))
    if factor == 1.0:
        prims, music = cut_primitives(track.motion, start, frames), _crop(track.music, start, GLOBAL_LEN)
    else:
        times = np.clip(start + (frames[:, None] + np.arange(PRIM_LEN)) * factor, 0, length - 1)
        prims = warp_motion(track.motion, times.ravel()).reshape(len(frames), PRIM_LEN, -1)
        music = _stretched_music(track, src)
    weight = ((frames + 4) < window_len + 4).astype(np.float32)  # cues starting past the end are padding
    if track.weight is not None:
        weight *= track.weight[np.clip(np.rint(start + (frames + 4) * factor).astype(int), 0, length - 1)]
    return prims, music, frames, weight, track.speed(start, stretched_span(factor, window_len)) * factor


def window_slot_sources(segments: int) -> np.ndarray:
    """(13,) for each primitive slot of a window whose dance starts ``segments`` segments late, the slot
    of the unshifted window it takes its primitive from (-1: before the dance). Hard cue h takes hard
    cue h - segments; soft cue 2 s + r (segment s) takes 2 (s - segments) + r."""
    hard = np.arange(N_HARD) - segments
    seg, r = np.divmod(np.arange(N_PRIMS - N_HARD), 2)
    soft = np.where(seg >= segments, N_HARD + 2 * (seg - segments) + r, -1)
    return np.concatenate([np.where(hard >= 0, hard, -1), soft])


def latest_offset(weight: np.ndarray) -> int:
    """The most whole segments a window's dance can start late without a primitive of weight > 0
    leaving the window (``weight`` (13,) as :func:`stretched_window` gives it)."""
    best = 0
    for segments in range(1, SEGS_PER_WINDOW + 1):
        sources = window_slot_sources(segments)
        if weight[sources[sources >= 0]].sum() < weight.sum():
            break
        best = segments
    return best


def offset_window(prims: np.ndarray, music: np.ndarray, frames: np.ndarray, weight: np.ndarray, segments: int):
    """A window's dance moved ``segments`` whole segments later (:func:`window_slot_sources`), so that
    a short dance also trains the window's later primitives: the slots before it get weight 0 and the
    first primitive's motion, the music its first frame (as the music past a dance's end repeats its
    last), the primitives' frames move with them. Returns prims, music, frames, weight as given."""
    if segments == 0:
        return prims, music, frames, weight
    sources = window_slot_sources(segments)
    valid = sources >= 0
    take = np.where(valid, sources, 0)
    shift = segments * SEG_LEN
    music_idx = np.clip(np.arange(len(music)) - shift, 0, len(music) - 1)
    return (prims[take], music[music_idx], np.where(valid, frames[take] + shift, frames).astype(frames.dtype),
            np.where(valid, weight[take], 0.0).astype(weight.dtype))


def global_example(track: Track, rng: np.random.Generator, mirror_prob: float = 0.5, canonical: bool = False,
                   max_stretch: float = 1.0, offsets: bool = False):
    """A random 1024-frame window with its primitives (:func:`stretched_window`).

    With ``max_stretch`` > 1, a share :data:`TIME_STRETCH_PROB` of the windows is played faster or
    slower by a factor drawn log-uniformly from [1 / max_stretch, max_stretch], as
    :func:`local_example`'s segments are. With ``offsets``, a dance shorter than the window starts
    0 to as many whole segments late as keep its primitives inside it (drawn uniformly;
    :func:`offset_window`): a window always starts at its dance's first frame otherwise, so the
    later primitives of every window were learnt only from the genres with long takes.

    Returns:
        prims (13, 8, 139) in window coordinates, music (1024, 35), genre id, prim_frames (13,)
        window-relative starts, prim_weight (13,) 0 for primitives past the end of the dance, the
        window's speed in m/s.
    """
    factor = _stretch_factor(rng, max_stretch, track.max_speedup)
    start = int(rng.integers(0, max(1, len(track.motion) - stretched_span(factor, GLOBAL_LEN) + 1)))
    prims, music, frames, weight, speed = stretched_window(track, start, factor)
    if canonical:
        prims = to_canonical(prims, track.motion[start])
    else:
        origin = track.motion[start, [ROOT_X, ROOT_Z]]
        prims = prims.copy()
        prims[..., ROOT_X] -= origin[0]
        prims[..., ROOT_Z] -= origin[1]
    if rng.random() < mirror_prob:
        prims = mirror_motion(prims)
    if offsets:
        prims, music, frames, weight = offset_window(prims, music, frames, weight,
                                                     int(rng.integers(0, latest_offset(weight) + 1)))
    return prims.astype(np.float32), music, track.genre_id, frames, weight, speed


def _first_window_frames(plan: PrimitivePlan) -> np.ndarray:
    """(13,) window-relative primitive starts of the plan's first window."""
    return plan.window_prim_frames()[0]


def normalizer_samples(tracks: list[Track], rng: np.random.Generator, per_track: int = 8,
                       canonical: bool = False) -> np.ndarray:
    """Frames in the coordinates both stages use (window crops, mirrored too), for fitting the normaliser."""
    chunks = []
    for track in tracks:
        for _ in range(per_track):
            start = int(rng.integers(0, max(1, len(track.motion) - GLOBAL_LEN + 1)))
            crop = track.motion[start:start + GLOBAL_LEN]
            crop = to_canonical(crop, crop[0]) if canonical else to_crop_coordinates(crop)
            chunks += [crop, mirror_motion(crop)]
    return np.concatenate(chunks, axis=0)
