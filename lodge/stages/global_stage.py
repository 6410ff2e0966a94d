"""Global stage: the 13 characteristic primitives of every 1024-frame window, all windows in one batch.

The genre-conditioned global network samples each window in its own coordinates (``raw``); the
windows are then chained into song coordinates (``primitives``): each window starts where the
previous window's closing hard cue put the dancer (and, for canonical-heading checkpoints, facing the
way that cue faces).

Chosen primitives can be held fixed while the others are re-sampled: ``keep_mask`` marks them and
``keep_values`` gives their motion in window coordinates (the ``raw`` of an earlier result); the
sampler inpaints them at every denoising step (its ``hard_mask`` / ``hard_values``), so the re-sampled
primitives of a window fit the kept ones, and the kept ones come back exactly.

The music guidance weighs where each primitive stands (its mean pose) with
``options.global_pose_guidance_weight`` and how it moves about it with ``global_guidance_weight``
(:func:`pose_guidance`).

With ``options.lowpass`` each sampled primitive first has the seam between its two tokens closed
(:func:`lodge.post.close_token_seams`: a patched global network without overlap-add un-patching turns
joints by 17-29 degrees there),
then faces one way (:func:`lodge.post.face_one_way`) and is low-passed over its own frames
(:func:`lodge.post.lowpass_motion`), as the local stage's frames are: the cue frames are written into
the dance exactly, so they must not keep a seam or a judder the frames around them lose. With ``options.floor``
each primitive is then put on the floor (:func:`lodge.post.ground_primitives`), for the same reason.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..constants import GLOBAL_LEN, HARD_GUIDE, MOTION_DIM, PRIM_LEN, ROOT_X, ROOT_Z
from ..motion import PrimitiveNormalizer, align_transform, planar_transform
from ..post import close_token_seams, face_one_way, ground_primitives, lowpass_motion
from ..primitives import N_HARD, N_PRIMS, PrimitivePlan
from ..sampling import SamplingOptions
from .base import ProgressFn, StageModels, StageProgress, genre_guidance, resolve_options, speed_condition



@dataclass
class GlobalInputs:
    """What the global stage samples from.

    Attributes:
        music: (W * 1024, 35) the song's normalised music, padded to whole windows
            (:func:`lodge.stages.music.normalised_music`).
        genres: (W,) genre index of each window.
        plan: the song's primitive plan (W windows).
        keep_mask: (W, 13) bool, True for primitives to hold fixed; None: re-sample all.
        keep_values: (W, 13, 8, 139) motion of the held primitives in window coordinates, data units
            (``GlobalResult.raw`` of an earlier run); read only where ``keep_mask`` is True.
    """

    music: torch.Tensor
    genres: np.ndarray
    plan: PrimitivePlan
    keep_mask: np.ndarray | None = None
    keep_values: np.ndarray | None = None

    def __post_init__(self) -> None:
        w = self.plan.num_windows
        self.genres = np.asarray(self.genres, np.int64).reshape(-1)
        if self.genres.shape != (w,):
            raise ValueError(f"genres: expected one genre index per window ({w}), got shape {self.genres.shape}")
        if tuple(self.music.shape[:1]) != (w * GLOBAL_LEN,):
            raise ValueError(f"music: expected {w * GLOBAL_LEN} frames (whole windows), got {tuple(self.music.shape)}")
        if self.keep_mask is not None:
            self.keep_mask = np.asarray(self.keep_mask, bool)
            if self.keep_mask.shape != (w, N_PRIMS):
                raise ValueError(f"keep_mask: expected shape {(w, N_PRIMS)}, got {self.keep_mask.shape}")
            if self.keep_mask.any():
                if self.keep_values is None:
                    raise ValueError("keep_mask given without keep_values")
                self.keep_values = np.asarray(self.keep_values, np.float32)
                if self.keep_values.shape != (w, N_PRIMS, PRIM_LEN, MOTION_DIM):
                    raise ValueError(f"keep_values: expected shape {(w, N_PRIMS, PRIM_LEN, MOTION_DIM)}, "
                                     f"got {self.keep_values.shape}")


@dataclass
class GlobalResult:
    """The global stage's primitives, (W, 13, 8, 139) in data units: 5 hard cues then 8 soft cues.

    Attributes:
        raw: each window in its own coordinates, as sampled (what ``keep_values`` takes).
        primitives: the windows chained in song coordinates (what the local stage and the dance use).
    """

    raw: np.ndarray
    primitives: np.ndarray


@torch.no_grad()
def sample_global(models: StageModels, inputs: GlobalInputs, options: SamplingOptions,
                  generator: torch.Generator, progress: ProgressFn | None = None) -> GlobalResult:
    """Sample the primitives of every window in one batch (held ones inpainted), then chain the windows.

    ``options`` gives the sampler, steps and the global guidance weight; ``generator`` the noise (the pipeline
    passes the one the local stage then continues with).
    """
    options = resolve_options(models, options)
    plan, w = inputs.plan, inputs.plan.num_windows
    device = models.device
    music_w = inputs.music.reshape(w, GLOBAL_LEN, -1)
    genre = torch.as_tensor(inputs.genres, dtype=torch.long, device=device)
    frames = torch.as_tensor(plan.window_prim_frames(), device=device)
    kinds = torch.as_tensor(PrimitivePlan.prim_kinds(), device=device).expand(w, N_PRIMS)

    speed_kwargs, speed_guidance = speed_condition(models, models.global_, inputs.genres, options)

    def denoise(x_t, t, drop_mask, genre_drop=None, speed_drop=None):
        n = x_t.shape[0] // w
        extra = {} if genre_drop is None else {"genre_drop": genre_drop}  # asked only when guiding on the genre
        extra.update(speed_kwargs(n, speed_drop))
        return models.global_(
            x_t, t, music_w.repeat(n, 1, 1), genre.repeat(n), frames.repeat(n, 1), kinds.repeat(n, 1), drop_mask, **extra
        )

    space = PrimitiveNormalizer(models.normalizer, models.cfg.global_.prim_motion_gain)
    keep = inputs.keep_mask if inputs.keep_mask is not None and inputs.keep_mask.any() else None
    hard_mask = hard_values = None
    if keep is not None:
        hard_mask = torch.as_tensor(keep, device=device)[:, :, None, None]
        hard_values = space.normalize(torch.as_tensor(inputs.keep_values, device=device))
    x0 = models.diffusion.sample(
        denoise, (w, N_PRIMS, PRIM_LEN, MOTION_DIM), sampler=options.sampler, steps=options.steps,
        guidance_weight=options.global_guidance_weight, genre_guidance_weight=genre_guidance(models, inputs.genres, options, "global"),
        speed_guidance_weight=speed_guidance,
        guidance_scale=global_guidance_scales(models, inputs.genres),
        mean_guidance=pose_guidance(options),
        hard_mask=hard_mask, hard_values=hard_values,
        generator=generator, device=device, progress=StageProgress("global", progress),
    )
    raw = space.denormalize(x0).float().cpu().numpy()
    if options.lowpass:
        net = models.cfg.global_
        patch = 1 if net.overlap_unpatch else net.patch  # seams where each token is un-patched on its own
        raw = np.stack([[lowpass_motion(face_one_way(close_token_seams(prim, patch))) for prim in window]
                        for window in raw])
    if options.floor:
        raw = ground_primitives(raw)
    if keep is not None:
        raw[keep] = inputs.keep_values[keep]  # exactly as given (not through the normaliser and back)
    return GlobalResult(raw=raw, primitives=chain_windows(raw, models.cfg.canonical_heading))


def global_guidance_scales(models: StageModels, genres) -> torch.Tensor | None:
    """(W,) each window's calibrated factor on the music-guidance term (w - 1) of how its primitives move
    (``global_guidance_scale`` of :attr:`lodge.config.LodgeConfig.genre_calibration`); None when every
    factor is 1."""
    scales = [models.cfg.calibration(int(g), "global_guidance_scale") for g in np.asarray(genres).reshape(-1)]
    if all(s == 1.0 for s in scales):
        return None
    return torch.tensor(scales, dtype=torch.float32, device=models.device)


def pose_guidance(options: SamplingOptions) -> tuple[int, float] | None:
    """The sampler's ``mean_guidance`` for resolved ``options``: the weight on each primitive's mean over
    its frames (axis -2 of (W, 13, 8, 139)); None when it is the global weight (plain guidance)."""
    weight = options.global_pose_guidance_weight
    if weight is None or weight == options.global_guidance_weight:
        return None
    return -2, float(weight)


def chain_windows(raw: np.ndarray, canonical_heading: bool) -> np.ndarray:
    """(W, 13, 8, 139) primitives in song coordinates from window coordinates: window k+1 starts where
    window k's closing hard cue put the dancer (turned to face the way it faces when
    ``canonical_heading``, else only shifted horizontally). Window 0 stays as it is."""
    prims = np.array(raw, dtype=np.float32, copy=True)
    for k in range(1, len(prims)):
        if canonical_heading:
            theta, offset = align_transform(prims[k, 0, HARD_GUIDE], prims[k - 1, N_HARD - 1, HARD_GUIDE])
            prims[k] = planar_transform(prims[k], theta, offset)
            continue
        shift = prims[k - 1, N_HARD - 1, :, [ROOT_X, ROOT_Z]].mean(-1) - prims[k, 0, :, [ROOT_X, ROOT_Z]].mean(-1)
        prims[k, :, :, ROOT_X] += shift[0]
        prims[k, :, :, ROOT_Z] += shift[1]
    return prims
