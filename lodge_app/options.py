"""One request's settings: :class:`Options`, and :func:`read_options`, which checks the page's widget
values (or what an API client sent) and turns them into one."""
from __future__ import annotations

from dataclasses import dataclass

from lodge import checks
from lodge.constants import FPS
from lodge.diffusion import DEFAULT_DDIM_STEPS

from .errors import UserError

MIN_SECONDS = checks.MIN_SECONDS
VIDEO_SIZES = (256, 384, 512, 720)  # pixels, square
VIDEO_FPS = (FPS, FPS // 2)


@dataclass(frozen=True)
class Options:
    """The user's choices for one request (already converted from the page's widgets)."""

    genre: str
    seed: int = 0
    duration: float | None = None  # None: the whole song
    soft: float = 1.0
    sampler: str = "ddim"
    steps: int = DEFAULT_DDIM_STEPS
    camera: str = "follow"
    body: str = "mannequin"
    video_size: int = 512
    video_fps: int = FPS
    beat_sync: bool = False  # re-time the moves onto the beats (lodge.post.beat_sync)


def _pick(value: object, choices: tuple[int, ...], what: str, title: str) -> int:
    try:
        number = checks.whole_number(value, what, min(choices), max(choices))
    except checks.InputError:
        number = -1
    if number not in choices:
        raise UserError(f"{what} must be one of {', '.join(map(str, choices))}, not {str(value)[:20]!r}.", title=title)
    return number


def read_options(genre, seed, length_mode, first_seconds, soft, quality, steps, camera, body, video_size, video_fps,
                 beat_sync=False, max_seconds: float | None = checks.DEFAULT_MAX_SECONDS) -> Options:
    """The page's widget values (or what an API client sent) -> checked :class:`Options`.

    Raises:
        UserError: a value out of range or not a number, with a sentence saying which and what is allowed.
    """
    first = str(length_mode).lower().startswith("first")
    ddpm = str(quality).lower().startswith(("ddpm", "full"))
    try:
        seed_value = checks.check_seed(0 if seed in (None, "") else seed)
    except checks.InputError as err:
        raise UserError(str(err), title="Seed out of range") from None
    try:
        duration = checks.check_seconds(first_seconds, max_seconds) if first else None
    except checks.InputError as err:
        raise UserError(str(err), title="Length out of range") from None
    try:
        soft_value = checks.check_soft(1.0 if soft in (None, "") else soft)
    except checks.InputError as err:
        raise UserError(str(err), title="Soft-cue strength out of range") from None
    try:
        steps_value = DEFAULT_DDIM_STEPS if ddpm or steps in (None, "") else checks.check_steps(steps)
    except checks.InputError as err:
        raise UserError(str(err), title="Step count out of range") from None
    return Options(
        genre=str(genre or ""),
        seed=seed_value,
        duration=duration,
        soft=soft_value,
        sampler="ddpm" if ddpm else "ddim",
        steps=steps_value,
        camera="fixed" if str(camera).lower().startswith("fixed") else "follow",
        body=str(body or "mannequin"),
        video_size=_pick(512 if video_size in (None, "") else video_size, VIDEO_SIZES, "The video size",
                         "Unknown video size"),
        video_fps=_pick(FPS if video_fps in (None, "") else video_fps, VIDEO_FPS, "The video frame rate",
                        "Unknown frame rate"),
        beat_sync=bool(beat_sync),
    )
