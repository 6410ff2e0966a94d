"""A public Space left running: 60 requests, good and bad mixed, against one real `python app.py`.

The server keeps results for 30 s (cleaned every 7 s), accepts uploads up to 2 MB and songs up to 15 s.
Afterwards its folder must shrink back under a fixed bound without anyone generating, and its memory
must not grow between the 20th and the 60th request.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from app_server import start_app_server  # noqa: E402

pytestmark = pytest.mark.soak

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "salsa_clave_del_puerto_180bpm.mp3"
KEEP_MINUTES = 0.5  # 30 s; the cleaner runs every 7 s
DISK_BOUND = 4 * 1024**2  # what may stay once everything is old: the cached example songs (about 1 MB)
MEMORY_GROWTH_BOUND = 100 * 1024**2


def _folder_bytes(folder: Path) -> tuple[int, int]:
    """Bytes and files under `folder`, read while the app's cleaner may be deleting in it."""
    size = count = 0
    for root, _dirs, names in os.walk(folder):  # os.walk skips folders that vanish under it
        for name in names:
            try:
                size += (Path(root) / name).stat().st_size
            except FileNotFoundError:  # deleted between the listing and the stat
                continue
            count += 1
    return size, count


@pytest.fixture(scope="module")
def soak_server(tmp_path_factory):
    server = start_app_server(tmp_path_factory.mktemp("soak_server"), extra_args=[
        "--keep-minutes", str(KEEP_MINUTES), "--max-upload-mb", "2", "--max-seconds", "15", "--no-calibrate"])
    yield server
    server.stop()


def _request(client: Client, kind: str, files: dict[str, Path], seed: int):
    """One /generate call of the given kind; returns the outputs or the exception it raised."""
    music, seed_value, mode, seconds = handle_file(str(EXAMPLE)), seed, "first", 5.0
    if kind == "not_audio":
        music = handle_file(str(files["text"]))
    elif kind == "silent":
        music = handle_file(str(files["silent"]))
    elif kind == "huge_seed":
        seed_value = 2**70
    elif kind == "nan_seconds":
        seconds = "NaN"
    elif kind == "too_long":
        mode = "whole"
    elif kind == "too_big":
        music = handle_file(str(files["big"]))
    try:
        return client.predict(music, "salsa", seed_value, mode, seconds, 1.0, "ddim", 2, "follow", "mannequin", 256,
                              15, api_name="/generate")
    except Exception as err:  # noqa: BLE001 - the refusals are what we look at
        return err


def test_sixty_requests_leave_bounded_disk_and_steady_memory(soak_server, tmp_path):
    files = {"text": tmp_path / "notes.mp3", "silent": tmp_path / "silence.wav", "big": tmp_path / "big.wav"}
    files["text"].write_text("not music\n" * 50)
    sf.write(files["silent"], np.zeros(6 * 8000, np.float32), 8000)
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, 80 * 16000).astype(np.float32)
    sf.write(files["big"], noise, 16000, subtype="PCM_16")  # 2.6 MB: over the 2 MB upload limit
    bad_kinds = ["not_audio", "huge_seed", "silent", "nan_seconds", "too_long", "too_big"]
    client = Client(soak_server.url, verbose=False)
    folder = soak_server.instance_folder()

    memory: dict[int, int] = {}
    outcomes: list[tuple[str, object]] = []
    peak_disk = 0
    bad = 0
    for i in range(1, 61):
        kind = "good" if i % 3 == 1 else bad_kinds[bad % len(bad_kinds)]
        bad += kind != "good"
        result = _request(client, kind, files, seed=i)
        outcomes.append((kind, result))
        peak_disk = max(peak_disk, _folder_bytes(folder)[0])
        if i in (20, 60):
            memory[i] = soak_server.memory_bytes()

    for kind, result in outcomes:
        if kind == "good":
            assert not isinstance(result, Exception), result
        else:
            assert isinstance(result, Exception), kind
            message = str(result)
            assert "Traceback" not in message and str(folder) not in message, message
    titles = {kind: getattr(result, "title", None) for kind, result in outcomes if kind != "good"}
    assert titles["huge_seed"] == "Seed out of range" and titles["too_long"] == "Song too long", titles
    too_big = next(str(r) for k, r in outcomes if k == "too_big")
    assert "exceeds the maximum file size" in too_big, too_big  # gradio_client checks before sending
    # A client that sends it anyway: the server refuses it and keeps nothing of it.
    with open(files["big"], "rb") as fh:
        answer = httpx.post(soak_server.url + "gradio_api/upload", files={"files": ("big.wav", fh, "audio/wav")},
                            timeout=60)
    assert answer.status_code == 413 and "maximum allowed size" in answer.text, answer.text
    assert not any("big.wav" in names for _root, _dirs, names in os.walk(folder))

    # Nobody generates now: the timer alone must bring the folder back under the bound.
    deadline = time.monotonic() + KEEP_MINUTES * 60 + 30
    size, count = _folder_bytes(folder)
    while time.monotonic() < deadline and size > DISK_BOUND:
        time.sleep(2)
        size, count = _folder_bytes(folder)
    print(f"soak: peak disk {peak_disk / 1e6:.1f} MB, after cleaning {size / 1e6:.2f} MB in {count} files; "
          f"memory at request 20 {memory[20] / 1e6:.0f} MB, at 60 {memory[60] / 1e6:.0f} MB, "
          f"peak {soak_server.peak_memory_bytes() / 1e6:.0f} MB")
    assert size <= DISK_BOUND, (size, count, sorted(os.path.join(root, n) for root, _d, names in os.walk(folder) for n in names))
    assert memory[60] - memory[20] < MEMORY_GROWTH_BOUND, memory
    assert soak_server.peak_memory_bytes() < 2 * 1024**3
