"""The realism table: generated dances per genre against the real dancers of that genre.

Each generated dance gives speed, pose spread, heading snaps per minute (its joints) and primitive
energy (the forward kinematics of every primitive the global stage placed in it); dances are pooled
per genre weighted by duration and compared with the shipped real-dancer reference
(:mod:`lodge.evaluate.realism_reference`) against the bars of :mod:`lodge.metrics.realism_bars`.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..dance import Dance
from ..metrics.realism import RealismStats, pool_stats, realism_stats
from ..metrics.realism_bars import bars_text, realism_verdict
from .data import item_joints
from .realism_reference import REFERENCE_PATH, piece_stats
from ..motion import motion_to_joints
from ..sampling import SamplingOptions, sampling_options
from .songs import SongEntry, song_features


def primitive_joints(dance: Dance) -> np.ndarray | None:
    """(P, 8, 22, 3) joints of the primitives the global stage made for `dance`; None if it has none."""
    if dance.primitive_motion is None or len(dance.primitive_motion) == 0:
        return None
    return np.asarray(motion_to_joints(np.asarray(dance.primitive_motion, np.float32)), np.float64)


def dance_realism(dance: Dance) -> RealismStats:
    """Realism measures of one generated dance, its placed primitives included."""
    return realism_stats(dance.joints, primitive_joints(dance), fps=dance.fps)


def realism_table(stats: Iterable[tuple[str, RealismStats]], reference: dict[str, RealismStats]) -> dict:
    """Pool (genre, stats) pairs per genre and compare each genre with its real dancers.

    Returns {"bars": ..., "genres": [row, ...], "pass": all genres pass}; each row has genre, dances,
    minutes, generated and real stats (dicts; real None when the reference lacks the genre) and the
    verdict keys of :func:`lodge.metrics.realism_bars.realism_verdict`.
    """
    by_genre: dict[str, list[RealismStats]] = defaultdict(list)
    for genre, s in stats:
        by_genre[genre].append(s)
    rows = []
    for genre in sorted(by_genre):
        gen = pool_stats(by_genre[genre])
        real = reference.get(genre)
        row = {"genre": genre, "dances": len(by_genre[genre]), "minutes": gen.minutes,
               "generated": gen.to_dict(), "real": None if real is None else real.to_dict()}
        row.update(realism_verdict(gen, real) if real is not None else {"pass": False})
        rows.append(row)
    return {"bars": bars_text(), "genres": rows, "pass": bool(rows) and all(r["pass"] for r in rows)}


def item_realism(gen, spec, reference: dict[str, RealismStats]) -> dict:
    """Realism table of one Lodge row on the generator's test items (generating them if not cached).

    Args:
        gen: a :class:`lodge.evaluate.rows.Generator`; each item is grouped under the genre it was
            generated in.
        spec: the row (a Lodge row, so that its primitives are kept).
    """
    joints, _ = gen.dances(spec)
    prims = gen.primitives.get(spec.key(), [None] * len(joints))
    stats = [realism_stats(j, p) for j, p in zip(joints, prims)]
    return realism_table(zip(gen.genres, stats), reference)


def truth_realism(items, genres: Sequence[str], reference: dict[str, RealismStats]) -> dict:
    """Realism table of the test items' own real dances (the ground truth on the same music), grouped
    under ``genres`` as the generated ones are and measured the same way, their primitives cut where
    generation would place them, as the reference's pieces are
    (:func:`lodge.evaluate.realism_reference.piece_stats`).

    A genre's few test takes need not move like all of its takes: this table says how far the ground
    truth itself stands from the bars, so that a generated ratio can be read against it.
    """
    return realism_table(zip(genres, (piece_stats(item_joints(item)) for item in items)), reference)


def song_realism(pipe, songs: list[SongEntry], options: SamplingOptions | None, reference: dict[str, RealismStats],
                 log=None) -> dict:
    """Generate each whole song in its genre (seed 0, ``options`` as the Lodge row) and tabulate realism.

    Returns {"songs": realism table per genre or None, "song_dances": one row per song and genre}.
    """
    features: dict[Path, object] = {}
    pairs, rows = [], []
    for song in songs:
        if song.path not in features:
            features[song.path] = song_features(song.path)
        t0 = time.perf_counter()
        dance = pipe(features[song.path], song.genre, sampling_options(options, seed=0, max_seconds=None))
        stats = dance_realism(dance)
        pairs.append((song.genre, stats))
        real = reference.get(song.genre)
        row = {"song": song.name, "genre": song.genre, "seconds": dance.duration, "generated": stats.to_dict(),
               "generation_s": time.perf_counter() - t0}
        row.update(realism_verdict(stats, real) if real is not None else {"pass": False})
        rows.append(row)
        if log:
            log(f"  realism song {song.name} ({song.genre}, {dance.duration:.0f} s): speed {stats.speed:.3f} m/s, "
                f"spread {stats.spread:.3f} m ({row['generation_s']:.1f} s)")
    return {"songs": realism_table(pairs, reference) if pairs else None, "song_dances": rows}


def reference_source(path: str | Path | None = None) -> str:
    """Where the real-dancer reference comes from, in one line."""
    path = Path(path or REFERENCE_PATH)
    data = json.loads(path.read_text())
    minutes = sum(g.get("minutes", 0.0) for g in data.get("genres", {}).values())
    takes = sum(g.get("takes", 0) for g in data.get("genres", {}).values())
    return f"`{path.name}` (CMU dance mocap, {takes} takes, {minutes:.0f} min; made by `{data.get('command', '?')}`)"
