"""The one BVH module: reader, writer, and forward kinematics with per-joint Euler order."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class BvhJoint:
    """One joint of a BVH hierarchy (End Sites are joints with no channels, named `<parent>_end`)."""

    name: str
    parent: int
    offset: np.ndarray  # (3,)
    channels: list[str] = field(default_factory=list)
    is_end: bool = False


@dataclass
class Bvh:
    """A parsed BVH file: joints in file order, per-frame channel values, frame time in seconds."""

    joints: list[BvhJoint]
    frames: np.ndarray  # (T, total channels)
    frame_time: float

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def channel_columns(self) -> list[slice]:
        """Column slice of each joint's channels in `frames`."""
        cols, start = [], 0
        for j in self.joints:
            cols.append(slice(start, start + len(j.channels)))
            start += len(j.channels)
        return cols

    @property
    def parents(self) -> list[int]:
        """Index of each joint's parent in `joints` (-1 for the root)."""
        return [j.parent for j in self.joints]

    @property
    def channels(self) -> list[list[str]]:
        return [list(j.channels) for j in self.joints]

    @property
    def offsets(self) -> np.ndarray:
        """(J, 3) offsets from the parent joints (file units)."""
        return np.stack([j.offset for j in self.joints])

    def crop(self, start: int, stop: int) -> "Bvh":
        """Frames [start, stop)."""
        return Bvh(self.joints, self.frames[start:stop].copy(), self.frame_time)

    def without_end_sites(self) -> "Bvh":
        """The same file without its End Sites (they have no channels, so the frames are unchanged)."""
        keep = [k for k, j in enumerate(self.joints) if not j.is_end]
        new_index = {old: new for new, old in enumerate(keep)}
        joints = [BvhJoint(j.name, new_index.get(j.parent, -1), j.offset.copy(), list(j.channels))
                  for j in (self.joints[k] for k in keep)]
        return Bvh(joints, self.frames, self.frame_time)


def parse_bvh(text: str) -> Bvh:
    """Parse BVH text."""
    tokens = text.split()
    joints: list[BvhJoint] = []
    stack: list[int] = []
    i = 0
    pending: BvhJoint | None = None
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            pending = BvhJoint(tokens[i + 1], stack[-1] if stack else -1, np.zeros(3))
            i += 2
        elif tok == "End":  # "End Site"
            parent = stack[-1]
            pending = BvhJoint(joints[parent].name + "_end", parent, np.zeros(3), is_end=True)
            i += 2
        elif tok == "{":
            joints.append(pending)
            stack.append(len(joints) - 1)
            i += 1
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok == "OFFSET":
            joints[stack[-1]].offset = np.array([float(t) for t in tokens[i + 1:i + 4]])
            i += 4
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            joints[stack[-1]].channels = tokens[i + 2:i + 2 + n]
            i += 2 + n
        elif tok == "MOTION":
            i += 1
            break
        else:
            i += 1
    if tokens[i] != "Frames:":
        raise ValueError("BVH: expected 'Frames:' after MOTION")
    n_frames = int(tokens[i + 1])
    if tokens[i + 2] != "Frame" or tokens[i + 3] != "Time:":
        raise ValueError("BVH: expected 'Frame Time:'")
    frame_time = float(tokens[i + 4])
    n_ch = sum(len(j.channels) for j in joints)
    values = np.array(tokens[i + 5:i + 5 + n_frames * n_ch], dtype=np.float64)
    if values.size != n_frames * n_ch:
        raise ValueError(f"BVH: expected {n_frames * n_ch} values, found {values.size}")
    return Bvh(joints, values.reshape(n_frames, n_ch), frame_time)


def read_bvh(path: str | Path, end_sites: bool = True) -> Bvh:
    """Read a BVH file (``end_sites=False`` drops the End Sites, see :meth:`Bvh.without_end_sites`)."""
    bvh = parse_bvh(Path(path).read_text())
    return bvh if end_sites else bvh.without_end_sites()


