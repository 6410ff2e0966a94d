"""The low-pass takes a frame-to-frame judder off generated motion and keeps slow motion and cue frames."""
import numpy as np
from scipy.spatial.transform import Rotation

from lodge.post.lowpass import despike_motion, lowpass_motion
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion

T = 90


def _speed(motion: np.ndarray) -> float:
    joints = motion_to_joints(motion)
    rel = joints - joints[:, :1]
    return float(np.linalg.norm(np.diff(rel, axis=0), axis=-1).mean() * 30)


def _dance(judder: float, seed: int = 0) -> np.ndarray:
    """Arms and knees swinging at 1.5 Hz, plus (optionally) an independent random wobble on every frame."""
    rng = np.random.default_rng(seed)
    contacts, transl, rot = (np.asarray(a).copy() for a in unpack_motion(rest_motion(T)))
    phase = 2 * np.pi * 1.5 * np.arange(T) / 30
    for joint, axis, amp in ((16, "z", 0.8), (17, "z", -0.8), (4, "x", 0.6), (5, "x", -0.6), (3, "y", 0.3)):
        angles = amp * np.sin(phase) + judder * rng.normal(size=T)
        rot[:, joint] = Rotation.from_euler(axis, angles[:, None]).as_matrix()
    transl[:, 0] += judder * 0.05 * rng.normal(size=T)
    return pack_motion(contacts, transl, rot)


def test_judder_is_removed_and_the_dance_kept():
    smooth, juddery = _dance(0.0), _dance(0.15)
    assert _speed(juddery) > 1.5 * _speed(smooth)
    assert _speed(lowpass_motion(smooth)) > 0.93 * _speed(smooth)  # the dance itself keeps its speed
    assert _speed(lowpass_motion(juddery)) < 0.8 * _speed(juddery)
    filtered = lowpass_motion(juddery)
    assert np.abs(filtered[:, 7:] - smooth[:, 7:]).mean() < np.abs(juddery[:, 7:] - smooth[:, 7:]).mean()


def test_rotations_stay_rotations_contacts_and_fixed_frames_stay_as_they_are():
    motion = _dance(0.3, seed=1)
    motion[:, :4] = (np.arange(T) % 7 < 3)[:, None]
    fixed = np.zeros(T, bool)
    fixed[40:48] = True
    out = lowpass_motion(motion, fixed)
    np.testing.assert_array_equal(out[fixed], motion[fixed])
    np.testing.assert_array_equal(out[:, :4], motion[:, :4])
    assert not np.allclose(out[~fixed, 7:], motion[~fixed, 7:])
    _, _, rot = unpack_motion(out)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-5)
    np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-5)
    np.testing.assert_array_equal(lowpass_motion(motion, sigma=0, root_sigma=0), motion)


def test_horizontal_root_gets_the_wider_filter():
    motion = _dance(0.0)
    rng = np.random.default_rng(2)
    travel = np.linspace(0.0, 1.0, T)  # walking 1 m in 3 s: kept
    motion[:, 4] = travel + 0.05 * rng.normal(size=T)  # with a 5 cm judder on every frame: removed
    out = lowpass_motion(motion)
    speed = lambda x: np.abs(np.diff(x)).mean() * 30  # noqa: E731
    assert speed(out[:, 4]) < 0.35 * speed(motion[:, 4])
    assert np.abs(out[10:-10, 4] - travel[10:-10]).mean() < 0.5 * np.abs(motion[10:-10, 4] - travel[10:-10]).mean()
    np.testing.assert_allclose(lowpass_motion(motion, root_sigma=0)[:, 4], motion[:, 4])


def test_a_root_jump_becomes_a_walk_and_the_fixed_frames_keep_their_place():
    motion = _dance(0.0)
    motion[:, 4] = np.linspace(0.0, 1.0, T)
    motion[50:52, 4] += 1.0  # the dancer a metre away for two frames
    motion[60:, 6] += 0.8  # and 0.8 m aside from frame 60 on, where a cue (frames 70-77) says so
    fixed = np.zeros(T, bool)
    fixed[70:78] = True
    out = lowpass_motion(despike_motion(motion, fixed), fixed)  # the pipeline's order
    steps = np.linalg.norm(np.diff(out[:, [4, 6]], axis=0), axis=-1)
    assert steps.max() < 0.06, steps.max()  # was 1 m
    np.testing.assert_array_equal(out[fixed], motion[fixed])


