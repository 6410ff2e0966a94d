"""Realism measures on motions with known answers."""
import numpy as np
import pytest

from lodge.constants import N_JOINTS
from lodge.metrics.realism import (
    heading_snaps, heading_snaps_per_minute, pool_stats, pose_spread, primitive_energy, realism_stats,
    root_relative_speed,
)
from lodge.skeleton import rest_joints

FPS = 30


def standing(frames: int) -> np.ndarray:
    """(T, 22, 3) the rest pose, still, travelling nowhere."""
    return np.repeat(rest_joints()[None].astype(np.float64), frames, axis=0)


def turned(joints: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate each frame's joints about the vertical through the pelvis by angles[t] radians."""
    out = joints.copy()
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    rel = joints - joints[:, :1]
    out[..., 0] = joints[:, :1, 0] + c * rel[..., 0] + s * rel[..., 2]
    out[..., 2] = joints[:, :1, 2] - s * rel[..., 0] + c * rel[..., 2]
    return out


def test_a_still_dancer_scores_zero_even_while_travelling():
    joints = standing(300)
    joints += np.linspace(0, 3, 300)[:, None, None] * np.array([1.0, 0.0, 0.0])  # walks 3 m as a statue
    stats = realism_stats(joints)
    assert stats.speed == pytest.approx(0.0, abs=1e-9)
    assert stats.spread == pytest.approx(0.0, abs=1e-9)
    assert stats.snaps_per_min == 0


def test_speed_and_spread_of_one_oscillating_wrist():
    frames, amp, hz = 3000, 0.2, 1.0
    joints = standing(frames)
    t = np.arange(frames) / FPS
    joints[:, 21, 1] += amp * np.sin(2 * np.pi * hz * t)
    # Mean |d/dt| of a sine is 4 * amp * hz; one joint of 22 moves. Std of a sine is amp / sqrt(2),
    # on one axis of 3 of one joint.
    assert root_relative_speed(joints) == pytest.approx(4 * amp * hz / N_JOINTS, rel=0.01)
    assert pose_spread(joints) == pytest.approx(amp / np.sqrt(2) / (3 * N_JOINTS), rel=0.01)


def test_a_quick_turn_is_a_snap_and_a_slow_one_is_not():
    frames = 600
    quick = np.zeros(frames)
    quick[300:] = np.deg2rad(90)  # 90 degrees in one frame
    assert heading_snaps(turned(standing(frames), quick)) == 1
    slow = np.deg2rad(np.clip((np.arange(frames) - 100) / 60.0, 0, None) * 60)  # 60 degrees a second
    assert heading_snaps(turned(standing(frames), slow)) == 0
    assert heading_snaps_per_minute(turned(standing(frames), quick)) == pytest.approx(3.0)  # 1 in 20 s


def test_a_steady_fast_spin_counts_once_per_window_it_turns_enough():
    frames = 60
    spin = np.deg2rad(np.arange(frames) * 15.0)  # 450 degrees a second: 90 degrees per 0.2 s window
    count = heading_snaps(turned(standing(frames), spin))
    assert 8 <= count <= 10  # about one per 6-frame window over 2 s


def test_primitive_energy_is_the_mean_squared_root_relative_speed():
    clips = np.repeat(standing(8)[None], 3, axis=0)
    assert primitive_energy(clips) == 0.0
    clips[:, :, 20, 0] += np.arange(8) * 0.1  # one joint at 3 m/s
    assert primitive_energy(clips) == pytest.approx(9.0 / N_JOINTS)
    with pytest.raises(ValueError):
        primitive_energy(clips[:, :1])


def test_pooling_weights_by_duration():
    a = realism_stats(standing(60))
    joints = standing(180)
    joints[:, 21, 1] += 0.1 * np.sin(np.arange(180))
    b = realism_stats(joints)
    pooled = pool_stats([a, b])
    assert pooled.speed == pytest.approx(0.75 * b.speed)
    assert pooled.minutes == pytest.approx(0.1 + 0.033333, rel=1e-3)
    assert pooled.primitive_energy is None


def test_body_frame_speed_counts_the_root_travel_that_root_relative_speed_leaves_out():
    from lodge.metrics.realism import body_frame_speeds, frame_speeds

    pose = np.random.default_rng(0).normal(size=(22, 3))
    gliding = pose[None] + np.arange(4)[:, None, None] * np.array([0.1, 0.0, 0.0])  # the whole body 0.1 m a frame
    np.testing.assert_allclose(body_frame_speeds(gliding, fps=30), 3.0)
    np.testing.assert_allclose(frame_speeds(gliding, fps=30), 0.0, atol=1e-12)


def test_posture_of_an_upright_figure_a_bowed_one_and_raised_arms():
    from lodge.metrics.realism import NECK, SHOULDERS, WRISTS, arms_up_share, median_lean, spine_lean

    still = standing(30)
    assert median_lean(still) < 10  # the rest pose stands (nearly) upright
    still[:, NECK, 0], still[:, NECK, 2] = still[:, 0, 0], still[:, 0, 2]  # now exactly
    assert median_lean(still) == pytest.approx(0.0, abs=1e-6)
    # Bow: turn everything above the pelvis 40 degrees forward about the pelvis's left-right axis.
    bowed = still.copy()
    rel = still - still[:, :1]
    a = np.deg2rad(40.0)
    bowed[..., 1] = still[:, :1, 1] + np.cos(a) * rel[..., 1] - np.sin(a) * rel[..., 2]
    bowed[..., 2] = still[:, :1, 2] + np.sin(a) * rel[..., 1] + np.cos(a) * rel[..., 2]
    assert spine_lean(bowed) == pytest.approx(np.full(30, 40.0))
    assert arms_up_share(still) == 0.0
    raised = still.copy()
    raised[:10, WRISTS[1], 1] = raised[:10, SHOULDERS[1], 1] + 0.3  # the right hand up for a third of the time
    assert arms_up_share(raised) == pytest.approx(1 / 3)
    stats = realism_stats(raised)
    assert stats.arms_up == pytest.approx(1 / 3) and stats.lean_deg == pytest.approx(median_lean(still))


def test_pooling_posture_skips_dances_without_it():
    from lodge.metrics.realism import RealismStats

    a = RealismStats(0.3, 0.05, 0.0, minutes=1.0, lean_deg=10.0, arms_up=0.2)
    b = RealismStats(0.3, 0.05, 0.0, minutes=3.0, lean_deg=30.0, arms_up=0.0)
    old = RealismStats(0.3, 0.05, 0.0, minutes=2.0)  # measured before the posture measures
    pooled = pool_stats([a, b, old])
    assert pooled.lean_deg == pytest.approx(25.0) and pooled.arms_up == pytest.approx(0.05)
    assert pool_stats([old]).lean_deg is None
