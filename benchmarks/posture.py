"""Where a generated dance's posture comes from: by distance to the nearest primitive, and by where each
primitive sits in its global window, against the real dancers of the genre.

    python benchmarks/posture.py [--checkpoint DIR] [--genres swing salsa ...] [--song PATH] [--seed 0]

Each genre dances the whole song (default: the ragtime example) with default settings, and one line
per genre prints, for the spine's lean from vertical (median, degrees) and the share of frames with a
wrist above its shoulder (:mod:`lodge.metrics.realism`):

- the placed primitives in the first 448 frames of their 1024-frame window against those from frame
  576 on (the global network learnt the later slots only from genres with long training takes);
- the dance's frames on a primitive, 1-7, 8-15 and 16 or more frames from the nearest one (the local
  network between the cues);
- the genre's real dancers (``lodge/metrics/realism_reference.json``).

A diagnostic, not a bar: ``python -m lodge evaluate --realism-only`` prints the posture table the
project reads beside its realism table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # cue_speed, also when loaded from elsewhere

import numpy as np  # noqa: E402

from cue_speed import distance_to_primitives  # noqa: E402
from lodge.constants import GLOBAL_LEN, PRIM_LEN  # noqa: E402
from lodge.metrics.realism import spine_lean, wrists_up  # noqa: E402
from lodge.motion import motion_to_joints  # noqa: E402

EARLY_END, LATE_START = 448, 576  # window frames: the first and the second half, the middle left out
DISTANCE_BINS = ((0, 1), (1, 8), (8, 16), (16, 10**7))


def cell(lean: np.ndarray, up: np.ndarray) -> str:
    """'lean / wrists up' of a set of frames, or n/a."""
    return f"{np.median(lean):.1f} / {100 * up.mean():.0f} %" if len(lean) else "n/a"


def genre_line(pipe, features, genre: str, seed: int, real) -> str:
    from lodge.sampling import SamplingOptions

    dance = pipe(features, genre, SamplingOptions(max_seconds=None, seed=seed))
    prims = motion_to_joints(np.asarray(dance.primitive_motion, np.float32))  # (P, 8, J, 3)
    in_window = np.array([p.start % GLOBAL_LEN for p in dance.primitives])
    prim_lean = spine_lean(prims.reshape(-1, *prims.shape[2:])).reshape(prims.shape[:2])
    prim_up = wrists_up(prims.reshape(-1, *prims.shape[2:])).reshape(prims.shape[:2])
    halves = [cell(prim_lean[sel].ravel(), prim_up[sel].ravel())
              for sel in (in_window < EARLY_END, in_window >= LATE_START)]
    lean, up = spine_lean(dance.joints), wrists_up(dance.joints)
    dist = distance_to_primitives(len(lean), [p.start for p in dance.primitives], PRIM_LEN)
    bins = [cell(lean[(dist >= lo) & (dist < hi)], up[(dist >= lo) & (dist < hi)]) for lo, hi in DISTANCE_BINS]
    real_cell = f"{real.lean_deg:.1f} / {100 * real.arms_up:.0f} %" if real and real.lean_deg is not None else "n/a"
    return f"| {genre} | {' | '.join(halves)} | {' | '.join(bins)} | {cell(lean, up)} | {real_cell} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None, help="checkpoint directory (default: shipped weights)")
    ap.add_argument("--genres", nargs="+", default=None, help="genres (default: every genre of the model)")
    ap.add_argument("--song", type=Path, default=Path(__file__).resolve().parents[1] / "examples"
                    / "ragtime_maple_street_shuffle_140bpm.mp3", help="audio file or song folder")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from lodge.evaluate.realism_reference import load_reference
    from lodge.evaluate.songs import song_features
    from lodge.pipeline import LodgePipeline

    pipe = LodgePipeline.from_pretrained(args.checkpoint)
    features = song_features(args.song)
    reference = load_reference()
    print(f"{args.song.name}, seed {args.seed}: spine lean (median degrees) / wrist above shoulder (% of frames)")
    print("| genre | primitives, window frames < 448 | primitives, >= 576 | on a primitive | 1-7 frames away "
          "| 8-15 | 16+ | whole dance | real dancers |")
    print("|---|---|---|---|---|---|---|---|---|")
    for genre in args.genres or pipe.genres:
        print(genre_line(pipe, features, genre, args.seed, reference.get(genre)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
