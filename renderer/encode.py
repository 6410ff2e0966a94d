"""One-pass H.264 + AAC encoding: raw RGB frames piped into ffmpeg (imageio-ffmpeg's binary)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np


class VideoEncoder:
    """Write frames to an MP4 with H.264 (yuv420p) video and, if given, the music as AAC, cut or padded to
    exactly ``num_frames / fps`` seconds. Use as a context manager."""

    def __init__(self, out_path: str | Path, size: tuple[int, int], fps: float, num_frames: int,
                 music_path: str | Path | None = None, crf: int = 20, preset: str = "veryfast"):
        self.out_path = Path(out_path)
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        width, height = size
        duration = f"{num_frames / fps:.6f}"
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "-",
        ]
        if music_path is not None:
            cmd += ["-i", str(music_path)]
        cmd += ["-map", "0:v:0", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                "-pix_fmt", "yuv420p", "-r", str(fps)]
        if music_path is not None:
            # apad + -t: silence-pad a short song, cut a long one, so the file is exactly the dance.
            cmd += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "160k", "-af", "apad"]
        cmd += ["-t", duration, "-movflags", "+faststart", str(self.out_path)]
        self.frames_expected = num_frames
        self.frames_written = 0
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 frame."""
        self._proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file; raise with ffmpeg's message if it failed."""
        self._proc.stdin.close()
        err = self._proc.stderr.read().decode(errors="replace")
        if self._proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed writing {self.out_path}: {err.strip()}")
        return self.out_path

    def abort(self) -> None:
        """Stop ffmpeg without finishing the file."""
        try:
            self._proc.stdin.close()
        finally:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> "VideoEncoder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
