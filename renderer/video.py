"""`render_video`: a Dance on the mannequin (or SMPL) body, with the music, as an MP4."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from lodge.dance import Dance

from . import palette
from .body import make_body
from .camera import camera_path
from .encode import VideoEncoder
from .marks import edited_mask, mark_edited

Progress = Callable[[int, int], None]


def render_frames(dance: Dance, size: int = 512, fps: int = 30, body: str = "mannequin", camera: str = "follow",
                  smpl_dir: str | os.PathLike | None = None, antialias: bool = False):
    """Yield (H, W, 3) uint8 frames of the dance at `fps` (a divisor of the dance's frame rate).

    The scene is built once; each frame only re-poses the body's vertex buffer, moves the camera
    and paints the floor. The frames the dance's last edit regenerated get an orange border and an
    "edited" tag (:mod:`renderer.marks`).
    """
    from .stage import Stage  # imports pyrender/OpenGL lazily

    step = frame_step(dance.fps, fps)
    the_body = make_body(dance.motion, body=body, smpl_dir=smpl_dir)
    pelvis = the_body.positions[:, 0]
    cameras = camera_path(pelvis, the_body.floor_height, camera, fps=dance.fps)
    tints, _ = palette.cue_tints(dance.primitives, dance.num_frames)
    edited = edited_mask(dance)  # the last edit's stretch gets a border and an "edited" tag
    stage = Stage(the_body, cameras, tints, size=size, antialias=antialias)
    try:
        for frame in range(0, dance.num_frames, step):
            image = stage.render(frame)
            yield mark_edited(image) if edited[frame] else image
    finally:
        stage.close()


def frame_step(dance_fps: int, fps: int) -> int:
    """Render every `step`-th dance frame to reach `fps` (30 -> 1, 15 -> 2)."""
    if fps <= 0 or dance_fps % fps:
        raise ValueError(f"fps must divide the dance's {dance_fps} fps (e.g. 30 or 15), got {fps}")
    return dance_fps // fps


def render_video(dance: Dance, out_path: str | os.PathLike, music_path: str | os.PathLike | None = None,
                 size: int = 512, fps: int = 30, body: str = "mannequin", camera: str = "follow",
                 smpl_dir: str | os.PathLike | None = None, progress: Progress | None = None,
                 antialias: bool = False) -> Path:
    """Render `dance` to an H.264 MP4 with the music as AAC, exactly as long as the dance.

    Args:
        dance: the dance to show.
        out_path: the .mp4 to write.
        music_path: any audio file ffmpeg reads; cut or silence-padded to the dance's duration. None: no audio.
        size: width = height in pixels (even).
        fps: 30, or 15 to render every other frame.
        body: "mannequin", or "smpl" / "smplx" with a model folder (``smpl_dir`` or $LODGE_SMPL_MODEL_DIR);
            without a usable folder it warns and renders the mannequin.
        camera: "follow" (smoothly tracks the dancer) or "fixed".
        progress: called as progress(done, total) after each frame.
        antialias: 4x multisampling; smoother edges, but about half the speed on a CPU (llvmpipe).
    """
    if size % 2:
        raise ValueError("size must be even for yuv420p video")
    step = frame_step(dance.fps, fps)
    total = -(-dance.num_frames // step)
    with VideoEncoder(out_path, (size, size), fps, total, music_path) as encoder:
        for i, image in enumerate(render_frames(dance, size, fps, body, camera, smpl_dir, antialias)):
            encoder.write(image)
            if progress is not None:
                progress(i + 1, total)
    return Path(out_path)
