"""The web app through its public API: the real `python app.py` server on localhost, driven by gradio_client."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from app_server import shared_app_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "hiphop_basement_tape_95bpm.mp3"
FAST = dict(soft=1.0, quality="ddim", steps=3, camera="follow", body="mannequin", video_size=256, video_fps=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a tiny random checkpoint (shared with the browser test)."""
    return shared_app_server(tmp_path_factory.mktemp("app_server"))


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server.url, verbose=False)


def _generate(client: Client, music, genre="hiphop", length_mode="first", first_seconds=6.0, **overrides):
    """Call /generate; the trailing input left out (beat sync) takes its default, as for any API client."""
    args = {**FAST, **overrides}
    extra = {name: args[name] for name in ("beat_sync", "energy") if name in args}
    return client.predict(
        music, genre, 0, length_mode, first_seconds, args["soft"], args["quality"], args["steps"], args["camera"],
        args["body"], args["video_size"], args["video_fps"], api_name="/generate", **extra,
    )


def _probe(path: str | Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _video_path(video) -> Path:
    return Path(video["video"] if isinstance(video, dict) else video)


def _assert_error(excinfo, *fragments: str) -> None:
    message = str(excinfo.value)
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message


def test_api_lists_generate_endpoint(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert "/generate" in api["named_endpoints"]
    params = [p["parameter_name"] for p in api["named_endpoints"]["/generate"]["parameters"]]
    assert params[:2] == ["music", "genre"]


@pytest.mark.skipif(not shutil.which("ffprobe"), reason="needs ffprobe")
def test_generate_from_example(client, server):
    video, timeline, glb, files, summary = _generate(client, handle_file(str(EXAMPLE)), first_seconds=6.0)
    path = _video_path(video)
    info = _probe(path)
    codecs = sorted(s["codec_name"] for s in info["streams"])
    assert codecs == ["aac", "h264"], codecs
    assert abs(float(info["format"]["duration"]) - 6.0) < 0.1
    video_stream = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (int(video_stream["width"]), int(video_stream["height"])) == (256, 256)

    names = [Path(f).name for f in files]
    for suffix in (".mp4", ".bvh", ".smplx.npz", ".glb", ".dance.npz"):
        assert any(n.endswith(suffix) for n in names), (suffix, names)
    assert all(Path(f).stat().st_size > 0 for f in files)
    dance_file = next(Path(f) for f in files if Path(f).name.endswith(".dance.npz"))
    with np.load(dance_file) as dance:
        assert dance["motion"].shape == (180, 139)
        assert str(dance["genre"]) == "hiphop"
    bvh = next(Path(f) for f in files if Path(f).name.endswith(".bvh"))
    assert bvh.read_text().startswith("HIERARCHY")
    smplx = next(Path(f) for f in files if Path(f).name.endswith(".smplx.npz"))
    with np.load(smplx) as params:
        assert len(params.files) > 0
    assert Path(glb).read_bytes()[:4] == b"glTF"
    assert Path(timeline).stat().st_size > 0
    for word in ("Duration", "Tempo", "hiphop", "Primitives", "Device", "global diffusion", "local diffusion",
                 "rendering", "beat sync off"):
        assert word in summary, summary


def test_the_energy_reaches_the_dance_settings(client):
    *_, summary = _generate(client, handle_file(str(EXAMPLE)), first_seconds=5.0, energy=1.5)
    assert "energy 1.5" in summary


def test_beat_sync_can_be_switched_on(client):
    *_, summary = _generate(client, handle_file(str(EXAMPLE)), first_seconds=5.0, beat_sync=True)
    assert "beat sync on" in summary, summary


@pytest.mark.skipif(not shutil.which("ffprobe"), reason="needs ffprobe")
def test_whole_song_video_matches_input_length(client, tmp_path):
    from lodge.audio import synth_click_track

    song = tmp_path / "clicks_6_4s.wav"
    sf.write(song, synth_click_track(128.0, 6.4, sr=22050), 22050)
    video, *_ = _generate(client, handle_file(str(song)), genre="salsa", length_mode="whole", camera="fixed")
    info = _probe(_video_path(video))
    assert sorted(s["codec_name"] for s in info["streams"]) == ["aac", "h264"]
    assert abs(float(info["format"]["duration"]) - 6.4) < 0.1


def test_text_file_is_refused(client, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not music\n" * 200)
    with pytest.raises(Exception) as excinfo:
        _generate(client, handle_file(str(text)))
    _assert_error(excinfo, "not an audio file")


def test_one_second_of_silence_is_refused(client, tmp_path):
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(44100, np.float32), 44100)
    with pytest.raises(Exception) as excinfo:
        _generate(client, handle_file(str(silence)), length_mode="whole")
    _assert_error(excinfo, "silence.wav", "at least 5")


def test_silent_music_is_refused(client, tmp_path):
    silence = tmp_path / "quiet.wav"
    sf.write(silence, np.zeros(44100 * 7, np.float32), 44100)
    with pytest.raises(Exception) as excinfo:
        _generate(client, handle_file(str(silence)), length_mode="whole")
    _assert_error(excinfo, "silent")


def test_missing_music_and_unknown_genre_are_refused(client):
    with pytest.raises(Exception) as excinfo:
        _generate(client, None)
    _assert_error(excinfo, "add some music")
    with pytest.raises(Exception) as excinfo:
        _generate(client, handle_file(str(EXAMPLE)), genre="polka")
    _assert_error(excinfo, "unknown genre", "hiphop")


# ---------------------------------------------------------------------- pieces of the app, in process

def test_stage_weights_and_progress_are_honest():
    from lodge_app.estimate import Job, StageProgress, TimeEstimator

    est = TimeEstimator()
    short, long_ = Job(10.0), Job(300.0)
    assert abs(sum(est.weights(short).values()) - 1.0) < 1e-9
    assert est.total(long_) > est.total(short)
    assert est.total(Job(60.0, sampler="ddpm")) > 10 * est.total(Job(60.0, steps=50)) * 0.5
    seen: list[float] = []
    progress = StageProgress(est.weights(short), lambda f, d: seen.append(f))
    for stage in ("music", "global", "local", "render"):
        for frac in (0.25, 0.5, 1.0):
            progress(stage, frac)
    assert seen == sorted(seen) and abs(seen[-1] - 1.0) < 1e-9
    # A finished request moves the rates toward what was measured.
    before = est.local_rate
    est.update(short, {"music": 0.5, "global": 1.0, "local": 100.0, "render": 5.0})
    assert est.local_rate > before


def test_zero_gpu_wrapper(monkeypatch):
    import sys
    import types

    from lodge.sampling import SamplingOptions
    from lodge_app import gpu

    ddim, ddpm = SamplingOptions(steps=50), SamplingOptions(sampler="ddpm")
    assert gpu.gpu_seconds(600, ddim) > gpu.gpu_seconds(30, ddim)
    assert gpu.gpu_seconds(60, ddpm) > gpu.gpu_seconds(60, ddim)
    calls = {}

    def GPU(duration):  # noqa: N802 - mimics spaces.GPU
        def deco(fn):
            def wrapped(*args, **kwargs):
                calls["duration"] = duration(*args, **kwargs)
                return fn(*args, **kwargs)
            return wrapped
        return deco

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    wrapped = gpu.wrap_for_gpu(lambda x, y=1: x + y, lambda x, y=1: 42)
    assert wrapped(1, y=2) == 3 and calls["duration"] == 42
    monkeypatch.setitem(sys.modules, "spaces", None)  # import fails -> unchanged
    plain = lambda: 1  # noqa: E731
    assert gpu.wrap_for_gpu(plain, lambda: 1) is plain


def test_gpu_function_arguments_pickle():
    """On ZeroGPU the diffusion function's arguments cross into a worker process by pickle."""
    import pickle

    import gradio as gr

    from lodge.audio import MusicFeatures
    from lodge.sampling import SamplingOptions
    from lodge_app.estimate import ProgressReport

    features = MusicFeatures(features=np.zeros((180, 35), np.float32), beats=np.arange(0, 180, 15),
                             tempo=120.0, onset_envelope=np.zeros(180, np.float32))
    args = (features, "hiphop", SamplingOptions(seed=0, soft=1.0, sampler="ddim", steps=3),
            {"music": 0.1, "global": 0.2, "local": 0.3, "render": 0.4}, ProgressReport(gr.Progress()))
    assert pickle.loads(pickle.dumps(args))[0].num_frames == features.num_frames


def test_missing_weights_give_a_page_not_a_crash(tmp_path):
    from lodge_app import AppSettings
    from lodge_app.errors import UserError
    from lodge_app.options import Request
    from lodge_app.studio import Studio

    studio = Studio.load(AppSettings(checkpoint=tmp_path / "nowhere", calibrate=False))
    assert not studio.ready and "--checkpoint" in studio.load_error
    with pytest.raises(UserError):
        studio.generate(str(EXAMPLE), Request(genre="hiphop"))
    from lodge_app.ui import build_demo

    assert build_demo(studio) is not None


def test_render_failure_is_a_friendly_error(tmp_path, monkeypatch):
    import renderer
    from lodge.dance import Dance
    from lodge.motion import motion_to_joints
    from lodge_app import AppSettings
    from lodge_app.errors import UserError
    from lodge_app.options import Request
    from lodge_app.studio import Studio

    motion = np.zeros((60, 139), np.float32)
    motion[:, 7:] = np.tile([1, 0, 0, 0, 1, 0], 22)  # identity rotations (6D)
    dance = Dance(motion=motion, joints=motion_to_joints(motion), genre="hiphop", beats=np.zeros(0, np.int64),
                  primitives=[], segment_starts=np.zeros(1, np.int64))

    def broken(*args, **kwargs):
        raise RuntimeError("EGL is not available")

    monkeypatch.setattr(renderer, "render_video", broken)
    studio = Studio(AppSettings(calibrate=False))
    with pytest.raises(UserError) as excinfo:
        studio._render(dance, EXAMPLE, tmp_path, "x", Request(genre="hiphop"), lambda stage, frac: None)
    assert excinfo.value.title == "Render failed"
    assert "rendering the video failed" in str(excinfo.value) and "EGL" in str(excinfo.value)


@pytest.mark.parametrize(
    "overrides, fragment, title",
    [
        (dict(seed=2**70), "from 0 to 4294967295", "Seed out of range"),
        (dict(first_seconds="NaN"), "finite number", "Length out of range"),  # JSON has no NaN: sent as text
        (dict(first_seconds=3), "at least 5 seconds", "Length out of range"),
        (dict(first_seconds=-5), "at least 5 seconds", "Length out of range"),
        (dict(first_seconds=10_000), "at most 600 seconds", "Length out of range"),
        (dict(steps=0), "from 1 to 1000", "Step count out of range"),
        (dict(steps=100_000), "from 1 to 1000", "Step count out of range"),
        (dict(soft="inf"), "finite number", "Soft-cue strength out of range"),
        (dict(video_size=100_000), "256, 384, 512, 720", "Unknown video size"),
        (dict(video_fps=1000), "30, 15", "Unknown frame rate"),
        (dict(energy=9), "between 0.25 and 3", "Energy out of range"),
    ],
)
def test_out_of_range_values_get_a_sentence_and_a_title(client, overrides, fragment, title):
    args = {"seed": 0, "first_seconds": 6.0, **FAST, **overrides}
    with pytest.raises(Exception) as excinfo:
        client.predict(handle_file(str(EXAMPLE)), "hiphop", args["seed"], "first", args["first_seconds"], args["soft"],
                       args["quality"], args["steps"], args["camera"], args["body"], args["video_size"],
                       args["video_fps"], api_name="/generate", **({"energy": args["energy"]} if "energy" in args else {}))
    _assert_error(excinfo, fragment)
    assert getattr(excinfo.value, "title", None) == title
    assert "/" not in str(excinfo.value)  # no server path (and no traceback)


def test_three_hour_mp3_first_seconds_is_quick_and_small(client, server, three_hour_mp3):
    """The probe's file: 'first 6 s' decodes 6 s; the whole song is refused from its header; the server's
    peak memory stays far under 2 GB."""
    *_, summary = _generate(client, handle_file(str(three_hour_mp3)), first_seconds=6.0)
    assert "6.0 s" in summary
    with pytest.raises(Exception) as excinfo:
        _generate(client, handle_file(str(three_hour_mp3)), length_mode="whole")
    _assert_error(excinfo, "180 min", "first n seconds")
    assert excinfo.value.title == "Song too long" and "/" not in str(excinfo.value)
    assert server.peak_memory_bytes() < 2 * 1024**3


def test_refused_upload_is_deleted_and_paths_are_refused(client, server, tmp_path):
    text = tmp_path / "notes.mp3"
    text.write_text("not music\n" * 100)
    with pytest.raises(Exception) as excinfo:
        _generate(client, handle_file(str(text)))
    _assert_error(excinfo, "notes.mp3")
    assert excinfo.value.title in ("Not a music file", "Unreadable music")
    assert not list(server.instance_folder().rglob("notes.mp3"))
    with pytest.raises(Exception) as excinfo:  # a server path instead of an upload
        _generate(client, handle_file("/etc/passwd"))
    assert "Traceback" not in str(excinfo.value)


# ---------------------------------------------------------------------- the edit panel's endpoints

def _dance_npz(files) -> Path:
    return next(Path(f) for f in files if Path(f).name.endswith(".dance.npz"))


def test_edit_endpoints_are_listed(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = {name: [p["parameter_name"] for p in endpoints[name]["parameters"]]
              for name in ("/reroll", "/copy_move", "/restyle", "/undo")}
    assert params == {"/reroll": ["segments", "seed", "moves", "dance_file", "music"],
                      "/copy_move": ["source_seconds", "target_seconds", "mirrored", "seed", "dance_file", "music"],
                      "/restyle": ["schedule", "seed", "dance_file", "music"], "/undo": []}
    assert len(endpoints["/generate"]["returns"]) == 5  # the session state the panel needs is not returned


def test_edit_reroll_keeps_the_rest_and_undo_goes_back(server, tmp_path):
    """Generate 10 s (two segments), re-roll segment 0 of the session's dance: frames outside it are the
    original's, inside they differ; a segment outside the dance is refused with a sentence; undo returns
    the original. Then the same dance.npz sent by another client: a time outside the song, an unknown
    genre and a file without edit data are refused; a genre change on it works, with its music."""
    client = Client(server.url, verbose=False)  # a session of its own
    *_, files, _summary = _generate(client, handle_file(str(EXAMPLE)), first_seconds=10.0)
    original = _dance_npz(files)
    with np.load(original) as data:
        before = data["motion"]
    assert before.shape == (300, 139)

    dance, video, timeline, glb, new_files, summary, version, segments = client.predict(
        [0], 5, "transitions", api_name="/reroll")
    with np.load(dance) as data:
        after = data["motion"]
        assert json.loads(str(data["edits"]))[-1]["segments"] == [0]
    np.testing.assert_allclose(after[256:], before[256:], atol=1e-6)
    assert np.abs(after[:256] - before[:256]).max() > 1e-3
    assert _video_path(video).stat().st_size > 0 and Path(timeline).stat().st_size > 0
    assert Path(glb).read_bytes()[:4] == b"glTF" and _dance_npz(new_files).name == Path(dance).name
    assert "reroll of segment(s) 0 with seed 5" in summary
    labels = [label for label, _ in version["choices"]]
    assert labels == ["v1 original", "v2 reroll 0"] and version["value"] == 2
    assert [label for label, _ in segments["choices"]] == ["0: 0.0–8.5 s", "1: 8.5–10.0 s"]

    with pytest.raises(Exception) as excinfo:
        client.predict([5], 1, "transitions", api_name="/reroll")
    _assert_error(excinfo, "segment 5 is outside this dance", "0 to 1")
    assert excinfo.value.title == "Segment out of range"

    dance, video, *_, version, _segments = client.predict(api_name="/undo")
    with np.load(dance) as data:
        np.testing.assert_array_equal(data["motion"], before)
    assert version["value"] == 1 and _video_path(video).is_file()
    with pytest.raises(Exception) as excinfo:
        client.predict(api_name="/undo")
    _assert_error(excinfo, "nothing to undo")

    other = Client(server.url, verbose=False)
    with pytest.raises(Exception) as excinfo:
        other.predict(2.0, 99.0, False, 1, handle_file(str(original)), api_name="/copy_move")
    _assert_error(excinfo, "99 s is outside the song")
    assert excinfo.value.title == "Time outside the song"
    with pytest.raises(Exception) as excinfo:
        other.predict("hiphop, 5: polka", 1, handle_file(str(original)), api_name="/restyle")
    _assert_error(excinfo, "polka")
    from lodge.dance import Dance

    old = Dance.load_npz(original)
    old.source = None  # as saved before edits existed
    old_file = old.save_npz(tmp_path / "old.dance.npz")
    with pytest.raises(Exception) as excinfo:
        other.predict([0], 1, "transitions", handle_file(str(old_file)), api_name="/reroll")
    _assert_error(excinfo, "no edit data", "generate it again")
    assert excinfo.value.title == "Dance cannot be edited"

    dance, video, *_, version, _segments = other.predict("hiphop, 5: salsa", 2, handle_file(str(original)),
                                                         handle_file(str(EXAMPLE)), api_name="/restyle")
    with np.load(dance) as data:
        assert str(data["genre"]) == "hiphop,5:salsa"
        np.testing.assert_allclose(data["motion"][:256], before[:256], atol=1e-6)  # segment 0 stays hiphop
    assert [label for label, _ in version["choices"]][-1] == "v2 genres hiphop,5:salsa"
    if shutil.which("ffprobe"):
        assert sorted(s["codec_name"] for s in _probe(_video_path(video))["streams"]) == ["aac", "h264"]
