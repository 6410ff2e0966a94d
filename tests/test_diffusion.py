"""Gaussian diffusion: schedule, samplers, guidance, inpainting and soft guidance."""
import math

import pytest
import torch

from lodge.diffusion import GaussianDiffusion

SHAPE = (2, 16, 5)


def target_fn(target):
    """A perfect denoiser for a single data point: always predicts ``target``."""

    def fn(x, t, drop):
        assert x.shape[0] == t.shape[0] == drop.shape[0]
        return target.expand(x.shape[0], *target.shape[1:]).clone()

    return fn


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_cosine_schedule_is_monotone_and_spans_zero_to_one():
    d = GaussianDiffusion(1000)
    abar = d.alphas_cumprod
    assert abar.shape == (1000,)
    assert torch.all(abar[1:] < abar[:-1])
    assert abar[0] > 0.999 and abar[-1] < 1e-6
    assert torch.all((d.betas > 0) & (d.betas <= 0.999))


def test_q_sample_matches_formula():
    d = GaussianDiffusion(1000)
    x0, noise = torch.randn(SHAPE), torch.randn(SHAPE)
    t = torch.tensor([0, 500])
    out = d.q_sample(x0, t, noise)
    for i in range(2):
        a = float(d.alphas_cumprod[t[i]])
        torch.testing.assert_close(out[i], math.sqrt(a) * x0[i] + math.sqrt(1 - a) * noise[i])


def test_timesteps():
    d = GaussianDiffusion(1000)
    assert d.timesteps("ddpm", None) == list(range(999, -1, -1))
    ts = d.timesteps("ddim", 10)
    assert len(ts) == 10 and ts[0] == 999 and ts[-1] == 0 and ts == sorted(ts, reverse=True)
    with pytest.raises(ValueError):
        d.timesteps("euler", 10)


@pytest.mark.parametrize("sampler,steps", [("ddim", 20), ("ddpm", None), ("ddpm", 50)])
def test_sampler_converges_to_the_predicted_target(sampler, steps):
    d = GaussianDiffusion(1000)
    target = torch.randn(1, *SHAPE[1:])
    out = d.sample(target_fn(target), SHAPE, sampler=sampler, steps=steps, guidance_weight=1.0, generator=gen())
    torch.testing.assert_close(out, target.expand(SHAPE), atol=1e-4, rtol=0)


def test_guidance_combines_cond_and_uncond_in_one_batch():
    d = GaussianDiffusion(100)
    cond, uncond = torch.full(SHAPE, 1.0), torch.full(SHAPE, -1.0)
    batches = []

    def fn(x, t, drop):
        batches.append(x.shape[0])
        return torch.where(drop[:, None, None], uncond.repeat(2, 1, 1)[: x.shape[0]], cond.repeat(2, 1, 1)[: x.shape[0]])

    out = d.sample(fn, SHAPE, steps=5, guidance_weight=2.0, generator=gen())
    assert batches == [2 * SHAPE[0]] * 5
    torch.testing.assert_close(out, torch.full(SHAPE, 3.0))  # -1 + 2 * (1 - -1)


def test_same_seed_same_result_and_different_seed_differs():
    d = GaussianDiffusion(100)
    fn = lambda x, t, drop: 0.5 * x  # noqa: E731
    for sampler in ("ddim", "ddpm"):
        a = d.sample(fn, SHAPE, sampler=sampler, steps=10, generator=gen(1))
        b = d.sample(fn, SHAPE, sampler=sampler, steps=10, generator=gen(1))
        c = d.sample(fn, SHAPE, sampler=sampler, steps=10, generator=gen(2))
        assert torch.equal(a, b)
        assert not torch.allclose(a, c)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_inpainting_output_equals_hard_values_exactly(sampler):
    d = GaussianDiffusion(100)
    mask = torch.zeros(SHAPE, dtype=torch.bool)
    mask[:, :4] = True
    mask[:, -4:] = True
    values = torch.randn(SHAPE) * 3
    seen = []

    def fn(x, t, drop):
        seen.append(x.clone())
        return torch.zeros_like(x)

    out = d.sample(fn, SHAPE, sampler=sampler, steps=10, hard_mask=mask, hard_values=values, generator=gen())
    assert torch.equal(out[mask], values[mask])
    assert not torch.equal(out[~mask], values[~mask])
    # At every step the network sees the hard values noised to that step: at the first (t=T-1,
    # nearly pure noise) they are hidden, at the last (t=0) they are almost exact.
    last = seen[-1][: SHAPE[0]]
    torch.testing.assert_close(last[mask], values[mask], atol=0.2, rtol=0)


