"""Music in: load any common audio file and compute Lodge's 35-dim music features at 30 fps.

Features follow the official Lodge/FineDance extraction (librosa, sr 15360, hop 512): onset
envelope (1), MFCC (20), chroma CENS (12), one-hot onset peaks (1), one-hot beats (1).
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import librosa
import numpy as np
import soundfile as sf

from .checks import DEFAULT_MAX_SECONDS, MIN_SECONDS, format_duration
from .constants import FPS, HOP_LENGTH, MUSIC_DIM, SAMPLE_RATE

log = logging.getLogger(__name__)

N_MFCC = 20
N_CHROMA = 12
# Columns of the features that mark single frames (one-hot onset peaks, one-hot beats), after the
# onset envelope, MFCC and chroma; anything that resamples features in time keeps them one-hot.
MARK_COLUMNS = (1 + N_MFCC + N_CHROMA, 2 + N_MFCC + N_CHROMA)
BEAT_TIGHTNESS = 100
# Peak amplitude below this (about -80 dBFS) counts as silence.
SILENCE_PEAK = 1e-4
# Files above this sample rate go through ffmpeg, which resamples while it streams (bounded memory).
MAX_NATIVE_RATE = 48000
BLOCK_SECONDS = 10  # libsndfile reads this much at a time


class AudioError(ValueError):
    """A music file that cannot be used; the message is one line, meant for end users.

    Each kind of problem is a subclass carrying its data (`name`: the file as the message names it) and a
    short `title` for a heading or a toast, so callers tell the kinds apart without reading the text.
    """

    title = "Music problem"

    def __init__(self, message: str, name: str = ""):
        super().__init__(message)
        self.name = name

    def __reduce__(self):  # the subclasses' arguments are not the message: pickle message + attributes
        return _rebuild_audio_error, (type(self), str(self), self.__dict__)


def _rebuild_audio_error(cls: type[AudioError], message: str, state: dict) -> AudioError:
    err = cls.__new__(cls)
    ValueError.__init__(err, message)
    err.__dict__.update(state)
    return err


class AudioNotFoundError(AudioError):
    """No file at the path."""

    title = "No music"

    def __init__(self, path: str | Path):
        super().__init__(f"Music file not found: '{path}'.", str(path))


class AudioIsFolderError(AudioError):
    """The path is a folder."""

    title = "Not a music file"

    def __init__(self, path: str | Path):
        super().__init__(f"'{path}' is a folder, not a music file.", str(path))


class EmptyAudioError(AudioError):
    """A file of 0 bytes (`zero_bytes`), or one whose audio has no samples."""

    title = "Empty file"

    def __init__(self, name: str, zero_bytes: bool = False):
        super().__init__(f"'{name}' is an empty file (0 bytes)." if zero_bytes
                         else f"'{name}' contains no audio (it is empty).", name)
        self.zero_bytes = zero_bytes


class LengthOutOfRangeError(AudioError):
    """The part asked for ("the first `seconds`") is not a positive number or is over `limit`."""

    title = "Length out of range"

    def __init__(self, name: str, seconds: float, limit: float | None = None):
        if limit is None:
            message = f"Cannot use the first {seconds} seconds of '{name}'."
        else:
            message = (f"Cannot use the first {format_duration(seconds)} of '{name}': the limit is "
                       f"{format_duration(limit)}.")
        super().__init__(message, name)
        self.seconds, self.limit = seconds, limit


class SongTooShortError(AudioError):
    """The music lasts `seconds`, under `minimum`."""

    title = "Song too short"

    def __init__(self, name: str, seconds: float, minimum: float):
        super().__init__(f"'{name}' is only {seconds:.1f} s long; the music must be at least {minimum:g} s long.",
                         name)
        self.seconds, self.minimum = seconds, minimum


class SongTooLongError(AudioError):
    """The music lasts `seconds`, over `limit`."""

    title = "Song too long"

    def __init__(self, name: str, seconds: float, limit: float):
        super().__init__(
            f"'{name}' is {format_duration(seconds)} long, over the limit of {format_duration(limit)}; "
            "trim it, or lift the limit (max_seconds=None in Python, --max-seconds on the command line).", name)
        self.seconds, self.limit = seconds, limit


class NoDecoderError(AudioError):
    """libsndfile cannot read the format and there is no ffmpeg to try."""

    title = "Unreadable music"

    def __init__(self, name: str):
        super().__init__(f"'{name}' is not a format that can be read here "
                         "(use wav, flac, ogg or mp3, or install ffmpeg).", name)


class NotAudioFileError(AudioError):
    """ffmpeg finds no audio stream in the file (not audio, or damaged)."""

    title = "Not a music file"

    def __init__(self, name: str):
        super().__init__(f"'{name}' is not an audio file (or it is damaged); use wav, mp3, ogg, flac or m4a.", name)


class UndecodableAudioError(AudioError):
    """ffmpeg found an audio stream but failed to decode it."""

    title = "Unreadable music"

    def __init__(self, name: str):
        super().__init__(f"'{name}' could not be decoded as audio.", name)


class InvalidSamplesError(AudioError):
    """The decoded samples hold NaN or infinity."""

    title = "Unreadable music"

    def __init__(self, name: str):
        super().__init__(f"'{name}' contains invalid samples (NaN or infinity).", name)


class SilentAudioError(AudioError):
    """The music (or its first `first_seconds`, when given) is silent."""

    title = "Silent music"

    def __init__(self, name: str, first_seconds: float | None = None):
        what = f"The first {first_seconds:g} seconds of '{name}' are" if first_seconds is not None else f"'{name}' is"
        super().__init__(f"{what} silent; there is no music to dance to.", name)
        self.first_seconds = first_seconds


@dataclass
class MusicFeatures:
    """Per-frame music features at 30 fps.

    Attributes:
        features: (T, 35) float32, see the module docstring for the column order.
        beats: int64 frame indices of the tracked beats (all < T).
        tempo: estimated tempo in beats per minute.
        onset_envelope: (T,) float32 onset strength (also column 0 of `features`).
    """

    features: np.ndarray
    beats: np.ndarray
    tempo: float
    onset_envelope: np.ndarray

    @property
    def num_frames(self) -> int:
        """Number of 30 fps frames T."""
        return int(self.features.shape[0])

    @property
    def seconds(self) -> float:
        """Duration covered by the frames, in seconds."""
        return self.num_frames / FPS


# ----------------------------------------------------------------------------- loading

def _ffmpeg_exe() -> str | None:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - no ffmpeg available at all
        return None


def _check_duration(seconds: float, name: str, max_seconds: float | None, min_seconds: float) -> None:
    if seconds <= 0:
        raise EmptyAudioError(name)
    if seconds < min_seconds:
        raise SongTooShortError(name, seconds, min_seconds)
    if max_seconds is not None and seconds > max_seconds:
        raise SongTooLongError(name, seconds, max_seconds)


def decode_limit(max_seconds: float | None, duration: float | None) -> float | None:
    """Seconds of audio :func:`load_audio` decodes at most: `duration` when given, else a little over
    `max_seconds` (enough to tell that a file whose header lies is too long); None: no limit."""
    if duration is not None:
        return float(duration)
    return None if max_seconds is None else float(max_seconds) + 1.0


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Keep what C decoders (libsndfile's mpg123) print on file descriptor 2 away from the user; it is
    logged at debug level instead."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no real stderr (embedded interpreter)
            yield
            return
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            noise = sink.read(4096).decode(errors="replace").strip()
            if noise:
                log.debug("decoder messages: %s", noise)


_STDERR_LOCK = threading.Lock()


def _ffmpeg_probe(exe: str, path: Path) -> tuple[bool, float | None]:
    """(has an audio stream, duration in seconds or None) from ffmpeg's header printout."""
    proc = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True,
                          errors="replace", timeout=60)
    err = proc.stderr
    has_audio = re.search(r"Stream #\S+.*: Audio:", err) is not None
    m = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", err)
    duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None
    return has_audio, duration


