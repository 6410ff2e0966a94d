"""Bailando's geometric ("manual") features: the boolean relational features of Müller et al. (2005).

Each feature is a yes/no test per frame (is the right wrist in front of the torso plane, is the
knee bent, is the ankle fast, ...); the sequence feature is the fraction of frames 1..T-1 where
the test holds. Thresholds scale with the humerus length (hl), shoulder width (sw) and hip width
(hw) of the rest skeleton; velocities are in metres per second.
"""
from __future__ import annotations

import numpy as np

from ..constants import JOINT_NAMES
from ..skeleton import rest_joints
from .options import MetricOptions, resolve
from .positions import as_joints, lodge_feature_positions

# Bailando's short joint names, in SMPL order.
_SHORT = (
    "root", "lhip", "rhip", "belly", "lknee", "rknee", "spine", "lankle", "rankle", "chest",
    "ltoes", "rtoes", "neck", "linshoulder", "rinshoulder", "head", "lshoulder", "rshoulder",
    "lelbow", "relbow", "lwrist", "rwrist",
)
assert len(_SHORT) == len(JOINT_NAMES)
_INDEX = {name: i for i, name in enumerate(_SHORT)}

# (kind, joints, threshold as (scale, body measure) or angle range in degrees), in Bailando's order.
FEATURES: tuple[tuple, ...] = (
    ("nmove", ("neck", "rhip", "lhip", "rwrist"), (1.8, "hl")),
    ("nmove", ("neck", "lhip", "rhip", "lwrist"), (1.8, "hl")),
    ("nplane", ("chest", "neck", "neck", "rwrist"), (0.2, "hl")),
    ("nplane", ("chest", "neck", "neck", "lwrist"), (0.2, "hl")),
    ("move", ("belly", "chest", "chest", "rwrist"), (1.8, "hl")),
    ("move", ("belly", "chest", "chest", "lwrist"), (1.8, "hl")),
    ("angle", ("relbow", "rshoulder", "relbow", "rwrist"), (0, 110)),
    ("angle", ("lelbow", "lshoulder", "lelbow", "lwrist"), (0, 110)),
    ("nplane", ("lshoulder", "rshoulder", "lwrist", "rwrist"), (2.5, "sw")),
    ("move", ("lwrist", "rwrist", "rwrist", "lwrist"), (1.4, "hl")),
    ("move", ("rwrist", "root", "lwrist", "root"), (1.4, "hl")),
    ("move", ("lwrist", "root", "rwrist", "root"), (1.4, "hl")),
    ("fast", ("rwrist",), (2.5, "hl")),
    ("fast", ("lwrist",), (2.5, "hl")),
    ("plane", ("root", "lhip", "ltoes", "rankle"), (0.38, "hl")),
    ("plane", ("root", "rhip", "rtoes", "lankle"), (0.38, "hl")),
    ("nplane", ("zero", "y_unit", "y_min", "rankle"), (1.2, "hl")),
    ("nplane", ("zero", "y_unit", "y_min", "lankle"), (1.2, "hl")),
    ("nplane", ("lhip", "rhip", "lankle", "rankle"), (2.1, "hw")),
    ("angle", ("rknee", "rhip", "rknee", "rankle"), (0, 110)),
    ("angle", ("lknee", "lhip", "lknee", "lankle"), (0, 110)),
    ("fast", ("rankle",), (2.5, "hl")),
    ("fast", ("lankle",), (2.5, "hl")),
    ("angle", ("neck", "root", "rshoulder", "relbow"), (25, 180)),
    ("angle", ("neck", "root", "lshoulder", "lelbow"), (25, 180)),
    ("angle", ("neck", "root", "rhip", "rknee"), (50, 180)),
    ("angle", ("neck", "root", "lhip", "lknee"), (50, 180)),
    ("plane", ("rankle", "neck", "lankle", "root"), (0.5, "hl")),
    ("angle", ("neck", "root", "zero", "y_unit"), (70, 110)),
    ("nplane", ("zero", "minus_y_unit", "y_min", "rwrist"), (-1.2, "hl")),
    ("nplane", ("zero", "minus_y_unit", "y_min", "lwrist"), (-1.2, "hl")),
    ("fast", ("root",), (2.3, "hl")),
)
NUM_GEOMETRIC_FEATURES = len(FEATURES)  # 32


def body_measures() -> dict[str, float]:
    """Humerus length, shoulder width and hip width (metres) of the project's rest skeleton."""
    r = rest_joints().astype(np.float64)
    i = _INDEX
    return {
        "hl": float(np.linalg.norm(r[i["lshoulder"]] - r[i["lelbow"]])),
        "sw": float(np.linalg.norm(r[i["lshoulder"]] - r[i["rshoulder"]])),
        "hw": float(np.linalg.norm(r[i["lhip"]] - r[i["rhip"]])),
    }


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...i,...i->...", a, b)


