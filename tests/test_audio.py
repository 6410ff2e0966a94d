"""Audio loading, its user-facing errors, and the 35-dim music features."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lodge import audio
from lodge.audio import AudioError, MusicFeatures, analyze_music, load_audio, music_features, synth_click_track
from lodge.constants import FPS, MUSIC_DIM, SAMPLE_RATE

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg binary not installed")


@pytest.fixture(scope="module")
def click_features(click_wave) -> MusicFeatures:
    return music_features(click_wave)


def test_feature_shape_and_columns(click_features, click_wave):
    f = click_features
    assert f.features.shape == (len(click_wave) // 512, MUSIC_DIM) == (20 * FPS, MUSIC_DIM)
    assert f.num_frames == 600
    assert f.features.dtype == np.float32 and np.all(np.isfinite(f.features))
    np.testing.assert_array_equal(f.features[:, 0], f.onset_envelope)
    # Both one-hot columns are 0/1, and the beat column marks exactly the beat frames.
    assert set(np.unique(f.features[:, 33])) <= {0.0, 1.0} and f.features[:, 33].sum() > 0
    np.testing.assert_array_equal(np.flatnonzero(f.features[:, 34]), f.beats)
    assert f.beats.dtype == np.int64 and f.beats.max() < f.num_frames
    # Chroma CENS columns are unit-norm (or zero) per frame.
    norms = np.linalg.norm(f.features[:, 21:33], axis=1)
    assert np.all((np.abs(norms - 1) < 1e-3) | (norms < 1e-6))


def test_click_track_beats_and_tempo(click_features, click_beat_frames):
    f = click_features
    assert abs(f.tempo - 120.0) / 120.0 < 0.03
    # Every detected beat lies within one frame of a click, and nearly every click is found.
    dist = np.abs(f.beats[:, None] - click_beat_frames[None, :]).min(axis=1)
    assert np.mean(dist <= 1) >= 0.9, dist
    assert len(f.beats) >= 0.9 * len(click_beat_frames)
    # Onset peaks sit on the clicks as well.
    peaks = np.flatnonzero(f.features[:, 33])
    pdist = np.abs(peaks[:, None] - click_beat_frames[None, :]).min(axis=1)
    assert np.mean(pdist <= 1) >= 0.9


@pytest.mark.parametrize("bpm", [95.0, 140.0])
def test_other_tempi(bpm):
    f = music_features(synth_click_track(bpm, 15.0))
    assert abs(f.tempo - bpm) / bpm < 0.04
    assert np.all(np.abs(np.diff(f.beats) - 60 * FPS / bpm) <= 1.5)


def test_features_of_odd_length_and_other_rate():
    wave = synth_click_track(100, 7.3, sr=22050)
    f = music_features(wave, sr=22050)
    resampled = int(round(len(wave) * SAMPLE_RATE / 22050))
    assert f.num_frames == resampled // 512 and f.features.shape[1] == MUSIC_DIM


def test_load_wav_resamples_to_15360(click_wav, click_wave):
    wave = load_audio(click_wav)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) - len(click_wave)) <= 2
    n = min(len(wave), len(click_wave))
    assert np.corrcoef(wave[:n], click_wave[:n])[0, 1] > 0.95


def test_stereo_is_mixed_to_mono(tmp_path, click_wave):
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([click_wave, np.zeros_like(click_wave)], axis=1), SAMPLE_RATE)
    wave = load_audio(path)
    np.testing.assert_allclose(wave, click_wave / 2, atol=1e-3)


@needs_ffmpeg
@pytest.mark.parametrize("ext,codec", [("mp3", "libmp3lame"), ("ogg", "libvorbis"), ("flac", "flac"),
                                       ("m4a", "aac")])
def test_compressed_formats_load_and_keep_the_beat(tmp_path, click_wav, click_beat_frames, ext, codec):
    out = tmp_path / f"click.{ext}"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(click_wav), "-c:a", codec, str(out)], check=True)
    wave = load_audio(out)
    assert abs(len(wave) / SAMPLE_RATE - 20.0) < 0.2
    f = music_features(wave)
    assert abs(f.tempo - 120.0) / 120.0 < 0.03
    # Encoder delay (mp3/aac priming) may shift by a few ms, never by more than a frame.
    dist = np.abs(f.beats[:, None] - click_beat_frames[None, :]).min(axis=1)
    assert np.mean(dist <= 1) >= 0.9


def test_analyze_music(click_wav):
    f = analyze_music(click_wav)
    assert f.features.shape == (600, MUSIC_DIM)


def _message(path, kind: type[AudioError] = AudioError, **kw) -> str:
    with pytest.raises(kind) as err:
        load_audio(path, **kw)
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_missing_file(tmp_path):
    assert "not found" in _message(tmp_path / "nope.mp3", audio.AudioNotFoundError)


def test_folder(tmp_path):
    assert "folder" in _message(tmp_path, audio.AudioIsFolderError)


def test_text_file_renamed(tmp_path):
    for name in ("notes.txt", "song.mp3", "song.wav"):
        path = tmp_path / name
        path.write_text("This is not music, just some words.\n" * 50)
        assert "not an audio file" in _message(path, audio.NotAudioFileError)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    assert "empty" in _message(path, audio.EmptyAudioError)


def test_wav_with_no_samples(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, np.float32), 44100)
    assert "empty" in _message(path, audio.EmptyAudioError)


def test_too_short(tmp_path, click_wave):
    path = tmp_path / "short.wav"
    sf.write(path, click_wave[:SAMPLE_RATE], SAMPLE_RATE)
    msg = _message(path, audio.SongTooShortError)
    assert "1.0 s" in msg and "at least 5 s" in msg


def test_silent(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(6 * 44100, np.float32), 44100)
    assert "silent" in _message(path, audio.SilentAudioError)


def test_too_long_and_lifting_the_limit(click_wav):
    msg = _message(click_wav, audio.SongTooLongError, max_seconds=10)
    assert "20.0 s" in msg and "10.0 s" in msg and "max_seconds=None" in msg and "--max-seconds" in msg
    assert len(load_audio(click_wav, max_seconds=None)) > 0


@needs_ffmpeg
def test_too_long_m4a_is_refused_from_the_header(tmp_path, click_wav):
    out = tmp_path / "click.m4a"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(click_wav), "-c:a", "aac", str(out)], check=True)
    assert "limit" in _message(out, audio.SongTooLongError, max_seconds=10.0)
    assert "at least 30 s" in _message(out, audio.SongTooShortError, min_seconds=30.0)


def test_default_limit_is_ten_minutes(tmp_path):
    path = tmp_path / "long.wav"
    # 11 minutes of quiet noise at a low rate keeps the file small; only the header is read.
    sf.write(path, np.full(11 * 60 * 8000, 0.01, np.float32), 8000, subtype="PCM_U8")
    assert "10 min 00 s" in _message(path)


def test_each_kind_of_audio_error_has_its_type_data_and_title(tmp_path, click_wav):
    """Known answers: the data each error carries, its title, and its (unchanged) message text."""
    with pytest.raises(audio.SongTooLongError) as err:
        load_audio(click_wav, max_seconds=10)
    e = err.value
    assert (e.name, e.limit, e.title) == ("click_120bpm.wav", 10, "Song too long") and abs(e.seconds - 20.0) < 0.01
    assert isinstance(e, AudioError) and isinstance(e, ValueError)

    short = audio.SongTooShortError("a.wav", 1.04, 5.0)
    assert str(short) == "'a.wav' is only 1.0 s long; the music must be at least 5 s long."
    assert (short.seconds, short.minimum, short.title) == (1.04, 5.0, "Song too short")
    long_ = audio.SongTooLongError("b.mp3", 754.0, 600.0)
    assert str(long_) == ("'b.mp3' is 12 min 34 s long, over the limit of 10 min 00 s; trim it, or lift the limit "
                          "(max_seconds=None in Python, --max-seconds on the command line).")
    assert str(audio.SilentAudioError("c.wav", 8.0)) == ("The first 8 seconds of 'c.wav' are silent; "
                                                        "there is no music to dance to.")
    assert str(audio.SilentAudioError("c.wav")) == "'c.wav' is silent; there is no music to dance to."
    assert str(audio.EmptyAudioError("d.wav", zero_bytes=True)) == "'d.wav' is an empty file (0 bytes)."
    assert str(audio.EmptyAudioError("d.wav")) == "'d.wav' contains no audio (it is empty)."
    assert str(audio.LengthOutOfRangeError("e.mp3", 700.0, 600.0)) == ("Cannot use the first 11 min 40 s of 'e.mp3': "
                                                                       "the limit is 10 min 00 s.")
    assert str(audio.LengthOutOfRangeError("e.mp3", -1.0)) == "Cannot use the first -1.0 seconds of 'e.mp3'."
    assert str(audio.UndecodableAudioError("f.m4a")) == "'f.m4a' could not be decoded as audio."
    titles = {cls.__name__: cls.title for cls in (
        audio.AudioNotFoundError, audio.AudioIsFolderError, audio.EmptyAudioError, audio.LengthOutOfRangeError,
        audio.NoDecoderError, audio.NotAudioFileError, audio.UndecodableAudioError, audio.InvalidSamplesError,
        audio.SilentAudioError)}
    assert titles == {"AudioNotFoundError": "No music", "AudioIsFolderError": "Not a music file",
                      "EmptyAudioError": "Empty file", "LengthOutOfRangeError": "Length out of range",
                      "NoDecoderError": "Unreadable music", "NotAudioFileError": "Not a music file",
                      "UndecodableAudioError": "Unreadable music", "InvalidSamplesError": "Unreadable music",
                      "SilentAudioError": "Silent music"}
    assert AudioError("x").title == "Music problem"


def test_audio_errors_survive_pickling():
    """Their arguments are data, not the message: a pickled error (a worker process) comes back whole."""
    import pickle

    back = pickle.loads(pickle.dumps(audio.SongTooLongError("b.mp3", 754.0, 600.0)))
    assert type(back) is audio.SongTooLongError and (back.name, back.seconds, back.limit) == ("b.mp3", 754.0, 600.0)
    assert str(back).startswith("'b.mp3' is 12 min 34 s long")


def test_nan_samples_are_refused(tmp_path):
    path = tmp_path / "nan.wav"
    wave = np.full(6 * 8000, 0.1, np.float32)
    wave[100] = np.nan
    sf.write(path, wave, 8000, subtype="FLOAT")
    assert "invalid samples" in _message(path, audio.InvalidSamplesError)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name,bpm", [("salsa_clave_del_puerto_180bpm", 180.0), ("hiphop_basement_tape_95bpm", 95.0),
                                      ("ragtime_maple_street_shuffle_140bpm", 140.0)])
def test_example_songs_have_their_written_tempo(name, bpm):
    path = EXAMPLES / f"{name}.mp3"
    assert path.stat().st_size < 500 * 1024
    f = analyze_music(path)
    assert 15 * FPS <= f.num_frames <= 25 * FPS
    octave = 2.0 ** np.round(np.log2(f.tempo / bpm))  # half/double tempo is the same pulse
    assert octave in (0.5, 1.0, 2.0) and abs(f.tempo / octave - bpm) / bpm < 0.03
    # Beats fall on the written grid, up to a constant detector lag.
    step = 60.0 * FPS / bpm
    lag = f.beats - np.round(f.beats / step) * step
    assert np.mean(np.abs(lag - np.median(lag)) <= 1) >= 0.9 and 0 <= np.median(lag) <= 3


def test_first_n_seconds_decodes_only_those(three_hour_mp3):
    """A 3-hour file with a 10-minute limit: 'first 8 s' decodes 8 s (small, quick), the whole is refused
    from the header, and a decode never runs past the limit even with no header check."""
    import time
    import tracemalloc

    from lodge.audio import decode_limit

    load_audio(three_hour_mp3, duration=5.0)  # warm up: librosa loads its resampler on first use
    tracemalloc.start()
    t0 = time.perf_counter()
    wave = load_audio(three_hour_mp3, duration=8.0)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(wave) == 8 * SAMPLE_RATE
    assert peak < 50e6, peak  # the whole file would be 166 M samples (660 MB as float32)
    assert elapsed < 30, elapsed
    msg = _message(three_hour_mp3)
    assert "180 min" in msg and "limit" in msg
    assert "limit is 10 min" in _message(three_hour_mp3, audio.LengthOutOfRangeError, duration=700.0)
    assert decode_limit(600.0, None) == 601.0 and decode_limit(None, 8.0) == 8.0 and decode_limit(None, None) is None


@needs_ffmpeg
def test_first_n_seconds_through_ffmpeg(tmp_path, click_wav):
    out = tmp_path / "click.m4a"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(click_wav), "-c:a", "aac", str(out)], check=True)
    assert abs(len(load_audio(out, duration=6.0, max_seconds=10.0)) - 6 * SAMPLE_RATE) <= 1
