"""Model and sampling configuration of a Lodge checkpoint (sizes, genres, diffusion settings)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .checks import InputError
from .constants import PRIM_LEN


class GenreError(InputError):
    """The requested genre is not one the checkpoint knows (an :class:`lodge.checks.InputError`, so a
    ValueError, with ``field`` "genre")."""

    def __init__(self, message: str):
        super().__init__(message, field="genre")


@dataclass
class NetConfig:
    """Sizes of one transformer denoiser (used for both the local and the global network)."""

    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    ff_dim: int = 512
    music_layers: int = 2
    dropout: float = 0.1
    # Frames per token: the network embeds `patch` consecutive frames as one token and un-patches its
    # output linearly, so attention and MLP cost fall by about `patch`. 1 = a token per frame.
    patch: int = 1
    # Music frames per music token (a strided convolution). None = the network's own default: the motion
    # patch for the local network, 4 for the global one.
    music_stride: int | None = None
    # Local network only: the cue frames (values and a mask) are a second input beside the noisy motion,
    # so the network knows at every step which frames are fixed and plans the motion to meet them.
    cue_input: bool = False
    # Output x0 = c_skip(t) * x_t / sqrt(abar_t) + c_out(t) * network(...) (Karras et al. 2022's
    # preconditioning): at low noise the prediction starts from the noisy input itself, so the network
    # cannot fall back to one mean answer whatever its input (the per-frame presets did, and every seed
    # then gave the same primitives). False = the network's output is x0 itself.
    # Only for networks at least as wide as a token (d_model >= patch * 139): a narrower network sees and
    # outputs a d_model-dimensional slice of each token, and the part of the noise outside it passes
    # through the skip untouched, so every sample comes out as white noise there (the patched presets
    # with the skip jittered at 5-27 times real speed). Building such a network warns.
    skip_input: bool = False
    # The same preconditioning in the network's own token space, for networks narrower than a token:
    # x0 = un-patch(c_skip(t) * embed(x_t) / sqrt(abar_t) + c_out(t) * network(...)), where embed is the
    # noisy motion's part of the input layer and un-patch the output layer. The skip carries only what
    # the network sees, so it can remove any noise in it, and at low noise the answer starts from the
    # input through a linear auto-encoder (input layer, output layer) that is quick to learn. Without a
    # skip the patched networks ignored x_t: after 550 steps their x0 error at t = 5 equalled that at t = 999.
    latent_skip: bool = False
    # The network has a learned "any genre" embedding, trained by replacing the genre of some samples
    # with it (genre dropout), so sampling can guide on the genre as on the music: away from the
    # all-genre average, towards what sets this genre apart. Off for networks trained before it.
    null_genre: bool = False
    # With patch > 1: each token's output covers its own frames and half a token on
    # either side, and neighbouring tokens are cross-faded where they overlap (overlap-add with a window
    # that sums to one), so no frame step falls between two tokens' independent guesses. With plain
    # un-patching the cpu_patched local network moved the joints 2-3 times as far between the last frame
    # of one token and the first of the next as within a token; the global network turned joints by 17-29
    # degrees between the two tokens of a primitive, where it turns them by 1-3 within one.
    overlap_unpatch: bool = False
    # Global network only: it denoises each primitive with its motion about its own mean pose amplified
    # by this factor (lodge.motion.PrimitiveNormalizer). In the motion normaliser's space the 8 frames of
    # a real primitive vary about their mean pose with a fifth of the spread of that mean across
    # primitives, so the diffusion's noise buries the motion long before the pose, and the network
    # learned to return still poses. 1 = the plain normaliser (networks trained before it).
    prim_motion_gain: float = 1.0
    # The network is told how fast the dancer moves (the mean root-relative joint speed of each training
    # example; at sampling the genre's typical speed times the request's energy), beside the genre
    # (lodge.models.speed). Off for networks trained before it.
    speed_condition: bool = False
    # Local network only: in the space the network denoises, the horizontal root (x, z) maps
    # centre +- root_range metres onto [-1, 1] instead of the motion normaliser's range
    # (lodge.motion.Normalizer.for_network). That range is the farthest any training segment travels
    # (5.3 m), which made the root's typical value a tenth of a rotation number's: at t = 5 the noise
    # still hid it by 10 cm a frame, and the network's root came out wobbling by 7 cm (session 20).
    # None = the motion normaliser's range (networks trained before it).
    root_range: float | None = None

    def __post_init__(self) -> None:
        self.prim_motion_gain = float(self.prim_motion_gain)
        if self.prim_motion_gain <= 0:
            raise ValueError(f"prim_motion_gain must be positive, got {self.prim_motion_gain}")
        if self.root_range is not None:
            self.root_range = float(self.root_range)
            if not self.root_range > 0:
                raise ValueError(f"root_range must be positive or None, got {self.root_range}")
        if self.skip_input and self.latent_skip:
            raise ValueError("choose one of skip_input and latent_skip")
        if self.overlap_unpatch and (self.patch < 2 or self.patch % 2):
            raise ValueError(f"overlap_unpatch needs an even patch of at least 2 frames, got {self.patch}")
        if self.patch < 1 or self.d_model < 1:
            raise ValueError(f"patch and d_model must be positive, got {self.patch} and {self.d_model}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError("the attention head size must be even (rotary position embeddings)")

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        """Build from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


