"""The bars a generated dance must meet against the real dancers of its genre, and the verdict on one pair.

- speed ratio (generated / real root-relative joint speed) within SPEED_RATIO_RANGE;
- pose-spread ratio at least SPREAD_RATIO_MIN;
- heading snaps per minute at most the real rate + SNAPS_MARGIN_PER_MIN;
- primitive energy ratio (generated primitives / real primitives) at least PRIMITIVE_ENERGY_RATIO_MIN.
"""
from __future__ import annotations

import math

from .realism import RealismStats

SPEED_RATIO_RANGE = (0.8, 1.3)
SPREAD_RATIO_MIN = 0.8
SNAPS_MARGIN_PER_MIN = 5.0
PRIMITIVE_ENERGY_RATIO_MIN = 0.8


def _ratio(generated: float | None, real: float | None) -> float | None:
    if generated is None or real is None or not real or not math.isfinite(generated) or not math.isfinite(real):
        return None
    return float(generated / real)


def realism_verdict(generated: RealismStats, real: RealismStats) -> dict:
    """Ratios and pass/fail of each bar, and ``pass`` overall (a bar that cannot be measured fails).

    Returns keys speed_ratio, spread_ratio, snaps_per_min, real_snaps_per_min, primitive_energy_ratio
    (None when either side has no primitives), and pass_speed, pass_spread, pass_snaps,
    pass_primitive_energy, pass.
    """
    speed = _ratio(generated.speed, real.speed)
    spread = _ratio(generated.spread, real.spread)
    energy = _ratio(generated.primitive_energy, real.primitive_energy)
    lo, hi = SPEED_RATIO_RANGE
    out = {
        "speed_ratio": speed,
        "spread_ratio": spread,
        "snaps_per_min": float(generated.snaps_per_min),
        "real_snaps_per_min": float(real.snaps_per_min),
        "primitive_energy_ratio": energy,
        "pass_speed": speed is not None and lo <= speed <= hi,
        "pass_spread": spread is not None and spread >= SPREAD_RATIO_MIN,
        "pass_snaps": generated.snaps_per_min <= real.snaps_per_min + SNAPS_MARGIN_PER_MIN,
        "pass_primitive_energy": energy is not None and energy >= PRIMITIVE_ENERGY_RATIO_MIN,
    }
    out["pass"] = all(out[k] for k in ("pass_speed", "pass_spread", "pass_snaps", "pass_primitive_energy"))
    return out


def bars_text() -> dict[str, str]:
    """Each bar in words, for reports."""
    lo, hi = SPEED_RATIO_RANGE
    return {
        "speed": f"{lo:g} – {hi:g}",
        "spread": f"≥ {SPREAD_RATIO_MIN:g}",
        "snaps": f"≤ real + {SNAPS_MARGIN_PER_MIN:g}/min",
        "primitive_energy": f"≥ {PRIMITIVE_ENERGY_RATIO_MIN:g}",
    }
