"""Camera paths: a smooth follow camera (low-pass filtered pelvis) or one fixed camera framing the whole dance."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

CAMERA_MODES = ("follow", "fixed")
YFOV = np.deg2rad(38.0)
EYE_HEIGHT = 1.45  # metres above the floor
AIM_HEIGHT = 0.9
BASE_DISTANCE = 3.4


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """4x4 camera-to-world pose (OpenGL convention: the camera looks down its -z axis)."""
    forward = np.asarray(target, np.float64) - np.asarray(eye, np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, true_up, -forward, eye
    return pose


def camera_path(pelvis: np.ndarray, floor_height: float, mode: str = "follow", fps: int = 30) -> np.ndarray:
    """(T, 3) pelvis positions -> (T, 4, 4) camera poses looking at the dancer's front (+z side).

    follow: the aim point is the pelvis' floor position low-pass filtered (Gaussian, sigma 0.8 s),
    so the camera glides after travelling steps instead of shaking with every hip sway.
    fixed: one pose that keeps the whole floor path in view.
    """
    if mode not in CAMERA_MODES:
        raise ValueError(f"unknown camera {mode!r}; expected one of {CAMERA_MODES}")
    pelvis = np.asarray(pelvis, np.float64)
    frames = len(pelvis)
    if mode == "follow":
        ground = pelvis[:, [0, 2]]
        if frames > 1:
            ground = gaussian_filter1d(ground, sigma=0.8 * fps, axis=0, mode="nearest")
        eye_dist = np.full(frames, BASE_DISTANCE)
    else:
        lo, hi = pelvis[:, [0, 2]].min(0), pelvis[:, [0, 2]].max(0)
        ground = np.broadcast_to((lo + hi) / 2, (frames, 2))
        reach = 0.5 * float(np.max(hi - lo)) + 0.8  # half the floor path plus arm span
        eye_dist = np.full(frames, max(BASE_DISTANCE, reach / np.tan(YFOV / 2) + 0.5 * float(hi[1] - lo[1])))
    poses = np.empty((frames, 4, 4))
    for t in range(frames):
        target = np.array([ground[t, 0], floor_height + AIM_HEIGHT, ground[t, 1]])
        eye = np.array([ground[t, 0], floor_height + EYE_HEIGHT, ground[t, 1] + eye_dist[t]])
        poses[t] = look_at(eye, target)
    return poses
