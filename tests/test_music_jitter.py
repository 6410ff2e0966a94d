"""Music jitter (lodge.train.music_jitter): each example's sound shifted as a whole, its marks kept."""
import numpy as np
import torch

from lodge.audio import MARK_COLUMNS
from lodge.train.music_jitter import jitter_music
from lodge.train.trainer import Trainer, TrainSettings

from fixtures.corpus import sine_dance, write_corpus


def test_each_example_gets_one_offset_per_continuous_column_and_the_marks_stay():
    music = torch.randn(3, 50, 35)
    out = jitter_music(music, 0.5, np.random.default_rng(0))
    shift = out - music
    marks = list(MARK_COLUMNS)
    assert torch.equal(out[..., marks], music[..., marks])
    continuous = shift[..., :min(MARK_COLUMNS)]
    torch.testing.assert_close(continuous, continuous[:, :1].expand_as(continuous))  # constant over time
    assert (continuous[0, 0] - continuous[1, 0]).abs().max() > 0.05  # drawn anew per example
    assert 0.3 < float(continuous[:, 0].std()) < 0.7
    assert jitter_music(music, 0.0, np.random.default_rng(0)) is music


def test_a_global_run_with_music_jitter_trains_and_draws_other_music(tmp_path):
    items = [("salsa", sine_dance(700, 1.0, 0)), ("breaking", sine_dance(1300, 2.0, 1)), ("salsa", sine_dance(300, 3.0, 2))]
    corpus = write_corpus(tmp_path / "corpus", items, n_train=2)
    common = dict(stage="global", data=str(corpus), preset="tiny", steps=1, batch_size=2, save_every=10, fk_fraction=0)
    plain = Trainer(TrainSettings(out=str(tmp_path / "a"), **common), log=lambda m: None)
    jittered = Trainer(TrainSettings(out=str(tmp_path / "b"), music_jitter=0.5, **common), log=lambda m: None)
    assert np.isfinite(jittered.train_step()["total"])
    raw = [np.zeros((1024, 35), np.float32)] * 2
    assert torch.equal(plain._music(raw), plain._music(raw))
    assert not torch.equal(jittered._music(raw), jittered._music(raw))
