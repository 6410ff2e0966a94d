"""Rotations, skeleton and the 139-dim motion format."""
import numpy as np
import pytest
import torch

from lodge import rotations as R
from lodge.constants import MIRROR_CONTACTS, MIRROR_JOINTS, MOTION_DIM, N_JOINTS, PARENTS
from lodge.motion import (
    Normalizer, compute_contacts, ground_motion, mirror_joints, mirror_motion, motion_to_joints,
    pack_motion, rest_motion, unpack_motion,
)
from lodge.skeleton import forward_kinematics, rest_joints, rest_offsets


def random_motion(frames=16, seed=0):
    rng = np.random.default_rng(seed)
    aa = rng.normal(scale=0.6, size=(frames, N_JOINTS, 3)).astype(np.float32)
    transl = rng.normal(size=(frames, 3)).astype(np.float32)
    return pack_motion(np.zeros((frames, 4)), transl, R.axis_angle_to_matrix(aa))


def test_rest_pose_fk_gives_rest_joints():
    rot = np.broadcast_to(np.eye(3, dtype=np.float32), (2, N_JOINTS, 3, 3)).copy()
    transl = np.array([[0, 0, 0], [0.5, 1.0, -2.0]], np.float32)
    pos, _ = forward_kinematics(rot, transl)
    np.testing.assert_allclose(pos[0], rest_joints(), atol=1e-6)
    np.testing.assert_allclose(pos[1], rest_joints() + transl[1], atol=1e-6)


def test_fk_rotating_a_joint_moves_only_its_subtree():
    rot = np.broadcast_to(np.eye(3, dtype=np.float32), (1, N_JOINTS, 3, 3)).copy()
    rot[0, 18] = R.axis_angle_to_matrix(np.array([0, 0, 1.2], np.float32))  # left elbow
    pos, _ = forward_kinematics(rot, np.zeros((1, 3), np.float32))
    moved = np.linalg.norm(pos[0] - rest_joints(), axis=-1) > 1e-5
    assert list(np.nonzero(moved)[0]) == [20]  # only the left wrist moves
    bone = np.linalg.norm(pos[0, 20] - pos[0, 18])
    assert bone == pytest.approx(np.linalg.norm(rest_joints()[20] - rest_joints()[18]), abs=1e-5)


@pytest.mark.parametrize("angle_scale", [1e-9, 0.3, 3.0])
def test_rotation_round_trips(angle_scale):
    rng = np.random.default_rng(1)
    axis = rng.normal(size=(64, 3))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    aa = (axis * rng.uniform(0, 1, size=(64, 1)) * angle_scale).astype(np.float64)
    mat = R.axis_angle_to_matrix(aa)
    np.testing.assert_allclose(mat @ np.swapaxes(mat, -1, -2), np.broadcast_to(np.eye(3), mat.shape), atol=1e-9)
    np.testing.assert_allclose(R.matrix_to_axis_angle(mat), aa, atol=1e-6)
    np.testing.assert_allclose(R.rotation_6d_to_matrix(R.matrix_to_rotation_6d(mat)), mat, atol=1e-9)
    np.testing.assert_allclose(R.quaternion_to_matrix(R.matrix_to_quaternion(mat)), mat, atol=1e-9)
    np.testing.assert_allclose(R.quaternion_to_axis_angle(R.axis_angle_to_quaternion(aa)), aa, atol=1e-6)


def test_6d_is_first_two_rows_pytorch3d_convention():
    mat = R.axis_angle_to_matrix(np.array([0.3, -0.2, 0.9]))
    np.testing.assert_allclose(R.matrix_to_rotation_6d(mat), mat[:2].reshape(6))


def test_pack_unpack_round_trip():
    motion = random_motion()
    assert motion.shape == (16, MOTION_DIM)
    contacts, transl, rot = unpack_motion(motion)
    np.testing.assert_allclose(pack_motion(contacts, transl, rot), motion, atol=1e-6)


