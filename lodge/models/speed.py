"""The speed condition of both denoisers: how fast the dancer should move, told to the network beside
its genre (:attr:`lodge.config.NetConfig.speed_condition`).

The speed is the dance's mean root-relative joint speed in m/s (:func:`lodge.metrics.realism.root_relative_speed`),
measured on each training example. The three training songs are danced in every genre, so the music
cannot tell the genres' speeds apart, and networks told only the genre moved at about the same speed in
every genre (real dancers: breaking 0.84 m/s, modern 0.21). At sampling the speed is the chosen genre's
typical one (:attr:`lodge.config.LodgeConfig.genre_speeds`) times the request's ``energy``.
"""
from __future__ import annotations

import torch
from torch import nn

REFERENCE_SPEED = 0.4  # m/s; the embedding sees log(speed / this), about -1.5 .. 1 for real dances
MIN_SPEED = 0.02  # m/s; slower asks are clamped (a standing body still sways this much)


class SpeedEmbedding(nn.Module):
    """(B,) speeds in m/s -> (B, d) vectors added to the genre embedding; NaN = no speed (a zero vector).

    The output layer starts at zero, so a trained network given this embedding behaves exactly as
    before until training teaches it what the speed means.
    """

    def __init__(self, d_model: int, hidden: int = 64):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, d_model))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, speed: torch.Tensor) -> torch.Tensor:
        speed = speed.float()
        missing = torch.isnan(speed)
        x = torch.log(torch.clamp(torch.nan_to_num(speed, nan=REFERENCE_SPEED), min=MIN_SPEED) / REFERENCE_SPEED)
        out = self.mlp(x[:, None])
        return torch.where(missing[:, None], torch.zeros_like(out), out)


class SpeedConditionMixin:
    """``self.speed_in`` (a :class:`SpeedEmbedding`, or None for networks without the speed condition)."""

    speed_in: SpeedEmbedding | None

    def _init_speed_condition(self, enabled: bool, d_model: int) -> None:
        self.speed_in = SpeedEmbedding(d_model) if enabled else None

    def add_speed_condition(self) -> None:
        """Give a network trained without the speed condition one (a zero embedding at first, so it
        behaves as before), so that training can go on telling it each example's speed."""
        if self.speed_in is not None:
            return
        self.net.speed_condition = True
        self._init_speed_condition(True, self.net.d_model)

    def speed_embedding(self, speed: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | float:
        """(B, d) embedding of (B,) speeds (m/s), shaped and typed like ``like``; 0 when there is no
        speed or this network has no speed condition."""
        if speed is None or self.speed_in is None:
            return 0.0
        return self.speed_in(torch.as_tensor(speed, device=like.device)).to(like.dtype)

