"""The app's files on disk: its own temporary folder, one sub-folder per request in it, file-name-safe
stems, uploads (kept alive while in use, deleted when refused) and the cleaning of old results."""
from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("lodge_app")

JOBS_DIR = "jobs"  # inside the instance folder: one sub-folder per request


def safe_stem(name: str) -> str:
    """A file name's stem reduced to letters, digits, '_' and '-' (at most 40; "music" when none are left)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem).strip("_")
    return (stem or "music")[:40]


def make_instance_folder() -> Path:
    """A temporary folder of its own for this server process (removed at exit); Gradio's cache lives
    there too (GRADIO_TEMP_DIR), so results written into it are served without being copied."""
    base = os.environ.get("LODGE_TMPDIR") or tempfile.gettempdir()
    folder = Path(tempfile.mkdtemp(prefix="lodge_studio_", dir=base)).resolve()
    atexit.register(shutil.rmtree, folder, True)
    return folder


def clean_folder(root: Path, max_age_s: float, keep: Callable[[Path], bool] = lambda p: False) -> int:
    """Delete request folders under `root/jobs` older than `max_age_s` and empty folders Gradio's cache
    left behind; returns how many were removed."""
    removed = 0
    now = time.time()
    jobs = root / JOBS_DIR
    for child in list(jobs.iterdir()) if jobs.is_dir() else []:
        try:
            if child.is_dir() and now - child.stat().st_mtime > max_age_s:
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        except OSError:
            pass
    for child in list(root.iterdir()) if root.is_dir() else []:
        try:
            if child.is_dir() and child.name != JOBS_DIR and not keep(child) and not any(child.iterdir()) \
                    and now - child.stat().st_mtime > 1.0:
                child.rmdir()
                removed += 1
        except OSError:
            pass
    return removed


def job_root(root: Path) -> Path:
    """The folder under the instance folder `root` that holds one sub-folder per request (made if missing)."""
    jobs = root / JOBS_DIR
    jobs.mkdir(parents=True, exist_ok=True)
    return jobs


def touch_upload(root: Path, path: Path) -> None:
    """Restart the keep time of an upload in use: Gradio's cache hands the same file to everyone who
    uploads the same bytes, and its cleaner goes by the file's ctime. Only files inside `root`."""
    try:
        if path.resolve().is_relative_to(root):
            os.utime(path)
    except OSError:
        pass


def discard_upload(root: Path, music: str | Path | None) -> None:
    """Delete a refused upload now (only files inside the instance folder `root`, never an example or a
    result)."""
    if not music:
        return
    path = Path(music)
    try:
        if path.is_file() and path.resolve().is_relative_to(root) and \
                not path.resolve().is_relative_to(root / JOBS_DIR):
            path.unlink()
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    except OSError:
        log.warning("could not delete the refused upload %s", path.name)
