"""Build the CMU training corpus: retarget, cut glitches, pair with music, write items, manifest and split.

    python -m lodge.data.build_corpus --out corpus --source DIR [--renders 2] [--seed 0]

`--source` (or the environment variable LODGE_CMU_DIR) is the CMU dance folder: 30 fps BVH files and
their manifest.csv.

Every clean piece of every take gives `--renders` items with music synthesised on its beat grid
(the dance re-timed slightly so its kinematic beats sit on that grid) and one item re-timed to a
real song (if the songs package is installed). Test takes get held-out songs. Deterministic.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..audio import music_features
from ..constants import FPS, HOP_LENGTH
from ..motion import motion_to_joints
from .beats import beat_alignment_score, kinematic_beats, tempo_curve
from ..bvh import read_bvh
from .cmu import (CMU_ACKNOWLEDGEMENT, CMU_DIR_ENV, CMU_LICENSE, GENRE_MERGES, clean_pieces, read_glitches,
                  read_manifest, source_folder)
from .items import save_item, split_groups
from .music_synth import SOUNDFONT_LICENSE, synthesize
from .retarget import retarget
from ..post.warp import warp_motion
from .retime import align_beats, time_map
from .songs import Song, load_sectoid_song, sectoid_song_dirs

MIN_ITEM_FRAMES = 4 * FPS


def regular_grid_for(kin_beats: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Pick a steady beat period (0.45-1.0 s) the dance's kinematic beats fit best.

    Returns (period frames, paired dance beats, paired grid beats, score)."""
    intervals = np.diff(kin_beats)
    base = float(np.median(intervals)) if len(intervals) else 0.6 * FPS
    best = None
    for fac in (0.5, 0.667, 0.75, 1.0, 1.25, 1.5, 2.0):
        period = base * fac
        if not 0.45 * FPS <= period <= 1.0 * FPS:
            continue
        grid = kin_beats[0] + period * np.arange(int(2000 / period))
        dp, mp = align_beats(kin_beats, grid, free_start=False, half_beats=False)
        covered = len(dp) / max(len(kin_beats), 1)
        span_beats = max((mp[-1] - mp[0]) / period, 1.0)
        score = covered * min(1.0, len(dp) / span_beats)
        if best is None or score > best[3]:
            best = (period, dp, mp, score)
    if best is None:
        period = float(np.clip(base, 0.45 * FPS, 1.0 * FPS))
        return period, kin_beats[:1].astype(float), kin_beats[:1].astype(float), 0.0
    return best


def _warp(motion: np.ndarray, dp: np.ndarray, mp: np.ndarray, offset: float) -> tuple[np.ndarray, float]:
    """Warp the motion so dance beats dp land on music frames mp; returns (motion, first music frame)."""
    src, out_t = time_map(dp, mp, len(motion), offset)
    return warp_motion(motion, src), float(out_t[0]) if len(out_t) else offset


def _bas(motion: np.ndarray, music_beats: np.ndarray) -> float:
    return beat_alignment_score(music_beats, kinematic_beats(motion_to_joints(motion)))


