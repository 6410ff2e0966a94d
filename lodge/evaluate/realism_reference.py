"""The real dancers' realism measures per genre, shipped as `realism_reference.json`, and how to remake them.

    python -m lodge.evaluate.realism_reference --cmu DIR [--out lodge/metrics/realism_reference.json]

Every take of the CMU dance folder DIR (its ``manifest.csv``) is retargeted with
:func:`lodge.data.retarget.retarget` and cut into clean pieces around the listed glitch windows,
as the training corpus is. Each piece gives speed, pose spread and heading snaps per minute
(:mod:`lodge.metrics.realism`), and primitive energy of real primitives placed the way generation
places them: :func:`lodge.primitives.plan_primitives` driven by the piece's own kinematic beats and
kinetic energy (:func:`lodge.primitives.dance_beats`), the 5 hard and 8 soft cues of every 1024-frame
window (a join shared by two windows counted once), those lying wholly inside the piece. Pieces are
pooled per genre weighted by duration.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..bvh import read_bvh
from ..constants import FPS, GLOBAL_LEN, PRIM_LEN
from ..data.cmu import CMU_ACKNOWLEDGEMENT, GENRE_MERGES, clean_pieces, read_glitches, read_manifest
from ..data.retarget import retarget
from ..metrics.realism import RealismStats, pool_stats, realism_stats
from ..primitives import cut_primitives, dance_beats, plan_primitives

REFERENCE_PATH = Path(__file__).resolve().parents[1] / "metrics" / "realism_reference.json"  # shipped with the metrics
COMMAND = "python -m lodge.evaluate.realism_reference --cmu <CMU dance folder>"


def real_primitive_starts(joints: np.ndarray) -> np.ndarray:
    """Start frames of the primitives generation would place on this real dance, wholly inside it.

    The dance's kinematic beats and kinetic energy drive the planner (as in training's global
    windows); every window contributes its 5 hard cues (segment joins) and 8 soft cues.
    """
    beats, energy = dance_beats(joints)
    plan = plan_primitives(len(joints), beats, energy)
    starts = (plan.window_prim_frames() + GLOBAL_LEN * np.arange(plan.num_windows)[:, None]).ravel()
    return np.unique(starts[(starts >= 0) & (starts + PRIM_LEN <= len(joints))])  # windows share their join cues


def real_primitive_joints(joints: np.ndarray) -> np.ndarray:
    """(P, 8, J, 3) joints of the real primitives of a dance (see :func:`real_primitive_starts`).

    Forward kinematics is per frame, so cutting the dance's joints equals the FK of the cut motion.
    """
    return cut_primitives(np.asarray(joints), 0, real_primitive_starts(joints))


def piece_stats(joints: np.ndarray) -> RealismStats:
    """All realism measures of one real (T, J, 3) dance, its own primitives included."""
    prims = real_primitive_joints(joints)
    return realism_stats(joints, prims if len(prims) else None)


def cmu_piece_joints(cmu_dir: Path, log=None):
    """Yield (genre, take id, (T, 22, 3) joints) for every clean piece of every take in `cmu_dir`."""
    glitches = read_glitches(cmu_dir)
    for take in read_manifest(cmu_dir):
        bvh = read_bvh(cmu_dir / take.file)
        joints = retarget(bvh).joints
        pieces = clean_pieces(len(bvh.frames), glitches.get(take.file, []))
        if log:
            log(f"{take.file}: {len(pieces)} pieces, genre {take.genre}")
        for a, b in pieces:
            yield take.genre, take.take_id, joints[a:b]


def build_reference(cmu_dir: Path, log=None) -> dict:
    """The per-genre reference (JSON-ready) from every take of the CMU dance folder `cmu_dir`."""
    cmu_dir = Path(cmu_dir)
    stats: dict[str, list[RealismStats]] = defaultdict(list)
    takes: dict[str, set[str]] = defaultdict(set)
    prims: dict[str, int] = defaultdict(int)
    for genre, take_id, joints in cmu_piece_joints(cmu_dir, log):
        stats[genre].append(piece_stats(joints))
        takes[genre].add(take_id)
        prims[genre] += len(real_primitive_starts(joints))
    manifest = (cmu_dir / "manifest.csv").read_bytes()
    genres = {}
    for genre in sorted(stats):
        pooled = pool_stats(stats[genre])
        genres[genre] = {**{k: None if v is None else round(v, 6) for k, v in pooled.to_dict().items()},
                         "takes": len(takes[genre]), "pieces": len(stats[genre]), "primitives": prims[genre]}
    return {
        "description": "Realism measures of the real CMU dancers per genre (lodge.metrics.realism), "
                       "all takes retargeted to SMPL, glitch windows cut out, pieces pooled by duration",
        "source": f"CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), dance takes of manifest.csv "
                  f"(sha256 {hashlib.sha256(manifest).hexdigest()[:16]}). {CMU_ACKNOWLEDGEMENT}",
        "command": COMMAND,
        "units": {"speed": "m/s", "spread": "m", "snaps_per_min": "1/min", "primitive_energy": "m^2/s^2",
                  "minutes": "min", "lean_deg": "degrees (median spine lean from vertical)",
                  "arms_up": "share of frames with a wrist above its shoulder"},
        "fps": FPS,
        "genre_merges": GENRE_MERGES,
        "genres": genres,
    }


def load_reference(path: str | Path | None = None) -> dict[str, RealismStats]:
    """genre -> the real dancers' :class:`RealismStats` (default: the reference shipped with the library)."""
    data = json.loads(Path(path or REFERENCE_PATH).read_text())
    fields = ("speed", "spread", "snaps_per_min", "primitive_energy", "minutes")
    optional = ("lean_deg", "arms_up")  # absent from references made before the posture measures
    return {g: RealismStats(**{k: v[k] for k in fields}, **{k: v.get(k) for k in optional})
            for g, v in data["genres"].items()}


def main(argv: list[str] | None = None) -> int:
    """CLI: rebuild the reference JSON from a CMU dance folder."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cmu", type=Path, required=True, help="CMU dance folder (manifest.csv, <genre>/*.bvh, _check/)")
    ap.add_argument("--out", type=Path, default=REFERENCE_PATH, help=f"JSON to write (default {REFERENCE_PATH})")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if not (args.cmu / "manifest.csv").is_file():
        ap.error(f"no manifest.csv in {args.cmu}")
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    ref = build_reference(args.cmu, log)
    args.out.write_text(json.dumps(ref, indent=1) + "\n")
    for genre, s in ref["genres"].items():
        print(f"{genre:9s} speed {s['speed']:.3f} m/s  spread {s['spread']:.3f} m  snaps {s['snaps_per_min']:.1f}/min  "
              f"primitive energy {s['primitive_energy']:.3f} m^2/s^2  lean {s['lean_deg']:.1f} deg  "
              f"arms up {100 * s['arms_up']:.1f} %  ({s['minutes']:.2f} min, {s['takes']} takes)")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