def test_hard_mask_broadcasts():
    d = GaussianDiffusion(100)
    mask = torch.zeros(1, SHAPE[1], 1, dtype=torch.bool)
    mask[0, 0] = True
    values = torch.ones(SHAPE)
    out = d.sample(lambda x, t, dr: torch.zeros_like(x), SHAPE, steps=4, hard_mask=mask, hard_values=values,
                   generator=gen())
    assert torch.equal(out[:, 0], torch.ones(SHAPE[0], SHAPE[2]))


def soft_setup():
    mask = torch.zeros(SHAPE, dtype=torch.bool)
    mask[:, 6:10] = True
    values = torch.full(SHAPE, 2.0)
    return mask, values


@pytest.mark.parametrize("sampler,steps", [("ddim", 10), ("ddpm", 20)])
def test_soft_guidance_at_one_changes_result_and_at_zero_is_a_no_op(sampler, steps):
    d = GaussianDiffusion(100)
    mask, values = soft_setup()
    fn = lambda x, t, dr: 0.3 * x  # noqa: E731
    kw = dict(sampler=sampler, steps=steps, guidance_weight=1.0)
    plain = d.sample(fn, SHAPE, generator=gen(), **kw)
    s0 = d.sample(fn, SHAPE, soft_mask=mask, soft_values=values, soft_fraction=0.0, generator=gen(), **kw)
    s1 = d.sample(fn, SHAPE, soft_mask=mask, soft_values=values, soft_fraction=1.0, generator=gen(), **kw)
    assert torch.equal(plain, s0)
    assert not torch.allclose(s1, s0)
    torch.testing.assert_close(s1[mask], values[mask])  # imposed until the very last step


@pytest.mark.parametrize("steps,fraction,expected", [(10, 0.5, 5), (8, 0.25, 2), (10, 1.0, 10), (50, 0.5, 25)])
def test_ddim_soft_fraction_counts_the_samplers_own_iterations(steps, fraction, expected):
    """With soft value 0 and a denoiser predicting 0, DDIM carries u = x_t / sqrt(1 - abar_t) unchanged
    from one iteration to the next, unless the soft replacement re-noises x_t with fresh noise. So the
    iterations whose input differs from the DDIM-propagated one are exactly the soft ones."""
    d = GaussianDiffusion(1000)
    mask = torch.zeros(SHAPE, dtype=torch.bool)
    mask[:, 3:7] = True
    values = torch.zeros(SHAPE)
    us = []

    def fn(x, t, drop):
        abar = d.alphas_cumprod[t[0]].item()
        us.append(x / math.sqrt(1 - abar))
        return torch.zeros_like(x)

    d.sample(fn, SHAPE, sampler="ddim", steps=steps,
             soft_mask=mask, soft_values=values, soft_fraction=fraction, guidance_weight=1.0, generator=gen())
    assert len(us) == steps
    changed = [not torch.allclose(us[i][mask], us[i - 1][mask], atol=1e-4) for i in range(1, steps)]
    unmasked_changed = [not torch.allclose(us[i][~mask], us[i - 1][~mask], atol=1e-4) for i in range(1, steps)]
    assert not any(unmasked_changed)
    # iteration 0 is soft whenever fraction > 0; iterations 1..expected-1 show fresh noise.
    assert changed == [i < expected for i in range(1, steps)]