CALIBRATION_FACTORS = ("local_speed_scale", "global_guidance_scale")  # factors on a checkpoint-wide value
# A genre's own weights in place of the checkpoint's: on the genre in both stages, and (when set) in one
# stage alone, where it takes the first one's place.
STAGE_GENRE_GUIDANCE = {"global": "global_genre_guidance_weight", "local": "local_genre_guidance_weight"}
CALIBRATION_WEIGHTS = ("genre_guidance_weight", *STAGE_GENRE_GUIDANCE.values())
CALIBRATION_SWITCHES = ("mirror",)  # 1 on, 0 off: a genre's own choice of a choreography device
CALIBRATION_KEYS = CALIBRATION_FACTORS + CALIBRATION_WEIGHTS + CALIBRATION_SWITCHES
# What `python -m lodge calibrate` searches; the others are chosen on songs (lodge.train.calibrate says why).
CALIBRATION_SEARCHED = tuple(k for k in CALIBRATION_KEYS if k not in STAGE_GENRE_GUIDANCE.values())
CALIBRATION_RANGE = (0.1, 10.0)  # a factor outside it is a broken calibration, not a genre's character
MAX_CALIBRATED_WEIGHT = 10.0  # a calibrated guidance weight above it is a broken calibration
MAX_SEGMENT_SPEED_POWER = 3.0  # above it a segment's told speed swings with its primitives' every wobble


def _checked_calibration(genre: str, factors: dict) -> dict[str, float]:
    unknown = set(factors) - set(CALIBRATION_KEYS)
    if unknown:
        raise ValueError(f"genre_calibration[{genre!r}]: unknown keys {sorted(unknown)} (known: {CALIBRATION_KEYS})")
    out = {k: float(v) for k, v in factors.items()}
    lo, hi = CALIBRATION_RANGE
    bad = {k: v for k, v in out.items() if k in CALIBRATION_FACTORS and not lo <= v <= hi}
    if bad:
        raise ValueError(f"genre_calibration[{genre!r}]: factors must lie in [{lo}, {hi}], got {bad}")
    bad = {k: v for k, v in out.items() if k in CALIBRATION_WEIGHTS and not 0.0 <= v <= MAX_CALIBRATED_WEIGHT}
    if bad:
        raise ValueError(f"genre_calibration[{genre!r}]: weights must lie in [0, {MAX_CALIBRATED_WEIGHT:g}], got {bad}")
    bad = {k: v for k, v in out.items() if k in CALIBRATION_SWITCHES and v not in (0.0, 1.0)}
    if bad:
        raise ValueError(f"genre_calibration[{genre!r}]: switches must be 0 or 1, got {bad}")
    return out