def build(out: Path, source: Path | None = None, renders: int = 2, seed: int = 0, limit: int | None = None,
          log=print) -> dict:
    """Build the corpus into `out` from the CMU dance folder `source` (None: $LODGE_CMU_DIR); returns the manifest."""
    source = source_folder(source)
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    items_dir = out / "items"
    items_dir.mkdir(exist_ok=True)
    for old in items_dir.glob("*.npz"):
        old.unlink()
    takes = read_manifest(source)
    if limit:
        takes = takes[:limit]
    glitches = read_glitches(source)
    test_groups = split_groups({t.group: t.genre for t in takes}, test_fraction=0.15, seed=seed)

    song_dirs = sectoid_song_dirs()
    rng = np.random.default_rng(seed)
    order = [song_dirs[i] for i in rng.permutation(len(song_dirs))] if song_dirs else []
    test_song_dirs = order[:1] if len(order) > 1 else []
    train_song_dirs = order[1:] if len(order) > 1 else order
    songs: dict[str, Song] = {d.name: load_sectoid_song(d) for d in order}
    log(f"songs: train {[d.name for d in train_song_dirs]}, test {[d.name for d in test_song_dirs]} ({time.time() - t0:.0f}s)")

    records, split = [], {"train": {"items": [], "takes": []}, "test": {"items": [], "takes": []}}
    song_turn = {"train": 0, "test": 0}
    for take in takes:
        side = "test" if take.group in test_groups else "train"
        split[side]["takes"].append(take.take_id)
        bvh = read_bvh(source / take.file)
        ret = retarget(bvh)
        pieces = clean_pieces(len(bvh.frames), glitches.get(take.file, []))
        for p, (a, b) in enumerate(pieces):
            motion = ret.motion[a:b]
            kin = kinematic_beats(ret.joints[a:b])
            base = {
                "genre": take.genre, "source_genre": take.source_genre, "take": take.take_id, "group": take.group,
                "source": f"CMU mocap {take.take_id} ({take.file}, frames {a}-{b}); {take.source_repo}:{take.source_path}",
                "motion_license": CMU_LICENSE, "split": side,
            }
            if len(kin) >= 3:
                period, dp, mp, _ = regular_grid_for(kin.astype(float))
                warped, _ = _warp(motion, dp, mp, 0.0)
                grid = mp[0] + period * np.arange(-int(mp[0] // period), int((len(warped) - mp[0]) // period) + 1)
            else:
                warped, period = motion, 0.6 * FPS
                grid = np.arange(0, len(motion), period)
            for k in range(renders):
                wave, desc = synthesize(grid, len(warped), take.genre, k, seed)
                feats = music_features(wave)
                item_id = f"{take.take_id}_p{p}_synth{k}"
                rec = dict(base, item_id=item_id, music_kind="synth",
                           music_source=f"synthesised (pretty_midi + fluidsynth), {json.dumps(desc)}",
                           music_license=f"generated by this project; rendered with {SOUNDFONT_LICENSE}",
                           tempo_bpm=round(float(np.median(tempo_curve(grid))) if len(grid) > 1 else 0.0, 1),
                           frames=len(warped), bas=_bas(warped, feats.beats),
                           bas_grid=beat_alignment_score(np.round(grid), kinematic_beats(motion_to_joints(warped))))
                save_item(items_dir / f"{item_id}.npz", warped, feats.features, **{k2: rec[k2] for k2 in (
                    "item_id", "genre", "take", "source", "music_source", "motion_license", "music_license")})
                records.append(rec)
                split[side]["items"].append(item_id)
            pool = test_song_dirs if side == "test" else train_song_dirs
            if pool and len(kin) >= 3:
                song = songs[pool[song_turn[side] % len(pool)].name]
                song_turn[side] += 1
                dp, mp = align_beats(kin.astype(float), song.beats.astype(float))
                offset = max(0.0, mp[0] - dp[0])
                warped, first = _warp(motion, dp, mp, offset)
                n_song = len(song.wave) // HOP_LENGTH
                n = min(len(warped), n_song - int(first))
                if n >= MIN_ITEM_FRAMES:
                    warped = warped[:n]
                    s0 = int(first) * HOP_LENGTH
                    feats = music_features(song.wave[s0:s0 + n * HOP_LENGTH])
                    item_id = f"{take.take_id}_p{p}_song"
                    rec = dict(base, item_id=item_id, music_kind="song",
                               music_source=f"{song.source}, from {first / FPS:.2f} s",
                               music_license=song.license, tempo_bpm=round(song.tempo, 1), frames=n,
                               bas=_bas(warped, feats.beats))
                    save_item(items_dir / f"{item_id}.npz", warped, feats.features, **{k2: rec[k2] for k2 in (
                        "item_id", "genre", "take", "source", "music_source", "motion_license", "music_license")})
                    records.append(rec)
                    split[side]["items"].append(item_id)
        log(f"{take.file}: {len(pieces)} pieces, {side} ({time.time() - t0:.0f}s)")

    manifest = _manifest(records, split, takes, test_groups, train_song_dirs, test_song_dirs, songs, out, renders, seed)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    split["test_groups"] = sorted(test_groups)
    split["songs"] = {"train": [d.name for d in train_song_dirs], "test": [d.name for d in test_song_dirs]}
    (out / "split.json").write_text(json.dumps(split, indent=1))
    log(f"done: {len(records)} items, {manifest['stats']['hours']:.2f} h, {manifest['stats']['megabytes']:.1f} MB "
        f"({time.time() - t0:.0f}s)")
    return manifest


def _manifest(records, split, takes, test_groups, train_songs, test_songs, songs, out, renders, seed) -> dict:
    per_genre: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for r in records:
        g = per_genre[r["genre"]]
        g[f"bas_{r['music_kind']}"].append(r["bas"])
        if "bas_grid" in r:
            g["bas_synth_grid"].append(r["bas_grid"])
        g["frames"].append(r["frames"])
        g[f"takes_{r['split']}"].append(r["take"])
    genres = {}
    for name, g in sorted(per_genre.items()):
        genres[name] = {
            "items": len(g["frames"]), "hours": sum(g["frames"]) / FPS / 3600,
            "train_takes": len(set(g["takes_train"])), "test_takes": len(set(g["takes_test"])),
            **{k: float(np.mean(v)) for k, v in g.items() if k.startswith("bas") and v},
        }
    size = sum(p.stat().st_size for p in (out / "items").glob("*.npz")) / 2 ** 20
    return {
        "description": "Lodge training corpus: CMU dance mocap retargeted to SMPL (22 joints, 139-dim), paired with music",
        "build": {"renders": renders, "seed": seed, "fps": FPS},
        "acknowledgement": CMU_ACKNOWLEDGEMENT,
        "licenses": {
            "motion": CMU_LICENSE + ". " + CMU_ACKNOWLEDGEMENT,
            "synthesised_music": f"generated by this project; instrument sounds: {SOUNDFONT_LICENSE}",
            "songs": songs[next(iter(songs))].license if songs else None,
        },
        "genre_merges": GENRE_MERGES,
        "genre_notes": {"swing": "kept as its own genre although small (5 takes, 0.67 min)",
                        "latin": "merged into salsa (2 takes, 0.55 min: whirl dance and lambada)"},
        "glitches": "windows of _check/glitches.csv cut out (0.1 s margin); pieces under 4 s dropped",
        "bas_definition": "Bailando BAS: mean over music beats (librosa beat_track of the item's music) of "
                          "exp(-d^2/18), d = frames to the nearest kinematic beat (minima of the Gaussian(5)-smoothed "
                          "mean joint speed); bas_synth_grid uses the designed beat grid instead of librosa's beats",
        "split": {"by": "take group (duet partners together)", "test_groups": sorted(test_groups),
                  "train_songs": [d.name for d in train_songs], "test_songs": [d.name for d in test_songs]},
        "stats": {"items": len(records), "hours": sum(r["frames"] for r in records) / FPS / 3600, "megabytes": size,
                  "train_items": len(split["train"]["items"]), "test_items": len(split["test"]["items"]),
                  "train_takes": len(split["train"]["takes"]), "test_takes": len(split["test"]["takes"])},
        "genres": genres,
        "items": records,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("corpus"))
    ap.add_argument("--source", type=Path, default=None,
                    help=f"the CMU dance folder (BVH files + manifest.csv); default: ${CMU_DIR_ENV}")
    ap.add_argument("--renders", type=int, default=2, help="synthesised renderings per piece")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="only the first N takes (quick checks)")
    args = ap.parse_args(argv)
    try:
        source = source_folder(args.source)
    except FileNotFoundError as err:
        ap.exit(2, f"error: {err}\n")
    build(args.out, source, args.renders, args.seed, args.limit)


if __name__ == "__main__":
    main()
