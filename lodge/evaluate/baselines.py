"""Baselines for the evaluation table: EDGE-style sequential long generation and clip retrieval.

* :func:`edge_long_generation`: the pipeline's own local model run over overlapping 256-frame
  windows one after the other (no global stage, no primitives). Each window is conditioned on the
  frames the previous windows already produced in its overlap, by inpainting them at every denoising
  step except the last (as EDGE does), and the windows are joined by linear blending (EDGE's
  fade-in / fade-out weights). Its cost grows linearly with the song on any device, because the
  windows depend on each other.
* :func:`retrieval_dance`: random real clips of the requested genre from the training split, strung
  together with a short crossfade and the horizontal root carried on from clip to clip.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from ..audio import MusicFeatures
from ..constants import FPS, MOTION_DIM, ROOT_X, ROOT_Z, SEG_LEN
from ..dance import Dance
from ..motion import motion_to_joints
from ..sampling import SamplingOptions
from ..stages import SegmentCues, normalised_music, resolve_options, sample_segments

DEFAULT_OVERLAP = SEG_LEN // 2  # EDGE: 5 s windows, 2.5 s stride


def window_starts(num_frames: int, length: int = SEG_LEN, overlap: int = DEFAULT_OVERLAP) -> np.ndarray:
    """Start frames of overlapping windows of ``length`` frames with ``overlap`` shared frames that cover ``num_frames``."""
    if not 0 <= overlap < length:
        raise ValueError(f"overlap must be in [0, {length}), got {overlap}")
    step = length - overlap
    count = 1 + max(0, int(np.ceil((num_frames - length) / step)))
    return np.arange(count, dtype=np.int64) * step


def blend_weights(length: int, overlap: int, first: bool, last: bool) -> np.ndarray:
    """(length,) EDGE-style weights: a linear fade-in over the first ``overlap`` frames (unless ``first``)
    times a linear fade-out over the last ``overlap`` frames (unless ``last``); strictly positive."""
    w = np.ones(length, np.float64)
    if overlap > 0:
        ramp = np.arange(1, overlap + 1, dtype=np.float64) / (overlap + 1)
        if not first:
            w[:overlap] *= ramp
        if not last:
            w[length - overlap:] *= ramp[::-1]
    return w


def blend_windows(windows: Sequence[np.ndarray], starts: Sequence[int], num_frames: int, overlap: int) -> np.ndarray:
    """Join overlapping (L, D) windows placed at ``starts`` into (num_frames, D) by weighted averaging
    with :func:`blend_weights` (a linear crossfade where two windows overlap)."""
    dim = windows[0].shape[1]
    total = max(num_frames, int(starts[-1]) + len(windows[-1]))
    acc = np.zeros((total, dim), np.float64)
    norm = np.zeros(total, np.float64)
    for k, (win, start) in enumerate(zip(windows, starts)):
        w = blend_weights(len(win), overlap, k == 0, k == len(windows) - 1)
        acc[start:start + len(win)] += w[:, None] * win
        norm[start:start + len(win)] += w
    return (acc / norm[:, None])[:num_frames].astype(np.float32)


@torch.no_grad()
def edge_long_generation(
    pipe, features: MusicFeatures, genre: str, options: SamplingOptions | None = None,
    overlap: int = DEFAULT_OVERLAP, **overrides,
) -> Dance:
    """EDGE-style long dance: ``pipe``'s local model over overlapping windows, one after the other.

    Args:
        pipe: a :class:`lodge.pipeline.LodgePipeline` (its local network, normaliser and diffusion).
        features: the song's music features.
        genre: one of ``pipe.genres``.
        options: the seed, sampler, steps and guidance weight, as for the pipeline (the other fields
            do not apply: no primitives, no post-processing); None: the defaults.
        overlap: frames shared by consecutive 256-frame windows (EDGE: half a window). Larger
            overlaps than the stride work too: a frame is then the blend of more than two windows.
        **overrides: SamplingOptions fields to change (``seed=1, steps=10``).

    Returns:
        A :class:`Dance` with ``timings["local"]`` the diffusion seconds and ``timings["global"] = 0``.
    """

    t0 = time.perf_counter()
    opts = resolve_options(pipe, options, **overrides)
    genre_id = pipe.genre_index(genre)
    num_frames = features.num_frames
    starts = window_starts(num_frames, SEG_LEN, overlap)
    music = normalised_music(pipe, features.features, int(starts[-1]) + SEG_LEN)
    n_iter = len(pipe.diffusion.timesteps(opts.sampler, opts.steps))
    generator = torch.Generator(device=pipe.device).manual_seed(opts.seed)
    windows: list[np.ndarray] = []
    for k, start in enumerate(starts):
        cues = SegmentCues.empty(1)  # the first window: no cue at all
        if k > 0:
            # The overlap, the frames the previous windows already produced, is imposed at every
            # denoising step but the last, in the window's coordinates (root relative to its first frame).
            done = blend_windows(windows, starts[:k], int(starts[k - 1]) + SEG_LEN, overlap)
            cues.origins[0] = done[start, [ROOT_X, ROOT_Z]]
            known = done[start:]
            cues.soft_values[0, :len(known)] = known
            cues.soft_values[0, :, ROOT_X] -= cues.origins[0, 0]
            cues.soft_values[0, :, ROOT_Z] -= cues.origins[0, 1]
            cues.soft_mask[0, :len(known)] = True
        # EDGE's network sees the motion and the music only, never the cue frames as an input.
        win = sample_segments(pipe, music[start:start + SEG_LEN][None], np.full(1, genre_id), cues, opts, generator,
                              soft_fraction=(n_iter - 1) / n_iter if k > 0 else 1.0, show_cues=False)
        windows.append(win[0])
    motion = blend_windows(windows, starts, num_frames, overlap)
    motion[:, :4] = np.clip(motion[:, :4], 0.0, 1.0)
    seconds = time.perf_counter() - t0
    return Dance(
        motion=motion, joints=motion_to_joints(motion).astype(np.float32), genre=pipe.genres[genre_id],
        beats=np.asarray(features.beats, np.int64), primitives=[], segment_starts=starts,
        onset_envelope=features.onset_envelope, tempo=float(features.tempo),
        timings={"music": 0.0, "global": 0.0, "local": seconds}, device=pipe.device,
    )


def _align_root(clip: np.ndarray, target_xz: np.ndarray) -> np.ndarray:
    """Shift a clip horizontally so that its first frame's root is at ``target_xz``."""
    clip = clip.copy()
    clip[:, ROOT_X] += target_xz[0] - clip[0, ROOT_X]
    clip[:, ROOT_Z] += target_xz[1] - clip[0, ROOT_Z]
    return clip


