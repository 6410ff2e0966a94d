"""The networks (tiny configs): shapes, conditioning, the Foot Refine Block, losses, discriminator."""
import warnings
from dataclasses import asdict

import numpy as np
import pytest
import torch

from lodge import rotations as R
from lodge.config import LodgeConfig, NetConfig
from lodge.constants import MOTION_DIM, MUSIC_DIM, N_JOINTS, ROT_SLICE
from lodge.train.losses import DEFAULT_WEIGHTS, diffusion_losses, motion_size, motion_size_loss
from lodge.models import (
    GlobalDenoiser, LocalDenoiser, MultiGenreDiscriminator, count_parameters, foot_features, hinge_d_loss,
    hinge_g_loss,
)
from lodge.models.foot import denormalize
from lodge.motion import Normalizer, pack_motion, rest_motion

GENRES = ["jazz", "hiphop", "ballet"]
PRIM_FRAMES = [-4, 28, 60, 252, 284, 316, 508, 540, 572, 764, 796, 828, 1020]
PRIM_KINDS = [0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0]


@pytest.fixture(scope="module")
def cfg():
    return LodgeConfig.tiny(GENRES)


@pytest.fixture(scope="module")
def normalizer():
    rng = np.random.default_rng(0)
    m = rest_motion(64)
    m[:, 4:] += rng.normal(scale=0.3, size=(64, MOTION_DIM - 4)).astype(np.float32)
    m[:, :4] = rng.random((64, 4)) < 0.5
    return Normalizer.fit(m)


def local_model(cfg, normalizer, seed=0):
    torch.manual_seed(seed)
    return LocalDenoiser.from_lodge_config(cfg, normalizer.data_min, normalizer.data_max).eval()


def global_model(cfg, seed=0):
    torch.manual_seed(seed)
    return GlobalDenoiser.from_lodge_config(cfg).eval()


def local_inputs(b=2, frames=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        x_t=torch.randn(b, frames, MOTION_DIM, generator=g) * 0.5,
        t=torch.randint(0, 1000, (b,), generator=g),
        music=torch.randn(b, frames, MUSIC_DIM, generator=g),
        genre=torch.arange(b) % len(GENRES),
        drop_mask=torch.zeros(b, dtype=torch.bool),
    )


def global_inputs(b=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        x_t=torch.randn(b, 13, 8, MOTION_DIM, generator=g),
        t=torch.full((b,), 500),
        music=torch.randn(b, 1024, MUSIC_DIM, generator=g),
        genre=torch.zeros(b, dtype=torch.long),
        prim_frames=torch.tensor([PRIM_FRAMES] * b),
        prim_kinds=torch.tensor([PRIM_KINDS] * b),
        drop_mask=torch.zeros(b, dtype=torch.bool),
    )


def test_config_round_trip_and_validation():
    cfg = LodgeConfig.small(GENRES)
    d = cfg.to_dict()
    assert "global" in d and "global_" not in d
    assert LodgeConfig.from_dict(d) == cfg
    assert cfg.genre_index("hiphop") == 1
    with pytest.raises(ValueError, match="jazz"):
        cfg.genre_index("polka")
    with pytest.raises(ValueError):
        NetConfig(d_model=30, n_heads=4)
    with pytest.raises(ValueError):
        LodgeConfig(genres=[])


def test_local_shapes_any_length(cfg, normalizer):
    model = local_model(cfg, normalizer)
    for frames in (32, 40):
        with torch.no_grad():
            out = model(**local_inputs(frames=frames))
        assert out.shape == (2, frames, MOTION_DIM)
        assert torch.isfinite(out).all()


def test_local_music_drop_and_genre_matter(cfg, normalizer):
    model = local_model(cfg, normalizer)
    inp = local_inputs()
    with torch.no_grad():
        base = model(**inp)
        dropped = model(**dict(inp, drop_mask=torch.ones(2, dtype=torch.bool)))
        other_genre = model(**dict(inp, genre=(inp["genre"] + 1) % len(GENRES)))
        other_music_dropped = model(**dict(inp, music=torch.randn_like(inp["music"]),
                                           drop_mask=torch.ones(2, dtype=torch.bool)))
    assert not torch.allclose(base, dropped)
    assert not torch.allclose(base, other_genre)
    torch.testing.assert_close(dropped, other_music_dropped)  # dropped = music ignored entirely