def _chain_asymmetry() -> np.ndarray:
    """(22,) for each joint, the summed left/right asymmetry of the rest bones from the pelvis down to it:
    |M o_j - o_mirror(j)| per bone (M = diag(-1, 1, 1)), plus the pelvis' own."""
    offsets = rest_offsets().astype(np.float64)
    flip = np.array([-1.0, 1.0, 1.0])
    bone = np.linalg.norm(offsets * flip - offsets[list(MIRROR_JOINTS)], axis=-1)
    bone[0] = 0.0  # mirror_motion negates the world pelvis x exactly
    out = bone.copy()
    for j in range(1, N_JOINTS):
        out[j] += out[PARENTS[j]]
    return out


def test_mirroring_twice_is_identity_and_mirrors_rotations_exactly():
    motion = random_motion()
    np.testing.assert_allclose(mirror_motion(mirror_motion(motion)), motion, atol=1e-6)
    mirrored = mirror_motion(motion)
    contacts, transl, rot = unpack_motion(motion)
    m_contacts, _, m_rot = unpack_motion(mirrored)
    flip = np.diag([-1.0, 1.0, 1.0]).astype(np.float32)
    # Exact in the rotations: each joint takes its mirror joint's rotation, reflected (M R M).
    np.testing.assert_allclose(m_rot, flip @ rot[:, list(MIRROR_JOINTS)] @ flip, atol=1e-5)
    np.testing.assert_array_equal(m_contacts, contacts[:, list(MIRROR_CONTACTS)])
    joints, m_joints = motion_to_joints(motion), motion_to_joints(mirrored)
    reflected = mirror_joints(joints)
    np.testing.assert_allclose(m_joints[:, 0], reflected[:, 0], atol=1e-5)  # the pelvis exactly
    # The other joints: off the exact reflection only by the SMPL-X body's own left/right asymmetry,
    # never more than the rest bones' asymmetry summed along the chain (whatever the pose).
    err = np.linalg.norm(m_joints - reflected, axis=-1)
    assert (err <= _chain_asymmetry() + 1e-5).all()
    assert err.max() > 0.005  # SMPL-X's body is not symmetric: the joints do not mirror exactly
    t = torch.from_numpy(motion)
    assert torch.allclose(mirror_motion(t), torch.from_numpy(mirror_motion(motion)))


def test_mirrored_real_motion_joints_within_the_measured_asymmetry():
    """On real dance (the retargeted CMU fixture) the mirrored joints sit about 2 cm from the exact
    reflection on average, 5 cm at most (wrists); measured 19.1 mm mean, 50.1 mm max."""
    from pathlib import Path

    from lodge.bvh import read_bvh
    from lodge.data.retarget import retarget

    motion = retarget(read_bvh(Path(__file__).parent / "fixtures" / "cmu_60_03_3s.bvh")).motion
    err = np.linalg.norm(motion_to_joints(mirror_motion(motion)) - mirror_joints(motion_to_joints(motion)), axis=-1)
    assert err[:, 0].max() < 1e-5
    assert 0.010 < err.mean() < 0.025 and err.max() < 0.060, (err.mean(), err.max())


def test_grounding_and_contacts():
    motion = random_motion(4)
    motion[:, 5] += 3.0  # float far above the floor
    grounded = ground_motion(motion)
    joints = motion_to_joints(grounded)
    assert min(joints[0, 10, 1], joints[0, 11, 1]) == pytest.approx(0.0, abs=1e-5)
    still = rest_motion(3)
    assert compute_contacts(motion_to_joints(still)).tolist() == [[1, 1, 1, 1]] * 3
    lifted = still.copy()
    lifted[:, 5] += 0.5
    assert compute_contacts(motion_to_joints(lifted)).sum() == 0


def test_normalizer_maps_training_range_to_unit_interval():
    data = random_motion(32)
    norm = Normalizer.fit(data)
    z = norm.normalize(data)
    assert z.min() >= -1 - 1e-5 and z.max() <= 1 + 1e-5
    np.testing.assert_allclose(norm.denormalize(z), data, atol=1e-5)
    again = Normalizer.from_dict(norm.to_dict())
    np.testing.assert_allclose(again.normalize(torch.from_numpy(data)).numpy(), z, atol=1e-5)


