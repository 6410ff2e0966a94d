"""The choreographer's edits (lodge.edits, lodge.schedule, `python -m lodge edit`): genre schedules reach
both stages; reroll / copy_move / restyle change only their segments, join as before and keep their
record; old files load but cannot be edited; bad edits are typed one-sentence errors."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lodge import edits
from lodge.audio import MusicFeatures
from lodge.checks import InputError
from lodge.config import GenreError
from lodge.constants import FPS, HARD_GUIDE, SEG_LEN
from lodge.dance import Dance
from lodge.motion import mirror_motion, motion_to_joints
from lodge.primitives import N_HARD
from lodge.schedule import GenreSchedule, ScheduleError
from lodge.sampling import SamplingOptions
from lodge.stages import prepare_music

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(steps=2, foot_lock=True)


def _tiled(feats: MusicFeatures, seconds: float) -> MusicFeatures:
    n = int(seconds * FPS)
    reps = int(np.ceil(n / feats.num_frames))
    beats = np.concatenate([feats.beats + k * feats.num_frames for k in range(reps)])
    return MusicFeatures(features=np.tile(feats.features, (reps, 1))[:n], beats=beats[beats < n], tempo=feats.tempo,
                         onset_envelope=np.tile(feats.onset_envelope, reps)[:n])


def _steps(joints: np.ndarray) -> np.ndarray:
    """(T-1,) largest joint move per frame."""
    return np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(-1)


def _assert_only_frames_changed(new: Dance, old: Dance, start: int, stop: int) -> None:
    """Frames outside [start, stop) equal (1e-6), the ones inside changed."""
    outside = np.ones(old.num_frames, bool)
    outside[start:stop] = False
    np.testing.assert_allclose(new.motion[outside], old.motion[outside], atol=1e-6, rtol=0)
    np.testing.assert_allclose(new.joints[outside], old.joints[outside], atol=1e-6, rtol=0)
    assert np.abs(new.motion[start:stop] - old.motion[start:stop]).max(-1).mean() > 1e-3


def _assert_joins_as_before(new: Dance, old: Dance, start: int, stop: int) -> None:
    """The hard-cue frames at both ends keep their pose, the steps into and out of the stretch are the old
    dance's, and no step near an edge is over 3x the dance's median step."""
    step, median = _steps(new.joints), np.median(_steps(old.joints))
    for edge in (start, stop):
        if 0 < edge < old.num_frames:
            np.testing.assert_allclose(step[edge - 1], _steps(old.joints)[edge - 1], atol=1e-5)
            assert step[edge - HARD_GUIDE:edge + HARD_GUIDE].max() <= 3 * median, f"jump at the edit's edge {edge}"
    for lo, hi in ((start, start + HARD_GUIDE), (stop - HARD_GUIDE, stop) if stop % SEG_LEN == 0 else (0, 0)):
        np.testing.assert_allclose(new.motion[lo:hi, 7:], old.motion[lo:hi, 7:], atol=1e-5)  # (not at the song's end)


# ------------------------------------------------------------------------------------ schedule


def test_schedule_text_segments_windows_and_changes():
    sched = GenreSchedule.parse(" salsa , 60:breaking,120.5:modern")
    assert sched.changes == ((0.0, "salsa"), (60.0, "breaking"), (120.5, "modern"))
    assert str(sched) == "salsa,60:breaking,120.5:modern"
    assert GenreSchedule.from_list(sched.to_list()) == sched == GenreSchedule.parse("0:salsa,60:breaking,120.5:modern")
    assert GenreSchedule.single("salsa") == GenreSchedule.coerce("salsa") and GenreSchedule.coerce(sched) is sched
    # 60 s = frame 1800 -> boundary 7 (1792), the nearest; 120.5 s = 3615 -> boundary 14 (3584).
    from lodge.primitives import plan_primitives

    plan = plan_primitives(int(150 * FPS), np.zeros(0, np.int64))  # 18 segments, 5 windows
    known = ["Breaking", "Modern", "Salsa"]
    seg = sched.segment_genres(plan, known)
    assert list(seg) == [2] * 7 + [0] * 7 + [1] * 4
    # Windows hold segments 0-3, 4-7 (3 salsa, 1 breaking), 8-11, 12-15 (2 and 2: the first wins), 16-17.
    assert list(sched.window_genres(plan, known)) == [2, 2, 0, 0, 1]
    assert sched.change_frames(plan) == [(0, "salsa"), (7 * SEG_LEN, "breaking"), (14 * SEG_LEN, "modern")]
    assert GenreSchedule.parse("salsa,2:modern").segment_names(3) == ["modern"] * 3  # 2 s rounds to boundary 0
    assert sched.resolved(known).genres == ["Salsa", "Breaking", "Modern"]


@pytest.mark.parametrize("text, message", [
    ("salsa,breaking", "needs the second it starts at"),
    ("salsa,x:breaking", "time in seconds"),
    ("salsa,60:breaking,30:modern", "time order"),
    ("salsa,-5:modern", "from 0 on"),
    ("", "genre is missing"),
    ("salsa,60:", "no genre name"),
])
def test_bad_schedules_are_one_sentence_input_errors(text, message):
    with pytest.raises(ScheduleError, match=message) as err:
        GenreSchedule.parse(text)
    assert isinstance(err.value, InputError) and "\n" not in str(err.value)


def test_schedule_reaches_both_stages(tiny_pipeline, click_features, monkeypatch):
    """Per-window genre ids reach the global stage, per-segment ids the local stage (spied), also in a restyle."""
    import lodge.pipeline

    seen = []

    def spy(module, name):
        real = getattr(module, name)

        def wrapped(models, inputs, *args, **kwargs):
            seen.append((name, list(inputs.genres), None if getattr(inputs, "segments", None) is None
                         else list(inputs.segments)))
            return real(models, inputs, *args, **kwargs)
        monkeypatch.setattr(module, name, wrapped)

    for module in (lodge.pipeline, edits):
        spy(module, "sample_global")
        spy(module, "sample_local")
    feats = _tiled(click_features, 80)  # 10 segments, 3 windows
    # 40 s = frame 1200 -> boundary 5: segments 0-4 salsa (0), 5-9 breaking (1); window 1 (4-7) is mostly breaking.
    dance = tiny_pipeline(feats, "salsa,40:breaking", **TINY)
    assert seen == [("sample_global", [0, 1, 1], None), ("sample_local", [0] * 5 + [1] * 5, None)]
    assert dance.genre == "salsa,40:breaking" and dance.source.schedule == [[0.0, "salsa"], [40.0, "breaking"]]
    seen.clear()
    # salsa to 40 s, modern (2) from 60 s (boundary 7): segments 5, 6 become salsa, 7-9 modern. The re-sampled
    # windows: 1 (segments 5, 6 in salsa, 7 modern: salsa) and 2 (8, 9 modern), sampled together.
    styled = tiny_pipeline.restyle(dance, GenreSchedule.parse("salsa,60:modern"), seed=1)
    assert seen == [("sample_global", [0, 2], None), ("sample_local", [0] * 7 + [2] * 3, [5, 6, 7, 8, 9])]
    assert styled.edits[-1]["segments"] == [5, 6, 7, 8, 9] and styled.genre == "salsa,60:modern"
    _assert_only_frames_changed(styled, dance, 5 * SEG_LEN, dance.num_frames)


# ------------------------------------------------------------------------------------ tiny model: structure


def test_new_moves_resample_only_the_soft_primitives_of_the_segments(tiny_pipeline, click_features):
    dance = tiny_pipeline(_tiled(click_features, 40), "modern", **TINY)  # 5 segments, 2 windows
    new = tiny_pipeline.reroll(dance, [2], seed=7, new_moves=True)
    changed = np.abs(new.source.global_raw - dance.source.global_raw).max((2, 3)) > 1e-4
    expected = np.zeros_like(changed)
    expected[0, [N_HARD + 4, N_HARD + 5]] = True  # segment 2's two soft cues in window 0
    np.testing.assert_array_equal(changed, expected)
    _assert_only_frames_changed(new, dance, 2 * SEG_LEN, 3 * SEG_LEN)
    assert new.edits == [{"op": "reroll", "seed": 7, "new_moves": True, "segments": [2], "frames": [[512, 768]]}]
    # Two segments apart are regenerated in one batch, each pinned on its own.
    both = tiny_pipeline.reroll(new, [0, 4], seed=8)
    assert both.edits[-1]["frames"] == [[0, 256], [1024, 1200]] and len(both.edits) == 2
    np.testing.assert_allclose(both.motion[256:1024], new.motion[256:1024], atol=1e-6, rtol=0)


def test_saved_dance_edits_like_the_one_in_memory_and_old_files_only_load(tiny_pipeline, click_features, tmp_path):
    dance = tiny_pipeline(click_features, "salsa", **TINY)
    back = Dance.load_npz(dance.save_npz(tmp_path / "dance.npz"))
    assert back.source.options == dance.source.options and back.edits == []
    np.testing.assert_array_equal(back.source.global_raw, dance.source.global_raw)
    a, b = tiny_pipeline.reroll(dance, [1], seed=3), tiny_pipeline.reroll(back, [1], seed=3)
    np.testing.assert_array_equal(a.motion, b.motion)
    again = Dance.load_npz(a.save_npz(tmp_path / "edited.npz"))
    assert again.edits == a.edits and again.genre == "salsa"
    # A file from before edits: no source_* keys, no edit record. It loads for viewing, editing says why not.
    with np.load(tmp_path / "dance.npz") as data:
        old = {k: data[k] for k in data if not k.startswith("source_") and k != "edits"}
    np.savez(tmp_path / "old.npz", **old)
    old_dance = Dance.load_npz(tmp_path / "old.npz")
    np.testing.assert_array_equal(old_dance.motion, dance.motion)
    assert old_dance.source is None and old_dance.edits == []
    with pytest.raises(edits.NotEditableError, match="no edit data"):
        tiny_pipeline.reroll(old_dance, [0], seed=1)


def test_bad_edits_raise_typed_one_sentence_errors(tiny_pipeline, click_features):
    dance = tiny_pipeline(click_features, "salsa", **TINY)  # 20 s: segments 0 to 2
    cases = [
        (edits.SegmentError, "Segment 3 is outside this dance, which has segments 0 to 2",
         lambda: tiny_pipeline.reroll(dance, [1, 3], seed=1)),
        (edits.SegmentError, "at least one segment", lambda: tiny_pipeline.reroll(dance, [], seed=1)),
        (edits.EditTimeError, "outside the song", lambda: tiny_pipeline.copy_move(dance, 25.0, 3.0)),
        (edits.EditTimeError, "outside the song", lambda: tiny_pipeline.copy_move(dance, 3.0, -1.0)),
        (GenreError, "Unknown genre 'polka'", lambda: tiny_pipeline.restyle(dance, "salsa,10:polka")),
        (ScheduleError, "after the end of the song", lambda: tiny_pipeline.restyle(dance, "salsa,30:modern")),
        (edits.EditError, "already dances", lambda: tiny_pipeline.restyle(dance, "Salsa")),
        (InputError, "seed", lambda: tiny_pipeline.reroll(dance, [0], seed=-1)),
    ]
    for kind, message, call in cases:
        with pytest.raises(kind, match=message) as err:
            call()
        assert isinstance(err.value, InputError) and "\n" not in str(err.value)
    synced = tiny_pipeline(click_features, "salsa", beat_sync=True, **TINY)
    with pytest.raises(edits.NotEditableError, match="beat sync"):
        tiny_pipeline.reroll(synced, [0], seed=1)


# ------------------------------------------------------------------------------------ shipped weights


@pytest.fixture(scope="module")
def shipped():
    from lodge.pipeline import DEFAULT_CHECKPOINT, LodgePipeline

    if not (DEFAULT_CHECKPOINT / "config.json").exists():
        pytest.skip("no default weights")
    return LodgePipeline.from_pretrained(device="cpu")


@pytest.fixture(scope="module")
def song_dance(shipped, example_song):
    """20 s of an example song (3 segments, one window) danced by the shipped weights."""
    features = prepare_music(example_song, SamplingOptions(duration=20))
    return shipped(features, "salsa", seed=0, steps=10)


def test_reroll_changes_only_its_segment_and_joins_as_before(shipped, song_dance):
    new = shipped.reroll(song_dance, [1], seed=3)
    _assert_only_frames_changed(new, song_dance, SEG_LEN, 2 * SEG_LEN)
    _assert_joins_as_before(new, song_dance, SEG_LEN, 2 * SEG_LEN)
    assert new.edits == [{"op": "reroll", "seed": 3, "new_moves": False, "segments": [1], "frames": [[256, 512]]}]
    np.testing.assert_array_equal(new.primitive_motion, song_dance.primitive_motion)  # same primitives
    assert song_dance.edits == []  # the old dance is left alone
    # The last segment (cut by the song's end) has no neighbour after it; the first none before it.
    last = shipped.reroll(new, [0, 2], seed=4)
    np.testing.assert_allclose(last.motion[SEG_LEN:2 * SEG_LEN], new.motion[SEG_LEN:2 * SEG_LEN], atol=1e-6, rtol=0)
    for a, b in ((0, SEG_LEN), (2 * SEG_LEN, song_dance.num_frames)):
        assert np.abs(last.motion[a:b] - new.motion[a:b]).max(-1).mean() > 1e-3
    _assert_joins_as_before(last, new, 2 * SEG_LEN, song_dance.num_frames)
    _assert_joins_as_before(last, new, 0, SEG_LEN)


def _yaw_aligned_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance (m) between joints relative to the pelvis, (n, 22, 3) each, after the one turn
    about the vertical that best aligns a to b."""
    p, q = (x - x[:, :1] for x in (a, b))
    theta = np.arctan2((q[..., 0] * p[..., 2] - q[..., 2] * p[..., 0]).sum(), (q[..., 0] * p[..., 0] + q[..., 2] * p[..., 2]).sum())
    c, s = np.cos(theta), np.sin(theta)
    turned = np.stack([c * p[..., 0] + s * p[..., 2], p[..., 1], -s * p[..., 0] + c * p[..., 2]], -1)
    return float(np.linalg.norm(turned - q, axis=-1).max())


