"""The real-dancer reference, the realism bars, and the realism table of `python -m lodge evaluate`."""
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lodge.constants import FPS, GLOBAL_LEN, PRIM_LEN, SEG_LEN
from lodge.metrics.realism import RealismStats
from lodge.metrics.realism_bars import (
    PRIMITIVE_ENERGY_RATIO_MIN, SNAPS_MARGIN_PER_MIN, SPEED_RATIO_RANGE, SPREAD_RATIO_MIN, realism_verdict,
)
from lodge.evaluate.realism_reference import REFERENCE_PATH, load_reference, piece_stats, real_primitive_starts
from lodge.motion import motion_to_joints

ROOT = Path(__file__).resolve().parents[1]


def test_reference_covers_every_genre_of_the_shipped_weights():
    genres = json.loads((ROOT / "lodge" / "weights" / "default" / "config.json").read_text())["genres"]
    data = json.loads(REFERENCE_PATH.read_text())
    assert "python -m lodge.evaluate.realism_reference" in data["command"] and "CMU" in data["source"]
    ref = load_reference()
    assert set(genres) <= set(ref)
    for genre in genres:
        s = ref[genre]
        assert 0.1 < s.speed < 2.0 and 0.02 < s.spread < 0.5, genre
        assert s.snaps_per_min >= 0 and s.primitive_energy > 0 and s.minutes > 0.3, genre
        assert 0 < s.lean_deg < 60 and 0 <= s.arms_up < 1, genre
    # The swing dancers bend forward with their hands low; the indian dancers stand upright, arms raised.
    assert ref["swing"].lean_deg > 2 * ref["indian"].lean_deg and ref["swing"].arms_up < 0.05 < ref["indian"].arms_up


def test_real_primitives_are_placed_as_generation_places_them():
    from tests.test_evaluate import _dance

    frames = GLOBAL_LEN + 2 * SEG_LEN + 40  # one full window, then 2 segments and a bit
    joints = motion_to_joints(_dance(frames, 0))
    starts = real_primitive_starts(joints)
    assert np.all(starts >= 0) and np.all(starts + PRIM_LEN <= frames)
    hard = set(range(SEG_LEN - PRIM_LEN // 2, frames, SEG_LEN))
    assert hard <= set(starts.tolist())  # every inner segment join (the first one starts before frame 0)
    # the first window: 3 inner joins + 8 soft cues, then its last join (shared with the next window) once
    assert len(starts[starts < GLOBAL_LEN - PRIM_LEN // 2]) == 3 + 8
    assert list(starts).count(GLOBAL_LEN - PRIM_LEN // 2) == 1
    stats = piece_stats(joints)
    assert stats.primitive_energy > 0 and stats.speed > 0 and stats.minutes == pytest.approx(frames / FPS / 60)


def test_a_real_take_measures_like_a_dancer():
    from lodge.bvh import read_bvh
    from lodge.data.retarget import retarget

    joints = retarget(read_bvh(ROOT / "tests" / "fixtures" / "cmu_60_03_3s.bvh")).joints
    stats = piece_stats(joints)
    assert 0.1 < stats.speed < 1.5 and 0.01 < stats.spread < 0.3 and stats.primitive_energy > 0.01


def test_verdict_bars():
    real = RealismStats(speed=0.4, spread=0.08, snaps_per_min=10.0, primitive_energy=0.3, minutes=1.0)
    lo, hi = SPEED_RATIO_RANGE
    ok = RealismStats(0.4 * lo, 0.08 * SPREAD_RATIO_MIN, 10.0 + SNAPS_MARGIN_PER_MIN, 0.3 * PRIMITIVE_ENERGY_RATIO_MIN)
    v = realism_verdict(ok, real)
    assert v["pass"] and v["speed_ratio"] == pytest.approx(lo)
    for bad, key in ((RealismStats(0.4 * hi * 1.01, 0.08, 0, 0.3), "pass_speed"),
                     (RealismStats(0.4, 0.06, 0, 0.3), "pass_spread"),
                     (RealismStats(0.4, 0.08, 16.0, 0.3), "pass_snaps"),
                     (RealismStats(0.4, 0.08, 0, 0.2), "pass_primitive_energy"),
                     (RealismStats(0.4, 0.08, 0, None), "pass_primitive_energy")):
        v = realism_verdict(bad, real)
        assert not v[key] and not v["pass"], key


def test_evaluate_realism_only_on_items_and_songs(tiny_checkpoint, tmp_path, click_wave):
    from lodge.cli import main
    from lodge.constants import SAMPLE_RATE
    from tests.test_evaluate import write_fake_corpus

    data = write_fake_corpus(tmp_path / "corpus")
    song = tmp_path / "click.wav"
    sf.write(song, click_wave[: 8 * SAMPLE_RATE], SAMPLE_RATE)
    out = tmp_path / "eval"
    status = main(["evaluate", "--data", str(data), "--checkpoint", str(tiny_checkpoint), "--realism-only",
                   "--per-genre", "1", "--steps", "2", "--songs", f"{song}=all", "--out", str(out)])
    assert status == 0
    result = json.loads((out / "results.json").read_text())
    assert result["rows"] == [] and result["checks"] == {}
    realism = result["realism"]
    items = realism["items"]
    assert [r["genre"] for r in items["genres"]] == ["breaking", "salsa"]
    assert all(r["dances"] == 1 for r in items["genres"])
    songs = realism["songs"]
    assert [r["genre"] for r in songs["genres"]] == ["breaking", "modern", "salsa"]  # 'all' genres of the model
    for row in items["genres"] + songs["genres"]:
        assert row["real"]["speed"] > 0 and row["speed_ratio"] > 0 and row["primitive_energy_ratio"] > 0
        assert isinstance(row["pass"], bool)
    assert len(realism["song_dances"]) == 3 and realism["song_dances"][0]["seconds"] == pytest.approx(8, abs=0.1)
    # The items' own real dances, measured the same way: the same genres and minutes, real motion.
    truth = realism["items_truth"]
    assert [r["genre"] for r in truth["genres"]] == ["breaking", "salsa"]
    for t, g in zip(truth["genres"], items["genres"]):
        assert t["minutes"] == pytest.approx(g["minutes"], abs=0.02) and t["generated"]["speed"] > 0
        assert t["generated"] != g["generated"]
    md = (out / "results.md").read_text()
    assert "## Realism per genre" in md and "Full-length songs" in md and "Table 1" not in md
    assert "ground truth, same music" in md and "| speed gen / truth |" in md
    assert md.count("Posture (no bar") == 3  # items, their ground truth, songs
    assert all(row["generated"]["lean_deg"] >= 0 and 0 <= row["generated"]["arms_up"] <= 1
               for row in items["genres"] + songs["genres"] + truth["genres"])


def test_song_entries(tmp_path):
    from lodge.evaluate.songs import EXAMPLE_GENRES, expand_genres, held_out_songs, parse_songs

    song = tmp_path / "a.wav"
    song.write_bytes(b"")
    entries = expand_genres(parse_songs([f"{song}=Salsa", f"{song}=all"]), ["salsa", "swing"])
    assert [(e.name, e.genre) for e in entries] == [("a.wav", "salsa"), ("a.wav", "salsa"), ("a.wav", "swing")]
    with pytest.raises(ValueError):
        parse_songs([str(song)])
    with pytest.raises(ValueError):
        expand_genres(parse_songs([f"{song}=tango"]), ["salsa"])
    assert set(EXAMPLE_GENRES.values()) <= {"salsa", "breaking", "swing"}
    assert held_out_songs(tmp_path) == []
