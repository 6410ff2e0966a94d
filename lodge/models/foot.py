"""The Foot Refine Block: forward kinematics of the predicted motion -> foot tokens -> a correction.

Unlike the official code (whose block collapses into two linear layers that discard the foot input),
the foot positions, velocities and contact scores computed here are embedded as tokens that the
motion tokens cross-attend to; the correction is a function of them.
"""
from __future__ import annotations

import torch
from torch import nn

from ..constants import CONTACT_DIM, FOOT_JOINTS, FPS, MOTION_DIM
from ..motion import unpack_motion
from ..skeleton import forward_kinematics
from .layers import FeedForward, RotaryAttention, patch_positions, patchify, unpatch_tokens, widen_for_overlap

FOOT_FEATURE_DIM = len(FOOT_JOINTS) * 3 * 2 + CONTACT_DIM  # positions, velocities, contact scores = 28
# Contact labels are 0/1 after denormalising; this slope makes sigmoid(.) close to 0/1 at the labels.
_CONTACT_SLOPE = 8.0


def denormalize(x: torch.Tensor, data_min: torch.Tensor, data_max: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """[-1, 1] -> data units with per-dimension min/max (same formula as lodge.motion.Normalizer)."""
    scale = torch.clamp(data_max - data_min, min=eps)
    return (x + 1.0) * 0.5 * scale + data_min


def foot_features(motion: torch.Tensor) -> torch.Tensor:
    """(B, T, 139) motion in data units -> (B, T, 28) foot features, differentiable.

    Per frame: the 4 foot joints (SMPL 7, 8, 10, 11) relative to the pelvis horizontally (absolute
    height), their velocities in m/s (first frame copies the second), and contact scores in (0, 1).
    """
    contacts, transl, rotmats = unpack_motion(motion)
    joints, _ = forward_kinematics(rotmats, transl)
    feet = joints[..., list(FOOT_JOINTS), :]
    pelvis = joints[..., :1, :]
    rel = feet - pelvis * feet.new_tensor([1.0, 0.0, 1.0])
    if feet.shape[-3] > 1:
        vel = (feet[..., 1:, :, :] - feet[..., :-1, :, :]) * FPS
        vel = torch.cat([vel[..., :1, :, :], vel], dim=-3)
    else:
        vel = torch.zeros_like(feet)
    score = torch.sigmoid(_CONTACT_SLOPE * (contacts - 0.5))
    lead = motion.shape[:-1]
    return torch.cat([rel.reshape(*lead, -1), vel.reshape(*lead, -1), score], dim=-1)


class FootRefineBlock(nn.Module):
    """Motion tokens cross-attend to FK foot tokens and predict an additive x0 correction.

    With ``patch`` frames per token, the foot features of a token's frames are embedded together and
    the correction is un-patched as in the denoiser itself: linearly, or with ``overlap`` cross-faded
    between neighbouring tokens (:func:`lodge.models.layers.overlap_unpatchify`).
    """

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float = 0.0, patch: int = 1,
                 overlap: bool = False):
        super().__init__()
        self.patch = patch
        self.overlap = overlap
        self.embed = nn.Sequential(
            nn.Linear(FOOT_FEATURE_DIM * patch, d_model), nn.GELU(), nn.Linear(d_model, d_model)
        )
        self.feat_norm = nn.LayerNorm(FOOT_FEATURE_DIM)
        self.norm_q = nn.LayerNorm(d_model)
        self.norm_kv = nn.LayerNorm(d_model)
        self.attn = RotaryAttention(d_model, n_heads, dropout)
        self.norm_ff = nn.LayerNorm(d_model)
        self.ff = FeedForward(d_model, ff_dim, dropout)
        self.out = nn.Linear(d_model, MOTION_DIM * patch * (2 if overlap else 1))
        # Small (not zero) output init: the correction starts near 0 yet depends on the feet from step 0.
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()

    def correction_from_features(self, hidden: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """hidden (B, T / patch, D) motion tokens, feats (B, T, 28) foot features -> (B, T, 139) correction."""
        pos = patch_positions(feats.shape[1], self.patch, device=hidden.device)
        foot_tokens = self.norm_kv(self.embed(patchify(self.feat_norm(feats), self.patch)))
        h = hidden + self.attn(self.norm_q(hidden), foot_tokens, pos, pos)
        h = h + self.ff(self.norm_ff(h))
        return unpatch_tokens(self.out(h), self.patch, self.overlap)

    def add_overlap(self) -> None:
        """Switch to overlap-add un-patching, keeping the trained output layer
        (:func:`lodge.models.layers.widen_for_overlap`)."""
        if not self.overlap:
            self.out = widen_for_overlap(self.out, self.patch, MOTION_DIM)
            self.overlap = True

    def forward(
        self, hidden: torch.Tensor, x0_norm: torch.Tensor, data_min: torch.Tensor, data_max: torch.Tensor
    ) -> torch.Tensor:
        """Correction (B, T, 139) in normalised units for the normalised prediction x0_norm."""
        feats = foot_features(denormalize(x0_norm, data_min, data_max))
        return self.correction_from_features(hidden, feats)
