"""The CMU dance BVH folder: manifest, genre merges, glitch windows, and cutting takes into clean pieces."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..constants import FPS

DEFAULT_SOURCE = Path("/work/shared/data/cmu_dance")
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


def read_manifest(source: Path = DEFAULT_SOURCE) -> list[CmuTake]:
    """All takes of `manifest.csv`."""
    with open(Path(source) / "manifest.csv", newline="") as fh:
        return [
            CmuTake(r["file"], r["genre"], r["subject"], r["take"], int(r["frames"]), r["source_repo"],
                    r["source_path"], r["notes"])
            for r in csv.DictReader(fh)
        ]


def read_glitches(source: Path = DEFAULT_SOURCE) -> dict[str, list[tuple[float, float]]]:
    """file -> list of (start s, end s) glitch windows from `_check/glitches.csv`."""
    out: dict[str, list[tuple[float, float]]] = {}
    path = Path(source) / "_check" / "glitches.csv"
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
