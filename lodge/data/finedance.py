"""Reader for the FineDance layout: `motion/*.npy` (315 or 319 dims), `music_wav/*.wav`, a genre json.

Motion rows are (4 foot contacts, optional) + 3 root translation + 52 joints x 6D rotation (SMPL-X
order, pytorch3d 6D = the first two matrix rows, the convention used here), 30 fps, y up. The first 22
joints are the body; hands are dropped. Contacts are recomputed with this project's thresholds.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..audio import load_audio, music_features
from ..constants import N_JOINTS
from ..motion import pack_motion, relabel_contacts
from ..rotations import rotation_6d_to_matrix
from .dataset import CorpusItem

FINEDANCE_JOINTS = 52


def finedance_motion(raw: np.ndarray) -> np.ndarray:
    """(T, 315) or (T, 319) FineDance motion -> (T, 139) Lodge motion."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] not in (315, 319):
        raise ValueError(f"FineDance motion must be (T, 315) or (T, 319), got {raw.shape}")
    body = raw[:, -(3 + FINEDANCE_JOINTS * 6):]
    transl = body[:, :3]
    d6 = body[:, 3:].reshape(len(raw), FINEDANCE_JOINTS, 6)[:, :N_JOINTS]
    rot = np.asarray(rotation_6d_to_matrix(d6))
    return relabel_contacts(pack_motion(np.zeros((len(raw), 4)), transl, rot))


def read_genres(path: str | Path | None) -> dict[str, str]:
    """Genre json: {"<file stem>": "<genre>"} (a list value takes its first entry)."""
    if path is None or not Path(path).exists():
        return {}
    data = json.loads(Path(path).read_text())
    return {str(k): (v[0] if isinstance(v, list) else str(v)) for k, v in data.items()}


def read_finedance(root: str | Path, genre_json: str | Path | None = None) -> list[CorpusItem]:
    """Every motion file of `root/motion` with its wav in `root/music_wav` as a training item."""
    root = Path(root)
    genres = read_genres(genre_json if genre_json is not None else next(iter(root.glob("*.json")), None))
    items = []
    for path in sorted((root / "motion").glob("*.npy")):
        wav = root / "music_wav" / f"{path.stem}.wav"
        if not wav.exists():
            continue
        motion = finedance_motion(np.load(path))
        music = music_features(load_audio(wav, max_seconds=None, min_seconds=0.5)).features
        n = min(len(motion), len(music))
        items.append(CorpusItem(motion[:n], music[:n], genres.get(path.stem, "unknown"), path.stem,
                                f"finedance_{path.stem}", {"source": f"FineDance {path.name}"}))
    return items