def _ffmpeg_decode(exe: str, path: Path, limit_seconds: float | None) -> np.ndarray:
    """Decode, mix to mono and resample in ffmpeg (streaming: memory grows only with the output)."""
    cmd = [exe, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1",
           "-ar", str(SAMPLE_RATE), "-f", "f32le"]
    if limit_seconds is not None:  # never decode more than will be used
        cmd += ["-t", f"{limit_seconds:.3f}"]
    proc = subprocess.run(cmd + ["-"], capture_output=True, timeout=600)
    if proc.returncode != 0:
        raise UndecodableAudioError(path.name)
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


def _load_soundfile(path: Path, max_seconds: float | None, min_seconds: float,
                    duration: float | None) -> np.ndarray | None:
    """Decode with libsndfile (wav, flac, ogg, mp3, ...); None if it cannot read the format.

    Reads block by block, mixing each block to mono, and stops at :func:`decode_limit`, so memory
    follows the seconds used, not the size of the file.
    """
    try:
        with _quiet_stderr():
            info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - libsndfile raises several types for unknown formats
        return None
    if not 0 < info.samplerate <= MAX_NATIVE_RATE or info.channels < 1:
        return None  # odd rates and layouts: ffmpeg resamples them while it streams
    if duration is None:
        _check_duration(info.frames / info.samplerate, path.name, max_seconds, min_seconds)
    limit = decode_limit(max_seconds, duration)
    frames = -1 if limit is None else int(math.ceil(limit * info.samplerate))
    blocks: list[np.ndarray] = []
    try:
        with _quiet_stderr(), sf.SoundFile(str(path)) as fh:
            sr = fh.samplerate
            for block in fh.blocks(blocksize=BLOCK_SECONDS * sr, frames=frames, dtype="float32", always_2d=True):
                blocks.append(block.mean(axis=1))
    except Exception:  # noqa: BLE001
        return None
    wave = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    if not np.all(np.isfinite(wave)):  # before resampling, which refuses them with its own error
        raise InvalidSamplesError(path.name)
    if sr != SAMPLE_RATE and len(wave):
        wave = librosa.resample(wave, orig_sr=sr, target_sr=SAMPLE_RATE)
    return np.ascontiguousarray(wave, dtype=np.float32)