def test_local_drop_mask_is_per_sample(cfg, normalizer):
    model = local_model(cfg, normalizer)
    inp = local_inputs()
    with torch.no_grad():
        mixed = model(**dict(inp, drop_mask=torch.tensor([False, True])))
        cond = model(**inp)
        uncond = model(**dict(inp, drop_mask=torch.tensor([True, True])))
    torch.testing.assert_close(mixed[0], cond[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mixed[1], uncond[1], atol=1e-5, rtol=1e-4)


def test_foot_features_are_fk_of_the_motion():
    motion = torch.from_numpy(rest_motion(5))[None]
    feats = foot_features(motion)
    assert feats.shape == (1, 5, 28)
    # Standing still: zero velocity, toes on the floor (height 0), contacts on.
    torch.testing.assert_close(feats[..., 12:24], torch.zeros(1, 5, 12), atol=1e-5, rtol=0)
    assert torch.all(feats[..., 24:] > 0.9)
    moved = motion.clone()
    moved[:, 2:, 5] += 0.2  # lift the body at frame 2: feet move up with it
    vel = foot_features(moved)[0, 2, 12:24].reshape(4, 3)
    torch.testing.assert_close(vel[:, 1], torch.full((4,), 0.2 * 30))


def test_foot_refine_uses_the_foot_input(cfg, normalizer):
    model = local_model(cfg, normalizer)
    block = model.foot
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 16, cfg.local.d_model, generator=g)
    feats = torch.randn(2, 16, 28, generator=g)
    base = block.correction_from_features(hidden, feats)
    perturbed = feats.clone()
    perturbed[:, 5, :12] += 0.5  # move the feet at one frame
    assert not torch.allclose(base, block.correction_from_features(hidden, perturbed))
    # Gradients of the correction reach the foot embedding and the foot features.
    feats.requires_grad_(True)
    block.zero_grad()
    block.correction_from_features(hidden, feats).pow(2).sum().backward()
    assert feats.grad is not None and feats.grad.abs().sum() > 0
    for p in block.embed.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0
    # And end to end: a different predicted foot placement changes the correction.
    x0 = torch.randn(1, 16, MOTION_DIM, generator=g) * 0.3
    x0_b = x0.clone()
    x0_b[:, 8, 7 + 6 * 4: 7 + 6 * 5] += 0.5  # rotate the left knee at frame 8 -> left foot moves
    h = hidden[:1]
    lo, hi = model.normalizer_min, model.normalizer_max
    fa = foot_features(denormalize(x0, lo, hi))
    fb = foot_features(denormalize(x0_b, lo, hi))
    assert not torch.allclose(fa[0, 8, [0, 1, 2]], fb[0, 8, [0, 1, 2]])  # left ankle moved
    torch.testing.assert_close(fa[0, 8, [3, 4, 5]], fb[0, 8, [3, 4, 5]])  # right ankle did not
    assert not torch.allclose(block(h, x0, lo, hi), block(h, x0_b, lo, hi))


def test_local_backward_reaches_everything(cfg, normalizer):
    model = local_model(cfg, normalizer).train()
    out = model(**local_inputs(), return_parts=True)
    assert set(out) == {"x0", "x0_coarse", "correction"}
    out["x0"].pow(2).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None and "null" not in n]
    assert not missing


def test_global_shapes_and_conditioning(cfg):
    model = global_model(cfg)
    inp = global_inputs(b=2)
    with torch.no_grad():
        base = model(**inp)
        assert base.shape == (2, 13, 8, MOTION_DIM)
        other_genre = model(**dict(inp, genre=torch.ones(2, dtype=torch.long)))
        frames = inp["prim_frames"].clone()
        frames[:, 1] += 100  # move one soft primitive 100 frames later
        moved = model(**dict(inp, prim_frames=frames))
        kinds = inp["prim_kinds"].clone()
        kinds[:, 1] = 0
        other_kind = model(**dict(inp, prim_kinds=kinds))
        dropped = model(**dict(inp, drop_mask=torch.ones(2, dtype=torch.bool)))
    assert not torch.allclose(base, other_genre)
    assert not torch.allclose(base[:, 1], moved[:, 1])
    assert not torch.allclose(base, other_kind)
    assert not torch.allclose(base, dropped)


def test_global_position_is_relative_to_music(cfg):
    """Shifting the music and every primitive by the same number of frames (a multiple of the music
    stride) leaves the prediction unchanged: only time distances matter, as rotary attention intends."""
    model = global_model(cfg)
    inp = global_inputs()
    shift = 64
    music = inp["music"]
    with torch.no_grad():
        # Zero the music outside the window part that both versions share, to compare like with like.
        a_music = music.clone()
        a_music[:, 1024 - shift:] = 0
        b_music = torch.cat([torch.zeros(1, shift, MUSIC_DIM), a_music[:, :-shift]], dim=1)
        near = model(**dict(inp, music=a_music))
        far = model(**dict(inp, music=b_music))
        far_shifted = model(**dict(inp, music=b_music, prim_frames=inp["prim_frames"] + shift))
    assert not torch.allclose(near, far, atol=1e-4)
    # Not exactly equal: the conv's zero padding at the window edges and the mean pooling see the
    # zero-padded region differently; interior structure dominates.
    assert (near - far_shifted).abs().mean() < (near - far).abs().mean()


def test_discriminator_and_hinge_losses(cfg):
    torch.manual_seed(0)
    disc = MultiGenreDiscriminator(cfg)
    motion = torch.randn(4, 64, MOTION_DIM)
    logits = disc(motion)
    assert logits.shape == (4, len(GENRES))
    genre = torch.tensor([0, 1, 2, 0])
    real = torch.zeros(4, 3)
    real[torch.arange(4), genre] = 2.0  # confident and right on each sample's own genre
    fake = torch.zeros(4, 3)
    fake[torch.arange(4), genre] = -2.0
    assert hinge_d_loss(real, fake, genre).item() == 0.0
    assert hinge_d_loss(fake, real, genre).item() == pytest.approx(6.0)
    assert hinge_g_loss(fake, genre).item() == pytest.approx(2.0)
    # Other genres' logits are ignored.
    fake2 = fake.clone()
    fake2[0, 1] = 100.0
    assert hinge_g_loss(fake2, genre).item() == pytest.approx(2.0)
    hinge_g_loss(disc(motion), genre).backward()


