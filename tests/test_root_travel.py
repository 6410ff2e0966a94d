"""benchmarks/root_travel.py: the pelvis' horizontal path, and one row per checkpoint on a small corpus."""

import numpy as np
import pytest

from fixtures.benchmark_run import run_on_two_genres
from fixtures.benchmarks import load_benchmark

root_travel = load_benchmark("root_travel")


def test_pelvis_travel_is_the_horizontal_step_and_the_slow_part_keeps_a_steady_walk():
    frames = np.arange(200)
    joints = np.zeros((200, 22, 3))
    joints[:, 0, 0] = 0.01 * frames  # 1 cm a frame along x
    joints[:, 0, 1] = np.sin(frames)  # the pelvis' height does not count
    assert root_travel.pelvis_travel(joints) == pytest.approx(0.01)
    assert root_travel.pelvis_travel(joints, root_travel.SLOW_SIGMA) == pytest.approx(0.01, rel=0.05)
    wobble = np.zeros((200, 22, 3))
    wobble[:, 0, 2] = 0.02 * (-1.0) ** frames  # 4 cm back and forth every frame, going nowhere
    assert root_travel.pelvis_travel(wobble) == pytest.approx(0.04)
    assert root_travel.pelvis_travel(wobble, root_travel.SLOW_SIGMA) < 0.001


def test_prints_the_real_row_and_one_row_per_checkpoint(tmp_path, tiny_checkpoint):
    out = run_on_two_genres("root_travel.py", tmp_path, tiny_checkpoint)
    rows = [line.split() for line in out.splitlines() if line.startswith(("salsa", "breaking"))]
    assert len(rows) == 6 and sum(row[1:3] == ["real", "dancers"] for row in rows) == 2
    generated = [row for row in rows if row[1] != "real"]
    assert all(float(row[-1]) > 0 for row in generated)  # the travel ratio
