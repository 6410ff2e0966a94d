"""Shared building blocks: rotary attention on arbitrary frame positions, FiLM, timestep embedding,
the music encoder and the FiLM-conditioned transformer block."""
from __future__ import annotations

import math
import warnings
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..diffusion import cosine_alphas_cumprod


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (B,) timesteps (or any positions) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class Rotary(nn.Module):
    """Rotary position embedding (RoFormer) evaluated at real-valued frame positions.

    Because q.k after rotation depends only on the position difference, attention between tokens
    placed at arbitrary frames (primitives at their window frames, music tokens at theirs) sees the
    time distance between them.
    """

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def angles(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, L) or (L,) positions -> cos, sin of shape (B or 1, 1, L, head_dim / 2)."""
        if positions.ndim == 1:
            positions = positions[None]
        ang = positions.float()[..., None] * self.inv_freq
        return ang.cos()[:, None], ang.sin()[:, None]

    @staticmethod
    def apply(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Rotate (B, H, L, Dh) by the angles from :meth:`angles` (pairs of halves)."""
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class RotaryAttention(nn.Module):
    """Multi-head attention whose queries and keys are rotated by their frame positions."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.rotary = Rotary(self.head_dim)
        self.dropout = dropout

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.n_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor,
        x_pos: torch.Tensor,
        ctx_pos: torch.Tensor,
    ) -> torch.Tensor:
        """x (B, L, D) attends to context (B, S, D); positions (B, L) / (B, S) or (L,) / (S,) in frames."""
        q = self._split(self.q(x))
        k, v = (self._split(z) for z in self.kv(context).chunk(2, dim=-1))
        cq, sq = self.rotary.angles(x_pos)
        ck, sk = self.rotary.angles(ctx_pos)
        q = Rotary.apply(q, cq, sq)
        k = Rotary.apply(k, ck, sk)
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        b, _, n, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Sequential):
    """Two-layer GELU MLP."""

    def __init__(self, d_model: int, ff_dim: int, dropout: float = 0.0):
        super().__init__(nn.Linear(d_model, ff_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_dim, d_model))


class FiLM(nn.Module):
    """Feature-wise affine modulation from a conditioning vector: x * (1 + scale) + shift.

    Initialised close to (not exactly at) the identity: with an exact-zero init an untrained model
    would ignore its genre and diffusion step entirely.
    """

    def __init__(self, cond_dim: int, d_model: int, n_mods: int):
        super().__init__()
        self.n_mods = n_mods
        self.proj = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 2 * d_model * n_mods))
        nn.init.normal_(self.proj[1].weight, std=0.02)
        nn.init.zeros_(self.proj[1].bias)

    def forward(self, cond: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(B, C) -> n_mods pairs (scale, shift), each (B, 1, D)."""
        chunks = self.proj(cond)[:, None].chunk(2 * self.n_mods, dim=-1)
        return [(chunks[2 * i], chunks[2 * i + 1]) for i in range(self.n_mods)]


