"""Exports of a dance for other tools: BVH (22-joint SMPL skeleton) and SMPL-X parameters (AMASS-style .npz).

The animated GLB of the mannequin lives in `renderer.glb` (it needs the mannequin mesh); lodge does not
import the renderer.

BVH: one ROOT (pelvis) with 6 channels, 21 JOINTs with 3 rotation channels, all "Zrotation Xrotation
Yrotation" (R_local = Rz @ Rx @ Ry, degrees), offsets from `lodge.skeleton.rest_offsets` in metres
(Blender imports it at the right size with scale 1), y up, the character facing +z, 30 fps. The root's
OFFSET is zero and its position channels hold the world pelvis position.

SMPL-X .npz (AMASS layout, SMPL-X "G" release conventions):
    poses (T, 165) float32 axis-angle, the full SMPL-X pose: [0:3] global orient (pelvis), [3:66] the 21
        body joints in SMPL order, [66:69] jaw, [69:72] left eye, [72:75] right eye, [75:120] left hand
        (15 joints), [120:165] right hand; jaw, eyes and hands are zero (Lodge generates the body only;
        with `flat_hand_mean=False` in `smplx` zeros give the relaxed mean hand).
    trans (T, 3) SMPL-X `transl` (metres, y up): lodge's own transl, which puts the pelvis of the neutral
        SMPL-X body (zero betas) exactly on the dance's pelvis.
    betas (16,) zeros: the neutral body. gender "neutral". mocap_framerate = mocap_frame_rate = 30.
    Convenience keys: root_orient (T,3), pose_body (T,63), pose_hand (T,90), pose_jaw (T,3),
    pose_eye (T,6), surface_model_type "smplx".
Axis-angle comes from `lodge.rotations.matrix_to_axis_angle` (angles in [0, pi]).

What the SMPL-X file reproduces: the dance itself. Lodge's skeleton is the SMPL-X neutral body's own
(`lodge.skeleton.rest_joints`, not made symmetric), so the neutral SMPL-X body posed with these
parameters puts its 22 body joints on `dance.joints` (within float precision); a user's own shaped
body (other betas) differs by its own bone lengths. The BVH carries the same skeleton, so it
reproduces `dance.joints` too. Reading and writing
BVH text is `lodge.bvh`'s (`read_bvh` and `read_bvh_joints` here are its reader, End Sites dropped).
"""
from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np

from .bvh import Bvh, BvhJoint, read_bvh_joints, write_bvh  # noqa: F401 (read_bvh_joints: re-exported)
from .bvh import read_bvh as _read_bvh
from .constants import FPS, JOINT_NAMES, N_JOINTS, PARENTS
from .motion import unpack_motion
from .rotations import matrix_to_axis_angle
from .skeleton import rest_joints, rest_offsets

BVH_ROTATION_ORDER = "ZXY"
ROTATION_CHANNELS = ("Zrotation", "Xrotation", "Yrotation")
ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", *ROTATION_CHANNELS)
SMPLX_POSE_DIM = 165
NUM_BETAS = 16


def _motion_of(dance_or_motion) -> tuple[np.ndarray, int]:
    """(T, 139) motion and fps from a Dance or a bare motion array."""
    if hasattr(dance_or_motion, "motion"):
        return np.asarray(dance_or_motion.motion, np.float32), int(getattr(dance_or_motion, "fps", FPS))
    return np.asarray(dance_or_motion, np.float32), FPS


def _children(parents) -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {j: [] for j in range(len(parents))}
    for j, p in enumerate(parents):
        if p >= 0:
            kids[p].append(j)
    return kids


def _dfs_order(parents) -> list[int]:
    """Joints in the depth-first order BVH writes them (children in index order)."""
    kids, order, stack = _children(parents), [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(kids[j]))
    return order


