"""The 139-dim Lodge motion format: packing, forward kinematics, contacts, grounding, mirroring, normalising.

Layout per frame: 4 foot-contact labels (left ankle, right ankle, left toe, right toe), 3 root
translation (SMPL-X ``transl``, metres, y up), 22 x 6D joint rotations (pelvis global orientation
first, then the 21 body joints in SMPL order).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .constants import (
    ANKLE_CONTACT_HEIGHT, CONTACT_SLICE, FOOT_JOINTS, MIRROR_CONTACTS, MIRROR_JOINTS, MOTION_DIM,
    N_JOINTS, ROOT_SLICE, ROOT_X, ROOT_Y, ROOT_Z, ROT_SLICE, TOE_CONTACT_HEIGHT,
)
from .rotations import matrix_to_rotation_6d, rotation_6d_to_matrix
from .skeleton import forward_kinematics, rest_joints

# Under the reflection M = diag(-1, 1, 1) a rotation R becomes M R M: entries (0,1), (0,2), (1,0),
# (2,0) change sign. In the 6D layout (rows 0 and 1) that negates components 1, 2 and 3.
_MIRROR_6D_SIGN = np.array([1, -1, -1, -1, 1, 1], dtype=np.float32)


def pack_motion(contacts, transl, rotmats) -> np.ndarray:
    """(T,4) contacts, (T,3) translation, (T,22,3,3) local rotations -> (T,139) float32."""
    rotmats = np.asarray(rotmats, dtype=np.float32)
    frames = rotmats.shape[0]
    d6 = matrix_to_rotation_6d(rotmats).reshape(frames, N_JOINTS * 6)
    return np.concatenate(
        [np.asarray(contacts, np.float32).reshape(frames, 4), np.asarray(transl, np.float32).reshape(frames, 3), d6],
        axis=1,
    ).astype(np.float32)


def unpack_motion(motion):
    """(..., 139) -> (contacts (..., 4), transl (..., 3), local rotation matrices (..., 22, 3, 3))."""
    contacts = motion[..., CONTACT_SLICE]
    transl = motion[..., ROOT_SLICE]
    d6 = motion[..., ROT_SLICE].reshape(*motion.shape[:-1], N_JOINTS, 6)
    return contacts, transl, rotation_6d_to_matrix(d6)


def motion_to_joints(motion):
    """(..., 139) motion -> (..., 22, 3) world joint positions (torch or NumPy, as given)."""
    _, transl, rotmats = unpack_motion(motion)
    positions, _ = forward_kinematics(rotmats, transl)
    return positions


def compute_contacts(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) grounded joint positions -> (T, 4) 0/1 foot contacts by height thresholds."""
    heights = np.asarray(joints)[:, FOOT_JOINTS, 1]
    limits = np.array([ANKLE_CONTACT_HEIGHT, ANKLE_CONTACT_HEIGHT, TOE_CONTACT_HEIGHT, TOE_CONTACT_HEIGHT])
    return (heights < limits).astype(np.float32)


def ground_motion(motion: np.ndarray) -> np.ndarray:
    """Shift the root height so that the lowest toe is on the floor (y = 0) at the first frame."""
    motion = np.array(motion, dtype=np.float32, copy=True)
    joints = motion_to_joints(motion[:1])
    lowest_toe = joints[0, [FOOT_JOINTS[2], FOOT_JOINTS[3]], 1].min()
    motion[:, ROOT_Y] -= lowest_toe
    return motion


def relabel_contacts(motion: np.ndarray) -> np.ndarray:
    """Recompute the contact labels of a (T,139) motion from its own forward kinematics."""
    motion = np.array(motion, dtype=np.float32, copy=True)
    motion[:, CONTACT_SLICE] = compute_contacts(motion_to_joints(motion))
    return motion


