"""Post stage: what happens to the sampled motion before it is a dance.

:func:`post_process` smooths the joins at the imposed cue frames, takes the frame-to-frame judder off
the generated frames, puts the dancer on the floor and locks planted feet, on the whole song or on a stretch of it;
:func:`finish_dance` cuts the motion to the song, optionally re-times it onto the beats and makes the
:class:`lodge.dance.Dance` with its primitives.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..audio import MusicFeatures
from ..constants import SEG_LEN
from ..dance import Dance
from ..motion import motion_to_joints
from ..post import despike_motion, limit_travel, lock_feet, lowpass_motion, output_frame, smooth_joins, stand_on_floor, sync_to_beats
from ..primitives import PrimitivePlan
from ..sampling import SamplingOptions
from .plan import cue_motion, placed_primitives


def post_process(motion: np.ndarray, fixed: np.ndarray, options: SamplingOptions,
                 start: int = 0, stop: int | None = None) -> np.ndarray:
    """Spike removal, join smoothing and the travel speed limit (``lowpass``, ``smooth_cue_joins``,
    ``lowpass``), low-pass (``lowpass``), floor (``floor``) and foot lock (``foot_lock``, followed by the
    travel limit again with ``lowpass``) of frames [start, stop), in that order.

    Args:
        motion: (T, 139) song-long motion as the local stage made it (song coordinates).
        fixed: (T,) frames the sampler wrote exactly (left as they are by the low-pass and the join
            smoothing).
        options: which of the four to run.
        start, stop: the stretch to process (default: all). Join smoothing sees only the stretch, so
            a stretch should begin and end at fixed frames (segment boundaries carry hard cues); foot
            lock's root correction starts at zero at ``start``, so the stretch's first frame keeps its
            root and the caller places the stretch in the finished dance.

    Returns:
        A new (stop - start, 139) array; ``motion`` is not changed.
    """
    out = np.array(motion[start:stop], dtype=np.float32, copy=True)
    if options.lowpass:  # its spikes first: join smoothing would take one beside a cue for a gap to close
        out = despike_motion(out, np.asarray(fixed[start:stop], bool))
    if options.smooth_cue_joins:
        out = smooth_joins(out, np.asarray(fixed[start:stop], bool))
    if options.lowpass:  # after the joins, which can add to a dash between two close cues
        out = limit_travel(out, np.asarray(fixed[start:stop], bool))
    if options.lowpass:  # after the joins: filtering a gap at a cue edge would smear it over its neighbours
        out = lowpass_motion(out, np.asarray(fixed[start:stop], bool))
    if options.floor:  # before the foot lock, which finds planted feet by their height
        out = stand_on_floor(out, np.asarray(fixed[start:stop], bool))
    if options.foot_lock:
        out = lock_feet(out)
        if options.lowpass:  # a leg that sweeps while it counts as planted can make the lock itself dash
            out = limit_travel(out)
    return out


def finish_dance(motion: np.ndarray, features: MusicFeatures, plan: PrimitivePlan, primitives: np.ndarray,
                 options: SamplingOptions, genre: str, device: str, timings: dict[str, float]) -> Dance:
    """The finished dance from post-processed song-long motion (padded to whole segments or not).

    Cuts the motion to the song, clips the foot contacts to [0, 1], places the primitives the options
    show (with their motion from ``primitives``, (W, 13, 8, 139) song coordinates), and re-times it all
    onto the beats when ``options.beat_sync`` (adding ``timings["beat_sync"]``).
    """
    num_frames = features.num_frames
    motion = motion[:num_frames]
    motion[:, :4] = np.clip(motion[:, :4], 0.0, 1.0)
    placed = placed_primitives(plan, options)
    cues = cue_motion(primitives, plan, placed)
    joints = motion_to_joints(motion)
    segment_starts = np.arange(plan.num_segments) * SEG_LEN
    if options.beat_sync:
        t0 = time.perf_counter()
        motion, src = sync_to_beats(motion, features.beats, joints)
        joints = motion_to_joints(motion)
        placed = [replace(p, start=output_frame(src, p.start)) for p in placed]
        segment_starts = np.array([output_frame(src, s) for s in segment_starts], dtype=np.int64)
        timings["beat_sync"] = time.perf_counter() - t0
    return Dance(
        motion=motion.astype(np.float32),
        joints=np.asarray(joints, np.float32),
        genre=genre,
        beats=features.beats.astype(np.int64),
        primitives=placed,
        primitive_motion=cues,
        segment_starts=segment_starts,
        onset_envelope=features.onset_envelope.astype(np.float32),
        tempo=float(features.tempo),
        timings=timings,
        device=device,
    )