def test_discriminator_sees_velocity_and_acceleration():
    from lodge.models.discriminator import ACCELERATION_SCALE, VELOCITY_SCALE, motion_features

    motion = torch.randn(2, 16, MOTION_DIM)
    feats = motion_features(motion)
    assert feats.shape == (2, 16, 3 * MOTION_DIM)
    torch.testing.assert_close(feats[:, :, :MOTION_DIM], motion)
    vel = feats[:, :, MOTION_DIM:2 * MOTION_DIM] / VELOCITY_SCALE
    torch.testing.assert_close(vel[:, :-1], motion[:, 1:] - motion[:, :-1])
    torch.testing.assert_close(vel[:, -1], vel[:, -2])  # padded by its last frame
    acc = feats[:, :, 2 * MOTION_DIM:] / ACCELERATION_SCALE
    torch.testing.assert_close(acc[:, :-1], vel[:, 1:] - vel[:, :-1], atol=1e-5, rtol=1e-4)


def test_r1_penalty_is_the_squared_input_gradient_and_trains_the_discriminator(cfg):
    from lodge.models.discriminator import r1_penalty

    torch.manual_seed(0)
    disc = MultiGenreDiscriminator(cfg)
    real = torch.randn(3, 32, MOTION_DIM)
    genre = torch.tensor([0, 2, 1])
    penalty, logits = r1_penalty(disc, real, genre)
    x = real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(x).gather(1, genre.view(-1, 1)).sum(), x)
    assert penalty.item() == pytest.approx(grad.pow(2).flatten(1).sum(1).mean().item(), rel=1e-4)
    torch.testing.assert_close(logits, disc(real))
    penalty.backward()
    assert disc.convs[0].weight.grad.abs().sum() > 0  # (the biases get none: LeakyReLU is piecewise linear)


def test_discriminator_learns_to_tell_judder_from_smooth_motion(cfg):
    """The local network's failure mode, frame-to-frame judder on otherwise plausible motion, is what
    the discriminator must catch (the spectrally normalised first version never did)."""
    from lodge.models.discriminator import r1_penalty

    torch.manual_seed(0)
    disc = MultiGenreDiscriminator(cfg)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.99))
    t = torch.linspace(0, 4, 64)

    def batch(n=8):
        phase = torch.rand(n, 1, MOTION_DIM) * 6.28
        smooth = torch.sin(t[None, :, None] * 3 + phase)
        return smooth, smooth + 0.1 * torch.randn_like(smooth)  # the judder: a tenth of the motion's std

    genre = torch.zeros(8, dtype=torch.long)
    for _ in range(60):
        real, fake = batch()
        r1, real_logits = r1_penalty(disc, real, genre)
        loss = hinge_d_loss(real_logits, disc(fake), genre) + 0.5 * r1
        opt.zero_grad()
        loss.backward()
        opt.step()
    real, fake = batch()
    with torch.no_grad():
        assert hinge_d_loss(disc(real), disc(fake), genre).item() < 0.5  # chance is 2


def test_count_parameters(cfg, normalizer):
    model = local_model(cfg, normalizer)
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())
    assert 10_000 < count_parameters(model) < 200_000


def random_pose_motion(frames=24, seed=0):
    rng = np.random.default_rng(seed)
    aa = rng.normal(scale=0.4, size=(frames, N_JOINTS, 3)).astype(np.float32)
    transl = np.cumsum(rng.normal(scale=0.02, size=(frames, 3)), 0).astype(np.float32)
    contacts = (rng.random((frames, 4)) < 0.5).astype(np.float32)
    return pack_motion(contacts, transl, R.axis_angle_to_matrix(aa))


def test_losses_zero_for_identical_and_positive_otherwise(normalizer):
    target = torch.from_numpy(normalizer.normalize(np.stack([random_pose_motion(seed=s) for s in (0, 1)])))
    same = diffusion_losses(target, target, normalizer)
    assert set(same) == {"x0", "x0_vel", "x0_speed", "joints", "vel", "acc", "foot", "total"}
    for name in ("x0", "x0_vel", "joints", "vel", "acc"):
        assert same[name].item() == pytest.approx(0.0, abs=1e-10), name
    # The foot term judges the prediction alone (random poses slide while labelled in contact).
    assert same["total"].item() == pytest.approx(DEFAULT_WEIGHTS["foot"] * same["foot"].item(), rel=1e-5)
    pred = target + 0.05 * torch.randn_like(target)
    pred.requires_grad_(True)
    diff = diffusion_losses(pred, target, normalizer)
    for name in ("x0", "x0_vel", "joints", "vel", "acc", "total"):
        assert diff[name].item() > 0, name
    diff["total"].backward()
    assert pred.grad.abs().sum() > 0