def _unit(v: np.ndarray) -> np.ndarray:
    # Degenerate (zero-length) directions give NaN tests, which compare False, as in Bailando.
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


class _Frames:
    """Named points of the current frames (1..T-1) and the previous frames (0..T-2)."""

    def __init__(self, body: np.ndarray, root_track: np.ndarray) -> None:
        self.cur, self.prev = body[1:], body[:-1]
        self.root_cur, self.root_prev = root_track[1:], root_track[:-1]
        n = self.cur.shape[0]
        y_min = np.zeros((n, 3))
        y_min[:, 1] = self.cur[..., 1].min(axis=1)
        self.constants = {
            "zero": np.zeros((n, 3)),
            "y_unit": np.tile([0.0, 1.0, 0.0], (n, 1)),
            "minus_y_unit": np.tile([0.0, -1.0, 0.0], (n, 1)),
            "y_min": y_min,
        }

    def now(self, name: str) -> np.ndarray:
        return self.constants[name] if name in self.constants else self.cur[:, _INDEX[name]]

    def before(self, name: str) -> np.ndarray:
        return self.prev[:, _INDEX[name]]


def _feature(frames: _Frames, kind: str, names: tuple, limit, dt: float, muller_move: bool) -> np.ndarray:
    """Per-frame boolean test of one relational feature."""
    p = [frames.now(n) for n in names]
    if kind == "plane":  # j4 in front of the plane through j1, j2, j3
        normal = _unit(np.cross(p[2] - p[0], p[1] - p[0]))
        return _dot(normal, p[3] - p[0]) > limit
    if kind == "nplane":  # j4 in front of the plane with normal j1->j2 through j3
        return _dot(_unit(p[1] - p[0]), p[3] - p[2]) > limit
    if kind == "angle":  # angle between j1->j2 and j3->j4 inside the open range
        cos = _dot(_unit(p[1] - p[0]), _unit(p[3] - p[2]))
        angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
        return (angle > limit[0]) & (angle < limit[1])
    if kind == "fast":
        if names[0] == "root":  # the root's own travel (its global trajectory)
            step = frames.root_cur - frames.root_prev
        else:
            step = p[0] - frames.before(names[0])
        return np.linalg.norm(step, axis=-1) / dt > limit
    if kind == "nmove":  # velocity of j4 relative to j1 along the normal of plane (j1, j2, j3)
        rel = (p[3] - p[0]) - (frames.before(names[3]) - frames.before(names[0]))
        normal = _unit(np.cross(p[2] - p[0], p[1] - p[0]))
        return _dot(normal, rel) / dt > limit
    if kind == "move":  # velocity of j4 relative to j3 along j1->j2 (Müller et al.)
        if muller_move:
            mover, anchor = 3, 2
        else:  # Bailando: velocity of j3 relative to j1; j4 unused
            mover, anchor = 2, 0
        rel = (p[mover] - p[anchor]) - (frames.before(names[mover]) - frames.before(names[anchor]))
        return _dot(_unit(p[1] - p[0]), rel) / dt > limit
    raise ValueError(f"unknown feature kind {kind!r}")


def geometric_features_of_positions(
    body, root_track, frame_time: float, muller_move: bool = True,
) -> np.ndarray:
    """(32,) fraction of frames 1..T-1 where each relational feature holds.

    Args:
        body: (T, 22, 3) positions the relational tests are evaluated on.
        root_track: (T, 3) root trajectory used by the root-speed feature.
        frame_time: seconds per frame for the velocity tests.
        muller_move: see :class:`MetricOptions`.
    """
    body = as_joints(body)
    if body.shape[0] < 2:
        raise ValueError("geometric features need at least 2 frames")
    frames = _Frames(body, np.asarray(root_track, dtype=np.float64))
    measures = body_measures()
    out = []
    for kind, names, limit in FEATURES:
        if kind != "angle":
            limit = limit[0] * measures[limit[1]]
        out.append(_feature(frames, kind, names, limit, frame_time, muller_move).mean())
    return np.asarray(out, dtype=np.float32)


def geometric_features(joints, options: MetricOptions | None = None) -> np.ndarray:
    """(32,) geometric features of a (T, 22, 3) world-joint dance (Lodge's root-relative variant).

    Correct mode evaluates the relational tests on the root-relative body (root at the origin,
    a consistent skeleton) and lets only the root-speed feature see the root's global travel.
    Official mode evaluates everything on Lodge's mixed array, where the root sits at its global
    position while the other joints are root-relative (so tests that involve the root drift as
    the dancer travels).
    """
    opts = resolve(options)
    pos = lodge_feature_positions(joints)
    root_track = pos[:, 0].copy()
    body = pos
    if opts.body_frame_geometry:
        body = pos.copy()
        body[:, 0] = 0.0
    return geometric_features_of_positions(body, root_track, opts.geometric_dt, opts.muller_move)