def load_audio(path: str | Path, max_seconds: float | None = DEFAULT_MAX_SECONDS, min_seconds: float = MIN_SECONDS,
               duration: float | None = None) -> np.ndarray:
    """Load a music file as mono float32 at 15360 Hz.

    Reads wav, flac, ogg and mp3 with libsndfile and anything else ffmpeg can decode (m4a/aac,
    opus, the audio track of a video, ...). The duration is checked from the file header before
    anything is decoded, and never more than :func:`decode_limit` seconds are decoded, whatever
    the file says about itself.

    Args:
        path: the audio file.
        max_seconds: refuse longer songs; None means no limit. With `duration`, the limit applies
            to `duration` (the file itself may be longer).
        min_seconds: refuse shorter songs.
        duration: use only the first `duration` seconds; only they are decoded.

    Raises:
        AudioError: missing, not audio, empty, too short, too long or silent (a subclass per kind:
            :class:`AudioNotFoundError`, :class:`SongTooLongError`, ...).
    """
    path = Path(path)
    if not path.exists():
        raise AudioNotFoundError(path)
    if not path.is_file():
        raise AudioIsFolderError(path)
    if path.stat().st_size == 0:
        raise EmptyAudioError(path.name, zero_bytes=True)
    if duration is not None:
        if not math.isfinite(duration) or duration <= 0:
            raise LengthOutOfRangeError(path.name, duration)
        if max_seconds is not None and duration > max_seconds:
            raise LengthOutOfRangeError(path.name, duration, max_seconds)

    wave = _load_soundfile(path, max_seconds, min_seconds, duration)
    if wave is None:
        exe = _ffmpeg_exe()
        if exe is None:
            raise NoDecoderError(path.name)
        has_audio, seconds = _ffmpeg_probe(exe, path)
        if not has_audio:
            raise NotAudioFileError(path.name)
        if seconds is not None and duration is None:
            _check_duration(seconds, path.name, max_seconds, min_seconds)
        wave = _ffmpeg_decode(exe, path, decode_limit(max_seconds, duration))
    if duration is not None:
        wave = wave[: int(round(duration * SAMPLE_RATE))]

    # The header can lie (or be missing): check the decoded length too.
    _check_duration(len(wave) / SAMPLE_RATE, path.name, max_seconds, min_seconds)
    if not np.all(np.isfinite(wave)):
        raise InvalidSamplesError(path.name)
    if float(np.max(np.abs(wave))) < SILENCE_PEAK:
        raise SilentAudioError(path.name, duration)
    return wave


# ----------------------------------------------------------------------------- features

