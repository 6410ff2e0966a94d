"""The rigid convex mannequin (from mannequin-x, Apache-2.0), posed by lodge's own forward kinematics."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from lodge.constants import N_JOINTS

ASSET = Path(__file__).resolve().parent / "assets" / "mannequin_convex.npz"


@dataclass(frozen=True)
class MannequinParts:
    """The mannequin split into one rigid mesh per skeleton joint (fingers ride on the wrists).

    Attributes:
        vertices: per joint, (V_j, 3) vertices in that joint's frame (rest rotation is the identity,
            the origin is the joint's rest position), metres, y up.
        faces: per joint, (F_j, 3) int32 indices into that joint's vertices.
        sole_offset: height of the lowest sole vertex below the lowest toe joint in the rest pose
            (negative: lodge puts the toe *joints* on y = 0, so the floor is drawn at this height).
    """

    vertices: tuple[np.ndarray, ...]
    faces: tuple[np.ndarray, ...]
    sole_offset: float

    def world_vertices(self, positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """All vertices posed by world joint positions (22, 3) and rotations (22, 3, 3) -> (V, 3)."""
        return np.concatenate(
            [v @ rotations[j].T + positions[j] for j, v in enumerate(self.vertices)], axis=0
        )

    def all_faces(self) -> np.ndarray:
        """(F, 3) faces indexing the concatenation used by :meth:`world_vertices`."""
        out, base = [], 0
        for v, f in zip(self.vertices, self.faces):
            out.append(f + base)
            base += len(v)
        return np.concatenate(out, axis=0)


@lru_cache(maxsize=1)
def load_mannequin() -> MannequinParts:
    """Read the baked asset (see assets/bake_mannequin.py) and split it per joint."""
    with np.load(ASSET) as data:
        vertices = data["vertices"].astype(np.float32)
        faces = data["faces"].astype(np.int64)
        owner = data["vertex_joint"].astype(np.int64)
        sole = float(data["sole_offset"])
    face_owner = owner[faces[:, 0]]
    parts_v, parts_f = [], []
    for j in range(N_JOINTS):
        keep = np.flatnonzero(owner == j)
        remap = np.full(len(vertices), -1, np.int64)
        remap[keep] = np.arange(len(keep))
        parts_v.append(vertices[keep])
        parts_f.append(remap[faces[face_owner == j]].astype(np.int32))
    return MannequinParts(tuple(parts_v), tuple(parts_f), sole)
