"""`python -m lodge evaluate` end to end on a tiny corpus, and the baselines' joins and clips."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lodge.evaluate.baselines import blend_windows, edge_long_generation, retrieval_dance, window_starts
from lodge.constants import FPS, MOTION_DIM, MUSIC_DIM, SEG_LEN
from lodge.data.dataset import CorpusItem
from lodge.data.items import save_item
from lodge.evaluate.data import features_from_music, looped_song
from lodge.evaluate.rows import METRICS
from lodge.motion import pack_motion
from lodge.rotations import axis_angle_to_matrix


def _dance(frames: int, seed: int) -> np.ndarray:
    """A smooth, plausible (frames, 139) motion: swinging joints, a drifting root."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / FPS
    amp, freq, phase = rng.uniform(0.1, 0.5, (1, 22, 3)), rng.uniform(0.5, 2.0, (1, 22, 3)), rng.uniform(0, 6, (1, 22, 3))
    aa = amp * np.sin(2 * np.pi * freq * t + phase)
    aa[:, 0] *= 0.2
    rot = axis_angle_to_matrix(aa.astype(np.float32))
    transl = np.stack([0.3 * np.sin(t[:, 0, 0]), 0.05 * np.sin(4 * t[:, 0, 0]), 0.2 * t[:, 0, 0]], 1)
    return pack_motion(np.zeros((frames, 4)), transl, rot)


def _music(frames: int, seed: int, beat_every: int = 15) -> np.ndarray:
    music = np.random.default_rng(seed).normal(size=(frames, MUSIC_DIM)).astype(np.float32)
    music[:, 33:] = 0
    music[3::beat_every, 34] = 1
    music[:, 0] = np.abs(music[:, 0])
    return music


def write_fake_corpus(directory: Path, frames: int = 240) -> Path:
    """A corpus in the build_corpus layout: 3 train and 3 test items of two genres."""
    (directory / "items").mkdir(parents=True)
    split = {"train": {"items": [], "takes": []}, "test": {"items": [], "takes": []}}
    for k, (side, genre) in enumerate([("train", "salsa"), ("train", "breaking"), ("train", "salsa"),
                                       ("test", "salsa"), ("test", "breaking"), ("test", "salsa")]):
        item_id = f"item{k}"
        save_item(directory / "items" / f"{item_id}.npz", _dance(frames, k), _music(frames, k), genre=genre,
                  take=f"t{k}", item_id=item_id)
        split[side]["items"].append(item_id)
        split[side]["takes"].append(f"t{k}")
    (directory / "split.json").write_text(json.dumps(split))
    return directory


def test_evaluate_command_writes_full_table(tiny_checkpoint, tmp_path, capsys):
    from lodge.cli import main

    data = write_fake_corpus(tmp_path / "corpus")
    out = tmp_path / "eval"
    status = main(["evaluate", "--data", str(data), "--checkpoint", str(tiny_checkpoint), "--limit", "2",
                   "--steps", "2", "--ddpm-steps", "3", "--seconds", "6", "--ablations", "--freeze-seconds", "12",
                   "--check-items", "1", "--out", str(out)])
    assert status == 0
    result = json.loads((out / "results.json").read_text())
    names = [r["name"] for r in result["rows"]]
    assert names[:6] == ["Ground truth", "Lodge (DDIM, 2 steps)", "Lodge (DDPM, 3 steps)",
                         "EDGE-style long generation", "Local diffusion only (no primitives)",
                         "Retrieval (random train clips)"]
    assert {"No soft cues", "No mirroring", "No beat alignment", "s = 0", "s = 0.25", "s = 0.5", "s = 0.75",
            "s = 1"} <= set(names)
    for row in result["rows"]:
        assert set(METRICS) | {"runtime_s_per_min"} <= set(row), row
        assert all(row[m] is not None for m in METRICS), row
        assert (row["runtime_s_per_min"] is None) == (row["name"] == "Ground truth")
    gt = result["rows"][0]
    assert abs(gt["FIDk"]) < 1e-3 and abs(gt["FIDg"]) < 1e-3
    assert "respaced from 1000 to 3 steps" in result["rows"][2]["note"]
    assert result["meta"]["items"] == 2 and result["meta"]["frames"] == 2 * 180
    checks = result["checks"]
    assert set(checks) == {"bas", "fsr", "freeze", "genre"}
    assert checks["freeze"]["windows"] == 3 and checks["genre"]["items"] == 1
    assert result["realism"]["items"]["genres"][0]["dances"] >= 1 and result["realism"]["songs"] is None
    md = (out / "results.md").read_text()
    assert md.index("## Realism per genre") < md.index("## Table 1")  # the realism table leads
    for text in ["FIDk ↓", "FIDg ↓", "FSR ↓", "Divk ↑", "Divg ↑", "BAS ↑", "Run time", "## Ablations",
                 "never freezes", "genre matters", "45.56"] + names:
        assert text in md, text
    assert "Lodge (DDIM, 2 steps)" in capsys.readouterr().out


