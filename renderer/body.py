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
    """A real SMPL / SMPL-X mesh posed through the `smplx` package, a batch of frames at a time.

    The pelvis is put where lodge's forward kinematics has it (each model has its own rest pelvis);
    the rest of the body follows the same joint rotations on the model's own skeleton. Frames are posed
    in batches of `BATCH` when first asked for (frames come in order while rendering), so memory stays
    flat however long the song.
    """

    BATCH = 128

    def __init__(self, motion: np.ndarray, model_dir: Path, model_type: str):
        import torch

        super().__init__(motion)
        self.model = _create_smpl(model_dir, model_type)
        _, transl, rotmats = unpack_motion(np.asarray(motion, np.float32))
        aa = matrix_to_axis_angle(np.asarray(rotmats, np.float32))  # (T, 22, 3)
        frames = len(aa)
        body_pose = aa[:, 1:].reshape(frames, -1)
        if model_type == "smpl":  # SMPL has two hand joints after the wrists
            body_pose = np.concatenate([body_pose, np.zeros((frames, 6), np.float32)], axis=1)
        with torch.no_grad():
            rest = self.model(return_verts=True)
        rest_j0 = rest.joints[0, 0].numpy()
        rest_v = rest.vertices[0].numpy()
        rest_toes = rest.joints[0, [10, 11], 1].numpy()
        # lodge: world pelvis = lodge's rest pelvis + transl; this model's pelvis may differ.
        model_transl = (np.asarray(transl) + rest_joints()[0] - rest_j0).astype(np.float32)
        self._params = (torch.from_numpy(np.ascontiguousarray(aa[:, 0])), torch.from_numpy(body_pose),
                        torch.from_numpy(model_transl))
        self.num_vertices = rest_v.shape[0]
        self.faces = np.asarray(self.model.faces, np.int32)
        self.floor_height = float(rest_v[:, 1].min() - rest_toes.min())
        self.kind = model_type
        self._normal_sum = _corner_sum_matrix(self.faces, self.num_vertices)
        self._corners = tuple(np.ascontiguousarray(self.faces[:, k]) for k in range(3))
        self._batch: tuple[int, np.ndarray] | None = None
        self._out = np.empty((self.num_vertices, 6), np.float32)

    def vertices(self, frame: int) -> np.ndarray:
        """(V, 3) posed vertices at `frame` (its whole batch is posed on first use)."""
        start = frame - frame % self.BATCH
        if self._batch is None or self._batch[0] != start:
            import torch

            orient, body_pose, transl = (p[start:start + self.BATCH] for p in self._params)
            with torch.no_grad():
                out = self.model(global_orient=orient, body_pose=body_pose, transl=transl,
                                 **_rest_of_pose(self.model, len(orient)))
            self._batch = (start, out.vertices.numpy().astype(np.float32))
        return self._batch[1][frame - start]

    def vertex_data(self, frame: int) -> np.ndarray:
        v = self.vertices(frame)
        vt = np.ascontiguousarray(v.T)  # (3, V): contiguous gathers per coordinate
        f0, f1, f2 = self._corners
        a, b = vt[:, f1] - vt[:, f0], vt[:, f2] - vt[:, f0]
        face_n = np.empty((len(f0), 3), np.float32)  # a x b, written out (np.cross is slower here)
        face_n[:, 0] = a[1] * b[2] - a[2] * b[1]
        face_n[:, 1] = a[2] * b[0] - a[0] * b[2]
        face_n[:, 2] = a[0] * b[1] - a[1] * b[0]
        normals = self._normal_sum @ face_n  # area-weighted sum over the faces at each vertex
        normals /= np.sqrt(np.einsum("ij,ij->i", normals, normals))[:, None] + 1e-12
        self._out[:, :3], self._out[:, 3:] = v, normals
        return self._out


def _rest_of_pose(model, n: int) -> dict:
    """Zero shape and the neutral face / hands for a batch of `n` frames (the model's own defaults
    have batch size 1, which SMPL-X cannot broadcast)."""
    import torch

    extra = {"betas": torch.zeros(n, model.num_betas), "batch_size": n}
    if hasattr(model, "jaw_pose"):  # SMPL-X
        extra.update(jaw_pose=torch.zeros(n, 3), leye_pose=torch.zeros(n, 3), reye_pose=torch.zeros(n, 3),
                     left_hand_pose=torch.zeros(n, model.left_hand_pose.shape[1]),
                     right_hand_pose=torch.zeros(n, model.right_hand_pose.shape[1]),
                     expression=torch.zeros(n, model.num_expression_coeffs))
    return extra


def _corner_sum_matrix(faces: np.ndarray, num_vertices: int):
    """Sparse (V, F) matrix summing the values of the faces around each vertex."""
    from scipy import sparse

    rows = faces.reshape(-1)
    cols = np.repeat(np.arange(len(faces)), 3)
    return sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(num_vertices, len(faces)))


# Where each model's files may be: SMPL-X ships .npz (and .pkl); SMPL ships .pkl only (`smplx` reads SMPL
# with pickle).
_MODEL_FILES = {"smplx": ("SMPLX_NEUTRAL.npz", "SMPLX_NEUTRAL.pkl"), "smpl": ("SMPL_NEUTRAL.pkl",)}


def model_file(model_dir: str | os.PathLike, model_type: str) -> Path | None:
    """The neutral model file of `model_type` in ``DIR/<type>/`` or directly in DIR, or None."""
    model_dir = Path(model_dir)
    for folder in (model_dir / model_type, model_dir):
        for name in _MODEL_FILES[model_type]:
            if (folder / name).is_file():
                return folder / name
    return None


def available_bodies(model_dir: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The body kinds that can be drawn: the mannequin, plus SMPL / SMPL-X when their neutral model file
    is in the model folder (`model_dir`, else ``$LODGE_SMPL_MODEL_DIR``)."""
    folder = model_dir or os.environ.get(SMPL_DIR_ENV)
    if not folder or not Path(folder).is_dir():
        return ("mannequin",)
    return ("mannequin",) + tuple(kind for kind in ("smpl", "smplx") if model_file(folder, kind) is not None)


def _create_smpl(model_dir: Path, model_type: str):
    """Load a neutral SMPL / SMPL-X model from a folder (``DIR/<type>/`` or the files directly in DIR)."""
    try:
        import smplx
    except ImportError as err:
        raise SmplUnavailable("the `smplx` package is not installed (pip install smplx)") from err
    path = model_file(model_dir, model_type)
    if path is None:
        names = " or ".join(_MODEL_FILES[model_type])
        raise SmplUnavailable(f"no {names} in {model_dir} or {model_dir / model_type}")
    kwargs = {"use_pca": False, "ext": path.suffix[1:]} if model_type == "smplx" else {}
    try:
        return smplx.create(str(path), model_type=model_type, gender="neutral", num_betas=10, **kwargs)
    except Exception as err:  # noqa: BLE001 - any loader failure means "unusable"
        raise SmplUnavailable(f"could not load {path}: {err}") from err


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
