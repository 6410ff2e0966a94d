"""lodge.stages.segment_speed: each local segment told its speed from its primitives."""
import numpy as np
import pytest
import torch

from lodge.checkpoint import load_checkpoint
from lodge.config import LodgeConfig
from lodge.constants import PRIM_LEN, ROT_SLICE
from lodge.motion import rest_motion
from lodge.primitives import N_PRIMS, plan_primitives
from lodge.rotations import matrix_to_rotation_6d
from lodge.stages.segment_speed import MAX_SEGMENT_FACTOR, segment_primitive_speeds, segment_speed_factors

from fixtures.speedy import SpeedSpy, speed_conditioned_copy


def _swinging(amplitude: float) -> np.ndarray:
    """An 8-frame clip standing at rest with every joint swinging about x by ``amplitude`` radians."""
    clip = rest_motion(PRIM_LEN).copy()
    angles = amplitude * np.sin(np.linspace(0, np.pi, PRIM_LEN))
    c, s = np.cos(angles), np.sin(angles)
    rot = np.zeros((PRIM_LEN, 3, 3))
    rot[:, 0, 0], rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = 1, c, -s, s, c
    six = matrix_to_rotation_6d(torch.as_tensor(rot)).numpy()
    joints = clip[:, ROT_SLICE].reshape(PRIM_LEN, -1, 6)
    joints[:, 1:] = six[:, None]
    clip[:, ROT_SLICE] = joints.reshape(PRIM_LEN, -1)
    return clip


def _song(amplitudes: list[float]):
    """A plan of len(amplitudes) segments and primitives whose cues in segment k swing by amplitudes[k]
    (a hard cue shared by two segments takes the first's)."""
    plan = plan_primitives(len(amplitudes) * 256, np.arange(0, len(amplitudes) * 256, 15))
    prims = np.repeat(rest_motion(PRIM_LEN)[None, None], plan.num_windows * N_PRIMS, 0).reshape(plan.num_windows, N_PRIMS, PRIM_LEN, -1).copy()
    for seg, amp in enumerate(amplitudes):
        w, local = divmod(seg, 4)
        for k in (local, 5 + 2 * local, 5 + 2 * local + 1):
            prims[w, k] = _swinging(amp)
    return plan, prims


def test_a_segment_whose_primitives_move_more_is_told_to_move_faster():
    plan, prims = _song([0.2, 0.8, 0.4, 0.4])
    speeds = segment_primitive_speeds(prims, plan)
    assert speeds[1] > speeds[2] > 0 and speeds[0] < speeds[2]
    factors = segment_speed_factors(prims, plan, 1.0)
    assert factors[1] > 1 > factors[0]
    assert np.exp(np.log(factors).mean()) == pytest.approx(1.0, rel=1e-6)  # the song's speed stays the song's
    half = segment_speed_factors(prims, plan, 0.5)
    np.testing.assert_allclose(half, np.sqrt(factors), rtol=1e-6)
    np.testing.assert_array_equal(segment_speed_factors(prims, plan, 0.0), np.ones(4))  # 0: one speed, as before


def test_the_factors_are_bounded_and_each_genre_keeps_its_own_speed():
    plan, prims = _song([0.02, 1.0, 1.0, 1.0])
    factors = segment_speed_factors(prims, plan, 3.0)
    assert factors.min() == pytest.approx(1 / MAX_SEGMENT_FACTOR) and factors.max() <= MAX_SEGMENT_FACTOR
    # Two genres: the slow first half and the fast second half each shaded against their own segments.
    plan, prims = _song([0.2, 0.4, 0.8, 1.6])
    mixed = segment_speed_factors(prims, plan, 1.0, genres=np.array([0, 0, 1, 1]))
    assert np.exp(np.log(mixed[:2]).mean()) == pytest.approx(1.0) and np.exp(np.log(mixed[2:]).mean()) == pytest.approx(1.0)
    lone = segment_speed_factors(prims, plan, 1.0, genres=np.array([0, 1, 1, 1]))
    assert lone[0] == 1.0  # a genre with one segment has nothing to be shaded against
    still = np.repeat(rest_motion(PRIM_LEN)[None, None], N_PRIMS, 1).copy()
    np.testing.assert_array_equal(segment_speed_factors(still, plan_primitives(1024, np.arange(0, 1024, 15)), 1.0),
                                  np.ones(4))  # primitives that do not move: no shading


def test_the_power_is_checked_and_old_configs_read_as_off(tiny_checkpoint):
    base = load_checkpoint(tiny_checkpoint).cfg.to_dict()
    assert LodgeConfig.from_dict({k: v for k, v in base.items() if k != "segment_speed_power"}).segment_speed_power == 0.0
    assert LodgeConfig.from_dict({**base, "segment_speed_power": 1}).segment_speed_power == 1.0
    with pytest.raises(ValueError, match="segment_speed_power"):
        LodgeConfig.from_dict({**base, "segment_speed_power": -0.5})


def test_each_segment_is_told_the_song_speed_times_its_factor(tiny_checkpoint, tmp_path, example_song):
    from lodge.pipeline import LodgePipeline

    genres = load_checkpoint(tiny_checkpoint).cfg.genres
    path = speed_conditioned_copy(tiny_checkpoint, tmp_path / "speedy", {g: 0.4 for g in genres})
    pipe = LodgePipeline.from_pretrained(path, device="cpu")
    pipe.local = SpeedSpy(pipe.local)
    flat = pipe(example_song, genres[0], seed=0, steps=2, duration=20)
    told_flat = pipe.local.seen[0]
    pipe.local.seen.clear()
    pipe.cfg.segment_speed_power = 1.0
    shaded = pipe(example_song, genres[0], seed=0, steps=2, duration=20)
    segments = len(shaded.segment_starts)
    told = pipe.local.seen[0]  # each guidance branch: the segments in order
    assert torch.allclose(told_flat, torch.full_like(told_flat, 0.4))
    assert len(told) % segments == 0 and torch.equal(told, told[:segments].repeat(len(told) // segments))
    assert not torch.allclose(told, told_flat)
    assert float(torch.exp(torch.log(told[:segments] / 0.4).mean())) == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_array_equal(flat.primitive_motion, shaded.primitive_motion)  # the global stage is not shaded
    assert not np.allclose(flat.joints, shaded.joints)
