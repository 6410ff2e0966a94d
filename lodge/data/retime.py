"""Re-time a dance so its kinematic beats land on a music's beats.

`align_beats` pairs each dance beat with a beat or half-beat of the music by dynamic programming
(each stretch between consecutive pairs limited to [0.8, 1.25]; music beats left without a dance
beat cost extra), and `lodge.post.warp.warp_motion` resamples the motion piecewise linearly between
the pairs (root linear, rotations slerp), so the dance's beats fall on the music's.
"""
from __future__ import annotations

import numpy as np


MIN_STRETCH, MAX_STRETCH = 0.8, 1.25


def align_beats(
    dance_beats: np.ndarray, music_beats: np.ndarray, free_start: bool = True, half_beats: bool = True,
    min_stretch: float = MIN_STRETCH, max_stretch: float = MAX_STRETCH,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair dance beats (frames) with music beats or half-beats (frames).

    Returns (dance frames, music frames) of the pairs, increasing; the longest run of dance beats
    that can be paired within the stretch limits wins, then the cheapest. With `free_start` False the
    first dance beat goes to the first music beat. With `half_beats` False only full beats take dance beats.
    """
    d = np.asarray(dance_beats, dtype=np.float64)
    m = np.asarray(music_beats, dtype=np.float64)
    if len(d) < 2 or len(m) < 2:
        return d[:1], m[:1]
    half = np.empty(2 * len(m) - 1)
    half[0::2] = m
    half[1::2] = 0.5 * (m[:-1] + m[1:])
    n_d, n_h = len(d), len(half)
    inf = np.inf
    cost = np.full((n_d, n_h), inf)
    back = np.full((n_d, n_h, 2), -1, dtype=np.int64)
    if free_start:
        cost[0, 0::2] = 0.0  # a dance beat starts on a full music beat
    else:
        cost[0, 0] = 0.0
    full_idx = np.arange(n_h) // 2
    for i in range(n_d - 1):
        if not np.isfinite(cost[i]).any():
            continue
        for a in (1, 2, 3):  # a > 1 leaves dance beats unpaired
            ni = i + a
            if ni >= n_d:
                continue
            gap_d = d[ni] - d[i]
            for h in range(1, min(n_h, 65)):
                j = np.arange(n_h - h)
                nj = j + h
                stretch = (half[nj] - half[j]) / gap_d
                if stretch.min() > max_stretch:
                    break
                ok = np.isfinite(cost[i, j]) & (stretch >= min_stretch) & (stretch <= max_stretch)
                if not half_beats:
                    ok &= nj % 2 == 0
                if not ok.any():
                    continue
                j, nj, stretch = j[ok], nj[ok], stretch[ok]
                # music beats passed over with no dance beat on them
                skipped = full_idx[nj] - full_idx[j] - (nj % 2 == 0)
                c = cost[i, j] + 10 * np.log(stretch) ** 2 + 0.5 * skipped + 0.3 * (nj % 2) + 0.5 * (a - 1)
                better = c < cost[ni, nj]
                cost[ni, nj[better]] = c[better]
                back[ni, nj[better]] = np.stack([np.full(better.sum(), i), j[better]], 1)
    reached = np.nonzero(np.isfinite(cost).any(1))[0]
    last = int(reached.max())
    j = int(np.argmin(cost[last]))
    pairs = [(last, j)]
    while back[pairs[-1]][0] >= 0:
        pairs.append(tuple(int(x) for x in back[pairs[-1]]))
    pairs = pairs[::-1]
    return d[[p[0] for p in pairs]], half[[p[1] for p in pairs]]


def time_map(dance_pairs: np.ndarray, music_pairs: np.ndarray, n_dance: int, music_offset: float) -> np.ndarray:
    """Dance time (frames, float) of each output frame, output frame 0 = music frame `music_offset`.

    Linear between pairs; slope 1 before the first pair and after the last. Ends where the dance ends.
    """
    xs = np.concatenate([[music_pairs[0] - dance_pairs[0]], music_pairs, [music_pairs[-1] + (n_dance - 1 - dance_pairs[-1])]])
    ys = np.concatenate([[0.0], dance_pairs, [n_dance - 1.0]])
    xs, idx = np.unique(xs, return_index=True)
    ys = ys[idx]
    out_t = np.arange(int(np.ceil(music_offset)), int(np.floor(xs[-1])) + 1, dtype=np.float64)
    src = np.interp(out_t, xs, ys)
    keep = (out_t >= xs[0]) & (src >= 0) & (src <= n_dance - 1)
    return src[keep], out_t[keep]
