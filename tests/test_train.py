"""Training: each stage runs, saves EMA weights into a loadable checkpoint, resumes, and learns."""
import copy
import json

import numpy as np
import pytest
import torch

from lodge.checkpoint import load_checkpoint
from lodge.train.trainer import Trainer, TrainSettings

from fixtures.corpus import sine_dance, write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    items = [(genre, sine_dance(frames, 1.0 + i, i)) for i, (genre, frames) in
             enumerate([("salsa", 700), ("breaking", 1300), ("salsa", 300)])]
    return write_corpus(tmp_path_factory.mktemp("corpus"), items, n_train=2)


@pytest.mark.parametrize("stage", ["global", "local", "finetune"])
def test_each_stage_trains_saves_and_resumes(corpus, tmp_path, stage):
    out = tmp_path / "ckpt"
    settings = TrainSettings(stage=stage, data=str(corpus), out=str(out), preset="tiny", steps=3, batch_size=2,
                             save_every=2, log_every=1, disc_start=1)
    Trainer(settings, log=lambda m: None).run()
    ckpt = load_checkpoint(out)
    assert ckpt.cfg.genres == ["breaking", "salsa"]
    assert ckpt.meta["training_data"]["runs"][stage]["steps"] == 3
    assert (out / f"loss_{stage}.png").stat().st_size > 1000
    resumed = Trainer(TrainSettings(**{**settings.__dict__, "steps": 5}), log=lambda m: None)
    assert resumed.step == 3
    resumed.run()
    assert load_checkpoint(out).meta["training_data"]["runs"][stage]["steps"] == 5


def test_local_training_reduces_the_loss(corpus, tmp_path):
    torch.manual_seed(0)
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=60,
                             batch_size=4, lr=2e-3, log_every=10, save_every=1000, disc_start=10_000)
    trainer = Trainer(settings, log=lambda m: None)
    trainer.run()
    losses = [h["x0"] for h in trainer.history]
    assert losses[-1] < 0.7 * losses[0]


def test_saved_ema_differs_from_raw_weights(corpus, tmp_path):
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "e"), preset="tiny", steps=4,
                             batch_size=2, save_every=1000, disc_start=10_000)
    trainer = Trainer(settings, log=lambda m: None)
    trainer.run()
    saved = load_checkpoint(tmp_path / "e").local.state_dict()
    raw = trainer.model.state_dict()
    name = next(k for k in raw if k.endswith("weight") and raw[k].dim() == 2)
    assert torch.allclose(saved[name], trainer.ema.state_dict()[name])
    assert not torch.allclose(saved[name], raw[name])


def test_stages_trained_apart_merge_into_one_checkpoint(corpus, tmp_path):
    from lodge.train.trainer import merge_checkpoints

    common = dict(data=str(corpus), preset="tiny", steps=2, batch_size=2, save_every=1000, disc_start=10_000)
    Trainer(TrainSettings(stage="global", out=str(tmp_path / "g"), **common), log=lambda m: None).run()
    Trainer(TrainSettings(stage="local", out=str(tmp_path / "l"), **common), log=lambda m: None).run()
    merged = load_checkpoint(merge_checkpoints(tmp_path / "g", tmp_path / "l", tmp_path / "m", half=True))
    g, l = load_checkpoint(tmp_path / "g"), load_checkpoint(tmp_path / "l")
    name = "motion_out.weight"
    assert torch.allclose(merged.global_.state_dict()[name], g.global_.state_dict()[name], atol=1e-3)
    assert set(merged.meta["training_data"]["runs"]) == {"global", "local"}
    # The local run resumed from a merged checkpoint carries a stale global record: the global run's wins.
    config = json.loads((tmp_path / "l" / "config.json").read_text())
    config["training_data"]["runs"]["global"] = {"steps": 1, "train_minutes": 0.0}
    (tmp_path / "l" / "config.json").write_text(json.dumps(config))
    again = load_checkpoint(merge_checkpoints(tmp_path / "g", tmp_path / "l", tmp_path / "m2", global_guidance_weight=3,
                                              global_pose_guidance_weight=1))
    assert again.meta["training_data"]["runs"]["global"] == g.meta["training_data"]["runs"]["global"]
    assert merged.cfg.global_guidance_weight is None and again.cfg.global_guidance_weight == 3.0
    assert merged.cfg.global_pose_guidance_weight is None and again.cfg.global_pose_guidance_weight == 1.0
    assert merged.meta["dtype"] == "float16"
    config = json.loads((tmp_path / "l" / "config.json").read_text())
    config["motion_normalizer"]["min"][5] -= 1.0  # as if trained on other data
    (tmp_path / "l" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="normalisers"):
        merge_checkpoints(tmp_path / "g", tmp_path / "l", tmp_path / "bad")


