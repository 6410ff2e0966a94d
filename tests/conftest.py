"""Shared pytest fixtures (audio files written once per session)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lodge.audio import click_times, synth_click_track
from lodge.constants import SAMPLE_RATE

CLICK_BPM = 120.0
CLICK_SECONDS = 20.0
CLICK_OFFSET = 0.5


@pytest.fixture(scope="session")
def click_wave() -> np.ndarray:
    """20 s metronome at 120 BPM, first click at 0.5 s, mono float32 at 15360 Hz."""
    return synth_click_track(CLICK_BPM, CLICK_SECONDS, offset=CLICK_OFFSET)


@pytest.fixture(scope="session")
def click_beat_frames() -> np.ndarray:
    """The 30 fps frames (rounded) of the clicks in `click_wave` / `click_wav`."""
    return np.round(click_times(CLICK_BPM, CLICK_SECONDS, CLICK_OFFSET) * 30).astype(np.int64)


@pytest.fixture(scope="session")
def click_wav(tmp_path_factory, click_wave) -> Path:
    """`click_wave` written as a 16-bit wav at 44.1 kHz (so loading also resamples)."""
    import librosa

    path = tmp_path_factory.mktemp("audio") / "click_120bpm.wav"
    sf.write(path, librosa.resample(click_wave, orig_sr=SAMPLE_RATE, target_sr=44100), 44100, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def example_song() -> Path:
    """One of the shipped example songs in examples/."""
    songs = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.mp3"))
    if not songs:
        pytest.skip("no example songs in examples/")
    return songs[0]


TEST_GENRES = ["salsa", "breaking", "modern"]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A randomly initialised tiny Lodge checkpoint (the pipeline treats it like any other)."""
    from lodge.checkpoint import create_random_checkpoint

    return create_random_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny", TEST_GENRES, preset="tiny")


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_checkpoint):
    """A CPU LodgePipeline around `tiny_checkpoint`."""
    from lodge.pipeline import LodgePipeline

    return LodgePipeline.from_pretrained(tiny_checkpoint, device="cpu")


@pytest.fixture(scope="session")
def null_genre_checkpoint(tiny_checkpoint, tmp_path_factory) -> Path:
    """`tiny_checkpoint` with a null genre in both networks, as if trained with genre dropout (the null
    genre a random embedding, not the mean genre's), so that it can be guided on the genre."""
    import torch

    from lodge.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(tiny_checkpoint)
    generator = torch.Generator().manual_seed(0)
    for net in (ckpt.local, ckpt.global_):
        net.add_null_genre()
        with torch.no_grad():
            net.null_genre.add_(torch.randn(net.null_genre.shape, generator=generator))
    ckpt.cfg.local.null_genre = ckpt.cfg.global_.null_genre = True
    out = tmp_path_factory.mktemp("null_genre") / "ck"
    save_checkpoint(out, ckpt.cfg, ckpt.local, ckpt.global_, ckpt.motion_normalizer, ckpt.music_mean,
                    ckpt.music_std, training_data={}, metrics={})
    return out


@pytest.fixture(scope="session")
def click_features(click_wave):
    """Music features of the 20 s click track."""
    from lodge.audio import music_features

    return music_features(click_wave)


@pytest.fixture(scope="session")
def synthetic_body_dir(tmp_path_factory) -> Path:
    """A model folder with a synthetic, format-valid neutral SMPL-X (``smplx/``) and SMPL (``smpl/``)
    model built from the mannequin and lodge's SMPL-X rest joints (see tests/fixtures/synthetic_body.py);
    written to a temporary folder, never into the repository."""
    from fixtures.synthetic_body import write_model_folder

    return write_model_folder(tmp_path_factory.mktemp("body_models"))


@pytest.fixture(scope="session")
def three_hour_mp3(tmp_path_factory) -> Path:
    """A 3-hour, 8 kbit/s mp3 (about 10.8 MB): small on disk, 166 M samples if decoded whole.

    Ten minutes of a tone with clicks are encoded once, then the mp3 frames are repeated (no re-encoding).
    """
    import shutil
    import subprocess

    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("needs ffmpeg")
    folder = tmp_path_factory.mktemp("long_audio")
    piece, path = folder / "ten_minutes.mp3", folder / "three_hours.mp3"
    tone = "sine=frequency=440:sample_rate=8000:duration=600"
    subprocess.run([exe, "-v", "error", "-y", "-f", "lavfi", "-i", tone, "-ac", "1", "-b:a", "8k", str(piece)],
                   check=True, timeout=300)
    subprocess.run([exe, "-v", "error", "-y", "-stream_loop", "17", "-i", str(piece), "-c", "copy", str(path)],
                   check=True, timeout=300)
    return path
