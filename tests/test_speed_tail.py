"""benchmarks/speed_tail.py: per-frame body travel, and one row per checkpoint on a small corpus."""

import numpy as np

from fixtures.benchmark_run import run_on_two_genres
from fixtures.benchmarks import load_benchmark

speed_tail = load_benchmark("speed_tail")


def test_frame_travel_is_the_mean_joint_move_root_included():
    pose = np.random.default_rng(0).normal(size=(22, 3))
    walking = pose[None] + np.arange(5)[:, None, None] * np.array([0.0, 0.0, 0.1])  # the whole body 0.1 m a frame
    np.testing.assert_allclose(speed_tail.frame_travel(walking), 0.1)
    raised = np.repeat(pose[None], 3, 0)
    raised[2, 0] += [0.0, 2.2, 0.0]  # one joint of 22 moves 2.2 m
    np.testing.assert_allclose(speed_tail.frame_travel(raised), [0.0, 0.1])


def test_prints_one_row_per_genre_and_checkpoint(tmp_path, tiny_checkpoint):
    out = run_on_two_genres("speed_tail.py", tmp_path, tiny_checkpoint)
    rows = [line for line in out.splitlines() if line.startswith(("salsa", "breaking"))]
    assert len(rows) == 4 and all("%" in row for row in rows)