def test_two_process_cpu_training_under_torchrun(corpus, tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "lodge",
           "train", "local", "--data", str(corpus), "--out", str(out), "--preset", "tiny", "--steps", "3",
           "--batch-size", "2", "--device", "cpu"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    ckpt = load_checkpoint(out)
    assert ckpt.meta["training_data"]["runs"]["local"]["steps"] == 3
    assert done.stdout.count("checkpoint written") == 2  # both processes finish; only the first one logs steps


def test_a_run_resumes_from_its_checkpoint_alone(corpus, tmp_path):
    """The committed form of a long run (fp16 EMA weights + loss history, no optimiser state) resumes."""
    from lodge.train.trainer import STATE_FILE

    out = tmp_path / "ckpt"
    settings = TrainSettings(stage="local", data=str(corpus), out=str(out), preset="tiny_patched", steps=3,
                             batch_size=2, save_every=10, log_every=1, disc_start=1, half=True)
    Trainer(settings, log=lambda m: None).run()
    (out / STATE_FILE.format(stage="local")).unlink()
    saved = load_checkpoint(out).local.state_dict()
    resumed = Trainer(TrainSettings(**{**settings.__dict__, "steps": 5}), log=lambda m: None)
    assert resumed.step == 3 and len(resumed.history) == 3
    for name, tensor in resumed.model.state_dict().items():
        torch.testing.assert_close(tensor, saved[name])
    resumed.run()
    assert load_checkpoint(out).meta["training_data"]["runs"]["local"]["steps"] == 5


def test_a_global_run_resumes_from_a_state_file_with_the_old_normalizer_buffers(corpus, tmp_path):
    """State files of runs begun before the global network dropped its unused normaliser buffers resume."""
    from lodge.train.trainer import STATE_FILE

    out = tmp_path / "ckpt"
    settings = TrainSettings(stage="global", data=str(corpus), out=str(out), preset="tiny", steps=2, batch_size=2,
                             save_every=10, log_every=1)
    Trainer(settings, log=lambda m: None).run()
    path = out / STATE_FILE.format(stage="global")
    state = torch.load(path, weights_only=False)
    for key in ("model", "ema"):
        state[key] = {**state[key], "normalizer_min": -torch.ones(139), "normalizer_max": torch.ones(139)}
    torch.save(state, path)
    resumed = Trainer(TrainSettings(**{**settings.__dict__, "steps": 3}), log=lambda m: None)
    assert resumed.step == 2
    resumed.run()
    assert load_checkpoint(out).meta["training_data"]["runs"]["global"]["steps"] == 3


def test_a_local_run_with_an_older_discriminator_in_its_state_file_resumes(corpus, tmp_path):
    """State files saved before the discriminator changed its inputs (spectrally normalised, motion
    only) resume: the denoiser goes on, the discriminator starts afresh and then trains."""
    from lodge.train.trainer import STATE_FILE

    out = tmp_path / "ckpt"
    settings = TrainSettings(stage="local", data=str(corpus), out=str(out), preset="tiny", steps=2, batch_size=2,
                             save_every=10, log_every=1, disc_start=0, disc_max_t=1000)
    Trainer(settings, log=lambda m: None).run()
    path = out / STATE_FILE.format(stage="local")
    state = torch.load(path, weights_only=False)
    state["disc"] = {"convs.0.parametrizations.weight.original": torch.zeros(128, 139, 5)}
    torch.save(state, path)
    messages = []
    resumed = Trainer(TrainSettings(**{**settings.__dict__, "steps": 4}), log=messages.append)
    assert resumed.step == 2 and any("discriminator does not fit" in m for m in messages)
    model_before = {k: v.clone() for k, v in resumed.model.state_dict().items()}
    disc_before = {k: v.clone() for k, v in resumed.disc.state_dict().items()}
    losses = resumed.train_step()
    assert {"disc", "adv", "r1"} <= set(losses) and losses["r1"] >= 0
    assert any(not torch.equal(v, resumed.disc.state_dict()[k]) for k, v in disc_before.items())
    assert any(not torch.equal(v, resumed.model.state_dict()[k]) for k, v in model_before.items())


def test_no_discriminator_without_its_weight(corpus, tmp_path):
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=2, save_every=10, disc_start=0, disc_weight=0.0)
    trainer = Trainer(settings, log=lambda m: None)
    assert trainer.disc is None and "disc" not in trainer.train_step()


