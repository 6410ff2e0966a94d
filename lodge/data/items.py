"""Write corpus items (one `.npz` each) and make a train/test split by take group."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def save_item(path: str | Path, motion: np.ndarray, music: np.ndarray, **meta: str) -> None:
    """Write a (T,139) motion and (T,35) music (stored fp16) with string metadata (genre, take, ...)."""
    n = min(len(motion), len(music))
    arrays = {
        "motion": np.asarray(motion[:n], dtype=np.float16),
        "music": np.asarray(music[:n], dtype=np.float16),
    }
    arrays.update({k: np.array(str(v)) for k, v in meta.items()})
    np.savez_compressed(path, **arrays)


def split_groups(group_genre: dict[str, str], test_fraction: float = 0.15, seed: int = 0) -> set[str]:
    """Pick the test groups: per genre, `test_fraction` of its groups (at least one, never all), by seed.

    Args:
        group_genre: take group -> genre.
    Returns:
        The set of test groups.
    """
    rng = np.random.default_rng(seed)
    test: set[str] = set()
    for genre in sorted(set(group_genre.values())):
        groups = sorted(g for g, gg in group_genre.items() if gg == genre)
        if len(groups) < 2:
            continue
        n_test = min(len(groups) - 1, max(1, int(round(test_fraction * len(groups)))))
        test.update(groups[i] for i in rng.permutation(len(groups))[:n_test])
    return test
