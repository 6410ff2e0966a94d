"""The speed condition: networks told how fast to dance, trained on each example's own speed and told
the genre's typical speed times the request's energy at sampling."""
import numpy as np
import pytest
import torch

from lodge.checkpoint import load_checkpoint, save_checkpoint
from lodge.checks import InputError
from lodge.config import LodgeConfig
from lodge.metrics.realism import frame_speeds, root_relative_speed
from lodge.models.global_model import GlobalDenoiser
from lodge.models.local import LocalDenoiser
from lodge.motion import motion_to_joints
from lodge.sampling import SamplingOptions
from lodge.train.trainer import Trainer, TrainSettings, merge_checkpoints
from lodge.train.windows import Track

from fixtures.corpus import sine_dance, write_corpus

GENRES = ["breaking", "salsa"]


# Breaking danced with large swings, salsa with small ones (so their speeds differ).
DANCES = [("breaking", 1100, (0.3, 0.6)), ("salsa", 700, (0.05, 0.1)), ("salsa", 400, (0.1, 0.2))]


def _dance(i: int) -> np.ndarray:
    _genre, frames, amplitude = DANCES[i]
    return sine_dance(frames, 1.5, i, amplitude)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("speed_corpus"), [(g, _dance(i)) for i, (g, _, _) in enumerate(DANCES)],
                        n_train=3)


def _inputs(net, batch=3):
    torch.manual_seed(1)
    x = torch.randn(batch, 13, 8, 139) if isinstance(net, GlobalDenoiser) else torch.randn(batch, 32, 139)
    t = torch.tensor([5, 300, 900][:batch])
    genre = torch.zeros(batch, dtype=torch.long)
    if isinstance(net, GlobalDenoiser):
        frames = torch.arange(13)[None].repeat(batch, 1) * 70
        kinds = torch.zeros(batch, 13, dtype=torch.long)
        return lambda **kw: net(x, t, torch.randn(batch, 1024, 35, generator=torch.Generator().manual_seed(2)),
                                genre, frames, kinds, **kw)
    music = torch.randn(batch, 32, 35, generator=torch.Generator().manual_seed(2))
    return lambda **kw: net(x, t, music, genre, **kw)


@pytest.mark.parametrize("kind", [GlobalDenoiser, LocalDenoiser])
def test_a_network_given_the_speed_condition_answers_as_before_until_trained(kind):
    torch.manual_seed(0)
    net = kind.from_lodge_config(LodgeConfig.tiny(GENRES)).eval()
    call = _inputs(net)
    with torch.no_grad():
        before = call()
        net.add_speed_condition()
        assert net.net.speed_condition and net.speed_in is not None
        speed = torch.tensor([0.2, 0.5, 0.9])
        torch.testing.assert_close(call(speed=speed), before)  # the embedding starts at zero
        torch.nn.init.normal_(net.speed_in.mlp[-1].weight)
        slow, fast = call(speed=torch.full((3,), 0.2)), call(speed=torch.full((3,), 0.9))
        assert not torch.allclose(slow, fast)
        # NaN = "no speed": the same answer as not passing one.
        torch.testing.assert_close(call(speed=torch.full((3,), float("nan"))), call())


def test_frame_speeds_average_to_the_realism_speed_and_tracks_measure_their_windows():
    motion = sine_dance(300, 1.5, 0)
    joints = motion_to_joints(motion)
    speeds = frame_speeds(joints)
    assert speeds.shape == (299,)
    assert speeds.mean() == pytest.approx(root_relative_speed(joints))
    track = Track.from_arrays(motion, np.zeros((300, 35), np.float32), 0)
    assert track.speed(0, 300) == pytest.approx(root_relative_speed(joints), rel=1e-5)
    assert track.speed(100, 50) == pytest.approx(root_relative_speed(joints[100:150]), rel=1e-5)
    assert track.speed(290, 256) == pytest.approx(root_relative_speed(joints[290:]), rel=1e-5)  # past the end


