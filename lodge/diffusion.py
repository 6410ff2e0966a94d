"""Gaussian diffusion with x0 prediction: cosine schedule, DDPM and DDIM samplers, classifier-free
guidance, hard (inpainting) and soft (early-steps only) guidance.

The denoiser contract used everywhere in Lodge::

    denoise_fn(x_t: Tensor (B, ...), t: LongTensor (B,), drop_mask: BoolTensor (B,),
               genre_drop: BoolTensor (B,) | None = None, *, speed_drop: BoolTensor (B,)) -> x0_pred (B, ...)

``drop_mask[i]`` True means "sample i is unconditional" (the music condition replaced by the learned
null embedding); ``genre_drop[i]`` True means "sample i has the null genre" (only asked of networks
trained with genre dropout, when sampling guides on the genre); ``speed_drop[i]`` True means "sample i
is told no speed" (a keyword, only asked of speed-conditioned networks, when sampling guides on the
speed). Taking masks instead of flags lets the sampler run every branch of classifier-free guidance in
a single batched forward.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from .sampling import DEFAULT_DDIM_STEPS  # owned by lodge.sampling (the request defaults); used below

DenoiseFn = Callable[..., torch.Tensor]  # (x_t, t, drop_mask[, genre_drop]) -> x0, see above


def cosine_alphas_cumprod(num_steps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Cumulative alpha products of the cosine schedule (Nichol & Dhariwal 2021), float64, (num_steps,)."""

    def f(t: float) -> float:
        return math.cos((t / num_steps + s) / (1 + s) * math.pi / 2) ** 2

    betas = torch.tensor(
        [min(1 - f(i + 1) / f(i), max_beta) for i in range(num_steps)], dtype=torch.float64
    )
    return torch.cumprod(1.0 - betas, dim=0)


def _any_nonzero(weight: "float | torch.Tensor") -> bool:
    """Whether a guidance weight (one number or one per item) adds its term for any item."""
    return bool(torch.as_tensor(weight).ne(0).any())


def _broadcast(values: torch.Tensor, ndim: int) -> torch.Tensor:
    """(B,) -> (B, 1, ..., 1) with ``ndim`` dims in total."""
    return values.reshape(-1, *([1] * (ndim - 1)))


def _per_item(weight: "float | torch.Tensor", like: torch.Tensor) -> "float | torch.Tensor":
    """A guidance weight as a number, or (B,) broadcast to multiply a batch shaped like ``like``."""
    if not isinstance(weight, torch.Tensor):
        return float(weight)
    return _broadcast(weight.to(device=like.device, dtype=like.dtype), like.dim())




class Scheduler:
    """How the reverse process walks from x_T to x_0: which timesteps it visits and one update.

    A scheduler knows the noise schedule (``alphas_cumprod``) and nothing of the network or of
    Lodge's cue guidance, which :meth:`GaussianDiffusion.sample` applies around each update.
    """

    name = ""
    default_steps: int | None = None  # None: every step of the schedule

    def __init__(self, alphas_cumprod: torch.Tensor):
        self.alphas_cumprod = alphas_cumprod
        self.num_steps = len(alphas_cumprod)

    def timesteps(self, steps: Optional[int] = None) -> list[int]:
        """The descending timesteps visited: ``steps`` evenly spaced ones (the default when None),
        always ending at 0."""
        if steps is None:
            steps = self.default_steps or self.num_steps
        steps = int(steps)
        if not 1 <= steps <= self.num_steps:
            raise ValueError(f"steps must be between 1 and {self.num_steps}, got {steps}")
        grid = torch.linspace(self.num_steps - 1, 0, steps, dtype=torch.float64).round().long().tolist()
        return sorted(set(grid), reverse=True)

    def step(self, x0: torch.Tensor, x_t: torch.Tensor, t: int, t_prev: int,
             randn: Callable[[], torch.Tensor]) -> torch.Tensor:
        """x_{t_prev} from x_t and the predicted x0 (``randn`` draws fresh noise of x's shape)."""
        raise NotImplementedError


