"""Global training windows whose short dance starts whole segments late (TrainSettings.window_offsets)."""
import numpy as np
import pytest

from fixtures.corpus import sine_dance, write_corpus
from lodge.constants import GLOBAL_LEN, SEG_LEN
from lodge.train.trainer import Trainer, TrainSettings
from lodge.train.windows import Track, global_example, latest_offset, offset_window, window_slot_sources


def _track(frames: int) -> Track:
    music = np.random.default_rng(5).normal(size=(frames, 35)).astype(np.float32)
    music[:, 33:] = 0.0
    music[10::15, 34] = 1.0  # a beat every half second
    return Track.from_arrays(sine_dance(frames, 1.0, seed=5), music, 0)


def test_slots_shift_by_whole_segments():
    np.testing.assert_array_equal(window_slot_sources(0), np.arange(13))
    np.testing.assert_array_equal(window_slot_sources(1), [-1, 0, 1, 2, 3, -1, -1, 5, 6, 7, 8, 9, 10])
    np.testing.assert_array_equal(window_slot_sources(3), [-1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1, 5, 6])


def test_a_short_dance_keeps_each_primitive_on_its_own_music_wherever_it_starts():
    track = _track(300)  # 10 s: the first segment and a bit of the second (its soft cues lie past the end)
    rng = np.random.default_rng(0)
    prims, music, _, frames, weight, _ = global_example(track, rng, mirror_prob=0.0)
    assert 0 < weight.sum() < 13
    latest = latest_offset(weight)
    assert latest == 3  # its primitives (hard cues 0 and 1, the first segment's soft cues) fit up to the last segment
    for segments in range(latest + 1):
        p, m, f, w = offset_window(prims, music, frames, weight, segments)
        assert w.sum() == weight.sum()  # no primitive lost
        assert (w[:segments] == 0).all()  # the hard cues before the dance weigh nothing
        for slot, source in enumerate(window_slot_sources(segments)):
            if source < 0 or weight[source] == 0:
                continue
            np.testing.assert_array_equal(p[slot], prims[source])
            assert f[slot] == frames[source] + segments * SEG_LEN
            start = max(0, frames[source])  # the music under the primitive is the music it had
            np.testing.assert_array_equal(m[start + segments * SEG_LEN], music[start])
        assert m.shape == music.shape == (GLOBAL_LEN, 35)
    # Drawn by the example: every offset from 0 to the latest turns up; a long dance never moves.
    first_hard = lambda e: int(np.argmax(e[4][:5] > 0))  # noqa: E731 - the dance's first hard cue: its offset
    drawn = {first_hard(global_example(track, np.random.default_rng(s), offsets=True)) for s in range(40)}
    assert drawn == set(range(latest + 1))
    long_track = _track(1400)
    for s in range(5):
        a = global_example(long_track, np.random.default_rng(s))
        b = global_example(long_track, np.random.default_rng(s), offsets=True)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_a_global_run_with_window_offsets_trains(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", [("salsa", sine_dance(300, 1.0, seed=0)),
                                                ("breaking", sine_dance(300, 2.0, seed=1))], n_train=2)
    settings = TrainSettings(stage="global", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=4, save_every=10, fk_fraction=0, window_offsets=True)
    assert np.isfinite(Trainer(settings, log=lambda m: None).train_step()["total"])