def test_soft_fraction_means_the_same_under_ddpm():
    """Under DDPM the replacement is visible directly: x_t at soft positions equals the soft value
    noised to t, i.e. its distance from sqrt(abar_t) * v is the re-drawn noise, independent of the
    previous iterate. We check the count through a value so large that it dominates."""
    d = GaussianDiffusion(1000)
    mask = torch.zeros(SHAPE, dtype=torch.bool)
    mask[:, 3:7] = True
    big = 1e6
    values = torch.full(SHAPE, big)
    flags = []

    def fn(x, t, drop):
        abar = d.alphas_cumprod[t[0]].item()
        # Soft-replaced entries sit at sqrt(abar) * big + N(0, 1 - abar).
        dev = (x[mask] - math.sqrt(abar) * big) / math.sqrt(1 - abar)
        flags.append(bool(dev.abs().max() < 6))
        return torch.zeros_like(x)

    steps = 20
    d.sample(fn, SHAPE, sampler="ddpm", steps=steps, soft_mask=mask, soft_values=values, soft_fraction=0.5,
             guidance_weight=1.0, generator=gen())
    assert flags[:10] == [True] * 10
    # DDPM's posterior mean keeps a trace of the imposed value in the first non-soft iteration, but by
    # the second the network's prediction (0) has taken over.
    assert not any(flags[11:])


def test_progress_is_reported_every_step():
    d = GaussianDiffusion(100)
    calls = []
    d.sample(lambda x, t, dr: x, SHAPE, steps=7, progress=lambda i, n: calls.append((i, n)), generator=gen())
    assert calls == [(i, 7) for i in range(1, 8)]


def test_bad_arguments():
    d = GaussianDiffusion(100)
    fn = lambda x, t, dr: x  # noqa: E731
    with pytest.raises(ValueError):
        d.sample(fn, SHAPE, soft_fraction=1.5)
    with pytest.raises(ValueError):
        d.sample(fn, SHAPE, hard_mask=torch.ones(SHAPE, dtype=torch.bool))
    with pytest.raises(ValueError):
        d.sample(fn, SHAPE, steps=0)
    # Values without a mask impose nothing.
    a = d.sample(fn, SHAPE, steps=3, generator=gen())
    b = d.sample(fn, SHAPE, steps=3, soft_values=torch.ones(SHAPE), hard_values=torch.ones(SHAPE), generator=gen())
    assert torch.equal(a, b)