def test_genre_power_sets_each_genres_share_of_the_batches():
    from lodge.train.trainer import track_probabilities

    genres = [0] * 9 + [1]  # nine tracks of one genre, one of another
    np.testing.assert_allclose(track_probabilities(genres, 1.0), np.full(10, 0.1))
    p = track_probabilities(genres, 0.5)
    np.testing.assert_allclose([p[:9].sum(), p[9]], [0.75, 0.25])  # shares as sqrt(9) : sqrt(1)
    p = track_probabilities(genres, 0.0)
    np.testing.assert_allclose([p[:9].sum(), p[9]], [0.5, 0.5])


def test_genre_power_counts_the_frames_a_short_track_fills():
    from lodge.train.trainer import track_probabilities

    genres = [0, 0, 1]  # two short tracks of one genre (100 frames each), one long track of another (800)
    sizes = [100, 100, 800]
    np.testing.assert_allclose(track_probabilities(genres, 1.0, sizes), np.full(3, 1 / 3))  # every track alike
    p = track_probabilities(genres, 0.0, sizes)
    frames = p * np.asarray(sizes)
    np.testing.assert_allclose(frames[:2].sum(), frames[2])  # every genre alike in frames, not in tracks
    p = track_probabilities(genres, 0.5, sizes)
    frames = p * np.asarray(sizes)
    np.testing.assert_allclose(frames[:2].sum() / frames[2], np.sqrt(200 / 800))


def test_a_run_with_genre_dropout_gives_a_trained_network_a_null_genre_and_resumes(corpus, tmp_path):
    from lodge.train.trainer import merge_checkpoints

    common = dict(data=str(corpus), preset="tiny", batch_size=4, save_every=1000, disc_start=10_000)
    for stage in ("global", "local"):
        out = str(tmp_path / stage)
        Trainer(TrainSettings(stage=stage, out=out, steps=2, **common), log=lambda m: None).run()
        assert not load_checkpoint(out).cfg.local.null_genre and not load_checkpoint(out).cfg.global_.null_genre
        run = Trainer(TrainSettings(stage=stage, out=out, steps=4, genre_drop_prob=0.5, **common), log=lambda m: None)
        assert run.step == 2 and len(run.opt.param_groups) == 2  # the null genre joined the optimiser
        before = run.model.null_genre.detach().clone()
        run.run()
        assert not torch.equal(run.model.null_genre.detach(), before)  # it is trained
        ckpt = load_checkpoint(out)
        assert (ckpt.cfg.global_ if stage == "global" else ckpt.cfg.local).null_genre
        again = Trainer(TrainSettings(stage=stage, out=out, steps=5, genre_drop_prob=0.5, **common), log=lambda m: None)
        assert again.step == 4 and len(again.opt.param_groups) == 2
        torch.testing.assert_close(again.model.null_genre, run.model.null_genre)
        again.run()
    with pytest.raises(ValueError, match="genre dropout"):
        merge_checkpoints(tmp_path / "global", tmp_path / "global", tmp_path / "m0", genre_guidance_weight=1.0)
    merged = load_checkpoint(merge_checkpoints(tmp_path / "global", tmp_path / "local", tmp_path / "m",
                                               genre_guidance_weight=1.5))
    assert merged.cfg.has_null_genre and merged.cfg.genre_guidance_weight == 1.5


