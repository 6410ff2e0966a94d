"""Join smoothing removes jumps at cue edges without touching the cues; foot lock stops planted feet sliding."""
import numpy as np
from scipy.spatial.transform import Rotation

from lodge.post.footlock import lock_feet
from lodge.post.joins import BLEND_FRAMES, MAX_CLOSING_STEP, free_runs, smooth_joins
from lodge.metrics import foot_skating_ratio
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion

T = 120


def _with_jumps() -> tuple[np.ndarray, np.ndarray]:
    """Rest pose walking slowly along x; frames 50-57 are a 'cue' 0.5 m off to the side with the
    pelvis turned 90 degrees: a jump in and a jump out."""
    motion = rest_motion(T).copy()
    motion[:, 4] = np.linspace(0.0, 1.0, T)
    fixed = np.zeros(T, bool)
    fixed[50:58] = True
    contacts, transl, rot = (np.asarray(a) for a in unpack_motion(motion))
    transl = transl.copy()
    rot = rot.copy()
    transl[fixed, 2] += 0.5
    rot[fixed, 0] = Rotation.from_euler("y", 90, degrees=True).as_matrix()
    return pack_motion(contacts, transl, rot), fixed


def test_free_runs():
    fixed = np.array([1, 1, 0, 0, 0, 1, 0, 0, 1], bool)
    assert free_runs(fixed) == [(2, 5), (6, 8)]
    assert free_runs(np.zeros(3, bool)) == [(0, 3)]
    assert free_runs(np.ones(3, bool)) == []


def test_jumps_at_cue_edges_are_removed_and_cues_kept():
    motion, fixed = _with_jumps()
    before = np.linalg.norm(np.diff(motion_to_joints(motion), axis=0), axis=-1).mean(-1)
    out = smooth_joins(motion, fixed)
    after = np.linalg.norm(np.diff(motion_to_joints(out), axis=0), axis=-1).mean(-1)
    assert before[49] > 0.4 and before[57] > 0.4  # the jumps into and out of the cue
    assert after.max() < 0.1  # at most 10 cm of mean joint travel per frame anywhere
    np.testing.assert_array_equal(out[fixed], motion[fixed])
    far = np.r_[0:50 - BLEND_FRAMES - 1, 58 + BLEND_FRAMES + 1:T]
    np.testing.assert_allclose(out[far, 7:], motion[far, 7:], atol=1e-5)  # the rotations' fade ends within BLEND_FRAMES
    # the root's gaps (0.5 m) close no faster than MAX_CLOSING_STEP a frame each, over more frames
    closing = np.linalg.norm(np.diff(out[:, 4:7] - motion[:, 4:7], axis=0), axis=-1)
    assert closing[~(fixed[1:] | fixed[:-1])].max() <= 2 * MAX_CLOSING_STEP + 1e-6
    assert closing[np.r_[0:50 - BLEND_FRAMES - 1]].max() > 0  # and reach past BLEND_FRAMES to do so


def test_linear_root_mode_spreads_the_gap_over_the_run():
    motion, fixed = _with_jumps()
    out = smooth_joins(motion, fixed, root_blend=None)
    np.testing.assert_array_equal(out[fixed], motion[fixed])
    step = np.abs(np.diff(out[:, 6]))
    assert step.max() < 0.02  # 0.5 m over ~50 frames


def test_nothing_fixed_means_no_change():
    motion, _ = _with_jumps()
    np.testing.assert_array_equal(smooth_joins(motion, np.zeros(T, bool)), motion)


def _sliding(height: float) -> np.ndarray:
    """The rest pose (toes on the floor) dragged along x at 1.5 m/s, raised by `height`."""
    motion = rest_motion(60).copy()
    motion[:, 4] = np.arange(60) * 0.05
    motion[:, 5] += height
    return motion


def test_foot_lock_stops_a_planted_sliding_foot():
    motion = _sliding(0.0)
    assert foot_skating_ratio(motion_to_joints(motion)) > 0.9
    locked = lock_feet(motion, smooth_sigma=0)
    assert foot_skating_ratio(motion_to_joints(locked)) == 0.0
    np.testing.assert_allclose(locked[:, 4], locked[0, 4], atol=1e-5)  # the body no longer drifts
    np.testing.assert_array_equal(locked[:, 7:], motion[:, 7:])  # poses untouched


def test_foot_lock_leaves_feet_in_the_air_alone():
    motion = _sliding(0.3)
    np.testing.assert_array_equal(lock_feet(motion), motion)


def test_a_short_run_between_two_cues_meets_both():
    motion = rest_motion(40).copy()
    fixed = np.zeros(40, bool)
    fixed[10:18] = fixed[22:30] = True  # four generated frames between two cues
    motion[fixed, 6] = 1.0  # both cues stand 1 m further along z than the generated frames
    out = smooth_joins(motion, fixed)
    steps = np.abs(np.diff(out[:, 6]))
    assert steps[17:22].max() < 0.05  # from the first cue, through the short run, into the second
    np.testing.assert_array_equal(out[fixed], motion[fixed])