@pytest.mark.parametrize("mirrored", [False, True])
def test_copy_move_puts_the_pose_at_the_target_beat(shipped, song_dance, mirrored):
    new = shipped.copy_move(song_dance, 3.0, 12.0, mirrored=mirrored, seed=2)
    record = new.edits[-1]
    src, dst = record["source"]["frame"], record["target"]["frame"]
    assert record["op"] == "copy_move" and record["segments"] == [1] and record["mirrored"] is mirrored
    assert dst // SEG_LEN == 1 and dst + 4 in set(song_dance.beats.tolist())  # centred on a beat
    assert abs(dst + 4 - 12.0 * FPS) <= 30  # the nearest beat (beats are well under a second apart)
    _assert_only_frames_changed(new, song_dance, SEG_LEN, 2 * SEG_LEN)
    _assert_joins_as_before(new, song_dance, SEG_LEN, 2 * SEG_LEN)
    i = [p.start for p in song_dance.primitives].index(src)
    cue = song_dance.primitive_motion[i]
    if mirrored:
        cue = mirror_motion(cue)
    # The soft-cue frames hold the copied pose: joint rotations below the pelvis exactly, joints relative
    # to the pelvis up to the one turn the cue is fitted with.
    np.testing.assert_allclose(new.motion[dst:dst + 8, 13:], cue[:, 13:], atol=1e-5)
    assert _yaw_aligned_error(new.joints[dst:dst + 8], motion_to_joints(cue)) < 1e-3
    if not mirrored:  # ... which is the pose the dance shows at the source
        assert _yaw_aligned_error(new.joints[dst:dst + 8], song_dance.joints[src:src + 8]) < 1e-3
    placed = {p.start: (p.kind, m) for p, m in zip(new.primitives, new.primitive_motion)}
    assert placed[dst][0] == "soft"
    np.testing.assert_allclose(placed[dst][1][:, 13:], cue[:, 13:], atol=1e-6)


