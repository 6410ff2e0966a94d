"""Foot skating ratio: how often a foot that touches the floor slides along it."""
from __future__ import annotations

import numpy as np

from .options import MetricOptions, resolve
from .positions import as_joints

# SMPL joints (ankle, toe) of each foot.
LEFT_FOOT = (7, 10)
RIGHT_FOOT = (8, 11)
SLIDE_SPEED = 0.3  # m/s; the official 0.01 m per frame at 30 fps
OFFICIAL_ANKLE_HEIGHT = 0.08  # m; the official script also requires the ankle this low


def _horizontal_speed(step: np.ndarray, fps: float, mode: str) -> np.ndarray:
    """Horizontal speed (m/s) of per-frame displacements (..., 3), y up."""
    if mode == "mean":  # official slip: |mean(dx, dz)| instead of the norm
        return np.abs(0.5 * (step[..., 0] + step[..., 2])) * fps
    return np.hypot(step[..., 0], step[..., 2]) * fps


def _ground_first_frame(pos: np.ndarray) -> np.ndarray:
    """The official script's grounding: put the toes of frame 0 on y = 0."""
    left, right = pos[0, LEFT_FOOT[1], 1], pos[0, RIGHT_FOOT[1], 1]
    floor = 0.5 * (left + right) if abs(left - right) < 0.02 else min(left, right)
    out = pos.copy()
    out[..., 1] -= floor
    return out


def _official_ratio(pos: np.ndarray, height_thresh: float, speed_thresh: float, opts: MetricOptions) -> float:
    pos = _ground_first_frame(pos)
    step = np.zeros_like(pos)
    step[:-1] = pos[1:] - pos[:-1]  # the last frame gets zero velocity
    ratios = []
    for ankle, toe in (LEFT_FOOT, RIGHT_FOOT):
        contact = (pos[:, ankle, 1] <= OFFICIAL_ANKLE_HEIGHT) & (pos[:, toe, 1] <= height_thresh)
        speed = _horizontal_speed(step[:, [ankle, toe]], opts.fps, opts.horizontal_speed)
        slide = contact & (speed > speed_thresh).any(axis=1)
        ratios.append(slide.sum() / contact.sum() if contact.any() else np.nan)
    return float(np.nanmean(ratios)) if not np.all(np.isnan(ratios)) else 0.0


def foot_skating_ratio(
    joints, height_thresh: float = 0.05, speed_thresh: float = SLIDE_SPEED,
    options: MetricOptions | None = None,
) -> float:
    """Fraction of frame steps in which a foot slides while it touches the floor.

    Correct mode (default), on joints whose floor is y = 0: a foot joint (ankle or toe) is in
    contact over the step t -> t+1 when its height is at most ``height_thresh`` at both frames;
    it slides when, in contact, its horizontal speed ``|(dx, dz)| * fps`` exceeds
    ``speed_thresh`` (m/s). A step skates when any foot joint of either foot slides; the ratio
    is skating steps / (T - 1) -- the paper's "frames in which either foot skids while in contact".

    Official mode (``options.official_skating``) follows the official script: the toes of frame
    0 are put on the floor; a foot is in contact at frame t when its ankle is at most 0.08 m and
    its toe at most ``height_thresh`` high; velocity is p[t+1] - p[t] (0 at the last frame),
    reduced by ``options.horizontal_speed`` ("mean" there); a contact frame slides when its ankle
    or toe exceeds the threshold; each foot's ratio is sliding frames / contact frames, and the
    result is the mean of the two feet's ratios (a foot never in contact is left out).
    """
    opts = resolve(options)
    pos = as_joints(joints)
    if pos.shape[0] < 2:
        return 0.0
    if opts.official_skating:
        return _official_ratio(pos, height_thresh, speed_thresh, opts)
    feet = list(LEFT_FOOT + RIGHT_FOOT)
    height = pos[:, feet, 1]
    contact = (height[:-1] <= height_thresh) & (height[1:] <= height_thresh)
    speed = _horizontal_speed(np.diff(pos[:, feet], axis=0), opts.fps, opts.horizontal_speed)
    skating = (contact & (speed > speed_thresh)).any(axis=1)
    return float(skating.mean())
