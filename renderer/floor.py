"""The floor drawn in NumPy behind the GL-rendered body: an anti-aliased checker with a soft contact shadow.

On a software rasteriser (llvmpipe) pyrender's PBR shader over a full-screen floor costs more than the
body itself. The camera never turns or changes height within a video (follow mode only slides it), so
each pixel's floor hit point relative to the camera is fixed: per frame only a shift, a checker
lookup and a Gaussian shadow remain, a few milliseconds for 512x512.
"""
from __future__ import annotations

import numpy as np

from . import palette

TILE = 0.5  # metres per checker tile
FOG_DISTANCE = 22.0  # metres at which the floor has faded into the background


def _filtered_checker(p: np.ndarray, q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Box-filtered 2D checker in [0, 1] (p, q in tile units, w the pixel footprint in tiles)."""
    def integral(x: np.ndarray) -> np.ndarray:  # antiderivative of the +-1 square wave, period 2
        return 2.0 * np.abs(x * 0.5 - np.floor(x * 0.5) - 0.5)

    half = 0.5 * w
    ip = (integral(p + half) - integral(p - half)) / w
    iq = (integral(q + half) - integral(q - half)) / w
    return 0.5 - 0.5 * ip * iq


class FloorPainter:
    """Paints the floor for camera poses that share one rotation and height."""

    def __init__(self, size: int, camera_pose: np.ndarray, floor_height: float, yfov: float):
        self.size = size
        rot = camera_pose[:3, :3]
        height = camera_pose[1, 3] - floor_height
        if height <= 0:
            raise ValueError("camera below the floor")
        tan = np.tan(yfov / 2)
        centers = (np.arange(size) + 0.5) / size * 2 - 1
        xs, ys = np.meshgrid(centers * tan, -centers * tan)
        dirs = np.stack([xs, ys, -np.ones_like(xs)], axis=-1) @ rot.T  # world ray directions
        down = -dirs[..., 1]
        hit = down > 1e-4
        self.hit = np.flatnonzero(hit.ravel())
        d = dirs.reshape(-1, 3)[self.hit]
        t = height / down.ravel()[self.hit]
        self.dx, self.dz = (t * d[:, 0]).astype(np.float32), (t * d[:, 2]).astype(np.float32)
        dist = np.hypot(self.dx, self.dz)
        slope = np.clip(down.ravel()[self.hit] / np.linalg.norm(d, axis=1), 0.02, 1.0)
        # Ground footprint of one pixel (in tiles): grows with distance and at grazing angles.
        self.footprint = np.clip(t * (2 * tan / size) / slope / TILE, 1e-3, 8.0).astype(np.float32)
        self.fog = (1.0 - np.exp(-(dist / FOG_DISTANCE) ** 2)).astype(np.float32)[:, None]
        self.colors = np.stack([palette.rgb(palette.FLOOR_COLORS[0]), palette.rgb(palette.FLOOR_COLORS[1])]) * 255
        self.background = palette.rgb(palette.BACKGROUND_COLOR) * 255
        self.image = np.empty((size * size, 3), np.uint8)
        self.image[:] = np.round(self.background).astype(np.uint8)

    def paint(self, camera_xz: np.ndarray, shadow_xz: np.ndarray, shadow_radius: float = 0.38,
              shadow_strength: float = 0.42) -> np.ndarray:
        """(H, W, 3) uint8 floor + background for a camera at `camera_xz` and a shadow centred at `shadow_xz`."""
        x = self.dx + np.float32(camera_xz[0])
        z = self.dz + np.float32(camera_xz[1])
        c = _filtered_checker(x / TILE, z / TILE, self.footprint)[:, None]
        rgb = self.colors[0] + (self.colors[1] - self.colors[0]) * c
        r2 = (x - shadow_xz[0]) ** 2 + (z - shadow_xz[1]) ** 2
        rgb *= (1.0 - shadow_strength * np.exp(-r2 / shadow_radius ** 2))[:, None]
        rgb += (self.background - rgb) * self.fog
        self.image[self.hit] = rgb.astype(np.uint8)
        return self.image.reshape(self.size, self.size, 3).copy()
