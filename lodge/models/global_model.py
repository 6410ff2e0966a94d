"""Stage 1: the global diffusion network, which denoises the 13 characteristic dance primitives of a
1024-frame window given its music and genre.

Each primitive frame is a token positioned (rotary) at the window frame where it will be placed, and
the music is downsampled by a strided convolution into tokens positioned at their own frames, so
attention sees the real time distance between a primitive and any music moment (the official code
attends music frame i from primitive i, which has no notion of time).
"""
from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from ..config import LodgeConfig, NetConfig
from ..constants import MOTION_DIM, MUSIC_DIM, PRIM_LEN
from .component import ComponentMixin
from .genre import GenreConditionMixin
from .speed import SpeedConditionMixin
from .layers import (
    DecoderBlock, MusicEncoder, SkipPrecondition, TimeEmbedding, patchify, skip_precondition, unpatch_tokens,
    widen_for_overlap,
)

MUSIC_STRIDE = 4  # default: 1024 music frames -> 256 tokens


class GlobalDenoiser(ComponentMixin, GenreConditionMixin, SpeedConditionMixin, nn.Module):
    """Genre-conditioned transformer over primitive frames with time-aware cross-attention to music.

    Args:
        net: the network's sizes (a checkpoint's ``LodgeConfig.global_``).
        n_genres: number of genres it is conditioned on.
        diffusion_steps: the diffusion's number of steps (sets the skip preconditioning's schedule).
        prim_len: frames of a characteristic primitive (a multiple of ``net.patch``).
    """

    config_fields = ("n_genres", "diffusion_steps", "prim_len")
    # Checkpoints written before this network stopped storing the (unused) motion normaliser hold these.
    legacy_keys = ("normalizer_min", "normalizer_max")

    def __init__(self, net: NetConfig, n_genres: int, diffusion_steps: int = 1000, prim_len: int = PRIM_LEN):
        super().__init__()
        self.net, self.n_genres = replace(net), int(n_genres)
        self.diffusion_steps, self.prim_len = int(diffusion_steps), int(prim_len)
        d = net.d_model
        if prim_len % net.patch:
            raise ValueError(f"a {prim_len}-frame primitive does not split into tokens of {net.patch} frames")
        self.patch = net.patch
        self.motion_in = nn.Linear(MOTION_DIM * net.patch, d)
        self.kind = nn.Embedding(2, d)  # 0 = hard, 1 = soft
        self.offset = nn.Embedding(prim_len // net.patch, d)  # token index inside the primitive
        self.music = MusicEncoder(
            MUSIC_DIM, d, net.n_heads, net.ff_dim, net.music_layers, net.dropout, stride=net.music_stride or MUSIC_STRIDE
        )
        self.time = TimeEmbedding(d)
        self.genre = nn.Embedding(n_genres, d)
        nn.init.normal_(self.genre.weight, std=0.5)
        self.genre_in = nn.Linear(d, d)  # the genre also enters every token, not only through FiLM
        self.blocks = nn.ModuleList(
            DecoderBlock(d, net.n_heads, net.ff_dim, net.dropout) for _ in range(net.n_layers)
        )
        self.norm_out = nn.LayerNorm(d)
        self.motion_out = nn.Linear(d, MOTION_DIM * net.patch * (2 if net.overlap_unpatch else 1))
        self.precondition = skip_precondition(diffusion_steps, d, MOTION_DIM * net.patch, net.skip_input)
        self.latent_skip = SkipPrecondition(diffusion_steps) if net.latent_skip else None
        self._init_null_genre(net.null_genre)
        self._init_speed_condition(net.speed_condition, d)

    @classmethod
    def from_lodge_config(cls, cfg: LodgeConfig) -> "GlobalDenoiser":
        """The global network of a checkpoint's config (freshly initialised)."""
        return cls(cfg.global_, cfg.n_genres, cfg.diffusion_steps, cfg.prim_len)

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        music: torch.Tensor,
        genre: torch.Tensor,
        prim_frames: torch.Tensor,
        prim_kinds: torch.Tensor,
        drop_mask: torch.Tensor | None = None,
        genre_drop: torch.Tensor | None = None,
        speed: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict normalised x0 primitives.

        Args:
            x_t: (B, P, L, 139) noisy normalised primitives (P = 13, L = 8).
            t: (B,) long diffusion steps.
            music: (B, N, 35) normalised music of the window (N = 1024).
            genre: (B,) long genre indices.
            prim_frames: (B, P) long window frame of each primitive's first frame (may be < 0 or
                > N - L for the hard cues straddling the window ends).
            prim_kinds: (B, P) long, 0 = hard, 1 = soft.
            drop_mask: (B,) bool, True = drop the music condition.
            genre_drop: (B,) bool, True = the null genre instead of ``genre`` (networks with ``null_genre``).
            speed: (B,) how fast the dance moves (m/s; NaN or None: not said), for networks with
                ``speed_condition``; ignored by the others.

        Returns:
            (B, P, L, 139).
        """
        b, p, length, dim = x_t.shape
        n_tok = length // self.patch
        offsets = torch.arange(n_tok, device=x_t.device)
        centres = offsets * self.patch + (self.patch - 1) / 2.0
        pos = (prim_frames.to(x_t.device)[:, :, None] + centres).reshape(b, p * n_tok).float()
        tokens, music_pos, pooled = self.music(music, drop_mask)
        genre_emb = self.genre_embedding(genre, genre_drop)
        genre_emb = genre_emb + self.speed_embedding(speed, genre_emb)
        cond = self.time(t) + pooled + genre_emb
        h = (
            self.motion_in(patchify(x_t, self.patch))
            + self.kind(prim_kinds.to(x_t.device))[:, :, None]
            + self.offset(offsets)[None, None]
        ).reshape(b, p * n_tok, -1)
        h = h + self.genre_in(genre_emb)[:, None]
        for block in self.blocks:
            h = block(h, pos, tokens, music_pos, cond)
        h = self.norm_out(h)
        if self.latent_skip is not None:
            seen = F.linear(patchify(x_t, self.patch), self.motion_in.weight).reshape(b, p * n_tok, -1)
            h = self.latent_skip(h, seen, t)
        out = unpatch_tokens(self.motion_out(h).reshape(b, p, n_tok, -1), self.patch, self.net.overlap_unpatch)
        return out if self.precondition is None else self.precondition(out, x_t, t)

    def add_overlap_unpatch(self) -> None:
        """Switch a trained network with plain un-patching to ``overlap_unpatch``, keeping what it learnt:
        each token's own frames come out as before, and the half token it now also covers on either side
        (within its primitive) starts as a copy of its edge frame. Training goes on from there."""
        if self.net.overlap_unpatch:
            return
        self.net.overlap_unpatch = True
        self.net.__post_init__()  # the same check as a config that asks for it
        self.motion_out = widen_for_overlap(self.motion_out, self.patch, MOTION_DIM)
