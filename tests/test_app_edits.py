"""The app's edit panel without a server: a session's versions (bounded, undo, choose), the edit errors' toast
titles, and the edited stretch's marks on the video frames."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