def _euler_zxy_degrees(rotmats: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) intrinsic Z, X, Y angles in degrees with R = Rz @ Rx @ Ry."""
    from scipy.spatial.transform import Rotation

    shape = rotmats.shape[:-2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gimbal lock: the angles still reproduce R
        angles = Rotation.from_matrix(rotmats.reshape(-1, 3, 3).astype(np.float64)).as_euler(BVH_ROTATION_ORDER, degrees=True)
    return angles.reshape(*shape, 3)


def export_bvh(dance_or_motion, path: str | os.PathLike) -> Path:
    """Write the dance (a `Dance` or a (T, 139) motion) as a BVH file of the 22-joint skeleton (lodge.bvh's writer)."""
    motion, fps = _motion_of(dance_or_motion)
    _, transl, rotmats = unpack_motion(motion)
    offsets = rest_offsets().astype(np.float64)
    kids = _children(PARENTS)
    order = _dfs_order(PARENTS)  # the order the hierarchy is written, which the frame columns follow
    joints: list[BvhJoint] = []
    index: dict[int, int] = {}
    for j in order:
        index[j] = len(joints)
        if j == 0:  # the root's OFFSET is zero: its position channels hold the world pelvis position
            joints.append(BvhJoint(JOINT_NAMES[0], -1, np.zeros(3), list(ROOT_CHANNELS)))
        else:
            joints.append(BvhJoint(JOINT_NAMES[j], index[PARENTS[j]], offsets[j], list(ROTATION_CHANNELS)))
        if not kids[j]:  # leaves end half a bone further on
            joints.append(BvhJoint(JOINT_NAMES[j] + "_end", index[j], 0.5 * offsets[j], is_end=True))
    root_pos = np.asarray(transl, np.float64) + rest_joints()[0].astype(np.float64)
    euler = _euler_zxy_degrees(np.asarray(rotmats, np.float64)[:, order])  # (T, 22, 3)
    frames = np.concatenate([root_pos, euler.reshape(len(motion), -1)], axis=1)
    return write_bvh(Bvh(joints, frames, 1.0 / fps), path)


def read_bvh(path: str | os.PathLike) -> Bvh:
    """A BVH file read with `lodge.bvh`, without its End Sites (joints indexed as in `read_bvh_joints`)."""
    return _read_bvh(path, end_sites=False)


def smplx_params(dance_or_motion) -> dict[str, np.ndarray]:
    """The AMASS-style SMPL-X parameter dict of a dance (see the module docstring for the layout)."""
    motion, fps = _motion_of(dance_or_motion)
    _, transl, rotmats = unpack_motion(motion)
    aa = np.asarray(matrix_to_axis_angle(np.asarray(rotmats, np.float32)), np.float32)  # (T, 22, 3)
    frames = len(aa)
    poses = np.zeros((frames, SMPLX_POSE_DIM), np.float32)
    poses[:, : 3 * N_JOINTS] = aa.reshape(frames, -1)
    return {
        "poses": poses,
        "trans": np.asarray(transl, np.float32),
        "betas": np.zeros(NUM_BETAS, np.float32),
        "gender": np.str_("neutral"),
        "mocap_framerate": np.float32(fps),
        "mocap_frame_rate": np.float32(fps),
        "surface_model_type": np.str_("smplx"),
        "root_orient": poses[:, 0:3].copy(),
        "pose_body": poses[:, 3:66].copy(),
        "pose_jaw": poses[:, 66:69].copy(),
        "pose_eye": poses[:, 69:75].copy(),
        "pose_hand": poses[:, 75:165].copy(),
    }


def export_smplx_npz(dance_or_motion, path: str | os.PathLike) -> Path:
    """Write SMPL-X parameters as an AMASS-style .npz (for the Blender SMPL-X add-on, AMASS tools)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **smplx_params(dance_or_motion))
    return path


def export_files(dance_path: str | os.PathLike, bvh: str | os.PathLike | None = None,
                 smplx: str | os.PathLike | None = None) -> list[Path]:
    """Read a dance.npz and write the requested BVH and/or SMPL-X files; returns their paths."""
    from .dance import Dance

    if not (bvh or smplx):
        raise ValueError("nothing to export: give --bvh and/or --smplx")
    if not Path(dance_path).is_file():
        raise FileNotFoundError(f"no such dance file: {dance_path}")
    dance = Dance.load_npz(dance_path)
    written = []
    if bvh:
        written.append(export_bvh(dance, bvh))
    if smplx:
        written.append(export_smplx_npz(dance, smplx))
    return written


def export_main(argv: list[str] | None = None) -> int:
    """`python -m lodge.export DANCE.npz [--bvh OUT.bvh] [--smplx OUT.npz]`."""
    p = argparse.ArgumentParser(prog="python -m lodge.export", description=export_main.__doc__)
    p.add_argument("dance", type=Path)
    p.add_argument("--bvh", type=Path)
    p.add_argument("--smplx", type=Path)
    args = p.parse_args(argv)
    if not (args.bvh or args.smplx):
        p.error("give --bvh and/or --smplx")
    for path in export_files(args.dance, args.bvh, args.smplx):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(export_main())