def test_x0_velocity_term_sees_a_jump_that_the_x0_term_weighs_lightly(normalizer):
    target = torch.from_numpy(normalizer.normalize(np.stack([random_pose_motion(seed=0)])))
    offset = torch.zeros_like(target)
    offset[:, ::2] = 0.05  # every other frame off: jitter
    jitter = diffusion_losses(target + offset, target, fk_samples=0, weights={"x0_vel": 1.0})
    offset[:] = 0.05 * 0.5 ** 0.5  # the same x0 error as a constant offset: smooth
    smooth = diffusion_losses(target + offset, target, fk_samples=0, weights={"x0_vel": 1.0})
    assert jitter["x0"].item() == pytest.approx(smooth["x0"].item(), rel=1e-4)
    assert smooth["x0_vel"].item() == pytest.approx(0.0, abs=1e-10)
    assert jitter["x0_vel"].item() > 0.002
    assert jitter["total"].item() == pytest.approx(DEFAULT_WEIGHTS["x0"] * jitter["x0"].item() + jitter["x0_vel"].item(), rel=1e-5)


def test_motion_size_term_sees_a_still_answer_that_the_x0_term_weighs_lightly(normalizer):
    target = torch.from_numpy(normalizer.normalize(np.stack([random_pose_motion(seed=s) for s in (0, 1)])))
    still = target.mean(1, keepdim=True).expand_as(target).clone()  # the frames' mean: a blur that does not move
    still.requires_grad_(True)
    losses = diffusion_losses(still, target, fk_samples=0, weights={"x0_speed": 0.5})
    assert losses["x0_speed"].item() > 10.0  # log(floor / real size)^2
    assert losses["total"].item() == pytest.approx(
        DEFAULT_WEIGHTS["x0"] * losses["x0"].item() + 0.5 * losses["x0_speed"].item(), rel=1e-5)
    losses["total"].backward()
    assert still.grad.abs().sum() > 0
    # Any motion of the data's size scores 0, whichever way it goes; twice the size scores log(2)^2.
    reversed_ = target.flip(1)
    assert diffusion_losses(reversed_, target, fk_samples=0, weights={"x0_speed": 1.0})["x0_speed"].item() == \
        pytest.approx(0.0, abs=1e-8)
    doubled = target + (target - target.mean(1, keepdim=True))
    assert motion_size_loss(doubled, target).item() == pytest.approx(np.log(2.0) ** 2, rel=0.01)
    # Off by default: not computed, and the total as before.
    assert diffusion_losses(still, target, fk_samples=0)["x0_speed"].item() == 0.0


def test_motion_size_leaves_masked_frames_and_samples_out():
    target = torch.zeros(2, 6, MOTION_DIM)
    target[:, :, ROT_SLICE] = torch.arange(6.0)[None, :, None] * 0.1  # 0.1 per frame
    pred = target.clone()
    pred[:, 3:, ROT_SLICE] = 5.0  # a jump, but only in frames the weight masks out
    weight = torch.ones(2, 6)
    weight[:, 3:] = 0.0
    assert motion_size(pred, weight).tolist() == pytest.approx([0.1, 0.1])
    assert motion_size_loss(pred, target, weight).item() == pytest.approx(0.0, abs=1e-8)
    weight[1] = 0.0  # a sample with no frame left does not count
    pred[1] = 0.0
    assert motion_size_loss(pred, target, weight).item() == pytest.approx(0.0, abs=1e-8)


def test_foot_loss_penalises_sliding_planted_feet(normalizer):
    still = np.repeat(rest_motion(1), 16, axis=0)  # contacts on, not moving
    sliding = still.copy()
    sliding[:, 4] = np.linspace(0, 1.0, 16)  # the whole body slides along x
    lifting = still.copy()
    lifting[:, 5] = np.linspace(0, 0.3, 16)  # moves straight up: lift-off is allowed
    to_t = lambda m: torch.from_numpy(normalizer.normalize(m[None]))  # noqa: E731
    assert diffusion_losses(to_t(still), to_t(still), normalizer)["foot"].item() == pytest.approx(0.0, abs=1e-12)
    assert diffusion_losses(to_t(sliding), to_t(still), normalizer)["foot"].item() > 1e-5
    assert diffusion_losses(to_t(lifting), to_t(still), normalizer)["foot"].item() == pytest.approx(0.0, abs=1e-12)
    lowering = still.copy()
    lowering[:, 5] = np.linspace(0.3, 0, 16)
    assert diffusion_losses(to_t(lowering), to_t(still), normalizer)["foot"].item() > 1e-5


