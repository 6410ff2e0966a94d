"""The SMPL / SMPL-X body through the real `smplx` package, with a synthetic model written at test time:
the renderer poses and draws it where the mannequin is, and the exported SMPL-X parameters and the BVH put
the joints where lodge's forward kinematics does."""
from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np
import pytest
import torch

from lodge.constants import JOINT_NAMES, N_JOINTS
from lodge.dance import Dance, Primitive
from lodge.bvh import local_transforms
from lodge.bvh import read_bvh as parse_bvh
from lodge.export import export_bvh, export_smplx_npz, read_bvh_joints
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion
from lodge.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from lodge.skeleton import rest_joints

smplx = pytest.importorskip("smplx")

MM = 1e-3


@pytest.fixture(scope="module")
def dance() -> Dance:
    """Two seconds of large rotations on every joint and a travelling, turning root."""
    frames = 60
    rng = np.random.default_rng(7)
    contacts, transl, _ = unpack_motion(rest_motion(frames))
    t = np.arange(frames)[:, None, None] / 30.0
    aa = rng.normal(scale=0.7, size=(1, N_JOINTS, 3)) * np.sin(2 * np.pi * t + rng.uniform(0, 6, (1, N_JOINTS, 1)))
    aa[:, 0, 1] += np.linspace(0, 3, frames)  # turning
    transl = np.array(transl) + np.c_[np.linspace(0, 1.0, frames), 0.05 * np.sin(np.arange(frames) / 5), np.linspace(0, -0.5, frames)]
    motion = pack_motion(contacts, transl, axis_angle_to_matrix(aa.astype(np.float32)))
    return Dance(motion=motion, joints=motion_to_joints(motion), genre="test", beats=np.arange(0, frames, 15),
                 primitives=[Primitive(4, "hard"), Primitive(30, "soft")], segment_starts=np.array([0]))


@pytest.fixture(scope="module")
def smplx_model(synthetic_body_dir):
    model = smplx.create(str(synthetic_body_dir), model_type="smplx", gender="neutral", num_betas=16,
                         use_pca=False, flat_hand_mean=False)
    model.eval()
    return model


