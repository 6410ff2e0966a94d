"""The two-stage pipeline: placement of primitives, guidance, joins, determinism, lengths."""
import numpy as np
import torch
import pytest

from lodge.audio import MusicFeatures
from lodge.post.beat_sync import MAX_SHIFT
from lodge.constants import FPS, MOTION_DIM, PRIM_LEN, SEG_LEN
from lodge.metrics import beat_alignment_score
from lodge.motion import motion_to_joints
from lodge.pipeline import GenreError
from lodge.primitives import EDGE_MARGIN, plan_primitives

FAST = dict(steps=4, foot_lock=False)  # cue frames exactly as imposed (foot lock moves the root; own tests)


def _features(feats: MusicFeatures, seconds: float) -> MusicFeatures:
    n = int(seconds * FPS)
    reps = int(np.ceil(n / feats.num_frames))
    beats = np.concatenate([feats.beats + k * feats.num_frames for k in range(reps)])
    return MusicFeatures(
        features=np.tile(feats.features, (reps, 1))[:n], beats=beats[beats < n], tempo=feats.tempo,
        onset_envelope=np.tile(feats.onset_envelope, reps)[:n],
    )


def test_dance_shapes_and_placements(tiny_pipeline, click_features):
    dance = tiny_pipeline(click_features, "salsa", seed=0, **FAST)
    t = click_features.num_frames
    assert dance.motion.shape == (t, MOTION_DIM) and dance.joints.shape == (t, 22, 3)
    assert np.isfinite(dance.motion).all()
    assert list(dance.segment_starts) == [0, 256, 512]
    kinds = [p.kind for p in dance.primitives]
    assert kinds.count("hard") == 3  # boundaries 0, 256, 512 (768 is past the 600-frame song)
    assert kinds.count("soft") == 6 and kinds.count("soft_mirror") >= 1
    assert dance.primitive_motion.shape == (len(dance.primitives), 8, MOTION_DIM)
    beats = set(click_features.beats.tolist())
    for p in dance.primitives:
        if p.kind == "soft":
            assert p.start + 4 in beats  # centred on a beat
            seg = p.start // SEG_LEN * SEG_LEN
            assert seg + EDGE_MARGIN <= p.start and p.start + 8 <= seg + SEG_LEN - EDGE_MARGIN


def test_beat_sync_retimes_a_little_and_moves_the_primitives_along(tiny_pipeline, click_features):
    # Unfiltered: the random network's output, low-passed and despiked, has few kinematic beats for the
    # BAS to find, whichever way it is timed.
    plain = tiny_pipeline(click_features, "salsa", seed=0, lowpass=False, **FAST)
    synced = tiny_pipeline(click_features, "salsa", seed=0, beat_sync=True, lowpass=False, **FAST)
    assert synced.motion.shape == plain.motion.shape
    assert "beat_sync" in synced.timings
    assert [p.kind for p in synced.primitives] == [p.kind for p in plain.primitives]
    shifts = [s.start - p.start for s, p in zip(synced.primitives, plain.primitives)]
    assert max(abs(x) for x in shifts) <= MAX_SHIFT + 1
    assert np.abs(synced.segment_starts - plain.segment_starts).max() <= MAX_SHIFT + 1
    bas = [beat_alignment_score(d.joints, click_features.beats) for d in (plain, synced)]
    assert bas[1] >= bas[0]


def test_hard_cues_are_imposed_exactly_so_segments_join(tiny_pipeline, click_features):
    dance = tiny_pipeline(click_features, "breaking", seed=3, **FAST)
    hard = [(p, m) for p, m in zip(dance.primitives, dance.primitive_motion) if p.kind == "hard"]
    assert hard
    for prim, cue in hard:
        lo, hi = max(prim.start, 0), min(prim.start + 8, dance.num_frames)
        np.testing.assert_allclose(dance.motion[lo:hi, 4:], cue[lo - prim.start:hi - prim.start, 4:], atol=1e-4)


def test_root_is_continuous_across_segments(tiny_pipeline, click_features):
    dance = tiny_pipeline(_features(click_features, 40), "modern", seed=1, **FAST)
    root = dance.motion[:, 4:7]
    steps = np.linalg.norm(np.diff(root, axis=0), axis=-1)
    for b in (256, 512, 768, 1024):  # including the join between the two global windows (1024)
        cue_step = steps[b - 1]
        assert cue_step <= np.percentile(steps, 99.5) + 1e-6


