"""One request: :class:`Request` (the library's :class:`~lodge.sampling.SamplingOptions` for everything about
sampling, plus the app's render settings), and :func:`read_options`, which turns the page's widget values (or
what an API client sent) into one, checked by the library.

The sampling defaults (seed, sampler, step count, soft-cue strength, switches) are the library's: an empty
value leaves the :class:`~lodge.sampling.SamplingOptions` default in place, and ``soft=None`` means the
checkpoint's own soft-cue strength.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lodge import checks
from lodge.constants import FPS
from lodge.sampling import SamplingOptions

from .errors import UserError

MIN_SECONDS = checks.MIN_SECONDS
VIDEO_SIZES = (256, 384, 512, 720)  # pixels, square
VIDEO_FPS = (FPS, FPS // 2)
SAMPLING_DEFAULTS = SamplingOptions()  # what an empty widget means; the page's initial values come from it

# The toast title of a sampling value the library refuses, by the field its InputError names.
TITLES = {
    "seed": "Seed out of range",
    "duration": "Length out of range",
    "max_seconds": "Length out of range",
    "soft": "Soft-cue strength out of range",
    "steps": "Step count out of range",
    "sampler": "Unknown quality setting",
    "energy": "Energy out of range",
}
DEFAULT_TITLE = "Setting out of range"


@dataclass(frozen=True)
class Request:
    """The user's choices for one request (already converted from the page's widgets): how to sample
    (:attr:`sampling`, the library's checked options) and how to render (camera, body, video size / rate)."""

    genre: str
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    camera: str = "follow"
    body: str = "mannequin"
    video_size: int = 512
    video_fps: int = FPS


_RENDER_DEFAULTS = Request(genre="")


def sampling_error(err: checks.InputError, field: str | None = None) -> UserError:
    """The library's refusal of a sampling value for the page, titled by the field at fault (``err.field``,
    else ``field``)."""
    return UserError(str(err), title=TITLES.get(err.field or field or "", DEFAULT_TITLE))


def _pick(value: object, choices: tuple[int, ...], what: str, title: str) -> int:
    try:
        number = checks.whole_number(value, what, min(choices), max(choices))
    except checks.InputError:
        number = -1
    if number not in choices:
        raise UserError(f"{what} must be one of {', '.join(map(str, choices))}, not {str(value)[:20]!r}.", title=title)
    return number


def _given(value: object) -> bool:
    return value not in (None, "")


def read_options(genre, seed, length_mode, first_seconds, soft, quality, steps, camera, body, video_size, video_fps,
                 beat_sync=None, energy=None, max_seconds: float | None = checks.DEFAULT_MAX_SECONDS) -> Request:
    """The page's widget values (or what an API client sent) -> a checked :class:`Request`.

    Empty values (None, "") take the library's defaults; the step count counts for DDIM only (DDPM runs
    the whole chain). ``max_seconds`` is this app's song length limit.

    Raises:
        UserError: a value out of range or not a number, with a sentence saying which and what is allowed.
    """
    first = str(length_mode).lower().startswith("first")
    ddpm = str(quality).lower().startswith(("ddpm", "full"))
    values = dict(seed=seed, soft=soft, beat_sync=beat_sync, energy=energy, steps=None if ddpm else steps)
    try:
        if first and first_seconds is None:  # SamplingOptions would read duration=None as "the whole song"
            checks.check_seconds(first_seconds)  # raises the library's sentence for a missing number
        sampling = SamplingOptions(
            sampler="ddpm" if ddpm else "ddim", max_seconds=max_seconds, duration=first_seconds if first else None,
            **{name: value for name, value in values.items() if _given(value)})
    except checks.InputError as err:
        raise sampling_error(err, "duration") from None
    return Request(
        genre=str(genre or ""),
        sampling=sampling,
        camera="fixed" if str(camera).lower().startswith("fixed") else "follow",
        body=str(body or _RENDER_DEFAULTS.body),
        video_size=_pick(video_size if _given(video_size) else _RENDER_DEFAULTS.video_size, VIDEO_SIZES,
                         "The video size", "Unknown video size"),
        video_fps=_pick(video_fps if _given(video_fps) else _RENDER_DEFAULTS.video_fps, VIDEO_FPS,
                        "The video frame rate", "Unknown frame rate"),
    )
