"""Lodge Studio renderer: the dance on a 3D body as a video with the music, the primitive timeline, animated GLB.

The renderer runs headless: it sets PYOPENGL_PLATFORM=egl (unless already set) before OpenGL loads.
"""
from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from .video import render_frames, render_video  # noqa: E402

__all__ = ["render_frames", "render_video", "render_timeline", "export_glb"]


def __getattr__(name: str):
    # matplotlib / pygltflib load only when asked for.
    if name == "render_timeline":
        from .timeline import render_timeline
        return render_timeline
    if name == "export_glb":
        from .glb import export_glb
        return export_glb
    raise AttributeError(name)
