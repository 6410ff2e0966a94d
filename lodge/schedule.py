"""`GenreSchedule`: the genre of each stretch of a song, e.g. salsa from 0 s and breaking from 60 s.

A change takes effect at the segment boundary nearest its time (segments are 256 frames, 8.53 s),
because a segment is what the local stage generates in one genre; the hard cue at that boundary
joins the two genres. Per window (four segments), the global stage gets the genre of the majority of
the window's segments (ties: the one that comes first), and the local stage gets each segment's own
genre::

    schedule = GenreSchedule.parse("salsa,60:breaking")
    schedule.segment_genres(plan, pipe.genres)   # (S,) genre ids for the local stage
    schedule.window_genres(plan, pipe.genres)    # (W,) genre ids for the global stage
    schedule.change_frames(plan)                 # [(0, "salsa"), (1792, "breaking")] for a timeline

Nothing here imports torch or loads a model.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .checks import InputError
from .config import GenreError
from .constants import FPS, SEG_LEN, SEGS_PER_WINDOW


class ScheduleError(InputError):
    """A genre schedule that cannot be read or does not fit the song; one sentence for a person."""

    def __init__(self, message: str):
        super().__init__(message, field="genre")


class _Plan(Protocol):
    num_frames: int
    num_segments: int
    num_windows: int


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScheduleError(f"A genre change needs a time in seconds before the colon, not {text!r} "
                            "(write it like 'salsa,60:breaking').") from None
    if not math.isfinite(value) or value < 0:
        raise ScheduleError(f"A genre change time must be a number of seconds from 0 on, not {text!r}.")
    return value


@dataclass(frozen=True)
class GenreSchedule:
    """Genre per stretch of a song: ``changes`` holds (from seconds, genre name) pairs, the first at 0 s,
    times increasing."""

    changes: tuple[tuple[float, str], ...]

    def __post_init__(self) -> None:
        changes = tuple((float(t), str(g).strip()) for t, g in self.changes)
        if not changes:
            raise ScheduleError("A genre schedule needs at least one genre.")
        if changes[0][0] != 0.0:
            raise ScheduleError(f"A genre schedule must start at 0 s, not {changes[0][0]:g} s.")
        for (t0, _), (t1, _) in zip(changes, changes[1:]):
            if not t1 > t0:
                raise ScheduleError(f"Genre changes must come in time order; {t1:g} s follows {t0:g} s.")
        for t, g in changes:
            if not g:
                raise ScheduleError(f"The genre change at {t:g} s has no genre name.")
            if not math.isfinite(t):
                raise ScheduleError(f"A genre change time must be a finite number of seconds, not {t}.")
        object.__setattr__(self, "changes", changes)

    # ------------------------------------------------------------------ making one

    @classmethod
    def single(cls, genre: str) -> "GenreSchedule":
        """One genre for the whole song."""
        return cls(((0.0, genre),))

    @classmethod
    def parse(cls, text: str) -> "GenreSchedule":
        """Read "salsa" or "salsa,60:breaking,120:modern" (GENRE, then SECONDS:GENRE for each change;
        the first may also be written "0:salsa")."""
        if not isinstance(text, str) or not text.strip():
            raise ScheduleError("The genre is missing: give a genre name, or a schedule like 'salsa,60:breaking'.")
        changes: list[tuple[float, str]] = []
        for i, item in enumerate(p.strip() for p in text.split(",")):
            if ":" in item:
                when, _, genre = item.partition(":")
                changes.append((_seconds(when.strip()), genre.strip()))
            elif i == 0:
                changes.append((0.0, item))
            else:
                raise ScheduleError(f"Each genre after the first needs the second it starts at, like '60:{item}' "
                                    f"(in {text.strip()!r}).")
        return cls(tuple(changes))

    @classmethod
    def coerce(cls, value: "str | GenreSchedule") -> "GenreSchedule":
        """A schedule from a genre name, a schedule text (:meth:`parse`) or a schedule."""
        if isinstance(value, GenreSchedule):
            return value
        return cls.parse(value)

    def to_list(self) -> list[list[Any]]:
        """JSON-safe form: [[seconds, genre], ...]."""
        return [[t, g] for t, g in self.changes]

    @classmethod
    def from_list(cls, data: Sequence[Sequence[Any]]) -> "GenreSchedule":
        """Inverse of :meth:`to_list`."""
        try:
            return cls(tuple((float(t), str(g)) for t, g in data))
        except (TypeError, ValueError) as err:
            if isinstance(err, ScheduleError):
                raise
            raise ScheduleError(f"A stored genre schedule could not be read: {data!r}.") from None

    def __str__(self) -> str:
        """The text form :meth:`parse` reads: "salsa,60:breaking"."""
        return ",".join(g if t == 0 else f"{t:g}:{g}" for t, g in self.changes)

    # ------------------------------------------------------------------ reading it

    @property
    def genres(self) -> list[str]:
        """The genre names it uses, each once, in order of first use."""
        return list(dict.fromkeys(g for _, g in self.changes))

    @property
    def is_single(self) -> bool:
        """One genre for the whole song."""
        return len(self.genres) == 1

    def resolved(self, known: Sequence[str]) -> "GenreSchedule":
        """The schedule with each genre spelt as in ``known`` (a checkpoint's genres, matched without
        case); :class:`lodge.config.GenreError` for a genre it does not know."""
        lowered = [k.lower() for k in known]
        out = []
        for t, g in self.changes:
            if g.lower() not in lowered:
                raise GenreError(f"Unknown genre {g!r}. This model knows: {', '.join(known)}.")
            out.append((t, known[lowered.index(g.lower())]))
        return GenreSchedule(tuple(out))

    def check_song(self, num_frames: int) -> "GenreSchedule":
        """Itself, if every change falls inside a song of ``num_frames`` frames; :class:`ScheduleError` if not."""
        seconds = num_frames / FPS
        for t, g in self.changes[1:]:
            if t >= seconds:
                raise ScheduleError(f"The change to {g} at {t:g} s is after the end of the song ({seconds:.1f} s).")
        return self

    @staticmethod
    def boundary(seconds: float) -> int:
        """The segment boundary (0, 1, ...) nearest ``seconds``: where a change at that time takes effect."""
        return int(math.floor(seconds * FPS / SEG_LEN + 0.5))

    def segment_names(self, num_segments: int) -> list[str]:
        """The genre name of each of ``num_segments`` segments (a later change at the same boundary wins)."""
        names = [self.changes[0][1]] * num_segments
        for t, g in self.changes[1:]:
            for s in range(min(self.boundary(t), num_segments), num_segments):
                names[s] = g
        return names

    def segment_genres(self, plan: _Plan, known: Sequence[str]) -> np.ndarray:
        """(S,) genre index (into ``known``) of each segment of ``plan``: what the local stage takes."""
        ids = {g: i for i, g in enumerate(k.lower() for k in known)}
        names = self.resolved(known).segment_names(plan.num_segments)
        return np.array([ids[n.lower()] for n in names], np.int64)

    def window_genres(self, plan: _Plan, known: Sequence[str]) -> np.ndarray:
        """(W,) genre index of each window of ``plan``: what the global stage takes. A window whose
        segments differ gets the genre of the majority of its segments inside the song (ties: the
        genre that comes first)."""
        seg = self.segment_genres(plan, known)
        return np.array([majority(seg[w * SEGS_PER_WINDOW:(w + 1) * SEGS_PER_WINDOW])
                         for w in range(plan.num_windows)], np.int64)

    def change_frames(self, plan: _Plan) -> list[tuple[int, str]]:
        """(first frame, genre) of each stretch of the song as generated, starting with (0, first
        genre); a change shows at the segment boundary where it takes effect, and changes that make
        no difference (the same genre again, or past the last segment) are left out."""
        names = self.segment_names(plan.num_segments)
        out = [(0, names[0])] if names else []
        for s in range(1, len(names)):
            if names[s] != names[s - 1]:
                out.append((s * SEG_LEN, names[s]))
        return out


def majority(ids: Sequence[int] | np.ndarray) -> int:
    """The most common value of ``ids``; ties go to the value that comes first."""
    ids = [int(i) for i in ids]
    return max(dict.fromkeys(ids), key=ids.count)
