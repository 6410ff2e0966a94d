"""The CMU dance BVH folder: manifest, genre merges, glitch windows, and cutting takes into clean pieces."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from ..constants import FPS

CMU_DIR_ENV = "LODGE_CMU_DIR"  # the CMU dance BVH folder when --source is not given
CMU_ACKNOWLEDGEMENT = (
    "The data used in this project was obtained from mocap.cs.cmu.edu. "
    "The database was created with funding from NSF EIA-0196217."
)
CMU_LICENSE = "CMU Graphics Lab Motion Capture Database: free for all uses (do not resell the data itself)"
# latin has 2 takes (0.55 min): too few to hold one out per genre and still train on it. Both are Latin
# partner dances (whirl, lambada), so they join salsa.
GENRE_MERGES: dict[str, str] = {"latin": "salsa"}
GLITCH_MARGIN_S = 0.1  # cut this much around each listed glitch window
MIN_PIECE_S = 4.0
# Subjects recorded together, frame-synchronous (salsa lead/follow, chicken-dance pairs): follower -> lead.
_DUET_PARTNERS: dict[str, str] = {"61": "60", "19": "18", "21": "20"}


@dataclass
class CmuTake:
    """One row of the source manifest."""

    file: str  # relative path, e.g. "salsa/60_01.bvh"
    source_genre: str
    subject: str
    take: str
    frames: int
    source_repo: str
    source_path: str
    notes: str

    @property
    def take_id(self) -> str:
        return f"{self.subject}_{self.take}"

    @property
    def genre(self) -> str:
        return GENRE_MERGES.get(self.source_genre, self.source_genre)

    @property
    def group(self) -> str:
        """Takes that must sit on the same side of a split: the partners of one duet share a group."""
        lead = _DUET_PARTNERS.get(self.subject, self.subject)
        return f"{lead}_{self.take}"


def source_folder(source: str | Path | None = None) -> Path:
    """The CMU dance folder: `source`, else the folder named by $LODGE_CMU_DIR.

    Raises:
        FileNotFoundError: neither is given, or the folder has no `manifest.csv`; the message says what to pass.
    """
    given = source if source not in (None, "") else os.environ.get(CMU_DIR_ENV, "").strip()
    if not given:
        raise FileNotFoundError(
            f"Where is the CMU dance folder? Pass --source DIR or set {CMU_DIR_ENV}=DIR: the folder of 30 fps "
            "BVH files with its manifest.csv (see the README, 'Data and training').")
    folder = Path(given).expanduser()
    if not (folder / "manifest.csv").is_file():
        raise FileNotFoundError(f"'{folder}' is not the CMU dance folder: it has no manifest.csv. Pass --source DIR "
                                f"or set {CMU_DIR_ENV}=DIR.")
    return folder


def read_manifest(source: str | Path | None = None) -> list[CmuTake]:
    """All takes of `manifest.csv` in the CMU dance folder (see :func:`source_folder`)."""
    with open(source_folder(source) / "manifest.csv", newline="") as fh:
        return [
            CmuTake(r["file"], r["genre"], r["subject"], r["take"], int(r["frames"]), r["source_repo"],
                    r["source_path"], r["notes"])
            for r in csv.DictReader(fh)
        ]


def read_glitches(source: str | Path | None = None) -> dict[str, list[tuple[float, float]]]:
    """file -> list of (start s, end s) glitch windows from `_check/glitches.csv`."""
    out: dict[str, list[tuple[float, float]]] = {}
    path = source_folder(source) / "_check" / "glitches.csv"
    if not path.exists():
        return out
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["file"], []).append((float(r["t_start_s"]), float(r["t_end_s"])))
    return out


def clean_pieces(
    n_frames: int, windows: list[tuple[float, float]], fps: int = FPS,
    margin_s: float = GLITCH_MARGIN_S, min_seconds: float = MIN_PIECE_S,
) -> list[tuple[int, int]]:
    """Frame ranges [start, stop) left after cutting out the glitch windows; pieces under `min_seconds` dropped."""
    bad = [False] * n_frames
    for t0, t1 in windows:
        a = max(0, int((t0 - margin_s) * fps))
        b = min(n_frames, int(round((t1 + margin_s) * fps)) + 1)
        for f in range(a, b):
            bad[f] = True
    pieces, start = [], None
    for f in range(n_frames + 1):
        good = f < n_frames and not bad[f]
        if good and start is None:
            start = f
        elif not good and start is not None:
            pieces.append((start, f))
            start = None
    return [(a, b) for a, b in pieces if b - a >= min_seconds * fps]
