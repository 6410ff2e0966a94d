"""lodge.bvh, the one BVH reader and writer: a dance written by lodge.export reads back to its joints."""
from __future__ import annotations

import numpy as np
import pytest

from lodge import bvh as B
from lodge.constants import JOINT_NAMES, N_JOINTS, PARENTS
from lodge.dance import Dance, Primitive
from lodge.export import export_bvh
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion
from lodge.rotations import axis_angle_to_matrix


@pytest.fixture(scope="module")
def dance() -> Dance:
    frames = 50
    rng = np.random.default_rng(7)
    contacts, transl, _ = unpack_motion(rest_motion(frames))
    aa = rng.normal(scale=1.3, size=(frames, N_JOINTS, 3))
    aa[10, 2] = [np.pi / 2, 0, 0]  # the ZXY gimbal lock
    transl = np.array(transl) + np.c_[np.linspace(0, 2.0, frames), 0.2 * np.sin(np.arange(frames)), np.linspace(0, -1, frames)]
    motion = pack_motion(contacts, transl, axis_angle_to_matrix(aa.astype(np.float32)))
    return Dance(motion=motion, joints=motion_to_joints(motion), genre="test", beats=np.arange(0, frames, 15),
                 primitives=[Primitive(4, "hard")], segment_starts=np.array([0]))


def test_exported_bvh_reads_back_to_the_dance_joints_within_0_1_mm(dance, tmp_path):
    path = export_bvh(dance, tmp_path / "d.bvh")
    full = B.read_bvh(path)
    assert len(full.frames) == dance.num_frames and full.fps == pytest.approx(30, abs=1e-4)
    assert sum(j.is_end for j in full.joints) == sum(1 for j in range(N_JOINTS) if j not in PARENTS)
    positions, _ = B.bvh_forward_kinematics(full)
    body = [k for k, j in enumerate(full.joints) if not j.is_end]
    names = [full.joints[k].name for k in body]
    order = [names.index(n) for n in JOINT_NAMES]
    assert np.abs(positions[:, body][:, order] - dance.joints).max() < 1e-4
    names2, positions2 = B.read_bvh_joints(path)
    assert names2 == names
    np.testing.assert_array_equal(positions2, positions[:, body])


def test_format_then_parse_is_the_identity_and_end_sites_can_be_dropped(dance, tmp_path):
    full = B.read_bvh(export_bvh(dance, tmp_path / "d.bvh"))
    text = B.format_bvh(full)
    assert text == (tmp_path / "d.bvh").read_text()  # the writer writes back what it read, byte for byte
    bare = full.without_end_sites()
    assert all(not j.is_end for j in bare.joints) and len(bare.joints) == N_JOINTS
    assert np.array_equal(bare.frames, full.frames)
    assert [bare.names[p] if p >= 0 else None for p in bare.parents] == \
        [full.names[full.joints[k].parent] if full.joints[k].parent >= 0 else None
         for k, j in enumerate(full.joints) if not j.is_end]
    assert bare.channels[0][:3] == ["Xposition", "Yposition", "Zposition"] and bare.offsets.shape == (N_JOINTS, 3)
    again = B.parse_bvh(B.format_bvh(bare))  # without End Sites it is still a valid file
    np.testing.assert_allclose(B.bvh_forward_kinematics(again)[0], B.bvh_forward_kinematics(bare)[0], atol=1e-9)


def test_writer_refuses_joints_out_of_hierarchy_order(tmp_path):
    joints = [B.BvhJoint("root", -1, np.zeros(3), ["Xposition", "Yposition", "Zposition"]),
              B.BvhJoint("a", 0, np.ones(3), ["Zrotation"]), B.BvhJoint("b", 0, np.ones(3), ["Zrotation"]),
              B.BvhJoint("a2", 1, np.ones(3), ["Zrotation"])]  # a2 is written before b, but listed after it
    with pytest.raises(ValueError, match="depth-first"):
        B.write_bvh(B.Bvh(joints, np.zeros((1, 6)), 1 / 30), tmp_path / "x.bvh")
