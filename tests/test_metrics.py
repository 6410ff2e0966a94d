"""Dance metrics on synthetic dances with known answers (lodge.metrics)."""
import numpy as np
import pytest

from lodge.metrics import (
    OFFICIAL, MetricOptions, alignment_score, beat_alignment_score, div_k, diversity,
    evaluate_sequences, fid, foot_skating_ratio, geometric_features, kinematic_beats,
    kinetic_features, mean_speed_windows,
)
from lodge.metrics.geometric import NUM_GEOMETRIC_FEATURES
from lodge.motion import motion_to_joints, rest_motion

FPS = 30


def still(frames=300):
    """A body standing still in the rest pose, toes on the floor (ankles 5.8 cm up)."""
    return np.asarray(motion_to_joints(rest_motion(frames)), dtype=np.float64)


def translated(offsets):
    """The rest body moved rigidly by per-frame (T, 3) offsets."""
    offsets = np.asarray(offsets, dtype=np.float64)
    return still(len(offsets)) + offsets[:, None, :]


def sway(frames=300, period=60, shift=0.0, amplitude=0.3):
    """Rigid side-to-side sway x(t) = A cos(2 pi (t - shift) / period): speed minima at t = shift + k period/2."""
    t = np.arange(frames)
    offsets = np.zeros((frames, 3))
    offsets[:, 0] = amplitude * np.cos(2 * np.pi * (t - shift) / period)
    return translated(offsets)


def glide(frames, velocity, lift=0.0):
    """The rest body moving at a constant velocity (m/s), raised by ``lift`` metres."""
    t = np.arange(frames)[:, None] / FPS
    return translated(t * np.asarray(velocity, dtype=np.float64) + np.array([0.0, lift, 0.0]))


