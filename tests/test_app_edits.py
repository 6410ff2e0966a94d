"""The app's edit panel without a server: a session's versions (bounded, undo, choose), the edit errors' toast
titles, and the edited stretch's marks on the video frames."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fixtures.chunk_spy import spy_on_chunk_encodes
from lodge_app import edits
from lodge_app.errors import UserError, edit_user_error
from lodge_app.options import Request
from lodge_app.outputs import Result


def _result(folder: Path) -> Result:
    folder.mkdir(parents=True, exist_ok=True)
    npz = folder / "d.dance.npz"
    npz.write_bytes(b"x")
    return Result(video=folder / "d.mp4", timeline=None, glb=None, files=[npz], summary="s", npz=npz,
                  segments=[(0.0, 8.5), (8.5, 10.0)])


def test_versions_are_bounded_undone_and_chosen(tmp_path):
    root = tmp_path / "jobs"
    history = edits.new_history(_result(root / "v1"), Path("song.mp3"), Request(genre="salsa", video_size=256), "song")
    assert edits.version_choices(history) == [("v1 original", 1)] and history["render"]["video_size"] == 256
    assert edits.segment_choices(edits.version(history)) == [("0: 0.0–8.5 s", 0), ("1: 8.5–10.0 s", 1)]
    with pytest.raises(UserError, match="Nothing to undo"):
        edits.undo(history)
    for n in range(2, 26):
        record = edits.version_record(n, f"reroll {n}", n - 1, root / f"v{n}", _result(root / f"v{n}"))
        history = edits._add(history, record, root)
    labels = [label for label, _ in edits.version_choices(history)]
    assert len(labels) == edits.MAX_VERSIONS and labels[0] == "v6 reroll 6" and labels[-1] == "v25 reroll 25"
    assert not (root / "v1").exists() and not (root / "v5").exists() and (root / "v6").is_dir()
    assert edits.undo(history)["current"] == 24
    assert edits.choose(history, 10)["current"] == 10
    with pytest.raises(UserError, match="no longer kept"):
        edits.undo(edits.choose(history, 6))
    with pytest.raises(UserError, match="generate one first"):
        edits.version(None)


def test_choosing_the_shown_version_changes_nothing(tmp_path):
    """The versions list fires its choose event on every blur: re-choosing the shown version must leave every
    output alone (else it races an Undo clicked right after and can win), and choosing another shows it."""
    import gradio as gr

    from lodge_app.edit_panel import N_EDIT_OUTPUTS, make_handlers

    root = tmp_path / "jobs"
    history = edits.new_history(_result(root / "v1"), Path("song.mp3"), Request(genre="salsa"), "song")
    history = edits._add(history, edits.version_record(2, "reroll 0", 1, root / "v2", _result(root / "v2")), root)
    *_, undo, choose = make_handlers(editor=None)
    skipped = choose(2, history)
    assert len(skipped) == N_EDIT_OUTPUTS and all(out == gr.skip() for out in skipped)
    shown = choose("1", history)
    assert len(shown) == N_EDIT_OUTPUTS and shown[-1]["current"] == 1
    assert undo(history)[-1]["current"] == 1


def test_edit_errors_get_titles():
    from lodge.checks import check_seed
    from lodge.config import GenreError
    from lodge.edits import EditError, EditTimeError, NotEditableError, SegmentError
    from lodge.schedule import ScheduleError

    def title(err):
        return edit_user_error(err).title

    assert title(SegmentError("Segment 9 is outside this dance.")) == "Segment out of range"
    assert title(EditTimeError("The target time 99 s is outside the song.")) == "Time outside the song"
    assert title(NotEditableError("This dance has no edit data.")) == "Dance cannot be edited"
    assert title(GenreError("Unknown genre 'polka'.")) == "Unknown genre"
    assert title(ScheduleError("Cannot read 'x'.")) == "Unreadable genre schedule"
    assert title(EditError("Nothing to change.")) == "Cannot edit"
    with pytest.raises(Exception) as excinfo:
        check_seed(-1)
    assert title(excinfo.value) == "Seed out of range" and str(edit_user_error(excinfo.value)) == str(excinfo.value)


def test_edited_frames_are_marked():
    from lodge.dance import Dance
    from renderer import palette
    from renderer.marks import edited_mask, mark_edited

    motion = np.zeros((40, 139), np.float32)
    dance = Dance(motion=motion, joints=np.zeros((40, 22, 3), np.float32), genre="salsa", beats=np.zeros(0, np.int64),
                  primitives=[], segment_starts=np.zeros(1, np.int64))
    assert not edited_mask(dance).any()
    dance.edits = [{"op": "reroll", "segments": [1], "seed": 1, "frames": [[10, 25]]}]
    mask = edited_mask(dance)
    assert mask.sum() == 15 and mask[10] and not mask[25]
    image = mark_edited(np.full((128, 128, 3), 200, np.uint8))
    orange = palette.rgb8(palette.EDIT_COLOR)
    assert (image[0, 64] == orange).all() and (image[127, 64] == orange).all() and (image[64, 64] == 200).all()
    assert (image[5:15, 5:40] == 255).any()  # the white "edited" tag


def test_generate_streams_and_an_edit_renders_only_what_changed(tiny_pipeline, click_wav, tmp_path, monkeypatch):
    """/generate's handler yields the timeline and 3D view first (no video yet), then the video; an edit's
    video renders only the chunks whose frames change (the edited segment, the old version's marks, the
    follow camera's reach) and links the others from the version it was made from."""
    from renderer import chunks
    from renderer.video import SceneInputs

    from lodge.dance import Dance
    from lodge_app.outputs import CHUNKS_FOLDER
    from lodge_app.settings import AppSettings
    from lodge_app.studio import Studio
    from lodge_app.ui import make_handlers

    studio = Studio(AppSettings(calibrate=False), tiny_pipeline, workdir=tmp_path / "work")
    generate, _ = make_handlers(studio)
    steps = generate(str(click_wav), "salsa", 0, "whole", None, 1.0, "ddim", 2, "follow", "mannequin", 256, 15,
                     progress=lambda *a, **k: None)
    video, timeline, glb, files, summary, history = next(steps)
    assert video is None and Path(timeline).is_file() and Path(glb).read_bytes()[:4] == b"glTF"
    assert any(f.endswith(".dance.npz") for f in files) and "Duration" in summary
    assert history["versions"][0]["video"] is None
    *final, history = list(steps)[-1]
    assert Path(final[0]).suffix == ".mp4" and Path(final[0]).is_file() and history["versions"][0]["video"] == final[0]

    made = spy_on_chunk_encodes(monkeypatch)
    editor = edits.Editor(studio)
    for segment in (0, 2):  # 20 s: segments 0-2, chunks 0-4 (128 frames each, the last 88)
        parent = edits.version(history)
        made.clear()
        *_, (history, v) = list(editor.edit(history, "reroll", dict(segments=[segment], seed=3)))
        old, new = Dance.load_npz(parent["npz"]), Dance.load_npz(v["npz"])
        moved = np.abs(SceneInputs.of(new).cameras - SceneInputs.of(old).cameras).max(axis=(1, 2))
        changed = (moved > chunks.CAMERA_TOLERANCE) | np.any(new.motion != old.motion, axis=1)
        for a, b in [*new.edits[-1]["frames"], *(old.edits[-1]["frames"] if old.edits else [])]:
            changed[a:b] = True  # the new marks and the old ones
        expected = sorted({int(f) // chunks.CHUNK_FRAMES for f in np.flatnonzero(changed)})
        assert made == [chunks.chunk_name(k) for k in expected] and len(expected) < 5
        folder, before = Path(v["folder"]) / CHUNKS_FOLDER, Path(parent["folder"]) / CHUNKS_FOLDER
        for k in set(range(5)) - set(expected):
            assert (folder / chunks.chunk_name(k)).samefile(before / chunks.chunk_name(k))  # linked, not copied
        assert Path(v["video"]).is_file()
    assert 3 in expected or 4 in expected
