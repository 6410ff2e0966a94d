"""Train the local network to meet its cues when its own frames beside them disagree.

At sampling the cue frames are imposed (inpainting) while the frames around them follow the network's
own trajectory, which was set while the prediction was still a blur: next to a cue, the noisy motion
the network sees can show a pose the cue does not continue. In training the noisy motion always comes
from the same real dance as the cues, so the network never learns what to do then; at low noise it
trusts the noisy frames, and the body jumps at the cue's edge and hurries towards it.

:func:`mismatch_near_cues` makes that case in training: the frames beside each cue are replaced by the
same dance's frames ``shift`` frames away, in full next to the cue and fading out (cosine) over
``reach`` frames, so the noisy input disagrees with the cue there as it does at sampling. The
target stays the real dance, which meets its cue.
"""
from __future__ import annotations

import torch

MISMATCH_REACH = 24  # frames from a cue over which the swapped-in pose fades out (0.8 s)
MISMATCH_SHIFTS = (8, 32)  # how far away (frames, either way) the swapped-in pose comes from


def distance_to_cues(cue_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) bool cue frames -> (B, T) long distance in frames to the nearest cue frame (0 on one;
    T for a sample without cues)."""
    b, t = cue_mask.shape
    pos = torch.arange(t, device=cue_mask.device)
    gap = (pos[None, :, None] - pos[None, None, :]).abs().expand(b, t, t)
    far = torch.full_like(gap, t)
    return torch.where(cue_mask[:, None, :], gap, far).min(-1).values


def mismatch_near_cues(motion: torch.Tensor, cue_mask: torch.Tensor, shifts: torch.Tensor,
                       reach: int = MISMATCH_REACH) -> torch.Tensor:
    """The motion the noisy input is made from: beside each cue, the same dance ``shift`` frames away.

    Args:
        motion: (B, T, D) normalised real motion (the target; unchanged).
        cue_mask: (B, T) bool cue frames (kept as they are).
        shifts: (B,) long frame offset per sample (0 leaves a sample as it is).
        reach: frames over which the swapped-in pose fades out into the sample's own frames.

    Returns:
        (B, T, D): ``motion`` where the weight is 0 (cue frames, frames ``reach`` or more from every
        cue, samples without cues or with shift 0), the frames ``shift`` away (clamped to the window)
        where it is 1 (next to a cue), a cosine blend between.
    """
    b, t, _ = motion.shape
    dist = distance_to_cues(cue_mask).to(motion.dtype)
    u = ((dist - 1.0) / max(reach, 1)).clamp(0.0, 1.0)
    weight = torch.where(dist >= 1, 0.5 * (1.0 + torch.cos(torch.pi * u)), torch.zeros_like(u))
    weight = weight * (shifts != 0)[:, None]
    src = (torch.arange(t, device=motion.device)[None] + shifts[:, None]).clamp(0, t - 1)
    moved = torch.gather(motion, 1, src[..., None].expand_as(motion))
    return motion + weight[..., None] * (moved - motion)


def random_shifts(batch: int, prob: float, generator, device=None) -> torch.Tensor:
    """(B,) long: for a share ``prob`` of the samples a shift of 8-32 frames either way, else 0.

    ``generator`` is a NumPy random generator (the trainer's)."""
    lo, hi = MISMATCH_SHIFTS
    on = generator.random(batch) < prob
    size = generator.integers(lo, hi + 1, batch)
    sign = generator.choice((-1, 1), batch)
    return torch.as_tensor(on * size * sign, dtype=torch.long, device=device)
