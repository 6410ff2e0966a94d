"""Beat sync moves a dance's kinematic beats onto the music's beats, and no further than allowed."""
import numpy as np
import pytest

from lodge.post.beat_sync import MAX_RATE, MAX_SHIFT, MIN_RATE, beat_time_map, feasible_anchors, match_beats, output_frame, sync_to_beats
from lodge.metrics import beat_alignment_score, kinematic_beats
from lodge.motion import motion_to_joints, rest_motion

FRAMES = 300
PERIOD = 40  # root sways with period 40: speed minima every 20 frames, at 10, 30, 50, ...


def swaying_dance(frames: int = FRAMES) -> np.ndarray:
    """The rest pose swaying left and right: its kinematic beats sit at the turning points."""
    motion = rest_motion(frames).copy()
    t = np.arange(frames)
    motion[:, 4] = 0.3 * np.sin(2 * np.pi * t / PERIOD)
    return motion


def test_sway_has_known_beats():
    beats = kinematic_beats(motion_to_joints(swaying_dance()))
    assert np.abs(beats - (10 + 20 * np.round((beats - 10) / 20))).max() <= 1
    assert len(beats) >= 12


def test_beats_move_onto_the_music():
    motion = swaying_dance()
    music_beats = np.arange(14, FRAMES - 10, 20)  # every dance beat is 4 frames early
    before = beat_alignment_score(motion_to_joints(motion), music_beats)
    synced, src = sync_to_beats(motion, music_beats)
    after = beat_alignment_score(motion_to_joints(synced), music_beats)
    assert before < 0.5
    assert after > 0.9
    assert synced.shape == motion.shape
    np.testing.assert_allclose(synced[0, 4:7], motion[0, 4:7], atol=1e-5)  # first and last frames stay
    np.testing.assert_allclose(synced[-1, 4:7], motion[-1, 4:7], atol=1e-5)
    assert np.abs(src - np.arange(FRAMES)).max() <= MAX_SHIFT + 1e-9
    rates = np.diff(src)
    assert rates.min() >= MIN_RATE - 1e-9 and rates.max() <= MAX_RATE + 1e-9


def test_beats_too_far_away_are_left_alone():
    motion = swaying_dance()
    music_beats = np.arange(20, FRAMES, 20)  # half-way between dance beats: 10 frames off
    synced, src = sync_to_beats(motion, music_beats, max_shift=6)
    np.testing.assert_array_equal(src, np.arange(FRAMES))
    np.testing.assert_array_equal(synced, motion)


def test_no_music_beats_means_no_change():
    motion = swaying_dance()
    synced, src = sync_to_beats(motion, np.zeros(0, np.int64))
    np.testing.assert_array_equal(synced, motion)


def test_match_beats_is_one_to_one_and_nearest():
    pairs = match_beats(np.array([10, 12, 40]), np.array([11, 13, 70]), max_shift=3)
    assert pairs == {11.0: 10.0, 13.0: 12.0}  # 70 has no dance beat within 3 frames


def test_feasible_anchors_respect_rate_limits():
    # a pair that would need a playback rate of 3 is dropped
    d, m = feasible_anchors({20.0: 20.0, 25.0: 40.0, 60.0: 62.0}, 100)
    assert list(m) == [20.0, 60.0] and list(d) == [20.0, 62.0]
    src = beat_time_map(d, m, 100)
    assert src[0] == 0 and src[-1] == 99 and np.all(np.diff(src) > 0)


@pytest.mark.parametrize("frame", [-4, 0, 299, 305])
def test_frames_outside_the_dance_keep_their_place(frame):
    src = np.arange(FRAMES, dtype=np.float64)
    src[100:200] += 2.0
    assert output_frame(src, frame) == frame


def test_output_frame_inverts_the_map():
    motion = swaying_dance()
    _, src = sync_to_beats(motion, np.arange(14, FRAMES - 10, 20))
    for f in (30, 90, 150):
        shown = output_frame(src, f)
        assert abs(src[shown] - f) <= 1.0
