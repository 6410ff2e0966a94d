"""Music stage: any music input -> the song's features (cut to the requested length) -> the
normalised, padded conditioning tensor the networks read."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..audio import MusicFeatures, analyze_music, music_features, normalize_music
from ..constants import FPS, SAMPLE_RATE
from ..sampling import SamplingOptions
from .base import StageModels


def prepare_music(music: str | Path | MusicFeatures | np.ndarray, options: SamplingOptions) -> MusicFeatures:
    """The features of ``music`` (an audio file, a mono waveform at 15360 Hz, or features already),
    only the first ``options.duration`` seconds when set; a file longer than ``options.max_seconds``
    is refused (:class:`lodge.audio.AudioError`), and only the needed seconds are decoded."""
    if isinstance(music, MusicFeatures):
        features = music
    elif isinstance(music, np.ndarray):
        features = music_features(music.astype(np.float32), SAMPLE_RATE)
    else:
        features = analyze_music(music, max_seconds=options.max_seconds, duration=options.duration)
    if options.duration is not None:
        features = cut_features(features, int(round(options.duration * FPS)))
    return features


def cut_features(features: MusicFeatures, frames: int) -> MusicFeatures:
    """The first `frames` frames of a song's features."""
    frames = max(1, min(frames, features.num_frames))
    return MusicFeatures(
        features=features.features[:frames],
        beats=features.beats[features.beats < frames],
        tempo=features.tempo,
        onset_envelope=features.onset_envelope[:frames],
    )


def normalised_music(models: StageModels, features: np.ndarray, padded_len: int) -> torch.Tensor:
    """(padded_len, 35) the song's per-frame features normalised with the checkpoint's statistics, on
    the models' device; frames past the song are zeros before normalising."""
    padded = np.zeros((padded_len, features.shape[1]), dtype=np.float32)
    padded[: len(features)] = features
    return normalize_music(torch.as_tensor(padded, device=models.device), models.music_mean, models.music_std)
