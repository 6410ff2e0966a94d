"""The Lodge networks: local and global denoisers, the Foot Refine Block and the discriminator."""
from __future__ import annotations

from torch import nn

from .discriminator import MultiGenreDiscriminator, hinge_d_loss, hinge_g_loss
from .foot import FootRefineBlock, foot_features
from .global_model import GlobalDenoiser
from .local import LocalDenoiser


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


__all__ = [
    "LocalDenoiser", "GlobalDenoiser", "MultiGenreDiscriminator", "FootRefineBlock", "foot_features",
    "hinge_d_loss", "hinge_g_loss", "count_parameters",
]
