"""`SamplingOptions`: every choice of one generation request, typed, checked and in one place.

This is the one owner of the request defaults (seed 0, DDIM with :data:`DEFAULT_DDIM_STEPS` steps,
the checkpoint's soft-cue strength and guidance weight, the song length limit, every ablation switch
on except beat sync). The pipeline, the command line, the evaluation and the app build one of these
instead of restating the defaults::

    opts = SamplingOptions(seed=3, steps=20)
    dance = pipe("song.mp3", "salsa", opts)
    dance = pipe("song.mp3", "salsa", opts.replace(sampler="ddpm", steps=None))
    dance = pipe("song.mp3", "salsa", seed=3, steps=20)  # the same, field names as keywords

Every instance is checked when it is made (:meth:`SamplingOptions.__post_init__`, with the functions
of :mod:`lodge.checks`): a bad value raises :class:`lodge.checks.InputError` with one sentence for a
person and ``err.field`` naming the field. Values come out cleaned (``seed`` an int, ``soft`` a float,
``max_seconds=0`` turned into None, ...). :meth:`to_dict` / :meth:`from_dict` give a JSON-safe form to
store beside a dance. Nothing here imports torch or loads a model.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Callable

from . import checks
from .checks import DEFAULT_MAX_SECONDS, InputError

DEFAULT_SAMPLER = "ddim"
DEFAULT_DDIM_STEPS = 50  # DDIM iterations when `steps` is None (DDPM: every step of the diffusion chain)
SAMPLERS = checks.SAMPLERS


@dataclass(frozen=True)
class SamplingOptions:
    """How to sample one dance: the seed, the sampler and its settings, the song limits, the switches.

    Frozen and hashable; change a copy with :meth:`replace`. ``None`` in ``steps``, ``soft`` and
    ``guidance_weight`` means "the default": the sampler's step count, the checkpoint's soft-cue
    strength and guidance weight (:meth:`resolved` fills them in for a given checkpoint).
    """

    seed: int = 0
    """Random seed, 0 to 4294967295; the same seed on the same device gives the same dance."""
    sampler: str = DEFAULT_SAMPLER
    """"ddim" (fast, deterministic given the seed) or "ddpm" (ancestral, stochastic)."""
    steps: int | None = None
    """Denoising iterations, 1 to 1000; None: :data:`DEFAULT_DDIM_STEPS` for DDIM, the whole chain for
    DDPM (fewer DDPM steps sample a respaced chain)."""
    soft: float | None = None
    """Soft-cue strength s in [0, 1]: the share of denoising steps that see the soft cues; None: the
    checkpoint's default."""
    guidance_weight: float | None = None
    """Classifier-free guidance weight on the music, 0 to 20 (1: conditional only); None: the checkpoint's."""
    global_guidance_weight: float | None = None
    """The global stage's guidance weight (the primitives), 0 to 20; None: the checkpoint's (which may be
    ``guidance_weight``)."""
    global_pose_guidance_weight: float | None = None
    """The global stage's guidance weight on where each primitive stands (its mean pose over its 8
    frames), 0 to 20, while how it moves about that pose takes ``global_guidance_weight``; None: the
    checkpoint's (which may be the global guidance weight itself: plain guidance). At 1, the music
    shapes each primitive's motion and the sequence of poses stays the conditional model's, whose
    consecutive primitives lie nearer each other, as in real dance."""
    genre_guidance_weight: float | None = None
    """Classifier-free guidance on the genre, 0 to 20 (0: off): how far both stages move from the
    all-genre average towards what sets the chosen genre apart; None: the checkpoint's for each genre
    (:meth:`lodge.config.LodgeConfig.genre_guidance`: a genre's calibrated weight, else the checkpoint's
    default), which stays None when resolved. Above 0 only for checkpoints trained with genre dropout."""
    speed_guidance_weight: float | None = None
    """Classifier-free guidance on the speed, 0 to 20 (0: off): how far both stages move from the
    network told no speed towards the one told the genre's speed times ``energy``; None: the
    checkpoint's. Above 0 only for checkpoints whose networks are told a speed."""
    energy: float = 1.0
    """How fast the dancer moves, as a multiple of the chosen genre's typical speed, 0.25 to 3; only
    checkpoints whose networks are told a speed (``speed_condition``) follow it, the others ignore it."""
    max_seconds: float | None = DEFAULT_MAX_SECONDS
    """Refuse longer songs (at least 5 s); None (or 0) lifts the limit."""
    duration: float | None = None
    """Use only the first `duration` seconds of the music (at least 5 s, at most `max_seconds`); None: all."""
    mirror: bool = True
    """Add each soft cue's mirrored copy one bar later (ablation switch)."""
    beat_align: bool = True
    """Put the soft cues on the music's strongest beats; off: evenly spaced (ablation switch)."""
    soft_cues: bool = True
    """Impose the soft cues at all (ablation switch)."""
    use_primitives: bool = True
    """Steer the local stage with the global stage's primitives at all; off: no hard or soft cues."""
    fit_soft_cues: bool = True
    """At every denoising step, turn each soft cue (keeping its pose, height and own motion) to face the
    way the local model's dancer faces just before and after it, and move it to where the model puts the
    dancer then, so the body never snaps its heading or position to a cue."""
    lowpass: bool = True
    """Take the frame-to-frame judder off the generated frames with a Gaussian low-pass over time, the
    spikes (a root step over 0.2 m, a body turn over 40 degrees in one frame) out of the dance and its
    primitives (:mod:`lodge.post.lowpass`; real dancers keep 93-96 % of their speed under it), and the
    dashes (travel over 3 m/s) out of the dance (:mod:`lodge.post.travel`); cue frames stay exact."""
    smooth_cue_joins: bool = True
    """Blend the generated frames into the imposed cue frames so the body never jumps at a cue's edge
    (:mod:`lodge.post.joins`; the cue frames stay exact)."""
    floor: bool = True
    """Keep the dancer on the floor: a slow vertical shift so the lowest joint touches it, except in
    jumps under a second (:mod:`lodge.post.ground`)."""
    foot_lock: bool = True
    """Keep planted feet from sliding by moving the body over them (:mod:`lodge.post.footlock`)."""
    beat_sync: bool = False
    """Re-time the finished dance a little (each kinematic beat moves at most 1/3 s) so its moves hit the
    music's beats (:mod:`lodge.post.beat_sync`); the primitives' frames follow."""

    def __post_init__(self) -> None:
        """Check every field and store its cleaned value; :class:`InputError` (with ``field``) if one is bad."""
        for name, value in self._cleaned().items():
            object.__setattr__(self, name, value)

    def _cleaned(self) -> dict[str, Any]:
        optional: dict[str, Callable[[object], Any]] = {
            "steps": checks.check_steps, "soft": checks.check_soft, "guidance_weight": checks.check_guidance,
            "global_guidance_weight": checks.check_guidance, "genre_guidance_weight": checks.check_guidance,
            "global_pose_guidance_weight": checks.check_guidance, "speed_guidance_weight": checks.check_guidance,
        }
        out: dict[str, Any] = {}
        for name, check in (("seed", checks.check_seed), ("sampler", checks.check_sampler),
                            ("max_seconds", checks.check_max_seconds), ("energy", checks.check_energy),
                            *optional.items()):
            value = getattr(self, name)
            out[name] = None if value is None and name in optional else _checked(name, check, value)
        out["duration"] = None if self.duration is None else _checked(
            "duration", lambda v: checks.check_seconds(v, out["max_seconds"]), self.duration)
        for name in FLAGS:
            out[name] = _checked(name, lambda v, name=name: checks.check_flag(v, f"The option {name}"),
                                 getattr(self, name))
        return out

    # ------------------------------------------------------------------ copies and forms

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The option names, in declaration order (the keywords the pipeline accepts as overrides)."""
        return tuple(f.name for f in fields(cls))

    def replace(self, **changes: Any) -> "SamplingOptions":
        """A checked copy with some fields changed; TypeError for a name that is not a field."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"unknown sampling option(s) {', '.join(unknown)}; "
                            f"the options are {', '.join(self.field_names())}")
        return dataclasses.replace(self, **changes) if changes else self

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: {field name: int, float, str, bool or None}."""
        return {name: getattr(self, name) for name in self.field_names()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "SamplingOptions":
        """Inverse of :meth:`to_dict`; unknown keys are ignored (files from newer versions still load),
        missing ones take the defaults; the values are checked."""
        names = set(cls.field_names())
        return cls(**{k: v for k, v in dict(data or {}).items() if k in names})

    # ------------------------------------------------------------------ defaults of a checkpoint

    def iterations(self, diffusion_steps: int = checks.MAX_STEPS) -> int:
        """The number of denoising iterations these options run on a chain of ``diffusion_steps``."""
        if self.steps is not None:
            return self.steps
        return DEFAULT_DDIM_STEPS if self.sampler == "ddim" else int(diffusion_steps)

    def resolved(self, soft: float, guidance_weight: float, diffusion_steps: int | None = None,
                 global_guidance_weight: float | None = None,
                 global_pose_guidance_weight: float | None = None,
                 speed_guidance_weight: float = 0.0) -> "SamplingOptions":
        """These options with every "default" (None) made explicit: ``soft``, ``guidance_weight``,
        ``global_guidance_weight``, ``speed_guidance_weight`` and ``global_pose_guidance_weight`` are the
        checkpoint's defaults (a None global weight: the guidance weight; a None pose weight: the global
        weight), ``diffusion_steps`` its chain length (None leaves ``steps`` as it is). A None
        ``genre_guidance_weight`` stays None: it is each genre's own, which the stages look up per
        window. The resolved options sample exactly the same dance."""
        weight = guidance_weight if self.guidance_weight is None else self.guidance_weight
        first_set = lambda *values: next(v for v in values if v is not None)  # noqa: E731
        global_weight = first_set(self.global_guidance_weight, global_guidance_weight, weight)
        pose_weight = first_set(self.global_pose_guidance_weight, global_pose_guidance_weight, global_weight)
        return self.replace(
            soft=soft if self.soft is None else self.soft,
            guidance_weight=weight,
            global_guidance_weight=global_weight,
            global_pose_guidance_weight=pose_weight,
            speed_guidance_weight=speed_guidance_weight if self.speed_guidance_weight is None else self.speed_guidance_weight,
            steps=self.steps if diffusion_steps is None else self.iterations(diffusion_steps),
        )


FLAGS = tuple(f.name for f in fields(SamplingOptions) if f.type in ("bool", bool))


def _checked(name: str, check: Callable[[object], Any], value: object) -> Any:
    try:
        return check(value)
    except InputError as err:
        raise InputError(str(err), field=name) from None


def sampling_options(options: SamplingOptions | None = None, **overrides: Any) -> SamplingOptions:
    """``options`` (default: all defaults) with ``overrides`` (field names) applied; the one way the
    library's functions turn their ``options, **overrides`` arguments into checked options."""
    if options is None:
        options = SamplingOptions()
    elif not isinstance(options, SamplingOptions):
        raise TypeError(f"options must be a SamplingOptions, not {type(options).__name__} "
                        "(pass seed, steps, ... by name)")
    return options.replace(**overrides)
