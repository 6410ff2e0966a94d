"""benchmarks/cue_speed.py: distances to the primitives and heading-free joints."""

import numpy as np

from fixtures.benchmarks import load_benchmark

cue_speed = load_benchmark("cue_speed")


def test_distance_to_primitives_counts_frames_to_the_nearest_primitive_frame():
    dist = cue_speed.distance_to_primitives(30, [-4, 20], 8)
    assert list(dist[:4]) == [0, 0, 0, 0]  # the first primitive started before the dance
    assert dist[4] == 1 and dist[12] == 8 and dist[19] == 1 and dist[20] == 0 and dist[27] == 0 and dist[29] == 2
    assert (cue_speed.distance_to_primitives(5, [], 8) > 1000).all()


def test_heading_free_joints_do_not_move_when_the_whole_body_turns():
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(22, 3))
    yaw = np.linspace(0, np.pi, 10)
    c, s = np.cos(yaw), np.sin(yaw)
    turned = np.stack([np.stack([c[:, None] * pose[:, 0] + s[:, None] * pose[:, 2], np.broadcast_to(pose[:, 1], (10, 22)),
                                 -s[:, None] * pose[:, 0] + c[:, None] * pose[:, 2]], -1)], 0)[0]
    free = cue_speed.heading_free(turned, yaw)
    np.testing.assert_allclose(free, np.broadcast_to(pose - pose[:1], free.shape), atol=1e-9)
    assert cue_speed.step_speed(free).max() < 1e-6
    assert cue_speed.step_speed(turned - turned[:, :1]).mean() > 0.1


def test_real_cue_primitives_are_the_real_dance_at_the_planned_frames():
    from lodge.audio import MusicFeatures
    from lodge.constants import GLOBAL_LEN
    from lodge.sampling import SamplingOptions
    from lodge.stages.plan import plan_song

    frames = 1500
    beats = np.arange(10, frames, 15)
    onehot = np.zeros((frames, 35), np.float32)
    features = MusicFeatures(features=onehot, beats=beats, tempo=120.0, onset_envelope=np.zeros(frames, np.float32))
    plan = plan_song(features, SamplingOptions())
    motion = np.arange(frames, dtype=np.float32)[:, None].repeat(139, 1)  # frame index as every value
    prims = cue_speed.real_cue_primitives(motion, plan)
    starts = plan.window_prim_frames() + (np.arange(plan.num_windows) * GLOBAL_LEN)[:, None]
    assert prims.shape == (plan.num_windows, 13, 8, 139)
    expected = np.clip(starts[..., None] + np.arange(8), 0, frames - 1)
    np.testing.assert_array_equal(prims[..., 0], expected)
    assert prims.min() == 0 and prims.max() == frames - 1  # the first hard cue starts before the dance
