"""Multi-genre discriminator: one real/fake logit per genre, trained with the hinge loss."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..config import LodgeConfig
from ..constants import MOTION_DIM


class MultiGenreDiscriminator(nn.Module):
    """Temporal conv net over (B, T, 139) normalised motion -> (B, n_genres) logits.

    Each sample is judged only by its own genre's logit (see :func:`hinge_d_loss`), so the network
    learns what real motion of each genre looks like.
    """

    def __init__(self, cfg: LodgeConfig, width: int = 128):
        super().__init__()
        w = width
        layers: list[nn.Module] = []
        chans = [MOTION_DIM, w, w, w]
        # Networks with frame patches are judged from half the frame rate on (most of the discriminator's
        # cost is its first layer); the per-frame presets keep their original layout.
        first_stride = 2 if cfg.local.patch > 1 else 1
        for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:])):
            stride = first_stride if i == 0 else 2
            layers += [spectral_norm(nn.Conv1d(cin, cout, kernel_size=5, stride=stride, padding=2)), nn.LeakyReLU(0.2)]
        self.convs = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Linear(w, cfg.n_genres))

    def forward(self, motion: torch.Tensor) -> torch.Tensor:
        """(B, T, 139) -> (B, n_genres)."""
        h = self.convs(motion.transpose(1, 2))
        return self.head(h.mean(dim=-1))


def _pick(logits: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
    return logits.gather(1, genre.long().view(-1, 1).to(logits.device))[:, 0]


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss on each sample's own genre logit."""
    return F.relu(1.0 - _pick(real_logits, genre)).mean() + F.relu(1.0 + _pick(fake_logits, genre)).mean()


def hinge_g_loss(fake_logits: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss: raise the fake samples' own genre logit."""
    return -_pick(fake_logits, genre).mean()
