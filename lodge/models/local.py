"""Stage 2: the local diffusion network, which denoises one 256-frame segment given its music."""
from __future__ import annotations

from dataclasses import replace
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import LodgeConfig, NetConfig
from ..constants import MOTION_DIM, MUSIC_DIM, ROOT_X, ROOT_Z
from ..motion import Normalizer
from .component import ComponentMixin
from .genre import GenreConditionMixin
from .speed import SpeedConditionMixin
from .foot import FootRefineBlock
from .layers import (
    DecoderBlock, MusicEncoder, SkipPrecondition, TimeEmbedding, patch_positions, patchify, skip_precondition,
    unpatch_tokens, widen_for_overlap,
)


def as_float_tensor(values) -> torch.Tensor:
    """NumPy array / list / tensor -> float32 tensor (a copy)."""
    return torch.as_tensor(np.asarray(values, dtype=np.float32)).clone()


def register_normalizer(module: nn.Module, normalizer_min=None, normalizer_max=None) -> None:
    """Store the motion normaliser's range as buffers (identity range [-1, 1] when not given)."""
    lo = as_float_tensor(normalizer_min) if normalizer_min is not None else -torch.ones(MOTION_DIM)
    hi = as_float_tensor(normalizer_max) if normalizer_max is not None else torch.ones(MOTION_DIM)
    module.register_buffer("normalizer_min", lo)
    module.register_buffer("normalizer_max", hi)