def test_blend_windows_is_a_linear_crossfade_even_when_overlap_exceeds_stride():
    overlap = 160  # stride 96 < overlap: most frames are the blend of 2-3 windows
    starts = window_starts(700, SEG_LEN, overlap)
    assert np.all(np.diff(starts) == SEG_LEN - overlap) and starts[-1] + SEG_LEN >= 700
    windows = [np.full((SEG_LEN, 2), 10.0 * k) for k in range(len(starts))]
    joined = blend_windows(windows, starts, 700, overlap)
    steps = np.abs(np.diff(joined[:, 0]))
    assert steps.max() < 10.0 / 8  # a plain concatenation would jump by 10 at every join
    assert joined[0, 0] == 0.0 and np.all(np.diff(joined[:, 0]) >= -1e-9)


def test_edge_baseline_joins_smoothly(tiny_pipeline, click_features, monkeypatch):
    """With a stand-in network that paints every window one constant pose, the joins are ramps."""
    calls = {"n": 0}
    steps, overlap = 3, 160
    n_iter = len(tiny_pipeline.diffusion.timesteps("ddim", steps))

    def fake_local(x_t, t, music, genre, drop_mask):
        k = calls["n"] // n_iter
        calls["n"] += 1
        return torch.full_like(x_t, -0.8 + 0.3 * k)

    monkeypatch.setattr(tiny_pipeline, "local", fake_local)
    dance = edge_long_generation(tiny_pipeline, click_features, "salsa", steps=steps, overlap=overlap)
    n = click_features.num_frames
    starts = window_starts(n, SEG_LEN, overlap)
    assert calls["n"] == len(starts) * n_iter and len(starts) >= 4
    assert dance.motion.shape == (n, MOTION_DIM) and np.isfinite(dance.motion).all()
    window_values = tiny_pipeline.normalizer.denormalize(-0.8 + 0.3 * np.arange(len(starts))[:, None])
    jump = np.abs(np.diff(window_values, axis=0)).max(0)  # per-dimension jump between two windows
    rot_steps = np.abs(np.diff(dance.motion[:, 7:], axis=0)).max(0)
    assert np.all(rot_steps <= jump[7:] / 8 + 1e-5)
    root_steps = np.linalg.norm(np.diff(dance.motion[:, [4, 6]], axis=0), axis=1)
    assert root_steps.max() < 0.05  # constant root in window coordinates: the dancer never teleports


def test_edge_baseline_runs_with_the_real_network(tiny_pipeline, click_features):
    dance = edge_long_generation(tiny_pipeline, click_features, "modern", seed=1, steps=2)
    assert dance.motion.shape == (click_features.num_frames, MOTION_DIM) and np.isfinite(dance.joints).all()
    assert dance.timings["local"] > 0 and dance.timings["global"] == 0


def _coded_item(genre: str, k: int, frames: int = 200) -> CorpusItem:
    """An item whose every frame is unique (random rotations) and far from the origin."""
    rng = np.random.default_rng(k)
    motion = rng.normal(size=(frames, MOTION_DIM)).astype(np.float32)
    motion[:, 4] = 50.0 * k + np.linspace(0, 1, frames)
    motion[:, 6] = -30.0 * k
    return CorpusItem(motion, np.zeros((frames, MUSIC_DIM), np.float32), genre, f"t{k}", f"i{k}")


def test_retrieval_uses_real_frames_of_the_genre():
    items = [_coded_item(g, k) for k, g in enumerate(["salsa", "breaking", "breaking", "salsa", "breaking"])]
    out = retrieval_dance(items, "breaking", 600, seed=3, clip_seconds=2.0, crossfade=6)
    assert out.shape == (600, MOTION_DIM)
    key = lambda m: [tuple(np.round(r, 4)) for r in m[:, 7:]]  # noqa: E731 - rotations identify a frame
    breaking = {f for it in items if it.genre == "breaking" for f in key(it.motion)}
    salsa = {f for it in items if it.genre == "salsa" for f in key(it.motion)}
    frames = key(out)
    real = [f in breaking for f in frames]
    assert np.mean(real) > 0.85  # all but the crossfades (6 of every 60 frames)
    assert not any(f in salsa for f in frames)
    root_steps = np.linalg.norm(np.diff(out[:, [4, 6]], axis=0), axis=1)
    assert root_steps.max() < 0.1  # root carried on: no jump to the clip's own far-away position


def test_music_columns_and_looped_song():
    music = _music(100, 0, beat_every=10)
    feats = features_from_music(music)
    assert list(feats.beats) == list(range(3, 100, 10)) and feats.tempo == pytest.approx(180.0)
    np.testing.assert_array_equal(feats.onset_envelope, music[:, 0])
    item = CorpusItem(np.zeros((100, MOTION_DIM), np.float32), music, "salsa", "t", "i")
    song = looped_song([item], 12)
    assert song.num_frames == 360 and len(song.beats) == 36
