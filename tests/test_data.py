"""Data side: BVH reading, CMU retargeting, glitch cutting, corpus items, split and training windows."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from lodge.constants import MOTION_DIM, MUSIC_DIM
from lodge.bvh import bvh_forward_kinematics, format_bvh, parse_bvh, read_bvh
from lodge.data.cmu import clean_pieces
from lodge.data.dataset import WindowDataset, load_corpus
from lodge.data.items import save_item, split_groups
from lodge.data.retarget import bone_angle_errors, floor_violation, position_errors, retarget
from lodge.motion import motion_to_joints, mirror_motion

FIXTURES = Path(__file__).parent / "fixtures"
BVH = FIXTURES / "cmu_60_03_3s.bvh"


@pytest.fixture(scope="module")
def take():
    bvh = read_bvh(BVH)
    return bvh, retarget(bvh)


def test_bvh_parse_and_round_trip():
    bvh = read_bvh(BVH)
    assert len(bvh.frames) == 90 and abs(bvh.fps - 30) < 1e-3
    assert sum(not j.is_end for j in bvh.joints) == 21
    again = parse_bvh(format_bvh(bvh))
    np.testing.assert_allclose(again.frames, bvh.frames, atol=1e-4)
    pos, _ = bvh_forward_kinematics(bvh)
    assert pos.shape == (90, len(bvh.joints), 3)


def test_bvh_euler_order_as_written():
    text = BVH.read_text()
    head, _ = text.split("MOTION")
    bvh = parse_bvh(text)
    # Root channels are Z X Y; a 90 deg Z then 90 deg X rotation differs from X then Z.
    frames = np.zeros((1, bvh.frames.shape[1]))
    frames[0, 3], frames[0, 4] = 90.0, 90.0
    one = parse_bvh(head + "MOTION\nFrames: 1\nFrame Time: 0.0333333\n" + " ".join(map(str, frames[0])))
    _, glob = bvh_forward_kinematics(one)
    rz = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
    np.testing.assert_allclose(glob[0, 0], rz @ rx, atol=1e-9)


def test_retarget_keeps_bone_directions(take):
    bvh, ret = take
    assert ret.motion.shape == (90, MOTION_DIM)
    assert bone_angle_errors(ret, bvh.names).max() < 0.5  # degrees
    # legs match closely after leg-length scaling; upper body differs by proportions only
    err = position_errors(ret, bvh.names)
    assert err.mean() < 0.10 and err[:, :8].mean() < 0.05


def test_retarget_stays_on_the_floor(take):
    bvh, ret = take
    assert floor_violation(ret, bvh.names).max() < 0.02
    feet = ret.joints[:, [7, 8, 10, 11], 1].min(1)
    assert feet.min() > -0.02 and np.median(feet) < 0.06  # standing, not floating
    assert ret.motion[:, :4].mean() > 0.3  # salsa steps: feet in contact most of the time


def test_retarget_round_trips_139(take):
    _, ret = take
    joints = motion_to_joints(ret.motion)
    np.testing.assert_allclose(joints, ret.joints, atol=1e-4)
    half = motion_to_joints(ret.motion.astype(np.float16).astype(np.float32))
    assert np.abs(half - ret.joints).max() < 0.01  # corpus stores fp16


def test_clean_pieces_cut_glitches():
    pieces = clean_pieces(600, [(5.0, 5.5), (6.0, 6.2)])
    assert pieces[0] == (0, 147)
    assert all(b - a >= 120 for a, b in pieces)
    assert not any(a <= 160 < b for a, b in pieces)
    assert pieces[-1][1] == 600


def test_split_groups_by_genre():
    groups = {f"g{i}": "salsa" if i < 10 else "swing" for i in range(14)}
    test = split_groups(groups, 0.2, seed=0)
    assert test == split_groups(groups, 0.2, seed=0)
    assert any(g in test for g in groups if groups[g] == "salsa")
    assert any(g in test for g in groups if groups[g] == "swing")
    assert len([g for g in test if groups[g] == "swing"]) < 4


def _tiny_corpus(directory: Path, take) -> None:
    _, ret = take
    (directory / "items").mkdir(parents=True)
    rng = np.random.default_rng(0)
    split = {"train": {"items": [], "takes": []}, "test": {"items": [], "takes": []}}
    for k, side in enumerate(["train", "train", "test"]):
        music = rng.normal(size=(90, MUSIC_DIM)).astype(np.float32)
        save_item(directory / "items" / f"item{k}.npz", ret.motion, music, genre="salsa", take=f"t{k}",
                  item_id=f"item{k}")
        split[side]["items"].append(f"item{k}")
        split[side]["takes"].append(f"t{k}")
    (directory / "split.json").write_text(json.dumps(split))


def test_load_corpus_and_windows(tmp_path, take):
    _tiny_corpus(tmp_path, take)
    train = load_corpus(tmp_path, "train")
    test = load_corpus(tmp_path, "test")
    assert [it.item_id for it in train] == ["item0", "item1"] and len(test) == 1
    assert train[0].motion.dtype == np.float32 and train[0].motion.shape == (90, MOTION_DIM)
    assert train[0].music.shape == (90, MUSIC_DIM)
    ds = WindowDataset(train, length=64, seed=1)
    batch = [ds[i] for i in range(len(ds) * 4)]
    assert all(b["motion"].shape == (64, MOTION_DIM) and b["music"].shape == (64, MUSIC_DIM) for b in batch)
    assert int(batch[0]["genre"]) == 0
    src = train[0].motion
    # every window is a slice of the item, or of its mirror image
    mirrored = mirror_motion(src)
    kinds = set()
    for b in batch:
        w = b["motion"].numpy()
        for kind, ref in (("plain", src), ("mirror", mirrored)):
            if any(np.allclose(w, ref[s:s + 64], atol=1e-6) for s in range(90 - 64 + 1)):
                kinds.add(kind)
    assert kinds == {"plain", "mirror"}
    with pytest.raises(ValueError):
        WindowDataset(train, length=256)
    padded = WindowDataset(train, length=128, pad_short=True)[0]
    assert padded["motion"].shape == (128, MOTION_DIM) and int(padded["mask"].sum()) == 90


# ----------------------------------------------------------------------------- music pairing

def test_synth_music_beats_land_on_the_grid():
    from lodge.audio import music_features
    from lodge.data.beats import beat_alignment_score
    from lodge.data.music_synth import synthesize

    grid = np.arange(30, 450, 20.0)
    wave, desc = synthesize(grid, 450, "party", 0)
    assert wave.dtype == np.float32 and len(wave) == 450 * 512
    beats = music_features(wave).beats
    assert beat_alignment_score(beats, grid) > 0.7
    other, desc1 = synthesize(grid, 450, "party", 1)
    assert desc1 != desc and not np.allclose(other, wave)


def test_fresh_music_is_new_music_on_the_items_own_beats():
    from lodge.audio import MARK_COLUMNS, music_features
    from lodge.data.beats import beat_alignment_score
    from lodge.data.dataset import CorpusItem
    from lodge.data.music_synth import fresh_music, synthesize

    grid = np.arange(30, 450, 20.0)
    music = music_features(synthesize(grid, 450, "salsa", 0)[0]).features
    item = CorpusItem(np.zeros((450, MOTION_DIM), np.float32), music, "salsa", "t", "t_p0_synth0")
    fresh = fresh_music(item)
    assert fresh.music.shape == music.shape and fresh.motion is item.motion and fresh.item_id == item.item_id
    assert not np.allclose(fresh.music, music)  # other notes and instruments ...
    beats = np.flatnonzero(fresh.music[:, MARK_COLUMNS[1]] > 0.5)
    old_beats = np.flatnonzero(music[:, MARK_COLUMNS[1]] > 0.5)
    assert beat_alignment_score(old_beats, beats) > 0.7  # ... on the same beats (librosa may hear twice as many)
    assert np.array_equal(fresh_music(item).music, fresh.music)  # deterministic
    assert not np.allclose(fresh_music(item, seed=1).music, fresh.music)


def test_retimed_dance_beats_land_on_music_beats(take):
    from lodge.data.beats import beat_alignment_score, kinematic_beats
    from lodge.data.retime import MAX_STRETCH, MIN_STRETCH, align_beats, time_map
    from lodge.post.warp import warp_motion

    _, ret = take
    motion = np.concatenate([ret.motion] * 3)  # 9 s: enough beats
    kin = kinematic_beats(motion_to_joints(motion)).astype(float)
    music = np.arange(5.0, 400.0, 16.0)
    dp, mp = align_beats(kin, music)
    assert len(dp) >= 0.6 * len(kin)
    stretch = np.diff(mp) / np.diff(dp)
    assert stretch.min() >= MIN_STRETCH - 1e-9 and stretch.max() <= MAX_STRETCH + 1e-9
    src, out_t = time_map(dp, mp, len(motion), max(0.0, mp[0] - dp[0]))
    np.testing.assert_allclose(np.interp(mp, out_t, src), dp, atol=1e-6)  # each pair lands exactly
    warped = warp_motion(motion, src)
    assert warped.shape == (len(src), MOTION_DIM)
    joints = motion_to_joints(warped)
    assert np.isfinite(joints).all()
    paired = mp - out_t[0]
    assert beat_alignment_score(paired[(paired >= 0)], kinematic_beats(joints)) > 0.5


def test_cmu_split_never_shares_a_take():
    from lodge.data.cmu import read_manifest

    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmu_dance"  # a checkout beside shared/
    try:
        takes = read_manifest(None if os.environ.get("LODGE_CMU_DIR") or not beside.is_dir() else beside)
    except FileNotFoundError:
        pytest.skip("CMU dance folder not here (set LODGE_CMU_DIR)")
    test = split_groups({t.group: t.genre for t in takes}, 0.15, seed=0)
    test_takes = {t.take_id for t in takes if t.group in test}
    train_takes = {t.take_id for t in takes if t.group not in test}
    assert not test_takes & train_takes
    assert {t.genre for t in takes if t.take_id in test_takes} == {t.genre for t in takes}
    for t in takes:
        if t.subject == "61":
            assert (t.take_id in test_takes) == (f"60_{t.take}" in test_takes)
    assert "latin" not in {t.genre for t in takes}


# ----------------------------------------------------------------------------- readers

def _click_wav(path: Path, seconds: float) -> None:
    import soundfile as sf
    from lodge.audio import synth_click_track

    sf.write(path, synth_click_track(120, seconds), 15360)


def test_finedance_reader(tmp_path, take):
    from lodge.data.finedance import read_finedance
    from lodge.rotations import matrix_to_rotation_6d
    from lodge.motion import unpack_motion

    _, ret = take
    contacts, transl, rot = unpack_motion(ret.motion)
    full = np.broadcast_to(np.eye(3, dtype=np.float32), (90, 52, 3, 3)).copy()
    full[:, :22] = rot
    raw319 = np.concatenate([contacts, transl, matrix_to_rotation_6d(full).reshape(90, -1)], 1)
    (tmp_path / "motion").mkdir()
    (tmp_path / "music_wav").mkdir()
    np.save(tmp_path / "motion" / "001.npy", raw319)
    np.save(tmp_path / "motion" / "002.npy", raw319[:, 4:])  # the 315-dim form
    for stem in ("001", "002"):
        _click_wav(tmp_path / "music_wav" / f"{stem}.wav", 3.0)
    (tmp_path / "label.json").write_text(json.dumps({"001": "Popping", "002": ["Dai"]}))
    items = read_finedance(tmp_path)
    assert [it.genre for it in items] == ["Popping", "Dai"]
    for it in items:
        assert it.motion.shape == (90, MOTION_DIM) and it.music.shape == (90, MUSIC_DIM)
        np.testing.assert_allclose(motion_to_joints(it.motion), ret.joints, atol=1e-4)


def test_aistpp_reader(tmp_path, take):
    import pickle

    from lodge.data.aistpp import read_aistpp
    from lodge.rotations import matrix_to_axis_angle
    from lodge.motion import unpack_motion

    _, ret = take
    _, transl, rot = unpack_motion(ret.motion)
    aa = np.zeros((90, 24, 3), np.float32)
    aa[:, :22] = matrix_to_axis_angle(rot)
    scaling = 93.7
    data = {"smpl_poses": np.repeat(aa.reshape(90, 72), 2, 0), "smpl_trans": np.repeat(transl * scaling, 2, 0),
            "smpl_scaling": np.array([scaling])}  # 60 fps
    (tmp_path / "motions").mkdir()
    (tmp_path / "wavs").mkdir()
    name = "gBR_sBM_cAll_d04_mBR0_ch01"
    with open(tmp_path / "motions" / f"{name}.pkl", "wb") as fh:
        pickle.dump(data, fh)
    _click_wav(tmp_path / "wavs" / "mBR0.wav", 3.0)
    (item,) = read_aistpp(tmp_path)
    assert item.genre == "break" and item.motion.shape == (90, MOTION_DIM)
    joints = motion_to_joints(item.motion)
    offset = joints - ret.joints
    assert np.abs(offset - offset.mean((0, 1))).max() < 1e-3  # same motion, only re-grounded
    assert abs(joints[0, [10, 11], 1].min()) < 1e-4


@pytest.mark.parametrize("module", ["lodge.data.build_corpus", "lodge.data.check_retarget"])
def test_cmu_folder_comes_from_an_argument_or_the_environment(tmp_path, module):
    """Without --source or LODGE_CMU_DIR the tools say what to pass (one line, status 2), not a traceback."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "LODGE_CMU_DIR"}
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-m", module, "--out", str(tmp_path / "out")], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--source" in res.stderr and "LODGE_CMU_DIR" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = subprocess.run([sys.executable, "-m", module, "--out", str(tmp_path / "out")], cwd=root,
                         env={**env, "LODGE_CMU_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "no manifest.csv" in res.stderr
