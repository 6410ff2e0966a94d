"""Chunked video (renderer/chunks.py): the joined chunks play as a whole render does (frame count, duration,
no frozen or repeated frame at a join, the follow camera's state at a chunk's start), and an edited dance
renders only the chunks whose frames changed, the old version's marks and the camera's reach included."""
from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures.chunk_spy import spy_on_chunk_encodes  # noqa: E402
from lodge.dance import Dance, Primitive  # noqa: E402
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion  # noqa: E402
from lodge.rotations import axis_angle_to_matrix  # noqa: E402
from test_renderer import probe, write_tone  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")

SIZE = 96
CHUNK = 16  # small chunks keep the test cheap; the app's are renderer.chunks.CHUNK_FRAMES


def spin_dance(frames: int = 72, travel: float = 0.04) -> Dance:
    """A dancer who turns 12 degrees a frame (so neighbouring frames differ clearly), swings an arm and
    walks along x (so the follow camera moves)."""
    contacts, transl, _ = unpack_motion(rest_motion(frames))
    t = np.arange(frames)
    aa = np.zeros((frames, 22, 3), np.float32)
    aa[:, 0, 1] = np.deg2rad(12.0) * t
    aa[:, 16, 2] = -1.0 + 0.6 * np.sin(t / 4.0)
    transl = np.array(transl)
    transl[:, 0] = travel * t
    motion = pack_motion(contacts, transl, axis_angle_to_matrix(aa))
    return Dance(motion=motion, joints=motion_to_joints(motion), genre="test", beats=np.arange(0, frames, 15),
                 primitives=[Primitive(20, "soft")], segment_starts=np.array([0]))


def edited(dance: Dance, frames: tuple[int, int], rotate: bool = True, move: float = 0.0) -> Dance:
    """`dance` with frames [a, b) changed (a raised arm; the body `move` metres along z) and an edit record
    saying so, as lodge.edits writes it."""
    a, b = frames
    motion = dance.motion.copy()
    contacts, transl, rotmats = unpack_motion(motion[a:b])
    if rotate:
        aa = np.zeros((b - a, 22, 3), np.float32)
        aa[:, 17, 2] = 1.2
        rotmats = np.array(rotmats)
        rotmats[:, 17] = axis_angle_to_matrix(aa)[:, 17]
    transl = np.array(transl)
    transl[:, 2] += move * np.sin(np.linspace(0, np.pi, b - a))  # back where it was at both ends
    motion[a:b] = pack_motion(contacts, transl, rotmats)
    record = {"op": "reroll", "segments": [0], "seed": 1, "frames": [[a, b]]}
    return replace(dance, motion=motion, joints=motion_to_joints(motion), edits=[*dance.edits, record])


def decode(path: Path) -> np.ndarray:
    import imageio

    reader = imageio.get_reader(str(path), "ffmpeg")
    try:
        return np.array([frame for frame in reader])
    finally:
        reader.close()


def raw_frames(dance: Dance, camera: str = "follow") -> np.ndarray:
    from renderer import render_frames

    return np.array(list(render_frames(dance, SIZE, camera=camera)))


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def assert_plays_as(video: Path, dance: Dance, joins: list[int] = (16, 32, 48, 64)) -> None:
    """`video` has the frames a direct render of `dance` has (within codec error; each decoded frame nearest
    its own raw frame, none frozen or repeated at a join), lasts the dance's time and has its music."""
    from renderer.marks import edited_mask

    raw, seconds = raw_frames(dance), dance.duration
    info = probe(video)
    stream = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert stream["codec_name"] == "h264" and audio["codec_name"] == "aac"
    assert int(stream["nb_frames"]) == len(raw)
    assert abs(float(stream["duration"]) - seconds) < 1e-3 and abs(float(audio["duration"]) - seconds) < 0.05
    frames = decode(video)  # imageio's ffmpeg reads it
    assert frames.shape == raw.shape
    errors = np.array([mae(frames[i], raw[i]) for i in range(len(raw))])
    marked = edited_mask(dance)  # the orange border and tag cost yuv420p more at this size
    assert errors[~marked].max() < 4.0 and errors[marked].max(initial=0.0) < 8.0, errors
    for j in joins:  # the frames on both sides of a join are the right ones, not a repeat
        for i in (j - 1, j):
            for k in (i - 1, i + 1):  # where the two raw frames differ, the decoded one is raw[i]
                moved = (np.abs(raw[i].astype(np.int16) - raw[k]) > 24).any(-1)
                assert moved.sum() > 20
                own, other = mae(frames[i][moved], raw[i][moved]), mae(frames[i][moved], raw[k][moved])
                assert own < 0.5 * other, (i, k, own, other)
        assert mae(frames[j], frames[j - 1]) > 0.5 * mae(raw[j], raw[j - 1])  # not frozen


