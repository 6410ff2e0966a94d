"""The limits of a generation request and the checks that enforce them, shared by the CLI and the app.

Every check turns a raw value (from the command line, a web form or an API client) into a clean one, or
raises :class:`InputError` with one sentence a person understands. Nothing here loads a model or a file,
so callers can check everything before any work starts.
"""
from __future__ import annotations

import math

MIN_SECONDS = 5.0  # shortest music a dance is made for
DEFAULT_MAX_SECONDS = 600.0  # longest song accepted unless the caller lifts the limit
MAX_STEPS = 1000  # denoising steps: the diffusion chain has 1000, more would repeat steps
MAX_SEED = 2**32 - 1
MAX_GUIDANCE = 20.0
SAMPLERS = ("ddim", "ddpm")  # the samplers lodge.diffusion implements (its SCHEDULERS), in that order


class InputError(ValueError):
    """A request value out of range; the message is one sentence meant for the person who sent it.

    ``field`` names the request value at fault (a :class:`lodge.sampling.SamplingOptions` field name)
    when the check knows it, so a form can point at it; None otherwise.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _fmt(value: object) -> str:
    text = repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def finite_number(value: object, what: str) -> float:
    """`value` as a finite float; InputError naming `what` if it is not a number, NaN or infinite."""
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, not {_fmt(value)}.")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be a number, not {_fmt(value)}.") from None
    if not math.isfinite(number):
        raise InputError(f"{what} must be a finite number, not {_fmt(value)}.")
    return number


def whole_number(value: object, what: str, low: int, high: int) -> int:
    """`value` as an int in [low, high]; InputError otherwise (fractions, NaN, huge numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
    else:
        real = finite_number(value, what)
        if real != int(real):
            raise InputError(f"{what} must be a whole number, not {_fmt(value)}.")
        number = int(real)
    if not low <= number <= high:
        raise InputError(f"{what} must be a whole number from {low} to {high}, not {_fmt(number)}.")
    return number


def check_seed(seed: object) -> int:
    """A random seed: a whole number from 0 to 4294967295."""
    return whole_number(seed, "The seed", 0, MAX_SEED)


def check_steps(steps: object) -> int:
    """Denoising steps: a whole number from 1 to :data:`MAX_STEPS`."""
    return whole_number(steps, "The number of denoising steps", 1, MAX_STEPS)


def check_soft(soft: object) -> float:
    """Soft-cue strength s: a number from 0 to 1."""
    value = finite_number(soft, "The soft-cue strength s")
    if not 0.0 <= value <= 1.0:
        raise InputError(f"The soft-cue strength s must be between 0 and 1, not {_fmt(soft)}.")
    return value


def check_guidance(weight: object) -> float:
    """Classifier-free guidance weight: a number from 0 to :data:`MAX_GUIDANCE`."""
    value = finite_number(weight, "The guidance weight")
    if not 0.0 <= value <= MAX_GUIDANCE:
        raise InputError(f"The guidance weight must be between 0 and {MAX_GUIDANCE:g}, not {_fmt(weight)}.")
    return value


MIN_ENERGY, MAX_ENERGY = 0.25, 3.0


def check_energy(energy: object) -> float:
    """Dance energy: a multiple of the genre's typical speed, from :data:`MIN_ENERGY` to :data:`MAX_ENERGY`."""
    value = finite_number(energy, "The energy")
    if not MIN_ENERGY <= value <= MAX_ENERGY:
        raise InputError(f"The energy must be between {MIN_ENERGY:g} and {MAX_ENERGY:g}, not {_fmt(energy)}.")
    return value


def check_sampler(sampler: object) -> str:
    """A sampler name, one of :data:`SAMPLERS` (case-insensitive, surrounding spaces ignored)."""
    name = str(sampler).strip().lower() if isinstance(sampler, str) else None
    if name not in SAMPLERS:
        raise InputError(f"The sampler must be {' or '.join(repr(s) for s in SAMPLERS)}, not {_fmt(sampler)}.")
    return name


def check_flag(value: object, what: str) -> bool:
    """An on/off switch: a bool (numpy's too) or the numbers 0 and 1; InputError for anything else
    (a string such as "false" is refused rather than read as True)."""
    if isinstance(value, bool):
        return value
    numpy_bool = getattr(value, "dtype", None) is not None and value.dtype.kind == "b" and value.ndim == 0
    if numpy_bool or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise InputError(f"{what} must be true or false, not {_fmt(value)}.")


def check_max_seconds(max_seconds: object) -> float | None:
    """The longest song to accept; None or 0 means no limit."""
    if max_seconds is None:
        return None
    value = finite_number(max_seconds, "The length limit")
    if value == 0:
        return None
    if value < MIN_SECONDS:
        raise InputError(f"The length limit must be at least {MIN_SECONDS:g} seconds (or 0 for no limit), "
                         f"not {_fmt(max_seconds)}.")
    return value


def check_seconds(seconds: object, max_seconds: float | None = DEFAULT_MAX_SECONDS) -> float:
    """How much of the music to use (the first N seconds): at least :data:`MIN_SECONDS`, at most `max_seconds`."""
    value = finite_number(seconds, "The number of seconds to use")
    if value < MIN_SECONDS:
        raise InputError(f"Use at least {MIN_SECONDS:g} seconds of music; {_fmt(seconds)} is too short.")
    if max_seconds is not None and value > max_seconds:
        raise InputError(f"Use at most {max_seconds:g} seconds of music; {_fmt(seconds)} is over the limit.")
    return value


def format_duration(seconds: float) -> str:
    """A length for people: "8.5 s" under a minute, else "3 min 05 s" (the library's and the app's one format)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"
