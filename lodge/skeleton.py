"""The 22-joint SMPL body skeleton: rest joints (SMPL-X neutral, from mannequin-x) and forward kinematics."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .constants import N_JOINTS, PARENTS

_ASSETS = Path(__file__).resolve().parent / "assets"


@lru_cache(maxsize=1)
def rest_joints() -> np.ndarray:
    """(22, 3) float32 rest joints of the SMPL-X neutral body at zero shape, metres, y up, exactly as
    SMPL-X has them (`lodge/assets/smplx_rest_joints.npy`, from mannequin-x).

    They are not made left/right symmetric, so the exported SMPL-X parameters put the `smplx` body's
    joints exactly on `dance.joints` in every SMPL-X tool, which users see. Mirroring
    (`lodge.motion.mirror_motion`) stays exact in the rotations (left/right swapped and reflected) and
    the pelvis; only the mirrored joint positions differ from the exact reflection of the joints, by the
    body's own left/right asymmetry (a rest bone and its mirror image differ by up to 4 cm, at the upper
    arms): about 2 cm on average over the corpus, up to about 7 cm at the wrists. That is a valid pose
    of the real body, seen only by the mirrored soft cues and the training augmentation; the shipped
    weights predict rotations and keep working.
    """
    joints = np.load(_ASSETS / "smplx_rest_joints.npy").astype(np.float32)
    joints.setflags(write=False)
    return joints


def rest_offsets() -> np.ndarray:
    """(22, 3) offset of each joint from its parent in the rest pose (row 0: the pelvis itself)."""
    joints = rest_joints()
    offsets = joints.copy()
    for j in range(1, N_JOINTS):
        offsets[j] = joints[j] - joints[PARENTS[j]]
    return offsets


def forward_kinematics(local_rotmats, transl):
    """World joint positions and rotations from local joint rotations.

    Args:
        local_rotmats: (..., 22, 3, 3) rotation of each joint relative to its parent (joint 0:
            the pelvis' global orientation), torch or NumPy.
        transl: (..., 3) SMPL-X translation: world pelvis = rest pelvis + transl.

    Returns:
        (positions (..., 22, 3), global rotations (..., 22, 3, 3)), same array type as the input.
    """
    as_numpy = isinstance(local_rotmats, np.ndarray)
    rot = torch.as_tensor(local_rotmats)
    trans = torch.as_tensor(transl, dtype=rot.dtype)
    rest = torch.as_tensor(np.array(rest_joints()), dtype=rot.dtype, device=rot.device)
    offsets = torch.as_tensor(rest_offsets(), dtype=rot.dtype, device=rot.device)
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
