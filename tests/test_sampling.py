"""SamplingOptions: the one typed, checked owner of a generation request's defaults."""
import json

import numpy as np
import pytest

from lodge.checks import DEFAULT_MAX_SECONDS, InputError
from lodge.sampling import DEFAULT_DDIM_STEPS, SAMPLERS, SamplingOptions, sampling_options


def test_defaults():
    opts = SamplingOptions()
    assert (opts.seed, opts.sampler, opts.steps, opts.soft, opts.guidance_weight) == (0, "ddim", None, None, None)
    assert opts.max_seconds == DEFAULT_MAX_SECONDS and opts.duration is None
    assert opts.mirror and opts.beat_align and opts.soft_cues and opts.use_primitives and opts.fit_soft_cues
    assert opts.smooth_cue_joins and opts.foot_lock and not opts.beat_sync
    assert opts.iterations() == DEFAULT_DDIM_STEPS and opts.replace(sampler="ddpm").iterations(1000) == 1000


def test_values_are_checked_and_cleaned():
    opts = SamplingOptions(seed=3.0, sampler=" DDPM", steps=20.0, soft="0.5", max_seconds=0, duration=7, mirror=np.bool_(False))
    assert opts.seed == 3 and isinstance(opts.seed, int) and opts.sampler == "ddpm" and opts.steps == 20
    assert opts.soft == 0.5 and opts.max_seconds is None and opts.duration == 7.0 and opts.mirror is False


@pytest.mark.parametrize("changes, field, message", [
    (dict(seed=-1), "seed", "from 0 to 4294967295"),
    (dict(sampler="euler"), "sampler", "'ddim' or 'ddpm'"),
    (dict(steps=0), "steps", "from 1 to 1000"),
    (dict(soft=1.5), "soft", "between 0 and 1"),
    (dict(guidance_weight=float("nan")), "guidance_weight", "finite number"),
    (dict(max_seconds=2), "max_seconds", "at least 5 seconds"),
    (dict(duration=3), "duration", "at least 5 seconds"),
    (dict(max_seconds=10, duration=20), "duration", "at most 10 seconds"),
    (dict(foot_lock="false"), "foot_lock", "true or false"),
])
def test_bad_values_raise_input_error_naming_the_field(changes, field, message):
    with pytest.raises(InputError, match=message) as err:
        SamplingOptions(**changes)
    assert err.value.field == field
    with pytest.raises(InputError):  # a copy is checked too
        SamplingOptions().replace(**changes)


def test_replace_and_unknown_names():
    opts = SamplingOptions(seed=1)
    assert opts.replace(steps=5) == SamplingOptions(seed=1, steps=5) and opts.replace() is opts
    with pytest.raises(TypeError, match="unknown sampling option"):
        opts.replace(stepz=5)
    with pytest.raises(TypeError, match="SamplingOptions"):
        sampling_options(3)
    assert sampling_options(None, seed=2) == SamplingOptions(seed=2)
    assert hash(opts) == hash(SamplingOptions(seed=1))  # usable as a cache key


def test_dict_form_is_json_safe_and_ignores_unknown_keys():
    opts = SamplingOptions(seed=9, sampler="ddpm", steps=100, soft=0.25, guidance_weight=2.5, max_seconds=None,
                           duration=12.0, mirror=False, beat_sync=True)
    data = json.loads(json.dumps(opts.to_dict()))
    assert list(data) == list(SamplingOptions.field_names())
    assert SamplingOptions.from_dict({**data, "from_the_future": 1}) == opts
    assert SamplingOptions.from_dict({}) == SamplingOptions() == SamplingOptions.from_dict(None)
    with pytest.raises(InputError):
        SamplingOptions.from_dict({"soft": 7})


def test_resolved_fills_the_checkpoint_defaults_only():
    opts = SamplingOptions(soft=0.5).resolved(soft=1.0, guidance_weight=3.0, diffusion_steps=1000)
    assert (opts.soft, opts.guidance_weight, opts.steps) == (0.5, 3.0, DEFAULT_DDIM_STEPS)
    assert SamplingOptions(sampler="ddpm").resolved(1.0, 2.0, 1000).steps == 1000
    assert SamplingOptions().resolved(1.0, 2.0).steps is None
    # The global stage's weight: the request's, else the checkpoint's, else the (resolved) guidance weight.
    assert SamplingOptions().resolved(1.0, 2.0).global_guidance_weight == 2.0
    assert SamplingOptions(guidance_weight=1.5).resolved(1.0, 2.0).global_guidance_weight == 1.5
    assert SamplingOptions().resolved(1.0, 2.0, global_guidance_weight=3.0).global_guidance_weight == 3.0
    assert SamplingOptions(global_guidance_weight=4.0).resolved(1.0, 2.0, None, 3.0).global_guidance_weight == 4.0
    with pytest.raises(InputError):
        SamplingOptions(global_guidance_weight=-1)
    # The pose weight: the request's, else the checkpoint's, else the (resolved) global weight.
    assert SamplingOptions().resolved(1.0, 2.0, None, 3.0).global_pose_guidance_weight == 3.0
    assert SamplingOptions().resolved(1.0, 2.0, None, 3.0, 1.0).global_pose_guidance_weight == 1.0
    assert SamplingOptions(global_pose_guidance_weight=2.0).resolved(1.0, 2.0, None, 3.0, 1.0).global_pose_guidance_weight == 2.0
    with pytest.raises(InputError):
        SamplingOptions(global_pose_guidance_weight=-1)
    # The genre guidance is each genre's own (looked up per window by the stages) unless the request sets it.
    assert SamplingOptions().resolved(1.0, 2.0).genre_guidance_weight is None
    assert SamplingOptions(genre_guidance_weight=0.0).resolved(1.0, 2.0).genre_guidance_weight == 0.0


