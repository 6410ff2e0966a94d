"""Dance metrics of Bailando and Lodge: FIDk, FIDg, Divk, Divg, beat alignment, foot skating.

Every function follows the correct definitions by default; pass ``MetricOptions.official()``
(or ``official=True`` to :func:`evaluate_sequences`) to reproduce the official scripts' slips.
See ``lodge/metrics/README.md``.
"""
from .beats import alignment_score, beat_alignment_score, kinematic_beats
from .distribution import diversity, fid, frechet_distance, normalize_by
from .evaluate import FeatureSet, div_g, div_k, evaluate_sequences, extract_features, fid_g, fid_k
from .geometric import geometric_features
from .kinetic import kinetic_features
from .options import CORRECT, OFFICIAL, MetricOptions
from .positions import lodge_feature_positions
from .skating import foot_skating_ratio
from .speed import mean_joint_speed, mean_speed_windows

__all__ = [
    "CORRECT", "OFFICIAL", "FeatureSet", "MetricOptions", "alignment_score", "beat_alignment_score",
    "div_g", "div_k", "diversity", "evaluate_sequences", "extract_features", "fid", "fid_g", "fid_k",
    "foot_skating_ratio", "frechet_distance", "geometric_features", "kinematic_beats",
    "kinetic_features", "lodge_feature_positions", "mean_joint_speed", "mean_speed_windows",
    "normalize_by",
]
