"""Distribution metrics on feature sets: Fréchet distance (FID) and diversity."""
from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.spatial.distance import pdist

STD_EPS = 1e-10  # as in Bailando's normalise(): (x - mean) / (std + 1e-10)
COV_EPS = 1e-6  # diagonal offset used only when sqrtm of a singular product fails


def _as_features(feats) -> np.ndarray:
    arr = np.asarray(feats, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a (N, D) feature set, got shape {arr.shape}")
    return arr


def normalize_by(feats, reference) -> np.ndarray:
    """Standardise ``feats`` per dimension with the mean and std (ddof 0) of ``reference``."""
    ref = _as_features(reference)
    return (_as_features(feats) - ref.mean(axis=0)) / (ref.std(axis=0) + STD_EPS)


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    # Fewer samples than feature dimensions (the usual test-set case) make the product singular;
    # sqrtm still returns the right value there, so its warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(matrix)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) sets (covariances with ddof 1).

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 sqrtm(S_a S_b))``; the matrix square root is
    ``scipy.linalg.sqrtm`` and only its real part is kept (numerical error leaves tiny imaginary
    parts). If the product is singular, a small offset is added to both diagonals.
    """
    a, b = _as_features(feats_a), _as_features(feats_b)
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError("FID needs at least 2 samples in each set")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    covmean = _sqrtm(cov_a @ cov_b)
    if not np.isfinite(covmean).all():
        offset = np.eye(cov_a.shape[0]) * COV_EPS
        covmean = _sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = np.real(covmean)
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean))


def fid(feats_gen, feats_gt, normalize: bool = True) -> float:
    """FID between generated and ground-truth feature sets.

    With ``normalize`` (Bailando's and Lodge's protocol) both sets are first standardised by the
    ground-truth set's per-dimension mean and std, so the score is unitless and every feature
    dimension weighs the same.
    """
    if normalize:
        feats_gen, feats_gt = normalize_by(feats_gen, feats_gt), normalize_by(feats_gt, feats_gt)
    return frechet_distance(feats_gen, feats_gt)


def diversity(feats, reference=None) -> float:
    """Mean pairwise Euclidean distance between the rows of a (N, D) feature set.

    As in Bailando, the features are first standardised by the ground-truth statistics
    (``reference``); without a reference the set is standardised by its own statistics.
    Returns 0.0 for fewer than two samples.
    """
    arr = _as_features(feats)
    arr = normalize_by(arr, arr if reference is None else reference)
    if arr.shape[0] < 2:
        return 0.0
    return float(pdist(arr).mean())