def smplx_joints(model, poses: np.ndarray, trans: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """(T, 22, 3) joints of the SMPL-X body for AMASS-style (T, 165) poses, (T, 3) trans, betas."""
    n = len(poses)
    p = torch.from_numpy(np.asarray(poses, np.float32))
    with torch.no_grad():
        out = model(global_orient=p[:, :3], body_pose=p[:, 3:66], jaw_pose=p[:, 66:69], leye_pose=p[:, 69:72],
                    reye_pose=p[:, 72:75], left_hand_pose=p[:, 75:120], right_hand_pose=p[:, 120:165],
                    transl=torch.from_numpy(np.asarray(trans, np.float32)),
                    betas=torch.from_numpy(np.asarray(betas, np.float32)[None, :model.num_betas]).expand(n, -1),
                    expression=torch.zeros(n, model.num_expression_coeffs), batch_size=n)
    return out.joints[:, :N_JOINTS].numpy()


@pytest.fixture(scope="module")
def npz_joints(dance, smplx_model, tmp_path_factory) -> np.ndarray:
    """The exported .smplx.npz of `dance`, read back and posed by `smplx`."""
    path = export_smplx_npz(dance, tmp_path_factory.mktemp("export") / "dance.smplx.npz")
    with np.load(path) as data:
        assert float(data["mocap_framerate"]) == 30
        return smplx_joints(smplx_model, data["poses"], data["trans"], data["betas"])


def test_synthetic_model_is_a_real_smplx_model(smplx_model, synthetic_body_dir):
    out = smplx_model(return_verts=True)
    assert out.vertices.shape == (1, 10475, 3) and smplx_model.faces.max() < 10475
    np.testing.assert_allclose(out.joints[0, :N_JOINTS].detach().numpy(), rest_joints(), atol=1e-5)
    smpl = smplx.create(str(synthetic_body_dir), model_type="smpl", gender="neutral")
    assert smpl(return_verts=True).vertices.shape == (1, 6890, 3)


def test_exported_npz_reproduces_all_dance_joints_within_1mm(dance, npz_joints):
    """Lodge's skeleton is the SMPL-X neutral body's own, so `smplx` posing the exported parameters puts
    all 22 body joints on `dance.joints` (and the pelvis exactly where the dance has it)."""
    assert np.linalg.norm(npz_joints - dance.joints, axis=-1).max() < 1 * MM
    assert np.linalg.norm(npz_joints[:, 0] - dance.joints[:, 0], axis=-1).max() < 0.1 * MM


def test_bvh_reread_matches_dance_and_smplx(dance, npz_joints, smplx_model, tmp_path):
    """The BVH read back has the dance's joints, and its rotation channels, as SMPL-X parameters, give
    the same SMPL-X body as the .npz, with its joints on the dance's."""
    path = export_bvh(dance, tmp_path / "dance.bvh")
    names, positions = read_bvh_joints(path)
    order = [names.index(n) for n in JOINT_NAMES]
    assert np.linalg.norm(positions[:, order] - dance.joints, axis=-1).max() < 1 * MM
    full = parse_bvh(path)
    rots, _ = local_transforms(full)
    body = [k for k, j in enumerate(full.joints) if not j.is_end]
    rots = rots[:, body][:, order]
    poses = np.zeros((dance.num_frames, 165), np.float32)
    poses[:, :66] = np.asarray(matrix_to_axis_angle(rots.astype(np.float32))).reshape(dance.num_frames, -1)
    trans = positions[:, order][:, 0] - rest_joints()[0]
    from_bvh = smplx_joints(smplx_model, poses, trans, np.zeros(16))
    assert np.linalg.norm(from_bvh - npz_joints, axis=-1).max() < 1 * MM
    assert np.linalg.norm(from_bvh - dance.joints, axis=-1).max() < 1 * MM


def _render(body, size: int = 160) -> np.ndarray:
    from renderer.camera import camera_path
    from renderer.stage import Stage

    cams = camera_path(body.positions[:, 0], body.floor_height)
    red = np.tile(np.array([1.0, 0.0, 0.0], np.float32), (body.num_frames, 1))
    stage = Stage(body, cams, red, size=size)
    try:
        return np.stack([stage.render(f) for f in (0, 20, 40, 59)])
    finally:
        stage.close()


def _silhouette(frames: np.ndarray) -> np.ndarray:
    """Body pixels: strongly red (the tint) against the grey floor and background."""
    f = frames.astype(np.int16)
    return (f[..., 0] - np.maximum(f[..., 1], f[..., 2])) > 60


@pytest.fixture(scope="module")
def mannequin_silhouettes(dance):
    from renderer.body import MannequinBody

    return _silhouette(_render(MannequinBody(dance.motion)))


@pytest.mark.parametrize("kind", ["smplx", "smpl"])
def test_smpl_bodies_pose_and_render_where_the_mannequin_is(dance, synthetic_body_dir, mannequin_silhouettes, kind):
    from renderer.body import MannequinBody, SmplBody, available_bodies, make_body

    assert kind in available_bodies(synthetic_body_dir)
    body = make_body(dance.motion, body=kind, smpl_dir=synthetic_body_dir)
    assert isinstance(body, SmplBody) and body.kind == kind
    assert body.vertices(dance.num_frames - 1).shape == (10475 if kind == "smplx" else 6890, 3)
    mannequin = MannequinBody(dance.motion)
    for frame in (0, 30, 59):  # the same body in the same place: bounding boxes agree to a few cm
        ours, theirs = body.vertex_data(frame)[:, :3], mannequin.vertex_data(frame)[:, :3]
        assert np.abs(ours.min(0) - theirs.min(0)).max() < 0.03
        assert np.abs(ours.max(0) - theirs.max(0)).max() < 0.03
        assert np.allclose(np.linalg.norm(body.vertex_data(frame)[:, 3:], axis=1), 1, atol=1e-3)
    silhouettes = _silhouette(_render(body))
    for got, want in zip(silhouettes, mannequin_silhouettes):
        assert got.sum() > 300  # not blank
        iou = (got & want).sum() / (got | want).sum()
        assert iou > 0.75, iou


def test_available_bodies_needs_the_model_files(tmp_path, synthetic_body_dir, monkeypatch):
    from renderer.body import SMPL_DIR_ENV, available_bodies

    monkeypatch.delenv(SMPL_DIR_ENV, raising=False)
    assert available_bodies() == ("mannequin",)
    assert available_bodies(tmp_path) == ("mannequin",)
    assert available_bodies(tmp_path / "missing") == ("mannequin",)
    monkeypatch.setenv(SMPL_DIR_ENV, str(synthetic_body_dir))
    assert available_bodies() == ("mannequin", "smpl", "smplx")


def test_app_body_setting_offers_smpl_only_with_a_model_folder(synthetic_body_dir, tmp_path):
    from lodge_app.studio import Studio
    from lodge_app.settings import AppSettings

    bare = Studio(AppSettings(calibrate=False, smpl_dir=None))
    assert [value for _, value in bare.body_choices()] == ["mannequin"]
    assert "SMPLX_NEUTRAL.npz" in bare.body_info() and "LODGE_SMPL_MODEL_DIR" in bare.body_info()
    empty = Studio(AppSettings(calibrate=False, smpl_dir=tmp_path))
    assert [value for _, value in empty.body_choices()] == ["mannequin"]
    ready = Studio(AppSettings(calibrate=False, smpl_dir=synthetic_body_dir))
    assert [value for _, value in ready.body_choices()] == ["mannequin", "smplx", "smpl"]
    assert str(synthetic_body_dir) in ready.body_info()


def test_unreadable_model_file_warns_and_falls_back(dance, tmp_path):
    from renderer.body import MannequinBody, make_body

    (tmp_path / "smplx").mkdir()
    (tmp_path / "smplx" / "SMPLX_NEUTRAL.npz").write_bytes(b"not a model")
    with pytest.warns(RuntimeWarning, match="could not load"):
        body = make_body(dance.motion, body="smplx", smpl_dir=tmp_path)
    assert isinstance(body, MannequinBody)
