"""Checkpoint directories: round trip, fp16, random checkpoints, clear errors."""
import json

import numpy as np
import pytest
import torch

from lodge.checkpoint import (
    CheckpointError, LoadedCheckpoint, create_random_checkpoint, load_checkpoint, save_checkpoint,
)
from lodge.config import LodgeConfig
from lodge.constants import MOTION_DIM, MUSIC_DIM
from lodge.models import GlobalDenoiser, LocalDenoiser

GENRES = ["jazz", "hiphop"]


def run_both(ck: LoadedCheckpoint, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        local = ck.local(
            torch.randn(2, 24, MOTION_DIM, generator=g), torch.tensor([10, 900]),
            torch.randn(2, 24, MUSIC_DIM, generator=g), torch.tensor([0, 1]), torch.tensor([False, True]),
        )
        glob = ck.global_(
            torch.randn(1, 13, 8, MOTION_DIM, generator=g), torch.tensor([400]),
            torch.randn(1, 1024, MUSIC_DIM, generator=g), torch.tensor([1]),
            torch.arange(13)[None] * 80 - 4, torch.tensor([[0, 1, 1] * 4 + [0]]), torch.tensor([False]),
        )
    return local, glob


@pytest.fixture(scope="module")
def random_ckpt(tmp_path_factory):
    return create_random_checkpoint(tmp_path_factory.mktemp("ck") / "tiny", GENRES, seed=3)


def test_random_checkpoint_loads_with_everything(random_ckpt):
    ck = load_checkpoint(random_ckpt)
    assert ck.cfg.genres == GENRES
    assert not ck.local.training and not ck.global_.training
    assert ck.music_mean.shape == (MUSIC_DIM,) and ck.music_std.shape == (MUSIC_DIM,)
    assert ck.motion_normalizer.data_min.shape == (MOTION_DIM,)
    assert np.all(ck.motion_normalizer.data_max > ck.motion_normalizer.data_min)
    np.testing.assert_array_equal(ck.local.normalizer_min.numpy(), ck.motion_normalizer.data_min)
    assert ck.meta["format_version"] == 1
    assert "description" in ck.meta["training_data"]
    raw = json.loads((random_ckpt / "config.json").read_text())
    assert {"genres", "local", "global", "motion_normalizer", "music_normalizer", "training_data", "metrics",
            "format_version"} <= set(raw)


def test_random_checkpoint_is_seeded(tmp_path, random_ckpt):
    again = create_random_checkpoint(tmp_path / "again", GENRES, seed=3)
    a, b = run_both(load_checkpoint(random_ckpt)), run_both(load_checkpoint(again))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    other = create_random_checkpoint(tmp_path / "other", GENRES, seed=4)
    assert not torch.allclose(run_both(load_checkpoint(other))[0], a[0])


def test_round_trip_gives_identical_outputs(tmp_path, random_ckpt):
    ck = load_checkpoint(random_ckpt)
    before = run_both(ck)
    out = save_checkpoint(
        tmp_path / "copy", ck.cfg, ck.local, ck.global_, ck.motion_normalizer, ck.music_mean, ck.music_std,
        training_data={"description": "test"}, metrics={"fid_k": 1.5},
    )
    back = load_checkpoint(out)
    after = run_both(back)
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1])
    assert back.meta["metrics"] == {"fid_k": 1.5}
    assert back.cfg == ck.cfg


def test_half_precision_loads_as_float32(tmp_path):
    cfg = LodgeConfig.tiny(GENRES)
    torch.manual_seed(0)
    local, glob = LocalDenoiser(cfg), GlobalDenoiser(cfg)
    from lodge.motion import Normalizer

    norm = Normalizer(-np.ones(MOTION_DIM, np.float32), np.ones(MOTION_DIM, np.float32))
    full = save_checkpoint(tmp_path / "f32", cfg, local, glob, norm, np.zeros(MUSIC_DIM), np.ones(MUSIC_DIM), {}, {})
    half = save_checkpoint(tmp_path / "f16", cfg, local, glob, norm, np.zeros(MUSIC_DIM), np.ones(MUSIC_DIM), {}, {},
                           half=True)
    assert (half / "local.safetensors").stat().st_size < 0.6 * (full / "local.safetensors").stat().st_size
    ck = load_checkpoint(half)
    assert all(p.dtype == torch.float32 for p in ck.local.parameters())
    a, b = run_both(load_checkpoint(full)), run_both(ck)
    torch.testing.assert_close(a[0], b[0], atol=0.05, rtol=0.05)


def test_missing_checkpoint_messages(tmp_path, random_ckpt):
    with pytest.raises(CheckpointError, match="checkpoint directory not found: .*nowhere"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):  # CheckpointError is a FileNotFoundError
        load_checkpoint(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((random_ckpt / "config.json").read_text())
    with pytest.raises(CheckpointError, match="local.safetensors") as info:
        load_checkpoint(partial)
    assert "\n" not in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="directory"):
        load_checkpoint(tmp_path / "file")


def test_mismatched_weights_are_reported(tmp_path, random_ckpt):
    bad = tmp_path / "bad"
    create_random_checkpoint(bad, GENRES, seed=0)
    raw = json.loads((bad / "config.json").read_text())
    raw["local"]["d_model"] = 64
    (bad / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(bad)
