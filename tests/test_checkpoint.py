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
    local, glob = LocalDenoiser.from_lodge_config(cfg), GlobalDenoiser.from_lodge_config(cfg)
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


def test_old_checkpoints_with_global_normalizer_buffers_still_load(tmp_path, random_ckpt):
    # Checkpoints written before the global network dropped its unused normaliser buffers hold them.
    import shutil

    from safetensors.torch import load_file, save_file

    old = tmp_path / "old"
    shutil.copytree(random_ckpt, old)
    state = load_file(str(old / "global.safetensors"))
    assert not any(k.startswith("normalizer_") for k in state)  # new checkpoints do not write them
    state["normalizer_min"] = -torch.ones(MOTION_DIM)
    state["normalizer_max"] = torch.ones(MOTION_DIM)
    save_file(state, str(old / "global.safetensors"), metadata={"format": "pt"})
    a, b = run_both(load_checkpoint(random_ckpt)), run_both(load_checkpoint(old))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # Exactly those keys are ignored: any other unexpected key is still an error.
    state["bogus"] = torch.zeros(1)
    save_file(state, str(old / "global.safetensors"), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(old)


def test_old_format_global_state_dict_loads_into_the_component():
    cfg = LodgeConfig.tiny(GENRES)
    torch.manual_seed(0)
    glob = GlobalDenoiser.from_lodge_config(cfg)
    assert not hasattr(glob, "normalizer_min")
    old_state = {**glob.state_dict(), "normalizer_min": torch.zeros(MOTION_DIM), "normalizer_max": torch.ones(MOTION_DIM)}
    torch.manual_seed(1)
    other = GlobalDenoiser.from_lodge_config(cfg).load_weights(old_state)
    for key, value in glob.state_dict().items():
        assert torch.equal(value, other.state_dict()[key])
    with pytest.raises(RuntimeError):
        LocalDenoiser.from_lodge_config(cfg).load_weights({**LocalDenoiser.from_lodge_config(cfg).state_dict(), "x": torch.ones(1)})


@pytest.mark.parametrize("half", [False, True])
def test_components_save_pretrained_inverts_from_pretrained(tmp_path, random_ckpt, half):
    from lodge.models.component import CONFIG_NAME, WEIGHTS_NAME

    ck = load_checkpoint(random_ckpt)
    for model in (ck.local, ck.global_):
        cls = type(model)
        out = model.save_pretrained(tmp_path / cls.__name__, half=half)
        assert {p.name for p in out.iterdir()} == {CONFIG_NAME, WEIGHTS_NAME}
        back = cls.from_pretrained(out)
        assert not back.training and back.config == model.config and back.net == model.net
        assert json.loads((out / CONFIG_NAME).read_text())["_class_name"] == cls.__name__
        ref = model.state_dict()
        for key, value in back.state_dict().items():
            assert value.dtype == torch.float32 or not value.is_floating_point()
            expected = ref[key].half().float() if half and value.is_floating_point() and not key.startswith("normalizer_") else ref[key]
            assert torch.equal(value, expected), key
        assert set(back.state_dict()) == set(ref)
        again = cls.from_pretrained(back.save_pretrained(tmp_path / "again" / cls.__name__, half=half))
        for key, value in again.state_dict().items():  # a second round trip changes nothing
            assert torch.equal(value, back.state_dict()[key]), key
    if not half:
        from lodge.models import GlobalDenoiser as G, LocalDenoiser as L

        ck.local, ck.global_ = L.from_pretrained(tmp_path / "LocalDenoiser"), G.from_pretrained(tmp_path / "GlobalDenoiser")
        a = run_both(load_checkpoint(random_ckpt))
        b = run_both(ck)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="LocalDenoiser"):
        GlobalDenoiser.from_pretrained(tmp_path / "LocalDenoiser")
    with pytest.raises(FileNotFoundError):
        LocalDenoiser.from_pretrained(tmp_path / "nowhere")


def test_components_are_built_from_their_own_network_config():
    from lodge.config import NetConfig

    net = NetConfig(d_model=32, n_layers=1, n_heads=2, ff_dim=64, music_layers=1, dropout=0.0, patch=4, cue_input=True)
    local = LocalDenoiser(net, n_genres=3, diffusion_steps=500)
    assert local.config == {"_class_name": "LocalDenoiser", "net": net.__dict__, "n_genres": 3, "diffusion_steps": 500}
    glob = GlobalDenoiser(NetConfig(d_model=32, n_heads=2, patch=2), n_genres=3, prim_len=8)
    assert glob.config["prim_len"] == 8 and glob.genre.num_embeddings == 3
    cfg = LodgeConfig.tiny_patched(GENRES)
    built = LocalDenoiser.from_lodge_config(cfg)
    assert built.net == cfg.local and built.net is not cfg.local and built.n_genres == len(GENRES)
    with pytest.raises(ValueError, match="primitive"):
        GlobalDenoiser(NetConfig(d_model=32, n_heads=2, patch=3), n_genres=1)


def test_the_training_runs_checkpoint_loads_and_dances(click_features):
    """training/cpu_patched (what the next machine resumes from, with the newest config fields) loads
    as a pipeline and samples a dance."""
    from pathlib import Path

    from lodge.pipeline import LodgePipeline

    path = Path(__file__).resolve().parents[1] / "training" / "cpu_patched"
    if not (path / "config.json").exists():
        pytest.skip("no training checkpoint in this checkout")
    pipe = LodgePipeline.from_pretrained(path, device="cpu")
    dance = pipe(click_features, "salsa", seed=0, steps=2)
    assert dance.motion.shape == (click_features.num_frames, MOTION_DIM) and np.isfinite(dance.motion).all()
    assert np.abs(np.diff(dance.joints, axis=0)).max() > 0  # it moves
