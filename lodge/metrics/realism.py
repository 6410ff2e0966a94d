"""Realism measures that stillness cannot game, compared per genre with real dancers.

- speed: mean over frames and joints of the root-relative joint speed |d(joint - pelvis)/dt| (m/s);
- pose spread: standard deviation over time of the root-relative joint positions, averaged over
  joints and axes (m);
- heading snaps per minute: how often the hip line turns by 60 degrees or more within 0.2 s;
- primitive energy: mean squared root-relative joint speed inside 8-frame primitives (m^2/s^2);
- posture: the spine's lean from vertical (median over frames, degrees) and the share of frames with
  a wrist above its shoulder.

A dance that stands still scores near 0 on speed, spread and primitive energy, so the ratios to the
real dancers of the same genre expose it, unlike beat alignment or a Frechet distance on a few items.
The posture measures carry no bar: they put numbers on what a contact sheet shows at a glance (a
swing dancer upright where the real ones bend forward, arms up where theirs hang low).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..constants import FPS, JOINT_NAMES
from .positions import as_joints

LEFT_HIP, RIGHT_HIP = 1, 2
NECK = JOINT_NAMES.index("neck")
SHOULDERS = (JOINT_NAMES.index("left_shoulder"), JOINT_NAMES.index("right_shoulder"))
WRISTS = (JOINT_NAMES.index("left_wrist"), JOINT_NAMES.index("right_wrist"))
SNAP_DEGREES = 60.0
SNAP_SECONDS = 0.2


def root_relative(joints) -> np.ndarray:
    """(T, J, 3) world joints -> (T, J, 3) joints relative to the pelvis (joint 0)."""
    pos = as_joints(joints)
    return pos - pos[:, :1]


def frame_speeds(joints, fps: float = FPS) -> np.ndarray:
    """(T - 1,) mean over joints of |d(joint - pelvis)/dt| in m/s between each frame and the next."""
    return body_frame_speeds(root_relative(joints), fps)


def body_frame_speeds(joints, fps: float = FPS) -> np.ndarray:
    """(T - 1,) mean over joints of |d joint / dt| in m/s, the root's travel included (a dash across the
    floor counts, as it does to the eye)."""
    return np.linalg.norm(np.diff(as_joints(joints), axis=0), axis=-1).mean(axis=-1) * fps


def root_relative_speed(joints, fps: float = FPS) -> float:
    """Mean over frames and joints of |d(joint - pelvis)/dt| in m/s (forward differences)."""
    speeds = frame_speeds(joints, fps)
    return float(speeds.mean()) if len(speeds) else 0.0


def pose_spread(joints) -> float:
    """Standard deviation over time of the root-relative joint positions, averaged over joints and axes (m)."""
    rel = root_relative(joints)
    if len(rel) < 2:
        return 0.0
    return float(rel.std(axis=0).mean())


def hip_heading(joints) -> np.ndarray:
    """(T,) direction in radians of the horizontal hip line (right hip -> left hip), unwrapped."""
    pos = as_joints(joints)
    line = pos[:, LEFT_HIP] - pos[:, RIGHT_HIP]
    return np.unwrap(np.arctan2(line[:, 2], line[:, 0]))


def heading_snaps(joints, fps: float = FPS, degrees: float = SNAP_DEGREES, seconds: float = SNAP_SECONDS) -> int:
    """Number of times the hip line turns by `degrees` or more within `seconds`.

    Scanned greedily: once a turn is counted, the next one may start only after that window, so a
    steady spin counts once per `seconds` in which it turns `degrees` or more.
    """
    angle = hip_heading(joints)
    span = max(1, int(round(seconds * fps)))
    if len(angle) <= span:
        return 0
    limit = np.deg2rad(degrees)
    # The largest turn reached within the next `span` frames, from each frame.
    ahead = np.stack([np.abs(angle[k:len(angle) - span + k] - angle[:len(angle) - span]) for k in range(1, span + 1)])
    turned = ahead.max(axis=0) >= limit
    count, t = 0, 0
    while t < len(turned):
        if turned[t]:
            count += 1
            t += span
        else:
            t += 1
    return count


def heading_snaps_per_minute(joints, fps: float = FPS) -> float:
    """Heading snaps (:func:`heading_snaps`) per minute of dance."""
    frames = len(as_joints(joints))
    minutes = frames / fps / 60.0
    return heading_snaps(joints, fps) / minutes if minutes > 0 else 0.0


def primitive_energy(primitive_joints, fps: float = FPS) -> float:
    """Mean squared root-relative joint speed (m^2/s^2) over a set of short clips.

    Args:
        primitive_joints: (P, L, J, 3) world joints of P primitives of L frames each.
    """
    clips = np.asarray(primitive_joints, dtype=np.float64)
    if clips.ndim != 4 or clips.shape[1] < 2 or len(clips) == 0:
        raise ValueError(f"expected (P, L>=2, J, 3) primitive joints, got shape {clips.shape}")
    rel = clips - clips[:, :, :1]
    speed = np.linalg.norm(np.diff(rel, axis=1), axis=-1) * fps
    return float((speed ** 2).mean())


def spine_lean(joints) -> np.ndarray:
    """(T,) angle in degrees between the pelvis-to-neck line and the vertical (y up): 0 upright, 90 flat."""
    pos = as_joints(joints)
    spine = pos[:, NECK] - pos[:, 0]
    norm = np.maximum(np.linalg.norm(spine, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(spine[:, 1] / norm, -1.0, 1.0)))


def median_lean(joints) -> float:
    """Median over frames of :func:`spine_lean` (degrees)."""
    lean = spine_lean(joints)
    return float(np.median(lean)) if len(lean) else 0.0


def wrists_up(joints) -> np.ndarray:
    """(T,) bool: a wrist is higher than the shoulder on its side."""
    pos = as_joints(joints)
    up = np.zeros(len(pos), bool)
    for wrist, shoulder in zip(WRISTS, SHOULDERS):
        up |= pos[:, wrist, 1] > pos[:, shoulder, 1]
    return up


def arms_up_share(joints) -> float:
    """Share of frames (0-1) in which a wrist is higher than the shoulder on its side (:func:`wrists_up`)."""
    up = wrists_up(joints)
    return float(up.mean()) if len(up) else 0.0


@dataclass
class RealismStats:
    """The realism measures of one dance (or pooled over several of one genre)."""

    speed: float  # m/s
    spread: float  # m
    snaps_per_min: float
    primitive_energy: float | None = None  # m^2/s^2; None when no primitives were measured
    minutes: float = 0.0
    lean_deg: float | None = None  # median spine lean from vertical; None: not measured (older references)
    arms_up: float | None = None  # share of frames with a wrist above its shoulder

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)


def realism_stats(joints, primitive_joints=None, fps: float = FPS) -> RealismStats:
    """Speed, spread, heading snaps and posture of one (T, J, 3) dance; primitive energy of its
    (P, L, J, 3) primitives."""
    pos = as_joints(joints)
    return RealismStats(
        speed=root_relative_speed(pos, fps),
        spread=pose_spread(pos),
        snaps_per_min=heading_snaps_per_minute(pos, fps),
        primitive_energy=None if primitive_joints is None or len(primitive_joints) == 0 else primitive_energy(primitive_joints, fps),
        minutes=len(pos) / fps / 60.0,
        lean_deg=median_lean(pos),
        arms_up=arms_up_share(pos),
    )


def pool_stats(stats: list[RealismStats]) -> RealismStats:
    """Duration-weighted mean of several dances' measures (primitive energy and posture over those that
    have them)."""
    if not stats:
        raise ValueError("no dances to pool")
    w = np.array([max(s.minutes, 1e-9) for s in stats])

    def mean(values, weights):
        return float(np.average(values, weights=weights))

    def mean_of(field: str) -> float | None:
        pairs = [(getattr(s, field), wi) for s, wi in zip(stats, w) if getattr(s, field) is not None]
        return mean([v for v, _ in pairs], [x for _, x in pairs]) if pairs else None

    return RealismStats(
        speed=mean([s.speed for s in stats], w),
        spread=mean([s.spread for s in stats], w),
        snaps_per_min=mean([s.snaps_per_min for s in stats], w),
        primitive_energy=mean_of("primitive_energy"),
        minutes=float(w.sum()),
        lean_deg=mean_of("lean_deg"),
        arms_up=mean_of("arms_up"),
    )