def test_chunks_join_into_the_whole_render(tmp_path):
    from renderer import render_video
    from renderer.chunks import MANIFEST_FILE, chunk_name, render_chunked

    dance = spin_dance()
    song = write_tone(tmp_path / "song.wav", 4.0)
    progress = []
    video = render_chunked(dance, tmp_path / "chunked.mp4", tmp_path / "chunks", song, size=SIZE, chunk_frames=CHUNK,
                           progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (dance.num_frames, dance.num_frames)
    manifest = json.loads((tmp_path / "chunks" / MANIFEST_FILE).read_text())
    assert manifest["rendered"] == [0, 1, 2, 3, 4] and manifest["reused"] == []  # 72 frames: 4 x 16 + 8
    raw = raw_frames(dance)
    assert_plays_as(video, dance)
    # The camera: a chunk starts where a whole render is at that frame (the path is the whole dance's).
    for k in (2, 4):
        first = decode(tmp_path / "chunks" / chunk_name(k))[0]
        assert mae(first, raw[k * CHUNK]) < 0.7 * mae(first, raw_frames(replace(dance, motion=dance.motion[k * CHUNK:],
                                                                              joints=dance.joints[k * CHUNK:]))[0])
    whole = decode(render_video(dance, tmp_path / "whole.mp4", song, size=SIZE))
    assert np.mean([mae(a, b) for a, b in zip(whole, decode(video))]) < 3.0


def test_half_rate_chunks(tmp_path):
    from renderer.chunks import render_chunked

    dance = spin_dance(40)
    video = render_chunked(dance, tmp_path / "v.mp4", tmp_path / "c", write_tone(tmp_path / "s.wav", 1.0, sr=15360),
                           size=64, fps=15, camera="fixed", chunk_frames=CHUNK)
    stream = next(s for s in probe(video)["streams"] if s["codec_type"] == "video")
    assert int(stream["nb_frames"]) == 20 and stream["r_frame_rate"] == "15/1"
    with pytest.raises(ValueError):
        render_chunked(dance, tmp_path / "x.mp4", tmp_path / "x", fps=15, chunk_frames=15)


def test_an_edit_renders_only_the_chunks_that_changed(tmp_path, monkeypatch):
    from renderer.chunks import CAMERA_TOLERANCE, chunk_name, render_chunked
    from renderer.video import SceneInputs

    song = write_tone(tmp_path / "song.wav", 4.0)
    kw = dict(size=SIZE, chunk_frames=CHUNK)
    # v1 as if an edit had made it (its "edited" marks on chunk 0), then v2 edits frames 32-48 (chunk 2), poses only.
    v1 = edited(spin_dance(), (0, 16))
    render_chunked(v1, tmp_path / "v1.mp4", tmp_path / "v1", song, **kw)
    v2 = edited(v1, (32, 48))
    made = spy_on_chunk_encodes(monkeypatch)
    video = render_chunked(v2, tmp_path / "v2.mp4", tmp_path / "v2", song, reuse=tmp_path / "v1", **kw)
    assert made == [chunk_name(0), chunk_name(2)]  # the old marks go, the changed chunk gets the new ones
    for k in (1, 3, 4):  # the others are v1's files, linked
        assert (tmp_path / "v2" / chunk_name(k)).read_bytes() == (tmp_path / "v1" / chunk_name(k)).read_bytes()
    assert_plays_as(video, v2)

    # v3 moves the body in chunk 3: the follow camera (smoothed) moves in the chunks around it too.
    v3 = edited(v2, (48, 64), rotate=False, move=0.5)
    camera_moved = np.abs(SceneInputs.of(v3).cameras - SceneInputs.of(v2).cameras).max(axis=(1, 2)) > CAMERA_TOLERANCE
    expected = sorted({2, 3} | {int(f) // CHUNK for f in np.flatnonzero(camera_moved)})
    assert len(expected) > 2  # the camera reaches past the edit
    made.clear()
    video = render_chunked(v3, tmp_path / "v3.mp4", tmp_path / "v3", song, reuse=tmp_path / "v2", **kw)
    assert made == [chunk_name(k) for k in expected]
    assert_plays_as(video, v3)

    # Other render settings: nothing is reused.
    made.clear()
    render_chunked(v3, tmp_path / "v3b.mp4", tmp_path / "v3b", song, reuse=tmp_path / "v3", camera="fixed", **kw)
    assert len(made) == 5
    # A reused folder whose chunks are gone: they are rendered.
    shutil.rmtree(tmp_path / "v1")
    made.clear()
    render_chunked(edited(v1, (0, 16)), tmp_path / "v4.mp4", tmp_path / "v4", song, reuse=tmp_path / "v1", **kw)
    assert len(made) == 5