def test_a_half_turn_flip_is_taken_out_and_a_real_spin_kept():
    from scipy.spatial.transform import Rotation

    from lodge.motion import pack_motion

    def turn_of(motion):
        _, _, rot = unpack_motion(motion)
        r = Rotation.from_matrix(np.asarray(rot)[:, 0])
        return np.degrees(np.linalg.norm((r[1:] * r[:-1].inv()).as_rotvec(), axis=-1))

    contacts, transl, rot = (np.asarray(a).copy() for a in unpack_motion(_dance(0.0)))
    spin = np.radians(25.0) * np.arange(T)  # a spin at 25 degrees a frame (2 turns a second): kept
    rot[:, 0] = Rotation.from_euler("y", spin[:, None]).as_matrix()
    spinning = pack_motion(contacts, transl, rot)
    np.testing.assert_allclose(turn_of(despike_motion(spinning)), turn_of(spinning), atol=0.5)
    heading = np.radians(10.0) * np.sin(np.arange(T) / 10)
    heading[40:42] += np.pi * 0.95  # the body flipped round for two frames
    rot[:, 0] = Rotation.from_euler("y", heading[:, None]).as_matrix()
    flipped = pack_motion(contacts, transl, rot)
    assert turn_of(flipped).max() > 150
    assert turn_of(despike_motion(flipped)).max() < 15


def test_a_primitive_that_flips_by_a_half_turn_faces_one_way():
    from lodge.constants import ROT_SLICE
    from lodge.post.lowpass import face_one_way
    from lodge.rotations import matrix_to_rotation_6d, rotation_6d_to_matrix

    clip = rest_motion(8).astype(np.float32)
    pelvis = slice(ROT_SLICE.start, ROT_SLICE.start + 6)
    yaw = np.array([0, 3, 6, 150, 153, 156, 159, 162], float)  # a half turn between frames 2 and 3
    matrices = Rotation.from_euler("y", yaw[:, None], degrees=True).as_matrix()
    clip[:, pelvis] = np.asarray(matrix_to_rotation_6d(matrices), np.float32)
    clip[:, 20:30] += np.linspace(0, 0.3, 8)[:, None]  # some pose change that must stay
    fixed = face_one_way(clip)

    turned = Rotation.from_matrix(np.asarray(rotation_6d_to_matrix(fixed[:, pelvis].astype(np.float64))))
    steps = np.degrees(np.linalg.norm((turned[1:] * turned[:-1].inv()).as_rotvec(), axis=-1))
    assert steps.max() < 4
    np.testing.assert_allclose(fixed[3:], clip[3:], atol=1e-6)  # the longer side is left as it was
    np.testing.assert_allclose(np.delete(fixed, pelvis, axis=1), np.delete(clip, pelvis, axis=1))
    np.testing.assert_array_equal(face_one_way(fixed), fixed)  # a clip without a flip is unchanged


def test_a_primitive_with_a_token_seam_moves_evenly_and_keeps_each_tokens_motion():
    from lodge.constants import CONTACT_SLICE
    from lodge.post import close_token_seams

    clip = _dance(0.0)[:8].copy()
    clip[:, CONTACT_SLICE] = np.array([1, 1, 0, 0, 0, 1, 1, 1], np.float32)[:, None]
    seamed = clip.copy()
    seamed[4:, 4:] += np.float32(0.4)  # the second token disagrees with the first, every channel but the contacts
    closed = close_token_seams(seamed, patch=4)

    steps = lambda m: np.abs(np.diff(m[:, 4:], axis=0)).max(-1)  # noqa: E731
    assert steps(seamed)[3] > 0.39 and steps(closed).max() <= steps(clip).max() + 1e-5
    np.testing.assert_allclose(np.diff(closed[:4], axis=0), np.diff(seamed[:4], axis=0), atol=1e-6)  # each token
    np.testing.assert_allclose(np.diff(closed[4:], axis=0), np.diff(seamed[4:], axis=0), atol=1e-6)  # keeps its shape
    np.testing.assert_array_equal(closed[:, CONTACT_SLICE], seamed[:, CONTACT_SLICE])
    np.testing.assert_allclose(close_token_seams(clip, patch=4), clip, atol=0.02)  # no seam: nearly as it was
    np.testing.assert_array_equal(close_token_seams(seamed, patch=1), seamed)  # a token per frame: no seams
    np.testing.assert_array_equal(close_token_seams(seamed, patch=8), seamed)  # one token: no seams
