"""benchmarks/posture.py: posture by distance to the primitives and by window slot."""

import numpy as np

from lodge.metrics.realism import SHOULDERS, WRISTS, RealismStats

from fixtures.benchmarks import load_benchmark

posture = load_benchmark("posture", "posture_benchmark")


def test_wrists_up_and_cells():
    joints = np.zeros((4, 22, 3))
    joints[:, SHOULDERS[0], 1] = joints[:, SHOULDERS[1], 1] = 1.4
    joints[:, WRISTS[0], 1] = joints[:, WRISTS[1], 1] = 1.0
    joints[1, WRISTS[1], 1] = 1.6  # the right hand up in one frame of four
    np.testing.assert_array_equal(posture.wrists_up(joints), [False, True, False, False])
    assert posture.cell(np.array([10.0, 20.0, 30.0]), np.array([True, False, False, False])) == "20.0 / 25 %"
    assert posture.cell(np.zeros(0), np.zeros(0, bool)) == "n/a"


def test_one_row_per_genre_with_every_column(tiny_pipeline, click_features):
    real = RealismStats(0.4, 0.08, 0.0, lean_deg=19.3, arms_up=0.001)
    line = posture.genre_line(tiny_pipeline, click_features, tiny_pipeline.genres[0], 0, real)
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[0] == tiny_pipeline.genres[0] and len(cells) == 9 and cells[-1] == "19.3 / 0 %"
    assert all(c == "n/a" or c.endswith("%") for c in cells[1:])