def test_schedulers_are_components_the_sampler_is_given():
    from lodge.diffusion import DDIMScheduler, DDPMScheduler

    d = GaussianDiffusion(100)
    ddim = d.scheduler("ddim")
    assert isinstance(ddim, DDIMScheduler) and isinstance(d.scheduler("ddpm"), DDPMScheduler)
    assert d.scheduler(ddim) is ddim
    assert len(ddim.timesteps(None)) == 50 and d.scheduler("ddpm").timesteps(None) == list(range(99, -1, -1))
    with pytest.raises(ValueError):
        ddim.timesteps(0)

    def denoise(x, t, drop):
        return torch.zeros_like(x)

    by_name = d.sample(denoise, (2, 8), sampler="ddim", steps=5, guidance_weight=1.0,
                       generator=torch.Generator().manual_seed(0))
    by_object = d.sample(denoise, (2, 8), sampler=ddim, steps=5, guidance_weight=1.0,
                         generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(by_name, by_object)


def test_speed_guidance_adds_its_own_branch_beside_music_and_genre():
    d = GaussianDiffusion(100)
    cond, no_music, null_genre, no_speed = 1.0, -1.0, 0.5, 0.25
    batches = []

    def fn(x, t, drop, genre_drop=None, *, speed_drop):
        batches.append(x.shape[0])
        assert genre_drop is None or not (genre_drop & speed_drop).any()
        assert not (drop & speed_drop).any()
        out = torch.full_like(x, cond)
        out[drop] = no_music
        if genre_drop is not None:
            out[genre_drop] = null_genre
        out[speed_drop] = no_speed
        return out

    out = d.sample(fn, SHAPE, steps=3, guidance_weight=2.0, genre_guidance_weight=3.0, speed_guidance_weight=4.0,
                   generator=gen())
    assert batches == [4 * SHAPE[0]] * 3
    torch.testing.assert_close(out, torch.full(SHAPE, 1.0 + 1.0 * 2.0 + 3.0 * 0.5 + 4.0 * 0.75))
    batches.clear()
    out = d.sample(fn, SHAPE, steps=2, guidance_weight=1.0, speed_guidance_weight=2.0, generator=gen())
    assert batches == [2 * SHAPE[0]] * 2
    torch.testing.assert_close(out, torch.full(SHAPE, 1.0 + 2.0 * 0.75))


def test_genre_guidance_adds_its_own_branch_to_the_same_batch():
    d = GaussianDiffusion(100)
    cond, no_music, null_genre = 1.0, -1.0, 0.5
    batches = []

    def fn(x, t, drop, genre_drop=None):
        batches.append(x.shape[0])
        assert not (drop & genre_drop).any()  # never both dropped: the formula has no such branch
        out = torch.full_like(x, cond)
        out[drop] = no_music
        out[genre_drop] = null_genre
        return out

    out = d.sample(fn, SHAPE, steps=4, guidance_weight=2.0, genre_guidance_weight=3.0, generator=gen())
    assert batches == [3 * SHAPE[0]] * 4
    torch.testing.assert_close(out, torch.full(SHAPE, 1.0 + 1.0 * 2.0 + 3.0 * 0.5))
    batches.clear()
    out = d.sample(fn, SHAPE, steps=2, guidance_weight=1.0, genre_guidance_weight=2.0, generator=gen())
    assert batches == [2 * SHAPE[0]] * 2
    torch.testing.assert_close(out, torch.full(SHAPE, 1.0 + 2.0 * 0.5))


def test_genre_guidance_can_weigh_each_item_on_its_own():
    d = GaussianDiffusion(100)
    cond, null_genre = 1.0, 0.5
    batches = []

    def fn(x, t, drop, genre_drop=None):
        batches.append(x.shape[0])
        out = torch.full_like(x, cond)
        if genre_drop is not None:
            out[genre_drop] = null_genre
        return out

    weights = torch.tensor([0.0, 4.0] + [1.0] * (SHAPE[0] - 2))
    out = d.sample(fn, SHAPE, steps=2, guidance_weight=1.0, genre_guidance_weight=weights, generator=gen())
    assert batches == [2 * SHAPE[0]] * 2
    expected = (cond + weights * (cond - null_genre)).reshape(-1, *[1] * (len(SHAPE) - 1)).expand(SHAPE)
    torch.testing.assert_close(out, expected)
    batches.clear()
    out = d.sample(fn, SHAPE, steps=2, guidance_weight=1.0, genre_guidance_weight=torch.zeros(SHAPE[0]), generator=gen())
    assert batches == [SHAPE[0]] * 2  # all off: no genre branch at all
    torch.testing.assert_close(out, torch.full(SHAPE, cond))


def test_without_genre_guidance_the_denoiser_is_not_asked_for_a_genre_mask():
    d = GaussianDiffusion(100)
    out = d.sample(lambda x, t, drop: torch.ones_like(x), SHAPE, steps=2, guidance_weight=2.0, generator=gen())
    torch.testing.assert_close(out, torch.ones(SHAPE))


def test_mean_guidance_weighs_the_mean_over_an_axis_apart_from_what_varies_along_it():
    d = GaussianDiffusion(100)
    rng = torch.Generator().manual_seed(3)
    cond, no_music = torch.randn(SHAPE, generator=rng), torch.randn(SHAPE, generator=rng)
    batches = []

    def fn(x, t, drop):
        batches.append(x.shape[0])
        return torch.where(drop[:, None, None], no_music.repeat(2, 1, 1)[: x.shape[0]], cond.repeat(2, 1, 1)[: x.shape[0]])

    term = cond - no_music
    mean = term.mean(dim=-2, keepdim=True)
    out = d.sample(fn, SHAPE, steps=3, guidance_weight=4.0, mean_guidance=(-2, 1.0), generator=gen())
    torch.testing.assert_close(out, cond + 3.0 * (term - mean))  # the mean as the conditional has it
    torch.testing.assert_close(out.mean(-2), cond.mean(-2))
    out = d.sample(fn, SHAPE, steps=3, guidance_weight=4.0, mean_guidance=(-2, 4.0), generator=gen())
    torch.testing.assert_close(out, cond + 3.0 * term)  # the same weight: plain guidance
    batches.clear()
    out = d.sample(fn, SHAPE, steps=2, guidance_weight=1.0, mean_guidance=(-2, 2.0), generator=gen())
    assert batches == [2 * SHAPE[0]] * 2  # the music-free branch is still asked for
    torch.testing.assert_close(out, cond + mean)
