"""Music jitter: each training example's music, shifted as a whole, so that no song is recognised by
its sound alone.

Every dance of the corpus comes with its own music (music synthesised for it, or a song it was
re-timed to). A network can then learn which pose goes where from the song's timbre, its MFCCs and
chroma, and need not read its noisy input at all. Session 19: denoising real breaking primitives from
t = 900, nearly pure noise, the global network put the low (floor) ones at the right height on
training music (0.21 m above the feet, real 0.21) and not on test music (0.77, real 0.45), where even
at t = 100 it lifted them (0.58); it never sampled a floor pose on a new song.

:func:`jitter_music` adds to each example's continuous music columns (onset envelope, MFCC, chroma:
not the one-hot onset and beat marks) one offset per column, drawn anew for every example, in
normalised units. What the music does over time (its beats, its onsets, how its timbre changes) is
kept; its absolute sound is blurred, as a new song's would differ from every training song's.
"""
from __future__ import annotations

import numpy as np
import torch

from ..audio import MARK_COLUMNS


def jitter_music(music: torch.Tensor, sigma: float, rng: np.random.Generator) -> torch.Tensor:
    """(B, T, 35) normalised music with an offset ~ N(0, sigma^2) per example and continuous column
    added (the one-hot mark columns left as they are); ``sigma`` 0 returns ``music`` itself."""
    if sigma <= 0:
        return music
    continuous = min(MARK_COLUMNS)
    offsets = rng.normal(0.0, sigma, size=(music.shape[0], 1, continuous))
    shifted = music.clone()
    shifted[..., :continuous] += torch.as_tensor(offsets, dtype=music.dtype, device=music.device)
    return shifted
