"""The choreographer's edits: keep the parts of a dance you like and regenerate the rest.

Every edit regenerates whole local segments (256 frames) and nothing else, built on the stages
(:mod:`lodge.stages`) and on what a generated dance keeps (:class:`lodge.dance.DanceSource`):

* :func:`reroll`: the local stage again for the chosen segments, with a new seed. Their hard cues
  (the primitives at both ends) are the same, so they join their neighbours as before; with
  ``new_moves`` the global stage first re-samples the soft primitives those segments dance, every other
  primitive of their window held fixed (``keep_mask`` / ``keep_values``, in the window's coordinates).
* :func:`copy_move`: the primitive shown at one time (the soft cue nearest it, or its mirrored copy)
  becomes the soft cue at the beat nearest another time; the segment it lands in is regenerated.
* :func:`restyle`: a new genre schedule; the segments whose genre changed get new soft primitives
  (global stage, in the new genre) and new motion (local stage).

Hard cues are never re-sampled: they fix where the dancer is at every segment join, so everything
outside the edited segments stays where it was. Post-processing runs on each edited stretch alone
(join smoothing reads only the stretch; foot lock's root correction starts at the stretch), then the
stretch is pinned to the dance around it: its root is shifted to meet the unchanged frame before it
and a ramp makes it meet the unchanged frame after it, both at hard-cue frames (the ramp moves the
body mostly while no foot is planted, so planted feet hardly slide). Every frame
outside the edited segments is copied unchanged.

Each edit returns a new :class:`lodge.dance.Dance` (the old one is untouched, so an app can undo by
keeping it) whose ``edits`` list ends with a record of what was done. Segments are numbered from 0
(:meth:`lodge.dance.Dance.segment_ranges`). Bad edits raise an :class:`EditError` (an
:class:`lodge.checks.InputError`) with one sentence; an unknown genre raises
:class:`lodge.config.GenreError` and an unreadable schedule :class:`lodge.schedule.ScheduleError`
(both InputErrors too).
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from .audio import MusicFeatures
from .checks import InputError, check_seed
from .constants import FOOT_JOINTS, FPS, GLOBAL_LEN, MOTION_DIM, PRIM_LEN, ROOT_SLICE, SEG_LEN, SEGS_PER_WINDOW
from .dance import Dance, DanceSource
from .motion import align_transform, mirror_motion, motion_to_joints, planar_transform
from .post.footlock import CONTACT_HEIGHT
from .primitives import N_HARD, N_PRIMS, PrimitivePlan, bar_frames, soft_cue_range
from .sampling import SamplingOptions
from .schedule import GenreSchedule, majority
from .stages import (
    GlobalInputs, LocalInputs, LocalResult, chain_windows, cue_motion, normalised_music, placed_primitives,
    post_process, sample_global, sample_local,
)
from .stages.base import ProgressFn, StageModels
from .stages.plan import segment_mirrors


class EditError(InputError):
    """An edit that cannot be made; the message is one sentence for the person who asked."""


class NotEditableError(EditError):
    """The dance holds no edit data (an older file, a real dance) or was made in a way edits cannot keep
    (beat sync, no primitives)."""


class SegmentError(EditError):
    """A segment number outside the dance."""


class EditTimeError(EditError):
    """A time outside the song."""


# ---------------------------------------------------------------------------------------------- state


@dataclass
class EditState:
    """A dance's :class:`DanceSource` read back as the stages' inputs (copies: editing them leaves the
    dance alone)."""

    features: MusicFeatures
    options: SamplingOptions
    schedule: GenreSchedule
    plan: PrimitivePlan
    raw: np.ndarray
    local_motion: np.ndarray
    local_fixed: np.ndarray

    @classmethod
    def of(cls, dance: Dance) -> "EditState":
        """The edit state of ``dance``; :class:`NotEditableError` if it cannot be edited."""
        src = dance.source
        if src is None:
            raise NotEditableError("This dance has no edit data (it was saved before edits existed, or is not a "
                                   "generated dance); generate it again to edit it.")
        options = SamplingOptions.from_dict(src.options)
        if options.beat_sync:
            raise NotEditableError("This dance was re-timed to the beats (beat sync), so its segments cannot be "
                                   "regenerated in place; generate it without beat sync to edit it.")
        if not options.use_primitives:
            raise NotEditableError("This dance was made without primitives, so nothing holds its segments "
                                   "together; generate it with primitives to edit it.")
        frames = len(src.music)
        onset = dance.onset_envelope if dance.onset_envelope is not None else np.zeros(frames, np.float32)
        features = MusicFeatures(features=np.asarray(src.music, np.float32), beats=np.asarray(dance.beats, np.int64),
                                 tempo=float(dance.tempo), onset_envelope=np.asarray(onset, np.float32))
        soft = np.array(src.soft_starts, np.int64)
        plan = PrimitivePlan(frames, int(src.local_motion.shape[0]), int(soft.shape[0]), soft,
                             np.array(src.mirror_starts, np.int64), np.array(src.beat_aligned, bool))
        return cls(features, options, GenreSchedule.from_list(src.schedule), plan,
                   np.array(src.global_raw, np.float32), np.array(src.local_motion, np.float32),
                   np.array(src.local_fixed, bool))

    def source(self) -> DanceSource:
        """The :class:`DanceSource` of this state (what the edited dance keeps)."""
        return DanceSource(
            music=self.features.features, options=self.options.to_dict(), schedule=self.schedule.to_list(),
            soft_starts=self.plan.soft_starts, mirror_starts=self.plan.mirror_starts,
            beat_aligned=self.plan.beat_aligned, global_raw=self.raw, local_motion=self.local_motion,
            local_fixed=self.local_fixed,
        )


def dance_source(features: MusicFeatures, options: SamplingOptions, schedule: GenreSchedule, plan: PrimitivePlan,
                 global_raw: np.ndarray, local: LocalResult) -> DanceSource:
    """What a freshly generated dance keeps for later edits (``local``: all segments, song order)."""
    return EditState(features, options, schedule, plan, global_raw, local.motion, local.fixed).source()


def editable(dance: Dance) -> None:
    """Nothing if ``dance`` can be edited; :class:`NotEditableError` (one sentence) if not."""
    EditState.of(dance)


# ---------------------------------------------------------------------------------------------- checks


def _segments(plan: PrimitivePlan, segments: int | Iterable[int]) -> list[int]:
    items = [segments] if isinstance(segments, (int, np.integer)) else list(segments)
    if not items:
        raise SegmentError("Choose at least one segment to regenerate.")
    last = plan.num_segments - 1
    out = []
    for s in items:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise SegmentError(f"Segments are whole numbers from 0 to {last}, not {s!r}.")
        if not 0 <= int(s) <= last:
            raise SegmentError(f"Segment {int(s)} is outside this dance, which has segments 0 to {last}.")
        out.append(int(s))
    return sorted(set(out))


def _frame(dance: Dance, seconds: object, what: str) -> int:
    from .checks import finite_number

    value = finite_number(seconds, what)
    if not 0.0 <= value <= dance.duration:
        raise EditTimeError(f"{what} {value:g} s is outside the song (0 to {dance.duration:.1f} s).")
    return min(int(round(value * FPS)), dance.num_frames - 1)


def _stretches(segments: Sequence[int]) -> list[tuple[int, int]]:
    """[first, last + 1) of each run of consecutive segments."""
    runs: list[list[int]] = []
    for s in segments:
        if runs and s == runs[-1][1]:
            runs[-1][1] = s + 1
        else:
            runs.append([s, s + 1])
    return [(a, b) for a, b in runs]


def _has_soft_cues(options: SamplingOptions) -> bool:
    """Whether soft cues steered the local stage (so re-sampling them changes anything)."""
    return options.soft_cues and options.soft != 0.0


def _generator(models: StageModels, seed: int) -> torch.Generator:
    return torch.Generator(device=models.device).manual_seed(seed)


# ---------------------------------------------------------------------------------------------- stages


def _window_inputs(models: StageModels, state: EditState, windows: Sequence[int]) -> tuple[torch.Tensor, PrimitivePlan]:
    """The music and plan of some windows only, as a song of their own (the global network sees each
    window by itself, with window-relative frames, so this samples them as the whole song would)."""
    plan, w = state.plan, np.asarray(windows, np.int64)
    shift = (w - np.arange(len(w)))[:, None] * GLOBAL_LEN
    sub = PrimitivePlan(len(w) * GLOBAL_LEN, len(w) * SEGS_PER_WINDOW, len(w), plan.soft_starts[w] - shift,
                        np.where(plan.mirror_starts[w] >= 0, plan.mirror_starts[w] - shift, -1), plan.beat_aligned[w])
    music = normalised_music(models, state.features.features, plan.num_windows * GLOBAL_LEN)
    music = music.reshape(plan.num_windows, GLOBAL_LEN, -1)[torch.as_tensor(w, device=music.device)]
    return music.reshape(len(w) * GLOBAL_LEN, -1), sub


def _resample_soft(models: StageModels, state: EditState, segments: Sequence[int], genres: np.ndarray,
                   generator: torch.Generator, progress: ProgressFn | None) -> None:
    """Re-sample (in place, ``state.raw``) the soft primitives of ``segments`` with the global stage,
    every other primitive of their windows held fixed. A window is sampled in the genre of the
    majority of its re-sampled segments (``genres``: per segment)."""
    windows = sorted({s // SEGS_PER_WINDOW for s in segments})
    keep = np.ones((len(windows), N_PRIMS), bool)
    for s in segments:
        w, local = divmod(s, SEGS_PER_WINDOW)
        keep[windows.index(w), [N_HARD + 2 * local, N_HARD + 2 * local + 1]] = False
    window_genres = [majority([genres[s] for s in segments if s // SEGS_PER_WINDOW == w]) for w in windows]
    music, sub = _window_inputs(models, state, windows)
    result = sample_global(models, GlobalInputs(music, window_genres, sub, keep, state.raw[windows]),
                           state.options, generator, progress)
    state.raw[windows] = result.raw


def _regenerate(models: StageModels, dance: Dance, state: EditState, segments: list[int], generator: torch.Generator,
                progress: ProgressFn | None, record: dict[str, Any], timings: dict[str, float]) -> Dance:
    """The local stage for ``segments`` (of ``state``: plan, primitives, genres), post-processed per
    stretch and pinned to the unchanged frames around it; the new dance with ``record`` appended."""
    plan, opts = state.plan, state.options
    genres = list(models.cfg.genres)
    t0 = time.perf_counter()
    prims = chain_windows(state.raw, models.cfg.canonical_heading)
    music = normalised_music(models, state.features.features, plan.num_windows * GLOBAL_LEN)
    local = sample_local(models, LocalInputs(music, state.schedule.segment_genres(plan, genres), plan, prims,
                                             segments=segments), opts, generator, progress)
    timings["local"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    flat, fixed = state.local_motion.reshape(-1, MOTION_DIM), state.local_fixed.reshape(-1)
    local.write_into(flat, fixed)  # views: state.local_motion / local_fixed now hold the new segments
    motion, joints = dance.motion.copy(), dance.joints.copy()
    frames = []
    for first, last in _stretches(segments):
        a, b = first * SEG_LEN, last * SEG_LEN
        stop = min(b, dance.num_frames)
        part = _pinned(post_process(flat, fixed, opts, a, b), dance.motion, a, stop)[: stop - a]
        part[:, :4] = np.clip(part[:, :4], 0.0, 1.0)
        motion[a:stop] = part
        joints[a:stop] = motion_to_joints(part)
        frames.append([a, stop])
    timings["post"] = time.perf_counter() - t1
    placed = placed_primitives(plan, opts)
    record = {**record, "segments": list(segments), "frames": frames}
    return replace(
        dance, motion=motion.astype(np.float32), joints=np.asarray(joints, np.float32), genre=str(state.schedule),
        primitives=placed, primitive_motion=cue_motion(prims, plan, placed), timings=timings,
        source=state.source(), edits=[*dance.edits, record],
    )


PLANTED_WEIGHT = 0.1  # share of the pinning ramp a frame step with a planted foot takes, against 1 for a free one


def _pinned(part: np.ndarray, old: np.ndarray, a: int, stop: int) -> np.ndarray:
    """``part`` (a post-processed stretch starting at frame ``a``) with its root moved to meet the
    unchanged dance ``old``: shifted so its first frame's root is old's at ``a``, and, when the song
    goes on after ``stop``, a ramp so that its frame ``stop - 1`` has old's root too (the hard cue
    there is the same, so the dance goes on from it exactly as before).

    The ramp closes the gap the stretch's own foot lock left (its root correction differs from the old
    one) mostly while no foot is planted: a frame step with a foot on the floor (the foot lock's
    test) takes :data:`PLANTED_WEIGHT` of the share of a free step, so planted feet hardly slide."""
    part = part.copy()
    root = part[:, ROOT_SLICE].astype(np.float64)
    root += old[a, ROOT_SLICE] - root[0]
    pin_end = stop < len(old) and stop - 1 > a
    if pin_end:
        gap = old[stop - 1, ROOT_SLICE] - root[stop - 1 - a]
        feet = motion_to_joints(part[: stop - a])[:, list(FOOT_JOINTS), 1]
        planted = ((feet[:-1] <= CONTACT_HEIGHT) & (feet[1:] <= CONTACT_HEIGHT)).any(-1)
        ramp = np.concatenate([[0.0], np.cumsum(np.where(planted, PLANTED_WEIGHT, 1.0))])
        ramp = np.concatenate([ramp / ramp[-1], np.ones(len(root) - len(ramp))])
        root += ramp[:, None] * gap[None]
    part[:, ROOT_SLICE] = root.astype(np.float32)
    part[0, ROOT_SLICE] = old[a, ROOT_SLICE]
    if pin_end:
        part[stop - 1 - a, ROOT_SLICE] = old[stop - 1, ROOT_SLICE]
    return part


# ---------------------------------------------------------------------------------------------- edits


def reroll(models: StageModels, dance: Dance, segments: int | Iterable[int], seed: int, new_moves: bool = False,
           progress: ProgressFn | None = None) -> Dance:
    """Regenerate ``segments`` (numbered from 0) with a new ``seed``: new transitions between the same
    primitives, or with ``new_moves`` new soft primitives too (the global stage, all other primitives of
    their windows held). Every other frame is unchanged."""
    state = EditState.of(dance)
    segs = _segments(state.plan, segments)
    seed = check_seed(seed)
    if new_moves and not _has_soft_cues(state.options):
        raise EditError("This dance was made without soft cues, so it has no moves to re-sample; reroll "
                        "without new moves instead.")
    generator, timings = _generator(models, seed), {}
    if new_moves:
        t0 = time.perf_counter()
        genres = state.schedule.segment_genres(state.plan, models.cfg.genres)
        _resample_soft(models, state, segs, genres, generator, progress)
        timings["global"] = time.perf_counter() - t0
    record = {"op": "reroll", "seed": seed, "new_moves": bool(new_moves)}
    return _regenerate(models, dance, state, segs, generator, progress, record, timings)


def copy_move(models: StageModels, dance: Dance, source_seconds: float, target_seconds: float, mirrored: bool = False,
              seed: int = 0, progress: ProgressFn | None = None) -> Dance:
    """Copy the move shown at ``source_seconds`` (the soft cue, or mirrored copy, nearest that time;
    ``mirrored``: its mirror image) to the beat nearest ``target_seconds``, as the soft cue of the
    segment there (it replaces the nearer of that segment's two soft cues, and gets its own mirrored
    copy one bar later where that fits); that segment is regenerated with ``seed``."""
    state = EditState.of(dance)
    src_frame = _frame(dance, source_seconds, "The source time")
    dst_frame = _frame(dance, target_seconds, "The target time")
    seed = check_seed(seed)
    if not state.options.soft_cues or dance.primitive_motion is None:
        raise EditError("This dance was made without soft cues, so it has no moves to copy.")
    shown = [i for i, p in enumerate(dance.primitives) if p.kind in ("soft", "soft_mirror")]
    if not shown:
        raise EditError("This dance shows no soft cues, so it has no moves to copy.")
    half = PRIM_LEN // 2
    src = min(shown, key=lambda i: (abs(dance.primitives[i].start + half - src_frame), dance.primitives[i].start))
    cue = np.asarray(dance.primitive_motion[src], np.float32)
    if mirrored:
        cue = mirror_motion(cue)
    plan = state.plan
    start = _target_start(plan, state.features.beats, dst_frame)
    seg = start // SEG_LEN
    w, local = divmod(seg, SEGS_PER_WINDOW)
    j, other = sorted((2 * local, 2 * local + 1), key=lambda k: (abs(int(plan.soft_starts[w, k]) - start), k))
    lo, hi = soft_cue_range(seg, plan.num_frames)
    overlaps = lambda x, y: x >= 0 and y >= 0 and abs(x - y) < PRIM_LEN  # noqa: E731
    mirror = start + bar_frames(state.features.beats)
    target_genre = state.schedule.segment_genres(plan, models.cfg.genres)[seg]
    if (not models.cfg.mirrors(int(target_genre)) or mirror + PRIM_LEN > hi
            or overlaps(mirror, int(plan.soft_starts[w, other]))):
        mirror = -1
    plan.soft_starts[w, j], plan.mirror_starts[w, j] = start, mirror
    plan.beat_aligned[w, j] = bool(np.isin(start + half, state.features.beats))
    if overlaps(int(plan.mirror_starts[w, other]), start) or overlaps(int(plan.mirror_starts[w, other]), mirror):
        plan.mirror_starts[w, other] = -1
    # In the window's own coordinates, standing and facing where the cue it replaces did.
    theta, offset = align_transform(cue[half], state.raw[w, N_HARD + j, half])
    state.raw[w, N_HARD + j] = planar_transform(cue, theta, offset)
    p = dance.primitives[src]
    record = {"op": "copy_move", "seed": seed, "mirrored": bool(mirrored),
              "source": {"seconds": float(source_seconds), "frame": int(p.start), "kind": p.kind},
              "target": {"seconds": float(target_seconds), "frame": int(start), "slot": [int(w), int(j)]}}
    return _regenerate(models, dance, state, [seg], _generator(models, seed), progress, record, {})


def _target_start(plan: PrimitivePlan, beats: np.ndarray, frame: int) -> int:
    """First frame of a soft cue centred on the beat nearest ``frame`` among those whose cue fits inside
    a segment (:func:`lodge.primitives.soft_cue_range`); ``frame`` itself, moved inside its segment's
    range, when no beat fits."""
    half = PRIM_LEN // 2

    def fits(start: int) -> bool:
        seg = start // SEG_LEN
        if not 0 <= seg < plan.num_segments:
            return False
        lo, hi = soft_cue_range(seg, plan.num_frames)
        return lo <= start and start + PRIM_LEN <= hi

    starts = [int(b) - half for b in np.unique(beats) if fits(int(b) - half)]
    if starts:
        return min(starts, key=lambda s: (abs(s + half - frame), s))
    seg = min(frame // SEG_LEN, plan.num_segments - 1)
    lo, hi = soft_cue_range(seg, plan.num_frames)
    return int(np.clip(frame - half, lo, hi - PRIM_LEN))


def restyle(models: StageModels, dance: Dance, schedule: str | GenreSchedule, seed: int = 0,
            progress: ProgressFn | None = None) -> Dance:
    """Give the dance a new genre schedule: the segments whose genre changes get new soft primitives in
    their new genre (global stage) and new motion (local stage), with ``seed``; the others stay."""
    state = EditState.of(dance)
    genres = list(models.cfg.genres)
    new = GenreSchedule.coerce(schedule).resolved(genres).check_song(dance.num_frames)
    seed = check_seed(seed)
    before = state.schedule.segment_genres(state.plan, genres)
    after = new.segment_genres(state.plan, genres)
    segs = [int(s) for s in np.flatnonzero(before != after)]
    if not segs:
        raise EditError(f"The dance already dances {new} in every segment; nothing to change.")
    mirrors = np.ones(state.plan.num_segments, bool)  # the segments that stay keep their mirrored copies
    mirrors[segs] = segment_mirrors(models.cfg, after[segs])
    state.plan = state.plan.without_mirrors(mirrors)
    generator, timings = _generator(models, seed), {}
    if _has_soft_cues(state.options):
        t0 = time.perf_counter()
        _resample_soft(models, state, segs, after, generator, progress)
        timings["global"] = time.perf_counter() - t0
    record = {"op": "restyle", "seed": seed, "schedule": str(new), "previous": str(state.schedule)}
    state.schedule = new
    return _regenerate(models, dance, state, segs, generator, progress, record, timings)
