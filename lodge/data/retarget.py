"""Retarget the CMU DAZ 21-joint BVH skeleton to the 22-joint SMPL skeleton and the 139-dim format.

Each SMPL joint takes the world rotation of its DAZ counterpart (which carries the twist), corrected by
the smallest rotation that makes its SMPL rest bone point exactly along the source bone. The pelvis
frame is built from positions (hip-to-hip line and the hip-to-abdomen line); spine2 is halfway between
spine1 and spine3 (DAZ has two spine joints, SMPL three). The root follows the source hip midpoint,
scaled by the leg-length ratio, and is shifted vertically so the feet stand where the source's stand.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import FOOT_JOINTS, N_JOINTS, PARENTS
from ..motion import compute_contacts, pack_motion
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle
from ..skeleton import forward_kinematics, rest_joints
from ..bvh import Bvh, bvh_forward_kinematics

# SMPL joint -> (DAZ joint whose world rotation it takes, DAZ bone start, DAZ bone end, SMPL rest bone
# end). None in the bone columns: take the DAZ rotation as it is (no SMPL child to aim).
_LIMBS: dict[int, tuple[str, str | None, str | None, int | None]] = {
    1: ("lThigh", "lThigh", "lShin", 4),
    2: ("rThigh", "rThigh", "rShin", 5),
    3: ("abdomen", "abdomen", "chest", 6),
    4: ("lShin", "lShin", "lFoot", 7),
    5: ("rShin", "rShin", "rFoot", 8),
    7: ("lFoot", "lFoot", "lFoot_end", 10),
    8: ("rFoot", "rFoot", "rFoot_end", 11),
    9: ("chest", "chest", "neck", 12),
    12: ("neck", "neck", "head", 15),
    13: ("lCollar", "lCollar", "lShldr", 16),
    14: ("rCollar", "rCollar", "rShldr", 17),
    15: ("head", None, None, None),
    16: ("lShldr", "lShldr", "lForeArm", 18),
    17: ("rShldr", "rShldr", "rForeArm", 19),
    18: ("lForeArm", "lForeArm", "lHand", 20),
    19: ("rForeArm", "rForeArm", "rHand", 21),
    20: ("lHand", "lHand", "lHand_end", None),  # the hand continues the forearm in the SMPL rest pose
    21: ("rHand", "rHand", "rHand_end", None),
}
# SMPL joint -> DAZ point at the same place, for measuring position error (pelvis and spine differ).
POSITION_PAIRS: dict[int, str] = {
    1: "lThigh", 2: "rThigh", 4: "lShin", 5: "rShin", 7: "lFoot", 8: "rFoot", 10: "lFoot_end",
    11: "rFoot_end", 12: "neck", 13: "lCollar", 14: "rCollar", 15: "head", 16: "lShldr", 17: "rShldr",
    18: "lForeArm", 19: "rForeArm", 20: "lHand", 21: "rHand",
}
# SMPL joint -> (DAZ bone start, DAZ bone end) for every SMPL bone whose direction is reproduced exactly.
BONE_PAIRS: dict[tuple[int, int], tuple[str, str]] = {
    (j, c): (a, b) for j, (_, a, b, c) in _LIMBS.items() if c is not None
}
_DAZ_FEET = ("lFoot", "rFoot", "lFoot_end", "rFoot_end")


@dataclass
class Retargeted:
    """A retargeted take: 139-dim motion plus what was needed to check it."""

    motion: np.ndarray  # (T, 139) float32
    joints: np.ndarray  # (T, 22, 3) SMPL joints (FK of motion)
    source_joints: np.ndarray  # (T, J, 3) DAZ joints and End Sites, scaled by `scale`, same floor
    scale: float  # SMPL leg length / DAZ leg length
    floor_shift: float  # metres added to the root height to put the feet where the source's are
    floor_correction: float  # metres the source was lowered because its floor sat under its planted feet


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _rotation_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotation taking unit vectors u to v."""
    axis = np.cross(u, v)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    cos = np.sum(u * v, axis=-1, keepdims=True)
    angle = np.arctan2(sin, cos)
    return axis_angle_to_matrix(_unit(axis) * angle)


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """(..., 3, 3) orthonormal frame with columns (primary, secondary made orthogonal, their cross)."""
    a = _unit(primary)
    b = _unit(secondary - np.sum(secondary * a, axis=-1, keepdims=True) * a)
    return np.stack([a, b, np.cross(a, b)], axis=-1)


