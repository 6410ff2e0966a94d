"""Local stage: the 256-frame segments of a song, all (or chosen ones) in one batch, steered by cues.

Each segment is generated in its own coordinates (horizontal root relative to its first frame; for
canonical-heading checkpoints also turned to face +z) and moved back into song coordinates. Its cues
come from the global stage's primitives (:func:`segment_cues`):

* hard cues at both ends, inpainted at every denoising step, so neighbouring segments join exactly
  (also when only some segments are re-generated: their ends are the same primitives);
* soft cues and their mirrored copies, imposed (noised to the current step) during the first fraction
  ``soft`` of the steps, each turned to face the way the network's latest prediction faces around it
  and moved to where it puts the dancer (``fit_soft_cues``).

Networks trained with ``cue_input`` also see every cue frame as an input beside the noisy motion.
:func:`sample_segments` is the batch sampler under all of it, which the EDGE-style baseline reuses
with cues of its own.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..constants import HARD_GUIDE, MOTION_DIM, PRIM_LEN, ROOT_SLICE, ROOT_X, ROOT_Z, SEGS_PER_WINDOW, SEG_LEN
from ..motion import canonical_transform, heading, invert_planar, mirror_motion, placement_offsets, planar_transform, planar_transforms
from ..primitives import N_HARD, PrimitivePlan
from ..sampling import SamplingOptions
from .base import ProgressFn, StageModels, StageProgress, genre_guidance, resolve_options, speed_condition
from .plan import hard_cue
from .segment_speed import segment_speed_factors



@dataclass
class SegmentCues:
    """What the sampler imposes on each of S segments, in segment coordinates and data units.

    Attributes:
        hard_mask, hard_values: (S, 256, 139) inpainted at every step.
        soft_mask, soft_values: (S, 256, 139) imposed during the first fraction s of the steps.
        soft_starts: (segment, first frame) of every imposed 8-frame soft cue (the ones fitted to the
            dancer at every step).
        origins: (S, 2) root x, z in song coordinates of each segment's origin (added back to its motion).
        frames: per segment, the planar transform (theta, offset) from song into segment coordinates
            (canonical-heading checkpoints), inverted on the way back; None: no turn.
    """

    hard_mask: np.ndarray
    hard_values: np.ndarray
    soft_mask: np.ndarray
    soft_values: np.ndarray
    soft_starts: list[tuple[int, int]]
    origins: np.ndarray
    frames: list[tuple[float, np.ndarray]] | None = None

    @classmethod
    def empty(cls, segments: int) -> "SegmentCues":
        """No cue at all on ``segments`` segments, each at the origin."""
        shape = (segments, SEG_LEN, MOTION_DIM)
        return cls(hard_mask=np.zeros(shape, bool), hard_values=np.zeros(shape, np.float32),
                   soft_mask=np.zeros(shape, bool), soft_values=np.zeros(shape, np.float32),
                   soft_starts=[], origins=np.zeros((segments, 2), np.float32))

    @property
    def num_segments(self) -> int:
        """S."""
        return len(self.hard_mask)

    def select(self, segments: Sequence[int]) -> "SegmentCues":
        """The cues of the chosen segments only, in that order."""
        idx = np.asarray(segments, np.int64)
        where = {int(s): i for i, s in enumerate(idx)}
        return SegmentCues(
            self.hard_mask[idx], self.hard_values[idx], self.soft_mask[idx], self.soft_values[idx],
            [(where[s], f) for s, f in self.soft_starts if s in where], self.origins[idx],
            None if self.frames is None else [self.frames[int(s)] for s in idx],
        )

    def fixed(self, soft: float) -> np.ndarray:
        """(S, 256) frames the sampler writes exactly: hard cues always, soft cues (their pose) when
        imposed to the last step (``soft`` >= 1)."""
        fixed = self.hard_mask.any(-1)
        if soft >= 1.0:
            fixed |= self.soft_mask[..., ROOT_SLICE.stop:].any(-1)
        return fixed


def segment_cues(plan: PrimitivePlan, prims: np.ndarray, options: SamplingOptions,
                 canonical_heading: bool) -> SegmentCues:
    """The cues of every segment of a song from its (W, 13, 8, 139) primitives in song coordinates:
    the hard cues at both ends (unless ``use_primitives`` is off), the two soft cues (``soft_cues``)
    and their mirrored copies one bar later (``mirror``; where they stand is the model's call: the
    soft-cue fit moves them there, or without ``fit_soft_cues`` their horizontal root is not imposed)."""
    s = plan.num_segments
    use_primitives = options.use_primitives
    use_soft, mirror = options.soft_cues and use_primitives, options.mirror and options.soft_cues
    cues = SegmentCues.empty(s)
    hard_values, soft_values, hard_mask, soft_mask = cues.hard_values, cues.soft_values, cues.hard_mask, cues.soft_mask
    origins = cues.origins
    # Canonical-heading checkpoints: each segment in its own frame (first frame at the origin facing +z).
    frames = [canonical_transform(hard_cue(prims, seg)[HARD_GUIDE]) for seg in range(s)] if canonical_heading else None
    for seg in range(s):
        start_cue, end_cue = hard_cue(prims, seg), hard_cue(prims, seg + 1)
        if frames is not None:
            start_cue, end_cue = (planar_transform(c, *frames[seg]) for c in (start_cue, end_cue))
        else:
            origins[seg] = start_cue[HARD_GUIDE, [ROOT_X, ROOT_Z]]
        if not use_primitives:
            continue
        hard_values[seg, :HARD_GUIDE] = start_cue[HARD_GUIDE:]
        hard_mask[seg, :HARD_GUIDE] = True
        hard_values[seg, -HARD_GUIDE:] = end_cue[:HARD_GUIDE]
        hard_mask[seg, -HARD_GUIDE:] = True
        w, local = divmod(seg, SEGS_PER_WINDOW)
        for j in (2 * local, 2 * local + 1) if use_soft else ():
            cue = planar_transform(prims[w, N_HARD + j], *frames[seg]) if frames is not None else prims[w, N_HARD + j]
            start = plan.soft_starts[w, j] - seg * SEG_LEN
            soft_values[seg, start:start + PRIM_LEN] = cue
            soft_mask[seg, start:start + PRIM_LEN] = True
            cues.soft_starts.append((seg, start))
            m_start = plan.mirror_starts[w, j] - seg * SEG_LEN
            if mirror and plan.mirror_starts[w, j] >= 0:
                soft_values[seg, m_start:m_start + PRIM_LEN] = mirror_motion(cue)
                soft_mask[seg, m_start:m_start + PRIM_LEN] = True
                cues.soft_starts.append((seg, m_start))
                # Where the dancer is one bar later is the local model's call, not the mirror's: with
                # fit_soft_cues the fit puts the mirror there (so its own travel holds), without it
                # the model's horizontal root stands.
                if not options.fit_soft_cues:
                    soft_mask[seg, m_start:m_start + PRIM_LEN, [ROOT_X, ROOT_Z]] = False
    # Segment coordinates: horizontal root relative to the segment's first frame.
    for values in (hard_values, soft_values):
        values[:, :, ROOT_X] -= origins[:, None, 0]
        values[:, :, ROOT_Z] -= origins[:, None, 1]
    return replace(cues, frames=frames)


@torch.no_grad()
def sample_segments(
    models: StageModels, music: torch.Tensor, genres: np.ndarray | torch.Tensor, cues: SegmentCues,
    options: SamplingOptions, generator: torch.Generator, progress: ProgressFn | None = None, *,
    soft_fraction: float, show_cues: bool = True, speed_factors: np.ndarray | None = None,
) -> np.ndarray:
    """Sample S segments in one batch under ``cues``; (S, 256, 139) motion in song coordinates, data units.

    Args:
        models: the local network, normaliser and diffusion (:class:`lodge.stages.StageModels`).
        music: (S, 256, 35) normalised music of each segment.
        genres: (S,) genre index of each segment.
        cues: what to impose (segment coordinates) and how to move each segment back.
        options: sampler, steps, guidance weight and ``fit_soft_cues``.
        soft_fraction: share of the denoising steps that see the soft cues.
        show_cues: let cue-input networks see the cue frames as input (off: the network is called
            with the noisy motion, music, genre and drop mask only).
        speed_factors: (S,) factors on each segment's told speed (speed-conditioned networks); None: 1.
    """
    options = resolve_options(models, options)
    s, dev = cues.num_segments, models.device
    normalizer = models.normalizer.for_network(models.cfg.local)  # the space the local network denoises in
    to_t = lambda a: torch.as_tensor(a, device=dev)  # noqa: E731
    hard_v = normalizer.normalize(to_t(cues.hard_values))
    soft_v = normalizer.normalize(to_t(cues.soft_values))
    genre = torch.as_tensor(genres, dtype=torch.long, device=dev)

    # Cue-input networks also see every cue (hard, and soft when used) as an input at every step;
    # `current` holds the cue values, which the soft-cue fit below updates.
    cue_frames = to_t(cues.hard_mask.any(-1) | (cues.soft_mask.any(-1) & (soft_fraction > 0)))
    current = {"values": torch.where(to_t(cues.hard_mask), hard_v, soft_v)}

    speed_kwargs, speed_guidance = speed_condition(models, models.local, genres, options, speed_factors)

    def denoise(x_t, t, drop_mask, genre_drop=None, speed_drop=None):
        n = x_t.shape[0] // s
        extra = {} if genre_drop is None else {"genre_drop": genre_drop}  # asked only when guiding on the genre
        extra.update(speed_kwargs(n, speed_drop))
        if not show_cues:
            return models.local(x_t, t, music.repeat(n, 1, 1), genre.repeat(n), drop_mask, **extra)
        return models.local(x_t, t, music.repeat(n, 1, 1), genre.repeat(n), drop_mask,
                            cue_values=current["values"].repeat(n, 1, 1), cue_mask=cue_frames.repeat(n, 1), **extra)

    cue_values = np.where(cues.hard_mask, cues.hard_values, cues.soft_values)  # the soft cues reach the hard ones

    def fit(x0_norm: torch.Tensor) -> torch.Tensor:
        predicted = normalizer.denormalize(x0_norm).float().cpu().numpy()
        fitted = normalizer.normalize(to_t(fit_cues(cue_values, predicted, cues.soft_starts, cues.hard_mask)))
        current["values"] = torch.where(to_t(cues.hard_mask), hard_v, fitted)
        return fitted

    x0 = models.diffusion.sample(
        denoise, (s, SEG_LEN, MOTION_DIM), sampler=options.sampler, steps=options.steps,
        guidance_weight=options.guidance_weight, genre_guidance_weight=genre_guidance(models, genres, options, "local"),
        speed_guidance_weight=speed_guidance,
        hard_mask=to_t(cues.hard_mask) if cues.hard_mask.any() else None, hard_values=hard_v,
        soft_mask=to_t(cues.soft_mask) if cues.soft_mask.any() else None, soft_values=soft_v,
        soft_fraction=soft_fraction, soft_fit=fit if options.fit_soft_cues and cues.soft_starts else None,
        generator=generator, device=dev, progress=StageProgress("local", progress),
    )
    motion = normalizer.denormalize(x0).float().cpu().numpy()
    motion[:, :, ROOT_X] += cues.origins[:, None, 0]
    motion[:, :, ROOT_Z] += cues.origins[:, None, 1]
    for seg, frame in enumerate(cues.frames or ()):
        motion[seg] = planar_transform(motion[seg], *invert_planar(*frame))
    return motion


@dataclass
class LocalInputs:
    """What the local stage samples from.

    Attributes:
        music: (at least S * 256, 35) the song's normalised music (:func:`lodge.stages.music.normalised_music`).
        genres: (S,) genre index of each segment.
        plan: the song's primitive plan (S segments).
        primitives: (W, 13, 8, 139) primitives in song coordinates (``GlobalResult.primitives``).
        segments: indices of the segments to generate, in one batch; None: all of them.
    """

    music: torch.Tensor
    genres: np.ndarray
    plan: PrimitivePlan
    primitives: np.ndarray
    segments: Sequence[int] | None = None

    def __post_init__(self) -> None:
        s = self.plan.num_segments
        self.genres = np.asarray(self.genres, np.int64).reshape(-1)
        if self.genres.shape != (s,):
            raise ValueError(f"genres: expected one genre index per segment ({s}), got shape {self.genres.shape}")
        if self.music.shape[0] < s * SEG_LEN:
            raise ValueError(f"music: expected at least {s * SEG_LEN} frames, got {self.music.shape[0]}")
        if self.segments is not None:
            idx = np.asarray(self.segments, np.int64).reshape(-1)
            if len(idx) == 0 or idx.min() < 0 or idx.max() >= s or len(set(idx.tolist())) != len(idx):
                raise ValueError(f"segments: expected distinct indices from 0 to {s - 1}, got {list(self.segments)}")
            self.segments = idx


@dataclass
class LocalResult:
    """The generated segments, in song coordinates and data units, before post-processing.

    Attributes:
        segments: (n,) which segments (song order for a full generation).
        motion: (n, 256, 139) their motion.
        fixed: (n, 256) frames the sampler wrote exactly (for join smoothing).
    """

    segments: np.ndarray
    motion: np.ndarray
    fixed: np.ndarray

    def song_motion(self) -> tuple[np.ndarray, np.ndarray]:
        """(n * 256, 139) motion and (n * 256,) fixed frames, the segments one after the other (the
        whole song's, padded to whole segments, for a full generation)."""
        return self.motion.reshape(-1, MOTION_DIM), self.fixed.reshape(-1)

    def write_into(self, motion: np.ndarray, fixed: np.ndarray | None = None) -> None:
        """Write these segments into a song-long (S * 256, 139) motion (and (S * 256,) fixed frames) in place."""
        for k, seg in enumerate(self.segments):
            motion[seg * SEG_LEN:(seg + 1) * SEG_LEN] = self.motion[k]
            if fixed is not None:
                fixed[seg * SEG_LEN:(seg + 1) * SEG_LEN] = self.fixed[k]


@torch.no_grad()
def sample_local(models: StageModels, inputs: LocalInputs, options: SamplingOptions,
                 generator: torch.Generator, progress: ProgressFn | None = None) -> LocalResult:
    """Generate the chosen segments (all by default) in one batch, steered by the primitives' cues.

    ``options`` gives the sampler, steps, guidance, soft-cue strength s and the cue switches;
    ``generator`` the noise (its own for a partial re-generation).
    """
    options = resolve_options(models, options)
    plan, s = inputs.plan, inputs.plan.num_segments
    cues = segment_cues(plan, inputs.primitives, options, models.cfg.canonical_heading)
    music = inputs.music[: s * SEG_LEN].reshape(s, SEG_LEN, -1)
    genres = inputs.genres
    segments = np.arange(s, dtype=np.int64)
    if inputs.segments is not None:
        segments = np.asarray(inputs.segments, np.int64)
        cues, music, genres = cues.select(segments), music[torch.as_tensor(segments, device=music.device)], genres[segments]
    soft = float(options.soft) if options.use_primitives else 0.0
    # Each segment told its speed from the whole song's primitives, also when only some are re-generated.
    factors = segment_speed_factors(inputs.primitives, plan, models.cfg.segment_speed_power,
                                    inputs.genres)[segments] if options.use_primitives else None
    motion = sample_segments(models, music, genres, cues, options, generator, progress, soft_fraction=soft,
                             speed_factors=factors)
    return LocalResult(segments=segments, motion=motion, fixed=cues.fixed(soft))


# A soft cue is fitted where the network puts the dancer, but no farther from the segment's hard cues
# than a dancer travels at this speed (m per frame, 1.5 m/s) in the frames between them: the network's
# early predictions can put the dancer metres from the hard cue a third of a second on, and a cue fitted
# there left the body a dash of 5-9 m/s to make (the CMU dancers' root never passes 2.5 m/s).
CUE_REACH_STEP = 0.05
# A soft cue faces the way the predicted dancer faces this many frames before and after it, not at its
# own middle frame: there the prediction soon follows the imposed cue, so the cue kept whatever heading
# the first, noisiest predictions gave it, and the dancer whipped round in the last frames before it
# (test split, session 16: heading snaps per minute breaking 49 -> 31, indian 19 -> 6.3, salsa 23 -> 8.4,
# party 8.4 -> 2.4, swing 2.7 -> 0, the real dancers' 32, 12, 21, 0.8 and 0; 4 frames left party at 6.0).
CUE_HEADING_GAP = 8


def fit_cues(values: np.ndarray, predicted: np.ndarray, cue_starts: list[tuple[int, int]],
             hard_mask: np.ndarray | None = None) -> np.ndarray:
    """Turn each 8-frame cue to face the way the predicted dancer faces just outside it
    (:data:`CUE_HEADING_GAP` frames before its first and after its last frame) and shift it so that its
    middle frame stands where the predicted dancer does; the cue's pose, root height and own motion are
    kept. With ``hard_mask``, each cue is then moved (the least distance) to where the segment's
    nearest hard cue frames before and after it are within reach at :data:`CUE_REACH_STEP` per frame.

    Args:
        values: (S, 256, 139) cue values in segment coordinates (other frames are copied unchanged);
            at the ``hard_mask`` frames, the hard cues.
        predicted: (S, 256, 139) the local model's current x0 prediction, same coordinates.
        cue_starts: (segment, first frame) of each cue.
        hard_mask: (S, 256) or (S, 256, 139) frames of the hard cues in ``values``; None: no reach limit.
    """
    out = np.array(values, dtype=np.float32, copy=True)
    if not cue_starts:
        return out
    mid = PRIM_LEN // 2
    where = np.asarray(cue_starts, dtype=np.int64)
    segs, frames = where[:, :1], where[:, 1:] + np.arange(PRIM_LEN)  # (N, 1), (N, 8)
    cues = values[segs, frames]  # (N, 8, 139)
    last = predicted.shape[1] - 1
    before = predicted[where[:, 0], np.clip(where[:, 1] - CUE_HEADING_GAP, 0, last)]
    after = predicted[where[:, 0], np.clip(where[:, 1] + PRIM_LEN - 1 + CUE_HEADING_GAP, 0, last)]
    turn_in, turn_out = heading(before) - heading(cues[:, 0]), heading(after) - heading(cues[:, -1])
    thetas = np.arctan2(np.sin(turn_in) + np.sin(turn_out), np.cos(turn_in) + np.cos(turn_out))
    offsets = placement_offsets(cues[:, mid], predicted[where[:, 0], where[:, 1] + mid], thetas)
    fitted = planar_transforms(cues, thetas, offsets)
    if hard_mask is not None:
        hard = np.asarray(hard_mask, bool)
        hard = hard.any(-1) if hard.ndim == 3 else hard
        shift = _reach_shifts(fitted[:, :, [ROOT_X, ROOT_Z]].astype(np.float64), where, hard,
                              np.asarray(values[..., [ROOT_X, ROOT_Z]], np.float64))
        fitted[:, :, ROOT_X] += shift[:, None, 0].astype(np.float32)
        fitted[:, :, ROOT_Z] += shift[:, None, 1].astype(np.float32)
    out[segs, frames] = fitted
    return out


def _reach_shifts(cue_roots: np.ndarray, where: np.ndarray, hard: np.ndarray, hard_roots: np.ndarray,
                  iterations: int = 30) -> np.ndarray:
    """(N, 2) the shortest horizontal shift of each cue ((N, 8, 2) root x, z) that puts its first frame
    within reach of the segment's last hard frame before it and its last frame within reach of the
    first hard frame after it (:data:`CUE_REACH_STEP` per frame between them); two reach discs that do
    not meet: the point between them that misses each by the same share of its radius."""
    n = len(where)
    centres = np.zeros((n, 2, 2))  # per cue: the shift that would put it on each hard frame
    radii = np.full((n, 2), np.inf)
    for i, (seg, start) in enumerate(where):
        before = np.flatnonzero(hard[seg, :start])
        after = np.flatnonzero(hard[seg, start + PRIM_LEN:]) + start + PRIM_LEN
        if len(before):
            centres[i, 0] = hard_roots[seg, before[-1]] - cue_roots[i, 0]
            radii[i, 0] = CUE_REACH_STEP * (start - before[-1])
        if len(after):
            centres[i, 1] = hard_roots[seg, after[0]] - cue_roots[i, -1]
            radii[i, 1] = CUE_REACH_STEP * (after[0] - (start + PRIM_LEN - 1))

    def project(x: np.ndarray, k: int) -> np.ndarray:  # onto disc k (an infinite radius: no limit)
        d = x - centres[:, k]
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        scale = np.where(norm > radii[:, k:k + 1], radii[:, k:k + 1] / np.maximum(norm, 1e-12), 1.0)
        return centres[:, k] + d * scale

    # Dykstra's alternating projections: the point of the intersection nearest to no shift at all.
    x, p, q = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2))
    for _ in range(iterations):
        y = project(x + p, 0)
        p = x + p - y
        x = project(y + q, 1)
        q = y + q - x
    gap = np.linalg.norm(centres[:, 1] - centres[:, 0], axis=-1)
    apart = np.isfinite(radii).all(-1) & (gap > radii.sum(-1))
    if apart.any():
        share = radii[apart, 0] / np.maximum(radii[apart].sum(-1), 1e-12)
        x[apart] = centres[apart, 0] + share[:, None] * (centres[apart, 1] - centres[apart, 0])
    return x