@pytest.mark.parametrize("stage", ["global", "local"])
def test_a_run_switches_to_overlap_unpatching_and_resumes_with_it(corpus, tmp_path, stage):
    common = dict(data=str(corpus), preset="tiny_patched", batch_size=4, save_every=1000, disc_start=10_000, stage=stage)
    out = str(tmp_path / stage)
    net = lambda ckpt: ckpt.cfg.global_ if stage == "global" else ckpt.cfg.local  # noqa: E731
    Trainer(TrainSettings(out=out, steps=2, **common), log=lambda m: None).run()
    assert not net(load_checkpoint(out)).overlap_unpatch
    run = Trainer(TrainSettings(out=out, steps=4, overlap_unpatch=True, **common), log=lambda m: None)
    assert run.step == 2 and run.model.net.overlap_unpatch and run.ema.net.overlap_unpatch
    optimised = {id(p) for group in run.opt.param_groups for p in group["params"]}
    assert {id(p) for p in run.model.parameters()} == optimised  # the new output layer is trained, the old one gone
    run.run()
    assert net(load_checkpoint(out)).overlap_unpatch
    again = Trainer(TrainSettings(out=out, steps=5, **common), log=lambda m: None)  # the state file resumes as it is
    assert again.step == 4 and again.model.net.overlap_unpatch
    again.run()


def test_a_local_run_switches_to_a_root_range_and_keeps_it(corpus, tmp_path):
    from lodge.constants import ROOT_X

    common = dict(data=str(corpus), preset="tiny_patched", batch_size=4, save_every=1000, stage="local")
    out = str(tmp_path / "local")
    Trainer(TrainSettings(out=out, steps=2, **common), log=lambda m: None).run()
    assert load_checkpoint(out).cfg.local.root_range is None
    run = Trainer(TrainSettings(out=out, steps=3, root_range=0.5, **common), log=lambda m: None)
    assert run.step == 2 and run.model.net.root_range == run.ema.net.root_range == 0.5
    assert run.local_space.data_max[ROOT_X] - run.local_space.data_min[ROOT_X] == pytest.approx(1.0)
    motion = run.next_batch()[0]
    assert motion[..., ROOT_X].abs().max() > 1.0  # the crops travel farther than 0.5 m: beyond [-1, 1] now
    run.run()
    ckpt = load_checkpoint(out)
    assert ckpt.cfg.local.root_range == 0.5
    torch.testing.assert_close(ckpt.local.normalizer_max, torch.as_tensor(run.local_space.data_max))
    again = Trainer(TrainSettings(out=out, steps=4, **common), log=lambda m: None)  # resumes in the same space
    assert again.step == 3 and again.local_space.data_max[ROOT_X] == run.local_space.data_max[ROOT_X]
    again.run()
    # A new network is built in the space it is asked for.
    fresh = Trainer(TrainSettings(out=str(tmp_path / "fresh"), steps=1, root_range=0.5, **common), log=lambda m: None)
    assert fresh.cfg.local.root_range == fresh.model.net.root_range == 0.5


def test_a_global_run_switches_to_a_primitive_motion_gain_and_keeps_it(corpus, tmp_path):
    common = dict(data=str(corpus), preset="tiny_patched", batch_size=4, save_every=1000, stage="global")
    out = str(tmp_path / "global")
    Trainer(TrainSettings(out=out, steps=2, **common), log=lambda m: None).run()
    assert load_checkpoint(out).cfg.global_.prim_motion_gain == 1.0
    run = Trainer(TrainSettings(out=out, steps=3, prim_motion_gain=5.0, **common), log=lambda m: None)
    assert run.step == 2 and run.prim_space.motion_gain == 5.0
    state = copy.deepcopy(run.rng)
    amplified = run.next_batch()[0]
    run.rng, run.cfg.global_.prim_motion_gain = state, 1.0
    plain = run.next_batch()[0]  # the same windows in the plain space
    run.cfg.global_.prim_motion_gain = 5.0
    about_mean = lambda x: x - x.mean(-2, keepdim=True)  # noqa: E731
    torch.testing.assert_close(amplified.mean(-2), plain.mean(-2), atol=1e-4, rtol=0)
    torch.testing.assert_close(about_mean(amplified), 5 * about_mean(plain), atol=1e-4, rtol=0)
    run.run()
    ckpt = load_checkpoint(out)
    assert ckpt.cfg.global_.prim_motion_gain == 5.0 and ckpt.cfg.local.prim_motion_gain == 1.0
    again = Trainer(TrainSettings(out=out, steps=4, **common), log=lambda m: None)  # resumes in the same space
    assert again.step == 3 and again.prim_space.motion_gain == 5.0


