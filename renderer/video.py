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
    step = frame_step(dance.fps, fps)
    scene = SceneInputs.of(dance, body, camera, smpl_dir)
    stage = scene.stage(size, antialias)
    try:
        for frame in range(0, dance.num_frames, step):
            yield scene.frame(stage, frame)
    finally:
        stage.close()


class SceneInputs:
    """Everything a frame is drawn from, for the whole dance at once: the posed body, the camera path
    (computed over the whole dance, so any stretch rendered alone sees the camera a whole render has
    there), the body's colour per frame and the frames marked "edited"."""

    def __init__(self, body, cameras: np.ndarray, tints: np.ndarray, marked: np.ndarray):
        self.body, self.cameras, self.tints, self.marked = body, cameras, tints, marked

    @classmethod
    def of(cls, dance: Dance, body: str = "mannequin", camera: str = "follow",
           smpl_dir: str | os.PathLike | None = None) -> "SceneInputs":
        """The scene inputs of `dance` with this body and camera."""
        the_body = make_body(dance.motion, body=body, smpl_dir=smpl_dir)
        cameras = camera_path(the_body.positions[:, 0], the_body.floor_height, camera, fps=dance.fps)
        tints, _ = palette.cue_tints(dance.primitives, dance.num_frames)
        return cls(the_body, cameras, tints, edited_mask(dance))  # the last edit's stretch: border and tag

    def stage(self, size: int, antialias: bool = False):
        """A :class:`~renderer.stage.Stage` for these inputs (close it when done)."""
        from .stage import Stage  # imports pyrender/OpenGL lazily

        return Stage(self.body, self.cameras, self.tints, size=size, antialias=antialias)

    def frame(self, stage, frame: int) -> np.ndarray:
        """Dance frame `frame` drawn on `stage`, with the edit marks where they belong."""
        image = stage.render(frame)
        return mark_edited(image) if self.marked[frame] else image


def frame_step(dance_fps: int, fps: int) -> int:
    """Render every `step`-th dance frame to reach `fps` (30 -> 1, 15 -> 2)."""
    if fps <= 0 or dance_fps % fps:
        raise ValueError(f"fps must divide the dance's {dance_fps} fps (e.g. 30 or 15), got {fps}")
    return dance_fps // fps


def render_video(dance: Dance, out_path: str | os.PathLike, music_path: str | os.PathLike | None = None,
                 size: int = 512, fps: int = 30, body: str = "mannequin", camera: str = "follow",
                 smpl_dir: str | os.PathLike | None = None, progress: Progress | None = None,
                 antialias: bool = False, chunks: str | os.PathLike | None = None,
                 reuse: str | os.PathLike | None = None) -> Path:
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
        chunks: a folder to render through, one H.264 chunk per half segment kept there and joined without
            re-encoding (:mod:`renderer.chunks`). None: one pass.
        reuse: with `chunks`, the chunk folder of the version this dance was edited from: only the chunks
            whose frames differ are rendered (`progress` then counts those frames).
    """
    if chunks is not None:
        from .chunks import render_chunked

        return render_chunked(dance, out_path, chunks, music_path, size=size, fps=fps, body=body, camera=camera,
                              smpl_dir=smpl_dir, progress=progress, antialias=antialias, reuse=reuse)
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
