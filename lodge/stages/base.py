"""What every stage shares: the models it samples with, progress reporting, resolved options."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import torch

from ..checks import InputError
from ..config import LodgeConfig
from ..diffusion import GaussianDiffusion
from ..motion import Normalizer
from ..sampling import SamplingOptions, sampling_options

# A progress callback gets the stage name ("music", "global", "local") and the fraction done in it.
ProgressFn = Callable[[str, float], None]


class StageModels(Protocol):
    """The loaded networks and what goes with them (a :class:`lodge.pipeline.LodgePipeline` is one).

    Stages read these attributes when they run, so replacing one (a test's stand-in network, a
    config switch) takes effect at once.
    """

    device: str
    cfg: LodgeConfig
    normalizer: Normalizer
    diffusion: GaussianDiffusion
    local: torch.nn.Module
    global_: torch.nn.Module
    music_mean: np.ndarray
    music_std: np.ndarray


def resolve_options(models: StageModels, options: SamplingOptions | None = None, **overrides: Any) -> SamplingOptions:
    """``options`` (with ``overrides``) with the checkpoint's defaults filled in: its soft-cue strength,
    guidance weights and the sampler's step count (the genre guidance stays None when it is each
    genre's own: :func:`genre_guidance`)."""
    resolved = sampling_options(options, **overrides).resolved(
        float(models.cfg.soft_fraction), float(models.cfg.guidance_weight), models.cfg.diffusion_steps,
        models.cfg.global_guidance_weight, models.cfg.global_pose_guidance_weight, models.cfg.speed_guidance_weight)
    if resolved.genre_guidance_weight and not models.cfg.has_null_genre:
        raise InputError("This model was trained without genre dropout, so it cannot be guided on the genre: "
                         "set the genre guidance to 0.", field="genre_guidance_weight")
    if resolved.speed_guidance_weight and not models.cfg.has_speed_condition:
        raise InputError("This model's networks are not told a speed, so it cannot be guided on the speed: "
                         "set the speed guidance to 0.", field="speed_guidance_weight")
    return resolved


@dataclass
class StageProgress:
    """Progress reporting for one stage, as a per-step callback for the sampler."""

    name: str
    progress: ProgressFn | None

    def __call__(self, step: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.name, min(1.0, step / max(total, 1)))


def genre_guidance(models: StageModels, genres, options: SamplingOptions, stage: str) -> float | torch.Tensor:
    """A stage's ("global" or "local") sampler genre guidance weight for (N,) genre indices: the
    request's one weight (both stages), or when it leaves it to the checkpoint (None), each genre's own
    for the stage (:meth:`lodge.config.LodgeConfig.genre_guidance`) as (N,), or one number when they are
    all the same."""
    if options.genre_guidance_weight is not None:
        return float(options.genre_guidance_weight)
    weights = [models.cfg.genre_guidance(int(g), stage) for g in np.asarray(genres).reshape(-1)]
    if len(set(weights)) <= 1:
        return weights[0] if weights else 0.0
    return torch.tensor(weights, dtype=torch.float32, device=models.device)


def speed_condition(models: StageModels, network: torch.nn.Module, genres, options: SamplingOptions,
                    factors: np.ndarray | None = None) -> tuple[Callable[[int, torch.Tensor | None], dict], float]:
    """What a stage's denoiser adds to its network's call for the speed, and the stage's speed guidance
    weight (0 for a network without the speed condition). ``factors`` ((N,), optional) multiply each
    item's told speed (the local stage's per-segment shading, :mod:`lodge.stages.segment_speed`).

    Returns ``(speed_kwargs, weight)``: ``speed_kwargs(n, speed_drop)`` is ``{"speed": (n * N,)}`` for a
    batch of n guidance branches of the N items (NaN where ``speed_drop``), or ``{}``."""
    speed = stage_speeds(models, network, genres, options.energy)
    if speed is None:
        return (lambda n, speed_drop=None: {}), 0.0
    if factors is not None:
        speed = speed * torch.as_tensor(np.asarray(factors, np.float32), device=speed.device)

    def speed_kwargs(n: int, speed_drop: torch.Tensor | None = None) -> dict:
        told = speed.repeat(n)
        if speed_drop is not None:
            told = torch.where(speed_drop.to(told.device), torch.full_like(told, float("nan")), told)
        return {"speed": told}

    return speed_kwargs, float(options.speed_guidance_weight or 0.0)


def stage_speeds(models: StageModels, network: torch.nn.Module, genres, energy: float) -> torch.Tensor | None:
    """(N,) the speed (m/s) a speed-conditioned ``network`` is told for each of (N,) genre indices: the
    genre's calibrated typical speed (:meth:`lodge.config.LodgeConfig.told_speed`) times ``energy``; None
    for networks without the speed condition."""
    if getattr(network, "speed_in", None) is None:
        return None
    stage = "local" if network is models.local else "global"
    speeds = [models.cfg.told_speed(int(g), stage) * float(energy) for g in np.asarray(genres).reshape(-1)]
    return torch.tensor(speeds, dtype=torch.float32, device=models.device)
