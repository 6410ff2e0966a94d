"""Training losses of the Lodge denoisers (x0 reconstruction, FK joints, velocity, acceleration, feet).

Default weights follow EDGE (Tseng et al. 2023), whose loss Lodge builds on: reconstruction 0.636,
joint positions 0.646, joint velocity 2.964, foot contact 10.942; Lodge adds a joint acceleration term,
weighted 1.0 here. Velocities and accelerations are per frame (metres / frame), as in EDGE.

``x0_vel`` is ours: the frame-to-frame change of the x0 prediction against the data's, in normalised
units. It costs nothing (no forward kinematics) and is off by default; a network that outputs several
frames per token makes its errors token by token, and this term is what tells it that a jump between
two tokens is an error even where each token's frames are close to the data.

``x0_speed`` is ours too: how far the size of each sample's predicted motion (the root-mean-square
frame-to-frame change of its joint rotations) is from the data's, as a squared log ratio. The other
terms compare frames, so where the noise hides which way the dancer moves their best answer is a
blur that hardly moves, whatever the sample's speed; this term compares only the size, so that blur
costs (a network told the speed, lodge.models.speed, has what it needs to get the size right; in
session 14 it learnt the size mostly from the music and its input instead). Off by default.
"""
from __future__ import annotations

from typing import Optional

import torch

from ..constants import CONTACT_SLICE, FOOT_JOINTS, ROOT_X, ROOT_Z, ROT_SLICE
from ..motion import motion_to_joints

DEFAULT_WEIGHTS: dict[str, float] = {
    "x0": 0.636,
    "joints": 0.646,
    "vel": 2.964,
    "acc": 1.0,
    "foot": 10.942,
    "x0_vel": 0.0,
    "x0_speed": 0.0,
}
CONTACT_THRESHOLD = 0.95  # predicted contact label above this counts as "foot planted" (as EDGE)
SPEED_FLOOR = 1e-4  # normalised units per frame: a still sample's size, so that log ratios stay finite


def _denormalize(x: torch.Tensor, normalizer) -> torch.Tensor:
    """Accepts a lodge.motion.Normalizer, a (min, max) pair of tensors, or None (already in data units)."""
    if normalizer is None:
        return x
    if isinstance(normalizer, (tuple, list)):
        lo, hi = (torch.as_tensor(v, dtype=x.dtype, device=x.device) for v in normalizer)
        return (x + 1.0) * 0.5 * torch.clamp(hi - lo, min=1e-6) + lo
    return normalizer.denormalize(x)


def _masked_mean(err: torch.Tensor, weight: Optional[torch.Tensor]) -> torch.Tensor:
    """Mean of err (B, T, ...) with an optional per-frame weight (B, T)."""
    if weight is None:
        return err.mean()
    w = weight.to(err.dtype).reshape(*weight.shape, *([1] * (err.ndim - 2)))
    return (err * w).sum() / w.expand_as(err).sum().clamp(min=1e-8)


def _pair_weight(weight: Optional[torch.Tensor], k: int) -> Optional[torch.Tensor]:
    """Weight of a k-th order finite difference: valid only where all frames involved are."""
    if weight is None:
        return None
    w = weight
    for _ in range(k):
        w = w[:, 1:] * w[:, :-1]
    return w


def _mean_square_step(x: torch.Tensor, weight: Optional[torch.Tensor]) -> torch.Tensor:
    """(B,) mean square frame-to-frame change of each sample's joint rotations (normalised units)."""
    step = (x[:, 1:, ROT_SLICE] - x[:, :-1, ROT_SLICE]).pow(2).mean(-1)  # (B, T-1)
    w = _pair_weight(weight, 1)
    if w is None:
        return step.mean(1)
    w = w.to(step.dtype)
    return (step * w).sum(1) / w.sum(1).clamp(min=1e-8)