def retrieval_dance(
    items: Sequence, genre: str, num_frames: int, seed: int = 0, clip_seconds: float = 4.0, crossfade: int = 6,
) -> np.ndarray:
    """A (num_frames, 139) dance strung together from random real clips of ``genre``.

    Args:
        items: training corpus items (``motion`` (T, 139), ``genre``); those of ``genre`` are used, or
            all items when the genre has none.
        genre: the genre to draw from.
        num_frames: length of the result.
        seed: random seed (which clips, where they start).
        clip_seconds: length of each clip (shorter items give whole-item clips).
        crossfade: frames over which consecutive clips are linearly crossfaded; each new clip is moved
            horizontally so that it starts where the dancer is at the start of the crossfade.

    Every frame outside the crossfades is a real frame of one training item of the genre, shifted
    horizontally.
    """
    pool = [it for it in items if it.genre == genre and len(it) > 2 * crossfade + 1] or \
        [it for it in items if len(it) > 2 * crossfade + 1]
    if not pool:
        raise ValueError("no training item long enough for the retrieval baseline")
    rng = np.random.default_rng(seed)
    clip_len = max(2 * crossfade + 2, int(round(clip_seconds * FPS)))
    out = np.zeros((0, MOTION_DIM), np.float32)
    while len(out) < num_frames:
        item = pool[int(rng.integers(len(pool)))]
        n = min(clip_len, len(item))
        start = int(rng.integers(0, len(item) - n + 1))
        clip = np.asarray(item.motion[start:start + n], np.float32)
        if len(out) == 0:
            out = _align_root(clip, np.zeros(2, np.float32))
            continue
        fade = min(crossfade, len(out), n - 1)
        clip = _align_root(clip, out[len(out) - fade, [ROOT_X, ROOT_Z]])
        if fade > 0:
            a = (np.arange(1, fade + 1, dtype=np.float32) / (fade + 1))[:, None]
            out[-fade:] = (1 - a) * out[-fade:] + a * clip[:fade]
        out = np.concatenate([out, clip[fade:]])
    return out[:num_frames]
