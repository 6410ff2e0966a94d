"""The acceptance checks on a model: beats, feet, no freezing, genre conditioning."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..data.dataset import CorpusItem
from ..metrics import kinetic_features, mean_joint_speed, mean_speed_windows, normalize_by
from ..motion import motion_to_joints
from ..sampling import SamplingOptions, sampling_options
from .data import features_from_music, looped_song

BAS_RATIO_MIN = 0.9  # model BAS >= 0.9 x ground truth
FSR_RATIO_MAX = 1.5  # model FSR <= 1.5 x ground truth
FREEZE_RATIO_MIN = 0.3  # every 5-s window >= 30% of the ground truth's mean joint speed
GENRE_RATIO_MIN = 1.5  # "clearly more different": genre distance >= 1.5 x seed distance


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b and np.isfinite(a) and np.isfinite(b) else float("nan")


def ratio_check(model: float, gt: float, limit: float, at_least: bool) -> dict:
    """{"model", "gt", "ratio", "limit", "pass"} for a model / ground-truth ratio."""
    r = _ratio(model, gt)
    ok = bool(np.isfinite(r) and (r >= limit if at_least else r <= limit))
    return {"model": float(model), "gt": float(gt), "ratio": r, "limit": limit, "pass": ok}


def gt_mean_speed(gt_joints: Sequence[np.ndarray]) -> float:
    """Average mean joint speed (m/s) over all frames of the ground-truth dances."""
    speeds = np.concatenate([mean_joint_speed(j, central=False) for j in gt_joints if len(j) > 1])
    return float(speeds.mean())


def freeze_check(pipe, items: Sequence[CorpusItem], genre: str, gt_speed: float, seconds: float = 180.0,
                 options: SamplingOptions | None = None) -> dict:
    """Generate one song of ``seconds`` made by looping the test music (seed 0, ``options`` otherwise);
    min 5-s window speed / GT speed."""
    song = looped_song(items, seconds)
    dance = pipe(song, genre, sampling_options(options, seed=0, max_seconds=None))
    windows = mean_speed_windows(dance.joints)
    low = float(windows.min())
    ratio = _ratio(low, gt_speed)
    return {"genre": genre, "seconds": float(seconds), "windows": len(windows), "min_window_speed": low,
            "mean_speed": float(windows.mean()), "gt_mean_speed": gt_speed, "ratio": ratio,
            "limit": FREEZE_RATIO_MIN, "pass": bool(np.isfinite(ratio) and ratio >= FREEZE_RATIO_MIN)}


def other_genre(genres: Sequence[str], genre: str) -> str:
    """The genre after ``genre`` in the list (cyclic); ``genre`` itself if it is the only one."""
    lowered = [g.lower() for g in genres]
    i = lowered.index(genre.lower()) if genre.lower() in lowered else -1
    return genres[(i + 1) % len(genres)]


def genre_check(pipe, items: Sequence[CorpusItem], genres: Sequence[str], gt_joints: Sequence[np.ndarray],
                options: SamplingOptions | None = None) -> dict:
    """Mean kinetic-feature distance (standardised by the ground truth) between the same music under
    two genres, and between two seeds of one genre (``options`` otherwise); passes when the first is
    clearly larger."""
    options = sampling_options(options, max_seconds=None)
    reference = np.stack([kinetic_features(j) for j in gt_joints])
    d_genre, d_seed, pairs = [], [], []
    for item, genre in zip(items, genres):
        feats = features_from_music(item.music)
        other = other_genre(pipe.genres, genre)
        k = {}
        for tag, g, seed in (("a0", genre, 0), ("b0", other, 0), ("a1", genre, 1)):
            motion = pipe(feats, g, options.replace(seed=seed)).motion
            k[tag] = normalize_by(kinetic_features(motion_to_joints(motion))[None], reference)[0]
        d_genre.append(float(np.linalg.norm(k["a0"] - k["b0"])))
        d_seed.append(float(np.linalg.norm(k["a0"] - k["a1"])))
        pairs.append(f"{genre}/{other}")
    g, s = float(np.mean(d_genre)), float(np.mean(d_seed))
    ratio = _ratio(g, s)
    return {"items": len(items), "pairs": sorted(Counter(pairs)), "genre_distance": g, "seed_distance": s,
            "ratio": ratio, "limit": GENRE_RATIO_MIN, "pass": bool(np.isfinite(ratio) and ratio >= GENRE_RATIO_MIN)}


def most_common(values: Sequence[str]) -> str:
    """The most frequent value (first seen wins ties)."""
    return Counter(values).most_common(1)[0][0]
