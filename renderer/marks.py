"""The stretch the last edit regenerated (``dance.edits[-1]["frames"]``), marked on the video's frames: a
coloured border and a small "edited" tag, painted over the finished image (cheap: a few array writes)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from lodge.dance import Dance

from . import palette

EDIT_TAG = "edited"


def edited_stretches(dance: Dance) -> list[tuple[int, int]]:
    """[start, stop) frames the dance's last edit changed (none for an unedited dance)."""
    if not dance.edits:
        return []
    frames = dance.edits[-1].get("frames") or []
    return [(max(0, int(a)), min(int(b), dance.num_frames)) for a, b in frames if int(b) > int(a)]


def edited_mask(dance: Dance) -> np.ndarray:
    """(T,) bool: the frames of :func:`edited_stretches`."""
    mask = np.zeros(dance.num_frames, bool)
    for a, b in edited_stretches(dance):
        mask[a:b] = True
    return mask


@lru_cache(maxsize=8)
def _tag(size: int) -> np.ndarray:
    """(h, w, 3) uint8: the "edited" tag (white on orange) for a `size`-pixel frame."""
    from PIL import Image, ImageDraw, ImageFont

    font_px = max(10, size // 28)
    try:
        font = ImageFont.load_default(size=font_px)
    except TypeError:  # Pillow < 10.1: one small bitmap font
        font = ImageFont.load_default()
    left, top, right, bottom = font.getbbox(EDIT_TAG)
    pad = max(3, font_px // 3)
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    tag = Image.new("RGB", (w, h), tuple(int(c) for c in palette.rgb8(palette.EDIT_COLOR)))
    ImageDraw.Draw(tag).text((pad - left, pad - top), EDIT_TAG, fill=(255, 255, 255), font=font)
    return np.asarray(tag, np.uint8)


def mark_edited(image: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3 uint8) with the edit border and the "edited" tag in its top-left corner."""
    size = min(image.shape[:2])
    border = max(3, size // 80)
    color = palette.rgb8(palette.EDIT_COLOR)
    image[:border], image[-border:], image[:, :border], image[:, -border:] = color, color, color, color
    tag = _tag(size)
    h, w = min(tag.shape[0], image.shape[0] - border), min(tag.shape[1], image.shape[1] - border)
    image[border:border + h, border:border + w] = tag[:h, :w]
    return image
