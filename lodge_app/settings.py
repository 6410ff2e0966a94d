"""App settings: command-line flags and environment variables, with the defaults a fresh machine needs."""
from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from lodge.checks import DEFAULT_MAX_SECONDS

CHECKPOINT_ENV = "LODGE_CHECKPOINT"
SMPL_DIR_ENV = "LODGE_SMPL_MODEL_DIR"  # same variable the renderer reads
MAX_SECONDS_ENV = "LODGE_MAX_SECONDS"
QUEUE_SIZE_ENV = "LODGE_QUEUE_SIZE"
DEVICE_ENV = "LODGE_DEVICE"
MAX_UPLOAD_MB_ENV = "LODGE_MAX_UPLOAD_MB"
KEEP_MINUTES_ENV = "LODGE_KEEP_MINUTES"
DEFAULT_QUEUE_SIZE = 16
# A 10-minute wav (44.1 kHz, 16-bit stereo) is 106 MB; compressed songs are far smaller.
DEFAULT_MAX_UPLOAD_MB = 128.0
DEFAULT_KEEP_MINUTES = 60.0  # how long results (and uploads) stay on the server for download


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        return default


def _env_int(name: str, default: int) -> int:
    return int(_env_float(name, float(default)))


@dataclass(frozen=True)
class AppSettings:
    """Everything the app needs to start.

    Attributes:
        checkpoint: checkpoint folder; None means the weights shipped in the package.
        device: "cpu", "cuda", ...; None picks CUDA when present.
        max_seconds: longest song accepted, in seconds (shown on the page).
        smpl_dir: folder with the license-gated SMPL / SMPL-X model files (enables the real body).
        server_name: interface to listen on (127.0.0.1 locally; Spaces sets 0.0.0.0).
        server_port: TCP port.
        queue_size: how many requests may wait in the queue.
        calibrate: time a tiny generation at start-up so the time estimates fit this machine.
        max_upload_mb: largest file an upload may be, in MB; larger ones are refused and deleted.
        keep_minutes: results and uploads older than this are deleted (checked on a timer).
    """

    checkpoint: Path | None = None
    device: str | None = None
    max_seconds: float = DEFAULT_MAX_SECONDS
    smpl_dir: Path | None = None
    server_name: str = "127.0.0.1"
    server_port: int = 7860
    queue_size: int = DEFAULT_QUEUE_SIZE
    calibrate: bool = True
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    keep_minutes: float = DEFAULT_KEEP_MINUTES

    @property
    def keep_seconds(self) -> int:
        """:attr:`keep_minutes` in whole seconds (at least 1)."""
        return max(1, int(round(self.keep_minutes * 60)))

    @property
    def clean_every_seconds(self) -> int:
        """How often old results are looked for: a quarter of the keep time, from 5 s to 10 min."""
        return int(min(600, max(5, self.keep_seconds // 4)))

    @classmethod
    def from_env(cls) -> "AppSettings":
        """Settings from environment variables only."""
        ckpt = os.environ.get(CHECKPOINT_ENV, "").strip()
        smpl = os.environ.get(SMPL_DIR_ENV, "").strip()
        return cls(
            checkpoint=Path(ckpt) if ckpt else None,
            device=os.environ.get(DEVICE_ENV, "").strip() or None,
            max_seconds=_env_float(MAX_SECONDS_ENV, DEFAULT_MAX_SECONDS),
            smpl_dir=Path(smpl) if smpl else None,
            server_name=os.environ.get("GRADIO_SERVER_NAME", "").strip() or "127.0.0.1",
            server_port=_env_int("GRADIO_SERVER_PORT", 7860),
            queue_size=_env_int(QUEUE_SIZE_ENV, DEFAULT_QUEUE_SIZE),
            max_upload_mb=_env_float(MAX_UPLOAD_MB_ENV, DEFAULT_MAX_UPLOAD_MB),
            keep_minutes=_env_float(KEEP_MINUTES_ENV, DEFAULT_KEEP_MINUTES),
        )

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None) -> "AppSettings":
        """Settings from the command line, falling back on the environment."""
        base = cls.from_env()
        p = argparse.ArgumentParser(prog="python app.py", description="Lodge Studio: music in, 3D dance out.")
        p.add_argument("--checkpoint", type=Path, default=base.checkpoint,
                       help=f"checkpoint folder (env {CHECKPOINT_ENV}; default: the shipped weights)")
        p.add_argument("--device", default=base.device, help=f"cpu or cuda (env {DEVICE_ENV}; default: cuda if present)")
        p.add_argument("--max-seconds", type=float, default=base.max_seconds,
                       help=f"longest song accepted (env {MAX_SECONDS_ENV}; default {DEFAULT_MAX_SECONDS:g})")
        p.add_argument("--smpl-dir", type=Path, default=base.smpl_dir,
                       help=f"SMPL / SMPL-X model folder for the real body (env {SMPL_DIR_ENV})")
        p.add_argument("--host", dest="server_name", default=base.server_name,
                       help="interface to listen on (env GRADIO_SERVER_NAME; default 127.0.0.1)")
        p.add_argument("--port", dest="server_port", type=int, default=base.server_port,
                       help="port (env GRADIO_SERVER_PORT; default 7860)")
        p.add_argument("--queue-size", type=int, default=base.queue_size,
                       help=f"requests allowed to wait (env {QUEUE_SIZE_ENV}; default {DEFAULT_QUEUE_SIZE})")
        p.add_argument("--max-upload-mb", type=float, default=base.max_upload_mb,
                       help=f"largest upload in MB (env {MAX_UPLOAD_MB_ENV}; default {DEFAULT_MAX_UPLOAD_MB:g})")
        p.add_argument("--keep-minutes", type=float, default=base.keep_minutes,
                       help=f"delete results and uploads older than this (env {KEEP_MINUTES_ENV}; "
                            f"default {DEFAULT_KEEP_MINUTES:g})")
        p.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                       help="skip the start-up timing run (estimates then use built-in CPU figures)")
        ns = p.parse_args(argv)
        for flag, value in (("--max-seconds", ns.max_seconds), ("--max-upload-mb", ns.max_upload_mb),
                            ("--keep-minutes", ns.keep_minutes)):
            if not (math.isfinite(value) and value > 0):
                p.error(f"{flag} must be a positive number, not {value:g}")
        return replace(base, **vars(ns))
