"""Real songs that may be redistributed, for re-timing dances to: Debian's fretsonfire-songs-sectoid."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import load_audio, music_features

SECTOID_DIR = Path("/usr/share/games/fretsonfire/data/songs/sectoid")
SECTOID_LICENSE = (
    "MIT (Expat) license: songs, performances and fret files Copyright (c) 2006/2007 Carlos Viola Iborra "
    "<karuritosu@gmail.com>; Debian package fretsonfire-songs-sectoid, see "
    "/usr/share/doc/fretsonfire-songs-sectoid/copyright"
)


@dataclass
class Song:
    """A song's wave (15360 Hz mono), beats (30 fps frames) and where it came from."""

    name: str
    wave: np.ndarray
    beats: np.ndarray
    tempo: float
    source: str
    license: str


def sectoid_song_dirs(root: Path = SECTOID_DIR) -> list[Path]:
    """Song folders (each with song.ogg and guitar.ogg), sorted by name; empty if the package is absent."""
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if (p / "song.ogg").exists())


def load_sectoid_song(folder: Path) -> Song:
    """The full mix (backing track + guitar track) of one song, with its beats."""
    wave = load_audio(folder / "song.ogg", max_seconds=None)
    if (folder / "guitar.ogg").exists():
        guitar = load_audio(folder / "guitar.ogg", max_seconds=None)
        n = min(len(wave), len(guitar))
        wave = wave[:n] + guitar[:n]
    wave = (0.9 * wave / max(float(np.abs(wave).max()), 1e-6)).astype(np.float32)
    feats = music_features(wave)
    return Song(folder.name, wave, feats.beats, feats.tempo, f"fretsonfire-songs-sectoid: {folder.name}", SECTOID_LICENSE)
