"""Which definition each metric follows: the correct one (default) or the official scripts' slips."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..constants import FPS


@dataclass(frozen=True)
class MetricOptions:
    """Settings shared by the metrics. ``MetricOptions()`` is the correct behaviour;
    :meth:`official` reproduces the published Lodge/Bailando evaluation scripts.

    Attributes:
        fps: frame rate of the joints (30 in this project).
        kinetic_frame_time: seconds per frame in the kinetic features; None means ``1 / fps``.
            The official scripts hard-code 1/60 s (AIST++ rate) on 30 fps data, which doubles every
            velocity and quadruples every kinetic feature.
        geometric_frame_time: seconds per frame in the velocity tests of the geometric features;
            None means ``1 / fps``. Bailando's feature utilities hard-code 1/120 s.
        muller_move: True evaluates the "move" feature as Müller et al. define it (velocity of
            j4 relative to j3 along j1->j2); False copies Bailando's slip (velocity of j3 relative
            to j1; j4 is ignored).
        body_frame_geometry: True evaluates the relational geometric features on a consistent
            root-relative body (root at the origin; only the root-speed feature sees the root's
            travel). False evaluates them on Lodge's mixed array (root at its global position,
            other joints relative to the root), as the official script does.
        horizontal_speed: "norm" takes the Euclidean norm of the (x, z) velocity; "mean" takes
            ``|mean(vx, vz)|`` as the official foot-skating script does.
        cut_music_beats: True ignores music beats at or beyond the dance's last frame; the
            official beat-alignment script scores the whole song's beats.
        official_beats: True detects dance beats as the official script does (forward
            differences, strict ``argrelextrema`` minima, which miss flat minima); False uses
            central differences and ``scipy.signal.find_peaks`` (flat minima give their middle).
        official_skating: True follows the official foot-skating script (see
            :func:`lodge.metrics.skating.foot_skating_ratio`).
    """

    fps: float = FPS
    kinetic_frame_time: float | None = None
    geometric_frame_time: float | None = None
    muller_move: bool = True
    body_frame_geometry: bool = True
    horizontal_speed: Literal["norm", "mean"] = "norm"
    cut_music_beats: bool = True
    official_beats: bool = False
    official_skating: bool = False

    @classmethod
    def official(cls, fps: float = FPS) -> "MetricOptions":
        """The behaviour of the official Lodge/Bailando evaluation scripts, slips included."""
        return cls(
            fps=fps, kinetic_frame_time=1.0 / 60.0, geometric_frame_time=1.0 / 120.0,
            muller_move=False, body_frame_geometry=False, horizontal_speed="mean",
            cut_music_beats=False, official_beats=True, official_skating=True,
        )

    @property
    def kinetic_dt(self) -> float:
        """Seconds per frame used by the kinetic features."""
        return self.kinetic_frame_time if self.kinetic_frame_time is not None else 1.0 / self.fps

    @property
    def geometric_dt(self) -> float:
        """Seconds per frame used by the geometric features' velocity tests."""
        return self.geometric_frame_time if self.geometric_frame_time is not None else 1.0 / self.fps


CORRECT = MetricOptions()
OFFICIAL = MetricOptions.official()


def resolve(options: MetricOptions | None) -> MetricOptions:
    """``None`` -> the correct defaults."""
    return CORRECT if options is None else options