class DDIMScheduler(Scheduler):
    """DDIM with eta = 0: deterministic given x_T; 50 evenly spaced steps by default."""

    name = "ddim"
    default_steps = DEFAULT_DDIM_STEPS

    def step(self, x0, x_t, t, t_prev, randn):
        abar_t = float(self.alphas_cumprod[t])
        abar_p = float(self.alphas_cumprod[t_prev])
        eps = (x_t - math.sqrt(abar_t) * x0) / math.sqrt(1.0 - abar_t)
        return math.sqrt(abar_p) * x0 + math.sqrt(1.0 - abar_p) * eps


class DDPMScheduler(Scheduler):
    """Ancestral DDPM sampling from the posterior; all steps by default, or a respaced chain over
    fewer evenly spaced steps."""

    name = "ddpm"
    default_steps = None

    def step(self, x0, x_t, t, t_prev, randn):
        abar_t = float(self.alphas_cumprod[t])
        abar_p = float(self.alphas_cumprod[t_prev])
        beta = 1.0 - abar_t / abar_p  # beta of the (possibly respaced) step t_prev -> t
        c0 = math.sqrt(abar_p) * beta / (1.0 - abar_t)
        ct = math.sqrt(1.0 - beta) * (1.0 - abar_p) / (1.0 - abar_t)
        var = beta * (1.0 - abar_p) / (1.0 - abar_t)
        return c0 * x0 + ct * x_t + math.sqrt(var) * randn()


SCHEDULERS: dict[str, type[Scheduler]] = {cls.name: cls for cls in (DDIMScheduler, DDPMScheduler)}


