"""A video made of chunks, so that an edited dance renders only what changed.

Each :data:`CHUNK_FRAMES`-frame stretch of the dance (half a local segment, 4.27 s; segment joins are
chunk joins) is its own H.264 encode, so it starts on a keyframe; the chunks stay in a folder beside the
MP4, which is their concatenation by ffmpeg's concat demuxer (``-c copy``, nothing re-encoded) with the
music muxed once as AAC.

The folder also keeps what every frame was drawn from (:class:`FrameInputs`: a digest of the pose, the
camera, the body's colour and the "edited" mark). Rendering an edited dance with ``reuse=`` the folder of
the version it was made from links every chunk whose frames would all be drawn the same and renders only
the others: the regenerated segments, the chunks that carried the old version's "edited" marks (they
move) and, with the follow camera (smoothed over time), the chunks next to an edit whose camera moved
by more than :data:`CAMERA_TOLERANCE` (with the shipped weights a re-rolled segment moves the camera up
to about 40 frames on either side, so a one-segment edit renders 4 chunks: 2 segments' worth). The
camera path is computed for the whole dance, so a chunk rendered alone starts from the camera a whole
render has there.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import imageio_ffmpeg
import numpy as np

from lodge.constants import SEG_LEN
from lodge.dance import Dance

from .encode import VideoEncoder
from .video import SceneInputs, frame_step

log = logging.getLogger(__name__)

CHUNK_FRAMES = SEG_LEN // 2  # dance frames per chunk: half a local segment (the follow camera's reach past an
# edit, about 40 frames, then costs one small chunk on each side instead of a whole segment)
CAMERA_TOLERANCE = 1e-3  # metres a reused chunk's camera may differ by: about a third of a pixel at 720 px
FORMAT = 1  # bump when what a frame looks like changes, so older chunks are not reused
INPUTS_FILE = "frames.npz"
MANIFEST_FILE = "chunks.json"
LIST_FILE = "chunks.txt"


def chunk_name(k: int) -> str:
    """File name of chunk `k`."""
    return f"chunk_{k:04d}.mp4"


def chunk_ranges(num_frames: int, chunk_frames: int = CHUNK_FRAMES) -> list[tuple[int, int]]:
    """[start, stop) dance frames of each chunk."""
    return [(a, min(a + chunk_frames, num_frames)) for a in range(0, num_frames, chunk_frames)]


@dataclass
class FrameInputs:
    """What each dance frame is drawn from, and the render settings, as kept beside the chunks."""

    settings: dict
    poses: np.ndarray  # (T,) 16-byte digests of the motion rows
    cameras: np.ndarray  # (T, 4, 4) camera poses
    tints: np.ndarray  # (T, 3) body colours
    marked: np.ndarray  # (T,) bool: drawn with the "edited" mark

    @classmethod
    def of(cls, dance: Dance, scene: SceneInputs, settings: dict) -> "FrameInputs":
        """The frame inputs of `dance` drawn from `scene`."""
        motion = np.ascontiguousarray(dance.motion, np.float32)
        poses = np.array([hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in motion], "S16")
        return cls(dict(settings), poses, np.asarray(scene.cameras, np.float64), np.asarray(scene.tints, np.float32),
                   np.asarray(scene.marked, bool))

    def save(self, folder: Path) -> Path:
        """Write them into `folder`."""
        path = folder / INPUTS_FILE
        np.savez(path, settings=json.dumps(self.settings, sort_keys=True), poses=self.poses, cameras=self.cameras,
                 tints=self.tints, marked=self.marked)
        return path

    @classmethod
    def load(cls, folder: Path) -> "FrameInputs | None":
        """The frame inputs kept in `folder`, or None (none there, unreadable)."""
        try:
            with np.load(folder / INPUTS_FILE) as data:
                return cls(json.loads(str(data["settings"])), data["poses"], data["cameras"], data["tints"],
                           data["marked"])
        except Exception:  # noqa: BLE001 - missing, half-written, older layout: render everything
            return None

    def same(self, other: "FrameInputs", a: int, b: int, camera_tolerance: float = CAMERA_TOLERANCE) -> bool:
        """Whether frames [a, b) are drawn the same from `other` (camera within `camera_tolerance`)."""
        if b > len(other.poses):
            return False
        return (np.array_equal(self.poses[a:b], other.poses[a:b])
                and np.array_equal(self.marked[a:b], other.marked[a:b])
                and np.allclose(self.tints[a:b], other.tints[a:b], rtol=0.0, atol=1e-6)
                and float(np.abs(self.cameras[a:b] - other.cameras[a:b]).max(initial=0.0)) <= camera_tolerance)


def reusable_chunks(new: FrameInputs, old: FrameInputs | None, chunk_frames: int = CHUNK_FRAMES) -> list[int]:
    """The chunks of a video drawn from `new` that a video drawn from `old` (same settings) has already."""
    if old is None or old.settings != new.settings:
        return []
    old_ranges = chunk_ranges(len(old.poses), chunk_frames)
    return [k for k, (a, b) in enumerate(chunk_ranges(len(new.poses), chunk_frames))
            if k < len(old_ranges) and old_ranges[k] == (a, b) and new.same(old, a, b)]


def _link(source: Path, target: Path) -> bool:
    """Hard-link (or copy) `source` to `target`; False if `source` is gone."""
    try:
        target.unlink(missing_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        return True
    except OSError:
        return False


def render_chunked(dance: Dance, out_path: str | os.PathLike, folder: str | os.PathLike,
                   music_path: str | os.PathLike | None = None, size: int = 512, fps: int = 30,
                   body: str = "mannequin", camera: str = "follow", smpl_dir: str | os.PathLike | None = None,
                   progress: Callable[[int, int], None] | None = None, antialias: bool = False,
                   reuse: str | os.PathLike | None = None, chunk_frames: int = CHUNK_FRAMES) -> Path:
    """Render `dance` to `out_path` (H.264 + AAC, like :func:`renderer.render_video`) through chunks kept in
    `folder`; with `reuse` (another such folder, the version this dance was edited from) only the chunks
    whose frames differ are rendered, the others are linked from there.

    `progress(done, total)` counts the frames actually rendered. `folder`'s ``chunks.json`` says which
    chunks were rendered and which reused.
    """
    if size % 2:
        raise ValueError("size must be even for yuv420p video")
    step = frame_step(dance.fps, fps)
    if chunk_frames <= 0 or chunk_frames % step:
        raise ValueError(f"chunk_frames must be a positive multiple of {step}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INPUTS_FILE).unlink(missing_ok=True)  # only a finished render says what its chunks show
    scene = SceneInputs.of(dance, body, camera, smpl_dir)
    settings = dict(format=FORMAT, size=int(size), fps=int(fps), body=scene.body.kind, camera=camera,
                    smpl_dir=str(smpl_dir) if smpl_dir and scene.body.kind != "mannequin" else None,
                    antialias=bool(antialias), floor=round(float(scene.body.floor_height), 6),
                    chunk_frames=int(chunk_frames))
    inputs = FrameInputs.of(dance, scene, settings)
    ranges = chunk_ranges(dance.num_frames, chunk_frames)
    reused = []
    if reuse is not None and Path(reuse).resolve() != folder.resolve():
        old = FrameInputs.load(Path(reuse))
        reused = [k for k in reusable_chunks(inputs, old, chunk_frames)
                  if _link(Path(reuse) / chunk_name(k), folder / chunk_name(k))]
    todo = [k for k in range(len(ranges)) if k not in reused]
    total = sum(len(range(*ranges[k], step)) for k in todo)
    done = 0
    if todo:
        stage = scene.stage(size, antialias)
        try:
            for k in todo:
                a, b = ranges[k]
                frames = range(a, b, step)
                part = folder / f"partial_{chunk_name(k)}"
                with VideoEncoder(part, (size, size), fps, len(frames)) as encoder:
                    for frame in frames:
                        encoder.write(scene.frame(stage, frame))
                        done += 1
                        if progress is not None:
                            progress(done, total)
                part.replace(folder / chunk_name(k))
        finally:
            stage.close()
    concat_chunks([folder / chunk_name(k) for k in range(len(ranges))], out_path, music_path,
                  -(-dance.num_frames // step) / fps)
    inputs.save(folder)
    (folder / MANIFEST_FILE).write_text(json.dumps(
        {"chunks": len(ranges), "chunk_frames": chunk_frames, "rendered": todo, "reused": reused}))
    log.info("video %s: %d chunk(s) rendered, %d reused", Path(out_path).name, len(todo), len(reused))
    return Path(out_path)


def concat_chunks(chunks: list[Path], out_path: str | os.PathLike, music_path: str | os.PathLike | None,
                  seconds: float) -> Path:
    """Join H.264 `chunks` (same size and rate) into `out_path` without re-encoding, with the music as AAC
    cut or silence-padded to `seconds`."""
    if not chunks:
        raise ValueError("no chunks to join")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    listing = chunks[0].parent / LIST_FILE
    quoted = (c.resolve().as_posix().replace("'", "'\\''") for c in chunks)
    listing.write_text("".join(f"file '{q}'\n" for q in quoted))
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-nostdin",
           "-f", "concat", "-safe", "0", "-i", str(listing)]
    if music_path is not None:
        cmd += ["-i", str(music_path)]
    cmd += ["-map", "0:v:0", "-c:v", "copy"]
    if music_path is not None:
        cmd += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "160k", "-af", "apad"]
    cmd += ["-t", f"{seconds:.6f}", "-movflags", "+faststart", str(out_path)]
    done = subprocess.run(cmd, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed joining {out_path.name}: {done.stderr.decode(errors='replace').strip()}")
    return out_path