def test_soft_cues_act_at_s1_and_not_at_s0(tiny_pipeline, click_features):
    at1 = tiny_pipeline(click_features, "salsa", seed=5, soft=1.0, **FAST).motion
    at0 = tiny_pipeline(click_features, "salsa", seed=5, soft=0.0, **FAST).motion
    none = tiny_pipeline(click_features, "salsa", seed=5, soft_cues=False, **FAST).motion
    assert np.abs(at1 - at0).max() > 1e-3
    np.testing.assert_allclose(at0, none, atol=1e-6)


def test_deterministic_for_a_seed_and_seed_matters(tiny_pipeline, click_features):
    a = tiny_pipeline(click_features, "salsa", seed=7, **FAST).motion
    b = tiny_pipeline(click_features, "salsa", seed=7, **FAST).motion
    c = tiny_pipeline(click_features, "salsa", seed=8, **FAST).motion
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


@pytest.mark.parametrize("seconds", [5.0, 8.6, 34.2])
def test_any_length_is_padded_and_trimmed(tiny_pipeline, click_features, seconds):
    feats = _features(click_features, seconds)
    dance = tiny_pipeline(feats, "salsa", seed=0, steps=2)
    assert dance.num_frames == feats.num_frames
    assert all(p.start < dance.num_frames for p in dance.primitives)


def test_ddpm_sampler_runs(tiny_pipeline, click_features):
    feats = _features(click_features, 5)
    calls = []
    # DDPM over a respaced chain of 100 steps keeps the test fast; the CLI's default is all 1000.
    dance = tiny_pipeline(feats, "salsa", sampler="ddpm", steps=100, progress=lambda s, f: calls.append((s, f)))
    assert np.isfinite(dance.motion).all()
    local = [f for s, f in calls if s == "local"]
    assert len(local) == 100 and local[-1] == 1.0


def test_unknown_genre_and_bad_settings(tiny_pipeline, click_features):
    with pytest.raises(GenreError, match="knows: salsa, breaking, modern"):
        tiny_pipeline(click_features, "polka")
    with pytest.raises(ValueError, match="sampler"):
        tiny_pipeline(click_features, "salsa", sampler="euler")
    with pytest.raises(ValueError, match="soft"):
        tiny_pipeline(click_features, "salsa", soft=1.5)


def test_genre_is_case_insensitive(tiny_pipeline, click_features):
    assert tiny_pipeline(_features(click_features, 5), "SALSA", steps=1).genre == "salsa"


