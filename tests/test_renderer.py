"""Renderer: a frame shows the figure on the floor, the MP4 has H.264 + AAC of the dance's length, the
timeline draws one span per primitive, SMPL fallback, CLI."""
from __future__ import annotations

import json
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import soundfile as sf

from lodge.dance import Dance, Primitive
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion
from lodge.rotations import axis_angle_to_matrix


def wave_dance(frames: int = 45, fps: int = 30) -> Dance:
    """Rest pose plus sinusoidal arm / leg / hip rotations and a little travel, with three primitives."""
    contacts, transl, _ = unpack_motion(rest_motion(frames))
    t = np.arange(frames) / fps
    aa = np.zeros((frames, 22, 3), np.float32)
    aa[:, 16, 2] = -1.0 + 0.5 * np.sin(2 * np.pi * t)
    aa[:, 17, 2] = 1.0 + 0.5 * np.sin(2 * np.pi * t)
    aa[:, 18, 1] = 0.8 * np.sin(2 * np.pi * t)
    aa[:, 4, 0] = np.sin(2 * np.pi * t).clip(0)
    aa[:, 0, 1] = 0.4 * np.sin(np.pi * t)
    transl = np.array(transl)
    transl[:, 0] = 0.3 * np.sin(np.pi * t)
    motion = pack_motion(contacts, transl, axis_angle_to_matrix(aa))
    return Dance(motion=motion, joints=motion_to_joints(motion), genre="test", beats=np.arange(0, frames, 15),
                 primitives=[Primitive(2, "hard"), Primitive(16, "soft"), Primitive(30, "soft_mirror")],
                 segment_starts=np.array([0, 24]), onset_envelope=np.abs(np.sin(np.arange(frames) / 3.0)))


@pytest.fixture(scope="module")
def dance() -> Dance:
    return wave_dance()


def write_tone(path, seconds: float, sr: int = 44100):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    return path


def probe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def test_frame_shows_figure_standing_on_floor(dance):
    from renderer.body import make_body
    from renderer.camera import YFOV, camera_path
    from renderer.stage import Stage

    body = make_body(dance.motion)
    cams = camera_path(body.positions[:, 0], body.floor_height)
    red = np.tile(np.array([1.0, 0.0, 0.0], np.float32), (dance.num_frames, 1))  # body pixels easy to find
    size = 160
    stage = Stage(body, cams, red, size=size)
    try:
        image = stage.render(0)
    finally:
        stage.close()
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    mask = (image[..., 0].astype(int) - image[..., 1] > 60) & (image[..., 0].astype(int) - image[..., 2] > 60)
    rows, cols = np.nonzero(mask)
    assert mask.sum() > 0.02 * size * size, "no figure in the frame"
    assert abs(cols.mean() - size / 2) < size * 0.15, "figure not centred"
    # Project the floor point under the pelvis: the lowest body pixel (the feet) must be right there.
    ground = np.append(body.positions[0, 0], 1.0)
    ground[1] = body.floor_height
    cam = np.linalg.inv(cams[0]) @ ground
    row = size / 2 - (cam[1] / -cam[2]) / np.tan(YFOV / 2) * size / 2
    assert abs(rows.max() - row) < 0.05 * size, (rows.max(), row)
    assert rows.min() < size * 0.35, "figure should reach well above the middle (head)"


@needs_ffprobe
def test_video_has_h264_and_aac_of_dance_length(dance, tmp_path):
    song = write_tone(tmp_path / "song.wav", 3.0)  # longer than the dance: must be cut
    calls = []
    out = __import__("renderer").render_video(dance, tmp_path / "v.mp4", song, size=96,
                                              progress=lambda d, t: calls.append((d, t)))
    info = probe(out)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1 and len(audio) == 1
    assert video[0]["codec_name"] == "h264" and video[0]["pix_fmt"] == "yuv420p"
    assert audio[0]["codec_name"] == "aac"
    assert int(video[0]["nb_frames"]) == dance.num_frames
    assert abs(float(video[0]["duration"]) - dance.duration) < 1e-3
    assert abs(float(audio[0]["duration"]) - dance.duration) < 0.05
    assert calls[-1] == (dance.num_frames, dance.num_frames) and len(calls) == dance.num_frames


@needs_ffprobe
def test_half_rate_video_pads_short_music(dance, tmp_path):
    from renderer import render_video

    song = write_tone(tmp_path / "short.wav", 0.6, sr=15360)  # shorter than the dance: must be padded
    info = probe(render_video(dance, tmp_path / "v15.mp4", song, size=64, fps=15, camera="fixed"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    frames = -(-dance.num_frames // 2)
    assert int(video["nb_frames"]) == frames and video["r_frame_rate"] == "15/1"
    assert abs(float(audio["duration"]) - frames / 15) < 0.05


def test_bad_fps_rejected(dance, tmp_path):
    from renderer import render_video

    with pytest.raises(ValueError):
        render_video(dance, tmp_path / "x.mp4", fps=20)


@pytest.mark.parametrize("where", ["missing", "empty", "env"])
def test_missing_smpl_folder_warns_and_falls_back(dance, tmp_path, monkeypatch, where):
    from renderer.body import SMPL_DIR_ENV, MannequinBody, make_body

    monkeypatch.delenv(SMPL_DIR_ENV, raising=False)
    folder = tmp_path / "nope"
    if where == "empty":
        folder.mkdir()
    if where == "env":
        monkeypatch.setenv(SMPL_DIR_ENV, str(folder))
        folder = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = make_body(dance.motion, body="smplx", smpl_dir=folder)
    assert isinstance(body, MannequinBody)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1
    assert "SMPL-X body unavailable" in messages[0] and "Rendering the mannequin instead" in messages[0]


def test_timeline_has_a_span_per_primitive(dance, tmp_path):
    import imageio.v2 as iio

    from renderer import palette
    from renderer.timeline import primitive_spans, render_timeline

    spans = primitive_spans(dance)
    assert [s.kind for s in spans] == ["hard", "soft", "soft_mirror"]
    assert [s.color for s in spans] == [palette.CUE_COLORS[k] for k in ("hard", "soft", "soft_mirror")]
    assert spans[1].start == pytest.approx(16 / 30) and spans[1].end == pytest.approx(24 / 30)
    image = iio.imread(render_timeline(dance, tmp_path / "t.png"))
    assert image.shape[1] > 1000 and image.shape[0] > 400
    # The stick-figure thumbnails are drawn in the exact cue colours.
    pixels = image[..., :3].reshape(-1, 3)
    for kind in ("hard", "soft", "soft_mirror"):
        assert (np.abs(pixels.astype(int) - palette.rgb8(palette.CUE_COLORS[kind])).sum(1) < 6).sum() > 20, kind


def test_timeline_from_music_waveform(dance, tmp_path):
    from renderer.timeline import render_timeline

    silent = Dance(**{**dance.__dict__, "onset_envelope": None})
    song = write_tone(tmp_path / "song.wav", 2.0)
    assert render_timeline(silent, tmp_path / "t.png", song).stat().st_size > 10_000


def test_cli_writes_video_and_timeline(dance, tmp_path):
    from renderer.__main__ import main

    path = dance.save_npz(tmp_path / "dance.npz")
    assert main([str(path), "--out", str(tmp_path / "v.mp4"), "--size", "64", "--fps", "15",
                 "--timeline", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "v.mp4").stat().st_size > 1000 and (tmp_path / "t.png").stat().st_size > 1000
