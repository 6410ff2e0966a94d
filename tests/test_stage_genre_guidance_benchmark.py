"""benchmarks/stage_genre_guidance.py: a genre's genre guidance weight in one stage, measured on songs."""
import json

import numpy as np

from lodge.metrics.realism import WRISTS, RealismStats

from fixtures.benchmarks import load_benchmark

bench = load_benchmark("stage_genre_guidance", "stage_genre_guidance_benchmark")
REAL = RealismStats(0.4, 0.08, 2.0, lean_deg=19.3, arms_up=0.001)


def test_training_songs_are_the_corpus_training_songs_that_are_installed(tmp_path, monkeypatch):
    from lodge.data import songs

    installed = tmp_path / "sectoid"
    (installed / "Feelings").mkdir(parents=True)
    (installed / "Feelings" / "song.ogg").write_bytes(b"")
    monkeypatch.setattr(songs, "SECTOID_DIR", installed)
    (tmp_path / "split.json").write_text(json.dumps({"songs": {"train": ["Feelings", "Gone"], "test": ["Held"]}}))
    assert bench.training_songs(tmp_path) == [installed / "Feelings"]


def test_a_still_dance_reads_as_still_and_upright():
    joints = np.zeros((90, 22, 3))
    joints[:, :, 1] = np.linspace(0.0, 1.7, 22)  # every joint stacked above the pelvis, never moving,
    joints[:, list(WRISTS), 1] = 0.5  # the hands hanging low
    row = bench.dance_measures(joints, REAL, fast_speed=0.5)
    np.testing.assert_allclose(row[[0, 1, 3, 4, 5]], 0.0, atol=1e-9)  # no speed, spread, lean, hand up, fast frame
    assert len(row) == len(bench.COLUMNS) and np.isnan(row[6])  # no primitives given
    assert bench.format_row("swing", "4", row).startswith("| swing | 4 | 0.00 | 0.00 |")
    assert bench.format_row("swing", "4", row).endswith("| 0.0 |  |")


def test_the_primitives_wrist_share_reads_their_frames():
    from lodge.motion import rest_motion

    rest = np.repeat(rest_motion(8)[None], 3, axis=0)  # three primitives standing at rest, hands low
    assert bench.primitives_arms_up(rest) == 0.0
    assert np.isnan(bench.primitives_arms_up(None))


def test_the_weight_guides_its_stage_and_the_calibration_is_restored(null_genre_checkpoint, click_features):
    from lodge.pipeline import LodgePipeline

    pipe = LodgePipeline.from_pretrained(null_genre_checkpoint, device="cpu")
    genre = pipe.genres[0]
    for stage in ("local", "global"):
        rows = [bench.weight_row(pipe, {"click": click_features}, genre, w, REAL, 0.5, seconds=6, seed=0, stage=stage)
                for w in (0, 3)]
        assert pipe.cfg.genre_calibration is None
        assert all(np.isfinite(r).all() for r in rows) and np.abs(rows[0] - rows[1]).max() > 1e-4