def test_restyle_regenerates_the_segments_whose_genre_changed(shipped, song_dance):
    new = shipped.restyle(song_dance, "salsa,9:breaking", seed=5)  # 9 s rounds to boundary 1 (8.5 s)
    assert new.genre == "salsa,9:breaking" and new.edits[-1]["segments"] == [1, 2]
    _assert_only_frames_changed(new, song_dance, SEG_LEN, song_dance.num_frames)
    _assert_joins_as_before(new, song_dance, SEG_LEN, song_dance.num_frames)
    assert new.segment_ranges()[1] == pytest.approx((SEG_LEN / FPS, 2 * SEG_LEN / FPS))


# ------------------------------------------------------------------------------------ command line


def _run(*args):
    return subprocess.run([sys.executable, "-m", "lodge", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_cli_generates_with_a_schedule_and_edits_the_saved_dance(tiny_checkpoint, click_wav, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    res = _run("generate", click_wav, "--genre", "salsa", "--genre-from", "10:modern", "--steps", "2", "--seconds", "18",
               "--checkpoint", tiny_checkpoint, "--out", first)
    assert res.returncode == 0, res.stderr
    assert "segments: 0: 0.0-8.5 s, 1: 8.5-17.1 s, 2: 17.1-18.0 s" in res.stdout
    res = _run("edit", first / "dance.npz", "--reroll", "1", "--checkpoint", tiny_checkpoint, "--out", second)
    assert res.returncode == 0, res.stderr
    before, after = Dance.load_npz(first / "dance.npz"), Dance.load_npz(second / "dance.npz")
    assert before.genre == after.genre == "salsa,10:modern"
    assert after.edits[0]["segments"] == [1] and after.edits[0]["seed"] == 1  # default: dance seed + edits + 1
    np.testing.assert_array_equal(after.motion[:SEG_LEN], before.motion[:SEG_LEN])
    assert "edit 1: reroll of segment(s) 1" in res.stdout
    for edit in (["--copy-move", "3:14:mirror"], ["--genre-schedule", "modern"], ["--reroll", "0,2", "--new-moves"]):
        res = _run("edit", second / "dance.npz", *edit, "--seed", "4", "--checkpoint", tiny_checkpoint,
                   "--out", tmp_path / "third")
        assert res.returncode == 0, res.stderr
        assert (tmp_path / "third" / "dance.npz").is_file()


@pytest.mark.parametrize("edit, message", [
    (["--reroll", "5"], "Segment 5 is outside this dance"),
    (["--reroll", "one"], "--reroll takes segment numbers"),
    (["--copy-move", "30:2"], "outside the song"),
    (["--copy-move", "3"], "--copy-move takes"),
    (["--genre-schedule", "salsa,5:polka"], "Unknown genre 'polka'"),
    (["--new-moves", "--genre-schedule", "modern"], "--new-moves goes with --reroll"),
    (["--reroll", "0", "OLD"], "no edit data"),
    (["--reroll", "0", "MISSING"], "Dance file not found"),
])
def test_cli_bad_edits_exit_2_with_one_line(tiny_pipeline, click_features, tmp_path, tiny_checkpoint, edit, message):
    dance = tiny_pipeline(click_features, "salsa", **TINY)
    path = dance.save_npz(tmp_path / "dance.npz")
    if "OLD" in edit:
        with np.load(path) as data:
            np.savez(tmp_path / "old.npz", **{k: data[k] for k in data if not k.startswith("source_")})
        edit, path = edit[:-1], tmp_path / "old.npz"
    if "MISSING" in edit:
        edit, path = edit[:-1], tmp_path / "missing.npz"
    res = _run("edit", path, *edit, "--checkpoint", tiny_checkpoint, "--out", tmp_path / "out")
    assert res.returncode == 2, res.stdout + res.stderr
    assert message.lower() in res.stderr.lower() and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