def test_normalizer_holds_dimensions_that_were_constant():
    data = random_motion(32)
    data[:, 90] = 0.7437  # a joint the retargeting fixes
    norm = Normalizer.fit(data)
    assert norm.held()[90] and set(np.flatnonzero(norm.held())) == set(np.flatnonzero(data.std(0) == 0))
    other = data.copy()
    other[:, 90] = 0.7944  # the same joint retargeted onto another skeleton
    for z in (norm.normalize(other), norm.normalize(torch.from_numpy(other)).numpy()):
        assert np.abs(z).max() <= 1 + 1e-5  # not (0.7944 - 0.7437) / eps
        assert (z[:, 90] == -1).all()
    back = norm.denormalize(torch.full((4, data.shape[1]), 3.0)).numpy()
    assert np.allclose(back[:, 90], 0.7437)


def test_primitive_space_amplifies_each_primitives_motion_about_its_mean_pose_and_inverts():
    from lodge.motion import PrimitiveNormalizer

    data = random_motion(64)
    norm = Normalizer.fit(data)
    prims = data.reshape(4, 2, 8, -1)  # (windows, primitives, frames, 139)
    plain, space = PrimitiveNormalizer(norm), PrimitiveNormalizer(norm, motion_gain=5.0)
    np.testing.assert_array_equal(plain.normalize(prims), norm.normalize(prims))  # gain 1: the normaliser itself
    z, y = norm.normalize(prims), space.normalize(prims)
    np.testing.assert_allclose(y.mean(-2), z.mean(-2), atol=1e-5)  # the mean pose stays
    np.testing.assert_allclose(y - y.mean(-2, keepdims=True), 5 * (z - z.mean(-2, keepdims=True)), atol=1e-4)
    np.testing.assert_allclose(space.denormalize(y), prims, atol=1e-4)
    as_torch = space.normalize(torch.from_numpy(prims))
    np.testing.assert_allclose(as_torch.numpy(), y, atol=1e-5)
    np.testing.assert_allclose(space.denormalize(as_torch).numpy(), prims, atol=1e-4)


def test_parents_precede_children():
    assert all(PARENTS[j] < j for j in range(1, N_JOINTS))


def test_planar_transform_turns_rigidly_and_inverts():
    from lodge.motion import align_transform, canonical_transform, heading, invert_planar, planar_transform

    motion = random_motion(6, seed=3)
    theta, offset = canonical_transform(motion[2])
    turned = planar_transform(motion, theta, offset)
    assert heading(turned[2]) == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_allclose(motion_to_joints(turned)[2, 0, [0, 2]], rest_joints()[0, [0, 2]], atol=1e-5)
    a, b = motion_to_joints(motion), motion_to_joints(turned)
    np.testing.assert_allclose(np.linalg.norm(a[:, 4] - a[:, 21], axis=-1), np.linalg.norm(b[:, 4] - b[:, 21], axis=-1), atol=1e-5)
    np.testing.assert_allclose(a[..., 1], b[..., 1], atol=1e-5)  # heights unchanged
    np.testing.assert_allclose(planar_transform(turned, *invert_planar(theta, offset)), motion, atol=1e-5)
    theta, offset = align_transform(motion[0], motion[5])
    aligned = planar_transform(motion, theta, offset)
    assert heading(aligned[0]) == pytest.approx(heading(motion[5]), abs=1e-5)
    np.testing.assert_allclose(motion_to_joints(aligned)[0, 0, [0, 2]], a[5, 0, [0, 2]], atol=1e-5)


def test_batched_planar_transforms_match_one_at_a_time():
    from lodge.motion import align_transform, align_transforms, planar_transform, planar_transforms

    rng = np.random.default_rng(3)
    motions = np.repeat(rest_motion(8)[None], 3, axis=0)
    motions[..., 4:7] += rng.normal(size=(3, 8, 3)).astype(np.float32)
    targets = np.stack([planar_transform(rest_motion(1)[0], a, np.array([x, -x])) for a, x in ((0.3, 1.0), (2.5, -2.0), (-1.2, 0.5))])
    thetas, offsets = align_transforms(motions[:, 4], targets)
    batched = planar_transforms(motions, thetas, offsets)
    for i in range(3):
        theta, offset = align_transform(motions[i, 4], targets[i])
        np.testing.assert_allclose(thetas[i], theta, atol=1e-9)
        np.testing.assert_allclose(batched[i], planar_transform(motions[i], theta, offset), atol=1e-5)
