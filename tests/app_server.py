"""Test helpers: run the real app (`python app.py`) on a free localhost port, once per test process."""
from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST_GENRES = ["hiphop", "salsa", "ragtime", "pop"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    """A running `python app.py` subprocess."""

    url: str
    proc: subprocess.Popen
    log_path: Path
    checkpoint: Path
    tmp_root: Path  # the server's instance folder (its Gradio cache and results) is made in here

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's combined stdout/stderr."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def instance_folder(self) -> Path:
        """The server's own temporary folder (one ``lodge_studio_*`` folder inside :attr:`tmp_root`)."""
        found = sorted(self.tmp_root.glob("lodge_studio_*"))
        if len(found) != 1:
            raise RuntimeError(f"expected one instance folder in {self.tmp_root}, found {len(found)}")
        return found[0]

    def peak_memory_bytes(self) -> int:
        """The server's peak resident memory so far (VmHWM), in bytes; Linux only."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc")

    def memory_bytes(self) -> int:
        """The server's resident memory now (VmRSS), in bytes; Linux only."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc")

    def stop(self) -> None:
        """Terminate the server (and wait for it)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_app_server(workdir: Path, timeout: float = 180.0, extra_args: list[str] | None = None,
                     extra_env: dict[str, str] | None = None) -> AppServer:
    """Write a tiny random checkpoint into `workdir` and start the app on it; wait until it answers.

    The server's temporary files go under `workdir/tmp` (LODGE_TMPDIR), so tests can watch them."""
    from lodge.checkpoint import create_random_checkpoint

    workdir.mkdir(parents=True, exist_ok=True)
    ckpt = create_random_checkpoint(workdir / "tiny_checkpoint", TEST_GENRES, preset="tiny")
    port = free_port()
    tmp_root = workdir / "tmp"
    tmp_root.mkdir(exist_ok=True)
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYOPENGL_PLATFORM="egl", PYTHONUNBUFFERED="1",
               LODGE_TMPDIR=str(tmp_root), **(extra_env or {}))
    env.pop("LODGE_CHECKPOINT", None)
    env.pop("GRADIO_TEMP_DIR", None)
    log_path = workdir / "app_server.log"
    log = open(log_path, "w")
    cmd = [sys.executable, str(REPO / "app.py"), "--checkpoint", str(ckpt), "--host", "127.0.0.1",
           "--port", str(port), *(extra_args or [])]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(f"http://127.0.0.1:{port}/", proc, log_path, Path(ckpt), tmp_root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with code {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "config", timeout=5) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"app.py did not answer within {timeout:.0f} s:\n{server.log_tail()}")


_SHARED: AppServer | None = None


def shared_app_server(workdir: Path) -> AppServer:
    """One server per test process, shared by the API and browser tests; stopped at exit."""
    global _SHARED
    if _SHARED is None or _SHARED.proc.poll() is not None:
        _SHARED = start_app_server(workdir)
        atexit.register(_SHARED.stop)
    return _SHARED