def mirror_motion(motion):
    """Reflect a (..., 139) motion through the x = 0 plane (left <-> right). Mirroring twice is the identity.

    Contacts and joint rotations swap sides, rotations become M R M with M = diag(-1, 1, 1), and the root
    moves so that the world pelvis x is negated exactly (transl_x -> -transl_x - 2 * rest_pelvis_x). The
    skeleton is SMPL-X's own, not left/right symmetric (`lodge.skeleton.rest_joints`), so the other
    joints land near, not exactly on, `mirror_joints` of the original's (2 cm on average, up to 7 cm).
    """
    is_torch = isinstance(motion, torch.Tensor)
    m = motion.detach().cpu().numpy() if is_torch else np.asarray(motion, dtype=np.float32)
    out = np.empty_like(m)
    out[..., CONTACT_SLICE] = m[..., CONTACT_SLICE][..., list(MIRROR_CONTACTS)]
    root = m[..., ROOT_SLICE].copy()
    root[..., 0] = -root[..., 0] - 2.0 * float(rest_joints()[0, 0])
    out[..., ROOT_SLICE] = root
    d6 = m[..., ROT_SLICE].reshape(*m.shape[:-1], N_JOINTS, 6)
    d6 = d6[..., list(MIRROR_JOINTS), :] * _MIRROR_6D_SIGN
    out[..., ROT_SLICE] = d6.reshape(*m.shape[:-1], N_JOINTS * 6)
    if is_torch:
        return torch.from_numpy(out).to(device=motion.device, dtype=motion.dtype)
    return out


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Reflect (..., 22, 3) joint positions through x = 0 and swap left/right joints."""
    out = np.asarray(joints)[..., list(MIRROR_JOINTS), :].copy()
    out[..., 0] *= -1
    return out


@dataclass
class Normalizer:
    """Per-dimension min-max scaling to [-1, 1], fitted on a training set and stored with a checkpoint."""

    data_min: np.ndarray
    data_max: np.ndarray
    eps: float = 1e-6

    @classmethod
    def fit(cls, data: np.ndarray) -> "Normalizer":
        """Fit on (N, D) or (..., D) data."""
        flat = np.asarray(data, dtype=np.float64).reshape(-1, np.asarray(data).shape[-1])
        return cls(flat.min(0).astype(np.float32), flat.max(0).astype(np.float32))

    def _scale(self) -> np.ndarray:
        return np.maximum(self.data_max - self.data_min, self.eps)

    def held(self) -> np.ndarray:
        """(D,) bool: the dimensions that were constant in the fitted data (e.g. joints the retargeting fixes).

        They are held: normalising maps them to -1 whatever the input holds, denormalising gives the
        fitted constant. Scaling them by ``eps`` instead would turn a millimetre-level change of the
        constant (data retargeted onto another skeleton) into values of 1e5 in the network's input.
        """
        return (self.data_max - self.data_min) < self.eps

    def normalize(self, x):
        """Data -> [-1, 1] (held dimensions -> -1). Works on NumPy arrays and torch tensors."""
        lo, scale, held = self.data_min, self._scale(), self.held()
        if isinstance(x, torch.Tensor):
            lo = torch.as_tensor(lo, dtype=x.dtype, device=x.device)
            scale = torch.as_tensor(scale, dtype=x.dtype, device=x.device)
            z = 2.0 * (x - lo) / scale - 1.0
            return torch.where(torch.as_tensor(held, device=x.device), torch.full_like(z, -1.0), z) if held.any() else z
        z = 2.0 * (x - lo) / scale - 1.0
        return np.where(held, np.asarray(-1.0, dtype=z.dtype), z) if held.any() else z

    def denormalize(self, x):
        """[-1, 1] -> data (held dimensions -> their constant). Works on NumPy arrays and torch tensors."""
        lo, scale, held = self.data_min, self._scale(), self.held()
        if isinstance(x, torch.Tensor):
            lo_t = torch.as_tensor(lo, dtype=x.dtype, device=x.device)
            scale = torch.as_tensor(scale, dtype=x.dtype, device=x.device)
            out = (x + 1.0) * 0.5 * scale + lo_t
            return torch.where(torch.as_tensor(held, device=x.device), lo_t.expand_as(out), out) if held.any() else out
        out = (x + 1.0) * 0.5 * scale + lo
        return np.where(held, lo.astype(out.dtype), out) if held.any() else out

    def with_root_range(self, half_range: float | None) -> "Normalizer":
        """A copy whose horizontal root (x, z) maps its centre +- ``half_range`` metres onto [-1, 1]
        (the centre of the fitted range kept), so that the root's normalised values grow by the fitted
        half range / ``half_range``; None returns this normaliser itself."""
        if half_range is None:
            return self
        lo, hi = self.data_min.copy(), self.data_max.copy()
        for dim in (ROOT_X, ROOT_Z):
            centre = 0.5 * (float(lo[dim]) + float(hi[dim]))
            lo[dim], hi[dim] = centre - half_range, centre + half_range
        return Normalizer(lo, hi, self.eps)

    def for_network(self, net) -> "Normalizer":
        """The space a network denoises in: this normaliser with the network's ``root_range``
        (:class:`lodge.config.NetConfig`)."""
        return self.with_root_range(getattr(net, "root_range", None))

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"min": self.data_min.tolist(), "max": self.data_max.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Normalizer":
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(d["min"], np.float32), np.asarray(d["max"], np.float32))


@dataclass
class PrimitiveNormalizer:
    """The space the global network denoises primitives in: the motion normaliser, then each primitive's
    frames about their own mean pose scaled by ``motion_gain`` (``NetConfig.prim_motion_gain``).

    Works on (..., L, D) primitives (frames on the second-to-last axis), NumPy or torch. With a gain of
    1 it is the motion normaliser itself. Linear and invertible, so inpainting held primitives and
    classifier-free guidance work in it as in the plain space.
    """

    base: Normalizer
    motion_gain: float = 1.0

    def _about_mean(self, z, gain: float):
        if gain == 1.0:
            return z
        mean = z.mean(dim=-2, keepdim=True) if isinstance(z, torch.Tensor) else z.mean(axis=-2, keepdims=True)
        return mean + gain * (z - mean)

    def normalize(self, x):
        """Data primitives -> the global network's space."""
        return self._about_mean(self.base.normalize(x), self.motion_gain)

    def denormalize(self, y):
        """The global network's space -> data primitives."""
        return self.base.denormalize(self._about_mean(y, 1.0 / self.motion_gain))


