"""Plan stage: where every primitive of a song goes, which ones a dance shows, and their motion.

The placement itself is :func:`lodge.primitives.plan_primitives`; this module applies the request's
switches to it and reads primitives back out of the global stage's (W, 13, 8, 139) array.
"""
from __future__ import annotations

import numpy as np

from ..audio import MusicFeatures
from ..config import LodgeConfig
from ..constants import HARD_GUIDE, MOTION_DIM, PRIM_LEN, SEG_LEN
from ..dance import Primitive
from ..motion import mirror_motion
from ..primitives import N_HARD, N_SOFT, PrimitivePlan, plan_primitives
from ..sampling import SamplingOptions
from ..schedule import GenreSchedule


def plan_song(features: MusicFeatures, options: SamplingOptions, cfg: LodgeConfig | None = None,
              schedule: GenreSchedule | None = None) -> PrimitivePlan:
    """The primitive plan of a song: soft cues on its strongest beats (evenly spaced instead when
    ``options.beat_align`` is off). With the checkpoint's ``cfg`` and the song's genre ``schedule``, the
    soft cues of segments whose genre does not mirror (:meth:`lodge.config.LodgeConfig.mirrors`) get
    no mirrored copy."""
    beats = features.beats if options.beat_align else np.zeros(0, np.int64)
    plan = plan_primitives(features.num_frames, beats, features.onset_envelope)
    if cfg is None or schedule is None:
        return plan
    return plan.without_mirrors(segment_mirrors(cfg, schedule.segment_genres(plan, cfg.genres)))


def segment_mirrors(cfg: LodgeConfig, segment_genres: np.ndarray) -> np.ndarray:
    """(S,) whether each segment's soft cues get mirrored copies, from its genre's index."""
    return np.array([cfg.mirrors(int(g)) for g in np.asarray(segment_genres).reshape(-1)], bool)


def hard_cue(prims: np.ndarray, boundary: int) -> np.ndarray:
    """The (8, 139) hard cue at segment boundary ``boundary`` of (W, 13, 8, 139) primitives (the later
    window owns a boundary two windows share; the song's last boundary is the last window's)."""
    w, idx = divmod(boundary, N_HARD - 1)
    if w >= prims.shape[0]:
        w, idx = prims.shape[0] - 1, N_HARD - 1
    return prims[w, idx]


def placed_primitives(plan: PrimitivePlan, options: SamplingOptions) -> list[Primitive]:
    """The primitives a dance made with ``options`` shows, clipped to the song, sorted by start frame:
    none without primitives, hard cues only without soft cues, mirrored copies only with mirroring."""
    if not options.use_primitives:
        return []
    soft, mirror = options.soft_cues, options.mirror and options.soft_cues
    placed = [Primitive(int(f), "hard") for f in plan.hard_starts()]
    for w in range(plan.num_windows if soft else 0):
        for j in range(N_SOFT):
            placed.append(Primitive(int(plan.soft_starts[w, j]), "soft"))
            if mirror and plan.mirror_starts[w, j] >= 0:
                placed.append(Primitive(int(plan.mirror_starts[w, j]), "soft_mirror"))
    inside = [p for p in placed if p.start + p.length > 0 and p.start < plan.num_frames]
    return sorted(inside, key=lambda p: (p.start, p.kind))


def cue_motion(prims: np.ndarray, plan: PrimitivePlan, placed: list[Primitive]) -> np.ndarray:
    """(P, 8, 139) the global stage's motion of each placed primitive (mirrored for soft_mirror)."""
    by_start = {}
    for w in range(plan.num_windows):
        for j in range(N_SOFT):
            by_start[("soft", int(plan.soft_starts[w, j]))] = prims[w, N_HARD + j]
            by_start[("soft_mirror", int(plan.mirror_starts[w, j]))] = mirror_motion(prims[w, N_HARD + j])
    out = np.zeros((len(placed), PRIM_LEN, MOTION_DIM), np.float32)
    for i, p in enumerate(placed):
        if p.kind == "hard":
            out[i] = hard_cue(prims, (p.start + HARD_GUIDE) // SEG_LEN)
        else:
            out[i] = by_start[(p.kind, p.start)]
    return out