def test_a_run_with_the_speed_condition_gives_a_trained_network_one_and_records_genre_speeds(corpus, tmp_path):
    common = dict(data=str(corpus), preset="tiny", batch_size=4, save_every=1000, disc_start=10_000)
    for stage in ("global", "local"):
        out = str(tmp_path / stage)
        Trainer(TrainSettings(stage=stage, out=out, steps=2, **common), log=lambda m: None).run()
        assert load_checkpoint(out).cfg.genre_speeds is None
        run = Trainer(TrainSettings(stage=stage, out=out, steps=6, speed_condition=True, **common), log=lambda m: None)
        assert run.step == 2 and run.model.speed_in is not None and run.ema.speed_in is not None
        assert len(run.opt.param_groups) == 2  # the embedding joined the optimiser as a group of its own
        batch = run.next_batch()
        assert batch[-1].shape == (4,) and torch.isfinite(batch[-1]).any()
        before = run.model.speed_in.mlp[-1].weight.detach().clone()
        run.run()
        assert not torch.equal(run.model.speed_in.mlp[-1].weight.detach(), before)  # it is trained
        rates = [group["lr"] for group in run.opt.param_groups]
        assert rates[-1] == pytest.approx(run.s.speed_lr_multiplier * rates[0])  # and faster than the rest
        ckpt = load_checkpoint(out)
        assert (ckpt.cfg.global_ if stage == "global" else ckpt.cfg.local).speed_condition
        again = Trainer(TrainSettings(stage=stage, out=out, steps=7, speed_condition=True, **common), log=lambda m: None)
        assert again.step == 6 and len(again.opt.param_groups) == 2  # the state file resumes as it is
        torch.testing.assert_close(again.model.speed_in.mlp[-1].weight, run.model.speed_in.mlp[-1].weight)
    # Each genre's speed: the mean over every frame of its training dances.
    ckpt = load_checkpoint(tmp_path / "global")
    by_genre = {g: [] for g in GENRES}
    for i, (genre, _, _) in enumerate(DANCES):
        by_genre[genre].append(frame_speeds(motion_to_joints(_dance(i))))
    for genre, parts in by_genre.items():
        assert ckpt.cfg.genre_speeds[genre] == pytest.approx(np.concatenate(parts).mean(), abs=1e-3)
    assert ckpt.cfg.genre_speeds["breaking"] > 2 * ckpt.cfg.genre_speeds["salsa"]
    merged = load_checkpoint(merge_checkpoints(tmp_path / "global", tmp_path / "local", tmp_path / "m",
                                               speed_guidance_weight=2.5))
    assert merged.cfg.global_.speed_condition and merged.cfg.local.speed_condition
    assert merged.cfg.genre_speeds == ckpt.cfg.genre_speeds and merged.cfg.speed_guidance_weight == 2.5


def test_speed_guidance_needs_a_network_told_a_speed(corpus, tmp_path):
    common = dict(data=str(corpus), preset="tiny", steps=1, batch_size=2, save_every=1000, disc_start=10_000)
    for stage in ("global", "local"):
        Trainer(TrainSettings(stage=stage, out=str(tmp_path / stage), **common), log=lambda m: None).run()
    with pytest.raises(ValueError, match="speed condition"):
        merge_checkpoints(tmp_path / "global", tmp_path / "local", tmp_path / "m", speed_guidance_weight=1.0)
    assert load_checkpoint(merge_checkpoints(tmp_path / "global", tmp_path / "local", tmp_path / "m",
                                             speed_guidance_weight=0.0)).cfg.speed_guidance_weight == 0.0


def test_a_new_run_with_the_speed_condition_builds_its_network_with_it(corpus, tmp_path):
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=2,
                             batch_size=2, save_every=1000, disc_start=10_000, speed_condition=True)
    Trainer(settings, log=lambda m: None).run()
    ckpt = load_checkpoint(tmp_path / "c")
    assert ckpt.cfg.local.speed_condition and not ckpt.cfg.global_.speed_condition
    assert set(ckpt.cfg.genre_speeds) == set(GENRES)


def test_configs_with_the_speed_condition_need_every_genres_speed():
    cfg = LodgeConfig.tiny(GENRES)
    cfg.local.speed_condition = True
    with pytest.raises(ValueError, match="genre_speeds"):
        LodgeConfig.from_dict(cfg.to_dict())
    with pytest.raises(ValueError, match="missing"):
        LodgeConfig.from_dict({**cfg.to_dict(), "genre_speeds": {"breaking": 0.8}})
    cfg = LodgeConfig.from_dict({**cfg.to_dict(), "genre_speeds": {"breaking": 0.8, "salsa": 0.4}})
    assert cfg.genre_speed("Salsa") == cfg.genre_speed(1) == 0.4
    with pytest.raises(ValueError, match="no genre speeds"):
        LodgeConfig.tiny(GENRES).genre_speed(0)


def test_the_energy_option_is_checked():
    assert SamplingOptions().energy == 1.0
    assert SamplingOptions(energy="1.5").energy == 1.5
    for bad in (0, 0.1, 5, float("nan"), "fast"):
        with pytest.raises(InputError) as err:
            SamplingOptions(energy=bad)
        assert err.value.field == "energy"


