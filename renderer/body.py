"""Bodies the renderer can pose: the rigid mannequin (default) or a real SMPL / SMPL-X mesh via `smplx`.

Every body is one triangle mesh whose vertices (and normals) are recomputed on the CPU per frame and
streamed into a single vertex buffer: one draw call instead of one per body part, which is what keeps
software rendering (llvmpipe) fast.
"""
from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np

from lodge.motion import unpack_motion
from lodge.rotations import matrix_to_axis_angle
from lodge.skeleton import forward_kinematics, rest_joints

from .mannequin import load_mannequin

log = logging.getLogger(__name__)

SMPL_DIR_ENV = "LODGE_SMPL_MODEL_DIR"
BODY_KINDS = ("mannequin", "smpl", "smplx")


class SmplUnavailable(RuntimeError):
    """The SMPL / SMPL-X model folder is missing or unusable."""


class Body:
    """A posable triangle mesh following a motion.

    Attributes:
        kind: "mannequin", "smpl" or "smplx" (what is actually drawn).
        faces: (F, 3) int32 triangles.
        positions, rotations: (T, 22, 3) world joints and (T, 22, 3, 3) world joint rotations (lodge FK).
        floor_height: y of the floor under this body (its soles in the rest pose; lodge puts the toe joints at 0).
    """

    kind = "body"
    floor_height = 0.0
    faces: np.ndarray

    def __init__(self, motion: np.ndarray):
        _, transl, rotmats = unpack_motion(np.asarray(motion, np.float32))
        self.positions, self.rotations = forward_kinematics(rotmats, transl)

    @property
    def num_frames(self) -> int:
        """T."""
        return len(self.positions)

    def pelvis(self, frame: int) -> np.ndarray:
        """World pelvis position at `frame`."""
        return self.positions[frame, 0]

    def vertex_data(self, frame: int) -> np.ndarray:
        """(V, 6) float32: posed positions and unit normals at `frame`."""
        raise NotImplementedError


class MannequinBody(Body):
    """The convex mannequin: each vertex follows one joint rigidly (flat-shaded facets)."""

    kind = "mannequin"

    def __init__(self, motion: np.ndarray, flat: bool = False):
        super().__init__(motion)
        parts = load_mannequin()
        self.floor_height = parts.sole_offset
        local, normals, owner, faces, base = [], [], [], [], 0
        for j, (v, f) in enumerate(zip(parts.vertices, parts.faces)):
            tri = v[f]
            face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            if flat:  # one vertex per face corner so each facet keeps its own normal
                v, f = tri.reshape(-1, 3), np.arange(3 * len(f)).reshape(-1, 3)
                n = np.repeat(face_n, 3, axis=0)
            else:
                n = np.zeros_like(v)
                for corner in range(3):
                    np.add.at(n, f[:, corner], face_n)
            local.append(v)
            normals.append(n / (np.linalg.norm(n, axis=1, keepdims=True) + 1e-12))
            owner.append(np.full(len(v), j))
            faces.append(f + base)
            base += len(v)
        self.local = np.concatenate(local).astype(np.float32)
        self.local_normals = np.concatenate(normals).astype(np.float32)
        self.owner = np.concatenate(owner)
        self.faces = np.concatenate(faces).astype(np.int32)
        self._out = np.empty((len(self.local), 6), np.float32)

    def vertex_data(self, frame: int) -> np.ndarray:
        rot = self.rotations[frame].astype(np.float32)[self.owner]  # (V, 3, 3)
        self._out[:, :3] = np.einsum("vij,vj->vi", rot, self.local) + self.positions[frame][self.owner]
        self._out[:, 3:] = np.einsum("vij,vj->vi", rot, self.local_normals)
        return self._out


