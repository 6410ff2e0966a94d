"""Errors the page shows: :class:`UserError` (a problem the user can fix, with a title) and the library's
typed audio errors turned into one, by type.

Nothing here imports Gradio; :mod:`lodge_app.ui` turns a :class:`UserError` into ``gr.Error``.
"""
from __future__ import annotations

import re

from lodge.audio import AudioError, SongTooLongError
from lodge.checks import format_duration


class UserError(Exception):
    """A problem the user can fix; the message is shown on the page as is."""

    def __init__(self, message: str, title: str = "Cannot generate"):
        super().__init__(message)
        self.title = title


def without_paths(message: str) -> str:
    """`message` with every absolute file path cut down to its last part (never show server folders)."""
    return re.sub(r"(?<![\w.:/\\])(?:[A-Za-z]:)?[\\/](?:[^\s'\"\\/]+[\\/])+([^\s'\"\\/]*)", r"\1", message)


def audio_user_error(err: AudioError) -> UserError:
    """The library's audio error for the page: titled by its type, and the length limit, whose library
    message speaks to programmers (max_seconds=None, --max-seconds), reworded for the app's users."""
    if isinstance(err, SongTooLongError):
        message = (f"'{err.name}' is {format_duration(err.seconds)} long; this app accepts songs up to "
                   f"{format_duration(err.limit)}. Open 'Advanced' and choose 'First N seconds', or trim the song.")
    else:
        message = str(err)
    return UserError(message, title=err.title)


def edit_user_error(err: Exception) -> UserError:
    """An edit the library refused (:class:`lodge.edits.EditError` and the other InputErrors an edit
    raises: an unknown genre, an unreadable schedule, a seed out of range), titled by its type; the
    library's one sentence is the message."""
    from lodge.config import GenreError
    from lodge.edits import EditTimeError, NotEditableError, SegmentError
    from lodge.schedule import ScheduleError

    titles = ((SegmentError, "Segment out of range"), (EditTimeError, "Time outside the song"),
              (NotEditableError, "Dance cannot be edited"), (ScheduleError, "Unreadable genre schedule"),
              (GenreError, "Unknown genre"))
    title = next((t for kind, t in titles if isinstance(err, kind)), None)
    if title is None:  # check_seed's sentence starts "The seed ..."
        title = "Seed out of range" if str(err).lower().startswith("the seed") else "Cannot edit"
    return UserError(str(err), title=title)
