"""The 22-joint SMPL body skeleton: rest joints (SMPL-X neutral, from mannequin-x) and forward kinematics."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .constants import MIRROR_JOINTS, N_JOINTS, PARENTS

_ASSETS = Path(__file__).resolve().parent / "assets"


@lru_cache(maxsize=1)
def smplx_neutral_joints() -> np.ndarray:
    """(22, 3) float32 rest joints of the SMPL-X neutral body at zero shape, as SMPL-X has them (not
    symmetrised), metres, y up: where the `smplx` package puts the joints of the exported parameters."""
    joints = np.load(_ASSETS / "smplx_rest_joints.npy").astype(np.float32)
    joints.setflags(write=False)
    return joints


@lru_cache(maxsize=1)
def rest_joints() -> np.ndarray:
    """(22, 3) float32 rest positions of the SMPL-X neutral body joints, metres, y up.

    The shipped joints are made exactly left/right symmetric (each pair averaged with its mirror
    image; they differ by under 1.2 cm) so that mirroring a motion mirrors its joints exactly.
    """
    raw = smplx_neutral_joints().astype(np.float64)
    mirrored = raw[list(MIRROR_JOINTS)] * np.array([-1.0, 1.0, 1.0])
    joints = (0.5 * (raw + mirrored)).astype(np.float32)
    joints.setflags(write=False)
    return joints


def rest_offsets() -> np.ndarray:
    """(22, 3) offset of each joint from its parent in the rest pose (row 0: the pelvis itself)."""
    joints = rest_joints()
    offsets = joints.copy()
    for j in range(1, N_JOINTS):
        offsets[j] = joints[j] - joints[PARENTS[j]]
    return offsets


def forward_kinematics(local_rotmats, transl, rest=None):
    """World joint positions and rotations from local joint rotations.

    Args:
        local_rotmats: (..., 22, 3, 3) rotation of each joint relative to its parent (joint 0:
            the pelvis' global orientation), torch or NumPy.
        transl: (..., 3) SMPL-X translation: world pelvis = rest pelvis + transl.
        rest: optional (22, 3) rest joints to pose instead of lodge's :func:`rest_joints` (e.g.
            :func:`smplx_neutral_joints`, to get what the SMPL-X body does with the same parameters).

    Returns:
        (positions (..., 22, 3), global rotations (..., 22, 3, 3)), same array type as the input.
    """
    as_numpy = isinstance(local_rotmats, np.ndarray)
    rot = torch.as_tensor(local_rotmats)
    trans = torch.as_tensor(transl, dtype=rot.dtype)
    if rest is None:
        rest_np, offsets_np = np.array(rest_joints()), rest_offsets()
    else:
        rest_np = np.array(rest, np.float32)
        offsets_np = rest_np.copy()
        offsets_np[1:] -= rest_np[list(PARENTS[1:])]
    rest = torch.as_tensor(rest_np, dtype=rot.dtype, device=rot.device)
    offsets = torch.as_tensor(offsets_np, dtype=rot.dtype, device=rot.device)
    glob_rot = [rot[..., 0, :, :]]
    glob_pos = [rest[0] + trans]
    for j in range(1, N_JOINTS):
        p = PARENTS[j]
        glob_pos.append(glob_pos[p] + (glob_rot[p] @ offsets[j][:, None])[..., 0])
        glob_rot.append(glob_rot[p] @ rot[..., j, :, :])
    positions = torch.stack(glob_pos, dim=-2)
    rotations = torch.stack(glob_rot, dim=-3)
    if as_numpy:
        return positions.numpy(), rotations.numpy()
    return positions, rotations
