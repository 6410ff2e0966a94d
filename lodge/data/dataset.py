"""Load a built corpus (`build_corpus` output) and serve random fixed-length training windows."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..motion import mirror_motion


@dataclass
class CorpusItem:
    """One training item: a dance and the music paired with it, both at 30 fps."""

    motion: np.ndarray  # (T, 139) float32
    music: np.ndarray  # (T, 35) float32
    genre: str
    take: str
    item_id: str
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.motion)


def load_item(path: str | Path) -> CorpusItem:
    """Read one item `.npz`."""
    with np.load(path, allow_pickle=False) as z:
        meta = {k: str(z[k]) for k in z.files if k not in ("motion", "music")}
        motion = z["motion"].astype(np.float32)
        music = z["music"].astype(np.float32)
    n = min(len(motion), len(music))
    return CorpusItem(motion[:n], music[:n], meta.get("genre", ""), meta.get("take", ""),
                      meta.get("item_id", Path(path).stem), meta)


def load_corpus(directory: str | Path, split: str = "train") -> list[CorpusItem]:
    """Items of one side of the split ("train", "test") or every item ("all"), in item-id order."""
    directory = Path(directory)
    if split == "all":
        ids = sorted(p.stem for p in (directory / "items").glob("*.npz"))
    else:
        ids = json.loads((directory / "split.json").read_text())[split]["items"]
    return [load_item(directory / "items" / f"{i}.npz") for i in ids]


class WindowDataset(Dataset):
    """Random fixed-length windows of corpus items, mirrored half of the time (music unchanged).

    Each index draws an item (weighted by length) and a start frame from a generator seeded by
    (seed, index, epoch), so a run is reproducible; call `set_epoch` to draw new windows.
    Items shorter than `length` are skipped unless `pad_short` is set; then they are padded by
    repeating their last frame and `mask` marks the real frames.

    Returns dicts: motion (L, 139) float32, music (L, 35) float32, genre (long), mask (L,) bool, item (int).
    """

    def __init__(self, items: list[CorpusItem], length: int = 256, mirror: bool = True,
                 genres: list[str] | None = None, windows_per_epoch: int | None = None,
                 pad_short: bool = False, seed: int = 0) -> None:
        self.length = length
        self.mirror = mirror
        self.pad_short = pad_short
        self.seed = seed
        self.epoch = 0
        self.items = [it for it in items if pad_short or len(it) >= length]
        if not self.items:
            raise ValueError(f"no corpus item has {length} frames; pass pad_short=True or a shorter length")
        self.genres = list(genres) if genres is not None else sorted({it.genre for it in self.items})
        weights = np.array([max(len(it) - length + 1, 1) for it in self.items], dtype=np.float64)
        self.weights = weights / weights.sum()
        total = sum(len(it) for it in self.items)
        self.windows_per_epoch = windows_per_epoch or max(1, total // length)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.windows_per_epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, self.epoch, index))
        k = int(rng.choice(len(self.items), p=self.weights))
        item = self.items[k]
        n = len(item)
        start = int(rng.integers(0, n - self.length + 1)) if n >= self.length else 0
        motion = item.motion[start:start + self.length]
        music = item.music[start:start + self.length]
        mask = np.ones(self.length, dtype=bool)
        if len(motion) < self.length:
            mask[len(motion):] = False
            pad = self.length - len(motion)
            motion = np.concatenate([motion, np.repeat(motion[-1:], pad, 0)])
            music = np.concatenate([music, np.repeat(music[-1:], pad, 0)])
        if self.mirror and rng.random() < 0.5:
            motion = mirror_motion(motion)
        return {
            "motion": torch.from_numpy(np.ascontiguousarray(motion, dtype=np.float32)),
            "music": torch.from_numpy(np.ascontiguousarray(music, dtype=np.float32)),
            "genre": torch.tensor(self.genres.index(item.genre), dtype=torch.long),
            "mask": torch.from_numpy(mask),
            "item": torch.tensor(k, dtype=torch.long),
        }