def rest_motion(frames: int = 1) -> np.ndarray:
    """A (frames, 139) motion standing still in the rest pose with the toes on the floor."""
    rot = np.broadcast_to(np.eye(3, dtype=np.float32), (frames, N_JOINTS, 3, 3))
    motion = pack_motion(np.zeros((frames, 4)), np.zeros((frames, 3)), rot)
    return relabel_contacts(ground_motion(motion))


assert MOTION_DIM == 139


def heading(motion) -> np.ndarray:
    """(..., 139) -> (...,) yaw in radians of the pelvis' forward (+z) axis about the vertical (0 = facing +z)."""
    _, _, rot = unpack_motion(np.asarray(motion, dtype=np.float32))
    forward = rot[..., 0, :, 2]  # the pelvis' local +z axis in world coordinates
    return np.arctan2(forward[..., 0], forward[..., 2])


def _rot_y(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]], dtype=np.float64)


def planar_transform(motion: np.ndarray, theta: float, offset_xz) -> np.ndarray:
    """Turn a (..., 139) motion by `theta` about the vertical axis through the world origin, then shift it
    horizontally by `offset_xz`. The world pelvis moves as p -> R_y p + offset; the pelvis orientation
    as R -> R_y R; contacts and the other (local) joint rotations are unchanged."""
    motion = np.asarray(motion)
    return planar_transforms(motion[None], np.array([theta]), np.asarray(offset_xz, np.float64)[None])[0]