def random_dance(seed, frames=120):
    """Joints jiggling with random sinusoids around the rest pose (not a valid skeleton; fine for features)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / FPS
    freq = rng.uniform(0.3, 3.0, size=(1, 22, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, 22, 3))
    amp = rng.uniform(0.02, 0.2, size=(1, 22, 3))
    return still(frames) + amp * np.sin(2 * np.pi * freq * t + phase)


MUSIC_BEATS = np.arange(30, 300, 30)  # 9 beats inside a 300-frame dance


# --- beats -----------------------------------------------------------------------------------

def test_kinematic_beats_are_speed_minima():
    np.testing.assert_array_equal(kinematic_beats(sway()), MUSIC_BEATS)


def test_bas_is_one_when_dance_beats_sit_on_music_beats():
    assert beat_alignment_score(sway(), MUSIC_BEATS) == pytest.approx(1.0)


def test_bas_is_low_when_dance_is_ten_frames_late():
    score = beat_alignment_score(sway(shift=10), MUSIC_BEATS)
    assert score == pytest.approx(np.exp(-100 / 18), rel=1e-6)
    assert score < 0.01


def test_music_beats_beyond_the_dance_are_ignored_in_correct_mode_and_counted_in_official_mode():
    beats = np.concatenate([MUSIC_BEATS, [330, 360, 390]])
    assert beat_alignment_score(sway(), beats) == pytest.approx(1.0)
    # Official dance beats use forward differences: sway half a frame later puts them on the beats.
    late = sway(shift=0.5)
    np.testing.assert_array_equal(kinematic_beats(late, options=OFFICIAL), MUSIC_BEATS)
    assert beat_alignment_score(late, MUSIC_BEATS, options=OFFICIAL) == pytest.approx(1.0)
    assert beat_alignment_score(late, beats, options=OFFICIAL) == pytest.approx(9 / 12)


def test_alignment_score_edge_cases():
    assert np.isnan(alignment_score([], [10]))
    assert alignment_score([10], []) == 0.0
    assert alignment_score([10, 20], [13]) == pytest.approx(0.5 * (np.exp(-0.5) + np.exp(-49 / 18)))


# --- foot skating ----------------------------------------------------------------------------

def test_sliding_feet_in_contact_skate_every_frame():
    assert foot_skating_ratio(glide(60, [1.0, 0, 0])) == pytest.approx(1.0)


def test_planted_feet_do_not_skate():
    assert foot_skating_ratio(still(60)) == 0.0


def test_lifted_sliding_feet_do_not_skate():
    assert foot_skating_ratio(glide(60, [1.0, 0, 0], lift=0.2)) == 0.0


def test_slow_slide_below_threshold_does_not_skate():
    assert foot_skating_ratio(glide(60, [0.2, 0, 0])) == 0.0


def test_official_skating_uses_mean_of_components_and_per_foot_contact_ratio():
    frames = 60
    # Official: the last frame has zero velocity, and each foot's ratio is slides / contact frames.
    assert foot_skating_ratio(glide(frames, [1.0, 0, 0]), options=OFFICIAL) == pytest.approx((frames - 1) / frames)
    # |mean(vx, vz)| halves a slide along x (0.5 -> 0.25 m/s, under 0.3) ...
    assert foot_skating_ratio(glide(frames, [0.5, 0, 0])) == pytest.approx(1.0)
    assert foot_skating_ratio(glide(frames, [0.5, 0, 0]), options=OFFICIAL) == 0.0
    # ... and cancels a diagonal slide completely.
    assert foot_skating_ratio(glide(frames, [0.4, 0, -0.4])) == pytest.approx(1.0)
    assert foot_skating_ratio(glide(frames, [0.4, 0, -0.4]), options=OFFICIAL) == 0.0


# --- features --------------------------------------------------------------------------------

def test_kinetic_features_of_a_still_body_are_zero():
    feats = kinetic_features(still(40))
    assert feats.shape == (66,)
    np.testing.assert_allclose(feats, 0.0, atol=1e-9)


def test_kinetic_features_of_a_gliding_body_and_official_frame_time():
    # Lodge's variant: only the root travels; the other joints are root-relative and still.
    feats = kinetic_features(glide(40, [1.0, 0, 0])).reshape(22, 3)
    np.testing.assert_allclose(feats[0], [1.0, 0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(feats[1:], 0.0, atol=1e-6)
    # Official frame time 1/60 s on 30 fps data: velocities x2, kinetic energy x4.
    official = kinetic_features(glide(40, [1.0, 0, 0]), OFFICIAL).reshape(22, 3)
    np.testing.assert_allclose(official[0], [4.0, 0.0, 0.0], atol=1e-5)


def test_kinetic_energy_expenditure_scales_with_frame_time_squared():
    dance = random_dance(0)
    correct = kinetic_features(dance).reshape(22, 3)
    official = kinetic_features(dance, MetricOptions(kinetic_frame_time=1 / 60)).reshape(22, 3)
    np.testing.assert_allclose(official, 4 * correct, rtol=1e-5)


def test_geometric_features_shape_and_range():
    feats = geometric_features(random_dance(1))
    assert feats.shape == (NUM_GEOMETRIC_FEATURES,) == (32,)
    assert np.all((feats >= 0) & (feats <= 1))


def test_geometric_root_speed_uses_the_true_frame_time():
    # 0.3 m/s is under the 2.3 humerus-lengths/s "fast root" threshold (0.62 m/s) ...
    slow = glide(40, [0.3, 0, 0])
    assert geometric_features(slow)[-1] == 0.0
    # ... but the official 1/120 s frame time reads it as 1.2 m/s.
    assert geometric_features(slow, OFFICIAL)[-1] == 1.0


def test_geometric_relations_ignore_travel_in_correct_mode_only():
    drift = glide(300, [0.2, 0, 0])  # 2 m of travel, slower than any speed threshold
    np.testing.assert_array_equal(geometric_features(drift), geometric_features(still(300)))
    official = MetricOptions(body_frame_geometry=False)
    assert not np.array_equal(geometric_features(drift, official), geometric_features(still(300), official))


# --- distribution metrics --------------------------------------------------------------------

def test_fid_of_identical_sets_is_zero():
    feats = np.random.default_rng(0).normal(size=(200, 6))
    assert fid(feats, feats) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_shifted_sets_is_the_squared_shift():
    gt = np.random.default_rng(1).normal(size=(200, 6))
    shift = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])
    assert fid(gt + shift, gt, normalize=False) == pytest.approx(shift @ shift, rel=1e-6)
    # Normalised by the ground truth's statistics, the shift is measured in its standard deviations.
    expected = np.sum((shift / gt.std(axis=0)) ** 2)
    assert fid(gt + shift, gt) == pytest.approx(expected, rel=1e-6)


def test_diversity_is_mean_pairwise_distance():
    reference = np.array([[1.0, 1.0], [-1.0, -1.0]])  # mean 0, std 1: normalising changes nothing
    assert diversity([[0.0, 0.0], [3.0, 4.0]], reference) == pytest.approx(5.0)
    feats = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert diversity(feats, reference) == pytest.approx((5 + 10 + 5) / 3)


def test_diversity_of_identical_sequences_is_zero():
    dance = random_dance(2)
    assert div_k([dance, dance, dance]) == 0.0
    assert div_k([dance, dance], [random_dance(3), random_dance(4)]) == 0.0


# --- convenience -----------------------------------------------------------------------------

def test_mean_speed_windows_detects_a_freeze():
    moving = glide(151, [0.6, 0, 0])
    frozen = np.repeat(moving[-1:], 150, axis=0)
    windows = mean_speed_windows(np.concatenate([moving, frozen]), window_s=5)
    np.testing.assert_allclose(windows, [0.6, 0.0], atol=1e-6)


def test_evaluate_sequences_ground_truth_against_itself():
    dances = [random_dance(s, frames=90) for s in range(5)]
    beats = [np.arange(15, 90, 15)] * len(dances)
    result = evaluate_sequences(dances, dances, beats)
    assert set(result) == {"FIDk", "FIDg", "Divk", "Divg", "BAS", "FSR"}
    assert result["FIDk"] == pytest.approx(0.0, abs=1e-3)
    assert result["FIDg"] == pytest.approx(0.0, abs=1e-3)
    assert result["Divk"] > 0 and 0 <= result["BAS"] <= 1 and 0 <= result["FSR"] <= 1
    official = evaluate_sequences(dances, dances, beats, official=True)
    assert official["FIDk"] == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(ValueError):
        evaluate_sequences(dances, dances, beats[:2])