def test_sampling_tells_speed_conditioned_networks_the_genre_speed_times_the_energy(tiny_checkpoint, tmp_path, example_song):
    from lodge.pipeline import LodgePipeline

    from fixtures.speedy import SpeedSpy, speed_conditioned_copy

    genres = load_checkpoint(tiny_checkpoint).cfg.genres
    path = speed_conditioned_copy(tiny_checkpoint, tmp_path / "speedy", {g: 0.3 + 0.1 * i for i, g in enumerate(genres)})
    cfg = load_checkpoint(path).cfg
    pipe = LodgePipeline.from_pretrained(path, device="cpu")
    pipe.local, pipe.global_ = SpeedSpy(pipe.local), SpeedSpy(pipe.global_)
    genre = cfg.genres[1]
    dances = {e: pipe(example_song, genre, seed=0, steps=2, duration=10, energy=e) for e in (1.0, 2.0)}
    expected = cfg.genre_speed(1)
    told = [s for s in pipe.local.seen + pipe.global_.seen]
    assert all(s is not None for s in told)
    half = len(pipe.local.seen) // 2
    assert torch.allclose(pipe.local.seen[0], torch.full_like(pipe.local.seen[0], expected))
    assert torch.allclose(pipe.local.seen[half], torch.full_like(pipe.local.seen[half], 2 * expected))
    assert not np.allclose(dances[1.0].joints, dances[2.0].joints)
    # Speed guidance: every call holds the told speed and, beside it, a branch told no speed (NaN).
    pipe.local.seen.clear()
    pipe.global_.seen.clear()
    guided = pipe(example_song, genre, seed=0, steps=2, duration=10, speed_guidance_weight=3.0)
    for told in pipe.local.seen + pipe.global_.seen:
        assert torch.isnan(told).any() and torch.allclose(told[~torch.isnan(told)], torch.tensor(expected))
    assert not np.allclose(guided.joints, dances[1.0].joints)
    # A network without the condition is never told a speed, whatever the energy.
    plain_pipe = LodgePipeline.from_pretrained(tiny_checkpoint, device="cpu")
    seen = []
    original = plain_pipe.local.forward
    plain_pipe.local.forward = lambda *a, **kw: (seen.append("speed" in kw), original(*a, **kw))[1]
    a = plain_pipe(example_song, genre, seed=0, steps=2, duration=10, energy=2.0)
    b = plain_pipe(example_song, genre, seed=0, steps=2, duration=10)
    assert seen and not any(seen)
    np.testing.assert_allclose(a.joints, b.joints)
    with pytest.raises(InputError, match="not told a speed") as err:
        plain_pipe(example_song, genre, seed=0, steps=2, duration=10, speed_guidance_weight=1.0)
    assert err.value.field == "speed_guidance_weight"


def _stretch_track(frames: int = 400) -> Track:
    music = np.random.default_rng(3).normal(size=(frames, 35)).astype(np.float32)
    music[:, 33:] = 0.0
    music[10::15, 34] = 1.0  # a beat every half second
    music[5::40, 33] = 1.0
    return Track.from_arrays(sine_dance(frames, 1.0, seed=3), music, 0)


@pytest.mark.parametrize("factor", [0.7, 1.4])
def test_a_stretched_crop_moves_as_much_faster_as_it_says_and_keeps_its_beats(factor):
    from lodge.train.windows import stretched_crop

    track = _stretch_track()
    motion, music, valid, speed = stretched_crop(track, 20, factor)
    assert motion.shape == (256, 139) and music.shape == (256, 35) and valid.shape == (256,)
    plain = track.speed(20, 256)
    assert speed == pytest.approx(plain * factor, rel=0.15)
    assert root_relative_speed(motion_to_joints(motion)) == pytest.approx(speed, rel=0.1)  # what it is told is what it does
    span = track.music[20:20 + int(np.ceil(factor * 255)) + 1]
    assert music[:, 34].sum() == span[:, 34].sum() and music[:, 33].sum() == span[:, 33].sum()  # no mark lost or smeared
    assert set(np.unique(music[:, 33:])) <= {0.0, 1.0}
    np.testing.assert_allclose(music[0, :33], track.music[20, :33], rtol=1e-5)


def test_a_stretched_crop_past_the_end_of_the_dance_is_marked_invalid_there():
    from lodge.train.windows import stretched_crop

    track = _stretch_track(300)
    _, _, valid, _ = stretched_crop(track, 100, 1.4)  # source frames 100 .. 457 of 300
    last_valid = int(np.flatnonzero(valid)[-1])
    assert valid[:last_valid + 1].all() and not valid[last_valid + 1:].any()
    assert 100 + last_valid * 1.4 <= 299 < 100 + (last_valid + 1) * 1.4