def test_planner_mirrors_one_bar_later_and_falls_back_without_beats():
    beats = np.arange(10, 2000, 15)  # 120 BPM
    plan = plan_primitives(1024, beats, np.ones(1024))
    has_mirror = plan.mirror_starts[0] >= 0
    assert has_mirror.any()
    np.testing.assert_array_equal(plan.mirror_starts[0][has_mirror] - plan.soft_starts[0][has_mirror], 60)
    # A segment whose genre does not mirror loses its soft cues' copies, and nothing else changes.
    plain = plan.without_mirrors(np.array([True, False, True, False]))
    np.testing.assert_array_equal(plan.soft_segments()[0], [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(plain.mirror_starts[0], np.where([1, 1, 0, 0, 1, 1, 0, 0], plan.mirror_starts[0], -1))
    np.testing.assert_array_equal(plain.soft_starts, plan.soft_starts)
    silent = plan_primitives(1024, np.zeros(0), None)
    assert not silent.beat_aligned.any()
    starts = silent.soft_starts[0]
    assert (np.diff(starts) > 0).all()


@pytest.mark.parametrize("frames", [789, 1000, 1024, 2400, 3000])
@pytest.mark.parametrize("tempo_frames", [11, 15, 23])
def test_planned_cues_keep_a_gap_and_none_is_cut_by_the_song_end(frames, tempo_frames):
    """Two soft cues that touched made the body change pose within one frame; a cue placed in the
    song's last few frames was cut in two by its end (session 19: 17 % of the corpus's songs)."""
    from lodge.primitives import CUE_GAP
    from lodge.sampling import SamplingOptions
    from lodge.stages.plan import placed_primitives

    beats = np.arange(5, frames, tempo_frames)
    strength = np.random.default_rng(frames + tempo_frames).random(frames)
    plan = plan_primitives(frames, beats, strength)
    starts = sorted(p.start for p in placed_primitives(plan, SamplingOptions()))
    assert (np.diff(starts) >= PRIM_LEN + CUE_GAP).all()
    soft = [p.start for p in placed_primitives(plan, SamplingOptions()) if p.kind != "hard"]
    assert all(s + PRIM_LEN <= frames for s in soft)


def test_mirrored_cue_stands_where_the_fit_puts_it_or_where_the_model_does():
    from lodge.motion import rest_motion
    from lodge.sampling import SamplingOptions
    from lodge.stages import segment_cues

    plan = plan_primitives(1024, np.arange(10, 2000, 15), np.ones(1024))
    prims = np.broadcast_to(rest_motion(8), (plan.num_windows, 13, 8, MOTION_DIM)).copy()
    horizontal = [4, 6]
    for fit in (True, False):
        cues = segment_cues(plan, prims, SamplingOptions(fit_soft_cues=fit), canonical_heading=True)
        seg, j = 0, 0
        first, mirror = plan.soft_starts[0, j], plan.mirror_starts[0, j]
        assert mirror >= 0
        assert cues.soft_mask[seg, first, horizontal].all()
        # Fitted, the mirror is moved to the model's dancer and imposed whole; unfitted, its root is the model's.
        assert cues.soft_mask[seg, mirror, horizontal].all() == fit
        assert cues.soft_mask[seg, mirror, 7:].all()


@pytest.fixture(scope="module")
def canonical_pipeline(tiny_checkpoint):
    from lodge.pipeline import LodgePipeline

    pipe = LodgePipeline.from_pretrained(tiny_checkpoint, device="cpu")
    pipe.cfg.canonical_heading = True
    return pipe


def test_canonical_heading_mode_keeps_hard_cues_and_a_continuous_root(canonical_pipeline, click_features):
    dance = canonical_pipeline(_features(click_features, 40), "salsa", seed=2, **FAST)
    for prim, cue in zip(dance.primitives, dance.primitive_motion):
        if prim.kind == "hard" and prim.start + 8 <= dance.num_frames:
            lo = max(prim.start, 0)
            # Turning a cue re-orthonormalises its pelvis 6D, so compare the poses, not the raw numbers.
            np.testing.assert_allclose(dance.joints[lo:prim.start + 8], motion_to_joints(cue[lo - prim.start:]), atol=2e-4)
    steps = np.linalg.norm(np.diff(dance.motion[:, 4:7], axis=0), axis=-1)
    for b in (256, 512, 768, 1024):
        assert steps[b - 1] <= np.percentile(steps, 99.5) + 1e-6


def test_fit_cues_turns_and_moves_a_cue_to_the_predicted_dancer():
    from lodge.motion import heading, planar_transform, rest_motion
    from lodge.pipeline import fit_cues

    rng = np.random.default_rng(0)
    cue = rest_motion(8)
    cue[:, 7 + 6:] += rng.normal(scale=0.2, size=(8, 139 - 13)).astype(np.float32)  # some body pose
    cue[:, 5] = 0.9 - 0.05 * np.arange(8)  # crouching down
    values = np.zeros((1, 256, 139), np.float32)
    values[0, 100:108] = cue
    predicted = np.repeat(rest_motion(1), 256, axis=0)[None]
    predicted[0] = planar_transform(predicted[0], np.deg2rad(120), np.array([1.5, -0.5]))
    fitted = fit_cues(values, predicted, [(0, 100)])[0, 100:108]
    assert heading(fitted[4]) == pytest.approx(heading(predicted[0, 104]), abs=1e-5)
    np.testing.assert_allclose(fitted[4, [4, 6]], predicted[0, 104, [4, 6]], atol=1e-5)
    np.testing.assert_allclose(fitted[:, 5], cue[:, 5], atol=1e-6)  # height kept
    np.testing.assert_array_equal(fitted[:, 13:], cue[:, 13:])  # the body pose is the cue's own
    np.testing.assert_array_equal(fit_cues(values, predicted, [])[0], values[0])


def test_fit_cues_faces_a_cue_the_way_the_dancer_faces_around_it_not_inside_it():
    """Inside an imposed cue the prediction soon follows the cue itself; turning the cue to match that
    kept the heading of the first noisy predictions and left the dancer a whip round just before it."""
    from lodge.motion import heading, planar_transform, rest_motion
    from lodge.pipeline import fit_cues
    from lodge.stages.local_stage import CUE_HEADING_GAP

    values = np.zeros((1, 256, 139), np.float32)
    values[0, 100:108] = planar_transform(rest_motion(8), np.deg2rad(-130), np.zeros(2))
    predicted = np.repeat(rest_motion(1), 256, axis=0)[None].copy()
    predicted[0, 100:108] = values[0, 100:108]  # the prediction follows the cue inside it ...
    predicted[0, :100 - CUE_HEADING_GAP + 1] = planar_transform(predicted[0, :100 - CUE_HEADING_GAP + 1], np.deg2rad(10), np.zeros(2))
    predicted[0, 107 + CUE_HEADING_GAP:] = planar_transform(predicted[0, 107 + CUE_HEADING_GAP:], np.deg2rad(30), np.zeros(2))
    fitted = fit_cues(values, predicted, [(0, 100)])[0, 100:108]  # ... and faces 10 and 30 degrees around it
    assert np.rad2deg(heading(fitted[4])) == pytest.approx(20.0, abs=1e-3)
    np.testing.assert_allclose(fitted[4, [4, 6]], predicted[0, 104, [4, 6]], atol=1e-5)  # stands where predicted


def test_fit_cues_keeps_a_cue_within_reach_of_the_hard_cues():
    """A prediction metres away from a hard cue a third of a second on is followed only as far as a
    dancer can travel in that time (the sampled body made a 5-9 m/s dash there)."""
    from lodge.motion import rest_motion
    from lodge.stages.local_stage import CUE_REACH_STEP
    from lodge.pipeline import fit_cues

    values = np.repeat(rest_motion(1), 256, axis=0)[None].copy()
    hard = np.zeros((1, 256), bool)
    hard[0, :4] = hard[0, -4:] = True
    values[0, -4:, 4] = 0.3  # the end hard cue stands 0.3 m along x
    predicted = values.copy()
    predicted[0, :, 4] = 3.0  # the network puts the dancer 3 m along x
    far, near = (0, 100), (0, 236)  # a cue mid-segment and one ending 12 frames before the hard cue
    fitted = fit_cues(values, predicted, [far, near], hard)[0]
    assert fitted[104, 4] == pytest.approx(3.0, abs=1e-5)  # far from any hard cue: fitted as before
    reach = CUE_REACH_STEP * (252 - 243)
    assert abs(fitted[243, 4] - 0.3) == pytest.approx(reach, abs=1e-4)  # as close to 3 m as the reach allows
    np.testing.assert_allclose(np.diff(fitted[236:244, 4]), 0.0, atol=1e-6)  # moved whole
    # Without the hard frames the old behaviour stands.
    assert fit_cues(values, predicted, [near])[0, 240, 4] == pytest.approx(3.0, abs=1e-5)


def test_a_patched_cue_input_checkpoint_generates(tmp_path, click_features):
    from lodge.checkpoint import create_random_checkpoint
    from lodge.pipeline import LodgePipeline

    pipe = LodgePipeline.from_pretrained(
        create_random_checkpoint(tmp_path / "patched", ["salsa", "breaking"], preset="tiny_patched"), device="cpu")
    dance = pipe(_features(click_features, 12), "salsa", seed=0, **FAST)
    assert dance.motion.shape == (360, 139) and np.isfinite(dance.motion).all()
    hard = [p for p in dance.primitives if p.kind == "hard" and 0 <= p.start and p.start + 8 <= 360]
    for prim in hard:
        idx = dance.primitives.index(prim)
        np.testing.assert_allclose(dance.joints[prim.start:prim.start + 8],
                                   motion_to_joints(dance.primitive_motion[idx]), atol=2e-4)


def test_genre_guidance_needs_a_null_genre_and_changes_the_dance(tiny_pipeline, null_genre_checkpoint, click_features):
    from lodge.checks import InputError
    from lodge.pipeline import LodgePipeline

    with pytest.raises(InputError, match="genre dropout") as err:
        tiny_pipeline(click_features, "salsa", seed=0, genre_guidance_weight=1.0, **FAST)
    assert err.value.field == "genre_guidance_weight"
    pipe = LodgePipeline.from_pretrained(null_genre_checkpoint)
    off = pipe(click_features, "salsa", seed=0, **FAST)
    guided = pipe(click_features, "salsa", seed=0, genre_guidance_weight=2.0, **FAST)
    np.testing.assert_allclose(off.motion, tiny_pipeline(click_features, "salsa", seed=0, **FAST).motion, atol=1e-5)
    assert guided.source.options["genre_guidance_weight"] == 2.0 and off.source.options["genre_guidance_weight"] is None
    assert np.abs(guided.motion - off.motion).max() > 1e-3
    # A genre's calibrated weight takes the checkpoint's place for that genre only; a request's own wins.
    pipe.cfg.genre_calibration = {"salsa": {"genre_guidance_weight": 2.0}}
    np.testing.assert_allclose(pipe(click_features, "salsa", seed=0, **FAST).motion, guided.motion, atol=1e-5)
    np.testing.assert_allclose(pipe(click_features, "salsa", seed=0, genre_guidance_weight=0.0, **FAST).motion,
                               off.motion, atol=1e-5)
    other = pipe.genres[1] if pipe.genres[0] == "salsa" else pipe.genres[0]
    pipe.cfg.genre_calibration = None
    other_off = pipe(click_features, other, seed=0, **FAST)
    pipe.cfg.genre_calibration = {"salsa": {"genre_guidance_weight": 2.0}}
    np.testing.assert_allclose(pipe(click_features, other, seed=0, **FAST).motion, other_off.motion, atol=1e-5)
    # A schedule of a guided and an unguided genre: the stages weigh each window / segment on its own.
    mixed = pipe(click_features, f"salsa,10:{other}", seed=0, **FAST)
    pipe.cfg.genre_calibration = None
    assert np.isfinite(mixed.motion).all()
    assert np.abs(mixed.motion - pipe(click_features, f"salsa,10:{other}", seed=0, **FAST).motion).max() > 1e-3
    # A local-stage weight guides the local stage alone: the same primitives, another dance.
    pipe.cfg.genre_calibration = {"salsa": {"local_genre_guidance_weight": 2.0}}
    local_only = pipe(click_features, "salsa", seed=0, **FAST)
    np.testing.assert_allclose(local_only.primitive_motion, off.primitive_motion, atol=1e-5)
    assert np.abs(local_only.motion - off.motion).max() > 1e-3
    pipe.cfg.genre_calibration = {"salsa": {"genre_guidance_weight": 2.0, "local_genre_guidance_weight": 0.0}}
    global_only = pipe(click_features, "salsa", seed=0, **FAST)
    np.testing.assert_allclose(global_only.primitive_motion, guided.primitive_motion, atol=1e-5)
    # ... and a global-stage weight the primitives alone: the guided primitives, with them the same
    # dance as the local weight 0 above.
    pipe.cfg.genre_calibration = {"salsa": {"global_genre_guidance_weight": 2.0}}
    np.testing.assert_allclose(pipe(click_features, "salsa", seed=0, **FAST).motion, global_only.motion, atol=1e-5)
    pipe.cfg.genre_calibration = None


def test_a_genre_calibrated_not_to_mirror_gets_no_mirrored_cues(tiny_pipeline, click_features):
    """The "mirror" switch of a genre's calibration: its segments' soft cues get no mirrored copy (in the
    dance's timeline and in what the local stage imposes); other genres, and a schedule's other stretches, keep theirs."""
    pipe, before = tiny_pipeline, tiny_pipeline.cfg.genre_calibration
    other = next(g for g in pipe.genres if g != "salsa")
    mirrored_segments = lambda dance: {p.start // SEG_LEN for p in dance.primitives if p.kind == "soft_mirror"}  # noqa: E731
    try:
        pipe.cfg.genre_calibration = None
        mirrored = pipe(click_features, "salsa", seed=0, **FAST)
        assert mirrored_segments(mirrored)
        pipe.cfg.genre_calibration = {"salsa": {"mirror": 0.0}}
        plain = pipe(click_features, "salsa", seed=0, **FAST)
        assert not mirrored_segments(plain)
        soft = lambda dance: [p.start for p in dance.primitives if p.kind == "soft"]  # noqa: E731
        assert soft(plain) == soft(mirrored)
        assert np.abs(plain.motion - mirrored.motion).max() > 1e-3
        assert mirrored_segments(pipe(click_features, other, seed=0, **FAST)) == mirrored_segments(mirrored)
        mixed = pipe(click_features, f"{other},10:salsa", seed=0, **FAST)
        first_salsa = 10 * FPS // SEG_LEN + 1  # the segment the schedule's 10 s mark falls in goes to the majority
        assert mirrored_segments(mixed) and all(seg < first_salsa for seg in mirrored_segments(mixed))
        # Restyled into a genre that does not mirror, the changed segments lose their copies.
        restyled = pipe.restyle(pipe(click_features, other, seed=0, **FAST), "salsa", seed=0)
        assert not mirrored_segments(restyled)
        # A move copied into such a genre's segment gets no mirrored copy either.
        moved = pipe.copy_move(plain, 3.0, 12.0, seed=1)
        assert moved.edits[-1]["op"] == "copy_move" and not mirrored_segments(moved)
    finally:
        pipe.cfg.genre_calibration = before
