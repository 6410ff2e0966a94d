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
    trans (T, 3) SMPL-X `transl`: world pelvis = rest pelvis + trans (metres, y up).
    betas (16,) zeros: the neutral body. gender "neutral". mocap_framerate = mocap_frame_rate = 30.
    Convenience keys: root_orient (T,3), pose_body (T,63), pose_hand (T,90), pose_jaw (T,3),
    pose_eye (T,6), surface_model_type "smplx".
Axis-angle comes from `lodge.rotations.matrix_to_axis_angle` (angles in [0, pi]).
"""
from __future__ import annotations

import argparse
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import FPS, JOINT_NAMES, N_JOINTS, PARENTS
from .motion import unpack_motion
from .rotations import matrix_to_axis_angle
from .skeleton import rest_joints, rest_offsets

BVH_ROTATION_ORDER = "ZXY"
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
    """Write the dance (a `Dance` or a (T, 139) motion) as a BVH file of the 22-joint skeleton."""
    motion, fps = _motion_of(dance_or_motion)
    _, transl, rotmats = unpack_motion(motion)
    rotmats = np.asarray(rotmats, np.float64)
    offsets = rest_offsets().astype(np.float64)
    kids = _children(PARENTS)
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        if j == 0:
            lines.append(f"ROOT {JOINT_NAMES[0]}")
            lines.append("{")
            lines.append(f"{pad}  OFFSET 0.000000 0.000000 0.000000")
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}JOINT {JOINT_NAMES[j]}")
            lines.append(f"{pad}{{")
            lines.append(f"{pad}  OFFSET " + " ".join(f"{x:.6f}" for x in offsets[j]))
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        for c in kids[j]:
            emit(c, depth + 1)
        if not kids[j]:  # leaves end half a bone further on
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET " + " ".join(f"{x:.6f}" for x in 0.5 * offsets[j]))
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    emit(0, 0)
    order = _dfs_order(PARENTS)
    root_pos = np.asarray(transl, np.float64) + rest_joints()[0].astype(np.float64)
    euler = _euler_zxy_degrees(rotmats[:, order])  # (T, 22, 3)
    frames = np.concatenate([root_pos, euler.reshape(len(motion), -1)], axis=1)
    lines += ["MOTION", f"Frames: {len(motion)}", f"Frame Time: {1.0 / fps:.8f}"]
    lines += [" ".join(f"{x:.6f}" for x in row) for row in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Bvh:
    """A parsed BVH file (joints only; end sites are dropped)."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # (J, 3)
    channels: list[list[str]]
    frames: np.ndarray  # (T, total channels)
    frame_time: float


def read_bvh(path: str | os.PathLike) -> Bvh:
    """Parse any BVH file's hierarchy and motion."""
    tokens = Path(path).read_text().split()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    i, in_end = 0, 0
    while tokens[i] != "MOTION":
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2
            continue
        if tok == "End":
            in_end += 1
            i += 2
            continue
        if tok == "{":
            stack.append(-2 if in_end else len(names) - 1)
        elif tok == "}":
            if stack.pop() == -2:
                in_end -= 1
        elif tok == "OFFSET":
            if stack[-1] >= 0:
                offsets[stack[-1]] = [float(x) for x in tokens[i + 1:i + 4]]
            i += 4
            continue
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            channels[stack[-1]] = tokens[i + 2:i + 2 + n]
            i += 2 + n
            continue
        i += 1
    n_frames = int(tokens[i + 2])
    frame_time = float(tokens[i + 5])
    values = np.array(tokens[i + 6:], dtype=np.float64)
    width = sum(len(c) for c in channels)
    return Bvh(names, parents, np.array(offsets), channels, values[: n_frames * width].reshape(n_frames, width), frame_time)


def _axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((len(a), 3, 3))
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    out[:, i, i] = 1.0
    out[:, j, j], out[:, j, k], out[:, k, j], out[:, k, k] = c, -s, s, c
    return out


def bvh_joint_positions(bvh: Bvh) -> np.ndarray:
    """(T, J, 3) world joint positions by forward kinematics of a parsed BVH (file units)."""
    frames = len(bvh.frames)
    col = 0
    glob_rot: list[np.ndarray] = []
    glob_pos: list[np.ndarray] = []
    for j, chans in enumerate(bvh.channels):
        local_t = np.broadcast_to(bvh.offsets[j], (frames, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (frames, 3, 3)).copy()
        for ch in chans:
            value = bvh.frames[:, col]
            col += 1
            if ch.endswith("position"):
                local_t[:, "XYZ".index(ch[0])] += value
            else:
                local_r = local_r @ _axis_rotation(ch[0], value)
        p = bvh.parents[j]
        if p < 0:
            glob_rot.append(local_r)
            glob_pos.append(local_t)
        else:
            glob_pos.append(glob_pos[p] + np.einsum("tij,tj->ti", glob_rot[p], local_t))
            glob_rot.append(glob_rot[p] @ local_r)
    return np.stack(glob_pos, axis=1)


def read_bvh_joints(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(joint names, (T, J, 3) world positions) of a BVH file, joints in file order."""
    bvh = read_bvh(path)
    return bvh.names, bvh_joint_positions(bvh)


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


def export_main(argv: list[str] | None = None) -> int:
    """`python -m lodge.export DANCE.npz [--bvh OUT.bvh] [--smplx OUT.npz]` (same as `python -m lodge export`)."""
    from .dance import Dance

    p = argparse.ArgumentParser(prog="python -m lodge.export", description=export_main.__doc__)
    p.add_argument("dance", type=Path)
    p.add_argument("--bvh", type=Path)
    p.add_argument("--smplx", type=Path)
    args = p.parse_args(argv)
    if not (args.bvh or args.smplx):
        p.error("give --bvh and/or --smplx")
    dance = Dance.load_npz(args.dance)
    if args.bvh:
        print(f"wrote {export_bvh(dance, args.bvh)}")
    if args.smplx:
        print(f"wrote {export_smplx_npz(dance, args.smplx)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(export_main())
