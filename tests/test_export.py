"""Exports round-trip: BVH re-read by forward kinematics, SMPL-X npz layout, animated GLB."""
from __future__ import annotations

import numpy as np
import pytest

from lodge.constants import JOINT_NAMES, N_JOINTS, PARENTS
from lodge.dance import Dance, Primitive
from lodge.export import export_bvh, export_main, export_smplx_npz, read_bvh, read_bvh_joints
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion
from lodge.rotations import axis_angle_to_matrix, quaternion_to_matrix
from lodge.skeleton import rest_joints


@pytest.fixture(scope="module")
def dance() -> Dance:
    """Large random rotations on every joint (incl. near-gimbal-lock angles) and a travelling root."""
    frames = 40
    rng = np.random.default_rng(3)
    contacts, transl, _ = unpack_motion(rest_motion(frames))
    t = np.arange(frames)[:, None, None] / 30.0
    aa = (rng.normal(scale=1.2, size=(1, N_JOINTS, 3)) * np.sin(2 * np.pi * t + rng.uniform(0, 6, (1, N_JOINTS, 1))))
    aa[5, 4] = [np.pi / 2, 0, 0]  # exactly at the ZXY gimbal lock (X = 90 degrees)
    transl = np.array(transl) + np.c_[np.linspace(0, 1.5, frames), 0.1 * np.sin(np.arange(frames)), np.linspace(0, -0.7, frames)]
    motion = pack_motion(contacts, transl, axis_angle_to_matrix(aa.astype(np.float32)))
    return Dance(motion=motion, joints=motion_to_joints(motion), genre="test", beats=np.arange(0, frames, 15),
                 primitives=[Primitive(4, "hard")], segment_starts=np.array([0]))


def test_bvh_round_trip_within_1mm(dance, tmp_path):
    path = export_bvh(dance, tmp_path / "d.bvh")
    names, positions = read_bvh_joints(path)
    assert sorted(names) == sorted(JOINT_NAMES)
    order = [names.index(n) for n in JOINT_NAMES]
    assert np.abs(positions[:, order] - dance.joints).max() < 1e-3
    bvh = read_bvh(path)
    assert len(bvh.frames) == dance.num_frames and bvh.frame_time == pytest.approx(1 / 30, abs=1e-6)
    assert [bvh.parents[names.index(JOINT_NAMES[j])] for j in range(1, N_JOINTS)] == \
        [names.index(JOINT_NAMES[PARENTS[j]]) for j in range(1, N_JOINTS)]
    assert bvh.channels[0] == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]


def test_bvh_accepts_bare_motion(dance, tmp_path):
    _, positions = read_bvh_joints(export_bvh(dance.motion, tmp_path / "m.bvh"))
    assert positions.shape == (dance.num_frames, N_JOINTS, 3)


def test_smplx_npz_layout_and_values(dance, tmp_path):
    with np.load(export_smplx_npz(dance, tmp_path / "d.npz")) as data:
        assert data["poses"].shape == (dance.num_frames, 165)
        assert data["trans"].shape == (dance.num_frames, 3)
        assert data["betas"].shape == (16,) and not data["betas"].any()
        assert str(data["gender"]) == "neutral" and float(data["mocap_framerate"]) == 30
        assert not data["poses"][:, 66:].any()  # jaw, eyes, hands
        np.testing.assert_array_equal(data["root_orient"], data["poses"][:, :3])
        np.testing.assert_array_equal(data["pose_body"], data["poses"][:, 3:66])
        _, transl, rotmats = unpack_motion(dance.motion)
        back = axis_angle_to_matrix(data["poses"][:, :66].reshape(-1, 22, 3))
        np.testing.assert_allclose(back, rotmats, atol=1e-4)
        # trans is lodge's own: it puts the SMPL-X neutral pelvis (lodge's rest pelvis) on the dance's pelvis.
        np.testing.assert_allclose(data["trans"], transl, atol=1e-6)
        np.testing.assert_allclose(data["trans"] + rest_joints()[0], dance.joints[:, 0], atol=1e-5)


def test_export_main_cli(dance, tmp_path):
    src = dance.save_npz(tmp_path / "dance.npz")
    assert export_main([str(src), "--bvh", str(tmp_path / "o.bvh"), "--smplx", str(tmp_path / "o.npz")]) == 0
    assert (tmp_path / "o.bvh").stat().st_size > 0 and (tmp_path / "o.npz").stat().st_size > 0


def _accessor(gltf, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc.type]
    data = gltf.binary_blob()[view.byteOffset + (acc.byteOffset or 0):][: acc.count * width * 4]
    return np.frombuffer(data, np.float32).reshape(acc.count, width)


def test_glb_loads_with_one_animation_that_reproduces_the_joints(dance, tmp_path):
    import pygltflib
    import trimesh

    from renderer.glb import export_glb

    path = export_glb(dance, tmp_path / "d.glb")
    scene = trimesh.load(path)
    assert len(scene.geometry) == N_JOINTS
    gltf = pygltflib.GLTF2().load(str(path))
    assert len(gltf.animations) == 1
    anim = gltf.animations[0]
    times = _accessor(gltf, anim.samplers[0].input)[:, 0]
    assert len(times) == dance.num_frames and times[-1] == pytest.approx((dance.num_frames - 1) / 30, abs=1e-5)
    # Forward kinematics through the node tree with the animated tracks gives back the dance's joints.
    tracks = {(c.target.node, c.target.path): _accessor(gltf, anim.samplers[c.sampler].output) for c in anim.channels}
    names = [n.name for n in gltf.nodes]
    parent = {c: i for i, n in enumerate(gltf.nodes) for c in n.children}
    world_r, world_t = {}, {}
    for i in range(len(gltf.nodes)):  # parents come first in this file
        q = tracks[(i, "rotation")]
        r = quaternion_to_matrix(q[:, [3, 0, 1, 2]].astype(np.float64))
        t = tracks.get((i, "translation"), np.broadcast_to(np.asarray(gltf.nodes[i].translation), (len(q), 3)))
        if i in parent:
            p = parent[i]
            world_t[i] = world_t[p] + np.einsum("tij,tj->ti", world_r[p], t)
            world_r[i] = world_r[p] @ r
        else:
            world_t[i], world_r[i] = np.asarray(t, np.float64), r
    joints = np.stack([world_t[names.index(n)] for n in JOINT_NAMES], axis=1)
    assert np.abs(joints - dance.joints).max() < 1e-3
