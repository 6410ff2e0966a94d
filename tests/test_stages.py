"""The generation's stages (lodge.stages): composed as the pipeline does, and the hooks edits build on."""
import numpy as np
import pytest
import torch

from lodge.constants import GLOBAL_LEN, HARD_GUIDE, SEG_LEN
from lodge.primitives import N_HARD, N_PRIMS
from lodge.sampling import SamplingOptions
from lodge.stages import (
    GlobalInputs, LocalInputs, finish_dance, normalised_music, plan_song, post_process, prepare_music, sample_global,
    sample_local,
)

OPTS = SamplingOptions(seed=4, steps=3, foot_lock=False)


@pytest.fixture(scope="module")
def song(tiny_pipeline, click_features):
    """A 20-s song's features, plan, music tensor and genre ids (3 segments, 1 window)."""
    features = prepare_music(click_features, OPTS)
    plan = plan_song(features, OPTS)
    music = normalised_music(tiny_pipeline, features.features, plan.num_windows * GLOBAL_LEN)
    return features, plan, music


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_the_stages_composed_are_the_pipeline(tiny_pipeline, song):
    features, plan, music = song
    opts = tiny_pipeline.resolve_options(OPTS)
    gen = _gen(opts.seed)
    glob = sample_global(tiny_pipeline, GlobalInputs(music, np.zeros(plan.num_windows), plan), opts, gen)
    local = sample_local(tiny_pipeline, LocalInputs(music, np.zeros(plan.num_segments), plan, glob.primitives), opts, gen)
    dance = finish_dance(post_process(*local.song_motion(), opts), features, plan, glob.primitives, opts, "salsa", "cpu", {})
    np.testing.assert_array_equal(dance.motion, tiny_pipeline(features, "salsa", OPTS).motion)
    assert local.motion.shape == (plan.num_segments, SEG_LEN, 139) and list(local.segments) == [0, 1, 2]


def test_global_stage_holds_the_kept_primitives_and_resamples_the_rest(tiny_pipeline, song):
    _, plan, music = song
    first = sample_global(tiny_pipeline, GlobalInputs(music, [0], plan), OPTS, _gen(0))
    keep = np.zeros((1, N_PRIMS), bool)
    keep[0, [0, 2, N_HARD + 1]] = True
    again = sample_global(tiny_pipeline, GlobalInputs(music, [0], plan, keep_mask=keep, keep_values=first.raw),
                          OPTS, _gen(1))
    np.testing.assert_array_equal(again.raw[keep], first.raw[keep])
    assert np.abs(again.raw[~keep] - first.raw[~keep]).max() > 1e-3
    np.testing.assert_array_equal(again.primitives[0], again.raw[0])  # window 0 is not moved by the chaining
    other = sample_global(tiny_pipeline, GlobalInputs(music, [1], plan), OPTS, _gen(0))  # a genre per window
    assert np.abs(other.raw - first.raw).max() > 1e-4
    with pytest.raises(ValueError, match="keep_values"):
        GlobalInputs(music, [0], plan, keep_mask=keep)
    with pytest.raises(ValueError, match="one genre index per window"):
        GlobalInputs(music, [0, 1], plan)


def test_global_stage_samples_in_its_networks_primitive_space(tiny_pipeline, song, monkeypatch):
    """A network trained with a primitive motion gain samples amplified motion: the stage maps it back."""
    _, plan, music = song
    raw = SamplingOptions(seed=4, steps=3, lowpass=False, floor=False)
    plain = sample_global(tiny_pipeline, GlobalInputs(music, [0], plan), raw, _gen(0)).raw
    monkeypatch.setattr(tiny_pipeline.cfg.global_, "prim_motion_gain", 5.0)
    gained = sample_global(tiny_pipeline, GlobalInputs(music, [0], plan), raw, _gen(0)).raw
    about_mean = lambda x: x - x.mean(-2, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(gained.mean(-2), plain.mean(-2), atol=1e-4)
    np.testing.assert_allclose(about_mean(gained), about_mean(plain) / 5, atol=1e-4)


def test_local_stage_regenerates_chosen_segments_that_still_join(tiny_pipeline, song):
    _, plan, music = song
    glob = sample_global(tiny_pipeline, GlobalInputs(music, [0], plan), OPTS, _gen(0))
    full = sample_local(tiny_pipeline, LocalInputs(music, [0, 0, 0], plan, glob.primitives), OPTS, _gen(0))
    part = sample_local(tiny_pipeline, LocalInputs(music, [0, 2, 0], plan, glob.primitives, segments=[1]), OPTS, _gen(9))
    assert list(part.segments) == [1] and part.motion.shape == (1, SEG_LEN, 139)
    assert np.abs(part.motion[0] - full.motion[1]).max() > 1e-3  # new motion (another genre and seed)
    # Its ends are the same hard cues as its neighbours' ends, so it joins them exactly.
    np.testing.assert_allclose(part.motion[0, :HARD_GUIDE, 4:], full.motion[1, :HARD_GUIDE, 4:], atol=1e-5)
    np.testing.assert_allclose(part.motion[0, -HARD_GUIDE:, 4:], full.motion[1, -HARD_GUIDE:, 4:], atol=1e-5)
    np.testing.assert_array_equal(part.fixed[0], full.fixed[1])
    motion, fixed = (a.copy() for a in full.song_motion())
    part.write_into(motion, fixed)
    np.testing.assert_array_equal(motion[SEG_LEN:2 * SEG_LEN], part.motion[0])
    np.testing.assert_array_equal(motion[:SEG_LEN], full.motion[0])
    with pytest.raises(ValueError, match="distinct indices"):
        LocalInputs(music, [0, 0, 0], plan, glob.primitives, segments=[3])


def test_post_step_runs_on_a_stretch(tiny_pipeline, song):
    _, plan, music = song
    glob = sample_global(tiny_pipeline, GlobalInputs(music, [0], plan), OPTS, _gen(0))
    motion, fixed = sample_local(tiny_pipeline, LocalInputs(music, [0, 0, 0], plan, glob.primitives), OPTS,
                                 _gen(0)).song_motion()
    before = motion.copy()
    opts = OPTS.replace(foot_lock=True)
    stretch = post_process(motion, fixed, opts, SEG_LEN, 2 * SEG_LEN)
    assert stretch.shape == (SEG_LEN, 139)
    np.testing.assert_array_equal(motion, before)  # the input is left alone
    np.testing.assert_array_equal(stretch[0, 4:7], motion[SEG_LEN, 4:7])  # foot lock starts at the stretch
    # Without foot lock and floor (corrections that look past the stretch's ends) the joins of a segment
    # are smoothed the same either way.
    local_only = OPTS.replace(floor=False)
    whole = post_process(motion, fixed, local_only)
    np.testing.assert_allclose(post_process(motion, fixed, local_only, SEG_LEN, 2 * SEG_LEN),
                               whole[SEG_LEN:2 * SEG_LEN], atol=1e-6)
    # The floor leaves the cue frames exactly as the sampler wrote them.
    grounded = post_process(motion, fixed, OPTS.replace(lowpass=False, smooth_cue_joins=False))
    np.testing.assert_array_equal(grounded[fixed], motion[fixed])
    assert np.abs(grounded - motion).max() > 0