def _slerp_halfway(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation halfway between rotations a and b."""
    rel = matrix_to_axis_angle(np.swapaxes(a, -1, -2) @ b)
    return a @ axis_angle_to_matrix(0.5 * rel)


def leg_length(points: np.ndarray) -> float:
    """Hip-knee-ankle length of a (3, 3) chain of points."""
    return float(np.linalg.norm(points[1] - points[0]) + np.linalg.norm(points[2] - points[1]))


def smpl_leg_length() -> float:
    rest = rest_joints().astype(np.float64)
    return 0.5 * (leg_length(rest[[1, 4, 7]]) + leg_length(rest[[2, 5, 8]]))


def daz_leg_length(bvh: Bvh) -> float:
    """Rest leg length of the BVH skeleton (mean of both sides)."""
    zero = Bvh(bvh.joints, np.zeros((1, bvh.frames.shape[1])), bvh.frame_time)
    pos = bvh_forward_kinematics(zero)[0][0]
    idx = bvh.index
    return 0.5 * sum(leg_length(pos[[idx(s + "Thigh"), idx(s + "Shin"), idx(s + "Foot")]]) for s in "lr")


def source_rotations(pos: np.ndarray, glob: np.ndarray, names: list[str]) -> np.ndarray:
    """(T, 22, 3, 3) SMPL world rotations from DAZ world positions and rotations."""
    idx = {n: k for k, n in enumerate(names)}
    rest = rest_joints().astype(np.float64)
    n_t = len(pos)
    out = np.zeros((n_t, N_JOINTS, 3, 3))

    # Pelvis from positions: x axis = right-to-left hip line, y = up the spine.
    hip_mid = 0.5 * (pos[:, idx["lThigh"]] + pos[:, idx["rThigh"]])
    src = _frame(pos[:, idx["lThigh"]] - pos[:, idx["rThigh"]], pos[:, idx["abdomen"]] - hip_mid)
    ref = _frame(rest[1] - rest[2], rest[3] - 0.5 * (rest[1] + rest[2]))
    out[:, 0] = src @ ref.T

    for j, (daz, start, end, child) in _LIMBS.items():
        g = glob[:, idx[daz]]
        if start is not None:
            rest_dir = _unit(rest[child] - rest[j]) if child is not None else _unit(rest[j] - rest[PARENTS[j]])
            target = _unit(pos[:, idx[end]] - pos[:, idx[start]])
            g = _rotation_between(_unit(g @ rest_dir), target) @ g
        out[:, j] = g
    out[:, 6] = _slerp_halfway(out[:, 3], out[:, 9])
    out[:, 10] = out[:, 7]  # toes do not bend in the source
    out[:, 11] = out[:, 8]
    return out


def world_to_local(glob: np.ndarray) -> np.ndarray:
    """(..., 22, 3, 3) world rotations -> rotations relative to the parent joint."""
    local = glob.copy()
    for j in range(1, N_JOINTS):
        local[..., j, :, :] = np.swapaxes(glob[..., PARENTS[j], :, :], -1, -2) @ glob[..., j, :, :]
    return local


def _floor_shift(src_feet: np.ndarray, ret_feet: np.ndarray) -> float:
    """Vertical shift putting the retargeted feet where the source's stand.

    Args: per-frame lowest foot point height of the (scaled) source and of the retargeted motion.
    Uses the frames where the source stands on its floor (lowest foot within 3 cm of y = 0), so
    that takes whose floor was set by the planted feet keep it.
    """
    diff = src_feet - ret_feet
    standing = np.abs(src_feet) < 0.03
    if standing.mean() < 0.1:
        standing = src_feet <= np.quantile(src_feet, 0.2)
    return float(np.median(diff[standing]))


def retarget(bvh: Bvh) -> Retargeted:
    """Retarget a CMU DAZ BVH take to a (T, 139) SMPL motion with the source's floor."""
    pos, glob = bvh_forward_kinematics(bvh)
    names = bvh.names
    idx = {n: k for k, n in enumerate(names)}
    scale = smpl_leg_length() / daz_leg_length(bvh)
    pos = pos * scale  # about the origin: the floor y = 0 stays at 0
    # Some takes hover: one glitch frame set their floor, and the planted feet stand centimetres above
    # it. Lower those to where the feet usually are; never raise a take (that would float it).
    feet = [idx[n] for n in _DAZ_FEET]
    correction = max(0.0, float(np.quantile(pos[:, feet, 1].min(1), 0.05)))
    pos[..., 1] -= correction

    world = source_rotations(pos, glob, names)
    local = world_to_local(world)
    rest = rest_joints().astype(np.float64)
    # The SMPL hip midpoint follows the source hip midpoint.
    hip_mid_src = 0.5 * (pos[:, idx["lThigh"]] + pos[:, idx["rThigh"]])
    hip_mid_rest = 0.5 * (rest[1] + rest[2]) - rest[0]
    pelvis = hip_mid_src - world[:, 0] @ hip_mid_rest
    transl = pelvis - rest[0]

    joints, _ = forward_kinematics(local, transl)
    src_feet = pos[:, feet, 1].min(1)
    shift = _floor_shift(src_feet, joints[:, list(FOOT_JOINTS), 1].min(1))
    transl[:, 1] += shift
    joints[..., 1] += shift
    motion = pack_motion(compute_contacts(joints), transl, local)
    return Retargeted(motion, joints.astype(np.float32), pos.astype(np.float32), scale, shift, correction)


def bone_angle_errors(ret: Retargeted, names: list[str]) -> np.ndarray:
    """(T, bones) angle in degrees between each retargeted SMPL bone and its source bone."""
    idx = {n: k for k, n in enumerate(names)}
    errs = []
    for (j, c), (a, b) in BONE_PAIRS.items():
        u = _unit(ret.joints[:, c] - ret.joints[:, j])
        v = _unit(ret.source_joints[:, idx[b]] - ret.source_joints[:, idx[a]])
        errs.append(np.degrees(np.arccos(np.clip(np.sum(u * v, -1), -1, 1))))
    return np.stack(errs, 1)


def position_errors(ret: Retargeted, names: list[str]) -> np.ndarray:
    """(T, pairs) distance in metres between SMPL joints and their DAZ counterparts (scaled, same hip midpoint)."""
    idx = {n: k for k, n in enumerate(names)}
    smpl = ret.joints.copy()
    smpl[..., 1] -= ret.floor_shift
    src = ret.source_joints[:, [idx[n] for n in POSITION_PAIRS.values()]]
    return np.linalg.norm(smpl[:, list(POSITION_PAIRS)] - src, axis=-1)


def floor_violation(ret: Retargeted, names: list[str]) -> np.ndarray:
    """(T,) how far (m, >= 0) the lowest retargeted foot point goes below both the floor and the source's lowest foot."""
    idx = {n: k for k, n in enumerate(names)}
    src = ret.source_joints[:, [idx[n] for n in _DAZ_FEET], 1].min(1)
    ret_low = ret.joints[:, list(FOOT_JOINTS), 1].min(1)
    return np.maximum(0.0, np.minimum(src, 0.0) - ret_low)