def test_primitive_step_loss_compares_the_steps_between_mean_poses():
    from lodge.train.losses import primitive_step_loss

    torch.manual_seed(0)
    target = torch.randn(2, 5, 8, 139)
    shared = target + 0.3  # every primitive off by the same: the steps are right
    assert primitive_step_loss(shared, target).item() == pytest.approx(0.0, abs=1e-10)
    jumpy = target.clone()
    jumpy[:, 2] += 1.0  # one primitive off: the two steps beside it are wrong by 1 in every dimension
    assert primitive_step_loss(jumpy, target).item() == pytest.approx(2 / 4)
    # Frames scaled about their primitive's mean (the primitive motion gain) leave it unchanged.
    mean = target.mean(2, keepdim=True)
    assert primitive_step_loss(mean + 5 * (target - mean), target).item() == pytest.approx(0.0, abs=1e-9)
    weight = torch.ones(2, 5)
    weight[:, 2] = 0.0  # a masked primitive takes both its steps out
    assert primitive_step_loss(jumpy, target, weight).item() == pytest.approx(0.0, abs=1e-10)


def test_a_global_run_with_the_primitive_step_term_logs_and_learns_it(corpus, tmp_path):
    settings = TrainSettings(stage="global", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=2, save_every=10, prim_step_weight=2.0)
    trainer = Trainer(settings, log=lambda m: None)
    losses = trainer.train_step()
    assert losses["prim_step"] > 0
    assert losses["total"] > losses["x0"] * 0.636 + 2.0 * losses["prim_step"] - 1e-6


def test_the_discriminator_sees_valid_rotations_and_no_contact_labels(corpus, tmp_path):
    """Non-orthonormal 6D numbers and soft contact labels are what a raw network output has and real
    motion has not; the discriminator must not be able to tell them apart by those."""
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=2, save_every=10)
    trainer = Trainer(settings, log=lambda m: None)
    real = trainer.next_batch()[0]
    view = trainer._disc_view(real)
    torch.testing.assert_close(view[..., 4:], real[..., 4:], atol=1e-4, rtol=1e-4)  # real rotations are valid already
    assert torch.unique(view[..., :4]).numel() == 1  # contacts blanked
    torch.manual_seed(0)
    raw = real + 0.05 * torch.randn_like(real)  # an output off the rotation manifold
    data = trainer.normalizer.denormalize(trainer._disc_view(raw))[..., 7:].reshape(*raw.shape[:2], -1, 6)
    rows = data.reshape(*data.shape[:-1], 2, 3)
    torch.testing.assert_close(rows.norm(dim=-1), torch.ones(rows.shape[:-1]), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close((rows[..., 0, :] * rows[..., 1, :]).sum(-1), torch.zeros(rows.shape[:-2]), atol=1e-4, rtol=0)


def test_a_local_run_with_the_motion_size_term_logs_and_learns_it(corpus, tmp_path):
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=2, save_every=10, fk_fraction=0, x0_speed_weight=0.5, disc_weight=0)
    trainer = Trainer(settings, log=lambda m: None)
    losses = trainer.train_step()
    assert losses["x0_speed"] > 0
    assert losses["total"] == pytest.approx(0.636 * losses["x0"] + 0.5 * losses["x0_speed"], rel=1e-4)
