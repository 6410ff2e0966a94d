"""The genre condition of both denoisers, with an optional learned null genre for classifier-free
guidance on the genre (trained by dropping the genre of some samples, :attr:`NetConfig.null_genre`)."""
from __future__ import annotations

import torch
from torch import nn


class GenreConditionMixin:
    """Genre embeddings ``self.genre`` (an ``nn.Embedding``) and, for networks trained with genre
    dropout, ``self.null_genre``: the vector that stands for "any genre"."""

    genre: nn.Embedding
    null_genre: nn.Parameter | None

    def _init_null_genre(self, enabled: bool) -> None:
        """Register the null genre (initialised as the mean of the genre embeddings), or record that
        there is none."""
        if enabled:
            self.null_genre = nn.Parameter(self.genre.weight.detach().mean(0).clone())
        else:
            self.null_genre = None

    def add_null_genre(self) -> None:
        """Give a network trained without genre dropout a null genre (the mean of its genre embeddings),
        so that training can go on with genre dropout from its weights."""
        if self.null_genre is not None:
            return
        self.net.null_genre = True
        self._init_null_genre(True)

    def genre_embedding(self, genre: torch.Tensor, genre_drop: torch.Tensor | None = None) -> torch.Tensor:
        """(B, d) embeddings of (B,) genre indices; where ``genre_drop`` is True, the null genre."""
        emb = self.genre(genre)
        if genre_drop is None or not bool(genre_drop.any()):
            return emb
        if self.null_genre is None:
            raise ValueError("this network has no null genre: it was trained without genre dropout, so it "
                             "cannot be guided on the genre")
        return torch.where(genre_drop.to(emb.device)[:, None], self.null_genre.to(emb.dtype)[None], emb)