class GaussianDiffusion:
    """Forward noising, and sampling with any :class:`Scheduler` plus Lodge's hard / soft guidance."""

    def __init__(self, num_steps: int = 1000):
        self.num_steps = int(num_steps)
        self.alphas_cumprod = cosine_alphas_cumprod(self.num_steps)  # float64
        self.betas = 1.0 - self.alphas_cumprod / torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])

    def scheduler(self, sampler: "str | Scheduler") -> Scheduler:
        """A scheduler on this noise schedule by name ("ddim", "ddpm"), or the given one unchanged."""
        if isinstance(sampler, Scheduler):
            return sampler
        if sampler not in SCHEDULERS:
            raise ValueError(f"unknown sampler {sampler!r}; expected one of {', '.join(repr(k) for k in SCHEDULERS)}")
        return SCHEDULERS[sampler](self.alphas_cumprod)

    # ----------------------------------------------------------------- forward process
    def _abar(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.alphas_cumprod.to(like.device)[t.to(like.device)].to(like.dtype)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Noise clean data to step ``t`` ((B,) long): sqrt(abar_t) x0 + sqrt(1 - abar_t) noise."""
        abar = _broadcast(self._abar(t, x0), x0.ndim)
        return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise

    def sample_timesteps(self, batch: int, generator: Optional[torch.Generator] = None, device=None) -> torch.Tensor:
        """Uniform training timesteps, (batch,) long."""
        return torch.randint(0, self.num_steps, (batch,), generator=generator, device=device)

    def timesteps(self, sampler: "str | Scheduler", steps: Optional[int]) -> list[int]:
        """The descending timesteps a sampler visits (see :meth:`Scheduler.timesteps`)."""
        return self.scheduler(sampler).timesteps(steps)

    # ----------------------------------------------------------------- reverse process
    def _guided_x0(self, denoise_fn: DenoiseFn, x: torch.Tensor, t: int, guidance_weight: float,
                   genre_guidance_weight: "float | torch.Tensor" = 0.0, mean_guidance: Optional[tuple[int, float]] = None,
                   speed_guidance_weight: float = 0.0, guidance_scale: Optional[torch.Tensor] = None
                   ) -> torch.Tensor:
        """x0 = x0_c + (w - 1) (x0_c - x0_no_music) + w_g (x0_c - x0_null_genre) + w_s (x0_c - x0_no_speed),
        every branch it needs in one forward (the conditional alone when w = 1, w_g = w_s = 0 and no
        ``mean_guidance``).

        ``mean_guidance`` = (axis, w_m): the music term's mean over ``axis`` takes the weight w_m instead
        of w, and only what varies along the axis keeps w. ``guidance_scale`` (B,): each item's (w - 1)
        times its own factor (the genre calibration of :class:`lodge.config.LodgeConfig`); with
        ``mean_guidance``, only the part that varies along the axis is scaled. ``genre_guidance_weight``
        may be one weight or (B,), each item's own (the genre branch runs when any is not 0)."""
        batch = x.shape[0]
        tt = torch.full((batch,), t, dtype=torch.long, device=x.device)
        # Branches as (drop the music, drop the genre, drop the speed); the first is the conditional prediction.
        branches = [(False, False, False)]
        if guidance_weight != 1.0 or (mean_guidance is not None and mean_guidance[1] != 1.0):
            branches.append((True, False, False))
        genre_guided = _any_nonzero(genre_guidance_weight)
        if genre_guided:
            branches.append((False, True, False))
        if speed_guidance_weight != 0.0:
            branches.append((False, False, True))
        if len(branches) == 1:
            return denoise_fn(x, tt, torch.zeros(batch, dtype=torch.bool, device=x.device))

        def mask(column: int) -> torch.Tensor:
            return torch.tensor([b[column] for b in branches], device=x.device).repeat_interleave(batch)

        n = len(branches)
        args = [torch.cat([x] * n), torch.cat([tt] * n), mask(0)]
        if genre_guided:
            args.append(mask(1))
        kwargs = {"speed_drop": mask(2)} if speed_guidance_weight != 0.0 else {}
        out = denoise_fn(*args, **kwargs).split(batch)
        cond, x0 = out[0], out[0]
        music_weight: float | torch.Tensor = guidance_weight - 1.0
        if guidance_scale is not None:
            scale = guidance_scale.to(device=x.device, dtype=cond.dtype).reshape(-1, *[1] * (x.dim() - 1))
            music_weight = music_weight * scale
        genre_weight = _per_item(genre_guidance_weight, cond)
        for (drop_music, drop_genre, _), other in zip(branches[1:], out[1:]):
            term = cond - other
            if drop_music and mean_guidance is not None:
                axis, mean_weight = mean_guidance
                mean = term.mean(dim=axis, keepdim=True)
                x0 = x0 + music_weight * (term - mean) + (mean_weight - 1.0) * mean
                continue
            if drop_music:
                x0 = x0 + music_weight * term
                continue
            x0 = x0 + (genre_weight if drop_genre else speed_guidance_weight) * term
        return x0

    @torch.no_grad()
    def sample(
        self,
        denoise_fn: DenoiseFn,
        shape: tuple[int, ...],
        *,
        sampler: "str | Scheduler" = "ddim",
        steps: Optional[int] = None,
        guidance_weight: float = 2.0,
        genre_guidance_weight: "float | torch.Tensor" = 0.0,
        mean_guidance: Optional[tuple[int, float]] = None,
        speed_guidance_weight: float = 0.0,
        guidance_scale: Optional[torch.Tensor] = None,
        hard_mask: Optional[torch.Tensor] = None,
        hard_values: Optional[torch.Tensor] = None,
        soft_mask: Optional[torch.Tensor] = None,
        soft_values: Optional[torch.Tensor] = None,
        soft_fraction: float = 1.0,
        soft_fit: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        generator: Optional[torch.Generator] = None,
        device=None,
        progress: Optional[Callable[[int, int], None]] = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Draw samples of ``shape`` from the reverse process.

        Args:
            denoise_fn: ``(x_t, t (B,), drop_mask (B,) bool) -> x0_pred``.
            sampler: a :class:`Scheduler`, or its name: "ddpm" (posterior sampling, stochastic) or "ddim"
                (eta = 0, deterministic given x_T).
            steps: number of denoising iterations (DDPM default: all ``num_steps``; DDIM default 50).
                DDPM with fewer steps samples the respaced chain over the same evenly spaced steps.
            guidance_weight: classifier-free guidance, x0 = x0_u + w (x0_c - x0_u); 1 = conditional only.
            genre_guidance_weight: classifier-free guidance on the genre, adding w_g (x0_c - x0_g) where
                x0_g is the prediction with the null genre (``denoise_fn`` must take ``genre_drop``); 0 = off.
                A (shape[0],) tensor gives each item its own weight (a batch of several genres).
            mean_guidance: optional (axis, w_m): the music guidance term's mean over ``axis`` is weighted
                w_m, what varies along the axis w (the global stage: where each primitive stands against
                how it moves; ``lodge.sampling.SamplingOptions.global_pose_guidance_weight``).
            speed_guidance_weight: classifier-free guidance on the speed, adding w_s (x0_c - x0_s) where
                x0_s is the prediction told no speed (``denoise_fn`` must take ``speed_drop``); 0 = off.
            guidance_scale: optional (shape[0],) factor on each item's music-guidance term (w - 1)
                (for a batch of several genres, each with its own calibrated guidance); None: 1.
            hard_mask, hard_values: inpainting (values without a mask are ignored). Masks are bool (or 0/1) broadcastable to ``shape``. At every
                iteration the masked entries of x_t are replaced by ``hard_values`` noised to that step and
                the masked entries of the predicted x0 by ``hard_values``; the output equals them exactly.
            soft_mask, soft_values, soft_fraction: the same replacement, but only during the first
                ``round(soft_fraction * n)`` of the sampler's own ``n`` iterations, so that a fraction
                means the same under DDPM-1000 and DDIM-K. 0 = never, 1 = every iteration.
            soft_fit: optional ``x0_pred -> soft_values``: refits the soft values to the network's latest
                x0 prediction (e.g. turns and moves each cue to where the dancer is) before each use, so
                a cue fits the motion around it instead of the motion snapping to it.
            generator: seeds x_T and all later noise (one fresh draw per iteration for the replacements,
                one for DDPM's posterior noise), so a seed gives the same result on one device.
            progress: called as ``progress(i, n)`` after iteration i (1-based) of n.

        Returns:
            The final x0 sample, (shape), ``dtype``.
        """
        if not 0.0 <= soft_fraction <= 1.0:
            raise ValueError(f"soft_fraction must be in [0, 1], got {soft_fraction}")
        # Values without a mask are ignored (nothing to impose); a mask without values is an error.
        if hard_mask is not None and hard_values is None:
            raise ValueError("hard_mask given without hard_values")
        if soft_mask is not None and soft_values is None:
            raise ValueError("soft_mask given without soft_values")
        device = torch.device(device) if device is not None else torch.device("cpu")
        shape = tuple(shape)

        def prep(mask, values):
            if mask is None:
                return None, None
            mask = torch.as_tensor(mask, device=device).bool().expand(shape)
            values = torch.as_tensor(values, device=device, dtype=dtype).expand(shape)
            return mask, values

        hard_mask, hard_values = prep(hard_mask, hard_values)
        soft_mask, soft_values = prep(soft_mask, soft_values)

        scheduler = self.scheduler(sampler)
        ts = scheduler.timesteps(steps)
        n = len(ts)
        n_soft = int(round(soft_fraction * n)) if soft_mask is not None else 0

        # Noise is drawn on the generator's own device, so a CPU generator gives the same numbers
        # whichever device the network runs on.
        noise_device = generator.device if generator is not None else device

        def randn() -> torch.Tensor:
            return torch.randn(shape, generator=generator, device=noise_device, dtype=dtype).to(device)

        x = randn()
        x0_raw: Optional[torch.Tensor] = None  # the network's latest prediction, before any replacement
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < n else -1
            tt = torch.full((shape[0],), t, dtype=torch.long, device=device)
            # Drawn every iteration whether or not it is used, so guidance does not shift the RNG stream.
            replace_noise = randn()
            use_soft = i < n_soft
            if use_soft and soft_fit is not None and x0_raw is not None:
                soft_values = soft_fit(x0_raw).to(device=device, dtype=dtype).expand(shape)
            guides = []
            if hard_mask is not None:
                guides.append((hard_mask, hard_values))
            if use_soft:
                guides.append((soft_mask, soft_values))
            for mask, values in guides:
                x = torch.where(mask, self.q_sample(values, tt, replace_noise), x)

            x0 = x0_raw = self._guided_x0(denoise_fn, x, t, guidance_weight, genre_guidance_weight,
                                          mean_guidance, speed_guidance_weight, guidance_scale).to(dtype)
            if use_soft and soft_fit is not None:
                soft_values = soft_fit(x0_raw).to(device=device, dtype=dtype).expand(shape)
                guides[-1] = (soft_mask, soft_values)
            for mask, values in guides:
                x0 = torch.where(mask, values, x0)

            x = x0 if t_prev < 0 else scheduler.step(x0, x, t, t_prev, randn)
            if progress is not None:
                progress(i + 1, n)

        if hard_mask is not None:
            x = torch.where(hard_mask, hard_values, x)
        return x
