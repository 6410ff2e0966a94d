"""A genre's genre guidance weight in one stage, against its real dancers, on real songs.

    python benchmarks/stage_genre_guidance.py --data CORPUS [--stage local|global] [--checkpoint DIR]
        [--genres swing salsa] [--weights 0 2 4 6] [--songs train] [--seconds 90] [--seed 0]

The calibration (`python -m lodge calibrate`) measures on fresh music played on training dances'
beats, where the local network follows the genre; on real songs it follows the music more, and a
genre's posture drifts to the all-genre average (session 24: swing danced upright on songs, 5 degrees
of spine lean against its dancers' 19; session 26: salsa's primitives raised a wrist above the
shoulder half as often as its real dancers'). ``local_genre_guidance_weight`` and
``global_genre_guidance_weight`` in a genre's calibration (:class:`lodge.config.LodgeConfig`) guide
one stage alone on the genre. This script dances each genre on each song with each weight in the
chosen ``--stage`` (the other stage keeps the checkpoint's weight) and prints, per genre and weight,
the mean over the songs of what the realism table reads (speed, pose-spread ratio, heading snaps per
minute) and the posture table (median spine lean, wrist above shoulder, in the dance and in its
primitives), with the share of frames faster than the genre's training dances' 99th percentile
(theirs: 1 %), beside the real dancers (``lodge/metrics/realism_reference.json``; the real
primitives' wrist share is not in it and is left blank).

``--songs train`` (the default) takes the corpus' training songs (``split.json`` "songs" / "train"),
so that the weight is chosen without the held-out test song and the shipped examples, on which
``python -m lodge evaluate --songs default`` then reports it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from lodge.config import STAGE_GENRE_GUIDANCE  # noqa: E402
from lodge.constants import FPS  # noqa: E402
from lodge.metrics.realism import RealismStats, arms_up_share, body_frame_speeds, realism_stats  # noqa: E402
from lodge.motion import motion_to_joints  # noqa: E402

COLUMNS = ("speed", "spread", "snaps/min", "lean", "wrists up %", "fast %", "primitives' wrists up %")


def training_songs(corpus: Path) -> list[Path]:
    """The corpus' training songs (fretsonfire folders) that are installed here."""
    from lodge.evaluate.songs import corpus_songs

    return corpus_songs(corpus, "train")


def primitives_arms_up(primitive_motion: np.ndarray | None) -> float:
    """Share of the frames of a dance's (P, 8, 139) primitives with a wrist above its shoulder (NaN
    without primitives)."""
    if primitive_motion is None or not len(primitive_motion):
        return float("nan")
    return arms_up_share(motion_to_joints(primitive_motion.reshape(-1, primitive_motion.shape[-1])))


def dance_measures(joints: np.ndarray, real: RealismStats, fast_speed: float,
                   primitive_motion: np.ndarray | None = None) -> np.ndarray:
    """One dance's row of :data:`COLUMNS`: its speed and spread over the real dancers', snaps per
    minute, lean in degrees and the shares in % (the primitives' from ``primitive_motion``, NaN without)."""
    stats = realism_stats(joints)
    fast = float((body_frame_speeds(joints) > fast_speed).mean()) if len(joints) > 1 else 0.0
    return np.array([stats.speed / real.speed, stats.spread / real.spread, stats.snaps_per_min,
                     stats.lean_deg, 100 * stats.arms_up, 100 * fast, 100 * primitives_arms_up(primitive_motion)])


def weight_row(pipe, songs: dict, genre: str, weight: float, real: RealismStats, fast_speed: float,
               seconds: float, seed: int, stage: str = "local") -> np.ndarray:
    """The mean of :func:`dance_measures` over ``songs`` (name -> MusicFeatures), the genre's ``stage``
    ("local" or "global") guided at ``weight``; the pipeline's calibration is restored afterwards."""
    from lodge.sampling import SamplingOptions

    before = pipe.cfg.genre_calibration
    calibration = {g: dict(c) for g, c in (before or {}).items()}
    calibration.setdefault(genre, {})[STAGE_GENRE_GUIDANCE[stage]] = float(weight)
    pipe.cfg.genre_calibration = calibration
    try:
        rows = []
        for features in songs.values():
            duration = min(seconds, len(features.features) / FPS)
            dance = pipe(features, genre, SamplingOptions(max_seconds=None, duration=duration, seed=seed))
            rows.append(dance_measures(dance.joints, real, fast_speed, dance.primitive_motion))
        return np.mean(rows, axis=0)
    finally:
        pipe.cfg.genre_calibration = before


def format_row(genre: str, weight: float | str, row) -> str:
    """A markdown table row of :data:`COLUMNS`."""
    cells = [f"{row[0]:.2f}", f"{row[1]:.2f}", f"{row[2]:.1f}", f"{row[3]:.1f}", f"{row[4]:.0f}", f"{row[5]:.1f}",
             "" if np.isnan(row[6]) else f"{row[6]:.0f}"]
    return f"| {genre} | {weight} | {' | '.join(cells)} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="corpus directory (split.json, items/)")
    ap.add_argument("--stage", choices=sorted(STAGE_GENRE_GUIDANCE), default="local",
                    help="the stage whose genre guidance weight is tried (the other keeps the checkpoint's)")
    ap.add_argument("--checkpoint", default=None, help="checkpoint directory (default: shipped weights)")
    ap.add_argument("--genres", nargs="+", default=None, help="genres (default: every genre of the model)")
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 2.0, 4.0, 6.0])
    ap.add_argument("--songs", nargs="+", default=["train"],
                    help="'train' (the corpus' training songs) or audio files / song folders")
    ap.add_argument("--seconds", type=float, default=90.0, help="the first seconds of each song")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from lodge.data.dataset import load_corpus
    from lodge.evaluate.realism_reference import load_reference
    from lodge.evaluate.songs import song_features
    from lodge.pipeline import LodgePipeline
    from lodge.train.calibrate import genre_targets

    paths = training_songs(args.data) if args.songs == ["train"] else [Path(s) for s in args.songs]
    if not paths:
        print("no songs: install fretsonfire-songs-sectoid or name audio files with --songs", file=sys.stderr)
        return 2
    pipe = LodgePipeline.from_pretrained(args.checkpoint)
    songs = {p.name: song_features(p) for p in paths}
    reference = load_reference()
    targets = genre_targets(load_corpus(args.data, "train"))
    print(f"{', '.join(songs)}: first {args.seconds:g} s, seed {args.seed}; mean over the songs")
    print(f"| genre | {args.stage} genre guidance | {' | '.join(COLUMNS)} |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for genre in args.genres or pipe.genres:
        real = reference[genre]
        for weight in args.weights:
            row = weight_row(pipe, songs, genre, weight, real, targets[genre].fast_speed, args.seconds, args.seed,
                             args.stage)
            print(format_row(genre, f"{weight:g}", row), flush=True)
        print(format_row(genre, "real", [1.0, 1.0, real.snaps_per_min, real.lean_deg or np.nan,
                                         100 * (real.arms_up or np.nan), 1.0, np.nan]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
