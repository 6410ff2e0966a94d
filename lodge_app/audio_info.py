"""Cheap facts about an uploaded music file (its length) without decoding it all."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def probe_seconds(path: str | Path | None) -> float | None:
    """Duration in seconds from the file header (libsndfile, then ffprobe); None if unknown."""
    if not path:
        return None
    path = Path(path)
    if not path.is_file():
        return None
    try:
        import soundfile as sf

        info = sf.info(str(path))
        if info.samplerate > 0 and info.frames > 0:
            return info.frames / info.samplerate
    except Exception:  # noqa: BLE001 - not a libsndfile format; try ffprobe
        pass
    exe = shutil.which("ffprobe")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                             capture_output=True, text=True, timeout=20)
        return float(out.stdout.strip())
    except Exception:  # noqa: BLE001
        return None