def test_frame_weight_masks_frames(normalizer):
    target = torch.from_numpy(normalizer.normalize(random_pose_motion()[None]))
    pred = target.clone()
    pred[:, 10] += 0.5  # a glitch at frame 10
    weight = torch.ones(1, target.shape[1])
    assert diffusion_losses(pred, target, normalizer)["joints"].item() > 0
    weight[:, 10] = 0
    masked = diffusion_losses(pred, target, normalizer, frame_weight=weight)
    for name in ("x0", "joints", "vel", "acc"):
        assert masked[name].item() == pytest.approx(0.0, abs=1e-10), name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(cfg, normalizer):
    from lodge.diffusion import GaussianDiffusion

    model = local_model(cfg, normalizer)
    inp = local_inputs()
    d = GaussianDiffusion(100)

    def run(device):
        m = model.to(device)
        music, genre = inp["music"].to(device), inp["genre"].to(device)
        fn = lambda x, t, drop: m(x, t, music.repeat(x.shape[0] // 2, 1, 1), genre.repeat(x.shape[0] // 2), drop)  # noqa: E731
        with torch.no_grad():
            return d.sample(fn, (2, 32, MOTION_DIM), steps=4, generator=torch.Generator().manual_seed(0),
                            device=device).cpu()

    torch.testing.assert_close(run("cpu"), run("cuda"), atol=2e-3, rtol=2e-3)


def test_patchify_round_trip_and_token_positions():
    from lodge.models.layers import patch_positions, patchify, unpatchify

    x = torch.randn(2, 16, 5)
    tokens = patchify(x, 4)
    assert tokens.shape == (2, 4, 20)
    torch.testing.assert_close(tokens[0, 1, :5], x[0, 4])  # frames side by side
    torch.testing.assert_close(unpatchify(tokens, 4), x)
    torch.testing.assert_close(patch_positions(16, 4), torch.tensor([1.5, 5.5, 9.5, 13.5]))
    with pytest.raises(ValueError):
        patchify(torch.randn(1, 10, 3), 4)


def test_patched_networks_shapes_and_cue_input(normalizer):
    cfg = LodgeConfig.tiny_patched(GENRES)
    torch.manual_seed(0)
    local = LocalDenoiser.from_lodge_config(cfg, normalizer.data_min, normalizer.data_max).eval()
    x = torch.randn(2, 64, MOTION_DIM)
    music = torch.randn(2, 64, MUSIC_DIM)
    t = torch.tensor([10, 500])
    genre = torch.tensor([0, 2])
    plain = local(x, t, music, genre)
    assert plain.shape == x.shape
    cue_mask = torch.zeros(2, 64, dtype=torch.bool)
    cue_mask[:, :4] = True
    cues = torch.randn(2, 64, MOTION_DIM)
    with_cues = local(x, t, music, genre, cue_values=cues, cue_mask=cue_mask)
    assert not torch.allclose(plain, with_cues)  # the network sees the cues
    changed_off_cue = cues.clone()
    changed_off_cue[:, 4:] += 1.0
    # Values off the cue frames are not part of the input.
    torch.testing.assert_close(with_cues, local(x, t, music, genre, cue_values=changed_off_cue, cue_mask=cue_mask))
    glob = GlobalDenoiser.from_lodge_config(cfg).eval()
    prims = torch.randn(2, 13, 8, MOTION_DIM)
    frames = torch.tensor([PRIM_FRAMES, PRIM_FRAMES])
    kinds = torch.tensor([PRIM_KINDS, PRIM_KINDS])
    out = glob(prims, t, torch.randn(2, 1024, MUSIC_DIM), genre, frames, kinds)
    assert out.shape == prims.shape


def test_random_cue_masks_look_like_sampling():
    from lodge.train.trainer import random_cue_mask

    mask = random_cue_mask(400, 256, np.random.default_rng(0)).numpy()
    ends = mask[:, :4].all(1) & mask[:, -4:].all(1)
    assert 0.7 < ends.mean() < 0.9  # most samples have both hard cues
    assert 0.05 < (~mask.any(1)).mean() < 0.2  # some have no cue at all
    inner = mask[:, 12:-12].sum(1)
    assert inner.max() <= 4 * 8 and (inner % 8 == 0).mean() > 0.8  # whole 8-frame soft cues, up to 4


def wide_skip_config() -> LodgeConfig:
    """A per-frame network wider than its 139-number tokens, the case skip preconditioning is for."""
    net = dict(d_model=144, n_layers=1, n_heads=2, ff_dim=64, music_layers=1, dropout=0.0, skip_input=True)
    return LodgeConfig(genres=list(GENRES), local=NetConfig(**net, cue_input=True), global_=NetConfig(**net))


def test_skip_preconditioned_networks_follow_their_input_at_low_noise(normalizer):
    from lodge.diffusion import GaussianDiffusion

    cfg = wide_skip_config()
    torch.manual_seed(0)
    local = LocalDenoiser.from_lodge_config(cfg, normalizer.data_min, normalizer.data_max).eval()
    glob = GlobalDenoiser.from_lodge_config(cfg).eval()
    d = GaussianDiffusion(cfg.diffusion_steps)
    x0 = torch.rand(2, 64, MOTION_DIM) * 2 - 1
    music = torch.randn(2, 64, MUSIC_DIM)
    genre = torch.tensor([0, 1])
    errors = []
    for t in (1, 500, 999):
        tt = torch.full((2,), t)
        x_t = d.q_sample(x0, tt, torch.randn_like(x0))
        with torch.no_grad():
            errors.append(float(((local(x_t, tt, music, genre, return_parts=True)["x0_coarse"] - x0) ** 2).mean()))
    assert errors[0] < 1e-3 < errors[2]  # even untrained: near the input at low noise, not at high
    prims = torch.rand(2, 13, 8, MOTION_DIM) * 2 - 1
    tt = torch.full((2,), 1)
    x_t = d.q_sample(prims, tt, torch.randn_like(prims))
    with torch.no_grad():
        out = glob(x_t, tt, torch.randn(2, 1024, MUSIC_DIM), genre, torch.tensor([PRIM_FRAMES] * 2),
                   torch.tensor([PRIM_KINDS] * 2))
    assert float(((out - prims) ** 2).mean()) < 1e-3


def test_skip_on_a_network_narrower_than_its_tokens_warns(normalizer):
    # 4 frames x 139 numbers per token through a 32-wide network: the unseen noise would reach the samples.
    cfg = LodgeConfig.tiny_patched(GENRES)
    cfg.local = NetConfig(**{**asdict(cfg.local), "latent_skip": False, "skip_input": True})
    cfg.global_ = NetConfig(**{**asdict(cfg.global_), "latent_skip": False, "skip_input": True})
    with pytest.warns(UserWarning, match="noise it cannot see"):
        LocalDenoiser.from_lodge_config(cfg, normalizer.data_min, normalizer.data_max)
    with pytest.warns(UserWarning, match="noise it cannot see"):
        GlobalDenoiser.from_lodge_config(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LocalDenoiser.from_lodge_config(wide_skip_config(), normalizer.data_min, normalizer.data_max)


def test_forward_kinematics_losses_on_part_of_the_batch(normalizer):
    torch.manual_seed(0)
    pred, target = torch.rand(4, 16, MOTION_DIM) * 2 - 1, torch.rand(4, 16, MOTION_DIM) * 2 - 1
    nz = (torch.as_tensor(normalizer.data_min), torch.as_tensor(normalizer.data_max))
    full = diffusion_losses(pred, target, nz)
    half = diffusion_losses(pred, target, nz, fk_samples=2)
    first = diffusion_losses(pred[:2], target[:2], nz)
    torch.testing.assert_close(half["x0"], full["x0"])  # the cheap term sees the whole batch
    for key in ("joints", "vel", "acc", "foot"):
        torch.testing.assert_close(half[key], first[key])


def test_latent_skip_passes_what_the_network_sees_at_low_noise(normalizer):
    # Input and output layers set to an orthonormal pair Q^T / Q: at low noise a latent-skip network then
    # returns the noisy input's part in span(Q), whatever the (untrained) transformer says.
    from lodge.diffusion import GaussianDiffusion

    cfg = LodgeConfig.tiny_patched(GENRES)
    torch.manual_seed(0)
    local = LocalDenoiser.from_lodge_config(cfg, normalizer.data_min, normalizer.data_max).eval()
    glob = GlobalDenoiser.from_lodge_config(cfg).eval()
    d = GaussianDiffusion(cfg.diffusion_steps)
    token = MOTION_DIM * cfg.local.patch
    q, _ = torch.linalg.qr(torch.randn(token, cfg.local.d_model))  # (token, d) orthonormal columns
    for net in (local, glob):
        with torch.no_grad():
            net.motion_in.weight.zero_()
            if net is local:  # the token is 4 frames of [x_t, cue values, cue mask]: put Q^T on the x_t part
                frame_in = net.motion_in.weight.shape[1] // cfg.local.patch
                cols = torch.cat([torch.arange(MOTION_DIM) + k * frame_in for k in range(cfg.local.patch)])
                net.motion_in.weight[:, cols] = q.T
            else:
                net.motion_in.weight.copy_(q.T)
            net.motion_in.bias.zero_()
            net.motion_out.weight.copy_(q)
            net.motion_out.bias.zero_()
    coeffs = torch.randn(2, 16, cfg.local.d_model) * 0.3
    x0 = (coeffs @ q.T).reshape(2, 64, MOTION_DIM)  # 16 tokens of 4 frames, inside span(Q)
    tt = torch.full((2,), 1)
    x_t = d.q_sample(x0, tt, torch.randn_like(x0))
    music, genre = torch.randn(2, 64, MUSIC_DIM), torch.tensor([0, 1])
    with torch.no_grad():
        coarse = local(x_t, tt, music, genre, return_parts=True)["x0_coarse"]
    assert float(((coarse - x0) ** 2).mean()) < 1e-3
    tt999 = torch.full((2,), 999)
    with torch.no_grad():
        far = local(d.q_sample(x0, tt999, torch.randn_like(x0)), tt999, music, genre, return_parts=True)["x0_coarse"]
    assert float(((far - x0) ** 2).mean()) > 1e-2  # at high noise the network's own answer, not the input
    prims = (torch.randn(2, 26, cfg.global_.d_model) * 0.3 @ q.T).reshape(2, 13, 8, MOTION_DIM)
    x_t = d.q_sample(prims, tt, torch.randn_like(prims))
    with torch.no_grad():
        out = glob(x_t, tt, torch.randn(2, 1024, MUSIC_DIM), genre, torch.tensor([PRIM_FRAMES] * 2),
                   torch.tensor([PRIM_KINDS] * 2))
    assert float(((out - prims) ** 2).mean()) < 1e-3


def test_no_forward_kinematics_losses_when_asked_for_none(normalizer):
    torch.manual_seed(0)
    pred, target = torch.rand(4, 16, MOTION_DIM) * 2 - 1, torch.rand(4, 16, MOTION_DIM) * 2 - 1
    nz = (torch.as_tensor(normalizer.data_min), torch.as_tensor(normalizer.data_max))
    none = diffusion_losses(pred, target, nz, fk_samples=0)
    full = diffusion_losses(pred, target, nz)
    assert float(none["joints"]) == float(none["vel"]) == float(none["foot"]) == 0.0 < float(full["joints"])
    assert torch.isclose(none["x0"], full["x0"])
    assert torch.isclose(none["total"], DEFAULT_WEIGHTS["x0"] * full["x0"])


def test_root_weight_makes_the_horizontal_root_error_count_more():
    target = torch.zeros(2, 8, MOTION_DIM)
    root, pose = target.clone(), target.clone()
    root[..., 4] = 0.1  # the same error on the horizontal root ...
    pose[..., 20] = 0.1  # ... and on a rotation number
    for name in ("x0", "x0_vel"):
        if name == "x0_vel":
            root[:, ::2, 4], pose[:, ::2, 20] = 0.0, 0.0
        plain = [diffusion_losses(p, target, fk_samples=0)[name].item() for p in (root, pose)]
        weighted = [diffusion_losses(p, target, fk_samples=0, root_weight=10.0)[name].item() for p in (root, pose)]
        assert plain[0] == pytest.approx(plain[1])
        assert weighted[0] == pytest.approx(10 * weighted[1], rel=1e-4)


@pytest.mark.parametrize("which", ["local", "global"])
def test_the_null_genre_stands_for_any_genre(cfg, normalizer, which):
    build = (lambda c: local_model(c, normalizer)) if which == "local" else global_model
    inputs = local_inputs() if which == "local" else global_inputs(b=2)
    plain = build(cfg)
    with pytest.raises(ValueError, match="genre dropout"):
        plain(**inputs, genre_drop=torch.tensor([True, False]))
    # A trained network gets a null genre (the mean of its genre embeddings) and keeps its answers.
    upgraded = build(cfg)
    upgraded.add_null_genre()
    assert upgraded.net.null_genre and any(p is upgraded.null_genre for p in upgraded.parameters())
    torch.testing.assert_close(upgraded.null_genre.detach(), upgraded.genre.weight.detach().mean(0))
    with torch.no_grad():
        torch.testing.assert_close(upgraded(**inputs), plain(**inputs))
        dropped = [upgraded(**dict(inputs, genre=torch.full((2,), g), genre_drop=torch.ones(2, dtype=torch.bool)))
                   for g in range(len(GENRES))]
        mixed = upgraded(**dict(inputs, genre_drop=torch.tensor([False, True])))
    for other in dropped[1:]:
        torch.testing.assert_close(other, dropped[0])  # with the null genre, the genre asked for is ignored
    assert not torch.allclose(dropped[0], plain(**inputs))
    torch.testing.assert_close(mixed[1], dropped[0][1], atol=1e-5, rtol=1e-4)
    # Built from its config (as a checkpoint loads it), the network has the same parameters.
    rebuilt = type(upgraded).from_config(upgraded.config)
    assert rebuilt.null_genre is not None
    rebuilt.load_weights(upgraded.state_dict())


def test_a_local_network_switched_to_overlap_unpatching_keeps_its_answers_where_tokens_agree(normalizer):
    cfg = LodgeConfig.tiny_patched(GENRES)
    plain = local_model(cfg, normalizer)
    inputs = local_inputs(frames=32)
    with torch.no_grad():  # output layers that give every frame the same answer: no seam to cross-fade
        plain.motion_out.weight.zero_()
        plain.motion_out.bias.copy_(torch.randn(MOTION_DIM).repeat(cfg.local.patch))
        plain.foot.out.weight.zero_()
        plain.foot.out.bias.copy_(0.1 * torch.randn(MOTION_DIM).repeat(cfg.local.patch))
        before = plain(**inputs)
        plain.add_overlap_unpatch()
        after = plain(**inputs)
    assert plain.net.overlap_unpatch and plain.foot.overlap
    assert plain.motion_out.out_features == plain.foot.out.out_features == 2 * cfg.local.patch * MOTION_DIM
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    # Built from its config (as a checkpoint loads it), the network takes the switched weights.
    rebuilt = type(plain).from_config(plain.config)
    rebuilt.load_weights(plain.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(**inputs), after)


@pytest.mark.parametrize("overlap", [False, True])
def test_a_local_network_switched_to_a_root_range_gives_the_same_motion_for_the_same_motion(normalizer, overlap):
    from lodge.constants import ROOT_X, ROOT_Z

    cfg = LodgeConfig.tiny_patched(GENRES)
    cfg.local.cue_input, cfg.local.latent_skip, cfg.local.overlap_unpatch = True, True, overlap
    net = local_model(cfg, normalizer)
    inputs = local_inputs(frames=32)
    cue_values, cue_mask = torch.randn(2, 32, MOTION_DIM) * 0.5, torch.rand(2, 32) < 0.3
    old, new = normalizer, normalizer.with_root_range(0.5)
    gain = torch.ones(MOTION_DIM)
    gain[[ROOT_X, ROOT_Z]] = torch.as_tensor(old._scale()[[ROOT_X, ROOT_Z]] / new._scale()[[ROOT_X, ROOT_Z]])
    assert float(gain[ROOT_X]) > 1.5  # the tiny normaliser's root spans more than +-0.5 m
    # The same motion (noisy input and cues) given in the new space: the root's numbers grow by the gain.
    torch.testing.assert_close(new.normalize(old.denormalize(inputs["x_t"])), inputs["x_t"] * gain, atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        before = old.denormalize(net(**inputs, cue_values=cue_values, cue_mask=cue_mask))
        net.set_root_range(0.5, normalizer)
        after = new.denormalize(net(**dict(inputs, x_t=inputs["x_t"] * gain), cue_values=cue_values * gain, cue_mask=cue_mask))
    assert net.net.root_range == 0.5
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(net.normalizer_min, torch.as_tensor(new.data_min))
    # Built from its config with the space's range (as a checkpoint loads it), it gives the same answers.
    rebuilt = LocalDenoiser.from_lodge_config(replace_local(cfg, net.net), new.data_min, new.data_max)
    rebuilt.load_weights(net.state_dict())
    with torch.no_grad():
        again = rebuilt.eval()(**dict(inputs, x_t=inputs["x_t"] * gain), cue_values=cue_values * gain, cue_mask=cue_mask)
    torch.testing.assert_close(new.denormalize(again), after)


def replace_local(cfg: LodgeConfig, net) -> LodgeConfig:
    """A copy of ``cfg`` with ``net`` as its local network's config."""
    out = LodgeConfig.from_dict(cfg.to_dict())
    out.local = net
    return out


def test_a_root_range_keeps_the_centre_and_must_be_positive(normalizer):
    from lodge.config import NetConfig
    from lodge.constants import ROOT_X, ROOT_Y, ROOT_Z

    narrow = normalizer.with_root_range(1.0)
    for dim in (ROOT_X, ROOT_Z):
        assert narrow.data_max[dim] - narrow.data_min[dim] == pytest.approx(2.0)
        assert narrow.data_max[dim] + narrow.data_min[dim] == pytest.approx(normalizer.data_max[dim] + normalizer.data_min[dim], abs=1e-6)
    others = [d for d in range(MOTION_DIM) if d not in (ROOT_X, ROOT_Z)]
    assert np.array_equal(narrow.data_min[others], normalizer.data_min[others]) and ROOT_Y in others
    assert normalizer.with_root_range(None) is normalizer
    assert normalizer.for_network(NetConfig(d_model=32, n_heads=2)) is normalizer
    with pytest.raises(ValueError, match="root_range"):
        NetConfig(d_model=32, n_heads=2, root_range=0.0)


def test_a_global_network_switched_to_overlap_unpatching_keeps_its_answers_where_tokens_agree():
    cfg = LodgeConfig.tiny_patched(GENRES)
    plain = global_model(cfg)
    inputs = global_inputs(b=2)
    with torch.no_grad():  # an output layer that gives every frame the same answer: no seam to cross-fade
        plain.motion_out.weight.zero_()
        plain.motion_out.bias.copy_(torch.randn(MOTION_DIM).repeat(cfg.global_.patch))
        before = plain(**inputs)
        plain.add_overlap_unpatch()
        after = plain(**inputs)
    assert plain.net.overlap_unpatch and plain.motion_out.out_features == 2 * cfg.global_.patch * MOTION_DIM
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    rebuilt = type(plain).from_config(plain.config)
    rebuilt.load_weights(plain.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(**inputs), after)


def test_overlap_unpatching_needs_an_even_patch():
    from lodge.config import NetConfig

    with pytest.raises(ValueError, match="even patch"):
        NetConfig(d_model=32, n_heads=2, patch=3, overlap_unpatch=True)
    with pytest.raises(ValueError, match="even patch"):
        NetConfig(d_model=32, n_heads=2, patch=1, overlap_unpatch=True)


def test_overlap_unpatchify_cross_fades_tokens_into_the_frames_they_share():
    from lodge.models.layers import overlap_unpatchify, overlap_window

    window = overlap_window(4)
    torch.testing.assert_close(window[:4] + window[4:], torch.ones(4))  # copies a token apart sum to one
    # Tokens that agree on the frames they share give back those frames exactly, ends included.
    frames, patch = 24, 4
    seq = torch.randn(2, frames + patch, 5)  # half a token of padding on either side
    tokens = torch.stack([seq[:, k * patch:k * patch + 2 * patch] for k in range(frames // patch)], dim=1)
    out = overlap_unpatchify(tokens.reshape(2, frames // patch, -1), patch)
    torch.testing.assert_close(out, seq[:, patch // 2:patch // 2 + frames])
    # Tokens that disagree meet without a jump: a step between two constant tokens becomes a ramp.
    steps = torch.cat([torch.zeros(1, 1, 2 * patch, 1), torch.ones(1, 1, 2 * patch, 1)], dim=1)
    ramp = overlap_unpatchify(steps.reshape(1, 2, 2 * patch), patch)[0, :, 0]
    assert torch.all(ramp[1:] >= ramp[:-1]) and (ramp[1:] - ramp[:-1]).max() < 0.5