class LocalDenoiser(ComponentMixin, GenreConditionMixin, SpeedConditionMixin, nn.Module):
    """Transformer decoder predicting clean motion x0 from noisy motion, music and genre.

    Self-attention with rotary positions over frames, cross-attention to the encoded music tokens,
    FiLM from (diffusion time + pooled music + genre) in every block, then the Foot Refine Block.
    With ``patch`` > 1 each token holds that many consecutive frames (embedded and un-patched linearly,
    or with ``overlap_unpatch`` cross-faded with its neighbours' outputs) and the music is downsampled
    to the same token rate.
    The motion normaliser is stored as buffers so that the foot block can run forward kinematics on
    denormalised motion (and so that it travels with the weights).

    Args:
        net: the network's sizes (a checkpoint's ``LodgeConfig.local``).
        n_genres: number of genres it is conditioned on.
        diffusion_steps: the diffusion's number of steps (sets the skip preconditioning's schedule).
        normalizer_min, normalizer_max: (139,) motion normaliser range (identity [-1, 1] when not given;
            :meth:`from_pretrained` loads them with the weights).
    """

    config_fields = ("n_genres", "diffusion_steps")
    float32_buffers = ("normalizer_min", "normalizer_max")

    def __init__(self, net: NetConfig, n_genres: int, diffusion_steps: int = 1000,
                 normalizer_min=None, normalizer_max=None):
        super().__init__()
        self.net, self.n_genres, self.diffusion_steps = replace(net), int(n_genres), int(diffusion_steps)
        d = net.d_model
        register_normalizer(self, normalizer_min, normalizer_max)
        self.patch = net.patch
        self.cue_input = net.cue_input
        # Per frame: the noisy motion, and with cue input also the cue values (0 off the cues) and the cue mask.
        frame_in = MOTION_DIM * 2 + 1 if net.cue_input else MOTION_DIM
        self.motion_in = nn.Linear(frame_in * net.patch, d)
        music_stride = net.music_stride or net.patch
        self.music = MusicEncoder(MUSIC_DIM, d, net.n_heads, net.ff_dim, net.music_layers, net.dropout, stride=music_stride)
        self.time = TimeEmbedding(d)
        self.genre = nn.Embedding(n_genres, d)
        nn.init.normal_(self.genre.weight, std=0.5)
        self.blocks = nn.ModuleList(
            DecoderBlock(d, net.n_heads, net.ff_dim, net.dropout) for _ in range(net.n_layers)
        )
        self.norm_out = nn.LayerNorm(d)
        self.motion_out = nn.Linear(d, MOTION_DIM * net.patch * (2 if net.overlap_unpatch else 1))
        self.foot = FootRefineBlock(d, net.n_heads, net.ff_dim, net.dropout, patch=net.patch, overlap=net.overlap_unpatch)
        self.precondition = skip_precondition(diffusion_steps, d, MOTION_DIM * net.patch, net.skip_input)
        self.latent_skip = SkipPrecondition(diffusion_steps) if net.latent_skip else None
        self._init_null_genre(net.null_genre)
        self._init_speed_condition(net.speed_condition, d)

    @classmethod
    def from_lodge_config(cls, cfg: LodgeConfig, normalizer_min=None, normalizer_max=None) -> "LocalDenoiser":
        """The local network of a checkpoint's config (freshly initialised)."""
        return cls(cfg.local, cfg.n_genres, cfg.diffusion_steps, normalizer_min, normalizer_max)

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        music: torch.Tensor,
        genre: torch.Tensor,
        drop_mask: torch.Tensor | None = None,
        return_parts: bool = False,
        cue_values: torch.Tensor | None = None,
        cue_mask: torch.Tensor | None = None,
        genre_drop: torch.Tensor | None = None,
        speed: torch.Tensor | None = None,
    ) -> Union[torch.Tensor, dict[str, torch.Tensor]]:
        """Predict normalised x0.

        Args:
            x_t: (B, T, 139) noisy normalised motion (T is usually 256; any multiple of the patch works).
            t: (B,) long diffusion steps.
            music: (B, T, 35) music features, already normalised by the caller.
            genre: (B,) long genre indices.
            drop_mask: (B,) bool, True = drop the music condition (classifier-free guidance).
            genre_drop: (B,) bool, True = the null genre instead of ``genre`` (networks with ``null_genre``).
            speed: (B,) how fast the dance moves (m/s; NaN or None: not said), for networks with
                ``speed_condition``; ignored by the others.
            return_parts: also return the coarse prediction and the foot correction.
            cue_values: (B, T, 139) clean normalised motion at the cue frames (anything elsewhere), for
                networks with ``cue_input``; ignored by the others.
            cue_mask: (B, T) bool, True at cue frames. Without it (or the values) no frame is a cue.

        Returns:
            (B, T, 139) x0 prediction, or a dict {"x0", "x0_coarse", "correction"}.
        """
        frames = x_t.shape[1]
        if music.shape[1] != frames:
            raise ValueError(f"music has {music.shape[1]} frames, motion {frames}")
        pos = patch_positions(frames, self.patch, device=x_t.device)
        tokens, music_pos, pooled = self.music(music, drop_mask)
        genre_emb = self.genre_embedding(genre, genre_drop)
        cond = self.time(t) + pooled + genre_emb + self.speed_embedding(speed, genre_emb)
        h = self.motion_in(patchify(self._with_cues(x_t, cue_values, cue_mask), self.patch))
        for block in self.blocks:
            h = block(h, pos, tokens, music_pos, cond)
        h = self.norm_out(h)
        latent = h
        if self.latent_skip is not None:
            seen = F.linear(patchify(self._with_cues(x_t, None, None), self.patch), self.motion_in.weight)
            latent = self.latent_skip(h, seen, t)
        coarse = unpatch_tokens(self.motion_out(latent), self.patch, self.net.overlap_unpatch)
        if self.precondition is not None:
            coarse = self.precondition(coarse, x_t, t)
        correction = self.foot(h, coarse, self.normalizer_min, self.normalizer_max)
        x0 = coarse + correction
        if return_parts:
            return {"x0": x0, "x0_coarse": coarse, "correction": correction}
        return x0

    def add_overlap_unpatch(self) -> None:
        """Switch a trained network with plain un-patching to ``overlap_unpatch`` (its output layer and
        the Foot Refine Block's), keeping what it learnt: each token's own frames come out as before,
        and the half token it now also covers on either side starts as a copy of its edge frame (so at
        first a seam is cross-faded between the two tokens' edge frames). Training goes on from there."""
        if self.net.overlap_unpatch:
            return
        self.net.overlap_unpatch = True
        self.net.__post_init__()  # the same check as a config that asks for it
        self.motion_out = widen_for_overlap(self.motion_out, self.patch, MOTION_DIM)
        self.foot.add_overlap()

    def set_root_range(self, root_range: float | None, normalizer: Normalizer) -> None:
        """Denoise in a space whose horizontal root spans ``root_range`` metres either side
        (:attr:`NetConfig.root_range`; None: the motion ``normalizer``'s own range), keeping what the
        network computes: the input layer's root columns (noisy motion and cue values) are divided by
        the root's gain and the output layers' root rows multiplied by it, so that motion whose root is
        given in the new space comes out the same, in the new space. Only the noise is new: the same
        diffusion noise now hides the root that much less, which training from here on learns."""
        old, new = normalizer.for_network(self.net), normalizer.with_root_range(root_range)
        dims = [ROOT_X, ROOT_Z]
        gain = torch.as_tensor(old._scale()[dims] / new._scale()[dims], dtype=torch.float32)  # new = gain * old
        frame_in = self.motion_in.in_features // self.patch
        in_cols = [k * frame_in + d for k in range(self.patch) for d in dims]
        gains_in = gain.repeat(self.patch)
        if self.cue_input:
            in_cols += [k * frame_in + MOTION_DIM + d for k in range(self.patch) for d in dims]
            gains_in = gains_in.repeat(2)
        with torch.no_grad():
            self.motion_in.weight[:, in_cols] /= gains_in.to(self.motion_in.weight)
            for layer in (self.motion_out, self.foot.out):
                frames = layer.out_features // MOTION_DIM
                rows = [k * MOTION_DIM + d for k in range(frames) for d in dims]
                g = gain.repeat(frames).to(layer.weight)
                layer.weight[rows] *= g[:, None]
                layer.bias[rows] *= g
            self.normalizer_min.copy_(torch.as_tensor(new.data_min))
            self.normalizer_max.copy_(torch.as_tensor(new.data_max))
        self.net.root_range = None if root_range is None else float(root_range)
        self.net.__post_init__()

    def _with_cues(self, x_t: torch.Tensor, cue_values: torch.Tensor | None, cue_mask: torch.Tensor | None) -> torch.Tensor:
        """The per-frame input: x_t alone, or [x_t, cue values masked, mask] for cue-input networks."""
        if not self.cue_input:
            return x_t
        if cue_values is None or cue_mask is None:
            return torch.cat([x_t, torch.zeros_like(x_t), x_t.new_zeros(*x_t.shape[:-1], 1)], dim=-1)
        mask = cue_mask.to(device=x_t.device, dtype=x_t.dtype)[..., None]
        return torch.cat([x_t, cue_values.to(x_t.dtype) * mask, mask], dim=-1)