def read_bvh_joints(path: str | Path) -> tuple[list[str], np.ndarray]:
    """(joint names, (T, J, 3) world positions in file units) of a BVH file's joints, in file order."""
    bvh = read_bvh(path, end_sites=False)
    return bvh.names, bvh_forward_kinematics(bvh)[0]


def format_bvh(bvh: Bvh) -> str:
    """BVH text: two spaces of indent per level, offsets and channel values with 6 decimals.

    The joints must be in the order the hierarchy is written (depth first, children in list order),
    as `parse_bvh` gives them: the frame columns follow that order.
    """
    lines: list[str] = ["HIERARCHY"]
    children: dict[int, list[int]] = {}
    for k, j in enumerate(bvh.joints):
        children.setdefault(j.parent, []).append(k)
    written: list[int] = []

    def emit(k: int, depth: int) -> None:
        j, pad = bvh.joints[k], "  " * depth
        written.append(k)
        head = "End Site" if j.is_end else ("ROOT " if j.parent < 0 else "JOINT ") + j.name
        lines.append(pad + head)
        lines.append(pad + "{")
        lines.append(pad + "  OFFSET " + " ".join(f"{v:.6f}" for v in j.offset))
        if j.channels:
            lines.append(pad + f"  CHANNELS {len(j.channels)} " + " ".join(j.channels))
        for c in children.get(k, []):
            emit(c, depth + 1)
        lines.append(pad + "}")

    emit(0, 0)
    if written != list(range(len(bvh.joints))):
        raise ValueError("BVH joints must be listed in depth-first hierarchy order with the root first")
    lines += ["MOTION", f"Frames: {len(bvh.frames)}", f"Frame Time: {bvh.frame_time:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in bvh.frames]
    return "\n".join(lines) + "\n"


def write_bvh(bvh: Bvh, path: str | Path) -> Path:
    """Write :func:`format_bvh`'s text to a file (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_bvh(bvh))
    return path


def _axis_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """(T,) radians -> (T, 3, 3) rotation about x, y or z."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    if axis == "X":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "Y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    else:
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    return np.stack([np.stack(row, -1) for row in m], -2)


def local_transforms(bvh: Bvh) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame local rotations (T, J, 3, 3) and translations (T, J, 3) of every joint.

    Rotations compose in the order the channels are written (e.g. `Zrotation Xrotation Yrotation`
    gives Rz @ Rx @ Ry); position channels replace nothing, they add to the offset.
    """
    frames = bvh.frames
    n_t, n_j = len(frames), len(bvh.joints)
    rots = np.broadcast_to(np.eye(3), (n_t, n_j, 3, 3)).copy()
    trans = np.broadcast_to(np.stack([j.offset for j in bvh.joints]), (n_t, n_j, 3)).copy()
    for k, (joint, cols) in enumerate(zip(bvh.joints, bvh.channel_columns())):
        vals = frames[:, cols]
        for c, ch in enumerate(joint.channels):
            axis, kind = ch[0].upper(), ch[1:].lower()
            if kind == "rotation":
                rots[:, k] = rots[:, k] @ _axis_rotation(axis, np.deg2rad(vals[:, c]))
            elif kind == "position":
                trans[:, k, "XYZ".index(axis)] += vals[:, c]
    return rots, trans


def bvh_forward_kinematics(bvh: Bvh) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, J, 3) and world rotations (T, J, 3, 3) of every joint and End Site."""
    rots, trans = local_transforms(bvh)
    pos = np.zeros_like(trans)
    glob = np.zeros_like(rots)
    for k, joint in enumerate(bvh.joints):
        if joint.parent < 0:
            glob[:, k] = rots[:, k]
            pos[:, k] = trans[:, k]
        else:
            p = joint.parent
            glob[:, k] = glob[:, p] @ rots[:, k]
            pos[:, k] = pos[:, p] + (glob[:, p] @ trans[:, k][..., None])[..., 0]
    return pos, glob