@dataclass
class LodgeConfig:
    """Everything needed to rebuild both networks and sample from them.

    ``global_`` is serialised under the key ``"global"``.
    """

    genres: list[str]
    local: NetConfig = field(default_factory=NetConfig)
    global_: NetConfig = field(default_factory=NetConfig)
    diffusion_steps: int = 1000
    cond_drop_prob: float = 0.25
    guidance_weight: float = 2.0
    # The global stage's own guidance weight (None: guidance_weight). An undertrained global network
    # returns primitives near the mean pose; a larger weight on its music gives them their energy back
    # without making the local stage's frames judder (training/README.md has the measurements).
    global_guidance_weight: float | None = None
    # The global stage's guidance weight on where each primitive stands (its mean pose), while its motion
    # about that pose takes global_guidance_weight (None: the global weight, plain guidance). Full
    # guidance on the poses set consecutive primitives 2-5 times farther apart than real dancers' poses,
    # which the local stage then had to cover (training/README.md).
    global_pose_guidance_weight: float | None = None
    # Default classifier-free guidance weight on the genre (both stages): x0 gains
    # w_g * (x0(genre) - x0(null genre)). 0 = off; only networks with a null genre can use more. A
    # genre's calibrated "genre_guidance_weight" (genre_calibration) takes its place for that genre.
    genre_guidance_weight: float = 0.0
    # Default classifier-free guidance weight on the speed (each stage whose network has speed_condition):
    # x0 gains w_s * (x0(speed) - x0(no speed)). 0 = off.
    speed_guidance_weight: float = 0.0
    # Default soft-cue guidance fraction s for sampling (the paper's best is 1); a checkpoint may ship
    # another default when its measured results are better there (see its model card).
    soft_fraction: float = 1.0
    # How much each local segment's told speed follows how fast its primitives move against the song's
    # other segments (lodge/stages/segment_speed.py): told x relative speed ** power; 0: one told speed
    # for the whole song (the checkpoints before session 26).
    segment_speed_power: float = 0.0
    # Both stages work in coordinates where the crop's first frame stands at the origin facing +z
    # (rotation about the vertical too, not only a shift). Off for checkpoints trained before it.
    canonical_heading: bool = False
    # Frames of a characteristic primitive (the global network's token layout depends on it). The
    # segment, window and cue counts are fixed by the method (lodge.constants, lodge.primitives).
    prim_len: int = PRIM_LEN
    # The real dancers' mean root-relative joint speed (m/s) of each genre in the training data, for
    # networks with ``speed_condition`` (the speed they are told at sampling); None for checkpoints
    # without one.
    genre_speeds: dict[str, float] | None = None
    # Per-genre sampling calibration found on the music of training items (`python -m lodge calibrate`,
    # lodge.train.calibrate); None: none. Each genre may have "local_speed_scale", a factor on the speed
    # the local network is told (genre_speeds x energy), and "global_guidance_scale", a factor on the
    # global stage's music-guidance term (w - 1); each factor steers one stage, so each is found alone.
    # It may also have its own "genre_guidance_weight" (both stages), "global_genre_guidance_weight" and
    # "local_genre_guidance_weight" (one stage alone, in the first one's place there) and a "mirror"
    # switch (0: its soft cues get no mirrored copies; :meth:`mirrors`). Why: an undertrained network drifts toward the all-genre
    # average. Told a slow genre's speed, it dances faster, and one guidance weight leaves some genres'
    # primitives too still and others' too wild (training/README.md has the measurements).
    genre_calibration: dict[str, dict[str, float]] | None = None

    def __post_init__(self) -> None:
        if self.local.prim_motion_gain != 1.0:
            raise ValueError("prim_motion_gain is the global network's: the local network's must be 1")
        self.genres = list(self.genres)
        if self.global_guidance_weight is not None:
            self.global_guidance_weight = float(self.global_guidance_weight)
        if self.global_pose_guidance_weight is not None:
            self.global_pose_guidance_weight = float(self.global_pose_guidance_weight)
        self.genre_guidance_weight = float(self.genre_guidance_weight)
        self.speed_guidance_weight = float(self.speed_guidance_weight)
        self.segment_speed_power = float(self.segment_speed_power)
        if not 0.0 <= self.segment_speed_power <= MAX_SEGMENT_SPEED_POWER:
            raise ValueError(f"segment_speed_power must lie in [0, {MAX_SEGMENT_SPEED_POWER:g}], "
                             f"got {self.segment_speed_power}")
        if not self.genres:
            raise ValueError("a Lodge config needs at least one genre")
        if len(set(self.genres)) != len(self.genres):
            raise ValueError(f"duplicate genre names in {self.genres}")
        if self.genre_speeds is not None:
            self.genre_speeds = {str(g): float(v) for g, v in self.genre_speeds.items()}
            missing = [g for g in self.genres if g not in self.genre_speeds]
            if missing or any(v <= 0 for v in self.genre_speeds.values()):
                raise ValueError(f"genre_speeds needs a positive speed for every genre; missing {missing}")
        if (self.local.speed_condition or self.global_.speed_condition) and self.genre_speeds is None:
            raise ValueError("networks with speed_condition need genre_speeds (each genre's typical speed)")
        if self.genre_calibration is not None:
            self.genre_calibration = {str(g): _checked_calibration(g, c) for g, c in self.genre_calibration.items()}
            unknown = [g for g in self.genre_calibration if g not in self.genres]
            if unknown:
                raise ValueError(f"genre_calibration names genres this model does not know: {unknown}")
            guided = [g for g, c in self.genre_calibration.items()
                      if any(c.get(key) for key in CALIBRATION_WEIGHTS)]
            if guided and not self.has_null_genre:
                raise ValueError(f"genre_calibration guides {guided} on their genre, but the networks were trained "
                                 "without genre dropout (no null genre)")

    def genre_speed(self, genre: int | str) -> float:
        """The typical speed (m/s) of a genre (index or name) that speed-conditioned networks are told."""
        if self.genre_speeds is None:
            raise ValueError("this checkpoint has no genre speeds: its networks are not told a speed")
        name = self.genre_name(genre)
        return self.genre_speeds[name]

    def genre_name(self, genre: int | str) -> str:
        """The name of a genre given by index or (case-insensitive) name; GenreError if unknown."""
        return self.genres[self.genre_index(genre)] if isinstance(genre, str) else self.genres[int(genre)]

    def calibration(self, genre: int | str, key: str) -> float:
        """A genre's (index or name) calibration factor ``key`` (see ``genre_calibration``); 1 when none.
        (Its guidance weight: :meth:`genre_guidance`.)"""
        if key not in CALIBRATION_FACTORS:
            raise ValueError(f"{key!r} is not a calibration factor ({', '.join(CALIBRATION_FACTORS)})")
        name = self.genre_name(genre)
        return float((self.genre_calibration or {}).get(name, {}).get(key, 1.0))

    def genre_guidance(self, genre: int | str, stage: str = "global") -> float:
        """A stage's ("global" or "local") genre guidance weight for a genre (index or name): its calibrated
        weight for that stage alone (``global_genre_guidance_weight`` or ``local_genre_guidance_weight``)
        when it has one; else its calibrated ``genre_guidance_weight``, else the checkpoint's
        ``genre_guidance_weight``."""
        if stage not in STAGE_GENRE_GUIDANCE:
            raise ValueError(f"stage must be 'local' or 'global', got {stage!r}")
        own = (self.genre_calibration or {}).get(self.genre_name(genre), {})
        if STAGE_GENRE_GUIDANCE[stage] in own:
            return float(own[STAGE_GENRE_GUIDANCE[stage]])
        return float(own.get("genre_guidance_weight", self.genre_guidance_weight))

    def mirrors(self, genre: int | str) -> bool:
        """Whether a genre's (index or name) soft cues get their mirrored copies one bar later: its
        calibrated ``mirror`` switch, on when it has none."""
        name = self.genre_name(genre)
        return bool((self.genre_calibration or {}).get(name, {}).get("mirror", 1.0))

    def told_speed(self, genre: int | str, stage: str = "local") -> float:
        """The speed (m/s) a stage's ("local" or "global") speed-conditioned network is told for a genre
        at energy 1: its typical speed, times its calibrated ``local_speed_scale`` for the local stage."""
        if stage not in ("local", "global"):
            raise ValueError(f"stage must be 'local' or 'global', got {stage!r}")
        if stage == "global":
            return self.genre_speed(genre)
        return self.genre_speed(genre) * self.calibration(genre, "local_speed_scale")

    @property
    def has_null_genre(self) -> bool:
        """Whether both networks can be guided on the genre (both were trained with genre dropout)."""
        return self.local.null_genre and self.global_.null_genre

    @property
    def has_speed_condition(self) -> bool:
        """Whether either network is told how fast to dance (and so follows the energy and speed guidance)."""
        return self.local.speed_condition or self.global_.speed_condition

    @property
    def n_genres(self) -> int:
        """Number of genres the networks are conditioned on."""
        return len(self.genres)

    def genre_index(self, genre: str) -> int:
        """Index of a genre name (case-insensitive); :class:`GenreError` listing the known genres otherwise."""
        lowered = [g.lower() for g in self.genres]
        if str(genre).lower() not in lowered:
            raise GenreError(f"Unknown genre {genre!r}. This model knows: {', '.join(self.genres)}.")
        return lowered.index(str(genre).lower())

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        d = asdict(self)
        d["global"] = d.pop("global_")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LodgeConfig":
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        d = dict(d)
        local = NetConfig.from_dict(d.pop("local", {}))
        glob = NetConfig.from_dict(d.pop("global", d.pop("global_", {})))
        names = {f.name for f in fields(cls)} - {"local", "global_"}
        return cls(local=local, global_=glob, **{k: v for k, v in d.items() if k in names})

    @classmethod
    def tiny(cls, genres: list[str]) -> "LodgeConfig":
        """A very small model for tests (fractions of a second per forward on a CPU)."""
        net = dict(d_model=32, n_layers=1, n_heads=2, ff_dim=64, music_layers=1, dropout=0.0)
        return cls(genres=list(genres), local=NetConfig(**net), global_=NetConfig(**net))

    @classmethod
    def tiny_patched(cls, genres: list[str]) -> "LodgeConfig":
        """The tiny test model with the `cpu_patched` preset's token layout and cue input."""
        net = dict(d_model=32, n_layers=1, n_heads=2, ff_dim=64, music_layers=1, dropout=0.0, patch=4, latent_skip=True)
        return cls(genres=list(genres), local=NetConfig(**net, cue_input=True),
                   global_=NetConfig(**net, music_stride=8))

    @classmethod
    def small(cls, genres: list[str]) -> "LodgeConfig":
        """A CPU-interactive model (a few million parameters per network)."""
        return cls(
            genres=list(genres),
            local=NetConfig(d_model=192, n_layers=4, n_heads=4, ff_dim=384, music_layers=1, dropout=0.1),
            global_=NetConfig(d_model=192, n_layers=4, n_heads=4, ff_dim=384, music_layers=1, dropout=0.1),
        )

    @classmethod
    def cpu_patched(cls, genres: list[str]) -> "LodgeConfig":
        """The CPU training preset: 4 frames per token and 4 (local) or 8 (global) music frames per music
        token, so a training step costs a fraction of the per-frame `cpu` preset's."""
        # The `cpu` preset's sizes; no dropout (it costs 15-30 % of a CPU step, and 80 min of data
        # seen a few hundred times is not where this model's trouble lies).
        # The skip in token space (latent_skip), not skip_input: a 128-wide network cannot remove noise
        # from 556-number tokens that skip_input would pass through.
        net = dict(d_model=128, n_layers=3, n_heads=4, ff_dim=256, music_layers=1, dropout=0.0, patch=4,
                   latent_skip=True)
        local = NetConfig(**net, cue_input=True)
        glob = NetConfig(**net, music_stride=8)
        return cls(genres=list(genres), local=local, global_=glob)

    @classmethod
    def cpu(cls, genres: list[str]) -> "LodgeConfig":
        """A model small enough to train for a useful number of steps on a 2-core CPU (~1 M parameters each)."""
        net = dict(d_model=128, n_layers=3, n_heads=4, ff_dim=256, music_layers=1, dropout=0.1)
        return cls(genres=list(genres), local=NetConfig(**net), global_=NetConfig(**net))


# Named model sizes for new training runs (`python -m lodge train --preset NAME`).
PRESETS = {
    "tiny": LodgeConfig.tiny,
    "tiny_patched": LodgeConfig.tiny_patched,
    "cpu": LodgeConfig.cpu,
    "cpu_patched": LodgeConfig.cpu_patched,
    "small": LodgeConfig.small,
}
