"""`Dance`: what the pipeline returns, and its `dance.npz` file form."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .constants import FPS, PRIM_LEN, PRIMITIVE_KINDS
from .motion import motion_to_joints


@dataclass
class Primitive:
    """A characteristic dance primitive placed in the dance: 8 frames starting at `start`."""

    start: int
    kind: str  # "hard", "soft" or "soft_mirror"
    length: int = PRIM_LEN

    def __post_init__(self) -> None:
        if self.kind not in PRIMITIVE_KINDS:
            raise ValueError(f"unknown primitive kind {self.kind!r}; expected one of {PRIMITIVE_KINDS}")


@dataclass
class DanceSource:
    """What an edit (:mod:`lodge.edits`) needs to regenerate part of a generated dance; saved in its
    ``dance.npz`` (keys ``source_*``).

    Attributes:
        music: (T, 35) the song's music features (its beats, tempo and onset strength are the dance's own).
        options: the resolved :class:`lodge.sampling.SamplingOptions` it was sampled with (``to_dict``).
        schedule: its genre schedule (:meth:`lodge.schedule.GenreSchedule.to_list`).
        soft_starts, mirror_starts, beat_aligned: (W, 8) the primitive plan (song frames; an edit may
            have moved a soft cue).
        global_raw: (W, 13, 8, 139) the global stage's primitives, each window in its own coordinates.
        local_motion: (S, 256, 139) every segment as the local stage made it (song coordinates),
            before post-processing.
        local_fixed: (S, 256) the frames the local stage wrote exactly (cue frames).
    """

    music: np.ndarray
    options: dict[str, Any]
    schedule: list[list[Any]]
    soft_starts: np.ndarray
    mirror_starts: np.ndarray
    beat_aligned: np.ndarray
    global_raw: np.ndarray
    local_motion: np.ndarray
    local_fixed: np.ndarray

    ARRAYS = ("music", "soft_starts", "mirror_starts", "beat_aligned", "global_raw", "local_motion", "local_fixed")

    def to_npz(self) -> dict[str, np.ndarray]:
        """The ``source_*`` arrays of a ``dance.npz``."""
        out = {f"source_{name}": np.asarray(getattr(self, name)) for name in self.ARRAYS}
        out["source_options"] = np.str_(json.dumps(self.options))
        out["source_schedule"] = np.str_(json.dumps(self.schedule))
        return out

    @classmethod
    def from_npz(cls, data) -> "DanceSource | None":
        """Read the ``source_*`` arrays back; None when the file has none (older files, real dances)."""
        if "source_global_raw" not in data:
            return None
        arrays = {name: np.array(data[f"source_{name}"]) for name in cls.ARRAYS}
        return cls(options=json.loads(str(data["source_options"])),
                   schedule=json.loads(str(data["source_schedule"])), **arrays)


@dataclass
class Dance:
    """A generated (or real) dance at 30 fps.

    Attributes:
        motion: (T, 139) float32 Lodge motion.
        joints: (T, 22, 3) world joint positions in metres (y up).
        genre: genre name.
        beats: music beat frame indices (int).
        primitives: the placed primitives (start frame, kind).
        segment_starts: first frame of each 256-frame local segment.
        fps: frames per second (30).
        onset_envelope: (T,) music onset strength per frame, for timelines (optional).
        tempo: music tempo in beats per minute (0 when unknown).
        timings: seconds spent in each stage ("music", "global", "local", ...).
        device: what generated it ("cpu", "cuda", ...).
        primitive_motion: (P, 8, 139) the motion of each primitive as the global stage made it (the
            cue that steered the local stage), aligned with `primitives`; None for real dances.
        source: what an edit needs to regenerate part of it (:class:`DanceSource`); None for real
            dances and for files saved before edits existed.
        edits: the edits that made it from a generated dance, oldest first, each a JSON-safe dict
            (``op``: "reroll", "copy_move" or "restyle"; ``segments``; ``seed``; ``frames``: the
            [start, stop) frame stretches that changed; and the edit's own settings).
    """

    motion: np.ndarray
    joints: np.ndarray
    genre: str
    beats: np.ndarray
    primitives: list[Primitive]
    segment_starts: np.ndarray
    fps: int = FPS
    onset_envelope: np.ndarray | None = None
    tempo: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    device: str = "cpu"
    primitive_motion: np.ndarray | None = None
    source: DanceSource | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.motion.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / float(self.fps)

    def segment_ranges(self) -> list[tuple[float, float]]:
        """(start, end) in seconds of each local segment (the units edits regenerate), for labels."""
        starts = [int(s) for s in self.segment_starts]
        ends = starts[1:] + [self.num_frames]
        return [(s / self.fps, e / self.fps) for s, e in zip(starts, ends)]

    def save_npz(self, path: str | Path) -> Path:
        """Write the `dance.npz` file (keys: motion, joints, fps, genre, beats, primitive_frames,
        primitive_kinds, segment_starts, onset_envelope, tempo, primitive_motion, edits (JSON text),
        and the ``source_*`` arrays of :class:`DanceSource` when it has them)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            motion=self.motion.astype(np.float32),
            joints=self.joints.astype(np.float32),
            fps=np.int32(self.fps),
            genre=np.str_(self.genre),
            beats=np.asarray(self.beats, dtype=np.int64),
            primitive_frames=np.asarray([p.start for p in self.primitives], dtype=np.int64),
            primitive_kinds=np.asarray([p.kind for p in self.primitives], dtype="<U11"),
            segment_starts=np.asarray(self.segment_starts, dtype=np.int64),
            onset_envelope=np.zeros(0, np.float32) if self.onset_envelope is None else self.onset_envelope.astype(np.float32),
            tempo=np.float32(self.tempo),
            primitive_motion=np.zeros((0, PRIM_LEN, self.motion.shape[1]), np.float32)
            if self.primitive_motion is None else self.primitive_motion.astype(np.float32),
            edits=np.str_(json.dumps(self.edits)),
            **({} if self.source is None else self.source.to_npz()),
        )
        return path

    @classmethod
    def load_npz(cls, path: str | Path) -> "Dance":
        """Read a `dance.npz` file written by :meth:`save_npz` (joints are recomputed if absent)."""
        with np.load(path, allow_pickle=False) as data:
            motion = data["motion"].astype(np.float32)
            joints = data["joints"].astype(np.float32) if "joints" in data else motion_to_joints(motion)
            onset = data["onset_envelope"] if "onset_envelope" in data and data["onset_envelope"].size else None
            return cls(
                motion=motion,
                joints=joints,
                genre=str(data["genre"]) if "genre" in data else "unknown",
                beats=data["beats"].astype(np.int64) if "beats" in data else np.zeros(0, np.int64),
                primitives=[
                    Primitive(int(s), str(k))
                    for s, k in zip(data.get("primitive_frames", []), data.get("primitive_kinds", []))
                ],
                segment_starts=data["segment_starts"].astype(np.int64) if "segment_starts" in data else np.zeros(0, np.int64),
                fps=int(data["fps"]) if "fps" in data else FPS,
                onset_envelope=onset,
                tempo=float(data["tempo"]) if "tempo" in data else 0.0,
                primitive_motion=data["primitive_motion"].astype(np.float32)
                if "primitive_motion" in data and data["primitive_motion"].size else None,
                source=DanceSource.from_npz(data),
                edits=json.loads(str(data["edits"])) if "edits" in data else [],
            )
