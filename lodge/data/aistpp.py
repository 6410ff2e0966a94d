"""Reader for the AIST++ layout: `motions/*.pkl` (smpl_poses (T,72) axis-angle, smpl_trans (T,3),
smpl_scaling), 60 fps, and `wavs/<music id>.wav`; genre from the file name code (gBR, gPO, ...).

Motion goes to 30 fps (every second frame), the first 22 joints, translation = smpl_trans / smpl_scaling
(metres, y up as in AIST++), grounded (lowest toe on the floor at the first frame), contacts recomputed.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..audio import load_audio, music_features
from ..constants import N_JOINTS
from ..motion import ground_motion, pack_motion, relabel_contacts
from ..rotations import axis_angle_to_matrix
from .dataset import CorpusItem

AIST_GENRES: dict[str, str] = {
    "gBR": "break", "gPO": "pop", "gLO": "lock", "gMH": "middle_hiphop", "gLH": "la_hiphop",
    "gHO": "house", "gWA": "waack", "gKR": "krump", "gJS": "street_jazz", "gJB": "ballet_jazz",
}


def aist_motion(data: dict, step: int = 2) -> np.ndarray:
    """An AIST++ motion dict -> (T, 139) Lodge motion at 30 fps."""
    poses = np.asarray(data["smpl_poses"], dtype=np.float32)[::step].reshape(-1, 24, 3)[:, :N_JOINTS]
    scaling = float(np.asarray(data.get("smpl_scaling", 1.0)).reshape(-1)[0])
    transl = np.asarray(data["smpl_trans"], dtype=np.float32)[::step] / scaling
    rot = np.asarray(axis_angle_to_matrix(poses))
    motion = pack_motion(np.zeros((len(poses), 4)), transl, rot)
    return relabel_contacts(ground_motion(motion))


def parse_name(stem: str) -> tuple[str, str]:
    """'gBR_sBM_cAll_d04_mBR0_ch01' -> (genre, music id)."""
    parts = stem.split("_")
    genre = AIST_GENRES.get(parts[0], parts[0])
    music = next((p for p in parts if p.startswith("m") and len(p) == 4), "")
    return genre, music


def read_aistpp(root: str | Path) -> list[CorpusItem]:
    """Every `root/motions/*.pkl` whose music `root/wavs/<mXX#>.wav` exists, as a training item."""
    root = Path(root)
    items = []
    for path in sorted((root / "motions").glob("*.pkl")):
        genre, music_id = parse_name(path.stem)
        wav = root / "wavs" / f"{music_id}.wav"
        if not wav.exists():
            continue
        with open(path, "rb") as fh:
            data = pickle.load(fh)
        motion = aist_motion(data)
        music = music_features(load_audio(wav, max_seconds=None, min_seconds=0.5)).features
        n = min(len(motion), len(music))
        items.append(CorpusItem(motion[:n], music[:n], genre, path.stem, f"aistpp_{path.stem}",
                                {"source": f"AIST++ {path.name}", "music": music_id}))
    return items
