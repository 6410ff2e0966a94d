"""One colour palette shared by the video (body tint) and the timeline (primitive spans).

Colours are from the Okabe-Ito colour-blind-safe set so hard and soft cues stay distinct for everyone.
"""
from __future__ import annotations

import numpy as np

CUE_COLORS: dict[str, str] = {
    "hard": "#D55E00",  # vermillion
    "soft": "#0072B2",  # blue
    "soft_mirror": "#009E73",  # bluish green
}
CUE_LABELS: dict[str, str] = {
    "hard": "hard cue",
    "soft": "soft cue",
    "soft_mirror": "soft cue (mirrored)",
}
BODY_COLOR = "#E9DFCF"  # light maple, the mannequin's resting colour
BACKGROUND_COLOR = "#F4F5F7"
FLOOR_COLORS = ("#D9DCE1", "#C6CAD1")  # checker tiles
GRID_COLOR = "#A9AEB8"
BEAT_COLOR = "#4A4F59"
SEGMENT_COLOR = "#7A3E9D"
ENVELOPE_COLOR = "#8C93A0"
EDIT_COLOR = "#E69F00"  # orange: the stretch the last edit regenerated (video border, timeline shading)


def rgb(color: str) -> np.ndarray:
    """'#RRGGBB' -> (3,) float32 in [0, 1]."""
    color = color.lstrip("#")
    return np.array([int(color[i:i + 2], 16) / 255.0 for i in (0, 2, 4)], dtype=np.float32)


def rgb8(color: str) -> np.ndarray:
    """'#RRGGBB' -> (3,) uint8."""
    return np.round(rgb(color) * 255).astype(np.uint8)


def cue_tints(primitives, num_frames: int, fade: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame body colour while primitives play.

    Returns (colors (T, 3) float32 RGB in [0, 1], weights (T,) in [0, 1]): full cue colour on the
    primitive's own frames, fading linearly over `fade` frames on either side so the flash is
    visible without strobing.
    """
    base = rgb(BODY_COLOR)
    colors = np.broadcast_to(base, (num_frames, 3)).copy()
    weights = np.zeros(num_frames, np.float32)
    frames = np.arange(num_frames)
    for prim in primitives:
        start, end = int(prim.start), int(prim.start) + int(prim.length)
        dist = np.maximum(start - frames, frames - (end - 1)).clip(min=0)
        w = np.clip(1.0 - dist / float(fade + 1), 0.0, 1.0).astype(np.float32)
        stronger = w > weights
        weights[stronger] = w[stronger]
        colors[stronger] = base + (rgb(CUE_COLORS[prim.kind]) - base) * (0.85 * w[stronger, None])
    return colors, weights
