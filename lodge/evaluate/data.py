"""Test items as evaluation inputs: music features from the stored columns, cuts, looped songs."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..audio import MusicFeatures
from ..constants import FPS
from ..data.dataset import CorpusItem
from ..motion import motion_to_joints

ONSET_COL = 0  # onset envelope
BEAT_COL = 34  # one-hot beats (see lodge.audio.music_features)


def tempo_from_beats(beats: np.ndarray, fps: int = FPS) -> float:
    """Tempo (BPM) from the median beat interval; 0 with fewer than two beats."""
    if len(beats) < 2:
        return 0.0
    return float(60.0 * fps / max(float(np.median(np.diff(np.sort(beats)))), 1e-6))


def features_from_music(music: np.ndarray) -> MusicFeatures:
    """:class:`MusicFeatures` of a stored (T, 35) music array (onset column 0, one-hot beats column 34)."""
    music = np.asarray(music, np.float32)
    beats = np.nonzero(music[:, BEAT_COL] > 0.5)[0].astype(np.int64)
    return MusicFeatures(features=music, beats=beats, tempo=tempo_from_beats(beats),
                         onset_envelope=music[:, ONSET_COL].copy())


def cut_item(item: CorpusItem, seconds: float | None) -> CorpusItem:
    """The item's first ``seconds`` (motion and music together); the item itself when None."""
    if seconds is None:
        return item
    n = max(2, int(round(seconds * FPS)))
    return replace(item, motion=item.motion[:n], music=item.music[:n])


def item_joints(item: CorpusItem) -> np.ndarray:
    """(T, 22, 3) world joints of an item's motion."""
    return np.asarray(motion_to_joints(np.asarray(item.motion, np.float32)), np.float32)


def looped_song(items: Sequence[CorpusItem], seconds: float) -> MusicFeatures:
    """A song of ``seconds`` made by playing the items' music one after the other, looped."""
    if not items:
        raise ValueError("no items to loop")
    frames = int(round(seconds * FPS))
    music = np.concatenate([np.asarray(it.music, np.float32) for it in items])
    reps = int(np.ceil(frames / len(music)))
    return features_from_music(np.tile(music, (reps, 1))[:frames])


def spread(items: Sequence[CorpusItem], k: int) -> list[CorpusItem]:
    """``k`` items evenly spread over the list (in split.json order, grouped by take), not just its first."""
    if k >= len(items):
        return list(items)
    if k <= 0:
        return []
    pick = np.unique(np.linspace(0, len(items) - 1, k).round().astype(int))
    return [items[i] for i in pick]


def per_genre(items: Sequence[CorpusItem], k: int) -> list[CorpusItem]:
    """At most ``k`` items of each genre, evenly spread within the genre; split order kept."""
    chosen: set[int] = set()
    for genre in sorted({it.genre for it in items}):
        idx = [i for i, it in enumerate(items) if it.genre == genre]
        if k > 0:
            chosen.update(idx[j] for j in np.unique(np.linspace(0, len(idx) - 1, k).round().astype(int)))
    return [it for i, it in enumerate(items) if i in chosen]