def motion_size(x: torch.Tensor, weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(B,) root-mean-square frame-to-frame change of each sample's joint rotations (normalised units).

    Args:
        x: (B, T, 139) normalised motion.
        weight: optional (B, T) per-frame weight; a step counts where both of its frames do.
    """
    return _mean_square_step(x, weight).sqrt()


def motion_size_loss(pred: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean over samples of log(size of pred's motion / size of target's)^2 (:func:`motion_size`, each
    floored at :data:`SPEED_FLOOR`). Samples with no weighted step (all frames masked) do not count."""
    floor = SPEED_FLOOR ** 2
    log_pred = (_mean_square_step(pred, weight) + floor).log()
    log_target = (_mean_square_step(target, weight) + floor).log()
    err = 0.25 * (log_pred - log_target) ** 2  # a quarter: the log ratio of the root-mean-squares
    valid = _pair_weight(weight, 1)
    if valid is None:
        return err.mean()
    counts = (valid.sum(1) > 0).to(err.dtype)
    return (err * counts).sum() / counts.sum().clamp(min=1.0)


def diffusion_losses(
    pred: torch.Tensor,
    target: torch.Tensor,
    normalizer=None,
    frame_weight: Optional[torch.Tensor] = None,
    weights: Optional[dict[str, float]] = None,
    fk_samples: Optional[int] = None,
    root_weight: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Named losses for a predicted x0 against the clean target.

    Args:
        pred, target: (B, T, 139) normalised motion (the network's x0 prediction and the data).
        normalizer: a lodge.motion.Normalizer (or (min, max) tensors) to go back to data units for
            forward kinematics; None if the inputs are already in data units.
        frame_weight: optional (B, T) per-frame weight (0 masks a frame out, e.g. a glitch window).
        weights: overrides of :data:`DEFAULT_WEIGHTS`.
        fk_samples: compute the forward-kinematics terms (joints, vel, acc, foot) on the first
            `fk_samples` samples only (an unbiased estimate for a shuffled batch, at a fraction of the
            cost: forward kinematics and its backward pass dominate a CPU step); None = all; 0 = none
            (those terms are then 0).
        root_weight: how much more the horizontal root's error counts in the ``x0`` and ``x0_vel``
            terms than another dimension's. Its normalised unit is metres (the root travels over
            metres), where a rotation number's moves the joints by centimetres.

    Returns:
        {"x0", "x0_vel", "x0_speed", "joints", "vel", "acc", "foot", "total"}; "total" is the weighted
        sum. ``x0_speed`` is computed only when its weight is not 0 (else it is 0).
    """
    w = dict(DEFAULT_WEIGHTS, **(weights or {}))
    losses: dict[str, torch.Tensor] = {}
    scale = 1.0
    if root_weight != 1.0:  # the horizontal root's error counts root_weight times (a mean over dims stays one)
        scale = torch.ones(pred.shape[-1], dtype=pred.dtype, device=pred.device)
        scale[[ROOT_X, ROOT_Z]] = root_weight
        scale = scale * (pred.shape[-1] / scale.sum())
    losses["x0"] = _masked_mean(scale * (pred - target) ** 2, frame_weight)
    d_pred, d_target = pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1]
    losses["x0_vel"] = _masked_mean(scale * (d_pred - d_target) ** 2, _pair_weight(frame_weight, 1))
    losses["x0_speed"] = (motion_size_loss(pred, target, frame_weight) if w["x0_speed"]
                          else torch.zeros((), dtype=pred.dtype, device=pred.device))

    if fk_samples == 0:
        for name in ("joints", "vel", "acc", "foot"):
            losses[name] = torch.zeros((), dtype=pred.dtype, device=pred.device)
        losses["total"] = sum(w[k] * losses[k] for k in ("x0", "x0_vel", "x0_speed"))
        return losses
    if fk_samples is not None:
        pred, target = pred[:fk_samples], target[:fk_samples]
        frame_weight = None if frame_weight is None else frame_weight[:fk_samples]
    pred_m = _denormalize(pred, normalizer)
    target_m = _denormalize(target, normalizer)
    pj = motion_to_joints(pred_m)  # (B, T, 22, 3)
    tj = motion_to_joints(target_m)
    losses["joints"] = _masked_mean((pj - tj) ** 2, frame_weight)

    pv, tv = pj[:, 1:] - pj[:, :-1], tj[:, 1:] - tj[:, :-1]
    losses["vel"] = _masked_mean((pv - tv) ** 2, _pair_weight(frame_weight, 1))
    pa, ta = pv[:, 1:] - pv[:, :-1], tv[:, 1:] - tv[:, :-1]
    losses["acc"] = _masked_mean((pa - ta) ** 2, _pair_weight(frame_weight, 2))

    # Foot contact: where the *predicted* label says the foot is planted, its horizontal velocity and
    # any downward velocity should vanish (upward motion is lift-off, not skating).
    contact = (pred_m[:, :-1, CONTACT_SLICE] > CONTACT_THRESHOLD).to(pred.dtype).detach()  # (B, T-1, 4)
    foot_v = pv[:, :, list(FOOT_JOINTS)]  # (B, T-1, 4, 3)
    bad = torch.stack([foot_v[..., 0], torch.clamp(foot_v[..., 1], max=0.0), foot_v[..., 2]], dim=-1)
    losses["foot"] = _masked_mean((bad * contact[..., None]) ** 2, _pair_weight(frame_weight, 1))

    losses["total"] = sum(w[k] * losses[k] for k in DEFAULT_WEIGHTS)
    return losses


def primitive_step_loss(pred: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """How far the step from each primitive's mean pose to the next one's is from the data's.

    The global network's primitives can each be plausible and still not follow one another: on the
    party songs, sampled primitives of the 11-hour run lay 1.6 (guidance 1) to 2.6 (guidance 4) times
    farther apart in joint positions than the real dance at the same frames, and the local network
    rushed between them at 2-4 times real speed. This term is the ``x0_vel`` of the primitive sequence:
    it compares steps, so it rewards errors that the primitives share. Mean poses are unchanged by the
    primitive motion gain (frames are scaled about the mean), so it reads the same in that space.

    Args:
        pred, target: (B, P, L, D) normalised primitives (prediction and data), in order of time.
        weight: optional (B, P) per-primitive weight (0 masks a primitive out).
    """
    step_pred = pred.mean(2).diff(dim=1)
    step_target = target.mean(2).diff(dim=1)
    return _masked_mean((step_pred - step_target) ** 2, _pair_weight(weight, 1))