def test_the_global_guidance_weight_reaches_the_global_stage_only(tiny_pipeline, click_features):
    base = tiny_pipeline(click_features, "salsa", seed=3, steps=2, guidance_weight=2.0, global_guidance_weight=2.0)
    other = tiny_pipeline(click_features, "salsa", seed=3, steps=2, guidance_weight=2.0, global_guidance_weight=5.0)
    assert not np.allclose(base.primitive_motion, other.primitive_motion)
    same = tiny_pipeline(click_features, "salsa", seed=3, steps=2, guidance_weight=2.0)  # the tiny config: None
    np.testing.assert_array_equal(base.motion, same.motion)


def test_the_pose_guidance_weight_keeps_each_primitives_mean_pose_apart_from_its_motion(tiny_pipeline, click_features):
    kw = dict(seed=3, steps=2, guidance_weight=2.0, global_guidance_weight=4.0, lowpass=False, floor=False)
    plain = tiny_pipeline(click_features, "salsa", **kw)
    same = tiny_pipeline(click_features, "salsa", global_pose_guidance_weight=4.0, **kw)
    np.testing.assert_array_equal(plain.motion, same.motion)  # the same weight: plain guidance, the same dance
    posed = tiny_pipeline(click_features, "salsa", global_pose_guidance_weight=1.0, **kw)
    assert not np.allclose(plain.primitive_motion, posed.primitive_motion)
    assert not np.allclose(plain.primitive_motion.mean(-2), posed.primitive_motion.mean(-2), atol=1e-3)
    resolved = tiny_pipeline.resolve_options(SamplingOptions(**kw))
    assert resolved.global_pose_guidance_weight == 4.0


def test_samplers_are_the_diffusion_schedulers():
    from lodge import diffusion

    assert tuple(diffusion.SCHEDULERS) == SAMPLERS
    assert diffusion.DDIMScheduler.default_steps == DEFAULT_DDIM_STEPS == diffusion.DEFAULT_DDIM_STEPS


def test_pipeline_takes_options_or_overrides_alike(tiny_pipeline, click_features):
    opts = SamplingOptions(seed=7, steps=2, foot_lock=False)
    a = tiny_pipeline(click_features, "salsa", opts).motion
    b = tiny_pipeline(click_features, "salsa", seed=7, steps=2, foot_lock=False).motion
    c = tiny_pipeline(click_features, "salsa", opts.replace(seed=0), seed=7).motion  # overrides win
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    with pytest.raises(TypeError, match="unknown sampling option"):
        tiny_pipeline(click_features, "salsa", seeds=1)
    resolved = tiny_pipeline.resolve_options(opts)
    assert resolved.soft == tiny_pipeline.default_soft and resolved.guidance_weight == tiny_pipeline.cfg.guidance_weight


def test_cli_and_evaluation_defaults_come_from_sampling_options():
    from lodge.cli import _build_parser
    from lodge.evaluate.rows import table_rows
    from lodge.evaluate.run import EvalSettings

    args = _build_parser().parse_args(["generate", "x.mp3", "--genre", "salsa", "--out", "o"])
    defaults = SamplingOptions()
    assert (args.seed, args.sampler, args.steps, args.soft, args.guidance, args.max_seconds) == (
        defaults.seed, defaults.sampler, defaults.steps, defaults.soft, defaults.guidance_weight, defaults.max_seconds)
    assert EvalSettings(data="d").steps == DEFAULT_DDIM_STEPS
    rows = table_rows(DEFAULT_DDIM_STEPS, 100, ablations=True, default_soft=1.0)
    assert all(isinstance(r.options, SamplingOptions) for r in rows)
    by_name = {r.name: r for r in rows}
    assert by_name["s = 1"].key() == by_name[f"Lodge (DDIM, {DEFAULT_DDIM_STEPS} steps)"].key()  # shared dances
    assert by_name["EDGE-style long generation"].overlap == 128


def test_estimator_jobs_from_options():
    from lodge_app.estimate import Job, TimeEstimator

    est = TimeEstimator()
    assert Job(60.0).steps == DEFAULT_DDIM_STEPS
    assert Job.from_options(60.0, SamplingOptions(steps=10)) == Job(60.0, "ddim", 10)
    assert est.estimate(Job(60.0, "ddpm", 50))["local"] == pytest.approx(est.estimate(Job(60.0, "ddim", 1000))["local"])