def test_local_examples_without_stretching_draw_the_same_segments_as_before():
    from lodge.train.windows import local_example

    track = _stretch_track()
    a = [local_example(track, np.random.default_rng(5)) for _ in range(3)]
    b = [local_example(track, np.random.default_rng(5), max_stretch=1.0) for _ in range(3)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])
        assert x[4] == y[4]
    stretched = [local_example(track, rng, max_stretch=1.5) for rng in [np.random.default_rng(s) for s in range(40)]]
    ratios = np.array([e[4] / track.speed(0, len(track.motion)) for e in stretched])
    assert ratios.min() < 0.85 and ratios.max() > 1.15  # some segments faster, some slower


def test_a_dance_as_fast_as_its_genre_is_only_ever_slowed_and_a_slow_one_may_be_sped_up():
    from lodge.train.windows import cap_speedups, local_example

    fast, slow = _stretch_track(), _stretch_track()
    slow = Track.from_arrays(sine_dance(400, 0.4, seed=3), slow.music, 0)
    cap_speedups([fast, slow])
    assert fast.max_speedup == pytest.approx(1.0, abs=0.05)  # its fast frames are the genre's fastest
    assert slow.max_speedup > 1.5
    for track, top in ((fast, fast.max_speedup), (slow, 1.5)):
        base = track.speed(0, len(track.motion))
        ratios = np.array([local_example(track, np.random.default_rng(s), max_stretch=1.5)[4] / base for s in range(60)])
        assert ratios.min() < 0.85 and ratios.max() < top * 1.15 + 0.05
    assert ratios.max() > 1.2  # the slow dance does get played faster


def test_a_local_run_with_time_stretching_trains(corpus, tmp_path):
    settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=4, save_every=10, fk_fraction=0, time_stretch=1.5, disc_weight=0,
                             speed_condition=True)
    trainer = Trainer(settings, log=lambda m: None)
    assert np.isfinite(trainer.train_step()["total"])


@pytest.mark.parametrize("factor", [0.7, 1.4])
def test_a_stretched_window_plans_its_primitives_on_the_moved_beats_and_moves_them_as_much_faster(factor):
    from lodge.train.windows import stretched_window

    track = _stretch_track(1600)
    prims, music, frames, weight, speed = stretched_window(track, 30, factor)
    assert prims.shape == (13, 8, 139) and music.shape == (1024, 35) and weight.all()
    assert speed == pytest.approx(stretched_window(track, 30, 1.0)[4] * factor, rel=0.15)
    joints = motion_to_joints(track.motion)
    for prim, first in zip(prims, frames):  # each primitive is the dance there, played factor times as fast
        src = np.clip(30 + (first + np.arange(8)) * factor, 0, 1599)
        lo, w = np.floor(src).astype(int), (src - np.floor(src))[:, None, None]
        there = (1 - w) * joints[lo] + w * joints[np.minimum(lo + 1, 1599)]
        assert root_relative_speed(motion_to_joints(prim)) == pytest.approx(root_relative_speed(there), rel=0.1)
    moved = np.rint((track.beats - 30) / factor)
    on_beat = [np.abs(moved - (f + 4)).min() <= 1 for f in frames[5:]]  # the 8 soft cues centre on beats
    assert sum(on_beat) >= 6
    span = track.music[30:30 + int(np.ceil(factor * 1023)) + 1]
    assert music[:, 34].sum() == span[:, 34].sum() and music[:, 33].sum() == span[:, 33].sum()


def test_a_stretched_window_past_the_end_of_the_dance_weighs_nothing_there():
    from lodge.train.windows import stretched_window

    _, _, frames, weight, _ = stretched_window(_stretch_track(1600), 400, 1.4)  # source frames 400 .. 1832
    window_len = int((1599 - 400) / 1.4) + 1
    np.testing.assert_array_equal(weight, (frames < window_len).astype(np.float32))
    assert 0 < weight.sum() < 13


def test_global_examples_without_stretching_draw_the_same_windows_as_before():
    from lodge.train.windows import global_example

    track = _stretch_track(1600)
    for seed in range(3):
        a, b = global_example(track, np.random.default_rng(seed)), global_example(track, np.random.default_rng(seed), max_stretch=1.0)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    stretched = [global_example(track, np.random.default_rng(s), max_stretch=1.5) for s in range(40)]
    ratios = np.array([e[5] / track.speed(0, 1600) for e in stretched])
    assert ratios.min() < 0.85 and ratios.max() > 1.15


def test_a_global_run_with_time_stretching_trains(corpus, tmp_path):
    settings = TrainSettings(stage="global", data=str(corpus), out=str(tmp_path / "c"), preset="tiny", steps=1,
                             batch_size=4, save_every=10, fk_fraction=0, time_stretch=1.5, speed_condition=True)
    trainer = Trainer(settings, log=lambda m: None)
    assert np.isfinite(trainer.train_step()["total"])