class SmplBody(Body):
    """A real SMPL / SMPL-X mesh; all frames' vertices are computed up front in batches."""

    def __init__(self, motion: np.ndarray, model_dir: Path, model_type: str):
        import torch

        super().__init__(motion)
        model = _create_smpl(model_dir, model_type)
        _, transl, rotmats = unpack_motion(np.asarray(motion, np.float32))
        aa = matrix_to_axis_angle(np.asarray(rotmats, np.float32))  # (T, 22, 3)
        frames = len(aa)
        body_pose = aa[:, 1:].reshape(frames, -1)
        if model_type == "smpl":  # SMPL has two hand joints after the wrists
            body_pose = np.concatenate([body_pose, np.zeros((frames, 6), np.float32)], axis=1)
        with torch.no_grad():
            rest = model(return_verts=True)
            rest_j0 = rest.joints[0, 0].numpy()
            rest_v = rest.vertices[0].numpy()
            rest_toes = rest.joints[0, [10, 11], 1].numpy()
            # lodge: world pelvis = SMPL-X neutral rest pelvis + transl; this model's pelvis may differ.
            model_transl = (np.asarray(transl) + rest_joints()[0] - rest_j0).astype(np.float32)
            verts = []
            for s in range(0, frames, 256):
                n = min(256, frames - s)
                out = model(global_orient=torch.from_numpy(aa[s:s + n, 0]), body_pose=torch.from_numpy(body_pose[s:s + n]),
                            transl=torch.from_numpy(model_transl[s:s + n]), batch_size=n)
                verts.append(out.vertices.numpy())
        self.vertices = np.concatenate(verts).astype(np.float32)
        self.faces = np.asarray(model.faces, np.int32)
        self.floor_height = float(rest_v[:, 1].min() - rest_toes.min())
        self.kind = model_type
        self._out = np.empty((self.vertices.shape[1], 6), np.float32)

    def vertex_data(self, frame: int) -> np.ndarray:
        v = self.vertices[frame]
        tri = v[self.faces]
        face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normals = np.zeros_like(v)
        for corner in range(3):
            np.add.at(normals, self.faces[:, corner], face_n)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        self._out[:, :3], self._out[:, 3:] = v, normals
        return self._out


def _create_smpl(model_dir: Path, model_type: str):
    """Load a neutral SMPL / SMPL-X model from a folder (``DIR/<type>/`` or the files directly in DIR)."""
    try:
        import smplx
    except ImportError as err:
        raise SmplUnavailable("the `smplx` package is not installed (pip install smplx)") from err
    stem = "SMPLX_NEUTRAL" if model_type == "smplx" else "SMPL_NEUTRAL"
    for folder in (model_dir / model_type, model_dir):
        for ext in (".npz", ".pkl"):
            path = folder / (stem + ext)
            if path.is_file():
                kwargs = {"use_pca": False} if model_type == "smplx" else {}
                try:
                    return smplx.create(str(path), model_type=model_type, gender="neutral", num_betas=10, **kwargs)
                except Exception as err:  # noqa: BLE001 - any loader failure means "unusable"
                    raise SmplUnavailable(f"could not load {path}: {err}") from err
    raise SmplUnavailable(f"no {stem}.npz or {stem}.pkl in {model_dir} or {model_dir / model_type}")


def make_body(motion: np.ndarray, body: str = "mannequin", smpl_dir: str | os.PathLike | None = None) -> Body:
    """Build the requested body; a missing or unusable SMPL folder warns and falls back to the mannequin."""
    if body not in BODY_KINDS:
        raise ValueError(f"unknown body {body!r}; expected one of {BODY_KINDS}")
    if body == "mannequin":
        return MannequinBody(motion)
    folder = smpl_dir or os.environ.get(SMPL_DIR_ENV)
    try:
        if not folder:
            raise SmplUnavailable(f"no model folder given (pass --smpl-dir or set {SMPL_DIR_ENV})")
        if not Path(folder).is_dir():
            raise SmplUnavailable(f"model folder {folder} does not exist")
        return SmplBody(motion, Path(folder), body)
    except SmplUnavailable as err:
        name = body.upper().replace("SMPLX", "SMPL-X")
        message = (f"{name} body unavailable: {err}. The {name} model files are license-gated; download them "
                   f"from https://smpl-x.is.tue.mpg.de or https://smpl.is.tue.mpg.de. Rendering the mannequin instead.")
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        log.warning(message)
        return MannequinBody(motion)