def _fit(x: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad axis 0 to exactly `frames`."""
    if len(x) >= frames:
        return x[:frames]
    pad = [(0, frames - len(x))] + [(0, 0)] * (x.ndim - 1)
    return np.pad(x, pad)


def music_features(wave: np.ndarray, sr: int = SAMPLE_RATE) -> MusicFeatures:
    """The 35-dim Lodge music features of a mono wave, T = len(wave) // 512 frames at 30 fps.

    Columns: onset envelope (1), MFCC (20), chroma CENS (12), one-hot onset peaks (1),
    one-hot beats (1; `beat_track` on the onset envelope, tightness 100).
    """
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1:
        raise ValueError(f"expected a mono 1-D wave, got shape {wave.shape}")
    if sr != SAMPLE_RATE:
        wave = librosa.resample(wave, orig_sr=sr, target_sr=SAMPLE_RATE)
    frames = len(wave) // HOP_LENGTH
    if frames < 1:
        raise ValueError("wave is shorter than one frame")
    kw = dict(sr=SAMPLE_RATE, hop_length=HOP_LENGTH)

    envelope = librosa.onset.onset_strength(y=wave, **kw).astype(np.float32)
    mfcc = librosa.feature.mfcc(y=wave, n_mfcc=N_MFCC, **kw).T
    chroma = librosa.feature.chroma_cens(y=wave, n_chroma=N_CHROMA, **kw).T
    peaks = librosa.onset.onset_detect(onset_envelope=envelope, **kw)
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, tightness=BEAT_TIGHTNESS, **kw)

    envelope = _fit(envelope, frames)
    peaks = peaks[peaks < frames]
    beats = np.asarray(beats, dtype=np.int64)
    beats = beats[beats < frames]
    peak_onehot = np.zeros(frames, np.float32)
    peak_onehot[peaks] = 1.0
    beat_onehot = np.zeros(frames, np.float32)
    beat_onehot[beats] = 1.0

    feats = np.concatenate([
        envelope[:, None], _fit(mfcc, frames), _fit(chroma, frames), peak_onehot[:, None], beat_onehot[:, None],
    ], axis=1).astype(np.float32)
    assert feats.shape == (frames, MUSIC_DIM)
    return MusicFeatures(features=feats, beats=beats, tempo=float(np.atleast_1d(tempo)[0]),
                         onset_envelope=envelope)


def analyze_music(path: str | Path, max_seconds: float | None = DEFAULT_MAX_SECONDS,
                  duration: float | None = None) -> MusicFeatures:
    """Load a music file (see `load_audio`; only the first `duration` seconds when given) and compute
    its `MusicFeatures`."""
    return music_features(load_audio(path, max_seconds=max_seconds, duration=duration))


# ----------------------------------------------------------------------------- test signal

def click_times(bpm: float, seconds: float, offset: float = 0.5) -> np.ndarray:
    """Times (s) of the clicks `synth_click_track` places: every 60/bpm s from `offset`."""
    period = 60.0 / bpm
    return np.arange(offset, seconds - 0.05, period)


def synth_click_track(bpm: float, seconds: float, sr: int = SAMPLE_RATE, offset: float = 0.5) -> np.ndarray:
    """A metronome: short percussive clicks every beat of `bpm`, the first at `offset` seconds.

    Every fourth click (the downbeat) is louder and higher. Deterministic; mono float32.
    """
    n = int(round(seconds * sr))
    wave = np.zeros(n, np.float32)
    click_len = int(0.04 * sr)
    t = np.arange(click_len) / sr
    env = np.exp(-t / 0.008)
    noise = np.random.default_rng(0).uniform(-1, 1, click_len)
    for i, start_t in enumerate(click_times(bpm, seconds, offset)):
        start = int(round(start_t * sr))
        down = i % 4 == 0
        freq = 1600.0 if down else 1000.0
        click = env * (0.7 * np.sin(2 * np.pi * freq * t) + 0.3 * noise) * (0.9 if down else 0.6)
        end = min(n, start + click_len)
        wave[start:end] += click[: end - start]
    return wave


def normalize_music(features, mean, std):
    """Standardise music features per dimension, (x - mean) / std, with a checkpoint's statistics.

    The one rule training and sampling share; works on NumPy arrays and on torch tensors (the
    statistics follow the features' dtype and device).
    """
    if hasattr(features, "new_tensor"):  # a torch tensor
        mean, std = features.new_tensor(np.asarray(mean)), features.new_tensor(np.asarray(std))
    return (features - mean) / std