def planar_transforms(motions: np.ndarray, thetas: np.ndarray, offsets_xz: np.ndarray) -> np.ndarray:
    """:func:`planar_transform` of N motions (N, ..., 139) at once, each with its own theta (N,) and
    horizontal offset (N, 2)."""
    out = np.array(motions, dtype=np.float32, copy=True)
    thetas = np.asarray(thetas, np.float64)
    c, s = np.cos(thetas), np.sin(thetas)
    ry = np.zeros((len(thetas), 3, 3))
    ry[:, 0, 0], ry[:, 0, 2], ry[:, 1, 1], ry[:, 2, 0], ry[:, 2, 2] = c, s, 1.0, -s, c
    ry = ry.reshape((len(thetas),) + (1,) * (out.ndim - 2) + (3, 3))
    rest_pelvis = rest_joints()[0].astype(np.float64)
    pelvis = out[..., ROOT_SLICE].astype(np.float64) + rest_pelvis
    pelvis = (ry @ pelvis[..., None])[..., 0]
    offsets = np.asarray(offsets_xz, np.float64).reshape((len(thetas),) + (1,) * (out.ndim - 2) + (2,))
    pelvis[..., 0] += offsets[..., 0]
    pelvis[..., 2] += offsets[..., 1]
    out[..., ROOT_SLICE] = (pelvis - rest_pelvis).astype(np.float32)
    rot_start = ROT_SLICE.start
    pelvis_rot = rotation_6d_to_matrix(out[..., rot_start:rot_start + 6].astype(np.float64))
    out[..., rot_start:rot_start + 6] = matrix_to_rotation_6d(ry @ pelvis_rot).astype(np.float32)
    return out


def align_transforms(source_frames: np.ndarray, target_frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`align_transform` of N (source, target) frame pairs, (N, 139) each: thetas (N,), offsets (N, 2)."""
    thetas = heading(target_frames) - heading(source_frames)
    return thetas, placement_offsets(source_frames, target_frames, thetas)


def placement_offsets(source_frames: np.ndarray, target_frames: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """(N, 2) horizontal offsets of :func:`planar_transforms` that, after turning each (139,) source
    frame by its theta (N,), put its pelvis where the target frame's is."""
    rest_pelvis = rest_joints()[0].astype(np.float64)
    src = source_frames[:, ROOT_SLICE].astype(np.float64) + rest_pelvis
    c, s = np.cos(thetas), np.sin(thetas)
    src_x = c * src[:, 0] + s * src[:, 2]
    src_z = -s * src[:, 0] + c * src[:, 2]
    dst = target_frames[:, ROOT_SLICE].astype(np.float64) + rest_pelvis
    return np.stack([dst[:, 0] - src_x, dst[:, 2] - src_z], axis=-1)


def align_transform(source_frame: np.ndarray, target_frame: np.ndarray) -> tuple[float, np.ndarray]:
    """The (theta, offset_xz) of :func:`planar_transform` that puts `source_frame`'s pelvis (139,) where
    `target_frame`'s is, horizontally, facing the same way."""
    thetas, offsets = align_transforms(np.asarray(source_frame)[None], np.asarray(target_frame)[None])
    return float(thetas[0]), offsets[0]


def canonical_transform(frame: np.ndarray) -> tuple[float, np.ndarray]:
    """The (theta, offset_xz) that moves a (139,) frame's pelvis to x = z = 0 facing +z."""
    return align_transform(frame, rest_motion(1)[0])


def invert_planar(theta: float, offset_xz) -> tuple[float, np.ndarray]:
    """The inverse of planar_transform(., theta, offset_xz)."""
    back = _rot_y(-theta)
    shifted = back @ np.array([offset_xz[0], 0.0, offset_xz[1]])
    return -theta, np.array([-shifted[0], -shifted[2]])