def modulate(x: torch.Tensor, mod: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Apply one FiLM (scale, shift) pair."""
    scale, shift = mod
    return x * (1.0 + scale) + shift


class EncoderBlock(nn.Module):
    """Pre-norm self-attention + MLP block with rotary positions (the music encoder)."""

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = RotaryAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = FeedForward(d_model, ff_dim, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """x (B, L, D) at frame positions pos."""
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h, pos, pos))
        return x + self.drop(self.ff(self.norm2(x)))


class DecoderBlock(nn.Module):
    """Self-attention, cross-attention to the music and an MLP, each pre-normed and FiLM-modulated."""

    def __init__(self, d_model: int, n_heads: int, ff_dim: int, dropout: float):
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(d_model, elementwise_affine=False) for _ in range(3))
        self.self_attn = RotaryAttention(d_model, n_heads, dropout)
        self.cross_attn = RotaryAttention(d_model, n_heads, dropout)
        self.ff = FeedForward(d_model, ff_dim, dropout)
        self.film = FiLM(d_model, d_model, 3)
        self.drop = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        pos: torch.Tensor,
        music: torch.Tensor,
        music_pos: torch.Tensor,
        cond: torch.Tensor,
    ) -> torch.Tensor:
        """x (B, L, D) at frames pos; music (B, S, D) at frames music_pos; cond (B, D)."""
        m_self, m_cross, m_ff = self.film(cond)
        h = modulate(self.norms[0](x), m_self)
        x = x + self.drop(self.self_attn(h, h, pos, pos))
        h = modulate(self.norms[1](x), m_cross)
        x = x + self.drop(self.cross_attn(h, music, pos, music_pos))
        h = modulate(self.norms[2](x), m_ff)
        return x + self.drop(self.ff(h))


class MusicEncoder(nn.Module):
    """35-dim music features -> tokens (optionally downsampled by a strided conv) and a pooled vector.

    Dropping the condition (classifier-free guidance) replaces both the tokens and the pooled vector
    by learned null embeddings.
    """

    def __init__(self, music_dim: int, d_model: int, n_heads: int, ff_dim: int, n_layers: int,
                 dropout: float, stride: int = 1):
        super().__init__()
        self.stride = stride
        if stride == 1:
            self.inp = nn.Sequential(nn.Linear(music_dim, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        else:
            self.inp = nn.Sequential(
                nn.Conv1d(music_dim, d_model, kernel_size=2 * stride, stride=stride, padding=stride // 2),
                nn.GELU(),
                nn.Conv1d(d_model, d_model, kernel_size=1),
            )
        self.blocks = nn.ModuleList(EncoderBlock(d_model, n_heads, ff_dim, dropout) for _ in range(n_layers))
        self.pool = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, d_model))
        self.null_tokens = nn.Parameter(torch.randn(d_model) * 0.02)
        self.null_pooled = nn.Parameter(torch.randn(d_model) * 0.02)

    def token_positions(self, frames: int, device=None) -> torch.Tensor:
        """Frame position (centre of its receptive field) of each music token, (S,)."""
        if self.stride == 1:
            return torch.arange(frames, device=device, dtype=torch.float32)
        n = self.token_count(frames)
        return torch.arange(n, device=device, dtype=torch.float32) * self.stride + (self.stride - 1) / 2.0

    def token_count(self, frames: int) -> int:
        """Number of tokens for ``frames`` music frames."""
        if self.stride == 1:
            return frames
        pad = self.stride // 2
        return (frames + 2 * pad - 2 * self.stride) // self.stride + 1

    def forward(self, music: torch.Tensor, drop_mask: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """music (B, T, 35) -> tokens (B, S, D), their frame positions (S,), pooled (B, D)."""
        if self.stride == 1:
            x = self.inp(music)
        else:
            x = self.inp(music.transpose(1, 2)).transpose(1, 2)
        pos = self.token_positions(music.shape[1], device=music.device)[: x.shape[1]]
        for block in self.blocks:
            x = block(x, pos)
        pooled = self.pool(x.mean(dim=1))
        if drop_mask is not None:
            drop = drop_mask.to(x.device).bool()
            x = torch.where(drop[:, None, None], self.null_tokens.to(x.dtype).expand_as(x), x)
            pooled = torch.where(drop[:, None], self.null_pooled.to(x.dtype).expand_as(pooled), pooled)
        return x, pos, pooled


def patchify(x: torch.Tensor, patch: int) -> torch.Tensor:
    """(..., T, C) -> (..., T / patch, patch * C): consecutive frames side by side in one token."""
    if patch == 1:
        return x
    frames = x.shape[-2]
    if frames % patch:
        raise ValueError(f"{frames} frames do not split into tokens of {patch} frames")
    return x.reshape(*x.shape[:-2], frames // patch, patch * x.shape[-1])


def unpatchify(x: torch.Tensor, patch: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: (..., N, patch * C) -> (..., N * patch, C)."""
    if patch == 1:
        return x
    return x.reshape(*x.shape[:-2], x.shape[-2] * patch, x.shape[-1] // patch)


def overlap_window(patch: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(2 * patch,) cross-fade weights of one token's output (its own frames and half a token either
    side): a trapezoid whose copies one token apart sum to one."""
    k = torch.arange(2 * patch, device=device, dtype=dtype)
    return torch.clamp((k + 0.5) / patch, max=1.0) * torch.clamp((2 * patch - k - 0.5) / patch, max=1.0)


def overlap_unpatchify(x: torch.Tensor, patch: int) -> torch.Tensor:
    """(..., N, 2 * patch * C) -> (..., N * patch, C): each token's 2 * patch frames start half a token
    before its own and are cross-faded with its neighbours' (:func:`overlap_window`); at both ends the
    weights are renormalised, so frames only one token reaches are that token's own."""
    n, width = x.shape[-2], x.shape[-1]
    channels, half = width // (2 * patch), patch // 2
    frames = x.reshape(*x.shape[:-2], n, 2 * patch, channels)
    window = overlap_window(patch, device=x.device, dtype=x.dtype)[:, None]
    weighted = frames * window
    out = weighted[..., half:half + patch, :].clone()
    out[..., 1:, :half, :] += weighted[..., :-1, half + patch:, :]  # the previous token's tail
    out[..., :-1, patch - half:, :] += weighted[..., 1:, :half, :]  # the next token's head
    total = window[half:half + patch].expand(n, patch, 1).clone()
    total[1:, :half] += window[half + patch:]
    total[:-1, patch - half:] += window[:half]
    return (out / total).reshape(*x.shape[:-2], n * patch, channels)


def unpatch_tokens(x: torch.Tensor, patch: int, overlap: bool) -> torch.Tensor:
    """A network's token outputs as frames: :func:`overlap_unpatchify` with ``overlap``, else :func:`unpatchify`."""
    return overlap_unpatchify(x, patch) if overlap else unpatchify(x, patch)


def widen_for_overlap(layer: nn.Linear, patch: int, channels: int) -> nn.Linear:
    """A linear un-patch layer (``patch * channels`` outputs) widened for :func:`overlap_unpatchify`
    (``2 * patch * channels``): the token's own frames keep their weights, and the half token it also
    covers on either side starts as a copy of its edge frame."""
    half = patch // 2
    frames = torch.cat([torch.zeros(half, dtype=torch.long), torch.arange(patch),
                        torch.full((half,), patch - 1, dtype=torch.long)])
    rows = (frames[:, None] * channels + torch.arange(channels)[None]).reshape(-1)
    wide = nn.Linear(layer.in_features, 2 * patch * channels).to(device=layer.weight.device, dtype=layer.weight.dtype)
    with torch.no_grad():
        wide.weight.copy_(layer.weight[rows])
        wide.bias.copy_(layer.bias[rows])
    return wide


def patch_positions(frames: int, patch: int, device=None) -> torch.Tensor:
    """Frame position of each token's centre, (frames / patch,), for rotary attention."""
    return torch.arange(frames // patch, device=device, dtype=torch.float32) * patch + (patch - 1) / 2.0


class SkipPrecondition(nn.Module):
    """x0 = c_skip(t) x_t / sqrt(abar_t) + c_out(t) F: Karras et al. (2022)'s preconditioning for an
    x0-predicting network on the variance-preserving cosine schedule.

    With sigma_t^2 = (1 - abar_t) / abar_t the noise variance of x_t / sqrt(abar_t) around x0 and
    sigma_data the data's spread, c_skip = sd^2 / (sigma^2 + sd^2) and c_out = sigma sd / sqrt(sigma^2 + sd^2):
    at low noise the prediction is the input itself plus a small correction; at high noise the network
    predicts x0 outright.
    """

    def __init__(self, num_steps: int, sigma_data: float = 0.5):
        super().__init__()
        abar = cosine_alphas_cumprod(num_steps)
        sigma2 = (1.0 - abar) / abar
        sd2 = sigma_data ** 2
        self.register_buffer("input_scale", (sd2 / (sigma2 + sd2) / abar.sqrt()).float(), persistent=False)
        self.register_buffer("output_scale", (sigma2.sqrt() * sigma_data / (sigma2 + sd2).sqrt()).float(), persistent=False)

    def forward(self, network_out: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Combine the raw network output with the noisy input x_t at steps t ((B,) long)."""
        shape = (-1,) + (1,) * (x_t.ndim - 1)
        a = self.input_scale[t.to(self.input_scale.device)].reshape(shape).to(x_t.dtype)
        b = self.output_scale[t.to(self.output_scale.device)].reshape(shape).to(x_t.dtype)
        return a * x_t + b * network_out


def skip_precondition(num_steps: int, d_model: int, token_dim: int, enabled: bool) -> SkipPrecondition | None:
    """The skip preconditioning of a network whose tokens hold ``token_dim`` numbers, or None when off.

    Warns when the network is narrower than its tokens: the noise outside the slice it sees would pass
    through the skip into every sample (see ``NetConfig.skip_input``).
    """
    if not enabled:
        return None
    if d_model < token_dim:
        warnings.warn(
            f"skip_input on a network of width {d_model} with {token_dim}-number tokens: the noise it cannot "
            "see passes into the samples; use skip_input only with d_model >= patch * 139",
            stacklevel=3,
        )
    return SkipPrecondition(num_steps)


class TimeEmbedding(nn.Module):
    """Diffusion step -> (B, D) via a sinusoid and an MLP."""

    def __init__(self, d_model: int):
        super().__init__()
        self.d_model = d_model
        self.mlp = nn.Sequential(nn.Linear(d_model, 2 * d_model), nn.SiLU(), nn.Linear(2 * d_model, d_model))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(timestep_embedding(t, self.d_model))
