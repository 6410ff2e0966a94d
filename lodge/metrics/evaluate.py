"""Set-level metrics on lists of dances: FIDk, FIDg, Divk, Divg, BAS and foot skating together."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .beats import beat_alignment_score
from .distribution import diversity, fid
from .geometric import geometric_features
from .kinetic import kinetic_features
from .options import MetricOptions, resolve
from .skating import foot_skating_ratio


@dataclass
class FeatureSet:
    """Kinetic (N, 66) and geometric (N, 32) features of N dances."""

    kinetic: np.ndarray
    geometric: np.ndarray


def extract_features(dances: Sequence, options: MetricOptions | None = None) -> FeatureSet:
    """Features of a list of (T, 22, 3) joint arrays (compute the ground truth's once, reuse it)."""
    opts = resolve(options)
    return FeatureSet(
        np.stack([kinetic_features(d, opts) for d in dances]),
        np.stack([geometric_features(d, opts) for d in dances]),
    )


def fid_k(gen: Sequence, gt: Sequence, options: MetricOptions | None = None) -> float:
    """FID of kinetic features, both sets normalised by the ground truth's statistics."""
    return fid(np.stack([kinetic_features(d, options) for d in gen]),
               np.stack([kinetic_features(d, options) for d in gt]))


def fid_g(gen: Sequence, gt: Sequence, options: MetricOptions | None = None) -> float:
    """FID of geometric features, both sets normalised by the ground truth's statistics."""
    return fid(np.stack([geometric_features(d, options) for d in gen]),
               np.stack([geometric_features(d, options) for d in gt]))


def div_k(gen: Sequence, gt: Sequence | None = None, options: MetricOptions | None = None) -> float:
    """Diversity of kinetic features (normalised by the ground truth's statistics when given)."""
    ref = None if gt is None else np.stack([kinetic_features(d, options) for d in gt])
    return diversity(np.stack([kinetic_features(d, options) for d in gen]), ref)


def div_g(gen: Sequence, gt: Sequence | None = None, options: MetricOptions | None = None) -> float:
    """Diversity of geometric features (normalised by the ground truth's statistics when given)."""
    ref = None if gt is None else np.stack([geometric_features(d, options) for d in gt])
    return diversity(np.stack([geometric_features(d, options) for d in gen]), ref)


def evaluate_sequences(
    gen: Sequence, gt: Sequence, music_beats: Sequence, *, official: bool = False,
    options: MetricOptions | None = None, gt_features: FeatureSet | None = None,
) -> dict[str, float]:
    """The paper's Table 1 metrics for generated dances against a ground-truth set.

    Args:
        gen: generated dances, each (T, 22, 3) world joints at 30 fps, floor at y = 0.
        gt: ground-truth dances (may be ``gen`` itself for the ground-truth row).
        music_beats: music beat frames for each generated dance (same order as ``gen``).
        official: use :meth:`MetricOptions.official` (ignored when ``options`` is given).
        options: explicit options.
        gt_features: precomputed :func:`extract_features` of ``gt`` (same options).

    Returns:
        {"FIDk", "FIDg", "Divk", "Divg", "BAS", "FSR"}: FIDs and diversities of the generated set
        (normalised by the ground truth's statistics), and the means over dances of the beat
        alignment score and the foot skating ratio.
    """
    if len(gen) != len(music_beats):
        raise ValueError(f"{len(gen)} dances but {len(music_beats)} beat lists")
    opts = options if options is not None else (MetricOptions.official() if official else resolve(None))
    gen_f = extract_features(gen, opts)
    gt_f = gt_features if gt_features is not None else extract_features(gt, opts)
    bas = [beat_alignment_score(d, b, options=opts) for d, b in zip(gen, music_beats)]
    return {
        "FIDk": fid(gen_f.kinetic, gt_f.kinetic),
        "FIDg": fid(gen_f.geometric, gt_f.geometric),
        "Divk": diversity(gen_f.kinetic, gt_f.kinetic),
        "Divg": diversity(gen_f.geometric, gt_f.geometric),
        "BAS": float(np.nanmean(bas)) if not np.all(np.isnan(bas)) else float("nan"),
        "FSR": float(np.mean([foot_skating_ratio(d, options=opts) for d in gen])),
    }
